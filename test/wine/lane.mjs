// Shared pieces of the Wine lane's tests (docs/wine-lane.md): which target runs, the one
// table of values every target must produce, and small helpers. Plain JS for `node --test`
// under Windows node.exe (no vitest, no TypeScript at run time).
//
// The same files also run under Linux node against the POSIX fltsim-host (target "fltsim"),
// which is how the table is checked against the simulator's own answers: both targets must
// agree. When the contract suite (test/contract, issue 6) exists it takes over these cases;
// EXPECT is the part to hand over.
import { strict as assert } from 'node:assert';

import { FltsimControl } from './fltsim-control.mjs';

/** "wine": Windows addon + test fltlib.dll + fltsim-host.exe under Wine; "fltsim": Linux. */
export const TARGET = process.env.FLTPORT_CONTRACT_TARGET || (process.platform === 'win32' ? 'wine' : 'fltsim');

/** The public API, from the compiled package (npm run build:ts). */
export const fltport = await import(new URL('../../dist/index.js', import.meta.url).href);

/**
 * What a caller sees, per condition: the HRESULT (what fltlib returns or GetLastError gives
 * as HRESULT_FROM_WIN32), the error code and class fltport maps it to, and where the driver
 * side reports one, the NTSTATUS it sees. Spec sections in brackets.
 */
export const EXPECT = Object.freeze({
  portNotFound: { hresult: 0x80070002, code: 'FLTPORT_NOT_FOUND', name: 'PortNotFoundError' }, // §2.3
  connectionLimit: { hresult: 0x800704d4, code: 'FLTPORT_CONNECTION_LIMIT', name: 'ConnectionLimitError' }, // §2.3
  connectRejected: { ntstatus: 0xc0000022, hresult: 0x80070005, code: 'FLTPORT_ACCESS_DENIED' }, // §2.3 ConnectNotify failure
  lateReply: { hresult: 0x801f0020, code: 'FLTPORT_NO_WAITER', name: 'LateReplyError', senderStatus: '0x00000102' }, // §4.3, §6.4
  disconnected: { hresult: 0x80070006, code: 'FLTPORT_DISCONNECTED', name: 'DisconnectedError' }, // §3.5
  replyDelivered: { senderStatus: '0x00000000' }, // §4.1
  replyStatusPassThrough: { replyStatus: 0xc0000022, senderStatus: '0xC0000022' }, // §4.1, G5
  sendNoMoreEntries: { ntstatus: 0x8000001a, hresult: 0x80070103, code: 'FLTPORT_NO_MORE_ENTRIES' }, // §5.2
  messageTooLarge: { code: 'FLTPORT_MESSAGE_TOO_LARGE', name: 'MessageTooLargeError' }, // §3.4
  mailslotTimeout: { hresult: 0x80070079, code: 'FLTPORT_TIMEOUT', name: 'TimeoutError' }, // §10.3, G23
  mailslotNotFound: { hresult: 0x80070002, code: 'FLTPORT_NOT_FOUND' }, // §10.3
  mailslotExists: { hresult: 0x800700b7, code: 'FLTPORT_ALREADY_EXISTS', name: 'AlreadyExistsError' }, // §10.3
  // Filter management (docs/fltsim.md "Filter management"; fltWinError.h facility 0x1F).
  noDosName: { hresult: 0x80070002, code: 'FLTPORT_NOT_FOUND' }, // STATUS_OBJECT_NAME_NOT_FOUND
  volumeNotFound: { hresult: 0x801f0014, code: 'FLTPORT_NOT_FOUND' }, // STATUS_FLT_VOLUME_NOT_FOUND
  instanceNameCollision: { hresult: 0x801f0012, code: 'FLTPORT_ALREADY_EXISTS' },
  instanceAltitudeCollision: { hresult: 0x801f0011, code: 'FLTPORT_ALREADY_EXISTS' },
  instanceNotFound: { hresult: 0x801f0015, code: 'FLTPORT_NOT_FOUND' },
  filterLoadNotFound: { hresult: 0x80070002, code: 'FLTPORT_NOT_FOUND' }, // no such driver to load
  filterNotFound: { hresult: 0x801f0013, code: 'FLTPORT_NOT_FOUND' }, // STATUS_FLT_FILTER_NOT_FOUND
  filterAlreadyLoaded: { hresult: 0x80070420, code: 'FLTPORT_ALREADY_EXISTS' }, // STATUS_IMAGE_ALREADY_LOADED
});

/**
 * Where Windows itself reports less than fltsim: no FilterInstance* information class carries
 * whether an instance may be detached (the driver's InstanceQueryTeardown decides at
 * FilterDetach), so the Windows backend reports false; fltsim's control channel says true.
 */
export const FILTERS = Object.freeze({ detachAllowedReported: TARGET !== 'wine' });

/**
 * Where the platform's mailslots, not fltport, decide. Under Wine 8 mailslots are Wine's own,
 * a datagram socket per mailslot, and differ from Windows (and from fltsim, which follows the
 * spec and Wine's later server implementation) in ways fltport cannot change, measured with
 * a plain Win32 program in the lane's prefix (docs/wine-lane.md): GetMailslotInfo counts 1
 * however many messages wait; a message is cut at 64 KiB; a read shorter than the message
 * truncates it instead of failing with ERROR_INSUFFICIENT_BUFFER; a zero-length message is
 * not counted and its read fails with ERROR_BROKEN_PIPE (109) instead of returning 0 bytes.
 */
export const MAILSLOTS = Object.freeze(
  TARGET === 'wine'
    ? {
        countAfterTwoWrites: 1,
        over64KiB: 'Wine 8 cuts mailslot messages at 64 KiB and truncates short reads (docs/wine-lane.md)',
        zeroLengthRead: { hresult: 0x8007006d, code: 'FLTPORT_DISCONNECTED' }, // ERROR_BROKEN_PIPE
      }
    : { countAfterTwoWrites: 2, over64KiB: false, zeroLengthRead: null },
);

/** Asserts that `error` is the fltport error `expected` (an EXPECT row) describes. */
export function assertFltportError(error, expected, what = 'error') {
  assert.ok(error instanceof fltport.FltportError, `${what}: not a FltportError: ${error?.stack ?? error}`);
  assert.equal(error.code, expected.code, `${what}: code (${error.message})`);
  if (expected.hresult !== undefined) {
    assert.equal(hex(error.hresult), hex(expected.hresult), `${what}: hresult (${error.message})`);
  }
  if (expected.name !== undefined) assert.equal(error.name, expected.name, `${what}: class`);
}

export const hex = (n) => (n === undefined ? 'undefined' : `0x${(n >>> 0).toString(16).toUpperCase().padStart(8, '0')}`);
export const bytesHex = (bytes) => Buffer.from(bytes).toString('hex');

let counter = 0;
/** A port or mailslot name no other test (or earlier run against the same host) uses. */
export function uniqueName(prefix) {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

/** Resolves with `promise`, or rejects after `ms` naming `what` (nothing here may hang). */
export function within(ms, promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The control client every test file shares (one stream, closed by the caller). */
export function openControl() {
  return FltsimControl.open();
}

/**
 * Creates a port on the simulated driver (TestDriver's port.create) and returns its name with
 * helpers: connection(): the next connection's id from the driver's own ConnectNotify event.
 */
export async function createPort(control, options = {}) {
  const name = `\\${uniqueName('WineLane')}`;
  await control.must('port.create', { name, max: 1, ...options });
  return {
    name,
    async connection() {
      const event = await control.waitEvent('td-connect', { port: name });
      return event;
    },
  };
}

/**
 * Under Wine, the FltMgrMsg device's own bookkeeping in fltsim-host.exe (the `wine.device`
 * verb): { streams, irps } = open handles and requests not yet completed. null elsewhere.
 */
export async function deviceStats(control) {
  if (TARGET !== 'wine') return null;
  const args = await control.must('wine.device');
  return { streams: Number(args.streams), irps: Number(args.irps) };
}
