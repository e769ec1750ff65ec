// Typed errors for everything fltport reports, and the one status table (spec §1.3) that
// turns native numbers into them. Native code never picks a class: it describes a failure
// as a NativeErrorInfo and the factory registered at load (createNativeError) decides here,
// from the numbers, so Windows (HRESULTs only) and fltsim (NTSTATUS known) land on the same
// class and the same code for the same condition.
import { constants as osConstants } from 'node:os';

import type { NativeErrorInfo, NativeStatusEntry } from './binding.js';

/** Every `code` a fltport error can carry. Switch on these, not on messages or classes. */
export type FltportErrorCode =
  | 'FLTPORT_NOT_FOUND'
  | 'FLTPORT_ACCESS_DENIED'
  | 'FLTPORT_CONNECTION_LIMIT'
  | 'FLTPORT_CONNECTION_REFUSED'
  | 'FLTPORT_DISCONNECTED'
  | 'FLTPORT_NO_WAITER'
  | 'FLTPORT_REPLY_TOO_LARGE'
  | 'FLTPORT_NO_REPLY_EXPECTED'
  | 'FLTPORT_ALREADY_REPLIED'
  | 'FLTPORT_MESSAGE_TOO_LARGE'
  | 'FLTPORT_BUFFER_TOO_SMALL'
  | 'FLTPORT_TIMEOUT'
  | 'FLTPORT_ABORTED'
  | 'FLTPORT_INVALID_ARGUMENT'
  | 'FLTPORT_INVALID_STATE'
  | 'FLTPORT_ALREADY_EXISTS'
  | 'FLTPORT_NOT_SUPPORTED'
  | 'FLTPORT_REVISION_MISMATCH'
  | 'FLTPORT_NO_MORE_ENTRIES'
  | 'FLTPORT_FILTER_UNLOADING'
  | 'FLTPORT_INSUFFICIENT_RESOURCES'
  | 'FLTPORT_CLOSED'
  | 'FLTPORT_SIM_UNAVAILABLE'
  | 'FLTPORT_PROTOCOL'
  | 'FLTPORT_CODEC'
  | 'FLTPORT_SYSTEM_ERROR';

/** The numbers and origin of a failure; every field a FltportError exposes, for constructors. */
export interface FltportErrorDetails {
  /** The HRESULT a Windows caller would see (unsigned, e.g. 0x80070002). */
  hresult?: number | undefined;
  ntstatus?: number | undefined;
  win32?: number | undefined;
  /** POSIX errno (positive) when the fltsim transport failed. */
  errno?: number | undefined;
  /** The call that failed, e.g. "FilterConnectCommunicationPort". */
  syscall?: string | undefined;
  /** Where native code got the number from (absent for errors raised in TypeScript). */
  origin?: NativeErrorInfo['origin'] | undefined;
  cause?: unknown;
}

const hex8 = (n: number): string => `0x${(n >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;

/** `0x80070002`: how fltport prints HRESULTs and NTSTATUS values everywhere. */
export function formatHex(value: number): string {
  return hex8(value);
}

/**
 * Base class of every error fltport throws or rejects with. `code` is stable; the numbers
 * are those of the failing call, so nothing is ever reported as "unknown error".
 */
export class FltportError extends Error {
  readonly code: FltportErrorCode;
  readonly hresult: number | undefined;
  readonly ntstatus: number | undefined;
  readonly win32: number | undefined;
  readonly errno: number | undefined;
  readonly syscall: string | undefined;
  readonly origin: NativeErrorInfo['origin'] | undefined;

  constructor(code: FltportErrorCode, message: string, details: FltportErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = code;
    this.hresult = details.hresult === undefined ? undefined : details.hresult >>> 0;
    this.ntstatus = details.ntstatus === undefined ? undefined : details.ntstatus >>> 0;
    this.win32 = details.win32;
    this.errno = details.errno;
    this.syscall = details.syscall;
    this.origin = details.origin;
  }

  /** The numbers of this error, to build a more specific error from it (keeps `cause`). */
  details(): FltportErrorDetails {
    return {
      hresult: this.hresult,
      ntstatus: this.ntstatus,
      win32: this.win32,
      errno: this.errno,
      syscall: this.syscall,
      origin: this.origin,
      cause: this.cause,
    };
  }
}

/** No object with that name: a port whose driver is not loaded, a mailslot, a filter, a volume. */
export class NotFoundError extends FltportError {
  constructor(message: string, details: FltportErrorDetails = {}) {
    super('FLTPORT_NOT_FOUND', message, details);
  }
}

/** FilterConnectCommunicationPort found no server port of that name (0x80070002). */
export class PortNotFoundError extends NotFoundError {
  readonly portName: string | undefined;
  constructor(message: string, details: FltportErrorDetails & { portName?: string | undefined } = {}) {
    super(message, details);
    this.portName = details.portName;
  }
}

/** The port's security descriptor (or the driver's ConnectNotify) refused the caller (0x80070005). */
export class AccessDeniedError extends FltportError {
  constructor(message: string, details: FltportErrorDetails = {}) {
    super('FLTPORT_ACCESS_DENIED', message, details);
  }
}

/** The port's MaxConnections is reached (0x800704D4): another client holds the slot. */
export class ConnectionLimitError extends FltportError {
  constructor(message: string, details: FltportErrorDetails = {}) {
    super('FLTPORT_CONNECTION_LIMIT', message, details);
  }
}

/**
 * Why a connection ended without close(): the driver closed the client port or unloaded
 * ('disconnected', 0x80070006 / STATUS_PORT_DISCONNECTED), or the session failed ('failed':
 * an I/O or transport error, see `cause`).
 */
export type DisconnectReason = 'disconnected' | 'failed';

/** The driver closed the connection or unloaded (0x80070006 / STATUS_PORT_DISCONNECTED 0xC0000037). */
export class DisconnectedError extends FltportError {
  readonly reason: DisconnectReason;
  constructor(message: string, details: FltportErrorDetails & { reason?: DisconnectReason } = {}) {
    super('FLTPORT_DISCONNECTED', message, details);
    this.reason = details.reason ?? 'disconnected';
  }
}

/** The kernel has no sender waiting for this reply (0x801F0020 ERROR_FLT_NO_WAITER_FOR_REPLY). */
export class NoWaiterError extends FltportError {
  constructor(message: string, details: FltportErrorDetails = {}) {
    super('FLTPORT_NO_WAITER', message, details);
  }
}

/**
 * A reply reached the kernel after its sender gave up (its FltSendMessage timeout expired and
 * it returned STATUS_TIMEOUT). A per-message outcome, counted in stats().lateReplies; the
 * connection is fine.
 */
export class LateReplyError extends NoWaiterError {
  readonly messageId: bigint;
  constructor(message: string, details: FltportErrorDetails & { messageId: bigint }) {
    super(message, details);
    this.messageId = details.messageId;
  }
}

/** A reply payload larger than the driver's reply buffer (checked before sending, or 0x800700EA). */
export class ReplyTooLargeError extends FltportError {
  /** Encoded payload bytes (the 16-byte FILTER_REPLY_HEADER not counted); undefined if only the kernel knew. */
  readonly size: number | undefined;
  /** The driver's reply capacity: FILTER_MESSAGE_HEADER.ReplyLength - 16. */
  readonly capacity: number | undefined;
  constructor(
    message: string,
    details: FltportErrorDetails & { size?: number | undefined; capacity?: number | undefined } = {},
  ) {
    super('FLTPORT_REPLY_TOO_LARGE', message, details);
    this.size = details.size;
    this.capacity = details.capacity;
  }
}

/** reply() on a message whose ReplyLength is 0: the driver passed no reply buffer. */
export class NoReplyExpectedError extends FltportError {
  constructor(message: string, details: FltportErrorDetails = {}) {
    super('FLTPORT_NO_REPLY_EXPECTED', message, details);
  }
}

/** reply() called a second time for the same message. */
export class AlreadyRepliedError extends FltportError {
  constructor(message: string, details: FltportErrorDetails = {}) {
    super('FLTPORT_ALREADY_REPLIED', message, details);
  }
}

/** A message larger than maxMessageSize: it stays with its sender (which times out); counted as a fault. */
export class MessageTooLargeError extends FltportError {
  /** Payload bytes of the refused message (header not counted), when the kernel reported it. */
  readonly size: number | undefined;
  readonly maxMessageSize: number | undefined;
  constructor(
    message: string,
    details: FltportErrorDetails & { size?: number | undefined; maxMessageSize?: number | undefined } = {},
  ) {
    super('FLTPORT_MESSAGE_TOO_LARGE', message, details);
    this.size = details.size;
    this.maxMessageSize = details.maxMessageSize;
  }
}

/** An output buffer too small for what the other side had (0x8007007A, or 0x800700EA from FilterSendMessage). */
export class BufferTooSmallError extends FltportError {
  /** Bytes the other side needed, when known. */
  readonly requiredSize: number | undefined;
  constructor(message: string, details: FltportErrorDetails & { requiredSize?: number | undefined } = {}) {
    super('FLTPORT_BUFFER_TOO_SMALL', message, details);
    this.requiredSize = details.requiredSize;
  }
}

/** WAIT_TIMEOUT 0x80070102 (STATUS_TIMEOUT), ERROR_SEM_TIMEOUT 0x80070079 (STATUS_IO_TIMEOUT), or a deadline of ours. */
export class TimeoutError extends FltportError {
  constructor(message: string, details: FltportErrorDetails = {}) {
    super('FLTPORT_TIMEOUT', message, details);
  }
}

/** An AbortSignal fired, or the operation was cancelled (0x800703E3 ERROR_OPERATION_ABORTED). */
export class AbortError extends FltportError {
  constructor(message = 'The operation was aborted', details: FltportErrorDetails = {}) {
    super('FLTPORT_ABORTED', message, details);
    // Node and the DOM identify aborts by name; keep that contract.
    this.name = 'AbortError';
  }
}

/** A bad argument or option (checked in TypeScript, or 0x80070057 E_INVALIDARG from below). */
export class InvalidArgumentError extends FltportError {
  /** The option or argument at fault, when it was one of ours. */
  readonly argument: string | undefined;
  constructor(message: string, details: FltportErrorDetails & { argument?: string | undefined } = {}) {
    super('FLTPORT_INVALID_ARGUMENT', message, details);
    this.argument = details.argument;
  }
}

/** The call does not fit the object's state (e.g. a second iterator on one port). */
export class InvalidStateError extends FltportError {
  constructor(message: string, details: FltportErrorDetails = {}) {
    super('FLTPORT_INVALID_STATE', message, details);
  }
}

/** The name is taken (0x800700B7 ERROR_ALREADY_EXISTS, e.g. a mailslot), or an instance collides. */
export class AlreadyExistsError extends FltportError {
  constructor(message: string, details: FltportErrorDetails = {}) {
    super('FLTPORT_ALREADY_EXISTS', message, details);
  }
}

/** The port, mailslot or stream was closed by this process. */
export class ClosedError extends FltportError {
  constructor(message: string, details: FltportErrorDetails = {}) {
    super('FLTPORT_CLOSED', message, details);
  }
}

/** fltsim-host is not running or went away (ECONNREFUSED / ENOENT / ECONNRESET on its socket). */
export class SimulatorUnavailableError extends FltportError {
  constructor(message: string, details: FltportErrorDetails = {}) {
    super('FLTPORT_SIM_UNAVAILABLE', message, details);
  }
}

/** A malformed frame or a broken invariant between layers: a bug, reported with what was seen. */
export class ProtocolError extends FltportError {
  constructor(message: string, details: FltportErrorDetails = {}) {
    super('FLTPORT_PROTOCOL', message, details);
  }
}

/**
 * Base of the codec library's CodecError (lib/codec/errors.ts): an Error-style constructor
 * (message, options) so that class only had to change its `extends` clause to become a
 * FltportError with code FLTPORT_CODEC.
 */
export class CodecErrorBase extends FltportError {
  constructor(message: string, options?: ErrorOptions) {
    super('FLTPORT_CODEC', message, options?.cause === undefined ? {} : { cause: options.cause });
  }
}

// ---------------------------------------------------------------------------------------
// The status table (spec §1.3). One row per NTSTATUS native/core/StatusTable.cc knows, in
// the same order, with the HRESULT fltlib.dll returns for it and the code fltport reports.
// The hresult column is what `hresultFromNtStatus` computes; the N-API parity test compares
// { ntstatus, win32, hresult, name } row by row with binding.statusTable().

export interface StatusTableEntry {
  readonly ntstatus: number;
  /** RtlNtStatusToDosError (Wine's table); 317 ERROR_MR_MID_NOT_FOUND when it has none. */
  readonly win32: number;
  /** What a synchronous Filter* call returns for this status (FilterHResultFromNtStatus). */
  readonly hresult: number;
  readonly name: string;
  /** The error code fltport reports; null for STATUS_SUCCESS, which is not an error. */
  readonly code: FltportErrorCode | null;
}

type Row = readonly [ntstatus: number, win32: number, name: string, code: FltportErrorCode | null];

// Codes follow the HRESULT a Windows caller sees, so every row with the same HRESULT has the
// same code (a test checks it): the Windows backend often knows only the HRESULT.
const ROWS: readonly Row[] = [
  [0x00000000, 0, 'STATUS_SUCCESS', null],
  [0x00000102, 1460, 'STATUS_TIMEOUT', 'FLTPORT_TIMEOUT'],
  // Overlapped "queued": never an error to a correct caller; seeing it reported is a bug below us.
  [0x00000103, 997, 'STATUS_PENDING', 'FLTPORT_SYSTEM_ERROR'],
  [0x80000002, 998, 'STATUS_DATATYPE_MISALIGNMENT', 'FLTPORT_INVALID_ARGUMENT'],
  [0x80000005, 234, 'STATUS_BUFFER_OVERFLOW', 'FLTPORT_REPLY_TOO_LARGE'],
  [0x8000001a, 259, 'STATUS_NO_MORE_ENTRIES', 'FLTPORT_NO_MORE_ENTRIES'],
  [0x801c0001, 122, 'STATUS_FLT_BUFFER_TOO_SMALL', 'FLTPORT_BUFFER_TOO_SMALL'],
  [0xc0000001, 31, 'STATUS_UNSUCCESSFUL', 'FLTPORT_SYSTEM_ERROR'],
  [0xc0000005, 998, 'STATUS_ACCESS_VIOLATION', 'FLTPORT_INVALID_ARGUMENT'],
  [0xc0000008, 6, 'STATUS_INVALID_HANDLE', 'FLTPORT_DISCONNECTED'],
  [0xc000000d, 87, 'STATUS_INVALID_PARAMETER', 'FLTPORT_INVALID_ARGUMENT'],
  [0xc0000010, 1, 'STATUS_INVALID_DEVICE_REQUEST', 'FLTPORT_NOT_SUPPORTED'],
  [0xc0000022, 5, 'STATUS_ACCESS_DENIED', 'FLTPORT_ACCESS_DENIED'],
  [0xc0000023, 122, 'STATUS_BUFFER_TOO_SMALL', 'FLTPORT_BUFFER_TOO_SMALL'],
  [0xc0000033, 123, 'STATUS_OBJECT_NAME_INVALID', 'FLTPORT_INVALID_ARGUMENT'],
  [0xc0000034, 2, 'STATUS_OBJECT_NAME_NOT_FOUND', 'FLTPORT_NOT_FOUND'],
  [0xc0000035, 183, 'STATUS_OBJECT_NAME_COLLISION', 'FLTPORT_ALREADY_EXISTS'],
  [0xc0000037, 6, 'STATUS_PORT_DISCONNECTED', 'FLTPORT_DISCONNECTED'],
  [0xc000003b, 161, 'STATUS_OBJECT_PATH_SYNTAX_BAD', 'FLTPORT_INVALID_ARGUMENT'],
  // Maps to ERROR_ACCESS_DENIED; a Windows caller cannot tell it apart, so neither do we.
  [0xc000004b, 5, 'STATUS_THREAD_IS_TERMINATING', 'FLTPORT_ACCESS_DENIED'],
  [0xc0000059, 1306, 'STATUS_REVISION_MISMATCH', 'FLTPORT_REVISION_MISMATCH'],
  [0xc0000061, 1314, 'STATUS_PRIVILEGE_NOT_HELD', 'FLTPORT_ACCESS_DENIED'],
  [0xc0000095, 534, 'STATUS_INTEGER_OVERFLOW', 'FLTPORT_INVALID_ARGUMENT'],
  [0xc000009a, 1450, 'STATUS_INSUFFICIENT_RESOURCES', 'FLTPORT_INSUFFICIENT_RESOURCES'],
  [0xc00000b5, 121, 'STATUS_IO_TIMEOUT', 'FLTPORT_TIMEOUT'],
  [0xc00000bb, 50, 'STATUS_NOT_SUPPORTED', 'FLTPORT_NOT_SUPPORTED'],
  [0xc00000ef, 87, 'STATUS_INVALID_PARAMETER_1', 'FLTPORT_INVALID_ARGUMENT'],
  [0xc00000f0, 87, 'STATUS_INVALID_PARAMETER_2', 'FLTPORT_INVALID_ARGUMENT'],
  [0xc00000f1, 87, 'STATUS_INVALID_PARAMETER_3', 'FLTPORT_INVALID_ARGUMENT'],
  [0xc00000f2, 87, 'STATUS_INVALID_PARAMETER_4', 'FLTPORT_INVALID_ARGUMENT'],
  [0xc00000f3, 87, 'STATUS_INVALID_PARAMETER_5', 'FLTPORT_INVALID_ARGUMENT'],
  [0xc00000f4, 87, 'STATUS_INVALID_PARAMETER_6', 'FLTPORT_INVALID_ARGUMENT'],
  [0xc00000f5, 87, 'STATUS_INVALID_PARAMETER_7', 'FLTPORT_INVALID_ARGUMENT'],
  [0xc00000f6, 87, 'STATUS_INVALID_PARAMETER_8', 'FLTPORT_INVALID_ARGUMENT'],
  [0xc00000f7, 87, 'STATUS_INVALID_PARAMETER_9', 'FLTPORT_INVALID_ARGUMENT'],
  [0xc00000f8, 87, 'STATUS_INVALID_PARAMETER_10', 'FLTPORT_INVALID_ARGUMENT'],
  [0xc00000f9, 87, 'STATUS_INVALID_PARAMETER_11', 'FLTPORT_INVALID_ARGUMENT'],
  [0xc00000fa, 87, 'STATUS_INVALID_PARAMETER_12', 'FLTPORT_INVALID_ARGUMENT'],
  [0xc000010e, 1056, 'STATUS_IMAGE_ALREADY_LOADED', 'FLTPORT_ALREADY_EXISTS'],
  [0xc0000120, 995, 'STATUS_CANCELLED', 'FLTPORT_ABORTED'],
  [0xc0000225, 1168, 'STATUS_NOT_FOUND', 'FLTPORT_NOT_FOUND'],
  [0xc0000236, 1225, 'STATUS_CONNECTION_REFUSED', 'FLTPORT_CONNECTION_REFUSED'],
  [0xc0000246, 1236, 'STATUS_CONNECTION_COUNT_LIMIT', 'FLTPORT_CONNECTION_LIMIT'],
  [0xc01c000b, 317, 'STATUS_FLT_DELETING_OBJECT', 'FLTPORT_FILTER_UNLOADING'],
  [0xc01c0020, 317, 'STATUS_FLT_NO_WAITER_FOR_REPLY', 'FLTPORT_NO_WAITER'],
];

const WAIT_TIMEOUT = 258;
const ERROR_MR_MID_NOT_FOUND = 317;
const FACILITY_FILTER_MANAGER = 0x1c;

/** HRESULT_FROM_WIN32. */
export function hresultFromWin32(win32: number): number {
  return win32 === 0 ? 0 : ((win32 & 0xffff) | 0x80070000) >>> 0;
}

const WIN32_BY_NTSTATUS = new Map<number, number>(ROWS.map(([nt, w]) => [nt >>> 0, w]));

/**
 * fltlib.dll's FilterHResultFromNtStatus (spec §1.3 rules 1-5), as native/core computes it:
 * STATUS_TIMEOUT → 0x80070102, facility-0x1C statuses → facility-0x1F HRESULTs, any other
 * facility → E_FAIL, everything else → HRESULT_FROM_WIN32(RtlNtStatusToDosError(status)).
 */
export function hresultFromNtStatus(ntstatus: number): number {
  const nt = ntstatus >>> 0;
  if (nt === 0) return 0;
  const facility = (nt >>> 16) & 0x0fff;
  if (facility === FACILITY_FILTER_MANAGER) {
    if (nt === 0x801c0001) return hresultFromWin32(122);
    return ((nt & 0x8000ffff) | 0x001f0000) >>> 0;
  }
  if (facility !== 0) return 0x80004005;
  if (nt === 0x00000102) return hresultFromWin32(WAIT_TIMEOUT);
  return hresultFromWin32(WIN32_BY_NTSTATUS.get(nt) ?? ERROR_MR_MID_NOT_FOUND);
}

/** The spec §1.3 table as fltport uses it; must equal native/core's (binding.statusTable()). */
export const STATUS_TABLE: readonly StatusTableEntry[] = Object.freeze(
  ROWS.map(([ntstatus, win32, name, code]) =>
    Object.freeze({ ntstatus: ntstatus >>> 0, win32, hresult: hresultFromNtStatus(ntstatus), name, code }),
  ),
);

/** The fields the native table has, for comparing with binding.statusTable(). */
export function nativeStatusRows(): NativeStatusEntry[] {
  return STATUS_TABLE.map(({ ntstatus, win32, hresult, name }) => ({ ntstatus, win32, hresult, name }));
}

const ENTRY_BY_NTSTATUS = new Map<number, StatusTableEntry>(STATUS_TABLE.map((e) => [e.ntstatus, e]));

/** Names of the Win32 errors fltport can meet (for messages; the number is always printed too). */
const WIN32_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'ERROR_SUCCESS'],
  [1, 'ERROR_INVALID_FUNCTION'],
  [2, 'ERROR_FILE_NOT_FOUND'],
  [3, 'ERROR_PATH_NOT_FOUND'],
  [5, 'ERROR_ACCESS_DENIED'],
  [6, 'ERROR_INVALID_HANDLE'],
  [8, 'ERROR_NOT_ENOUGH_MEMORY'],
  [14, 'ERROR_OUTOFMEMORY'],
  [31, 'ERROR_GEN_FAILURE'],
  [32, 'ERROR_SHARING_VIOLATION'],
  [50, 'ERROR_NOT_SUPPORTED'],
  [53, 'ERROR_BAD_NETPATH'],
  [87, 'ERROR_INVALID_PARAMETER'],
  [109, 'ERROR_BROKEN_PIPE'],
  [121, 'ERROR_SEM_TIMEOUT'],
  [122, 'ERROR_INSUFFICIENT_BUFFER'],
  [123, 'ERROR_INVALID_NAME'],
  [161, 'ERROR_BAD_PATHNAME'],
  [183, 'ERROR_ALREADY_EXISTS'],
  [234, 'ERROR_MORE_DATA'],
  [258, 'WAIT_TIMEOUT'],
  [259, 'ERROR_NO_MORE_ITEMS'],
  [317, 'ERROR_MR_MID_NOT_FOUND'],
  [534, 'ERROR_ARITHMETIC_OVERFLOW'],
  [735, 'ERROR_ABANDONED_WAIT_0'],
  [995, 'ERROR_OPERATION_ABORTED'],
  [997, 'ERROR_IO_PENDING'],
  [998, 'ERROR_NOACCESS'],
  [1056, 'ERROR_SERVICE_ALREADY_RUNNING'],
  [1058, 'ERROR_SERVICE_DISABLED'],
  [1060, 'ERROR_SERVICE_DOES_NOT_EXIST'],
  [1168, 'ERROR_NOT_FOUND'],
  [1225, 'ERROR_CONNECTION_REFUSED'],
  [1236, 'ERROR_CONNECTION_COUNT_LIMIT'],
  [1275, 'ERROR_DRIVER_BLOCKED'],
  [1306, 'ERROR_REVISION_MISMATCH'],
  [1314, 'ERROR_PRIVILEGE_NOT_HELD'],
  [1450, 'ERROR_NO_SYSTEM_RESOURCES'],
  [1460, 'ERROR_TIMEOUT'],
  [3025, 'ERROR_REMOTE_MAILSLOTS_DEPRECATED'],
]);

/** HRESULTs that are not HRESULT_FROM_WIN32 forms: COM generics and fltWinError.h (facility 0x1F). */
const OTHER_HRESULT_NAMES: ReadonlyMap<number, string> = new Map([
  [0x80004001, 'E_NOTIMPL'],
  [0x80004005, 'E_FAIL'],
  [0x8000ffff, 'E_UNEXPECTED'],
  [0x801f0001, 'ERROR_FLT_NO_HANDLER_DEFINED'],
  [0x801f0002, 'ERROR_FLT_CONTEXT_ALREADY_DEFINED'],
  [0x801f0003, 'ERROR_FLT_INVALID_ASYNCHRONOUS_REQUEST'],
  [0x801f0004, 'ERROR_FLT_DISALLOW_FAST_IO'],
  [0x801f0005, 'ERROR_FLT_INVALID_NAME_REQUEST'],
  [0x801f0006, 'ERROR_FLT_NOT_SAFE_TO_POST_OPERATION'],
  [0x801f0007, 'ERROR_FLT_NOT_INITIALIZED'],
  [0x801f0008, 'ERROR_FLT_FILTER_NOT_READY'],
  [0x801f0009, 'ERROR_FLT_POST_OPERATION_CLEANUP'],
  [0x801f000a, 'ERROR_FLT_INTERNAL_ERROR'],
  [0x801f000b, 'ERROR_FLT_DELETING_OBJECT'],
  [0x801f000c, 'ERROR_FLT_MUST_BE_NONPAGED_POOL'],
  [0x801f000d, 'ERROR_FLT_DUPLICATE_ENTRY'],
  [0x801f000e, 'ERROR_FLT_CBDQ_DISABLED'],
  [0x801f000f, 'ERROR_FLT_DO_NOT_ATTACH'],
  [0x801f0010, 'ERROR_FLT_DO_NOT_DETACH'],
  [0x801f0011, 'ERROR_FLT_INSTANCE_ALTITUDE_COLLISION'],
  [0x801f0012, 'ERROR_FLT_INSTANCE_NAME_COLLISION'],
  [0x801f0013, 'ERROR_FLT_FILTER_NOT_FOUND'],
  [0x801f0014, 'ERROR_FLT_VOLUME_NOT_FOUND'],
  [0x801f0015, 'ERROR_FLT_INSTANCE_NOT_FOUND'],
  [0x801f0016, 'ERROR_FLT_CONTEXT_ALLOCATION_NOT_FOUND'],
  [0x801f0017, 'ERROR_FLT_INVALID_CONTEXT_REGISTRATION'],
  [0x801f0018, 'ERROR_FLT_NAME_CACHE_MISS'],
  [0x801f0019, 'ERROR_FLT_NO_DEVICE_OBJECT'],
  [0x801f001a, 'ERROR_FLT_VOLUME_ALREADY_MOUNTED'],
  [0x801f001b, 'ERROR_FLT_ALREADY_ENLISTED'],
  [0x801f001c, 'ERROR_FLT_CONTEXT_ALREADY_LINKED'],
  [0x801f0020, 'ERROR_FLT_NO_WAITER_FOR_REPLY'],
  [0x801f0023, 'ERROR_FLT_REGISTRATION_BUSY'],
]);

/**
 * Codes for HRESULTs that no table row produces but callers meet: Win32 errors from
 * overlapped completions and mailslots, fltlib's own argument/heap failures, facility-0x1F
 * filter-management errors.
 */
const EXTRA_HRESULT_CODES: ReadonlyMap<number, FltportErrorCode> = new Map<number, FltportErrorCode>([
  [0x80004001, 'FLTPORT_NOT_SUPPORTED'], // E_NOTIMPL: e.g. Wine's own fltlib.dll
  [0x80004005, 'FLTPORT_SYSTEM_ERROR'],
  [0x8007000e, 'FLTPORT_INSUFFICIENT_RESOURCES'],
  [0x80070008, 'FLTPORT_INSUFFICIENT_RESOURCES'],
  [0x80070003, 'FLTPORT_NOT_FOUND'],
  [0x80070035, 'FLTPORT_NOT_FOUND'], // ERROR_BAD_NETPATH: mailslot broadcast target
  [0x80070490, 'FLTPORT_NOT_FOUND'],
  [0x800705b4, 'FLTPORT_TIMEOUT'], // ERROR_TIMEOUT (1460), what RtlNtStatusToDosError gives STATUS_TIMEOUT
  [0x8007006d, 'FLTPORT_DISCONNECTED'], // ERROR_BROKEN_PIPE: the Wine lane's pipe to fltsim
  [0x800702df, 'FLTPORT_CLOSED'], // ERROR_ABANDONED_WAIT_0: our completion port was closed
  [0x800704fb, 'FLTPORT_ACCESS_DENIED'], // ERROR_DRIVER_BLOCKED
  [0x80070bd1, 'FLTPORT_NOT_SUPPORTED'], // ERROR_REMOTE_MAILSLOTS_DEPRECATED
  [0x80070020, 'FLTPORT_ACCESS_DENIED'], // ERROR_SHARING_VIOLATION
  [0x80070420, 'FLTPORT_ALREADY_EXISTS'], // ERROR_SERVICE_ALREADY_RUNNING: FilterLoad of a loaded filter
  [0x80070424, 'FLTPORT_NOT_FOUND'], // ERROR_SERVICE_DOES_NOT_EXIST: FilterLoad of an unknown filter
  [0x801f000f, 'FLTPORT_ACCESS_DENIED'],
  [0x801f0010, 'FLTPORT_ACCESS_DENIED'],
  [0x801f0011, 'FLTPORT_ALREADY_EXISTS'],
  [0x801f0012, 'FLTPORT_ALREADY_EXISTS'],
  [0x801f0013, 'FLTPORT_NOT_FOUND'],
  [0x801f0014, 'FLTPORT_NOT_FOUND'],
  [0x801f0015, 'FLTPORT_NOT_FOUND'],
  [0x801f001a, 'FLTPORT_ALREADY_EXISTS'],
  [0x801f0023, 'FLTPORT_INSUFFICIENT_RESOURCES'],
]);

const CODE_BY_HRESULT = new Map<number, FltportErrorCode>();
for (const e of STATUS_TABLE) {
  if (e.code !== null && !CODE_BY_HRESULT.has(e.hresult)) CODE_BY_HRESULT.set(e.hresult, e.code);
}
for (const [h, code] of EXTRA_HRESULT_CODES) CODE_BY_HRESULT.set(h, code);

/** The table row for an NTSTATUS, if the spec names it. */
export function statusEntry(ntstatus: number): StatusTableEntry | undefined {
  return ENTRY_BY_NTSTATUS.get(ntstatus >>> 0);
}

/** The code fltport reports for an HRESULT (FLTPORT_SYSTEM_ERROR when it has no better one). */
export function codeForHresult(hresult: number): FltportErrorCode {
  const h = hresult >>> 0;
  const known = CODE_BY_HRESULT.get(h);
  if (known !== undefined) return known;
  // Facility-0x1F HRESULTs we have no row for keep their number; classify them generically.
  return 'FLTPORT_SYSTEM_ERROR';
}

/** The symbolic name of a Win32 error, if fltport knows it. */
export function win32Name(win32: number): string | undefined {
  return WIN32_NAMES.get(win32);
}

/** "0x80070002 (ERROR_FILE_NOT_FOUND)": an HRESULT with the best name fltport has for it. */
export function describeHresult(hresult: number): string {
  const h = hresult >>> 0;
  const other = OTHER_HRESULT_NAMES.get(h);
  if (other !== undefined) return `${hex8(h)} (${other})`;
  if (h === 0) return `${hex8(h)} (S_OK)`;
  if ((h & 0xffff0000) >>> 0 === 0x80070000) {
    const w = h & 0xffff;
    const special = h === 0x80070057 ? 'E_INVALIDARG' : h === 0x80070005 ? 'E_ACCESSDENIED' : h === 0x8007000e ? 'E_OUTOFMEMORY' : undefined;
    const name = win32Name(w);
    if (special !== undefined) return `${hex8(h)} (${special})`;
    return name === undefined ? `${hex8(h)} (HRESULT_FROM_WIN32(${w}))` : `${hex8(h)} (${name})`;
  }
  const facility = (h >>> 16) & 0x1fff;
  return `${hex8(h)} (facility 0x${facility.toString(16).toUpperCase()}, code 0x${(h & 0xffff).toString(16).toUpperCase()})`;
}

/** "0xC0000034 STATUS_OBJECT_NAME_NOT_FOUND" or just the number. */
export function describeNtStatus(ntstatus: number): string {
  const e = statusEntry(ntstatus);
  return e === undefined ? hex8(ntstatus) : `${hex8(ntstatus)} ${e.name}`;
}

/** Name of a POSIX errno on this platform ("ECONNREFUSED"), or undefined. */
export function errnoName(errno: number): string | undefined {
  for (const [name, value] of Object.entries(osConstants.errno)) {
    if (value === errno) return name;
  }
  return undefined;
}

const SIM_UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ENOTCONN']);

/** Native info plus what the N-API layer adds (JsErrors::Info: requiredSize for short buffers). */
export type NativeErrorInfoExt = NativeErrorInfo & { requiredSize?: number };

function numbersText(info: NativeErrorInfoExt): string {
  const parts = [`HRESULT ${describeHresult(info.hresult)}`];
  if (info.ntstatus !== undefined) parts.push(`NTSTATUS ${describeNtStatus(info.ntstatus)}`);
  if (info.win32 !== undefined && (info.hresult >>> 0) !== hresultFromWin32(info.win32)) {
    const n = win32Name(info.win32);
    parts.push(`Win32 ${info.win32}${n === undefined ? '' : ` ${n}`}`);
  }
  if (info.errno !== undefined) {
    const n = errnoName(info.errno);
    parts.push(`errno ${info.errno}${n === undefined ? '' : ` ${n}`}`);
  }
  if (info.requiredSize !== undefined) parts.push(`required size ${info.requiredSize}`);
  return parts.join(', ');
}

function codeFor(info: NativeErrorInfoExt): FltportErrorCode {
  switch (info.origin) {
    case 'protocol':
      return 'FLTPORT_PROTOCOL';
    case 'argument':
      return 'FLTPORT_INVALID_ARGUMENT';
    case 'errno': {
      const name = info.errno === undefined ? undefined : errnoName(info.errno);
      return name !== undefined && SIM_UNAVAILABLE_ERRNOS.has(name) ? 'FLTPORT_SIM_UNAVAILABLE' : 'FLTPORT_SYSTEM_ERROR';
    }
    default:
      break;
  }
  // The NTSTATUS is the most precise number when native has it (fltsim always does).
  if (info.ntstatus !== undefined) {
    const e = statusEntry(info.ntstatus);
    if (e?.code) return e.code;
  }
  return codeForHresult(info.hresult);
}

/**
 * The error factory registered with binding.setErrorFactory: every native failure becomes
 * a FltportError subclass chosen from its numbers. Never throws.
 */
export function createNativeError(info: NativeErrorInfoExt): FltportError {
  const code = codeFor(info);
  const syscall = info.syscall === '' ? undefined : info.syscall;
  const details: FltportErrorDetails = {
    hresult: info.hresult,
    ntstatus: info.ntstatus,
    win32: info.win32,
    errno: info.errno,
    syscall,
    origin: info.origin,
  };
  const what = syscall ?? 'native operation';
  const message = `${what} failed: ${numbersText(info)}${info.detail ? `: ${info.detail}` : ''}`;
  return errorForCode(code, message, { ...details, requiredSize: info.requiredSize, syscall });
}

/** Builds the class that belongs to `code` (FltportError for codes without a subclass). */
export function errorForCode(
  code: FltportErrorCode,
  message: string,
  details: FltportErrorDetails & { requiredSize?: number | undefined } = {},
): FltportError {
  switch (code) {
    case 'FLTPORT_NOT_FOUND':
      return details.syscall === 'FilterConnectCommunicationPort'
        ? new PortNotFoundError(message, details)
        : new NotFoundError(message, details);
    case 'FLTPORT_ACCESS_DENIED':
      return new AccessDeniedError(message, details);
    case 'FLTPORT_CONNECTION_LIMIT':
      return new ConnectionLimitError(message, details);
    case 'FLTPORT_DISCONNECTED':
      return new DisconnectedError(message, details);
    case 'FLTPORT_NO_WAITER':
      return new NoWaiterError(message, details);
    case 'FLTPORT_REPLY_TOO_LARGE':
      // FilterSendMessage's ERROR_MORE_DATA means *our* output buffer was short, not a reply.
      return details.syscall === 'FilterSendMessage'
        ? new BufferTooSmallError(message, details)
        : new ReplyTooLargeError(message, details);
    case 'FLTPORT_BUFFER_TOO_SMALL':
      return new BufferTooSmallError(message, details);
    case 'FLTPORT_TIMEOUT':
      return new TimeoutError(message, details);
    case 'FLTPORT_ABORTED':
      return new AbortError(message, details);
    case 'FLTPORT_INVALID_ARGUMENT':
      return new InvalidArgumentError(message, details);
    case 'FLTPORT_ALREADY_EXISTS':
      return new AlreadyExistsError(message, details);
    case 'FLTPORT_CLOSED':
      return new ClosedError(message, details);
    case 'FLTPORT_SIM_UNAVAILABLE':
      return new SimulatorUnavailableError(message, details);
    case 'FLTPORT_PROTOCOL':
      return new ProtocolError(message, details);
    case 'FLTPORT_INVALID_STATE':
      return new InvalidStateError(message, details);
    default:
      return new FltportError(code, message, details);
  }
}

/** True for any fltport error, optionally with one of `codes`. */
export function isFltportError(value: unknown, ...codes: FltportErrorCode[]): value is FltportError {
  return value instanceof FltportError && (codes.length === 0 || codes.includes(value.code));
}

/** The AbortError for an aborted signal; its reason is kept as `cause`. */
export function abortErrorFrom(signal: AbortSignal, what = 'The operation'): AbortError {
  return new AbortError(`${what} was aborted`, { cause: signal.reason });
}
