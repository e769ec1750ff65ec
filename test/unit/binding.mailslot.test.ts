// NativeMailslot and writeMailslot over the real addon. With the fltsim backend the mailslot
// namespace is the scripted wire peer (test/lifecycle/stub-host.ts), in this process; with the
// win32 backend it is Windows' own (a mailslot needs no driver), so the tests that only look
// at what the addon reports run there too, against real mailslots. Tests that watch the peer
// (a read arriving at the host, the CANCEL) or need a connected port skip on win32, saying why.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadBinding, type NativeBatch, type NativeMailslot, type NativePort } from '../../lib/binding.js';
import { backend, needsWin32, skipUnlessFltsim } from '../helpers/backend.js';
import { runFixture } from '../lifecycle/child.js';
import { StubHost } from '../lifecycle/stub-host.js';

const binding = loadBinding();
// Windows mailslot names are machine-wide: the pid keeps concurrent runs apart.
const NAME = `\\\\.\\mailslot\\fltport\\notes-${process.pid}`;
const FOREVER = 0xffffffff;

const skipWatchesHost = skipUnlessFltsim(
  'binding.mailslot: "cancels pending reads on close"',
  'it waits for the read to reach the stub host and counts its CANCEL; Windows exposes neither',
);
const skipNeedsPort = skipUnlessFltsim(
  'binding.mailslot: "keeps NativePort and NativeMailslot methods apart"',
  'needs a connected NativePort, and fltlib.dll has no driver to connect to here (the win32 variant checks the mailslot alone)',
);

// The stub host exists only with the fltsim backend; with win32 the runtime directory is unused.
let host: StubHost | undefined;
const dir = (): string => host?.dir ?? '';
beforeEach(async () => {
  if (backend === 'fltsim') host = await StubHost.start();
});
afterEach(async () => {
  await host?.close();
  host = undefined;
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
    { name: NAME, maxMessageSize, readTimeout, simRuntimeDir: dir() },
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
    if (host) {
      // What the server end asked the namespace for (fltsim only: Windows keeps it to itself).
      const stub = await host.mailslot(NAME);
      expect(stub.maxMessageSize).toBe(0);
    }
    s.slot.read(1, 4096);
    s.slot.read(2, 4096);
    await binding.writeMailslot(NAME, Buffer.from('first note'), dir());
    await binding.writeMailslot(NAME, Buffer.from('second'), dir());
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
    const out = await runFixture('mailslot-info.mjs', { env: { FLTSIM_RUNTIME_DIR: dir() }, timeoutMs: 15_000 });
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

  it.skipIf(skipWatchesHost)('cancels pending reads on close, then refuses everything with a numbered error', async () => {
    const s = await create();
    const stub = await host!.mailslot(NAME);
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
    // fltsim reports the NTSTATUS it answered. On Windows the write is CreateFileW
    // (GetLastError 2, no NTSTATUS); the create is NtCreateMailslotFile, whose
    // STATUS_OBJECT_NAME_COLLISION is reported the way kernel32 would (Win32 183).
    await expect(binding.writeMailslot(NAME, Buffer.from('x'), dir())).rejects.toMatchObject(
      backend === 'win32'
        ? { origin: 'win32', win32: 2, hresult: 0x80070002, syscall: 'CreateFileW' }
        : { ntstatus: 0xc0000034, hresult: 0x80070002 },
    );
    const s = await create();
    await expect(
      binding.createMailslot({ name: NAME, maxMessageSize: 0, readTimeout: 0, simRuntimeDir: dir() }, () => {}, () => {}),
    ).rejects.toMatchObject(
      backend === 'win32' ? { win32: 183, hresult: 0x800700b7 } : { ntstatus: 0xc0000035, hresult: 0x800700b7 },
    );
    await s.slot.close();
  });

  it.skipIf(needsWin32)('refuses a foreign receiver on every NativeMailslot method (type tags; win32 backend, which has no port to compare with)', async () => {
    const s = await create();
    const slotProto = Object.getPrototypeOf(s.slot) as Record<string, (...a: unknown[]) => unknown>;
    const typeError = expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    for (const m of ['read', 'info', 'setReadTimeout', 'close', 'ref', 'unref']) {
      expect(() => slotProto[m]!.call({}), m).toThrow(typeError);
      expect(() => slotProto[m]!.call(undefined), m).toThrow(typeError);
      expect(() => slotProto[m]!.call(binding), m).toThrow(typeError);
    }
    const SlotCtor = (s.slot as object).constructor as new (...a: unknown[]) => unknown;
    expect(() => new SlotCtor()).toThrow(typeError);
    expect(() => new SlotCtor({})).toThrow(typeError);
    await s.slot.close();
    expect(s.stops).toEqual([null]);
  });

  it.skipIf(skipNeedsPort)('keeps NativePort and NativeMailslot methods apart (type tags)', async () => {
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
        simRuntimeDir: dir(),
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
