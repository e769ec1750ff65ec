// NativePort over the real addon and the POSIX backend, against the scripted wire peer in
// test/lifecycle/stub-host.ts (in this process: every close here runs on a pool thread, so
// the host's JS thread is never blocked by the client).
//
// Every test here needs a connected port, which the win32 backend (fltlib.dll) can only get
// from a loaded driver: they skip there (the contract suite runs the same paths against the
// real driver in CI's load-test job). What needs no port — argument checks, the error factory,
// the status table — is in binding.args, binding.errors and binding.surface, which run on both.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  loadBinding,
  type NativeBatch,
  type NativeConnectOptions,
  type NativePort,
  type NativeStopReason,
} from '../../lib/binding.js';
import { StubHost, STATUS_FLT_NO_WAITER_FOR_REPLY } from '../lifecycle/stub-host.js';
import { skipUnlessFltsim } from '../helpers/backend.js';

const binding = loadBinding();

interface Session {
  port: NativePort;
  batches: NativeBatch[];
  stops: { reason: NativeStopReason; error: Error | null }[];
  /** Resolves once `predicate` holds, checked after every callback. */
  until(predicate: () => boolean, what: string): Promise<void>;
}

const skip = skipUnlessFltsim(
  'binding.port (NativePort data path and life cycle)',
  'needs a connected port: the stub host speaks fltsim\'s wire over a Unix socket, and fltlib.dll has no driver to connect to here',
);

let host: StubHost;
beforeEach(async () => {
  host = await StubHost.start();
});
afterEach(async () => {
  binding.setErrorFactory(null as never);
  await host.close();
});

function options(overrides: Partial<NativeConnectOptions> = {}): NativeConnectOptions {
  return {
    name: '\\FltportSample',
    flags: 0,
    context: null,
    concurrency: 4,
    initialBufferSize: 4096,
    maxMessageSize: 65536,
    highWaterMark: 16,
    simRuntimeDir: host.dir,
    ...overrides,
  };
}

async function open(overrides: Partial<NativeConnectOptions> = {}): Promise<Session> {
  const batches: NativeBatch[] = [];
  const stops: Session['stops'] = [];
  const waiters: (() => void)[] = [];
  const wake = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  let resolved = false;
  const port = await binding.connect(
    options(overrides),
    (b) => {
      // Native promise: no callback before connect() resolved and its continuation ran.
      expect(resolved).toBe(true);
      batches.push(b);
      wake();
    },
    (reason, error) => {
      expect(resolved).toBe(true);
      stops.push({ reason, error });
      wake();
    },
  );
  resolved = true;
  const until = async (predicate: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 100);
        waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  };
  return { port, batches, stops, until };
}

/** Send outcomes (readTokens), in arrival order, with their bytes as text. */
const sendOutcomes = (batches: NativeBatch[]) =>
  batches.flatMap((b) =>
    Array.from(b.readTokens, (token, i) => ({
      token,
      error: b.readErrors[i] ?? null,
      text: Buffer.from(new Uint8Array(b.buffer, b.readOffsets[i]!, b.readLengths[i]!)).toString(),
    })),
  );

const messages = (batches: NativeBatch[]) =>
  batches.flatMap((b) =>
    Array.from({ length: b.messageCount }, (_, i) => ({
      id: b.ids[i]!,
      replyLength: b.replyLengths[i]!,
      payload: Buffer.from(new Uint8Array(b.buffer, b.offsets[i]!, b.lengths[i]!)).toString(),
    })),
  );

describe.skipIf(skip)('NativePort data path', () => {
  it('delivers messages as batches over one payload buffer, with ids and reply lengths', async () => {
    const s = await open({ context: Buffer.from('hello-ctx') });
    const conn = await host.connection(0, 4);
    expect(conn.name).toBe('\\FltportSample');
    expect(conn.context.toString()).toBe('hello-ctx');
    const id1 = conn.deliver(Buffer.from('first'), 8);
    const id2 = conn.deliver(Buffer.from('second message'), 0);
    await s.until(() => messages(s.batches).length === 2, 'two messages');
    expect(messages(s.batches)).toEqual([
      { id: id1, replyLength: 8 + 16, payload: 'first' },
      { id: id2, replyLength: 0, payload: 'second message' },
    ]);
    const b = s.batches[0]!;
    expect(b.ids).toBeInstanceOf(BigUint64Array);
    expect(b.replyLengths).toBeInstanceOf(Uint32Array);
    expect(b.replyTokens).toBeInstanceOf(Float64Array);
    expect(b.readTokens).toHaveLength(0);
    expect(b.faults).toEqual([]);
    // One shape for every batch (an object literal made by the addon's factory), and empty
    // columns are shared frozen empties rather than new arrays per batch.
    expect(Object.keys(b)).toEqual([
      'buffer', 'messageCount', 'ids', 'replyLengths', 'offsets', 'lengths', 'replyTokens',
      'replyErrors', 'readTokens', 'readErrors', 'readOffsets', 'readLengths', 'faults',
    ]);
    expect(Object.isFrozen(b.faults) && Object.isFrozen(b.replyTokens) && Object.isFrozen(b.readLengths)).toBe(true);
    // Payloads are 8-aligned inside the shared buffer.
    for (const batch of s.batches) for (const off of batch.offsets) expect(off % 8).toBe(0);
    await s.port.close();
    expect(s.stops).toEqual([{ reason: 'closed', error: null }]);
  });

  it('copies a batch of up to 64 KiB of payload into its columns\' buffer; a larger one keeps its own', async () => {
    const s = await open({ concurrency: 2, initialBufferSize: 80 * 1024, maxMessageSize: 128 * 1024 });
    const conn = await host.connection(0, 2);
    const small = Buffer.alloc(1000, 0x5a);
    const large = Buffer.alloc(70 * 1024, 0xa5);
    conn.deliver(small);
    await s.until(() => messages(s.batches).length === 1, 'the small message');
    await conn.until(() => conn.pendingGets >= 2, 'the re-armed GET');
    conn.deliver(large);
    await s.until(() => messages(s.batches).length === 2, 'the large message');
    const [a, b] = s.batches;
    // Small: one ArrayBuffer holds the columns and, 8-aligned after them, the payload.
    expect(a!.ids.buffer).toBe(a!.buffer);
    expect(a!.offsets[0]! % 8).toBe(0);
    expect(a!.offsets[0]!).toBeGreaterThanOrEqual(a!.ids.byteLength + 12);
    expect(a!.buffer.byteLength).toBe(a!.offsets[0]! + 1000);
    expect(Buffer.from(a!.buffer, a!.offsets[0]!, a!.lengths[0]!).equals(small)).toBe(true);
    // Large: the native buffer is adopted (no copy): payload at offset 0 of its own buffer.
    expect(b!.ids.buffer).not.toBe(b!.buffer);
    expect(b!.offsets[0]).toBe(0);
    expect(b!.buffer.byteLength).toBe(70 * 1024);
    expect(Buffer.from(b!.buffer, b!.offsets[0]!, b!.lengths[0]!).equals(large)).toBe(true);
    // Neither batch carries outcomes: both hold the same shared empty columns.
    expect(b!.replyTokens).toBe(a!.replyTokens);
    expect(b!.readErrors).toBe(a!.readErrors);
    await s.port.close();
  });

  it('holds deliveries that beat connect() until it resolved, in order', async () => {
    await host.close();
    // The host answers every GET at once: messages reach the addon while connect() is still
    // on its pool thread. open() asserts no callback runs before its await continued.
    host = await StubHost.start({ autoDeliver: { size: 24, count: 6 } });
    for (let round = 0; round < 5; round++) {
      const s = await open({ concurrency: 3, highWaterMark: 64 });
      await s.until(() => messages(s.batches).length === 6, 'six messages');
      expect(messages(s.batches).map((m) => m.id)).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
      await s.port.close();
    }
  });

  it('sends replies and reports each outcome under its token', async () => {
    const seen: unknown[] = [];
    binding.setErrorFactory((info) => {
      seen.push(info);
      return Object.assign(new Error('late'), { info });
    });
    const s = await open();
    const conn = await host.connection(0, 4);
    const id = conn.deliver(Buffer.from('scan me'), 4);
    await s.until(() => messages(s.batches).length === 1, 'one message');
    s.port.reply(7, id, 0, new Uint8Array([1, 2, 3, 4]));
    s.port.reply(8, id, 0, new Uint8Array([9])); // second reply: nobody waits any more
    await s.until(() => s.batches.reduce((n, b) => n + b.replyTokens.length, 0) === 2, 'two outcomes');
    const outcomes = s.batches.flatMap((b) => Array.from(b.replyTokens, (t, i) => [t, b.replyErrors[i]]));
    expect(outcomes).toHaveLength(2);
    expect(outcomes[0]).toEqual([7, null]);
    expect(outcomes[1]![0]).toBe(8);
    expect(seen).toEqual([
      expect.objectContaining({
        origin: 'ntstatus',
        ntstatus: STATUS_FLT_NO_WAITER_FOR_REPLY,
        hresult: 0x801f0020,
      }),
    ]);
    expect(conn.replies.map((r) => [r.messageId, r.status, [...r.payload]])).toEqual([
      [id, 0, [1, 2, 3, 4]],
      [id, 0, [9]],
    ]);
    await s.port.close();
  });

  it('starts FilterSendMessage without waiting and returns the `returned` bytes in a batch under its token', async () => {
    const s = await open();
    const conn = await host.connection(0, 4);
    const input = Buffer.from('query');
    expect(s.port.send(5, input, 32)).toBeUndefined();
    input.fill(0); // the native side copied it before returning
    await conn.until(() => conn.sends.length === 1, 'a SEND');
    expect(conn.sends[0]!.input.toString()).toBe('query');
    expect(conn.sends[0]!.outputCapacity).toBe(32);
    conn.sends[0]!.complete(0, Buffer.from('answer'));
    await s.until(() => sendOutcomes(s.batches).length === 1, 'the outcome');
    expect(sendOutcomes(s.batches)).toEqual([{ token: 5, error: null, text: 'answer' }]);
    await s.port.close();
  });

  it('reports a failed send under its token with the typed error and its NTSTATUS, and no bytes', async () => {
    const s = await open();
    const conn = await host.connection(0, 4);
    s.port.send(6, null, 0);
    await conn.until(() => conn.sends.length === 1, 'a SEND');
    conn.sends[0]!.complete(0xc0000022);
    await s.until(() => sendOutcomes(s.batches).length === 1, 'the outcome');
    expect(sendOutcomes(s.batches)).toEqual([
      {
        token: 6,
        error: expect.objectContaining({ code: 'FLTPORT_NATIVE', ntstatus: 0xc0000022, hresult: 0x80070005 }),
        text: '',
      },
    ]);
    await s.port.close();
  });
});

describe.skipIf(skip)('NativePort life cycle', () => {
  it('close() is idempotent: the same promise, onStopped once, then every call is closed', async () => {
    const s = await open();
    const conn = await host.connection(0, 4);
    const first = s.port.close();
    const second = s.port.close();
    expect(second).toBe(first);
    await first;
    expect(s.stops).toEqual([{ reason: 'closed', error: null }]);
    expect(conn.cancels).toBe(1);
    expect(s.port.close()).toBe(first);
    const closed = expect.objectContaining({
      code: 'FLTPORT_NATIVE',
      origin: 'win32',
      win32: 6,
      hresult: 0x80070006,
      detail: 'the port is closed',
    });
    expect(() => s.port.reply(1, 1n, 0, null)).toThrow(closed);
    expect(() => s.port.send(1, null, 0)).toThrow(closed);
    // Documented no-ops after close.
    expect(s.port.consumed(1)).toBeUndefined();
    expect(s.port.ref()).toBeUndefined();
    expect(s.port.unref()).toBeUndefined();
    await conn.ended;
  });

  it('close() during a pending send: the send fails with a numbered error, in a batch before onStopped', async () => {
    const s = await open();
    const conn = await host.connection(0, 4);
    s.port.send(9, Buffer.from('slow'), 16);
    await conn.until(() => conn.sends.length === 1, 'a SEND');
    await s.port.close();
    const outcomes = sendOutcomes(s.batches);
    expect(outcomes).toEqual([
      { token: 9, error: expect.objectContaining({ code: 'FLTPORT_NATIVE', hresult: 0x80070006 }), text: '' },
    ]);
    // In the session's last batch (onStopped comes after the last batch).
    expect(s.batches.at(-1)!.readTokens).toContain(9);
    expect(s.stops).toEqual([{ reason: 'closed', error: null }]);
  });

  it('reports a driver disconnect, then makes up outcomes for replies after the stop', async () => {
    const s = await open();
    const conn = await host.connection(0, 4);
    conn.disconnect();
    await s.until(() => s.stops.length === 1, 'the stop');
    expect(s.stops[0]!.reason).toBe('disconnected');
    s.port.reply(42, 1n, 0, null);
    await s.until(() => s.batches.some((b) => b.replyTokens.includes(42)), 'the made-up outcome');
    const b = s.batches.find((x) => x.replyTokens.includes(42))!;
    expect(b.replyErrors[0]).toMatchObject({
      ntstatus: 0xc0000037,
      hresult: 0x80070006,
      syscall: 'FilterReplyMessage',
    });
    // A send cannot start any more: it says so at once, with what FilterSendMessage returns.
    expect(() => s.port.send(43, null, 0)).toThrow(
      expect.objectContaining({ ntstatus: 0xc0000037, hresult: 0x80070006, syscall: 'FilterSendMessage' }),
    );
    expect(conn.sends).toEqual([]);
    await s.port.close();
    expect(s.stops).toHaveLength(1);
  });

  it('throws a TypeError for a method called on anything but a NativePort', async () => {
    const s = await open();
    const proto = Object.getPrototypeOf(s.port) as Record<string, (...a: unknown[]) => unknown>;
    const notPort = expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    for (const method of ['reply', 'send', 'consumed', 'close', 'ref', 'unref']) {
      expect(() => proto[method]!.call({}), method).toThrow(notPort);
      expect(() => proto[method]!.call(undefined), method).toThrow(notPort);
      expect(() => proto[method]!.call(binding), method).toThrow(notPort);
    }
    const Ctor = (s.port as object).constructor as new (...a: unknown[]) => unknown;
    expect(() => new Ctor()).toThrow(notPort);
    expect(() => new Ctor({})).toThrow(notPort);
    await s.port.close();
  });

  it('validates reply/send/consumed arguments without touching the session', async () => {
    const s = await open();
    const conn = await host.connection(0, 4);
    expect(() => s.port.reply(-1, 1n, 0, null)).toThrow(RangeError);
    expect(() => s.port.reply(2 ** 53, 1n, 0, null)).toThrow(RangeError);
    expect(() => s.port.reply(1, 1 as never, 0, null)).toThrow(TypeError);
    expect(() => s.port.reply(1, -1n, 0, null)).toThrow(RangeError);
    expect(() => s.port.reply(1, 2n ** 64n, 0, null)).toThrow(RangeError);
    expect(() => s.port.reply(1, 1n, 2 ** 32, null)).toThrow(RangeError);
    expect(() => s.port.reply(1, 1n, 0, 'x' as never)).toThrow(TypeError);
    expect(() => s.port.send(-1, null, 0)).toThrow(RangeError);
    expect(() => s.port.send(1, null, -1)).toThrow(RangeError);
    expect(() => s.port.send(1, {} as never, 1)).toThrow(TypeError);
    expect(() => s.port.consumed(-1)).toThrow(RangeError);
    expect(conn.replies).toEqual([]);
    expect(conn.sends).toEqual([]);
    // A detached payload is an empty one, not a crash.
    const detached = new Uint8Array(new ArrayBuffer(4));
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    s.port.reply(3, 99n, 0, detached);
    await conn.until(() => conn.replies.length === 1, 'the reply');
    expect(conn.replies[0]!.payload.length).toBe(0);
    await s.port.close();
  });
});
