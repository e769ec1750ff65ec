import { getEventListeners } from 'node:events';
import { constants } from 'node:os';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { AbortError, DisconnectedError, FltportError, InvalidStateError } from '../../lib/errors.js';
import { MessageQueue, type PortMessage } from '../../lib/message-stream.js';
import { connect } from '../../lib/port.js';
import { FakeBinding } from '../helpers/fake-binding.js';

const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('port messages', () => {
  it('yields id, replyLength, expectsReply, replyCapacity and payload bytes', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding });
    binding.lastPort.post({ payload: 'hello', replyCapacity: 4, id: 7n }, { payload: 'note', id: 8n });
    const it = port.messages();
    const a = (await it.next()).value as PortMessage;
    const b = (await it.next()).value as PortMessage;
    expect([a.id, a.replyLength, a.expectsReply, a.replyCapacity, text(a.bytes)]).toEqual([7n, 20, true, 4, 'hello']);
    expect([b.id, b.replyLength, b.expectsReply, b.replyCapacity, text(b.bytes)]).toEqual([8n, 0, false, 0, 'note']);
    expect(a.body).toBe(a.bytes); // no codec: body is the bytes
    expect(a.connection).toBe(1);
    await it.return?.();
  });

  it('decides expectsReply from ReplyLength only, never from the id', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding });
    binding.lastPort.post({ payload: 'x', replyCapacity: 0, id: 0n }, { payload: 'y', id: 99n });
    const it = port.messages();
    const zeroId = (await it.next()).value as PortMessage;
    const oneWay = (await it.next()).value as PortMessage;
    expect([zeroId.expectsReply, zeroId.replyLength, zeroId.replyCapacity]).toEqual([true, 16, 0]);
    expect([oneWay.expectsReply, oneWay.replyLength]).toEqual([false, 0]);
    await it.return?.();
  });

  it('decodes body lazily with the message codec, once', async () => {
    const binding = new FakeBinding();
    let decodes = 0;
    const codec = {
      decode: (b: Uint8Array) => {
        decodes += 1;
        return { n: b[0] ?? -1 };
      },
    };
    await using port = await connect('\\P', { binding, message: codec });
    binding.lastPort.post({ payload: new Uint8Array([42]) });
    const it = port.messages();
    const m = (await it.next()).value as PortMessage<{ n: number }>;
    expect(decodes).toBe(0);
    expect(m.body).toEqual({ n: 42 });
    expect(m.body).toBe(m.body);
    expect(decodes).toBe(1);
    await it.return?.();
  });

  it('reports a decoding failure as FLTPORT_CODEC with the cause', async () => {
    const binding = new FakeBinding();
    const boom = new RangeError('short input');
    await using port = await connect('\\P', { binding, message: { decode: () => { throw boom; } } });
    binding.lastPort.post({ payload: 'abc', id: 5n });
    const m = (await port.messages().next()).value as PortMessage<never>;
    let caught: unknown;
    try {
      void m.body;
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(FltportError);
    expect((caught as FltportError).code).toBe('FLTPORT_CODEC');
    expect((caught as Error).message).toContain('message 5');
    expect((caught as Error).cause).toBe(boom);
  });

  it('calls consumed(1) exactly once per yielded message, when it is yielded', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding, highWaterMark: 4 });
    const fake = binding.lastPort;
    fake.post(...Array.from({ length: 10 }, (_, i) => ({ payload: `m${i}` })));
    // The window: only highWaterMark messages reach JS until some are consumed.
    expect(fake.delivered).toBe(4);
    expect(fake.consumedCalls).toEqual([]);
    const seen: string[] = [];
    for await (const m of port) {
      seen.push(text(m.bytes));
      expect(fake.consumedTotal).toBe(seen.length);
      if (seen.length === 10) break;
    }
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
    expect(fake.consumedCalls).toEqual(Array(10).fill(1));
    expect(fake.maxUnconsumed).toBeLessThanOrEqual(4);
  });

  it('property: consumed total equals messages yielded and the window never exceeds highWaterMark', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 30 }),
        async (hwm, bursts, take) => {
          const binding = new FakeBinding();
          const port = await connect('\\P', { binding, highWaterMark: hwm });
          const fake = binding.lastPort;
          let total = 0;
          for (const n of bursts) {
            fake.post(...Array.from({ length: n }, () => ({ payload: 'z' })));
            total += n;
          }
          const want = Math.min(take, total);
          const it = port.messages();
          for (let i = 0; i < want; i++) await it.next();
          await it.return?.();
          await tick();
          expect(fake.consumedTotal).toBe(want);
          expect(fake.maxUnconsumed).toBeLessThanOrEqual(hwm);
          expect(port.stats().queued).toBe(Math.min(total - want, hwm));
          await port.close();
        },
      ),
      { numRuns: 40 },
    );
  });

  it('allows one consumer at a time and frees the slot when the iterator ends', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding });
    const first = port.messages();
    expect(() => port.messages()).toThrow(InvalidStateError);
    expect(() => port.messages()).toThrow(/already has a consumer \(an async iterator\)/);
    await expect(port.serve(() => undefined)).rejects.toBeInstanceOf(InvalidStateError);
    await first.return?.();
    const second = port.messages();
    binding.lastPort.post({ payload: 'a' });
    expect(text(((await second.next()).value as PortMessage).bytes)).toBe('a');
    await second.return?.();
  });

  it('break in for-await withdraws a waiting next() so no message is lost', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding });
    const it = port.messages();
    const pending = it.next();
    await it.return?.();
    expect(await pending).toEqual({ done: true, value: undefined });
    binding.lastPort.post({ payload: 'kept' });
    expect(binding.lastPort.consumedTotal).toBe(0);
    const again = port.messages();
    expect(text(((await again.next()).value as PortMessage).bytes)).toBe('kept');
    await again.return?.();
  });

  it('ends with AbortError when the signal fires, and frees the consumer slot', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding });
    const ac = new AbortController();
    const it = port.messages({ signal: ac.signal });
    const pending = it.next();
    ac.abort('stop');
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect((err as AbortError).name).toBe('AbortError');
    expect((err as AbortError).cause).toBe('stop');
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect(() => port.messages().return?.()).not.toThrow();
  });

  it('close() ends a waiting iterator normally and drops queued messages', async () => {
    const binding = new FakeBinding();
    const port = await connect('\\P', { binding, highWaterMark: 8 });
    const it = port.messages();
    const waiting = it.next();
    binding.lastPort.post({ payload: 'a' });
    expect(text(((await waiting).value as PortMessage).bytes)).toBe('a');
    binding.lastPort.post({ payload: 'b' }, { payload: 'c' });
    expect(text(((await it.next()).value as PortMessage).bytes)).toBe('b');
    await port.close();
    // 'c' was queued but never handed out: close drops it and the iterator is simply done.
    expect(await it.next()).toEqual({ done: true, value: undefined });
    expect(port.stats()).toMatchObject({ received: 3, queued: 0 });
    expect(binding.lastPort.consumedTotal).toBe(2);
    expect(port.state).toBe('closed');
    expect(await port.closed).toEqual({ reason: 'closed' });
  });

  it('ends by throwing DisconnectedError after draining queued messages when the driver disconnects', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding });
    binding.lastPort.post({ payload: 'before' });
    binding.lastPort.disconnect();
    const seen: string[] = [];
    const err = await (async () => {
      for await (const m of port) seen.push(text(m.bytes));
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['before']);
    expect(err).toBeInstanceOf(DisconnectedError);
    expect((err as DisconnectedError).reason).toBe('disconnected');
    expect((err as DisconnectedError).hresult).toBe(0x80070006);
    expect((err as DisconnectedError).ntstatus).toBe(0xc0000037);
    expect(port.state).toBe('disconnected');
    expect((await port.closed).reason).toBe('disconnected');
    // The dead handle is still closed (spec §8.3 item 7).
    await tick();
    expect(binding.lastPort.closeCalls).toBe(1);
  });

  it('reports a session failure with reason "failed" and the cause', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding });
    // ECONNRESET in the host's numbering (104 on Linux), as the fltsim transport reports it.
    binding.lastPort.disconnect('failed', { origin: 'errno', errno: constants.errno.ECONNRESET, hresult: 0x80004005, syscall: 'recv', detail: '' });
    const err = (await port.messages().next().catch((e: unknown) => e)) as DisconnectedError;
    expect(err).toBeInstanceOf(DisconnectedError);
    expect(err.reason).toBe('failed');
    expect((err.cause as FltportError).code).toBe('FLTPORT_SIM_UNAVAILABLE');
  });

  it('listens to a consumer signal once, however many takes wait on it, and aborts the waiting one', async () => {
    const queue = new MessageQueue<number>(() => {});
    const ac = new AbortController();
    for (let i = 0; i < 50; i++) {
      const waiting = queue.take(ac.signal);
      queue.push(i);
      expect(await waiting).toBe(i);
    }
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    const last = queue.take(ac.signal);
    ac.abort(new Error('stop'));
    await expect(last).rejects.toBeInstanceOf(AbortError);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    // The aborted waiter is gone: the next item stays queued for the next consumer.
    queue.push(99);
    expect(queue.length).toBe(1);
    const other = new AbortController();
    expect(await queue.take(other.signal)).toBe(99);
  });
});

