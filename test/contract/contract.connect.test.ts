// Contract: connect rules (spec §2, §9.3 rows 9-10, the sample's ConnectNotify table).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, ConnectionLimitError, FltportError, PortNotFoundError, type Port } from '../../lib/index.js';
import { CONTROL, connectContext, DriverControl, P, SCANNER } from '../helpers/contract-driver.js';
import { type ContractTarget, contractTargetName, only, startContractTarget } from '../helpers/contract-target.js';

const name = contractTargetName();
let target: ContractTarget;
let control: DriverControl;
const opened: Port[] = [];

beforeAll(async () => {
  target = await startContractTarget();
  control = await DriverControl.open(target);
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(opened.map((p) => p.close()));
  await control?.close();
  await target?.stop();
});

async function open(port: string, context?: Uint8Array): Promise<Port> {
  const p = await connect(port, { ...target.connectOptions, ...(context ? { context } : {}) });
  p.unref();
  opened.push(p);
  return p;
}

async function connectError(port: string, context?: Uint8Array): Promise<FltportError> {
  try {
    const p = await open(port, context);
    await p.close();
  } catch (e) {
    expect(e).toBeInstanceOf(FltportError);
    return e as FltportError;
  }
  throw new Error(`connect to ${port} succeeded, expected a failure`);
}

/** FNV-1a (32-bit) as the driver hashes connection contexts. */
function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 0;
}

describe(`connect rules [${name}]`, () => {
  it('an unknown port name: PortNotFoundError 0x80070002', async () => {
    const e = await connectError('\\FltportSampleNoSuchPort', connectContext(SCANNER));
    expect(e).toBeInstanceOf(PortNotFoundError);
    expect(e.code).toBe('FLTPORT_NOT_FOUND');
    expect(e.hresult).toBe(0x80070002);
  });

  // The sample's ConnectNotify table (samples/minifilter/README.md, "Connecting").
  const refusals: [string, Uint8Array | undefined, number, number][] = [
    ['no context', undefined, 0x80070057, 0xc00000f1],
    ['a 15-byte context', connectContext(SCANNER).subarray(0, 15), 0x80070057, 0xc00000f1],
    ['wrong magic', connectContext(SCANNER, { Magic: 0x12345678 }), 0x80070057, 0xc00000f1],
    ['version 2', connectContext(SCANNER, { Version: 2 }), 0x8007051a, 0xc0000059],
    ['an unknown flag bit', connectContext(SCANNER, { Flags: 0x2 }), 0x80070057, 0xc00000f1],
    ['Reserved != 0', connectContext(SCANNER, { Reserved: 1 }), 0x80070057, 0xc00000f1],
    ['an unknown role', connectContext(SCANNER, { Role: 9 }), 0x80070057, 0xc00000f1],
    ['role control on the scan port', connectContext(CONTROL), 0x80070032, 0xc00000bb],
  ];
  for (const [what, context, hresult, ntstatus] of refusals) {
    const title = `scan port refuses ${what}: HRESULT 0x${hresult.toString(16).toUpperCase()}, LastConnectRejectStatus 0x${ntstatus.toString(16).toUpperCase()}`;
    it(title, async () => {
      const before = await control.getStats();
      const e = await connectError(P.FPS_SCAN_PORT_NAME, context);
      const after = await control.getStats();
      expect(after.LastConnectRejectStatus >>> 0).toBe(ntstatus);
      expect(after.Counters[P.FPS_COUNTER.FpsCounterConnectRejected]).toBe(before.Counters[P.FPS_COUNTER.FpsCounterConnectRejected]! + 1n);
      expect(after.ScannerConnections).toBe(before.ScannerConnections);
      expect(e.hresult).toBe(hresult);
    });
  }

  it('the scan port admits 4 scanners; the 5th gets ConnectionLimitError 0x800704D4 and no ConnectNotify', async () => {
    const ports = [];
    for (let i = 0; i < 4; i++) ports.push(await open(P.FPS_SCAN_PORT_NAME, connectContext(SCANNER)));
    const before = await control.getStats();
    expect(before.ScannerConnections).toBe(4);
    const e = await connectError(P.FPS_SCAN_PORT_NAME, connectContext(SCANNER));
    expect(e).toBeInstanceOf(ConnectionLimitError);
    expect(e.hresult).toBe(0x800704d4);
    const after = await control.getStats();
    // Refused by the Filter Manager before ConnectNotify: the driver counted nothing.
    expect(after.Counters[P.FPS_COUNTER.FpsCounterConnectRejected]).toBe(before.Counters[P.FPS_COUNTER.FpsCounterConnectRejected]);
    expect(after.Counters[P.FPS_COUNTER.FpsCounterConnectAccepted]).toBe(before.Counters[P.FPS_COUNTER.FpsCounterConnectAccepted]);
    await Promise.all(ports.map((p) => p.close()));
    // A freed slot is usable again.
    const again = await open(P.FPS_SCAN_PORT_NAME, connectContext(SCANNER));
    await again.close();
  });

  it('§9.3 row 9: a test port with MaxConnections 1 refuses the second connect (0x800704D4); ListConnections shows one', async () => {
    const portName = `${P.FPS_TEST_PORT_PREFIX}Limit`;
    const portId = await control.createPort({ name: portName, MaxConnections: 1 });
    const first = await open(portName, new Uint8Array([1, 2, 3]));
    const e = await connectError(portName, new Uint8Array([4, 5, 6]));
    expect(e).toBeInstanceOf(ConnectionLimitError);
    expect(e.hresult).toBe(0x800704d4);
    const onPort = (await control.listConnections()).filter((c) => c.PortId === portId);
    expect(onPort).toHaveLength(1);
    expect(onPort[0]!.ContextSize).toBe(3);
    expect(onPort[0]!.ContextHash >>> 0).toBe(fnv1a(new Uint8Array([1, 2, 3])));
    await first.close();
    await control.closePort(portId, P.FPS_TPORT_CLOSE_CLIENTS);
  });

  it('the driver\'s own bound: past 64 connections across all ports ConnectNotify refuses with STATUS_CONNECTION_COUNT_LIMIT (0x800704D4, counted)', async () => {
    const portName = `${P.FPS_TEST_PORT_PREFIX}Many`;
    const portId = await control.createPort({ name: portName, MaxConnections: 100 });
    const existing = (await control.listConnections()).length;
    const ports: Port[] = [];
    try {
      for (let i = existing; i < 64; i++) ports.push(await open(portName, new Uint8Array([i])));
      expect((await control.listConnections()).length).toBe(64);
      const before = await control.getStats();
      const e = await connectError(portName, new Uint8Array([99]));
      expect(e).toBeInstanceOf(ConnectionLimitError);
      expect(e.hresult).toBe(0x800704d4);
      const after = await control.getStats();
      // Unlike a port's MaxConnections, this refusal comes from ConnectNotify: it is counted.
      expect(after.LastConnectRejectStatus >>> 0).toBe(0xc0000246);
      expect(after.Counters[P.FPS_COUNTER.FpsCounterConnectRejected]).toBe(before.Counters[P.FPS_COUNTER.FpsCounterConnectRejected]! + 1n);
    } finally {
      await Promise.all(ports.map((p) => p.close()));
      await control.closePort(portId, P.FPS_TPORT_CLOSE_CLIENTS);
    }
  });

  it('§9.3 row 10: ConnectNotify returning STATUS_INVALID_PARAMETER_3 → 0x80070057, no connection recorded', async () => {
    const portName = `${P.FPS_TEST_PORT_PREFIX}Refuse`;
    const portId = await control.createPort({ name: portName, MaxConnections: 4, ConnectStatus: 0xc00000f1 | 0 });
    const e = await connectError(portName, new Uint8Array(8));
    expect(e.hresult).toBe(0x80070057);
    expect((await control.listConnections()).filter((c) => c.PortId === portId)).toHaveLength(0);
    await control.closePort(portId);
  });

  it('§2.1: a 65 511-byte context reaches ConnectNotify whole (size and FNV-1a hash)', async () => {
    const portName = `${P.FPS_TEST_PORT_PREFIX}BigCtx`;
    const portId = await control.createPort({ name: portName, MaxConnections: 1 });
    const context = new Uint8Array(65_511);
    for (let i = 0; i < context.length; i++) context[i] = (i * 7 + 3) & 0xff;
    const p = await open(portName, context);
    const onPort = (await control.listConnections()).filter((c) => c.PortId === portId);
    expect(onPort).toHaveLength(1);
    expect(onPort[0]!.ContextSize).toBe(65_511);
    expect(onPort[0]!.ContextHash >>> 0).toBe(fnv1a(context));
    await p.close();
    await control.closePort(portId, P.FPS_TPORT_CLOSE_CLIENTS);
  });

  it('a server port closed (TestScanPort Close): new connects 0x80070002, the existing connection keeps working', async () => {
    const scanner = await open(P.FPS_SCAN_PORT_NAME, connectContext(SCANNER));
    await control.scanPort(P.FPS_PORT_ACTION.FpsPortClose);
    try {
      const e = await connectError(P.FPS_SCAN_PORT_NAME, connectContext(SCANNER));
      expect(e.hresult).toBe(0x80070002);
      // FilterSendMessage on the old connection still reaches MessageNotify (GET_STATS).
      const stats = await control.getStats(scanner);
      expect(stats.Features & P.FPS_FEATURE_SCAN_PORT_OPEN).toBe(0);
      expect(stats.ScannerConnections).toBe(1);
    } finally {
      await control.scanPort(P.FPS_PORT_ACTION.FpsPortOpen);
    }
    const again = await open(P.FPS_SCAN_PORT_NAME, connectContext(SCANNER));
    await Promise.all([again.close(), scanner.close()]);
  });

  const [skipSystemOnly, systemOnlyNote] = only(name, ['driver'], 'fltsim has no SYSTEM principal (FpsSecuritySystemOnly is STATUS_NOT_SUPPORTED there)');
  it.skipIf(skipSystemOnly)(`§7.4 access denied: a SYSTEM-only test port refuses an elevated caller with 0x80070005${systemOnlyNote}`, async () => {
    const portName = `${P.FPS_TEST_PORT_PREFIX}SysOnly`;
    const portId = await control.createPort({ name: portName, MaxConnections: 1, SecurityMode: P.FPS_SECURITY_MODE.FpsSecuritySystemOnly });
    const e = await connectError(portName, new Uint8Array(4));
    expect(e.code).toBe('FLTPORT_ACCESS_DENIED');
    expect(e.hresult).toBe(0x80070005);
    await control.closePort(portId);
  });

  const skipOtherUser = name !== 'fltsim' || process.getuid?.() !== 0;
  it.skipIf(skipOtherUser)(
    `§7.4 access denied: uid 65534 connecting to the scan port gets AccessDeniedError 0x80070005${skipOtherUser ? ` [skipped on ${name}: needs fltsim and root to spawn as uid 65534]` : ''}`,
    async () => {
      const result = await connectAsNobody(target.connectOptions.simRuntimeDir!, P.FPS_SCAN_PORT_NAME, connectContext(SCANNER));
      expect(result).toEqual({ ok: false, code: 'FLTPORT_ACCESS_DENIED', hresult: 0x80070005 });
    },
    120_000,
  );
});

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Compiles lib/ with tsc into a world-readable directory and connects from uid/gid 65534. */
async function connectAsNobody(runtimeDir: string, port: string, context: Uint8Array): Promise<unknown> {
  const out = mkdtempSync(join(tmpdir(), 'fltport-contract-nobody-'));
  try {
    chmodSync(out, 0o755);
    const tsc = join(root, 'node_modules', '.bin', 'tsc');
    const r = spawnSync(tsc, ['-p', join(root, 'tsconfig.json'), '--outDir', join(out, 'dist'), '--declaration', 'false', '--declarationMap', 'false', '--sourceMap', 'false'], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tsc: ${r.stdout}${r.stderr}`);
    writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
    writeFileSync(
      join(out, 'child.mjs'),
      `import { connect } from './dist/index.js';
const [runtimeDir, port, hex] = process.argv.slice(2);
try {
  const p = await connect(port, { simRuntimeDir: runtimeDir, context: Buffer.from(hex, 'hex') });
  await p.close();
  console.log(JSON.stringify({ ok: true }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, code: e.code, hresult: e.hresult }));
}
`,
    );
    const child = spawn(process.execPath, [join(out, 'child.mjs'), runtimeDir, port, Buffer.from(context).toString('hex')], {
      uid: 65534,
      gid: 65534,
      cwd: tmpdir(),
      env: { ...process.env, FLTPORT_ADDON_PATH: join(root, 'build', 'Release', 'fltport.node') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    if (code !== 0) throw new Error(`child exited ${code}: ${stderr}`);
    return JSON.parse(stdout);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
