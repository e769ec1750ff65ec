import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  BOOL,
  BOOLEAN,
  type Codec,
  CodecError,
  FILETIME,
  GUID,
  HANDLE,
  NTSTATUS,
  type Target,
  ULONG_PTR,
  aligned,
  array,
  bytes,
  cstring,
  enumOf,
  f32,
  f64,
  flags,
  i16,
  i32,
  i64,
  i8,
  struct,
  u16,
  u32,
  u64,
  u8,
  variant,
  wstring,
  wstringCounted,
} from '../../lib/codec/index.js';

type AnyCodec = Codec<unknown, unknown>; // what users write; must accept every codec

/** A codec together with an arbitrary of valid values for it on a given target. */
interface Schema {
  codec: AnyCodec;
  value: (target: Target) => fc.Arbitrary<unknown>;
  describe: string;
}

const leaf = (codec: unknown, value: (target: Target) => fc.Arbitrary<unknown>, describe: string): Schema => ({ codec: codec as AnyCodec, value, describe });
const bigIntBits = (bits: number, signed: boolean): fc.Arbitrary<bigint> =>
  signed ? fc.bigInt({ min: -(2n ** BigInt(bits - 1)), max: 2n ** BigInt(bits - 1) - 1n }) : fc.bigInt({ min: 0n, max: 2n ** BigInt(bits) - 1n });
const pointerBits = (target: Target): number => (target === 'x86' ? 32 : 64);
const units = (max: number, min = 1, maxCode = 0xffff): fc.Arbitrary<string> =>
  fc.array(fc.integer({ min, max: maxCode }), { maxLength: max }).map((codes) => String.fromCharCode(...codes));

const leaves: fc.Arbitrary<Schema> = fc.oneof(
  fc.constant(leaf(u8, () => fc.integer({ min: 0, max: 255 }), 'u8')),
  fc.constant(leaf(i8, () => fc.integer({ min: -128, max: 127 }), 'i8')),
  fc.constant(leaf(u16, () => fc.integer({ min: 0, max: 0xffff }), 'u16')),
  fc.constant(leaf(i16, () => fc.integer({ min: -0x8000, max: 0x7fff }), 'i16')),
  fc.constant(leaf(u32, () => fc.integer({ min: 0, max: 0xffffffff }), 'u32')),
  fc.constant(leaf(i32, () => fc.integer({ min: -0x80000000, max: 0x7fffffff }), 'i32')),
  fc.constant(leaf(u64, () => bigIntBits(64, false), 'u64')),
  fc.constant(leaf(i64, () => bigIntBits(64, true), 'i64')),
  fc.constant(leaf(f32, () => fc.float(), 'f32')),
  fc.constant(leaf(f64, () => fc.double(), 'f64')),
  fc.constant(leaf(BOOLEAN, () => fc.boolean(), 'BOOLEAN')),
  fc.constant(leaf(BOOL, () => fc.boolean(), 'BOOL')),
  fc.constant(leaf(NTSTATUS, () => fc.integer({ min: 0, max: 0xffffffff }), 'NTSTATUS')),
  fc.constant(leaf(GUID, () => fc.uuid({ version: [1, 2, 3, 4, 5] }), 'GUID')),
  fc.constant(leaf(FILETIME, () => bigIntBits(64, false), 'FILETIME')),
  fc.constant(leaf(HANDLE, (t) => bigIntBits(pointerBits(t), false), 'HANDLE')),
  fc.constant(leaf(ULONG_PTR, (t) => bigIntBits(pointerBits(t), false), 'ULONG_PTR')),
  fc.integer({ min: 1, max: 40 }).map((n) => leaf(wstring(n), () => units(n - 1), `wstring(${n})`)),
  fc.integer({ min: 1, max: 20 }).map((n) => leaf(cstring(n, { encoding: 'latin1' }), () => units(n - 1, 1, 0xff), `cstring(${n}, latin1)`)),
  fc.integer({ min: 1, max: 20 }).map((n) =>
    leaf(cstring(n), () => fc.string({ unit: 'grapheme', maxLength: n }).filter((s) => !s.includes('\0') && Buffer.byteLength(s) <= n - 1), `cstring(${n})`),
  ),
  fc.integer({ min: 0, max: 24 }).map((n) => leaf(bytes(n), () => fc.uint8Array({ minLength: n, maxLength: n }), `bytes(${n})`)),
  fc.constant(leaf(enumOf(u16, { A: 1, B: 7, C: 0xffff }), () => fc.constantFrom('A', 'B', 'C'), 'enum')),
  fc.constant(leaf(flags(u8, { X: 1, Y: 2, Z: 0x80 }), () => fc.record({ X: fc.boolean(), Y: fc.boolean(), Z: fc.boolean() }), 'flags')),
  fc.constant(leaf(flags(u32, { P: 1, Q: 0x80000000 }, { as: 'set' }), () => fc.subarray(['P', 'Q']).map((a) => new Set(a)), 'flags set')),
  fc.constant(leaf(wstringCounted(u16), () => units(12), 'wstringCounted')),
);

const packs = fc.constantFrom(undefined, 1, 2, 4, 8, 16);

function structOf(children: Schema[], pack: number | undefined, withCount: boolean, withVariant: boolean): Schema {
  const fields: Record<string, AnyCodec> = {};
  const values: Record<string, (t: Target) => fc.Arbitrary<unknown>> = {};
  children.forEach((child, index) => {
    fields[`f${index}`] = child.codec;
    values[`f${index}`] = child.value;
  });
  const options = pack === undefined ? {} : { pack: pack as 1 };
  const first = children[0];
  if (withCount && first !== undefined) {
    fields['n'] = u16;
    fields['list'] = array(first.codec, { countFrom: 'n' });
  }
  if (withVariant && first !== undefined) {
    fields['tag'] = u8;
    fields['body'] = variant('tag', { 1: first.codec, 2: struct({ x: u32 }) }, { size: first.codec.for('x64').fixed && first.codec.for('x86').fixed ? 'union' : 'exact' });
  }
  const codec = struct(fields, options) as unknown as AnyCodec;
  const value = (target: Target): fc.Arbitrary<unknown> => {
    const base: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [name, arb] of Object.entries(values)) base[name] = arb(target);
    let record: fc.Arbitrary<Record<string, unknown>> = fc.record(base);
    if (withCount && first !== undefined) {
      record = record.chain((r) => fc.array(first.value(target), { maxLength: 3 }).map((list) => ({ ...r, n: list.length, list })));
    }
    if (withVariant && first !== undefined) {
      record = record.chain((r) =>
        fc.oneof(
          first.value(target).map((body) => ({ ...r, tag: 1, body })),
          fc.integer({ min: 0, max: 0xffffffff }).map((x) => ({ ...r, tag: 2, body: { x } })),
        ),
      );
    }
    return record;
  };
  return { codec, value, describe: `struct{${children.map((c) => c.describe).join(', ')}${withCount ? ', n, list' : ''}${withVariant ? ', tag, body' : ''}}${pack === undefined ? '' : ` pack(${pack})`}` };
}

const schema: fc.Arbitrary<Schema> = fc.letrec<{ node: Schema }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaves,
    fc
      .record({ children: fc.array(tie('node'), { minLength: 1, maxLength: 5 }), pack: packs, withCount: fc.boolean(), withVariant: fc.boolean() })
      .map(({ children, pack, withCount, withVariant }) => structOf(children, pack, withCount, withVariant)),
    fc.record({ child: tie('node'), count: fc.integer({ min: 0, max: 3 }) }).map(({ child, count }) => ({
      codec: array(child.codec, count) as unknown as AnyCodec,
      value: (t: Target) => fc.array(child.value(t), { minLength: count, maxLength: count }),
      describe: `array(${child.describe}, ${count})`,
    })),
    fc.record({ child: tie('node'), align: fc.constantFrom(4, 16) }).map(({ child, align }) => ({
      codec: aligned(child.codec, align),
      value: child.value,
      describe: `aligned(${child.describe}, ${align})`,
    })),
  ),
})).node.filter((s) => {
  try {
    // Schemas whose variant tag would be shadowed etc. are fine; this only rejects construction errors.
    s.codec.for('x64');
    return true;
  } catch {
    return false;
  }
});

/** Decoded byte arrays are Buffers on Node; compare contents, not constructors. */
function normalize(value: unknown): unknown {
  if (value instanceof Uint8Array) return { bytes: [...value] };
  if (value instanceof Set) return { set: [...value].sort() };
  if (Array.isArray(value)) return value.map(normalize);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  return value;
}

const targetArb = fc.constantFrom<Target>('x64', 'x86', 'arm64');
const withValue = fc.tuple(schema, targetArb).chain(([s, target]) => fc.tuple(fc.constant(s), fc.constant(target), s.value(target), fc.integer({ min: 0, max: 9 })));

describe('property: random schemas', () => {
  test('encode → decode round-trips, at any offset, and sizes agree', () => {
    fc.assert(
      fc.property(withValue, ([s, target, value, offset]) => {
        const codec = s.codec.for(target);
        const size = codec.encodedSize(value);
        const encoded = codec.encode(value);
        expect(encoded.length).toBe(size);
        if (codec.fixed) expect(size).toBe(codec.size);
        expect(normalize(codec.decode(encoded))).toEqual(normalize(value));
        // Into a dirty buffer at an odd offset: the same bytes, nothing outside touched.
        const dirty = new Uint8Array(offset + size + 3).fill(0xa5);
        expect(codec.encodeInto(value, dirty, offset)).toBe(size);
        expect([...dirty.subarray(offset, offset + size)]).toEqual([...encoded]);
        expect(dirty[offset + size]).toBe(0xa5);
        const again = codec.decodeWithLength(dirty, offset);
        expect(again.byteLength).toBe(size);
        expect(normalize(again.value)).toEqual(normalize(value));
      }),
      { numRuns: 300 },
    );
  });

  test('random bytes never make decode throw anything but CodecError', () => {
    fc.assert(
      fc.property(schema, targetArb, fc.uint8Array({ maxLength: 300 }), fc.nat(310), (s, target, input, offset) => {
        try {
          s.codec.for(target).decode(input, offset);
        } catch (error) {
          expect(error).toBeInstanceOf(CodecError);
          expect((error as CodecError).code).toBe('FLTPORT_CODEC');
          expect(typeof (error as CodecError).offset).toBe('number');
        }
      }),
      { numRuns: 500 },
    );
  });

  test('encoding a truncated encoding back always fails with CodecError for fixed schemas', () => {
    fc.assert(
      fc.property(withValue, ([s, target, value]) => {
        const codec = s.codec.for(target);
        const encoded = codec.encode(value);
        fc.pre(codec.fixed && encoded.length > 0);
        expect(() => codec.decode(encoded.subarray(0, encoded.length - 1))).toThrow(CodecError);
      }),
      { numRuns: 200 },
    );
  });
});
