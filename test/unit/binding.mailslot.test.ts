// NativeMailslot and writeMailslot over the real addon and the POSIX backend, against the
// scripted wire peer (test/lifecycle/stub-host.ts), in this process.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadBinding, type NativeBatch, type NativeMailslot, type NativePort } from '../../lib/binding.js';
import { runFixture } from '../lifecycle/child.js';
import { StubHost } from '../lifecycle/stub-host.js';

const binding = loadBinding();
const NAME = '\\\\.\\mailslot\\fltport\\notes';
const FOREVER = 0xffffffff;

let host: StubHost;
beforeEach(async () => {
  host = await StubHost.start();
});
afterEach(async () => {
  await host.close();
});

interface Slot {
  slot: NativeMailslot;
  batches: NativeBatch[];
  stops: (Error | null)[];
  until(predicate: () => boolean, what: string): Promise<void>;
}

async function create(readTimeout = FOREVER, maxMessageSize = 0): Promise<Slot> {
  const batches: NativeBatch[] = [];
  const stops: (Error | null)[] = [];
  const slot = await binding.createMailslot(
    { name: NAME, maxMessageSize, readTimeout, simRuntimeDir: host.dir },
    (b) => batches.push(b),
    (e) => stops.push(e),
  );
  const until = async (predicate: () => boolean, what: string): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { slot, batches, stops, until };
}

const reads = (batches: NativeBatch[]) =>
  batches.flatMap((b) =>
    Array.from(b.readTokens, (token, i) => ({
      token,
      error: b.readErrors[i],
      text: Buffer.from(new Uint8Array(b.buffer, b.readOffsets[i]!, b.readLengths[i]!)).toString(),
    })),
  );

describe('NativeMailslot', () => {
  it('reads what writeMailslot wrote, one outcome per token', async () => {
    const s = await create();
    const stub = await host.mailslot(NAME);
    expect(stub.maxMessageSize).toBe(0);
    s.slot.read(1, 4096);
    s.slot.read(2, 4096);
    await binding.writeMailslot(NAME, Buffer.from('first note'), host.dir);
    await binding.writeMailslot(NAME, Buffer.from('second'), host.dir);
    await s.until(() => reads(s.batches).length === 2, 'two reads');
    expect(reads(s.batches)).toEqual([
      { token: 1, error: null, text: 'first note' },
      { token: 2, error: null, text: 'second' },
    ]);
    expect(s.batches.every((b) => b.messageCount === 0)).toBe(true);
    await s.slot.close();
    expect(s.stops).toEqual([null]);
  });

  it('answers info() at once and applies setReadTimeout() (from a child: they block on the host)', async () => {
    const out = await runFixture('mailslot-info.mjs', { env: { FLTSIM_RUNTIME_DIR: host.dir }, timeoutMs: 15_000 });
    expect(out.timedOut).toBe(false);
    expect(out.code).toBe(0);
    expect(out.results).toEqual([
      { step: 'created', info: { maxMessageSize: 512, nextSize: 0xffffffff, count: 0, readTimeout: 250 } },
      { step: 'written', info: { maxMessageSize: 512, nextSize: 6, count: 1, readTimeout: 250 } },
      { step: 'forever', info: expect.objectContaining({ readTimeout: FOREVER }) },
      { step: 'immediate', info: expect.objectContaining({ readTimeout: 0 }) },
      { step: 'negative', error: expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }) },
      { step: 'closed', error: expect.objectContaining({ code: 'FLTPORT_NATIVE', win32: 6, hresult: 0x80070006 }) },
    ]);
  });

  it('cancels pending reads on close, then refuses everything with a numbered error', async () => {
    const s = await create();
    const stub = await host.mailslot(NAME);
    s.slot.read(9, 64);
    await s.until(() => stub.pendingReads === 1, 'the read at the host');
    const first = s.slot.close();
    expect(s.slot.close()).toBe(first);
    await first;
    expect(stub.cancels).toBe(1);
    // The cancelled read settles before the stop.
    expect(reads(s.batches)).toEqual([
      { token: 9, error: expect.objectContaining({ ntstatus: 0xc0000120, hresult: 0x800703e3 }), text: '' },
    ]);
    expect(s.stops).toEqual([null]);
    const closed = expect.objectContaining({ code: 'FLTPORT_NATIVE', win32: 6, hresult: 0x80070006 });
    expect(() => s.slot.read(10, 64)).toThrow(closed);
    expect(() => s.slot.info()).toThrow(closed);
    expect(() => s.slot.setReadTimeout(1)).toThrow(closed);
    expect(s.slot.ref()).toBeUndefined();
    expect(s.slot.unref()).toBeUndefined();
    await stub.ended;
  });

  it('reports a missing mailslot and a duplicate name with their NTSTATUS', async () => {
    await expect(binding.writeMailslot(NAME, Buffer.from('x'), host.dir)).rejects.toMatchObject({
      ntstatus: 0xc0000034,
      hresult: 0x80070002,
    });
    const s = await create();
    await expect(
      binding.createMailslot({ name: NAME, maxMessageSize: 0, readTimeout: 0, simRuntimeDir: host.dir }, () => {}, () => {}),
    ).rejects.toMatchObject({ ntstatus: 0xc0000035, hresult: 0x800700b7 });
    await s.slot.close();
  });

  it('keeps NativePort and NativeMailslot methods apart (type tags)', async () => {
    const s = await create();
    const port = await binding.connect(
      {
        name: '\\FltportSample',
        flags: 0,
        context: null,
        concurrency: 1,
        initialBufferSize: 64,
        maxMessageSize: 64,
        highWaterMark: 1,
        simRuntimeDir: host.dir,
      },
      () => {},
      () => {},
    );
    const portProto = Object.getPrototypeOf(port) as Record<string, (...a: unknown[]) => unknown>;
    const slotProto = Object.getPrototypeOf(s.slot) as Record<string, (...a: unknown[]) => unknown>;
    const typeError = expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    // Same method names on both classes: a foreign receiver must be refused, not reinterpreted.
    for (const m of ['close', 'ref', 'unref']) {
      expect(() => portProto[m]!.call(s.slot), m).toThrow(typeError);
      expect(() => slotProto[m]!.call(port), m).toThrow(typeError);
    }
    expect(() => portProto.send!.call(s.slot, null, 8)).toThrow(typeError);
    expect(() => portProto.reply!.call(s.slot, 1, 1n, 0, null)).toThrow(typeError);
    expect(() => slotProto.read!.call(port, 1, 8)).toThrow(typeError);
    expect(() => slotProto.info!.call(port)).toThrow(typeError);
    const SlotCtor = (s.slot as object).constructor as new (...a: unknown[]) => unknown;
    expect(() => new SlotCtor()).toThrow(typeError);
    await Promise.all([s.slot.close(), (port as NativePort).close()]);
  });
});
