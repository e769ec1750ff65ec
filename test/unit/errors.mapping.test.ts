import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';

import {
  AbortError,
  AccessDeniedError,
  AlreadyExistsError,
  BufferTooSmallError,
  ConnectionLimitError,
  DisconnectedError,
  FltportError,
  InvalidArgumentError,
  NoWaiterError,
  NotFoundError,
  PortNotFoundError,
  ProtocolError,
  ReplyTooLargeError,
  STATUS_TABLE,
  SimulatorUnavailableError,
  TimeoutError,
  codeForHresult,
  createNativeError,
  describeHresult,
  hresultFromNtStatus,
  nativeStatusRows,
} from '../../lib/errors.js';
import { FakeBinding } from '../helpers/fake-binding.js';

// Spec §1.3, transcribed by hand (not computed): NTSTATUS → the HRESULT fltlib returns, and
// the class/code fltport must report for it.
const SPEC: Array<[number, number, string, (new (...a: never[]) => FltportError) | null, string | null]> = [
  [0x00000000, 0x00000000, 'STATUS_SUCCESS', null, null],
  [0x00000102, 0x80070102, 'STATUS_TIMEOUT', TimeoutError, 'FLTPORT_TIMEOUT'],
  [0x00000103, 0x800703e5, 'STATUS_PENDING', FltportError, 'FLTPORT_SYSTEM_ERROR'],
  [0x80000002, 0x800703e6, 'STATUS_DATATYPE_MISALIGNMENT', InvalidArgumentError, 'FLTPORT_INVALID_ARGUMENT'],
  [0x80000005, 0x800700ea, 'STATUS_BUFFER_OVERFLOW', ReplyTooLargeError, 'FLTPORT_REPLY_TOO_LARGE'],
  [0x8000001a, 0x80070103, 'STATUS_NO_MORE_ENTRIES', FltportError, 'FLTPORT_NO_MORE_ENTRIES'],
  [0x801c0001, 0x8007007a, 'STATUS_FLT_BUFFER_TOO_SMALL', BufferTooSmallError, 'FLTPORT_BUFFER_TOO_SMALL'],
  [0xc0000001, 0x8007001f, 'STATUS_UNSUCCESSFUL', FltportError, 'FLTPORT_SYSTEM_ERROR'],
  [0xc0000005, 0x800703e6, 'STATUS_ACCESS_VIOLATION', InvalidArgumentError, 'FLTPORT_INVALID_ARGUMENT'],
  [0xc0000008, 0x80070006, 'STATUS_INVALID_HANDLE', DisconnectedError, 'FLTPORT_DISCONNECTED'],
  [0xc000000d, 0x80070057, 'STATUS_INVALID_PARAMETER', InvalidArgumentError, 'FLTPORT_INVALID_ARGUMENT'],
  [0xc0000010, 0x80070001, 'STATUS_INVALID_DEVICE_REQUEST', FltportError, 'FLTPORT_NOT_SUPPORTED'],
  [0xc0000022, 0x80070005, 'STATUS_ACCESS_DENIED', AccessDeniedError, 'FLTPORT_ACCESS_DENIED'],
  [0xc0000023, 0x8007007a, 'STATUS_BUFFER_TOO_SMALL', BufferTooSmallError, 'FLTPORT_BUFFER_TOO_SMALL'],
  [0xc0000033, 0x8007007b, 'STATUS_OBJECT_NAME_INVALID', InvalidArgumentError, 'FLTPORT_INVALID_ARGUMENT'],
  [0xc0000034, 0x80070002, 'STATUS_OBJECT_NAME_NOT_FOUND', NotFoundError, 'FLTPORT_NOT_FOUND'],
  [0xc0000035, 0x800700b7, 'STATUS_OBJECT_NAME_COLLISION', AlreadyExistsError, 'FLTPORT_ALREADY_EXISTS'],
  [0xc0000037, 0x80070006, 'STATUS_PORT_DISCONNECTED', DisconnectedError, 'FLTPORT_DISCONNECTED'],
  [0xc000003b, 0x800700a1, 'STATUS_OBJECT_PATH_SYNTAX_BAD', InvalidArgumentError, 'FLTPORT_INVALID_ARGUMENT'],
  [0xc000004b, 0x80070005, 'STATUS_THREAD_IS_TERMINATING', AccessDeniedError, 'FLTPORT_ACCESS_DENIED'],
  // Not in the spec's table: the sample driver refuses a newer connection-context version.
  [0xc0000059, 0x8007051a, 'STATUS_REVISION_MISMATCH', FltportError, 'FLTPORT_REVISION_MISMATCH'],
  [0xc0000061, 0x80070522, 'STATUS_PRIVILEGE_NOT_HELD', AccessDeniedError, 'FLTPORT_ACCESS_DENIED'],
  [0xc0000095, 0x80070216, 'STATUS_INTEGER_OVERFLOW', InvalidArgumentError, 'FLTPORT_INVALID_ARGUMENT'],
  [0xc000009a, 0x800705aa, 'STATUS_INSUFFICIENT_RESOURCES', FltportError, 'FLTPORT_INSUFFICIENT_RESOURCES'],
  [0xc00000b5, 0x80070079, 'STATUS_IO_TIMEOUT', TimeoutError, 'FLTPORT_TIMEOUT'],
  [0xc00000bb, 0x80070032, 'STATUS_NOT_SUPPORTED', FltportError, 'FLTPORT_NOT_SUPPORTED'],
  ...Array.from({ length: 12 }, (_, i): [number, number, string, typeof InvalidArgumentError, string] => [
    0xc00000ef + i,
    0x80070057,
    `STATUS_INVALID_PARAMETER_${i + 1}`,
    InvalidArgumentError,
    'FLTPORT_INVALID_ARGUMENT',
  ]),
  // Not in the spec's table: FilterLoad of a loaded filter (ERROR_SERVICE_ALREADY_RUNNING).
  [0xc000010e, 0x80070420, 'STATUS_IMAGE_ALREADY_LOADED', AlreadyExistsError, 'FLTPORT_ALREADY_EXISTS'],
  [0xc0000120, 0x800703e3, 'STATUS_CANCELLED', AbortError, 'FLTPORT_ABORTED'],
  [0xc0000225, 0x80070490, 'STATUS_NOT_FOUND', NotFoundError, 'FLTPORT_NOT_FOUND'],
  [0xc0000236, 0x800704c9, 'STATUS_CONNECTION_REFUSED', FltportError, 'FLTPORT_CONNECTION_REFUSED'],
  [0xc0000246, 0x800704d4, 'STATUS_CONNECTION_COUNT_LIMIT', ConnectionLimitError, 'FLTPORT_CONNECTION_LIMIT'],
  [0xc01c000b, 0x801f000b, 'STATUS_FLT_DELETING_OBJECT', FltportError, 'FLTPORT_FILTER_UNLOADING'],
  [0xc01c0020, 0x801f0020, 'STATUS_FLT_NO_WAITER_FOR_REPLY', NoWaiterError, 'FLTPORT_NO_WAITER'],
];

describe('status table (spec §1.3)', () => {
  it('has exactly the spec rows, ascending, with fltlib HRESULTs', () => {
    expect(STATUS_TABLE.map((e) => [e.ntstatus, e.hresult, e.name])).toEqual(SPEC.map(([nt, hr, name]) => [nt, hr, name]));
    const values = STATUS_TABLE.map((e) => e.ntstatus);
    expect([...values].sort((a, b) => a - b)).toEqual(values);
  });

  it('gives every HRESULT a single code, whichever NTSTATUS produced it', () => {
    const byHresult = new Map<number, Set<string | null>>();
    for (const e of STATUS_TABLE) {
      const set = byHresult.get(e.hresult) ?? new Set();
      set.add(e.code);
      byHresult.set(e.hresult, set);
    }
    for (const [hresult, codes] of byHresult) expect([hresult, [...codes]]).toEqual([hresult, [codes.values().next().value]]);
  });

  it('computes fltlib special cases like native/core (rules 1-5)', () => {
    expect(hresultFromNtStatus(0x00000102)).toBe(0x80070102); // not ERROR_TIMEOUT's 0x800705B4
    expect(hresultFromNtStatus(0xc01c0020)).toBe(0x801f0020);
    expect(hresultFromNtStatus(0x801c0001)).toBe(0x8007007a);
    expect(hresultFromNtStatus(0xc0010001)).toBe(0x80004005); // other facility → E_FAIL
    expect(hresultFromNtStatus(0xc0000999)).toBe(0x8007013d); // no mapping → ERROR_MR_MID_NOT_FOUND
  });

  it('exports the native view of the table for the parity test', () => {
    const rows = nativeStatusRows();
    expect(rows).toHaveLength(SPEC.length);
    expect(rows[17]).toEqual({ ntstatus: 0xc0000037, win32: 6, hresult: 0x80070006, name: 'STATUS_PORT_DISCONNECTED' });
    expect(new FakeBinding().statusTable()).toEqual(rows);
  });
});

describe('createNativeError', () => {
  const errorRows = SPEC.filter((r) => r[3] !== null).map(([nt, hr, name, cls, code]) => ({ nt, hr, name, cls, code }));

  it.each(errorRows)('maps $name (NTSTATUS known, as from fltsim) to its class and code', ({ nt, hr, name, cls, code }) => {
    const err = createNativeError({ origin: 'ntstatus', ntstatus: nt, hresult: hr, syscall: 'FilterReplyMessage', detail: '' });
    expect(err).toBeInstanceOf(cls as new (...a: never[]) => FltportError);
    expect(err.code).toBe(code);
    expect(err.hresult).toBe(hr);
    expect(err.ntstatus).toBe(nt >>> 0);
    expect(err.message).toContain(name);
    expect(err.message).toContain(`0x${hr.toString(16).toUpperCase().padStart(8, '0')}`);
  });

  it.each(errorRows)('maps $name from its HRESULT alone (as on Windows) to the same code', ({ hr, code }) => {
    const err = createNativeError({ origin: 'hresult', hresult: hr, syscall: 'FilterGetMessage', detail: '' });
    expect(err.code).toBe(code);
    expect(err.ntstatus).toBeUndefined();
  });

  it('names the port-not-found case for connects, and keeps fields', () => {
    const err = createNativeError({
      origin: 'hresult',
      hresult: 0x80070002,
      win32: 2,
      syscall: 'FilterConnectCommunicationPort',
      detail: 'no such port',
    });
    expect(err).toBeInstanceOf(PortNotFoundError);
    expect(err.code).toBe('FLTPORT_NOT_FOUND');
    expect(err.win32).toBe(2);
    expect(err.syscall).toBe('FilterConnectCommunicationPort');
    expect(err.message).toBe('FilterConnectCommunicationPort failed: HRESULT 0x80070002 (ERROR_FILE_NOT_FOUND): no such port');
  });

  it('turns a FilterSendMessage overflow into BufferTooSmallError, a reply overflow into ReplyTooLargeError', () => {
    const send = createNativeError({ origin: 'ntstatus', ntstatus: 0x80000005, hresult: 0x800700ea, syscall: 'FilterSendMessage', detail: '' });
    const reply = createNativeError({ origin: 'ntstatus', ntstatus: 0x80000005, hresult: 0x800700ea, syscall: 'FilterReplyMessage', detail: '' });
    expect(send).toBeInstanceOf(BufferTooSmallError);
    expect(reply).toBeInstanceOf(ReplyTooLargeError);
  });

  it('keeps requiredSize from a short receive', () => {
    const err = createNativeError({ origin: 'win32', win32: 122, hresult: 0x8007007a, syscall: 'FilterGetMessage', detail: '', requiredSize: 70_016 });
    expect(err).toBeInstanceOf(BufferTooSmallError);
    expect((err as BufferTooSmallError).requiredSize).toBe(70_016);
    expect(err.message).toContain('required size 70016');
  });

  it('maps errno from the fltsim socket', () => {
    // The host's errno numbers (111 is ECONNREFUSED on Linux, not on Windows): the transport
    // reports its own platform's, and lib/errors.ts names them with os.constants.errno.
    const { ECONNREFUSED, ENOENT, EMFILE } = constants.errno;
    const refused = createNativeError({ origin: 'errno', errno: ECONNREFUSED, hresult: 0x80004005, syscall: 'connect', detail: '/tmp/x/fltsim.sock' });
    expect(refused).toBeInstanceOf(SimulatorUnavailableError);
    expect(refused.code).toBe('FLTPORT_SIM_UNAVAILABLE');
    expect(refused.errno).toBe(ECONNREFUSED);
    expect(refused.message).toContain(`errno ${ECONNREFUSED} ECONNREFUSED`);
    const enoent = createNativeError({ origin: 'errno', errno: ENOENT, hresult: 0x80004005, syscall: 'connect', detail: '' });
    expect(enoent.code).toBe('FLTPORT_SIM_UNAVAILABLE');
    const other = createNativeError({ origin: 'errno', errno: EMFILE, hresult: 0x80004005, syscall: 'socket', detail: '' });
    expect(other.code).toBe('FLTPORT_SYSTEM_ERROR');
    expect(other.message).toContain(`errno ${EMFILE} EMFILE`);
  });

  it('maps protocol and argument origins', () => {
    const p = createNativeError({ origin: 'protocol', hresult: 0x80004005, syscall: 'read', detail: 'frame length 3' });
    expect(p).toBeInstanceOf(ProtocolError);
    expect(p.message).toContain('frame length 3');
    const a = createNativeError({ origin: 'argument', hresult: 0x80070057, syscall: 'connect', detail: 'bad' });
    expect(a).toBeInstanceOf(InvalidArgumentError);
  });

  it('never says "unknown": unknown HRESULTs keep their number and a name when there is one', () => {
    const efail = createNativeError({ origin: 'hresult', hresult: 0x80004005, syscall: 'FilterLoad', detail: '' });
    expect(efail.code).toBe('FLTPORT_SYSTEM_ERROR');
    expect(efail.message).toBe('FilterLoad failed: HRESULT 0x80004005 (E_FAIL)');
    expect(describeHresult(0x8007ffff)).toBe('0x8007FFFF (HRESULT_FROM_WIN32(65535))');
    expect(describeHresult(0x80041234)).toBe('0x80041234 (facility 0x4, code 0x1234)');
    expect(describeHresult(0x801f0013)).toBe('0x801F0013 (ERROR_FLT_FILTER_NOT_FOUND)');
    expect(describeHresult(0x80070057)).toBe('0x80070057 (E_INVALIDARG)');
    const odd = createNativeError({ origin: 'hresult', hresult: 0x80041234, syscall: '', detail: '' });
    expect(odd.message).toBe('native operation failed: HRESULT 0x80041234 (facility 0x4, code 0x1234)');
    expect(odd.message.toLowerCase()).not.toContain('unknown');
  });

  it('classifies filter-management HRESULTs', () => {
    expect(codeForHresult(0x801f0013)).toBe('FLTPORT_NOT_FOUND');
    expect(codeForHresult(0x801f0012)).toBe('FLTPORT_ALREADY_EXISTS');
    expect(codeForHresult(0x80004001)).toBe('FLTPORT_NOT_SUPPORTED');
    expect(codeForHresult(0x800705b4)).toBe('FLTPORT_TIMEOUT');
  });

  it('AbortError is recognisable by name', () => {
    const err = createNativeError({ origin: 'win32', win32: 995, hresult: 0x800703e3, syscall: 'FilterGetMessage', detail: '' });
    expect(err.name).toBe('AbortError');
    expect(err.code).toBe('FLTPORT_ABORTED');
  });
});
