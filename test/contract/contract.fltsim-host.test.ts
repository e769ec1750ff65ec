// Contract, fltsim only: what only a simulator can do to the driver side — unload the filter
// through the host's control channel, kill the host, start it again (reconnect). Skipped with
// the reason on other targets (on Windows: `fltmc unload FltportSample` by hand).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, DisconnectedError, Mailslot, PortNotFoundError, type Port, SimulatorUnavailableError } from '../../lib/index.js';
import { connectContext, DriverControl, P, SCANNER } from '../helpers/contract-driver.js';
import { startFltsimSample } from '../helpers/contract-fltsim.js';
import { contractTargetName } from '../helpers/contract-target.js';
import { SimControl } from '../helpers/sim-control.js';

const name = contractTargetName();
const skip = name !== 'fltsim';
const note = skip ? ` [skipped on ${name}: needs fltsim's host control channel (unload, kill, restart)]` : '';
const cleanup: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f().catch(() => {});
});

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe.skipIf(skip)(`fltsim host faults${note}`, () => {
  it('unload: connected clients see DisconnectedError 0x80070006, the ports and the mailslot are gone', async () => {
    const target = await startFltsimSample();
    cleanup.push(() => target.stop());
    const sim = await SimControl.open(target.socketPath!);
    cleanup.push(async () => sim.close());
    const port = await connect(P.FPS_SCAN_PORT_NAME, { ...target.connectOptions, context: connectContext(SCANNER) });
    cleanup.push(() => port.close());
    const it = port.messages()[Symbol.asyncIterator]();
    // Handled from the start: the rejection arrives while the test awaits something else.
    const pending = rejection(it.next());
    await sim.ok('unload', { mandatory: 1 });
    const e = await pending;
    expect(e).toBeInstanceOf(DisconnectedError);
    expect(e).toMatchObject({ hresult: 0x80070006, reason: 'disconnected' });
    const e2 = await rejection(connect(P.FPS_SCAN_PORT_NAME, { ...target.connectOptions, context: connectContext(SCANNER) }));
    expect(e2).toBeInstanceOf(PortNotFoundError);
    expect(e2).toMatchObject({ hresult: 0x80070002 });
    const e3 = await rejection(Mailslot.write(P.FPS_MAILSLOT_WIN32_NAME, new Uint8Array([1]), target.mailslotOptions));
    expect(e3).toMatchObject({ code: 'FLTPORT_NOT_FOUND', hresult: 0x80070002 });
  });

  it('a killed host: the iterator fails (DisconnectedError, reason failed); connect says SimulatorUnavailableError', async () => {
    const target = await startFltsimSample();
    cleanup.push(() => target.stop());
    const port = await connect(P.FPS_SCAN_PORT_NAME, { ...target.connectOptions, context: connectContext(SCANNER) });
    cleanup.push(() => port.close());
    const it = port.messages()[Symbol.asyncIterator]();
    const pending = rejection(it.next());
    target.host.child.kill('SIGKILL');
    await target.host.exited;
    const e = await pending;
    expect(e).toBeInstanceOf(DisconnectedError);
    expect((e as DisconnectedError).reason).toBe('failed');
    const e2 = await rejection(connect(P.FPS_SCAN_PORT_NAME, { ...target.connectOptions, context: connectContext(SCANNER) }));
    expect(e2).toBeInstanceOf(SimulatorUnavailableError);
  });

  it('reconnect: the driver comes back (host restarted in the same runtime directory) and the same iterator continues on a new connection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fltport-contract-reconnect-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    let target = await startFltsimSample({ runtimeDir: dir });
    cleanup.push(() => target.stop());
    const port: Port = await connect(P.FPS_SCAN_PORT_NAME, {
      simRuntimeDir: dir,
      context: connectContext(SCANNER, { Flags: P.FPS_CONNECTF_NO_NOTIFY }),
      reconnect: { initialDelay: 50, maxDelay: 200, maxAttempts: 100 },
    });
    cleanup.push(() => port.close());
    const it = port.messages()[Symbol.asyncIterator]();
    await target.stop();
    target = await startFltsimSample({ runtimeDir: dir });
    cleanup.push(() => target.stop());
    const control = await DriverControl.open(target);
    cleanup.push(() => control.close());
    // Wait until the port reconnected, then have the new driver send to it. (port.connection
    // counts connect attempts, failed ones included, so it is > 1 but not necessarily 2.)
    for (let i = 0; i < 100 && !(port.state === 'open' && port.stats().reconnects === 1); i++) await new Promise((r) => setTimeout(r, 50));
    expect(port.state).toBe('open');
    expect(port.connection).toBeGreaterThan(1);
    expect((await control.getStats()).ScannerConnections).toBe(1);
    const run = await control.testSend({ PayloadSize: 32, ReplyCapacity: 4 });
    const r = await it.next();
    expect(r.done).toBe(false);
    expect(r.value!.connection).toBe(port.connection);
    expect(r.value!.id).toBe(1n);
    await r.value!.replyBytes(new Uint8Array(4));
    expect((await control.getResults(run.RunId)).records[0]!.Status).toBe(0);
    expect(port.stats().reconnects).toBe(1);
  });
});
