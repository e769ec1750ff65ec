// Type-level tests: checked by `tsc -p test/tsconfig.json` (npm run typecheck); the runtime
// part also exercises a real codec from lib/codec through a port end to end.
import { expectTypeOf } from 'expect-type';
import { describe, expect, it } from 'vitest';

import { BOOLEAN, struct, u32, u64, wstring } from '../../lib/codec/index.js';
import type { PortMessage } from '../../lib/message-stream.js';
import { type Port, connect } from '../../lib/port.js';
import { FakeBinding } from '../helpers/fake-binding.js';

const Notification = struct({ pid: u32, size: u64, path: wstring(8) });
const Verdict = struct({ allow: BOOLEAN }, { pack: 1 });

describe('types inferred from codecs', () => {
  it('infers body and reply types from the message and reply codecs', async () => {
    const binding = new FakeBinding();
    const port = await connect('\\P', { binding, message: Notification, reply: Verdict });
    expectTypeOf(port).toEqualTypeOf<Port<{ pid: number; size: bigint; path: string }, { allow: boolean }>>();
    const m = await new Promise<PortMessage<{ pid: number; size: bigint; path: string }, { allow: boolean }>>((resolve) => {
      const it = port.messages();
      void it.next().then((r) => resolve(r.value as never));
      binding.lastPort.post({ payload: Notification.encode({ pid: 4, size: 10n, path: 'C:\\a' }), replyCapacity: Verdict.size });
    });
    expectTypeOf(m.body).toEqualTypeOf<{ pid: number; size: bigint; path: string }>();
    expectTypeOf(m.reply).parameter(0).toEqualTypeOf<{ allow: boolean }>();
    // @ts-expect-error the reply codec takes { allow }, not bytes
    void m.reply(new Uint8Array(1)).catch(() => {});
    expect(m.body).toEqual({ pid: 4, size: 10n, path: 'C:\\a' });
    // Verdict is 1 byte under pack(1): exactly the driver's budget.
    expect(m.replyCapacity).toBe(1);
    await m.reply({ allow: true });
    expect(binding.lastPort.replies[0]?.payload).toEqual(new Uint8Array([1]));
    await port.close();
  });

  it('defaults to bytes without codecs', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding });
    expectTypeOf(port).toEqualTypeOf<Port<Uint8Array, Uint8Array>>();
    binding.lastPort.post({ payload: new Uint8Array([9]) });
    for await (const msg of port) {
      expectTypeOf(msg.body).toEqualTypeOf<Uint8Array>();
      expect(msg.body).toEqual(new Uint8Array([9]));
      break;
    }
  });

  it('types send() by its codecs', async () => {
    const binding = new FakeBinding();
    await using port = await connect('\\P', { binding });
    binding.lastPort.sendHandler = async (_i, cap) => ({ bytes: new Uint8Array(cap), returned: cap });
    const raw = await port.send(new Uint8Array([1]));
    expectTypeOf(raw).toEqualTypeOf<Uint8Array>();
    const decoded = await port.send({ pid: 1, size: 2n, path: '' }, { codec: Notification, replyCodec: Verdict });
    expectTypeOf(decoded).toEqualTypeOf<{ allow: boolean }>();
    expect(decoded).toEqual({ allow: false });
    expect(binding.lastPort.sends[1]?.outputCapacity).toBe(1);
    // @ts-expect-error without a codec, send takes bytes
    await port.send({ pid: 1 }).catch(() => {});
  });

  it('requires contextCodec for a non-bytes context', () => {
    const binding = new FakeBinding();
    // @ts-expect-error a structured context needs its codec
    void connect('\\P', { binding, context: { pid: 1 } }).catch(() => {});
    const ok = connect('\\P', { binding, context: { pid: 1 }, contextCodec: struct({ pid: u32 }) });
    expectTypeOf(ok).resolves.toEqualTypeOf<Port<Uint8Array, Uint8Array>>();
    void ok.then((p) => p.close());
  });
});
