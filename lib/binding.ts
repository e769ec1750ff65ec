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
}

/** Builds the JS error for a native failure; registered once at load (better-sqlite3 style). */
export type NativeErrorFactory = (info: NativeErrorInfo) => Error;

/**
 * One hand-off from a backend's I/O thread: every message, reply outcome, read and fault
 * completed since the last one. All payloads share `buffer`; message i's payload is
 * `new Uint8Array(buffer, offsets[i], lengths[i])`.
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
  /** Mailslot read outcomes, same shape; bytes at readOffsets/readLengths in buffer. */
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

export interface NativeSendResult {
  /** The output buffer, `returned` bytes long. */
  bytes: Uint8Array;
  returned: number;
}

export interface NativePort {
  /** Non-blocking; the outcome arrives in a later batch under `token`. */
  reply(token: number, messageId: bigint, status: number, payload: Uint8Array | null): void;
  /** FilterSendMessage on a worker thread. */
  send(input: Uint8Array | null, outputCapacity: number): Promise<NativeSendResult>;
  /** JS consumed `count` delivered messages (re-opens the receive window). */
  consumed(count: number): void;
  /** Cancel, drain, join, close. Resolves after onStopped ran. Idempotent. */
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

export interface NativeMailslot {
  read(token: number, maxSize: number): void;
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
