import { afterEach, describe, expect, it, vi } from 'vitest';

import { AbortError, AlreadyExistsError, ClosedError, InvalidArgumentError, NotFoundError, TimeoutError } from '../../lib/errors.js';
import { Mailslot } from '../../lib/mailslot.js';
import { FakeBinding } from '../helpers/fake-binding.js';

const NAME = '\\\\.\\mailslot\\fltport\\notes';
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

afterEach(() => {
  vi.useRealTimers();
});

describe('Mailslot', () => {
  it('creates with validated options and reads written messages in order', async () => {
    const binding = new FakeBinding();
    await using slot = await Mailslot.create(NAME, { binding, maxMessageSize: 512, readTimeout: 250, simRuntimeDir: '/s' });
    expect(binding.calls[0]).toEqual({
      fn: 'createMailslot',
      args: [{ name: NAME, maxMessageSize: 512, readTimeout: 250, simRuntimeDir: '/s' }],
    });
    await Mailslot.write(NAME, enc('first'), { binding, simRuntimeDir: '/s' });
    await Mailslot.write('\\\\.\\MAILSLOT\\fltport\\notes', enc(''), { binding });
    expect(text(await slot.read())).toBe('first');
    expect((await slot.read()).byteLength).toBe(0); // zero-length messages are messages
    const fake = binding.mailslots.get(NAME.toLowerCase());
    expect(fake?.readCalls.map((r) => r.maxSize)).toEqual([512, 512]);
  });

  it('defaults to any size and wait-forever', async () => {
    const binding = new FakeBinding();
    await using slot = await Mailslot.create(NAME, { binding });
    expect(binding.calls[0]?.args[0]).toMatchObject({ maxMessageSize: 0, readTimeout: 0xffffffff });
    expect(slot.info()).toEqual({ maxMessageSize: 0, nextSize: null, count: 0, readTimeout: Number.POSITIVE_INFINITY });
    await Mailslot.write(NAME, enc('abc'), { binding });
    await Promise.resolve();
    expect(slot.info()).toMatchObject({ nextSize: 3, count: 1 });
  });

  it('read() surfaces an immediate timeout (readTimeout 0) as FLTPORT_TIMEOUT / ERROR_SEM_TIMEOUT', async () => {
    const binding = new FakeBinding();
    await using slot = await Mailslot.create(NAME, { binding, readTimeout: 0 });
    const err = (await slot.read().catch((e: unknown) => e)) as TimeoutError;
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.code).toBe('FLTPORT_TIMEOUT');
    expect(err.hresult).toBe(0x80070079);
  });

  it('read() surfaces a finite timeout after it elapses', async () => {
    vi.useFakeTimers();
    const binding = new FakeBinding();
    await using slot = await Mailslot.create(NAME, { binding, readTimeout: 1000 });
    const pending = slot.read().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(999);
    let settled = false;
    void pending.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await pending).toBeInstanceOf(TimeoutError);
  });

  it('the iterator waits through timeouts, polling gently when readTimeout is 0', async () => {
    vi.useFakeTimers();
    const binding = new FakeBinding();
    const slot = await Mailslot.create(NAME, { binding, readTimeout: 0, pollInterval: 100 });
    const fake = binding.mailslots.get(NAME.toLowerCase());
    const got: string[] = [];
    const loop = (async () => {
      for await (const m of slot) got.push(text(m));
    })();
    await vi.advanceTimersByTimeAsync(1000);
    // ~one read per poll interval, not a spin.
    expect(fake?.readCalls.length).toBeGreaterThanOrEqual(9);
    expect(fake?.readCalls.length).toBeLessThanOrEqual(12);
    fake?.write('hello');
    await vi.advanceTimersByTimeAsync(100);
    expect(got).toEqual(['hello']);
    await slot.close();
    await loop;
  });

  it('re-reads with a larger buffer when a message does not fit (it stays queued)', async () => {
    const binding = new FakeBinding();
    await using slot = await Mailslot.create(NAME, { binding });
    const big = new Uint8Array(100_000).fill(7);
    await Mailslot.write(NAME, big, { binding });
    const got = await slot.read();
    expect(got.byteLength).toBe(100_000);
    expect(got[99_999]).toBe(7);
    const fake = binding.mailslots.get(NAME.toLowerCase());
    expect(fake?.readCalls.map((r) => r.maxSize)).toEqual([65_536, 100_000]);
  });

  it('keeps a message that arrives for an aborted read for the next read', async () => {
    const binding = new FakeBinding();
    await using slot = await Mailslot.create(NAME, { binding });
    const ac = new AbortController();
    const first = slot.read({ signal: ac.signal }).catch((e: unknown) => e);
    ac.abort();
    expect(await first).toBeInstanceOf(AbortError);
    await Mailslot.write(NAME, enc('kept'), { binding });
    await new Promise((r) => setImmediate(r));
    expect(text(await slot.read())).toBe('kept');
  });

  it('close() rejects pending reads with FLTPORT_CLOSED and ends iterators normally', async () => {
    const binding = new FakeBinding();
    const slot = await Mailslot.create(NAME, { binding });
    const pending = slot.read().catch((e: unknown) => e);
    const it = slot.messages();
    const next = it.next();
    await Promise.resolve();
    await slot.close();
    expect(await pending).toBeInstanceOf(ClosedError);
    expect(await next).toEqual({ done: true, value: undefined });
    await expect(slot.read()).rejects.toBeInstanceOf(ClosedError);
    expect(() => slot.info()).toThrow(ClosedError);
    // The name is free again.
    await using again = await Mailslot.create(NAME, { binding });
    expect(again.name).toBe(NAME);
  });

  it('setReadTimeout changes later reads; Infinity means forever', async () => {
    const binding = new FakeBinding();
    await using slot = await Mailslot.create(NAME, { binding });
    slot.setReadTimeout(0);
    expect(slot.info().readTimeout).toBe(0);
    await expect(slot.read()).rejects.toBeInstanceOf(TimeoutError);
    slot.setReadTimeout(Number.POSITIVE_INFINITY);
    expect(binding.mailslots.get(NAME.toLowerCase())?.readTimeout).toBe(0xffffffff);
    expect(() => slot.setReadTimeout(-5)).toThrow(InvalidArgumentError);
  });

  it('reports a taken name and a missing mailslot with typed errors', async () => {
    const binding = new FakeBinding();
    await using _slot = await Mailslot.create(NAME, { binding });
    const taken = (await Mailslot.create(NAME, { binding }).catch((e: unknown) => e)) as AlreadyExistsError;
    expect(taken).toBeInstanceOf(AlreadyExistsError);
    expect(taken.hresult).toBe(0x800700b7);
    const missing = (await Mailslot.write('\\\\.\\mailslot\\nobody', enc('x'), { binding }).catch((e: unknown) => e)) as NotFoundError;
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing.hresult).toBe(0x80070002);
  });

  it.each([
    ['mailslot\\x', 'is not a local mailslot name'],
    ['\\\\server\\mailslot\\x', 'is not a local mailslot name'],
    ['\\\\.\\mailslot\\', 'empty path component'],
    ['\\\\.\\mailslot\\a\\\\b', 'empty path component'],
    ['\\\\.\\mailslot\\a?b', 'character not allowed'],
  ])('refuses the create name %s', async (name, why) => {
    const binding = new FakeBinding();
    await expect(Mailslot.create(name, { binding })).rejects.toThrow(why);
    expect(binding.calls).toHaveLength(0);
  });

  it('writes to remote and broadcast names, limiting broadcasts to 424 bytes', async () => {
    const binding = new FakeBinding();
    await expect(Mailslot.write('\\\\*\\mailslot\\x', new Uint8Array(425), { binding })).rejects.toThrow(/at most 424/);
    expect(binding.calls).toHaveLength(0);
    await expect(Mailslot.write('\\\\*\\mailslot\\x', new Uint8Array(424), { binding })).rejects.toBeInstanceOf(NotFoundError);
    expect(binding.calls.map((c) => c.fn)).toEqual(['writeMailslot']);
  });

  it('validates create options', async () => {
    const binding = new FakeBinding();
    await expect(Mailslot.create(NAME, { binding, readTimeout: 1.5 })).rejects.toThrow(/readTimeout must be an integer/);
    await expect(Mailslot.create(NAME, { binding, maxMessageSize: -1 })).rejects.toThrow(/maxMessageSize must be between/);
    await expect(Mailslot.create(NAME, { binding, readTimout: 1 } as never)).rejects.toThrow(/"readTimout" is not known/);
  });
});
