import diagnosticsChannel from 'node:diagnostics_channel';

import { afterEach, describe, expect, it, vi } from 'vitest';

import {
  AbortError,
  BufferTooSmallError,
  ClosedError,
  DisconnectedError,
  FltportError,
  InvalidArgumentError,
  MessageTooLargeError,
  ProtocolError,
} from '../../lib/errors.js';
import type { PortMessage } from '../../lib/message-stream.js';
import { backoffDelay, connect } from '../../lib/port.js';
import { FakeBinding, ntError, win32Error } from '../helpers/fake-binding.js';

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

const unsubscribers: Array<() => void> = [];
afterEach(() => {
  vi.useRealTimers();
  for (const u of unsubscribers.splice(0)) u();
});
function record(name: string): Array<Record<string, unknown>> {
  const events: Array<Record<string, unknown>> = [];
  const fn = (e: unknown): void => {
    events.push(e as Record<string, unknown>);
  };
  diagnosticsChannel.subscribe(name, fn);
  unsubscribers.push(() => diagnosticsChannel.unsubscribe(name, fn));
  return events;
}

describe('reconnect', () => {
  it('computes exponential backoff capped at maxDelay', () => {
    const r = { initialDelay: 100, maxDelay: 1000, factor: 2, maxAttempts: 10 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(r, n))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('keeps one iterator going across a reconnect, with backoff and diagnostics', async () => {
    vi.useFakeTimers();
    const binding = new FakeBinding();
    const disconnects = record('fltport:disconnect');
    const reconnects = record('fltport:reconnect');
    await using port = await connect('\\P', { binding, reconnect: { initialDelay: 100, factor: 3, maxDelay: 10_000 } });
    const first = binding.lastPort;
    const it = port.messages();
    first.post({ payload: 'one' });
    expect(text(((await it.next()).value as PortMessage).bytes)).toBe('one');

    binding.connectPlan.push(ntError(0xc0000034, 'FilterConnectCommunicationPort'), 'ok');
    const waiting = it.next();
    first.disconnect();
    expect(port.state).toBe('reconnecting');
    expect(disconnects).toHaveLength(1);
    expect(disconnects[0]).toMatchObject({ portName: '\\P', connection: 1, reason: 'disconnected' });

    await vi.advanceTimersByTimeAsync(99);
    expect(binding.connectCalls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1); // attempt 1 at 100 ms: port not found yet
    expect(binding.connectCalls).toHaveLength(2);
    expect(port.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(299);
    expect(binding.connectCalls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1); // attempt 2 at +300 ms: connected
    expect(binding.connectCalls).toHaveLength(3);
    expect(port.state).toBe('open');
    expect(port.connection).toBe(2); // the failed attempt is not a connection
    expect(reconnects.map((e) => [e['attempt'], e['delay'], e['outcome']])).toEqual([
      [1, 100, 'failed'],
      [2, 300, 'connected'],
    ]);
    expect((reconnects[0]?.['error'] as FltportError).code).toBe('FLTPORT_NOT_FOUND');

    binding.lastPort.post({ payload: 'two' });
    const m = (await waiting).value as PortMessage;
    expect(text(m.bytes)).toBe('two');
    expect(m.connection).toBe(2);
    expect(binding.lastPort.consumedTotal).toBe(1);
    expect(port.stats().reconnects).toBe(1);
    await it.return?.();
  });

  it('gives up after maxAttempts and then throws DisconnectedError from the iterator', async () => {
    vi.useFakeTimers();
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding, reconnect: { initialDelay: 10, maxAttempts: 2 } });
    binding.connectPlan.push(ntError(0xc0000034, 'FilterConnectCommunicationPort'), ntError(0xc0000034, 'FilterConnectCommunicationPort'));
    const next = port.messages().next().catch((e: unknown) => e);
    binding.lastPort.disconnect();
    await vi.advanceTimersByTimeAsync(10 + 20);
    const err = (await next) as DisconnectedError;
    expect(err).toBeInstanceOf(DisconnectedError);
    expect(err.message).toContain('gave up reconnecting after 2 attempts');
    expect((err.cause as FltportError).code).toBe('FLTPORT_NOT_FOUND');
    expect(port.state).toBe('disconnected');
    expect(binding.connectCalls).toHaveLength(3);
  });

  it('close() during backoff stops reconnecting and ends the iterator normally', async () => {
    vi.useFakeTimers();
    const binding = new FakeBinding();
    const port = await connect('\\P', { binding, reconnect: true });
    const next = port.messages().next();
    binding.lastPort.disconnect();
    await port.close();
    expect(await next).toEqual({ done: true, value: undefined });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(binding.connectCalls).toHaveLength(1);
  });

  it('send() while reconnecting fails fast with DisconnectedError', async () => {
    vi.useFakeTimers();
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding, reconnect: true });
    binding.lastPort.disconnect();
    await expect(port.send(new Uint8Array([1]))).rejects.toBeInstanceOf(DisconnectedError);
  });
});

describe('close and dispose', () => {
  it('is idempotent, closes native once, and resolves `closed`', async () => {
    const binding = new FakeBinding();
    const port = await connect('\\P', { binding });
    const a = port.close();
    const b = port.close();
    expect(a).toBe(b);
    await a;
    expect(binding.lastPort.closeCalls).toBe(1);
    expect(await port.closed).toEqual({ reason: 'closed' });
    await expect(port.send(null)).rejects.toBeInstanceOf(ClosedError);
  });

  it('await using closes the port', async () => {
    const binding = new FakeBinding();
    {
      await using port = await connect('\\P', { binding });
      expect(port.state).toBe('open');
    }
    expect(binding.lastPort.closeCalls).toBe(1);
  });

  it('forwards ref/unref to the native port', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding });
    port.unref();
    expect(binding.lastPort.refed).toBe(false);
    port.ref();
    expect(binding.lastPort.refed).toBe(true);
  });
});

describe('port.send()', () => {
  it('sends bytes and resolves with the returned bytes only', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding });
    binding.lastPort.sendHandler = async (input, cap) => {
      const out = new Uint8Array(cap);
      out.set(input ?? new Uint8Array(0));
      return { bytes: out, returned: input?.byteLength ?? 0 };
    };
    const out = await port.send(new Uint8Array([1, 2, 3]), { replyCapacity: 16 });
    expect(out).toEqual(new Uint8Array([1, 2, 3]));
    expect(binding.lastPort.sends).toEqual([{ input: new Uint8Array([1, 2, 3]), outputCapacity: 16 }]);
    expect(port.stats().sent).toBe(1);
  });

  it('encodes with codec, decodes with replyCodec, and sizes the output from a fixed-size codec', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding });
    binding.lastPort.sendHandler = async (_input, cap) => ({ bytes: new Uint8Array([7, 0, 0, 0].slice(0, cap)), returned: 4 });
    const codec = { encode: (v: { op: number }) => new Uint8Array([v.op]) };
    const replyCodec = { size: 4, fixed: true, decode: (b: Uint8Array) => ({ count: b[0] ?? -1 }) };
    const res = await port.send({ op: 9 }, { codec, replyCodec });
    expect(res).toEqual({ count: 7 });
    expect(binding.lastPort.sends).toEqual([{ input: new Uint8Array([9]), outputCapacity: 4 }]);
  });

  it('needs replyCapacity for a variable-size replyCodec', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding });
    const replyCodec = { size: 2, fixed: false, decode: (b: Uint8Array) => b.byteLength };
    await expect(port.send(null, { replyCodec })).rejects.toThrow(/replyCapacity is required/);
    expect(binding.lastPort.sends).toHaveLength(0);
  });

  it('sends NULL input for null/undefined and rejects non-bytes without a codec', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding });
    await port.send();
    expect(binding.lastPort.sends[0]).toEqual({ input: null, outputCapacity: 0 });
    await expect(port.send('text' as never)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('surfaces driver errors with their numbers (e.g. STATUS_NO_MORE_ENTRIES, output too small)', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding });
    binding.lastPort.sendHandler = () => Promise.reject(binding.makeError(ntError(0x8000001a, 'FilterSendMessage')));
    const none = (await port.send(null).catch((e: unknown) => e)) as FltportError;
    expect(none.code).toBe('FLTPORT_NO_MORE_ENTRIES');
    expect(none.hresult).toBe(0x80070103);
    binding.lastPort.sendHandler = () => Promise.reject(binding.makeError(ntError(0x80000005, 'FilterSendMessage')));
    expect(await port.send(null).catch((e: unknown) => e)).toBeInstanceOf(BufferTooSmallError);
    expect(port.stats().sendErrors).toBe(2);
  });

  it('stops waiting on abort, and rejects pending sends with FLTPORT_CLOSED on close', async () => {
    const binding = new FakeBinding();
    const port = await connect('\\P', { binding });
    binding.lastPort.sendHandler = () => new Promise(() => {});
    const ac = new AbortController();
    const aborted = port.send(null, { signal: ac.signal }).catch((e: unknown) => e);
    ac.abort();
    expect(await aborted).toBeInstanceOf(AbortError);
    const pending = port.send(null).catch((e: unknown) => e);
    await port.close();
    expect(await pending).toBeInstanceOf(ClosedError);
  });
});

describe('faults', () => {
  it('turns a short receive into MessageTooLargeError with the size, counts it and warns once', async () => {
    const binding = new FakeBinding();
    const warnings: Array<string | Error> = [];
    const onWarning = (w: Error): void => {
      warnings.push(w);
    };
    process.on('warning', onWarning);
    const faults = record('fltport:fault');
    try {
      await using port = await connect('\\P', { binding, maxMessageSize: 1024 });
      binding.lastPort.fault({ ...win32Error(122, 'FilterGetMessage'), requiredSize: 2016 });
      binding.lastPort.fault({ ...win32Error(122, 'FilterGetMessage'), requiredSize: 3016 });
      await new Promise((r) => setImmediate(r));
      expect(port.stats().faults).toBe(2);
      const err = faults[0]?.['error'] as MessageTooLargeError;
      expect(err).toBeInstanceOf(MessageTooLargeError);
      expect(err.code).toBe('FLTPORT_MESSAGE_TOO_LARGE');
      expect([err.size, err.maxMessageSize]).toEqual([2000, 1024]);
      expect(warnings.filter((w) => String((w as Error).message).includes('maxMessageSize'))).toHaveLength(1);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('hands faults to onFault, including malformed deliveries', async () => {
    const binding = new FakeBinding();
    const seen: FltportError[] = [];
    await using port = await connect('\\P', { binding, onFault: (e) => seen.push(e) });
    binding.lastPort.deliver({ messages: [{ id: 1n, replyLength: 8, payload: new Uint8Array(2) }] });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(ProtocolError);
    expect(seen[0]?.message).toContain('ReplyLength 8');
    // Native counted the malformed message as delivered: its credit is returned.
    expect(binding.lastPort.consumedCalls).toEqual([1]);
    expect(port.stats()).toMatchObject({ faults: 1, received: 0 });
  });
});
