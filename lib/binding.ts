// The one file that loads the native addon (fltport.node) and types its surface.
// Everything else in lib/ imports `loadBinding()` or the types below; unit tests inject a
// fake NativeBinding instead of loading the .node.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** What native code knows about a failure; lib/errors.ts turns it into a FltportError subclass. */
export interface NativeErrorInfo {
  /** Where the number came from: the kernel/fltsim (ntstatus), an overlapped completion (win32), a Filter* HRESULT, errno (POSIX transport), a protocol violation, or a native argument check. */
  origin: 'ntstatus' | 'win32' | 'hresult' | 'errno' | 'protocol' | 'argument';
  /** The HRESULT a Windows caller would see (always present; E_FAIL for errno/protocol). */
  hresult: number;
  ntstatus?: number;
  win32?: number;
  errno?: number;
  /** The call that failed, e.g. "FilterConnectCommunicationPort". */
  syscall: string;
  detail: string;
  /**
   * A receive or mailslot read too small for the waiting message: the size it needs
   * (FILTER_MESSAGE_HEADER included for a port). Absent otherwise.
   */
  requiredSize?: number;
}

/**
 * Builds the JS error for a native failure; registered once per environment (the main thread
 * and each Worker load their own instance of the addon). Without one, or if it throws or
 * returns a non-object, native code throws a plain Error with code 'FLTPORT_NATIVE', the
 * NativeErrorInfo fields as properties and every number in its message.
 *
 * Argument checks in native code (wrong types, out-of-range numbers) throw TypeError
 * (code 'ERR_INVALID_ARG_TYPE') or RangeError ('ERR_OUT_OF_RANGE') instead: those are bugs
 * in lib/, which validates first.
 */
export type NativeErrorFactory = (info: NativeErrorInfo) => Error;

/**
 * One hand-off from a backend's I/O thread: every message, reply outcome, read (or send)
 * outcome and fault completed since the last one. All payloads share `buffer`; message i's
 * payload is `new Uint8Array(buffer, offsets[i], lengths[i])`.
 */
export interface NativeBatch {
  buffer: ArrayBuffer;
  messageCount: number;
  ids: BigUint64Array;
  replyLengths: Uint32Array;
  offsets: Uint32Array;
  lengths: Uint32Array;
  /** Reply outcomes: token i resolved (error null) or failed. */
  replyTokens: Float64Array;
  replyErrors: Array<Error | null>;
  /**
   * One-shot outcomes that bring bytes back — mailslot reads, and port sends (the driver's
   * output): token i resolved (error null) with the bytes at readOffsets/readLengths in
   * buffer, or failed (no bytes).
   */
  readTokens: Float64Array;
  readErrors: Array<Error | null>;
  readOffsets: Uint32Array;
  readLengths: Uint32Array;
  /** Receives that could not yield a message (e.g. larger than maxMessageSize). */
  faults: Error[];
}

export type NativeStopReason = 'closed' | 'disconnected' | 'failed';

export interface NativeConnectOptions {
  name: string;
  flags: number;
  context: Uint8Array | null;
  concurrency: number;
  initialBufferSize: number;
  maxMessageSize: number;
  highWaterMark: number;
  simRuntimeDir: string;
}

/**
 * A connected port (connect() resolved). Callbacks: onBatch/onStopped are never called before
 * the connect() promise has resolved and its continuations ran; onStopped is called exactly
 * once, after the last batch that carries messages.
 *
 * After close() was called, reply() and send() throw the factory's error for
 * ERROR_INVALID_HANDLE (origin 'win32', win32 6, hresult 0x80070006, detail "the port is
 * closed"); consumed(), ref() and unref() do nothing. Every method throws a TypeError when
 * called on anything but a NativePort.
 *
 * Event loop: an open port keeps the process alive while referenced (the default) and until
 * onStopped ran; a pending close() keeps it alive until it resolves, even when unreferenced.
 * An unreachable port that was never closed is closed when it is garbage collected
 * (onStopped('closed', null) still runs). When the environment goes away (process exit, a
 * Worker ending) every open port is closed and its I/O thread joined.
 */
export interface NativePort {
  /**
   * FilterReplyMessage: copies `payload` and returns at once; the outcome arrives in a later
   * batch under `token` (replyTokens/replyErrors). `status` is FILTER_REPLY_HEADER.Status
   * (signed or unsigned 32-bit). Every reply gets exactly one outcome: one the backend no
   * longer takes (after its stop) is answered by the addon with STATUS_PORT_DISCONNECTED
   * (hresult 0x80070006), still in a batch. Throws (nothing sent) once close() was called.
   */
  reply(token: number, messageId: bigint, status: number, payload: Uint8Array | null): void;
  /**
   * FilterSendMessage: copies `input` and returns at once (no thread waits for the driver);
   * empty buffers go as NULL. The outcome arrives in a later batch under `token`
   * (readTokens/readErrors): the bytes the driver returned (at most `outputCapacity`), or the
   * error (a warning status such as STATUS_BUFFER_OVERFLOW is one). Every send started gets
   * its outcome before onStopped (0x80070006 for those the driver had not answered). Throws
   * the factory's error when the send cannot start: after close() (above), or once the
   * session has stopped (STATUS_PORT_DISCONNECTED, hresult 0x80070006).
   */
  send(token: number, input: Uint8Array | null, outputCapacity: number): void;
  /** JS consumed `count` delivered messages (re-opens the receive window). */
  consumed(count: number): void;
  /**
   * Cancel, drain, join, close — on a pool thread. Resolves after onStopped ran. Idempotent:
   * every call returns the same promise.
   */
  close(): Promise<void>;
  ref(): void;
  unref(): void;
}

export interface NativeMailslotOptions {
  name: string;
  maxMessageSize: number;
  /** Milliseconds; 0xFFFFFFFF = wait forever. */
  readTimeout: number;
  simRuntimeDir: string;
}

export interface NativeMailslotInfo {
  maxMessageSize: number;
  nextSize: number;
  count: number;
  readTimeout: number;
}

/**
 * A mailslot server end. Same life cycle rules as NativePort: callbacks only after
 * createMailslot() resolved; after close() read(), info() and setReadTimeout() throw the
 * factory's ERROR_INVALID_HANDLE error, ref()/unref() do nothing; close() is idempotent.
 */
export interface NativeMailslot {
  /** One ReadFile of up to `maxSize` bytes; the outcome arrives in a batch under `token`. */
  read(token: number, maxSize: number): void;
  /** GetMailslotInfo; never waits for a message. */
  info(): NativeMailslotInfo;
  setReadTimeout(ms: number): void;
  close(): Promise<void>;
  ref(): void;
  unref(): void;
}

export interface NativeFilterInfo {
  name: string;
  altitude: string;
  instanceCount: number;
  frameId: number;
  legacy: boolean;
}

export interface NativeInstanceInfo {
  name: string;
  altitude: string;
  volumeName: string;
  filterName: string;
  frameId: number;
  volumeType: number;
  detachAllowed: boolean;
}

export interface NativeVolumeInfo {
  name: string;
  dosName: string;
  frameId: number;
  filesystemType: number;
}

export interface NativeManagementContext {
  simRuntimeDir: string;
}

export interface NativeStatusEntry {
  ntstatus: number;
  win32: number;
  hresult: number;
  name: string;
}

export interface NativeBinding {
  /** Addon version (package.json's) and which backend it was built with. */
  readonly version: string;
  readonly backend: 'win32' | 'fltsim';
  setErrorFactory(factory: NativeErrorFactory): void;

  connect(
    options: NativeConnectOptions,
    onBatch: (batch: NativeBatch) => void,
    onStopped: (reason: NativeStopReason, error: Error | null) => void,
  ): Promise<NativePort>;

  createMailslot(
    options: NativeMailslotOptions,
    onBatch: (batch: NativeBatch) => void,
    onStopped: (error: Error | null) => void,
  ): Promise<NativeMailslot>;
  writeMailslot(name: string, data: Uint8Array, simRuntimeDir: string): Promise<void>;

  listFilters(ctx: NativeManagementContext): Promise<NativeFilterInfo[]>;
  listInstances(ctx: NativeManagementContext, filter: string): Promise<NativeInstanceInfo[]>;
  listVolumes(ctx: NativeManagementContext): Promise<NativeVolumeInfo[]>;
  loadFilter(ctx: NativeManagementContext, filter: string): Promise<void>;
  unloadFilter(ctx: NativeManagementContext, filter: string): Promise<void>;
  attachFilter(
    ctx: NativeManagementContext,
    filter: string,
    volume: string,
    instanceName: string,
  ): Promise<string>;
  detachFilter(
    ctx: NativeManagementContext,
    filter: string,
    volume: string,
    instanceName: string,
  ): Promise<void>;
  getDosName(ctx: NativeManagementContext, volume: string): Promise<string>;

  /** native/core's status table (spec §1.3), for the parity test with lib/errors.ts. */
  statusTable(): NativeStatusEntry[];
  /** fltlib's HRESULT for an NTSTATUS, per native/core. */
  hresultFromNtStatus(ntstatus: number): number;
}

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
let cached: NativeBinding | undefined;

/**
 * Loads fltport.node once. FLTPORT_ADDON_PATH names an exact .node (the Wine lane uses it);
 * otherwise node-gyp-build searches prebuilds/<platform>-<arch>/ and build/{Release,Debug}/.
 */
export function loadBinding(): NativeBinding {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const explicit = process.env['FLTPORT_ADDON_PATH'];
  try {
    if (explicit) {
      cached = require(explicit) as NativeBinding;
    } else {
      const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
      cached = nodeGypBuild(packageRoot) as NativeBinding;
    }
  } catch (cause) {
    const tried = explicit
      ? `FLTPORT_ADDON_PATH=${explicit}`
      : `${packageRoot}prebuilds/${process.platform}-${process.arch}/, ${packageRoot}build/Release/, ${packageRoot}build/Debug/`;
    throw new Error(
      `fltport: could not load the native addon (tried ${tried}): ${(cause as Error).message}. ` +
        'Build it with `npm run build:native` (needs a C++17 compiler and Node headers), ' +
        'or install a package that ships prebuilds for this platform.',
      { cause },
    );
  }
  return cached;
}
