// How native failures reach JS (needs the .node, no driver and no fltsim-host). The failure is
// a connect to a port nobody serves: with the fltsim backend, to an empty runtime directory
// (the POSIX transport fails with ENOENT before any host is involved); with the win32 backend,
// through the real fltlib.dll (HRESULT 0x80070002, ERROR_FILE_NOT_FOUND). Same paths through
// the factory, the numbers each backend reports (test/helpers/backend.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadBinding, type NativeConnectOptions, type NativeErrorInfo } from '../../lib/binding.js';
import {
  backend,
  expectMissingPortDetail,
  MISSING_PORT,
  missingPortFailure,
  missingPortInfoKeys,
} from '../helpers/backend.js';

const binding = loadBinding();
const emptyRuntime = mkdtempSync(join(tmpdir(), 'fltport-nohost-'));
afterAll(() => rmSync(emptyRuntime, { recursive: true, force: true }));
afterEach(() => binding.setErrorFactory(null as never));

const E_INVALIDARG = 0x80070057;

function options(overrides: Partial<NativeConnectOptions> = {}): NativeConnectOptions {
  return {
    name: MISSING_PORT,
    flags: 0,
    context: null,
    concurrency: 4,
    initialBufferSize: 4096,
    maxMessageSize: 65536,
    highWaterMark: 16,
    simRuntimeDir: emptyRuntime,
    ...overrides,
  };
}

const never = (): void => {
  throw new Error('no callback may run for a port that never connected');
};

describe('errors without a registered factory', () => {
  it('rejects with a plain FLTPORT_NATIVE Error that carries every number', async () => {
    const err = (await binding.connect(options(), never, never).catch((e: unknown) => e)) as Error &
      Record<string, unknown>;
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('FLTPORT_NATIVE');
    expect(err).toMatchObject(missingPortFailure());
    expect(typeof err.syscall).toBe('string');
    expect(err.syscall).not.toBe('');
    expectMissingPortDetail(err.detail, emptyRuntime);
    if (backend === 'win32') {
      expect(err.message).toBe(
        'FilterConnectCommunicationPort failed: HRESULT 0x80070002, Win32 error 2 (origin hresult)',
      );
      // An HRESULT returned by fltlib carries no NTSTATUS and no errno.
      expect('ntstatus' in err).toBe(false);
      expect('errno' in err).toBe(false);
    } else {
      expect(err.message).toContain('HRESULT 0x80004005');
      expect(err.message).toContain('errno 2');
      expect(err.message).toContain('origin errno');
      // errno-origin failures have no NTSTATUS/Win32 numbers to report.
      expect('ntstatus' in err).toBe(false);
      expect('win32' in err).toBe(false);
    }
  });
});

describe('errors through the registered factory', () => {
  it('passes a complete NativeErrorInfo and rejects with what the factory returned', async () => {
    const seen: NativeErrorInfo[] = [];
    class Made extends Error {}
    const made = new Made('made by the factory');
    binding.setErrorFactory((info) => {
      seen.push(info);
      return made;
    });
    const err = await binding.connect(options(), never, never).catch((e: unknown) => e);
    expect(err).toBe(made);
    expect(seen).toHaveLength(1);
    const info = seen[0]!;
    expect(Object.keys(info).sort()).toEqual(missingPortInfoKeys());
    expect(info).toMatchObject(missingPortFailure());
    expectMissingPortDetail(info.detail, emptyRuntime);
  });

  it('reports a rejected option through the factory with E_INVALIDARG', async () => {
    const seen: NativeErrorInfo[] = [];
    binding.setErrorFactory((info) => {
      seen.push(info);
      return new Error('x');
    });
    // FLT_PORT_FLAG_SYNC_HANDLE: a synchronous handle would serialize receives and replies.
    await expect(binding.connect(options({ flags: 1 }), never, never)).rejects.toThrow('x');
    expect(seen).toEqual([
      {
        origin: 'argument',
        hresult: E_INVALIDARG,
        syscall: 'FilterConnectCommunicationPort',
        detail: expect.stringContaining('FLT_PORT_FLAG_SYNC_HANDLE') as unknown as string,
      },
    ]);
  });

  it('falls back to the plain error when the factory throws or returns a non-object', async () => {
    binding.setErrorFactory(() => {
      throw new Error('factory bug');
    });
    const thrown = (await binding.connect(options(), never, never).catch((e: unknown) => e)) as Record<
      string,
      unknown
    >;
    expect(thrown.code).toBe('FLTPORT_NATIVE');
    expect(thrown).toMatchObject(missingPortFailure());
    binding.setErrorFactory((() => 'not an error') as never);
    const primitive = (await binding.connect(options(), never, never).catch((e: unknown) => e)) as Record<
      string,
      unknown
    >;
    expect(primitive.code).toBe('FLTPORT_NATIVE');
    expect(primitive).toMatchObject(missingPortFailure());
  });

  it('refuses a factory that is not a function', () => {
    expect(() => binding.setErrorFactory('nope' as never)).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }),
    );
  });

  it('keeps one factory per environment: a Worker starts without the main thread\'s', async () => {
    binding.setErrorFactory(() => new Error('main thread factory'));
    const addonUrl = new URL('../lifecycle/fixtures/addon.mjs', import.meta.url).href;
    const code = `
      import { parentPort } from 'node:worker_threads';
      const { loadAddon, portOptions, errorFields } = await import(${JSON.stringify(addonUrl)});
      const b = loadAddon();
      const e = await b.connect(portOptions({ name: ${JSON.stringify(MISSING_PORT)}, simRuntimeDir: ${JSON.stringify(emptyRuntime)} }),
        () => {}, () => {}).catch((err) => err);
      parentPort.postMessage(errorFields(e));
    `;
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`));
    const fields = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    expect(fields).toMatchObject({ code: 'FLTPORT_NATIVE', ...missingPortFailure() });
    expect(await new Promise((r) => worker.once('exit', r))).toBe(0);
    // The main thread's factory is still the one used here.
    await expect(binding.connect(options(), never, never)).rejects.toThrow('main thread factory');
  });
});
