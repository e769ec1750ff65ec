// How a process or a Worker ends with ports open (forked children; the host is a scripted
// wire peer in this process, see stub-host.ts). Each test asserts the exit code, what the
// child printed, and what the host saw: a CANCEL proves the port was closed by fltport
// (cleanup hook, finalizer), not merely dropped by the OS when the process died.
//
// The stub host speaks fltsim's wire over a Unix socket, so everything that needs it runs with
// the fltsim backend only; with the win32 backend (fltlib.dll, no driver loaded) only the
// failed connect runs, against the real fltlib.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backend, MISSING_PORT, missingPortFailure, skipUnlessFltsim } from '../helpers/backend.js';
import { runFixture, startFixture } from './child.js';
import { StubHost } from './stub-host.js';

const skipStub = skipUnlessFltsim(
  'lifecycle.port (every test but "a failed connect releases everything")',
  'needs a port or mailslot served by the stub host, which speaks fltsim\'s wire over a Unix socket; fltlib.dll has no driver to connect to here',
);

// Only with the fltsim backend: the tests that use `host` skip on any other.
let host!: StubHost;
beforeEach(async () => {
  if (backend === 'fltsim') host = await StubHost.start();
});
afterEach(async () => {
  if (backend === 'fltsim') await host.close();
});

const env = () => ({ FLTSIM_RUNTIME_DIR: host.dir });

describe.skipIf(skipStub)('process exit with an open port', () => {
  it('an unreferenced port lets the process exit by itself; the cleanup hook closes it', async () => {
    const child = startFixture('open-port.mjs', { args: ['unref-exit'], env: env(), timeoutMs: 10_000 });
    const conn = await host.connection(0, 1);
    conn.deliver(Buffer.from('one'));
    const out = await child.exited;
    expect(out.timedOut).toBe(false);
    expect(out.signal).toBeNull();
    expect(out.code).toBe(0);
    expect(out.results).toEqual([{ phase: 'connected' }, { phase: 'batch', messageCount: 1 }]);
    await conn.ended;
    // Close() ran at teardown (cancel + drain), rather than the OS dropping the socket.
    expect(conn.cancels).toBe(1);
  });

  it('process.exit() with a referenced port exits with its code and no crash', async () => {
    const child = startFixture('open-port.mjs', { args: ['process-exit'], env: env(), timeoutMs: 10_000 });
    const conn = await host.connection(0, 1);
    conn.deliver(Buffer.from('one'));
    const out = await child.exited;
    expect(out.timedOut).toBe(false);
    expect(out.signal).toBeNull();
    expect(out.code).toBe(3);
    expect(out.stderr).toBe('');
    await conn.ended;
  });

  it.each(['ref-stays', 'unref-ref'])(
    '%s: a referenced port keeps the process alive until the driver disconnects',
    async (mode) => {
      const child = startFixture('open-port.mjs', { args: [mode], env: env(), timeoutMs: 15_000 });
      const conn = await host.connection(0, 1);
      await child.result((r) => r.phase === 'connected');
      await new Promise((r) => setTimeout(r, 1_500));
      expect(child.alive()).toBe(true);
      const disconnectedAt = performance.now();
      conn.disconnect();
      const out = await child.exited;
      expect(out.timedOut).toBe(false);
      expect(out.code).toBe(0);
      // Once JS was told, nothing holds the loop: the exit follows the stop promptly.
      expect(performance.now() - disconnectedAt).toBeLessThan(5_000);
      expect(out.results).toEqual([
        { phase: 'connected' },
        { phase: 'stopped', reason: 'disconnected', error: expect.objectContaining({ ntstatus: 0xc0000037 }) },
      ]);
    },
  );
});

describe.skipIf(skipStub)('mailslots', () => {
  it('an unreferenced mailslot with a read pending lets the process exit; cleanup closes it', async () => {
    const child = startFixture('open-mailslot.mjs', { args: ['unref-exit'], env: env(), timeoutMs: 10_000 });
    const slot = await host.mailslot('\\\\.\\mailslot\\fltport\\life');
    const out = await child.exited;
    expect(out.timedOut).toBe(false);
    expect(out.code).toBe(0);
    expect(out.results).toEqual([{ phase: 'created' }]);
    await slot.ended;
    expect(slot.cancels).toBe(1);
  });

  it('a referenced mailslot keeps the process alive', async () => {
    const child = startFixture('open-mailslot.mjs', { args: ['ref-stays'], env: env(), timeoutMs: 5_000 });
    await child.result((r) => r.phase === 'created');
    const out = await child.exited;
    // Killed at its bound: nothing but the mailslot kept it running.
    expect(out.timedOut).toBe(true);
    expect(out.signal).toBe('SIGKILL');
    expect(out.results).toEqual([{ phase: 'created' }]);
  });
});

describe.skipIf(skipStub)('garbage collection', () => {
  it('closes an unreachable, unclosed port; onStopped still runs and the process exits', async () => {
    const child = startFixture('gc-port.mjs', { execArgv: ['--expose-gc'], env: env(), timeoutMs: 15_000 });
    const conn = await host.connection(0, 1);
    const out = await child.exited;
    expect(out.timedOut).toBe(false);
    expect(out.code).toBe(0);
    expect(out.results).toEqual([
      { phase: 'connected' },
      { phase: 'done', stopped: { reason: 'closed', error: null }, collected: true },
    ]);
    await conn.ended;
    expect(conn.cancels).toBe(1);
  });
});

describe.skipIf(skipStub)('worker_threads', () => {
  it.each([
    ['terminate', 1],
    ['unref-end', 0],
    ['worker-exit', 5],
  ])('%s: the Worker ends with its port open; the cleanup hook closes it', async (mode, workerCode) => {
    const child = startFixture('worker-port.mjs', { args: [mode], env: env(), timeoutMs: 15_000 });
    const conn = await host.connection(0, 1);
    conn.deliver(Buffer.from('to the worker'));
    const out = await child.exited;
    expect(out.timedOut).toBe(false);
    expect(out.signal).toBeNull();
    expect(out.code).toBe(0);
    expect(out.results).toEqual([{ phase: 'worker-exited', code: workerCode, gotBatch: true }]);
    await conn.ended;
    expect(conn.cancels).toBe(1);
  });

  it('frees batches still queued when a Worker is terminated (no growth over rounds)', async () => {
    await host.close();
    const size = 4 << 20;
    host = await StubHost.start({ autoDeliver: { size, count: 64 } });
    const rounds = 8;
    const out = await runFixture('worker-port.mjs', { args: ['flood', String(rounds)], env: env(), timeoutMs: 60_000 });
    expect(out.timedOut).toBe(false);
    expect(out.code).toBe(0);
    const flooded = out.results.find((r) => r.phase === 'flooded')!;
    expect(flooded.rounds).toBe(rounds);
    // Every round put (concurrency + highWaterMark) messages of 4 MiB in flight.
    expect(host.connections).toHaveLength(rounds);
    for (const c of host.connections) expect(c.delivered).toBeGreaterThanOrEqual(4);
    const inFlightPerRound = Math.min(...host.connections.map((c) => c.delivered)) * size;
    // Growth is measured over the rounds after the two warm-up ones; leaking the queued
    // batches would add about one round's in-flight bytes per round. Allow half of that.
    expect(flooded.growth as number).toBeLessThan(((rounds - 2) * inFlightPerRound) / 2);
  }, 90_000);
});

describe('connect', () => {
  it.skipIf(skipStub)('holds batches that complete before connect() settles, then flushes them in order', async () => {
    await host.close();
    host = await StubHost.start({ autoDeliver: { size: 24, count: 6 } });
    for (let round = 0; round < 3; round++) {
      const out = await runFixture('early-batches.mjs', { env: env(), timeoutMs: 10_000 });
      expect(out.code).toBe(0);
      expect(out.results).toEqual([{ early: 0, ids: ['1', '2', '3', '4', '5', '6'] }]);
    }
  });

  it('a failed connect releases everything: the process exits by itself at once', async () => {
    // fltsim: no host in an empty runtime directory; win32: fltlib.dll finds no such port.
    const empty = mkdtempSync(join(tmpdir(), 'fltport-nohost-'));
    try {
      const out = await runFixture('connect-fail.mjs', { args: [MISSING_PORT], env: { FLTSIM_RUNTIME_DIR: empty }, timeoutMs: 10_000 });
      expect(out.timedOut).toBe(false);
      expect(out.code).toBe(0);
      expect(out.elapsedMs).toBeLessThan(8_000);
      expect(out.results).toEqual([
        { phase: 'rejected', error: expect.objectContaining({ code: 'FLTPORT_NATIVE', ...missingPortFailure() }) },
      ]);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
