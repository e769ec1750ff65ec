import { describe, expect, expectTypeOf, test } from 'vitest';
import {
  BOOLEAN,
  CodecError,
  FILETIME,
  GUID,
  HANDLE,
  type Infer,
  type InferInput,
  LARGE_INTEGER,
  NTSTATUS,
  array,
  bytes,
  cstring,
  enumOf,
  envelope,
  filetime,
  flags,
  struct,
  u16,
  u32,
  u64,
  u8,
  union,
  variant,
  wstring,
} from '../../lib/codec/index.js';

describe('types inferred from schemas', () => {
  test('scalars, strings, arrays and nested structs', () => {
    const Event = struct({
      op: enumOf(u32, { CREATE: 1, WRITE: 2 }),
      flags: flags(u32, { READ: 1, WRITE: 2 }),
      pid: HANDLE,
      size: u64,
      when: FILETIME,
      at: filetime({ as: 'date' }),
      time: LARGE_INTEGER,
      status: NTSTATUS,
      volume: GUID,
      dir: BOOLEAN,
      path: wstring(260),
      name: cstring(16),
      content: bytes(512),
      points: array(struct({ x: u16, y: u16 }), 2),
    });
    expectTypeOf<Infer<typeof Event>>().toEqualTypeOf<{
      op: 'CREATE' | 'WRITE';
      flags: { READ: boolean; WRITE: boolean };
      pid: bigint;
      size: bigint;
      when: bigint;
      at: Date;
      time: bigint;
      status: number;
      volume: string;
      dir: boolean;
      path: string;
      name: string;
      content: Uint8Array;
      points: { x: number; y: number }[];
    }>();
    expectTypeOf<ReturnType<typeof Event.decode>>().toEqualTypeOf<Infer<typeof Event>>();
  });

  test('encode is type-checked', () => {
    const S = struct({ id: u32, name: wstring(8) });
    S.encode({ id: 1, name: 'x' });
    // What the type checker rejects is also rejected at run time, for callers without types.
    // @ts-expect-error a missing field
    expect(() => S.encode({ id: 1 })).toThrow(CodecError);
    // @ts-expect-error a wrongly typed field
    expect(() => S.encode({ id: 1n, name: 'x' })).toThrow(CodecError);
    const E = enumOf(u8, { A: 1 });
    // @ts-expect-error a name that is not in the enum
    expect(() => E.encode('B')).toThrow(CodecError);
    expectTypeOf(S.encode).parameter(0).toEqualTypeOf<{ id: number; name: string }>();
  });

  test('flags as a set, enums with unknown numbers', () => {
    const F = flags(u16, { A: 1, B: 2 }, { as: 'set' });
    expectTypeOf<Infer<typeof F>>().toEqualTypeOf<Set<'A' | 'B'>>();
    expectTypeOf<InferInput<typeof F>>().toEqualTypeOf<ReadonlySet<'A' | 'B'> | readonly ('A' | 'B')[]>();
    const E = enumOf(u8, { A: 1 }, { unknown: 'number' });
    expectTypeOf<Infer<typeof E>>().toEqualTypeOf<'A' | number>();
  });

  test('a struct with a variant is a discriminated union on the tag', () => {
    const Msg = struct({
      seq: u32,
      kind: u32,
      body: variant('kind', { 1: struct({ path: wstring(8) }), 2: struct({ offset: u64 }) }),
    });
    type Msg = Infer<typeof Msg>;
    expectTypeOf<Msg>().toEqualTypeOf<{ seq: number; kind: 1; body: { path: string } } | { seq: number; kind: 2; body: { offset: bigint } }>();
    const decoded = Msg.decode(Msg.encode({ seq: 1, kind: 2, body: { offset: 5n } }));
    if (decoded.kind !== 2) throw new Error('expected kind 2');
    expectTypeOf(decoded.body).toEqualTypeOf<{ offset: bigint }>();
    expect(decoded.body.offset).toBe(5n);
  });

  test('unions: every member on decode, one member on encode', () => {
    const U = union({ q: u64, parts: struct({ lo: u32, hi: u32 }) });
    expectTypeOf<Infer<typeof U>>().toEqualTypeOf<{ q: bigint; parts: { lo: number; hi: number } }>();
    expectTypeOf<InferInput<typeof U>>().toEqualTypeOf<{ q?: bigint; parts?: { lo: number; hi: number } }>();
  });

  test('envelope: discriminated by type; managed header fields are optional on encode', () => {
    const Header = struct({ Magic: u32, Version: u16, Type: u16, Size: u32, Sequence: u32 });
    const M = envelope({
      header: Header,
      magic: { field: 'Magic', value: 1 },
      version: { field: 'Version', value: 1 },
      size: { field: 'Size' },
      type: { field: 'Type' },
      bodies: { 1: struct({ a: u8 }), 2: struct({ b: u64 }) },
    });
    type H = { Magic: number; Version: number; Type: number; Size: number; Sequence: number };
    expectTypeOf<Infer<typeof M>>().toEqualTypeOf<{ type: 1; header: H; body: { a: number } } | { type: 2; header: H; body: { b: bigint } }>();
    expect(M.encode({ type: 2, header: { Sequence: 1 }, body: { b: 1n } }).length).toBe(24);
    // @ts-expect-error the body must match the type
    expect(() => M.encode({ type: 2, header: { Sequence: 1 }, body: { a: 1 } })).toThrow(CodecError);
  });
});
