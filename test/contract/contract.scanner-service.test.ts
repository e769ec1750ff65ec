// End to end on fltsim: the scanner service (samples/scanner-service) against the sample driver,
// fed by the seeded synthetic workload inside fltsim-host-sample (workload.* verbs). The verdict
// counts are exact: event i of a run is a pure function of (seed, i).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Filters } from '../../lib/index.js';
import { parseServiceArgs } from '../../samples/scanner-service/args.js';
import { type Scanner, startScanner } from '../../samples/scanner-service/service.js';
import { DriverControl, P } from '../helpers/contract-driver.js';
import { startFltsimSample } from '../helpers/contract-fltsim.js';
import { contractTargetName } from '../helpers/contract-target.js';
import { SimControl } from '../helpers/sim-control.js';

const name = contractTargetName();
const skip = name !== 'fltsim';
const note = skip ? ` [skipped on ${name}: the synthetic workload lives in fltsim-host-sample; on Windows real file I/O drives the service]` : '';

let target: Awaited<ReturnType<typeof startFltsimSample>>;
let sim: SimControl;
let control: DriverControl;
let scanner: Scanner;
const logs: string[] = [];

beforeAll(async () => {
  if (skip) return;
  target = await startFltsimSample();
  sim = await SimControl.open(target.socketPath!);
  control = await DriverControl.open(target);
  const options = parseServiceArgs(['--display', 'none', '--timeout', '5000', '--concurrency', '8', '--sim-runtime-dir', target.host.runtimeDir]);
  scanner = await startScanner(options, { write: () => {}, isTTY: false, log: (l) => logs.push(l) });
}, 120_000);

afterAll(async () => {
  scanner?.stop();
  await scanner?.done;
  sim?.close();
  await control?.close();
  await target?.stop();
});

async function until(what: string, predicate: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const num = (fields: Record<string, string>, key: string): number => Number(fields[key]);

describe.skipIf(skip)(`scanner service end to end${note}`, () => {
  it('seed 42, 600 events: every pattern-bearing event is blocked, every clean one allowed; service, workload and driver agree', async () => {
    const before = await control.getStats();
    await sim.ok('workload.start', { count: 600, seed: 42, concurrency: 4, rate: 0 });
    const w = await sim.ok('workload.status', { wait: 60_000 });
    expect(w['state']).toBe('done');

    // The seeded mix (a pure function of the seed: these numbers only change with workload.c).
    const kinds = {
      clean_text: num(w, 'kind.clean_text'),
      clean_binary: num(w, 'kind.clean_binary'),
      eicar: num(w, 'kind.eicar'),
      powershell: num(w, 'kind.powershell'),
      access_key: num(w, 'kind.access_key'),
      double_ext: num(w, 'kind.double_ext'),
    };
    expect(kinds).toEqual(EXPECTED_KINDS);
    const bad = kinds.eicar + kinds.powershell + kinds.access_key + kinds.double_ext;

    // What the driver's FpsSendScanRequest got back, per event.
    expect(w).toMatchObject({ sent: '600', no_scanner: '0', timeout: '0', disconnected: '0', bad_reply: '0', error: '0' });
    expect(num(w, 'block')).toBe(bad);
    expect(num(w, 'allow')).toBe(kinds.clean_text + kinds.clean_binary);
    for (const k of ['eicar', 'powershell', 'access_key', 'double_ext'] as const) expect(num(w, `blocked.${k}`)).toBe(kinds[k]);
    expect(num(w, 'blocked.clean_text') + num(w, 'blocked.clean_binary')).toBe(0);

    // The service's side, once the notes it wrote have made their round trip: "ping hello" and
    // one "rescan <path>" per content detection (rate-limited), each answered with a NOTIFY;
    // each rescan is a path-only scan request (fltsim has no file to read) that is allowed.
    await until('the mailslot notes to come back', () => {
      const s = scanner.snapshot();
      return s.notesSent >= 1 && s.notifies === s.notesSent && s.rescans === s.notesSent - 1;
    });
    const s = scanner.snapshot();
    expect(s.scans).toBe(600);
    expect(s.block).toBe(bad);
    expect(s.allow).toBe(kinds.clean_text + kinds.clean_binary + s.rescans);
    expect(s.byPattern).toEqual({
      'eicar-test-file': kinds.eicar,
      'encoded-powershell': kinds.powershell,
      'aws-access-key-id': kinds.access_key,
      'double-extension': kinds.double_ext,
    });
    expect(s.rescans).toBeGreaterThanOrEqual(1);
    expect(s.rescans).toBeLessThanOrEqual(kinds.eicar + kinds.powershell + kinds.access_key);
    expect(s).toMatchObject({ timeouts: 0, lateReplies: 0, handlerErrors: 0, replyErrors: 0, badRequests: 0, noteErrors: 0 });
    expect(logs).toEqual([]);

    // The driver's own counters.
    const after = await control.getStats();
    const delta = (c: number): bigint => after.Counters[c]! - before.Counters[c]!;
    expect(delta(P.FPS_COUNTER.FpsCounterScanRequests)).toBe(BigInt(600 + s.rescans));
    expect(delta(P.FPS_COUNTER.FpsCounterVerdictBlock)).toBe(BigInt(bad));
    expect(delta(P.FPS_COUNTER.FpsCounterVerdictAllow)).toBe(BigInt(kinds.clean_text + kinds.clean_binary + s.rescans));
    expect(delta(P.FPS_COUNTER.FpsCounterNoVerdictBadReply) + delta(P.FPS_COUNTER.FpsCounterNoVerdictTimeout)).toBe(0n);
    // Absolute: this host is fresh and only the service writes notes ("ping hello" came before `before`).
    expect(after.Counters[P.FPS_COUNTER.FpsCounterMailslotNotes]).toBe(BigInt(s.notesSent));
  }, 90_000);

  it('the driver is unloaded and loaded again (filters.unload/load): the service reconnects and answers the next workload', async () => {
    const filters = new Filters({ simRuntimeDir: target.host.runtimeDir });
    const [filter] = await filters.list();
    expect(filter).toBeDefined();
    await control.close();
    await filters.unload(filter!.name);
    await until('the service to notice', () => scanner.port.state === 'reconnecting');
    await filters.load(filter!.name);
    await until('the service to reconnect', () => scanner.port.state === 'open', 15_000);
    expect(scanner.snapshot().reconnects).toBe(1);
    const before = scanner.snapshot();
    await sim.ok('workload.start', { count: 50, seed: 7, concurrency: 2, rate: 0 });
    const w = await sim.ok('workload.status', { wait: 30_000 });
    expect(w).toMatchObject({ state: 'done', sent: '50', no_scanner: '0', timeout: '0', bad_reply: '0', error: '0' });
    expect(num(w, 'allow') + num(w, 'block')).toBe(50);
    const after = scanner.snapshot();
    expect(after.scans - before.scans).toBe(50);
    expect(after.block - before.block).toBe(num(w, 'block'));
    expect(after.handlerErrors + after.replyErrors).toBe(0);
  }, 60_000);
});

const EXPECTED_KINDS = { clean_text: 415, clean_binary: 62, eicar: 24, powershell: 32, access_key: 34, double_ext: 33 };
