import { afterEach, describe, expect, it, vi } from 'vitest';

import { DisconnectedError, InvalidArgumentError, LateReplyError, TimeoutError } from '../../lib/errors.js';
import type { PortMessage } from '../../lib/message-stream.js';
import { connect } from '../../lib/port.js';
import { FakeBinding, ntError } from '../helpers/fake-binding.js';

const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const verdict = { encode: (v: { allow: boolean }) => new Uint8Array([v.allow ? 1 : 0]) };

afterEach(() => {
  vi.useRealTimers();
});

/** Lets fake-port microtasks (reply outcomes, pumps) run. */
async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

describe('port.serve()', () => {
  it('replies with the handler result and just runs one-way messages', async () => {
    const binding = new FakeBinding();
    const port = await connect('\\P', { binding, reply: verdict });
    const handled: string[] = [];
    const done = port.serve((m) => {
      handled.push(text(m.bytes));
      return { allow: text(m.bytes) === 'ok.txt' };
    });
    binding.lastPort.post(
      { payload: 'ok.txt', replyCapacity: 1, id: 1n },
      { payload: 'evil.exe', replyCapacity: 1, id: 2n },
      { payload: 'log-only', id: 3n },
    );
    await vi.waitFor(() => expect(binding.lastPort.replies).toHaveLength(2));
    expect(handled).toEqual(['ok.txt', 'evil.exe', 'log-only']);
    expect(binding.lastPort.replies.map((r) => [r.messageId, r.status, r.payload])).toEqual([
      [1n, 0, new Uint8Array([1])],
      [2n, 0, new Uint8Array([0])],
    ]);
    await port.close();
    await done;
    expect(port.stats()).toMatchObject({ received: 3, replied: 2, handlerErrors: 0, timeouts: 0 });
  });

  it('sends the default reply when the handler throws', async () => {
    const binding = new FakeBinding();
    const port = await connect('\\P', { binding, reply: verdict });
    const errors: unknown[] = [];
    const done = port.serve(
      () => {
        throw new Error('scanner crashed');
      },
      { defaultReply: { allow: false }, onError: (e) => errors.push(e) },
    );
    binding.lastPort.post({ payload: 'x', replyCapacity: 1, id: 9n });
    await vi.waitFor(() => expect(binding.lastPort.replies).toHaveLength(1));
    expect(binding.lastPort.replies[0]).toMatchObject({ messageId: 9n, status: 0, payload: new Uint8Array([0]) });
    expect((errors[0] as Error).message).toBe('scanner crashed');
    await port.close();
    await done;
    expect(port.stats().handlerErrors).toBe(1);
  });

  it('without defaultReply answers a failure with an empty payload and STATUS_UNSUCCESSFUL', async () => {
    const binding = new FakeBinding();
    const port = await connect('\\P', { binding });
    const done = port.serve(
      async () => {
        throw new Error('no');
      },
      { onError: () => {} },
    );
    binding.lastPort.post({ payload: 'x', replyCapacity: 4 });
    await vi.waitFor(() => expect(binding.lastPort.replies).toHaveLength(1));
    expect(binding.lastPort.replies[0]).toMatchObject({ status: 0xc0000001 | 0, payload: null });
    await port.close();
    await done;
  });

  it('sends the default reply with its status when the handler misses its deadline', async () => {
    vi.useFakeTimers();
    const binding = new FakeBinding();
    const port = await connect('\\P', { binding, reply: verdict });
    const errors: unknown[] = [];
    let handlerSignal: AbortSignal | undefined;
    const done = port.serve(
      (_m, { signal }) => {
        handlerSignal = signal;
        return new Promise<{ allow: boolean }>((resolve) => setTimeout(() => resolve({ allow: true }), 5000));
      },
      { timeout: 250, defaultReply: { allow: false }, defaultStatus: 0x00000102, onError: (e) => errors.push(e) },
    );
    binding.lastPort.post({ payload: 'slow', replyCapacity: 1, id: 4n });
    await settle();
    await vi.advanceTimersByTimeAsync(249);
    expect(binding.lastPort.replies).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(binding.lastPort.replies).toEqual([{ token: 1, messageId: 4n, status: 0x102, payload: new Uint8Array([0]) }]);
    expect(errors[0]).toBeInstanceOf(TimeoutError);
    expect(handlerSignal?.aborted).toBe(true);
    // The handler's late answer is dropped, not sent as a second reply.
    await vi.advanceTimersByTimeAsync(5000);
    expect(binding.lastPort.replies).toHaveLength(1);
    expect(port.stats()).toMatchObject({ timeouts: 1, replied: 1 });
    await port.close();
    await done;
  });

  it('keeps at most `concurrency` handlers in flight and pulls no more until one finishes', async () => {
    const binding = new FakeBinding();
    const port = await connect('\\P', { binding, highWaterMark: 16 });
    const release: Array<() => void> = [];
    let running = 0;
    let peak = 0;
    const done = port.serve(
      () =>
        new Promise<undefined>((resolve) => {
          running += 1;
          peak = Math.max(peak, running);
          release.push(() => {
            running -= 1;
            resolve(undefined);
          });
        }),
      { concurrency: 2 },
    );
    binding.lastPort.post(...Array.from({ length: 6 }, () => ({ payload: 'x' })));
    await vi.waitFor(() => expect(release).toHaveLength(2));
    await settle();
    expect(binding.lastPort.consumedTotal).toBe(2);
    release.shift()?.();
    await vi.waitFor(() => expect(release).toHaveLength(2));
    expect(binding.lastPort.consumedTotal).toBe(3);
    while (release.length > 0 || binding.lastPort.consumedTotal < 6) {
      release.shift()?.();
      await settle();
    }
    expect(peak).toBe(2);
    await port.close();
    await done;
  });

  it('lets the handler reply itself and does not reply again', async () => {
    const binding = new FakeBinding();
    const port = await connect('\\P', { binding });
    const done = port.serve(async (m: PortMessage) => {
      await m.replyBytes(new Uint8Array([5]), { status: 0xc0000022 });
      return new Uint8Array([6]);
    });
    binding.lastPort.post({ payload: 'x', replyCapacity: 1 });
    await vi.waitFor(() => expect(port.stats().replied).toBe(1));
    expect(binding.lastPort.replies.map((r) => [r.status, r.payload])).toEqual([[0xc0000022 | 0, new Uint8Array([5])]]);
    await port.close();
    await done;
  });

  it('answers an oversized handler result with the default reply and reports why', async () => {
    const binding = new FakeBinding();
    const port = await connect('\\P', { binding });
    const errors: unknown[] = [];
    const done = port.serve(() => new Uint8Array(8), { defaultReply: new Uint8Array([1]), onError: (e) => errors.push(e) });
    binding.lastPort.post({ payload: 'x', replyCapacity: 1 });
    await vi.waitFor(() => expect(binding.lastPort.replies).toHaveLength(1));
    expect(binding.lastPort.replies[0]?.payload).toEqual(new Uint8Array([1]));
    expect((errors[0] as { code: string }).code).toBe('FLTPORT_REPLY_TOO_LARGE');
    await port.close();
    await done;
  });

  it('reports late replies to onError and keeps serving', async () => {
    const binding = new FakeBinding();
    const port = await connect('\\P', { binding });
    binding.lastPort.replyBehavior = (c) => (c.messageId === 1n ? ntError(0xc01c0020, 'FilterReplyMessage') : null);
    const errors: unknown[] = [];
    const done = port.serve(() => new Uint8Array([1]), { onError: (e) => errors.push(e) });
    binding.lastPort.post({ payload: 'a', replyCapacity: 1 }, { payload: 'b', replyCapacity: 1 });
    await vi.waitFor(() => expect(port.stats().replied).toBe(1));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(LateReplyError);
    expect(port.stats().lateReplies).toBe(1);
    await port.close();
    await done;
  });

  it('resolves when its signal aborts, after in-flight handlers replied, and frees the port', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding });
    const ac = new AbortController();
    let finish!: () => void;
    const done = port.serve(() => new Promise<Uint8Array>((r) => (finish = () => r(new Uint8Array([3])))), { signal: ac.signal });
    binding.lastPort.post({ payload: 'x', replyCapacity: 1 });
    await vi.waitFor(() => expect(finish).toBeTypeOf('function'));
    ac.abort();
    let resolved = false;
    void done.then(() => (resolved = true));
    await settle();
    expect(resolved).toBe(false);
    finish();
    await done;
    expect(binding.lastPort.replies.map((r) => r.payload)).toEqual([new Uint8Array([3])]);
    // The consumer slot is free again.
    const it = port.messages();
    await it.return?.();
  });

  it('rejects with DisconnectedError when the driver disconnects without reconnect', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding });
    const done = port.serve(() => undefined);
    binding.lastPort.disconnect();
    await expect(done).rejects.toBeInstanceOf(DisconnectedError);
  });

  it('warns once when no onError is given', async () => {
    const binding = new FakeBinding();
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w);
    };
    process.on('warning', onWarning);
    try {
      const port = await connect('\\P', { binding });
      const done = port.serve(() => {
        throw new Error('bad handler');
      });
      binding.lastPort.post({ payload: 'a' }, { payload: 'b' }, { payload: 'c' });
      await vi.waitFor(() => expect(port.stats().handlerErrors).toBe(3));
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.message.includes('bad handler'))).toHaveLength(1);
      await port.close();
      await done;
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('validates its options', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding });
    await expect(port.serve(() => undefined, { concurrency: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(port.serve(() => undefined, { timeout: -1 })).rejects.toThrow(/timeout must be between 1/);
    await expect(port.serve('nope' as never)).rejects.toThrow(/handler must be a function/);
    // A failed start leaves the port free for another consumer.
    const it = port.messages();
    await it.return?.();
  });

  it('frees a handler slot once its reply is sent and settles only after every outcome is in', async () => {
    const binding = new FakeBinding();
    const port = await connect('\\P', { binding });
    binding.lastPort.replyBehavior = 'manual';
    const handled: bigint[] = [];
    // Concurrency 1 with async handlers: the second message runs while the first reply's
    // kernel outcome is still out.
    const done = port.serve(
      async (m) => {
        handled.push(m.id);
        return new Uint8Array([7]);
      },
      { concurrency: 1 },
    );
    binding.lastPort.post({ payload: 'a', replyCapacity: 1, id: 1n }, { payload: 'b', replyCapacity: 1, id: 2n });
    await vi.waitFor(() => expect(binding.lastPort.replies).toHaveLength(2));
    expect(handled).toEqual([1n, 2n]);
    expect(port.stats()).toMatchObject({ replied: 0, inFlight: 0 });
    // Closing settles the outstanding replies (ClosedError: counted, not reported): serve() resolves.
    await port.close();
    await done;
    expect(port.stats()).toMatchObject({ replied: 0, replyErrors: 2 });
  });

  it('waits for reply outcomes before it resolves, and reports a failed one', async () => {
    const binding = new FakeBinding();
    const port = await connect('\\P', { binding });
    binding.lastPort.replyBehavior = 'manual';
    const errors: unknown[] = [];
    const stop = new AbortController();
    const done = port.serve(() => new Uint8Array([1]), { signal: stop.signal, onError: (e) => errors.push(e) });
    binding.lastPort.post({ payload: 'a', replyCapacity: 1, id: 1n }, { payload: 'b', replyCapacity: 1, id: 2n });
    await vi.waitFor(() => expect(binding.lastPort.replies).toHaveLength(2));
    stop.abort();
    let resolved = false;
    void done.then(() => (resolved = true));
    await settle(20);
    expect(resolved).toBe(false);
    const [first, second] = binding.lastPort.replies;
    binding.lastPort.completeReply(first?.token ?? -1);
    await settle(20);
    expect(resolved).toBe(false);
    binding.lastPort.completeReply(second?.token ?? -1, ntError(0xc01c0020, 'FilterReplyMessage'));
    await done;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(LateReplyError);
    expect(port.stats()).toMatchObject({ replied: 1, lateReplies: 1 });
    await port.close();
  });

  it('runs a synchronous handler and replies in the same turn as the delivery', async () => {
    const binding = new FakeBinding();
    const port = await connect('\\P', { binding });
    binding.lastPort.replyBehavior = 'manual';
    const stop = new AbortController();
    const done = port.serve(() => new Uint8Array([9]), { signal: stop.signal, concurrency: 1 });
    await settle();
    // Three messages in one batch, concurrency 1, no outcome ever reported: a synchronous
    // handler holds no slot, so all three are answered.
    binding.lastPort.post(...[1n, 2n, 3n].map((id) => ({ payload: 'x', replyCapacity: 1, id })));
    await settle(10);
    expect(binding.lastPort.replies.map((r) => [r.messageId, r.payload])).toEqual([
      [1n, new Uint8Array([9])],
      [2n, new Uint8Array([9])],
      [3n, new Uint8Array([9])],
    ]);
    stop.abort();
    for (const r of binding.lastPort.replies) binding.lastPort.completeReply(r.token);
    await done;
    await port.close();
  });

  it('gives the handler an abort signal only when it asks, aborted on stop or deadline', async () => {
    const binding = new FakeBinding();
    const port = await connect('\\P', { binding });
    const stop = new AbortController();
    const seen: Array<{ aborted: boolean; reason: unknown }> = [];
    let release!: () => void;
    const done = port.serve(
      async (_m, context) => {
        await new Promise<void>((r) => (release = r));
        // Read only after serve() was stopped: a context made lazily is still aborted.
        seen.push({ aborted: context.signal.aborted, reason: context.signal.reason });
        return new Uint8Array([1]);
      },
      { signal: stop.signal },
    );
    binding.lastPort.post({ payload: 'x', replyCapacity: 1 });
    await vi.waitFor(() => expect(release).toBeTypeOf('function'));
    stop.abort();
    release();
    await done;
    expect(seen).toHaveLength(1);
    expect(seen[0]?.aborted).toBe(true);
    expect((seen[0]?.reason as Error).name).toBe('AbortError');
    expect(binding.lastPort.replies).toHaveLength(1);
    await port.close();
  });
});
