import { describe, expect, test } from 'vitest';
import {
  BOOLEAN,
  FILETIME,
  GUID,
  HANDLE,
  LARGE_INTEGER,
  NTSTATUS,
  ULONG_PTR,
  aligned,
  array,
  bytes,
  layoutOf,
  struct,
  u16,
  u32,
  u64,
  u8,
  union,
  wstring,
} from '../../lib/codec/index.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('MSVC struct layout', () => {
  test('natural alignment: {u8; u64} is 16 bytes with the u64 at 8', () => {
    const S = struct({ a: u8, b: u64 });
    expect(S.size).toBe(16);
    expect(S.alignment).toBe(8);
    expect(S.offsetOf('b')).toBe(8);
    expect(hex(S.encode({ a: 0xaa, b: 0x1122334455667788n }))).toBe('aa000000000000008877665544332211');
  });

  test('#pragma pack(1): {u8; u64} is 9 bytes', () => {
    const S = struct({ a: u8, b: u64 }, { pack: 1 });
    expect(S.size).toBe(9);
    expect(S.alignment).toBe(1);
    expect(S.offsetOf('b')).toBe(1);
    expect(hex(S.encode({ a: 1, b: 2n }))).toBe('010200000000000000');
  });

  test('pack(2) and pack(4) cap alignment at the pack value', () => {
    expect(struct({ a: u8, b: u64 }, { pack: 2 }).offsetOf('b')).toBe(2);
    expect(struct({ a: u8, b: u64 }, { pack: 2 }).size).toBe(10);
    expect(struct({ a: u8, b: u64 }, { pack: 4 }).offsetOf('b')).toBe(4);
    expect(struct({ a: u8, b: u64 }, { pack: 4 }).size).toBe(12);
    // pack larger than natural alignment changes nothing
    expect(struct({ a: u8, b: u16 }, { pack: 8 }).size).toBe(4);
  });

  test("scanner sample: SCANNER_REPLY_MESSAGE under pack(1) is 17 while FILTER_REPLY_HEADER keeps 16", () => {
    const FILTER_REPLY_HEADER = struct({ Status: NTSTATUS, MessageId: u64 }, { name: 'FILTER_REPLY_HEADER' });
    const SCANNER_REPLY = struct({ SafeToOpen: BOOLEAN });
    const SCANNER_REPLY_MESSAGE = struct({ ReplyHeader: FILTER_REPLY_HEADER, Reply: SCANNER_REPLY }, { pack: 1 });
    expect(FILTER_REPLY_HEADER.size).toBe(16);
    expect(FILTER_REPLY_HEADER.alignment).toBe(8);
    expect(FILTER_REPLY_HEADER.offsetOf('MessageId')).toBe(8);
    expect(SCANNER_REPLY_MESSAGE.size).toBe(17);
    expect(SCANNER_REPLY_MESSAGE.offsetOf('Reply.SafeToOpen')).toBe(16);
    const bytes = SCANNER_REPLY_MESSAGE.encode({ ReplyHeader: { Status: 0, MessageId: 7n }, Reply: { SafeToOpen: true } });
    expect(hex(bytes)).toBe('00000000000000000700000000000000' + '01');
    // Without the pack pragma the BOOLEAN would be followed by 7 bytes of tail padding.
    expect(struct({ ReplyHeader: FILTER_REPLY_HEADER, Reply: SCANNER_REPLY }).size).toBe(24);
  });

  test('nested struct alignment and tail padding', () => {
    const Inner = struct({ x: u32, y: u8 }); // 8 bytes, align 4
    const Outer = struct({ tag: u8, inner: Inner, tail: u16 });
    expect(Inner.size).toBe(8);
    expect(Outer.offsetOf('inner')).toBe(4);
    expect(Outer.offsetOf('inner.y')).toBe(8);
    expect(Outer.offsetOf('tail')).toBe(12);
    expect(Outer.size).toBe(16);
    const bytes = Outer.encode({ tag: 1, inner: { x: 2, y: 3 }, tail: 4 });
    expect(hex(bytes)).toBe('01000000' + '02000000' + '03000000' + '0400' + '0000');
  });

  test('arrays of structs use the padded element size as stride', () => {
    const Pair = struct({ a: u32, b: u8 }); // 8
    const S = struct({ count: u16, items: array(Pair, 3) });
    expect(S.offsetOf('items')).toBe(4);
    expect(S.offsetOf('items.2.b')).toBe(4 + 16 + 4);
    expect(S.size).toBe(28);
    const value = { count: 3, items: [{ a: 1, b: 2 }, { a: 3, b: 4 }, { a: 5, b: 6 }] };
    const bytes = S.encode(value);
    expect(hex(bytes)).toBe('03000000' + '0100000002000000' + '0300000004000000' + '0500000006000000');
    expect(S.decode(bytes)).toEqual(value);
  });

  test('__declspec(align) raises alignment and survives pack (MSVC /Zp table example)', () => {
    // The example from the MSVC `align` docs ("How align works with data packing"):
    // struct S {char a; short b; double c; CACHE_ALIGN double d; char e; double f;} under /Zp1../Zp8.
    // GCC/mingw differs here (pack caps aligned members), so the mingw self-test cannot cover it.
    const S = (pack?: 1 | 2 | 4 | 8) =>
      struct({ a: u8, b: u16, c: u64, d: aligned(u64, 32), e: u8, f: u64 }, pack === undefined ? {} : { pack });
    expect([1, 2, 4, 8].map((p) => ['b', 'c', 'd', 'e', 'f'].map((f) => S(p as 1).offsetOf(f)))).toEqual([
      [1, 3, 32, 40, 41],
      [2, 4, 32, 40, 42],
      [2, 4, 32, 40, 44],
      [2, 8, 32, 40, 48],
    ]);
    expect(S(1).size).toBe(64);
    expect(S(8).size).toBe(64);
    expect(S(1).alignment).toBe(32);
  });

  test('struct-level align option (DECLSPEC_ALIGN on the type)', () => {
    const A = struct({ v: u32 }, { align: 16 });
    expect(A.size).toBe(16);
    expect(A.alignment).toBe(16);
    const S = struct({ a: u8, b: A }, { pack: 1 });
    expect(S.offsetOf('b')).toBe(16);
    expect(S.size).toBe(32);
  });

  test('pointer-sized fields follow the target', () => {
    const S = struct({ a: u8, h: HANDLE, p: ULONG_PTR, t: u32 });
    expect(S.size).toBe(32);
    expect(S.offsetOf('p')).toBe(16);
    const x86 = S.for('x86');
    expect(x86.size).toBe(16);
    expect(x86.offsetOf('h')).toBe(4);
    expect(x86.offsetOf('p')).toBe(8);
    expect(S.for('arm64').size).toBe(32);
    const value = { a: 1, h: 0x10n, p: 0xffffffffn, t: 9 };
    expect(hex(x86.encode(value))).toBe('01000000' + '10000000' + 'ffffffff' + '09000000');
    expect(x86.decode(x86.encode(value))).toEqual(value);
    expect(() => x86.encode({ ...value, p: 0x1_0000_0000n })).toThrow(/32-bit ULONG_PTR/);
  });

  test('Windows composite types: GUID align 4, LARGE_INTEGER align 8, FILETIME align 4', () => {
    expect(struct({ a: u8, g: GUID }).offsetOf('g')).toBe(4);
    expect(struct({ a: u8, g: GUID }).size).toBe(20);
    expect(struct({ a: u32, l: LARGE_INTEGER }).offsetOf('l')).toBe(8);
    expect(struct({ a: u32, f: FILETIME }).offsetOf('f')).toBe(4);
    expect(struct({ a: u32, f: FILETIME }).size).toBe(12);
  });

  test('union: size of the largest member rounded to the largest alignment', () => {
    const U = union({ q: u64, parts: struct({ lo: u32, hi: u32 }), b: bytes(9) });
    expect(U.size).toBe(16);
    expect(U.alignment).toBe(8);
    const decoded = U.decode(U.encode({ q: 0x0000000200000001n }));
    expect(decoded.parts).toEqual({ lo: 1, hi: 2 });
    expect([...decoded.b]).toEqual([1, 0, 0, 0, 2, 0, 0, 0, 0]);
  });

  test('tail padding and padding bytes are written as zero even into a dirty buffer', () => {
    const S = struct({ a: u8, b: u32, c: u8 });
    const buffer = new Uint8Array(16).fill(0xee);
    expect(S.encodeInto({ a: 1, b: 2, c: 3 }, buffer, 2)).toBe(12);
    expect(hex(buffer)).toBe('eeee' + '01000000' + '02000000' + '03000000' + 'eeee');
  });

  test('layoutOf describes nested offsets', () => {
    const S = struct({ a: u8, inner: struct({ x: u16, name: wstring(4) }, { name: 'INNER' }) }, { name: 'OUTER' });
    expect(layoutOf(S)).toEqual({
      kind: 'struct',
      typeName: 'OUTER',
      offset: 0,
      size: 12,
      align: 2,
      fixed: true,
      fields: [
        { name: 'a', kind: 'u8', offset: 0, size: 1, align: 1, fixed: true },
        {
          name: 'inner',
          kind: 'struct',
          typeName: 'INNER',
          offset: 2,
          size: 10,
          align: 2,
          fixed: true,
          fields: [
            { name: 'x', kind: 'u16', offset: 2, size: 2, align: 2, fixed: true },
            { name: 'name', kind: 'WCHAR[]', offset: 4, size: 8, align: 2, fixed: true },
          ],
        },
      ],
    });
  });

  test('offsetOf rejects unknown paths with a CodecError', () => {
    const S = struct({ a: u8 });
    expect(() => S.offsetOf('nope')).toThrow(expect.objectContaining({ code: 'FLTPORT_CODEC', path: 'nope' }));
  });

  test('schema mistakes are reported when the schema is built', () => {
    expect(() => struct({})).toThrow(/at least one member/);
    expect(() => struct({ a: u8 }, { pack: 3 as 1 })).toThrow(/power of two/);
    expect(() => struct({ 'not valid': u8 })).toThrow(/not an identifier/);
  });
});
