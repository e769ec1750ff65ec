// The test driver's `send … summary=1` (docs/fltsim.md; what `npm run bench` floods with): N
// FltSendMessage calls from K driver threads, no event per call, one `send-summary` event with
// the counts and the latency percentiles when the last sender is done. The counts are asserted
// exactly against a client that sees every message (the real addon, or the wire client when
// it must not even receive), the latencies by what the timeouts force on them.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { connect, LateReplyError, type Port } from '../../lib/index.js';
import { controlLine, type SimControl } from '../helpers/sim-control.js';
import type { SimHost } from '../helpers/sim-host.js';
import { useSimHost } from '../helpers/sim-file.js';
import { SimPortClient } from '../helpers/sim-wire.js';

const MS = 1_000_000; // ns

let host: SimHost;
let ctl: SimControl;
let counter = 0;

useSimHost((h, c) => {
  host = h;
  ctl = c;
});

// Nothing the bad arguments below asked for reached a driver thread and broke it (the host's
// log is kept after it stops, whichever of the two afterAll hooks runs first).
afterAll(() => {
  expect(host.stderr()).not.toMatch(/terminate|DRIVER BUG|internal error/);
});

async function newPort(): Promise<string> {
  const name = `\\FltsimSummary${++counter}`;
  await ctl.ok('port.create', { name });
  return name;
}

/** The real addon on a fresh port: every message's index (seq=1) is recorded, and `answer` decides whether it is replied to. */
async function addonClient(answer: (index: number) => boolean): Promise<{ port: Port; conn: string; seen: number[]; done: Promise<void> }> {
  const name = await newPort();
  const port = await connect(name, { simRuntimeDir: host.runtimeDir, concurrency: 16 });
  const conn = (await ctl.event('connect', { port: name })).fields['conn'] as string;
  const seen: number[] = [];
  const done = (async () => {
    for await (const msg of port) {
      const index = Buffer.from(msg.bytes).readUInt32LE(0);
      seen.push(index);
      if (answer(index)) await msg.reply(Uint8Array.of(index & 0xff, 0xa5));
    }
  })();
  await ctl.ok('conn.wait', { id: conn, min_gets: 16 });
  return { port, conn, seen, done };
}

type Summary = Record<string, string>;

/** `send … summary=1`; the result line and the summary event it announces. */
async function flood(args: Record<string, string | number>): Promise<{ first: number; summary: Summary }> {
  const r = await ctl.ok('send', { size: 16, seq: 1, reply: 8, summary: 1, ...args });
  const summary = (await ctl.event('send-summary', { first: r['first'] as string }, 60_000)).fields;
  expect(r['count']).toBe(String(args['count']));
  return { first: Number(r['first']), summary };
}

/** Every field is a decimal integer and the percentiles are in order. */
function expectWellFormed(s: Summary): void {
  for (const k of ['first', 'conn', 'count', 'failed', 'timeouts', 'elapsed_ns', 'mean_ns', 'p50_ns', 'p99_ns', 'p999_ns', 'max_ns']) {
    expect(s[k], k).toMatch(/^\d+$/);
  }
  const n = (k: string): number => Number(s[k]);
  expect(n('p50_ns')).toBeLessThanOrEqual(n('p99_ns'));
  expect(n('p99_ns')).toBeLessThanOrEqual(n('p999_ns'));
  expect(n('p999_ns')).toBeLessThanOrEqual(n('max_ns'));
  expect(n('mean_ns')).toBeLessThanOrEqual(n('max_ns'));
  expect(n('max_ns')).toBeLessThanOrEqual(n('elapsed_ns'));
  expect(n('timeouts')).toBeLessThanOrEqual(n('failed'));
  expect(n('failed')).toBeLessThanOrEqual(n('count'));
}

/** `send` events (one per call without summary=1) with ids in [first, first + count). */
function perSendEvents(first: number, count: number): number {
  return ctl.seen('send').filter((e) => Number(e.fields['id']) >= first && Number(e.fields['id']) < first + count).length;
}

describe('send summary=1 counts every outcome exactly', () => {
  it('a client that replies to all: count=N, failed=0, timeouts=0; each message delivered once; no per-send events', async () => {
    const c = await addonClient(() => true);
    const { first, summary } = await flood({ conn: c.conn, count: 300, concurrency: 8, timeout: 10_000 });
    expectWellFormed(summary);
    expect(summary).toMatchObject({ conn: c.conn, first: String(first), count: '300', failed: '0', timeouts: '0' });
    expect(c.seen.toSorted((a, b) => a - b)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    // The last sender returns when the host takes the reply; the addon counts it when the
    // host's answer to the reply comes back.
    await vi.waitFor(() => expect(c.port.stats()).toMatchObject({ received: 300, replied: 300, lateReplies: 0, replyErrors: 0 }));
    expect(await ctl.ok('conn', { id: c.conn })).toMatchObject({ delivered: '300', replied: '300', senders: '0', waiters: '0' });
    expect(perSendEvents(first, 300)).toBe(0);
    await c.port.close();
    await c.done;
  });

  it('a client that receives but never replies: every send times out waiting for the reply (failed = timeouts = N)', async () => {
    const c = await addonClient(() => false);
    // 12 messages from 4 senders: each sender waits 3 times for a 100 ms reply phase.
    const { summary } = await flood({ conn: c.conn, count: 12, concurrency: 4, timeout: 100 });
    expectWellFormed(summary);
    expect(summary).toMatchObject({ count: '12', failed: '12', timeouts: '12' });
    expect(c.seen).toHaveLength(12);
    const n = (k: string): number => Number(summary[k]);
    expect(n('p50_ns')).toBeGreaterThanOrEqual(95 * MS);
    expect(n('mean_ns')).toBeGreaterThanOrEqual(95 * MS);
    expect(n('max_ns')).toBeLessThan(5_000 * MS);
    expect(n('elapsed_ns')).toBeGreaterThanOrEqual(3 * 95 * MS);
    expect(await ctl.ok('conn', { id: c.conn })).toMatchObject({ delivered: '12', replied: '0', senders: '0', waiters: '0' });
    await c.port.close();
    await c.done;
  });

  it('a client that never receives: every send times out before delivery (failed = timeouts = N, nothing delivered)', async () => {
    const name = await newPort();
    const client = await SimPortClient.connect(host.socketPath, name);
    const conn = (await ctl.event('connect', { port: name })).fields['conn'] as string;
    const { summary } = await flood({ conn, count: 6, concurrency: 3, timeout: 50 });
    expectWellFormed(summary);
    expect(summary).toMatchObject({ count: '6', failed: '6', timeouts: '6' });
    expect(Number(summary['p50_ns'])).toBeGreaterThanOrEqual(45 * MS);
    expect(await ctl.ok('conn', { id: conn })).toMatchObject({ delivered: '0', senders: '0' });
    client.close();
  });

  it('a client that replies to half: failed = timeouts = N/2, and those are exactly the unanswered indices', async () => {
    // Index i goes to sender i % 8, so senders 1, 3, 5, 7 time out every time.
    const c = await addonClient((i) => i % 2 === 0);
    const { summary } = await flood({ conn: c.conn, count: 40, concurrency: 8, timeout: 150 });
    expectWellFormed(summary);
    expect(summary).toMatchObject({ count: '40', failed: '20', timeouts: '20' });
    expect(c.seen).toHaveLength(40);
    await vi.waitFor(() => expect(c.port.stats()).toMatchObject({ received: 40, replied: 20, lateReplies: 0 }));
    expect(await ctl.ok('conn', { id: c.conn })).toMatchObject({ delivered: '40', replied: '20' });
    await c.port.close();
    await c.done;
  });

  it('a late answer after the summary: the sender really gave up (LateReplyError 0x801F0020)', async () => {
    const name = await newPort();
    const port = await connect(name, { simRuntimeDir: host.runtimeDir, concurrency: 4 });
    const conn = (await ctl.event('connect', { port: name })).fields['conn'] as string;
    await ctl.ok('conn.wait', { id: conn, min_gets: 4 });
    const iterator = port[Symbol.asyncIterator]();
    const { summary } = await flood({ conn, count: 1, concurrency: 1, timeout: 50 });
    expect(summary).toMatchObject({ count: '1', failed: '1', timeouts: '1' });
    const msg = (await iterator.next()).value;
    await expect(msg.reply(new Uint8Array(2))).rejects.toBeInstanceOf(LateReplyError);
    await port.close();
  });

  it('a connection the driver already closed: failed = N, timeouts = 0 (STATUS_PORT_DISCONNECTED is no timeout)', async () => {
    const name = await newPort();
    const client = await SimPortClient.connect(host.socketPath, name);
    const conn = (await ctl.event('connect', { port: name })).fields['conn'] as string;
    await ctl.ok('conn.close', { conn });
    const { summary } = await flood({ conn, count: 5, concurrency: 2, timeout: 'forever' });
    expectWellFormed(summary);
    expect(summary).toMatchObject({ count: '5', failed: '5', timeouts: '0' });
    client.close();
  });

  it('more senders than messages: one thread per message, every message counted once', async () => {
    const c = await addonClient(() => true);
    const { summary } = await flood({ conn: c.conn, count: 3, concurrency: 256, timeout: 10_000 });
    expect(summary).toMatchObject({ count: '3', failed: '0', timeouts: '0' });
    expect(c.seen.toSorted()).toEqual([0, 1, 2]);
    await c.port.close();
    await c.done;
  });
});

describe('send summary=1 refuses bad arguments with a clear error', () => {
  let conn = '';
  let client: SimPortClient;
  beforeAll(async () => {
    const name = await newPort();
    client = await SimPortClient.connect(host.socketPath, name);
    conn = (await ctl.event('connect', { port: name })).fields['conn'] as string;
  });
  afterAll(() => client?.close());

  const INVALID_PARAMETER = '0xC000000D';
  const cases: [string, Record<string, string | number>, RegExp][] = [
    ['count=0', { count: 0 }, /^count: at least 1/],
    ['count not a number', { count: 'many' }, /^count: not an unsigned integer/],
    ['count negative', { count: -5 }, /^count: not an unsigned integer/],
    ['count beyond the summary limit', { count: 64 * 1024 * 1024 + 1 }, /^count: at most 67108864 with summary=1/],
    ['concurrency=0', { count: 4, concurrency: 0 }, /^concurrency: 1 to 256/],
    ['concurrency beyond its limit', { count: 4, concurrency: 257 }, /^concurrency: 1 to 256/],
    ['concurrency not a number', { count: 4, concurrency: '4x' }, /^concurrency: not an unsigned integer/],
    ['summary not a boolean', { count: 4, summary: 'yes please' }, /^summary: not a boolean/],
    ['reply capacity not a number', { count: 4, reply: 'big' }, /^reply: not an unsigned integer/],
    ['reply capacity beyond a ULONG', { count: 4, reply: 2 ** 32 }, /^reply: too large/],
    ['reply capacity beyond a frame', { count: 4, reply: 16 * 1024 * 1024 + 1 }, /^reply: at most 16777216 bytes/],
    // It used to size a vector as capacity + 1 in 32 bits (0 bytes) and report 4 GiB from it.
    ['reply capacity 0xFFFFFFFF, one event per send', { count: 1, reply: 0xffffffff, summary: 0 }, /^reply: at most 16777216 bytes/],
    ['timeout 0 ms', { count: 4, timeout: 0 }, /^timeout: expected forever, zero/],
    ['an unknown argument', { count: 4, senders: 4 }, /^senders: unknown argument for send/],
  ];

  it.each(cases)('%s: error 0xC000000D naming the argument, no summary, no send id used', async (_what, args, message) => {
    const before = await flood({ conn, count: 1, timeout: 'zero' });
    const r = await ctl.command(controlLine('send', { conn, size: 16, summary: 1, ...args }));
    expect(r.ok, r.raw).toBe(false);
    expect(r.fields['status']).toBe(INVALID_PARAMETER);
    expect(r.fields['message']).toMatch(message);
    // The host is alive, and the refused command took no send ids and emitted nothing.
    expect((await ctl.ok('ping'))['pid']).toBe(String(host.child.pid));
    const after = await flood({ conn, count: 1, timeout: 'zero' });
    expect(after.first).toBe(before.first + 1);
    expect(ctl.seen('send-summary').filter((e) => Number(e.fields['first']) > before.first && Number(e.fields['first']) < after.first)).toEqual([]);
  });

  it('the largest reply capacity (one frame) is announced whole, and a short reply comes back', async () => {
    const name = await newPort();
    const port = await connect(name, { simRuntimeDir: host.runtimeDir, concurrency: 4 });
    const pconn = (await ctl.event('connect', { port: name })).fields['conn'] as string;
    await ctl.ok('conn.wait', { id: pconn, min_gets: 4 });
    const capacities: number[] = [];
    const answered = (async () => {
      for await (const msg of port) {
        capacities.push(msg.replyCapacity);
        await msg.reply(Uint8Array.of(1, 2, 3));
      }
    })();
    const cap = 16 * 1024 * 1024;
    const per = await ctl.ok('send', { conn: pconn, size: 16, reply: cap, timeout: 10_000, count: 4, concurrency: 4 });
    for (let i = 0; i < 4; i++) {
      const e = await ctl.event('send', { id: String(Number(per['first']) + i) });
      expect(e.fields).toMatchObject({ status: '0x00000000', replied: '3', reply: '010203' });
    }
    const { summary } = await flood({ conn: pconn, count: 8, concurrency: 8, reply: cap, timeout: 10_000 });
    expect(summary).toMatchObject({ count: '8', failed: '0', timeouts: '0' });
    expect(capacities).toEqual(Array(12).fill(cap));
    await port.close();
    await answered;
  });
});
