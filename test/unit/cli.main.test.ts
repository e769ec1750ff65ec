import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import { describe, expect, it, vi } from 'vitest';

import { EXIT, type CliIo, hexPreview, main, simRuntimeDir, utf16Preview } from '../../lib/cli.js';
import { FakeBinding } from '../helpers/fake-binding.js';

function capture(extra: Partial<CliIo> = {}): { io: Partial<CliIo>; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    io: { stdout: (t) => (out += t), stderr: (t) => (err += t), ...extra },
    out: () => out,
    err: () => err,
  };
}

const utf16 = (s: string): Uint8Array => new Uint8Array(Buffer.from(`${s}\0`, 'utf16le'));

// The CLI builds paths with node:path and names the host fltsim-host.exe on Windows (the
// Wine lane's Windows build of fltsim); on POSIX the expectations stay literal.
const onWindows = process.platform === 'win32';
const posixOr = (posix: string, windows: () => string): string => (onWindows ? windows() : posix);

describe('fltport CLI', () => {
  it('prints usage for --help (0) and without a command (2); unknown commands are usage errors', async () => {
    const a = capture();
    expect(await main(['--help'], a.io)).toBe(EXIT.ok);
    expect(a.out()).toContain('usage: fltport <command>');
    expect(a.out()).toContain('exit codes: 0 ok, 1 failure, 2 usage, 3 not found');
    const b = capture();
    expect(await main([], b.io)).toBe(EXIT.usage);
    const c = capture();
    expect(await main(['frobnicate'], c.io)).toBe(2);
    expect(c.err()).toContain('unknown command "frobnicate"');
    const d = capture();
    expect(await main(['listen', '\\P', '--bogus'], d.io)).toBe(2);
    expect(d.err()).toContain("Unknown option '--bogus'");
  });

  it('previews payloads as hex and UTF-16', () => {
    expect(hexPreview(new Uint8Array([1, 0xab, 0]))).toBe('01 ab 00');
    expect(hexPreview(new Uint8Array(40), 4)).toBe('00 00 00 00 …');
    expect(utf16Preview(utf16('C:\\x.txt'))).toBe('C:\\x.txt');
    expect(utf16Preview(new Uint8Array([1, 2, 3, 4]))).toBe('');
  });

  it('listen prints messages and answers with --reply and --status', async () => {
    const binding = new FakeBinding();
    const c = capture({ binding });
    const run = main(['listen', '\\FltportSample', '--reply', '01', '--status', '0xC0000022', '--count', '2'], c.io);
    await vi.waitFor(() => expect(binding.ports).toHaveLength(1));
    binding.lastPort.post({ payload: utf16('AB'), replyCapacity: 4, id: 1n }, { payload: new Uint8Array([7]), id: 2n });
    expect(await run).toBe(0);
    expect(c.out()).toBe('#1 replyLength=20 6 bytes  41 00 42 00 00 00  "AB"\n#2 replyLength=0 1 bytes  07\n');
    expect(binding.lastPort.replies).toEqual([{ token: 1, messageId: 1n, status: 0xc0000022 | 0, payload: new Uint8Array([1]) }]);
    expect(binding.lastPort.closeCalls).toBe(1);
    expect(c.err()).toContain('2 received, 1 replied, 0 late');
  });

  it('listen decodes with --codec and prints JSON with --json', async () => {
    const binding = new FakeBinding();
    const importModule = vi.fn(async () => ({ default: { message: { decode: (b: Uint8Array) => ({ pid: b[0], big: 5n }) } } }));
    const c = capture({ binding, importModule, cwd: '/work' });
    const run = main(['listen', '\\P', '--codec', './codecs.js', '--json', '--count', '1'], c.io);
    await vi.waitFor(() => expect(binding.ports).toHaveLength(1));
    binding.lastPort.post({ payload: new Uint8Array([9, 1]), replyCapacity: 1, id: 77n });
    expect(await run).toBe(0);
    expect(importModule).toHaveBeenCalledWith(posixOr('file:///work/codecs.js', () => pathToFileURL(resolve('/work', 'codecs.js')).href));
    expect(JSON.parse(c.out())).toEqual({ id: '77', replyLength: 17, size: 2, hex: '0901', body: { pid: 9, big: '5' } });
    expect(c.err()).toContain('not answered');
  });

  it('listen stops cleanly on its signal (Ctrl-C)', async () => {
    const binding = new FakeBinding();
    const ac = new AbortController();
    const c = capture({ binding, signal: ac.signal });
    const run = main(['listen', '\\P'], c.io);
    await vi.waitFor(() => expect(binding.ports).toHaveLength(1));
    ac.abort();
    expect(await run).toBe(0);
    expect(binding.lastPort.closeCalls).toBe(1);
  });

  it('prints the code and HRESULT of a failure and exits with its exit code', async () => {
    const binding = new FakeBinding();
    binding.knownPorts = new Set();
    const c = capture({ binding });
    expect(await main(['listen', '\\Missing'], c.io)).toBe(EXIT.notFound);
    expect(c.err()).toMatch(/^fltport: FLTPORT_NOT_FOUND \(HRESULT 0x80070002 \(ERROR_FILE_NOT_FOUND\), NTSTATUS 0xC0000034 STATUS_OBJECT_NAME_NOT_FOUND\): connect\(\\Missing\)/);
    const d = capture({ binding: new FakeBinding() });
    expect(await main(['listen', 'Missing'], d.io)).toBe(EXIT.usage);
    expect(d.err()).toContain('FLTPORT_INVALID_ARGUMENT');
    const sim = new FakeBinding();
    // ECONNREFUSED in the host's numbering (111 on Linux), as the fltsim transport reports it.
    sim.connectPlan.push({ origin: 'errno', errno: constants.errno.ECONNREFUSED, hresult: 0x80004005, syscall: 'connect', detail: '' });
    const e = capture({ binding: sim });
    expect(await main(['send', '\\P', '00'], e.io)).toBe(EXIT.simulatorUnavailable);
  });

  it('send passes hex or @file bytes and prints what the driver returned', async () => {
    const binding = new FakeBinding();
    const sends: Array<[Uint8Array | null, number]> = [];
    const origConnect = binding.connect.bind(binding);
    binding.connect = async (...a) => {
      const p = (await origConnect(...a)) as import('../helpers/fake-binding.js').FakePort;
      p.sendHandler = async (input, cap) => {
        sends.push([input, cap]);
        return { bytes: new Uint8Array([0xca, 0xfe, 0, 0]), returned: 2 };
      };
      return p;
    };
    const c = capture({ binding });
    expect(await main(['send', '\\P', 'de ad', '--reply-capacity', '8'], c.io)).toBe(0);
    expect(c.out()).toBe('2 bytes returned: ca fe\n');
    const d = capture({ binding, readFile: () => new Uint8Array([1, 2, 3]), cwd: '/data' });
    expect(await main(['send', '\\P', '@msg.bin'], d.io)).toBe(0);
    expect(sends).toEqual([
      [new Uint8Array([0xde, 0xad]), 8],
      [new Uint8Array([1, 2, 3]), 4096],
    ]);
    const e = capture({ binding });
    expect(await main(['send', '\\P', 'xyz'], e.io)).toBe(EXIT.usage);
    expect(e.err()).toContain('data must be hex bytes');
  });

  it('filters prints tables of filters, instances and volumes', async () => {
    const binding = new FakeBinding();
    binding.filters = [{ name: 'FltportSample', altitude: '370030', instanceCount: 2, frameId: 0, legacy: false }];
    binding.volumes = [{ name: '\\Device\\HarddiskVolume3', dosName: 'C:', frameId: 0, filesystemType: 2 }];
    const a = capture({ binding });
    expect(await main(['filters'], a.io)).toBe(0);
    expect(a.out()).toBe(
      'Filter Name    Num Instances  Altitude  Frame\n' +
        '-------------  -------------  --------  -----\n' +
        'FltportSample  2              370030    0\n',
    );
    const b = capture({ binding });
    expect(await main(['filters', '--volumes'], b.io)).toBe(0);
    expect(b.out()).toContain('C:        \\Device\\HarddiskVolume3  ntfs');
    const c = capture({ binding });
    expect(await main(['filters', '--instances', 'Nope'], c.io)).toBe(EXIT.notFound);
    expect(c.err()).toContain('0x801F0013 (ERROR_FLT_FILTER_NOT_FOUND)');
  });

  it('sim starts the built host with the runtime directory, prints the socket and stops it on abort', async () => {
    const ac = new AbortController();
    const child = Object.assign(new EventEmitter(), {
      pid: 4242,
      kill: vi.fn((sig: string) => {
        queueMicrotask(() => child.emit('exit', null, sig));
        return true;
      }),
    });
    const spawn = vi.fn(() => child as never);
    const hostPath = posixOr('/pkg/build/Release/fltsim-host', () => join('/pkg', 'build', 'Release', 'fltsim-host.exe'));
    const c = capture({
      spawn,
      signal: ac.signal,
      packageRoot: '/pkg',
      env: { PATH: '/bin' },
      exists: (p) => p === hostPath,
    });
    const run = main(['sim', '--runtime-dir', '/run/sim', '--', '--verbose'], c.io);
    await vi.waitFor(() => expect(spawn).toHaveBeenCalled());
    expect(spawn).toHaveBeenCalledWith(hostPath, ['--runtime-dir', '/run/sim', '--verbose'], {
      env: { PATH: '/bin', FLTSIM_RUNTIME_DIR: '/run/sim' },
      stdio: 'inherit',
    });
    expect(c.out()).toContain(`socket: ${posixOr('/run/sim/fltsim.sock', () => join('/run/sim', 'fltsim.sock'))}`);
    ac.abort();
    expect(await run).toBe(0);
    expect(child.kill).toHaveBeenCalledWith('SIGTERM');
  });

  it('sim explains a missing host build', async () => {
    const c = capture({ packageRoot: '/pkg', exists: () => false });
    expect(await main(['sim'], c.io)).toBe(EXIT.failure);
    expect(c.err()).toContain('fltsim-host is not built');
    expect(simRuntimeDir(undefined, { XDG_RUNTIME_DIR: '/run/user/1' })).toBe(posixOr('/run/user/1/fltsim', () => join('/run/user/1', 'fltsim')));
    expect(simRuntimeDir(undefined, { FLTSIM_RUNTIME_DIR: '/x', XDG_RUNTIME_DIR: '/y' })).toBe('/x');
  });

  it('codegen generates codecs from a header', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fltport-cli-'));
    try {
      const header = join(dir, 'msg.h');
      writeFileSync(header, 'typedef struct _NOTE { unsigned long Pid; unsigned short Len; } NOTE;\n');
      const c = capture();
      expect(await main(['codegen', header], c.io)).toBe(0);
      expect(c.out()).toContain('export const NOTE');
      const d = capture();
      expect(await main(['codegen'], d.io)).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
