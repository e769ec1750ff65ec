// Native argument checks (needs the .node). lib/ validates first with option names; these
// checks exist so that nothing JS can pass crashes the process: wrong types are TypeErrors,
// impossible numbers RangeErrors, each with Node's code, thrown before any work starts.
// They live in native/napi, above either backend, so every case runs on both; the calls
// that get past them fail for want of a port or a mailslot, each backend in its own way
// (no fltsim-host in the runtime directory; fltlib.dll with no such object).
import { describe, expect, it } from 'vitest';
import { loadBinding, type NativeConnectOptions } from '../../lib/binding.js';
import { backend, MISSING_PORT, missingPortFailure } from '../helpers/backend.js';

const binding = loadBinding();
const noop = (): void => {};

function options(overrides: Record<string, unknown> = {}): NativeConnectOptions {
  return {
    name: MISSING_PORT,
    flags: 0,
    context: null,
    concurrency: 4,
    initialBufferSize: 4096,
    maxMessageSize: 65536,
    highWaterMark: 16,
    simRuntimeDir: '/nonexistent-fltport-runtime',
    ...overrides,
  } as NativeConnectOptions;
}

const typeError = (message: string | RegExp) =>
  expect.objectContaining({
    name: 'TypeError',
    code: 'ERR_INVALID_ARG_TYPE',
    message: expect.stringMatching(message) as unknown,
  });
const rangeError = (message: string | RegExp) =>
  expect.objectContaining({
    name: 'RangeError',
    code: 'ERR_OUT_OF_RANGE',
    message: expect.stringMatching(message) as unknown,
  });

describe('connect() argument checks', () => {
  const cases: [string, () => unknown, unknown][] = [
    ['options not an object', () => binding.connect(42 as never, noop, noop), typeError(/^options must be an object/)],
    ['onBatch missing', () => binding.connect(options(), undefined as never, noop), typeError(/^onBatch must be a function/)],
    ['onStopped not a function', () => binding.connect(options(), noop, {} as never), typeError(/^onStopped must be a function/)],
    ['name missing', () => binding.connect(options({ name: undefined }), noop, noop), typeError(/^options\.name must be a string/)],
    ['name empty', () => binding.connect(options({ name: '' }), noop, noop), rangeError(/^options\.name must not be empty/)],
    ['name with NUL', () => binding.connect(options({ name: '\\a\0b' }), noop, noop), rangeError(/NUL/)],
    ['flags a string', () => binding.connect(options({ flags: '0' }), noop, noop), typeError(/^options\.flags must be a number/)],
    ['flags negative', () => binding.connect(options({ flags: -1 }), noop, noop), rangeError(/^options\.flags must be in/)],
    ['context an array', () => binding.connect(options({ context: [1, 2] }), noop, noop), typeError(/^options\.context must be a Uint8Array or null/)],
    ['context a Uint16Array', () => binding.connect(options({ context: new Uint16Array(2) }), noop, noop), typeError(/Uint8Array/)],
    ['context over 65535 bytes', () => binding.connect(options({ context: new Uint8Array(65536) }), noop, noop), rangeError(/65535/)],
    ['concurrency 0', () => binding.connect(options({ concurrency: 0 }), noop, noop), rangeError(/^options\.concurrency must be in \[1, 1024\]/)],
    ['concurrency 1025', () => binding.connect(options({ concurrency: 1025 }), noop, noop), rangeError(/^options\.concurrency/)],
    ['concurrency fractional', () => binding.connect(options({ concurrency: 2.5 }), noop, noop), rangeError(/must be an integer/)],
    ['concurrency NaN', () => binding.connect(options({ concurrency: Number.NaN }), noop, noop), rangeError(/must be an integer/)],
    ['initialBufferSize below the 16-byte header', () => binding.connect(options({ initialBufferSize: 15 }), noop, noop), rangeError(/^options\.initialBufferSize must be in \[16,/)],
    ['maxMessageSize below initialBufferSize', () => binding.connect(options({ maxMessageSize: 4095 }), noop, noop), rangeError(/^options\.maxMessageSize must be in \[4096,/)],
    ['highWaterMark 0', () => binding.connect(options({ highWaterMark: 0 }), noop, noop), rangeError(/^options\.highWaterMark/)],
    ['simRuntimeDir a number', () => binding.connect(options({ simRuntimeDir: 1 }), noop, noop), typeError(/^options\.simRuntimeDir must be a string/)],
  ];
  it.each(cases)('%s', (_name, call, expected) => {
    expect(call).toThrow(expected as Error);
  });

  it('accepts a Buffer as the connection context (a Uint8Array subclass)', async () => {
    // Reaches the transport (no host here) or fltlib (no such port): the failure is the
    // connect's, not an argument error.
    const err = (await binding
      .connect(options({ context: Buffer.from('ctx') }), noop, noop)
      .catch((e: unknown) => e)) as Record<string, unknown>;
    expect(err.origin).not.toBe('argument');
    expect(err).toMatchObject(missingPortFailure());
  });
});

describe('mailslot and filter-management argument checks', () => {
  const mailslotOptions = (o: Record<string, unknown> = {}) =>
    ({ name: '\\\\.\\mailslot\\fltport', maxMessageSize: 0, readTimeout: 0, simRuntimeDir: '', ...o }) as never;
  const ctx = { simRuntimeDir: '' };
  const cases: [string, () => unknown, unknown][] = [
    ['createMailslot: options null', () => binding.createMailslot(null as never, noop, noop), typeError(/^options must be an object/)],
    ['createMailslot: readTimeout 2^32', () => binding.createMailslot(mailslotOptions({ readTimeout: 2 ** 32 }), noop, noop), rangeError(/^options\.readTimeout/)],
    ['createMailslot: maxMessageSize a bigint', () => binding.createMailslot(mailslotOptions({ maxMessageSize: 1n }), noop, noop), typeError(/^options\.maxMessageSize must be a number/)],
    ['writeMailslot: data a string', () => binding.writeMailslot('\\\\.\\mailslot\\x', 'hi' as never, ''), typeError(/^data must be a Uint8Array/)],
    ['writeMailslot: data null', () => binding.writeMailslot('\\\\.\\mailslot\\x', null as never, ''), typeError(/^data must be a Uint8Array/)],
    ['writeMailslot: name empty', () => binding.writeMailslot('', new Uint8Array(1), ''), rangeError(/^name must not be empty/)],
    ['listFilters: ctx missing', () => binding.listFilters(undefined as never), typeError(/^ctx must be an object/)],
    ['listInstances: filter a number', () => binding.listInstances(ctx, 7 as never), typeError(/^filter must be a string/)],
    ['loadFilter: filter empty', () => binding.loadFilter(ctx, ''), rangeError(/^filter must not be empty/)],
    ['attachFilter: instanceName missing', () => binding.attachFilter(ctx, 'f', 'v', undefined as never), typeError(/^instanceName must be a string/)],
    ['detachFilter: volume with NUL', () => binding.detachFilter(ctx, 'f', 'C:\0', ''), rangeError(/NUL/)],
    ['getDosName: ctx.simRuntimeDir missing', () => binding.getDosName({} as never, 'v'), typeError(/^ctx\.simRuntimeDir must be a string/)],
  ];
  it.each(cases)('%s', (_name, call, expected) => {
    expect(call).toThrow(expected as Error);
  });

  it('copies a writeMailslot payload before returning (detaching it afterwards is harmless)', async () => {
    const data = new Uint8Array(new ArrayBuffer(8));
    const pending = binding.writeMailslot('\\\\.\\mailslot\\fltport-none', data, '/nonexistent-fltport-runtime');
    structuredClone(data.buffer, { transfer: [data.buffer] });
    expect(data.byteLength).toBe(0);
    const err = (await pending.catch((e: unknown) => e)) as Record<string, unknown>;
    expect(err).toBeInstanceOf(Error);
    // fltsim: no host in the runtime directory. win32: CreateFileW finds no such mailslot.
    expect(err).toMatchObject(
      backend === 'win32'
        ? { origin: 'win32', win32: 2, hresult: 0x80070002, syscall: 'CreateFileW' }
        : { origin: 'errno', errno: 2, hresult: 0x80004005 },
    );
  });
});
