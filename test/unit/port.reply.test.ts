import diagnosticsChannel from 'node:diagnostics_channel';

import { afterEach, describe, expect, it } from 'vitest';

import {
  AlreadyRepliedError,
  ClosedError,
  DisconnectedError,
  InvalidArgumentError,
  LateReplyError,
  NoReplyExpectedError,
  NoWaiterError,
  ReplyTooLargeError,
} from '../../lib/errors.js';
import type { PortMessage } from '../../lib/message-stream.js';
import { connect } from '../../lib/port.js';
import { FakeBinding, ntError } from '../helpers/fake-binding.js';

async function firstMessage<M, R>(port: AsyncIterable<PortMessage<M, R>> & { messages(): AsyncIterableIterator<PortMessage<M, R>> }) {
  const it = port.messages();
  const m = (await it.next()).value as PortMessage<M, R>;
  await it.return?.();
  return m;
}

const u32 = {
  encode: (v: number) => new Uint8Array(new Uint32Array([v]).buffer),
};

const unsubscribers: Array<() => void> = [];
afterEach(() => {
  for (const u of unsubscribers.splice(0)) u();
});
function record(name: string): unknown[] {
  const events: unknown[] = [];
  const fn = (e: unknown): void => {
    events.push(e);
  };
  diagnosticsChannel.subscribe(name, fn);
  unsubscribers.push(() => diagnosticsChannel.unsubscribe(name, fn));
  return events;
}

describe('message.reply()', () => {
  it('sends the encoded payload with the message id and status, and resolves on the kernel outcome', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding, reply: u32 });
    binding.lastPort.post({ payload: 'q', replyCapacity: 4, id: 41n });
    const m = await firstMessage(port);
    expect(port.stats().inFlight).toBe(1);
    await m.reply(0x01020304, { status: 0xc0000022 });
    expect(binding.lastPort.replies).toEqual([{ token: 1, messageId: 41n, status: 0xc0000022 | 0, payload: new Uint8Array([4, 3, 2, 1]) }]);
    expect(m.replied).toBe(true);
    expect(port.stats()).toMatchObject({ replied: 1, bytesReplied: 4, inFlight: 0, lateReplies: 0, replyErrors: 0 });
  });

  it('settles only when the outcome batch arrives', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding });
    binding.lastPort.replyBehavior = 'manual';
    binding.lastPort.post({ payload: 'q', replyCapacity: 1 });
    const m = await firstMessage(port);
    let settled = false;
    const p = m.reply(new Uint8Array([1])).then(() => {
      settled = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    binding.lastPort.completeReply(1);
    await p;
    expect(settled).toBe(true);
  });

  it('refuses a payload larger than replyCapacity before any native call (the padding trap)', async () => {
    const binding = new FakeBinding();
    // scanner-style: the driver budgets 1 byte; a padded 8-byte struct must not go out.
    await using port = await connect('\\P', { binding, reply: { encode: (v: boolean) => new Uint8Array([v ? 1 : 0, 0, 0, 0, 0, 0, 0, 0]) } });
    binding.lastPort.post({ payload: 'scan', replyCapacity: 1, id: 3n });
    const m = await firstMessage(port);
    const err = (await m.reply(true).catch((e: unknown) => e)) as ReplyTooLargeError;
    expect(err).toBeInstanceOf(ReplyTooLargeError);
    expect(err.code).toBe('FLTPORT_REPLY_TOO_LARGE');
    expect([err.size, err.capacity]).toEqual([8, 1]);
    expect(err.message).toContain('ReplyLength 17');
    expect(binding.lastPort.replies).toHaveLength(0);
    // Not marked replied: a corrected reply still goes through.
    await m.replyBytes(new Uint8Array([1]));
    expect(binding.lastPort.replies.map((r) => r.payload)).toEqual([new Uint8Array([1])]);
  });

  it('truncates only when asked to', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding });
    binding.lastPort.post({ payload: 'x', replyCapacity: 2 });
    const m = await firstMessage(port);
    await m.reply(new Uint8Array([9, 8, 7, 6]), { truncate: true });
    expect(binding.lastPort.replies[0]?.payload).toEqual(new Uint8Array([9, 8]));
  });

  it('refuses to reply to a one-way message, before any native call', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding });
    binding.lastPort.post({ payload: 'note', id: 12n });
    const m = await firstMessage(port);
    const err = await m.reply(new Uint8Array(0)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoReplyExpectedError);
    expect((err as NoReplyExpectedError).code).toBe('FLTPORT_NO_REPLY_EXPECTED');
    expect((err as Error).message).toContain('0x801F0020');
    expect(binding.lastPort.replies).toHaveLength(0);
    expect(port.stats().inFlight).toBe(0);
  });

  it('refuses a second reply, before any native call', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding });
    binding.lastPort.post({ payload: 'q', replyCapacity: 1 });
    const m = await firstMessage(port);
    await m.replyBytes(new Uint8Array([1]));
    const err = await m.replyBytes(new Uint8Array([1])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AlreadyRepliedError);
    expect((err as AlreadyRepliedError).code).toBe('FLTPORT_ALREADY_REPLIED');
    expect(binding.lastPort.replies).toHaveLength(1);
  });

  it('validates reply options', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding });
    binding.lastPort.post({ payload: 'q', replyCapacity: 1 });
    const m = await firstMessage(port);
    await expect(m.replyBytes(new Uint8Array(0), { status: 2 ** 33 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(m.replyBytes(new Uint8Array(0), { truncate: 'yes' as never })).rejects.toThrow(/truncate must be a boolean/);
    await expect(m.replyBytes(new Uint8Array(0), { stauts: 1 } as never)).rejects.toThrow(/option "stauts" is not known/);
    expect(binding.lastPort.replies).toHaveLength(0);
  });

  it('reports a late reply as LateReplyError (FLTPORT_NO_WAITER), counts it, and keeps the connection', async () => {
    const binding = new FakeBinding();
    const replies = record('fltport:reply');
    await using port = await connect('\\P', { binding });
    const fake = binding.lastPort;
    fake.replyBehavior = (call) => (call.messageId === 1n ? ntError(0xc01c0020, 'FilterReplyMessage') : null);
    fake.post({ payload: 'slow', replyCapacity: 1 }, { payload: 'fast', replyCapacity: 1 });
    const it = port.messages();
    const slow = (await it.next()).value as PortMessage;
    const err = (await slow.replyBytes(new Uint8Array([1])).catch((e: unknown) => e)) as LateReplyError;
    expect(err).toBeInstanceOf(LateReplyError);
    expect(err).toBeInstanceOf(NoWaiterError);
    expect(err.code).toBe('FLTPORT_NO_WAITER');
    expect(err.hresult).toBe(0x801f0020);
    expect(err.messageId).toBe(1n);
    const fast = (await it.next()).value as PortMessage;
    await fast.replyBytes(new Uint8Array([0]));
    await it.return?.();
    expect(port.state).toBe('open');
    expect(port.stats()).toMatchObject({ replied: 1, lateReplies: 1, replyErrors: 0, inFlight: 0 });
    expect(replies.map((e) => (e as { outcome: string }).outcome)).toEqual(['late', 'replied']);
    expect((replies[0] as { messageId: bigint }).messageId).toBe(1n);
  });

  it('passes through the kernel overflow (0x800700EA) as ReplyTooLargeError and counts it', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding });
    binding.lastPort.replyBehavior = () => ntError(0x80000005, 'FilterReplyMessage');
    binding.lastPort.post({ payload: 'q', replyCapacity: 1 });
    const m = await firstMessage(port);
    const err = (await m.replyBytes(new Uint8Array([1])).catch((e: unknown) => e)) as ReplyTooLargeError;
    expect(err).toBeInstanceOf(ReplyTooLargeError);
    expect(err.hresult).toBe(0x800700ea);
    expect(port.stats()).toMatchObject({ replied: 0, replyErrors: 1 });
  });

  it('rejects replies after close with FLTPORT_CLOSED, and pending ones when the port closes', async () => {
    const binding = new FakeBinding();
    const port = await connect('\\P', { binding });
    binding.lastPort.replyBehavior = 'manual';
    binding.lastPort.post({ payload: 'a', replyCapacity: 1 }, { payload: 'b', replyCapacity: 1 });
    const it = port.messages();
    const a = (await it.next()).value as PortMessage;
    const b = (await it.next()).value as PortMessage;
    const pending = a.replyBytes(new Uint8Array([1])).catch((e: unknown) => e);
    await port.close();
    expect(await pending).toBeInstanceOf(ClosedError);
    const late = await b.replyBytes(new Uint8Array([1])).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(ClosedError);
    expect((late as ClosedError).code).toBe('FLTPORT_CLOSED');
    expect(binding.lastPort.replies).toHaveLength(1);
    expect(port.stats().inFlight).toBe(0);
  });

  it('rejects replies to messages of a connection the driver ended, without a native call', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding });
    binding.lastPort.post({ payload: 'a', replyCapacity: 1 });
    const it = port.messages();
    const a = (await it.next()).value as PortMessage;
    binding.lastPort.disconnect();
    const err = await a.replyBytes(new Uint8Array([1])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DisconnectedError);
    expect(binding.lastPort.replies).toHaveLength(0);
    expect(port.stats().inFlight).toBe(0);
  });

  it('settles replies pending at a disconnect: native outcomes after onStopped, then leftovers, never as faults', async () => {
    const binding = new FakeBinding();
    const faults: unknown[] = [];
    await using port = await connect('\\P', { binding, onFault: (e) => faults.push(e) });
    const fake = binding.lastPort;
    fake.replyBehavior = 'manual';
    fake.post({ payload: 'a', replyCapacity: 1 }, { payload: 'b', replyCapacity: 1 });
    const it = port.messages();
    const a = (await it.next()).value as PortMessage;
    const b = (await it.next()).value as PortMessage;
    const ra = a.replyBytes(new Uint8Array([1])).catch((e: unknown) => e);
    const rb = b.replyBytes(new Uint8Array([1])).catch((e: unknown) => e);
    fake.disconnect();
    // Native makes up STATUS_PORT_DISCONNECTED for a reply in flight and delivers it after onStopped.
    fake.completeReply(1, ntError(0xc0000037, 'FilterReplyMessage'));
    const errA = (await ra) as DisconnectedError;
    expect(errA).toBeInstanceOf(DisconnectedError);
    expect(errA.ntstatus).toBe(0xc0000037);
    // Token 2 got no outcome: settled once native close() resolved.
    const errB = (await rb) as DisconnectedError;
    expect(errB).toBeInstanceOf(DisconnectedError);
    expect(errB.message).toContain('connection 1 ended');
    fake.completeReply(2, null); // a straggler for a settled token is ignored
    expect(faults).toEqual([]);
    expect(port.stats()).toMatchObject({ replyErrors: 2, replied: 0, inFlight: 0 });
    await it.return?.();
  });

  it('publishes each received message on fltport:message', async () => {
    const binding = new FakeBinding();
    const events = record('fltport:message');
    await using port = await connect('\\P', { binding });
    binding.lastPort.post({ payload: 'one', id: 5n }, { payload: 'two', id: 6n });
    expect(events.map((e) => (e as { message: PortMessage }).message.id)).toEqual([5n, 6n]);
    expect((events[0] as { portName: string }).portName).toBe('\\P');
    expect(port.stats()).toMatchObject({ received: 2, bytesReceived: 6, queued: 2 });
  });
});
