import { describe, expect, test } from 'vitest';
import {
  BOOL,
  BOOLEAN,
  CodecError,
  FILETIME,
  GUID,
  NTSTATUS,
  bytes,
  cstring,
  enumOf,
  f32,
  f64,
  filetime,
  flags,
  i16,
  i32,
  i64,
  i8,
  ntstatus,
  struct,
  u16,
  u32,
  u64,
  u8,
  wstring,
} from '../../lib/codec/index.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const fromHex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));

function codecError(fn: () => unknown): CodecError {
  try {
    fn();
  } catch (error) {
    if (error instanceof CodecError) return error;
    throw error;
  }
  throw new Error('expected a CodecError');
}

describe('integers and floats', () => {
  test('little-endian encodings', () => {
    expect(hex(u16.encode(0x1234))).toBe('3412');
    expect(hex(i32.encode(-2))).toBe('feffffff');
    expect(hex(u64.encode(0x0102030405060708n))).toBe('0807060504030201');
    expect(hex(i64.encode(-1n))).toBe('ffffffffffffffff');
    expect(hex(f32.encode(1.5))).toBe('0000c03f');
    expect(f64.decode(f64.encode(Math.PI))).toBe(Math.PI);
    expect(i8.decode(fromHex('80'))).toBe(-128);
    expect(i16.decode(fromHex('00ff'))).toBe(-256);
  });

  test('out-of-range and wrongly typed values are CodecErrors, never silent wrap-around', () => {
    expect(codecError(() => u8.encode(256)).message).toMatch(/0\.\.255, got 256/);
    expect(() => u8.encode(1.5)).toThrow(CodecError);
    expect(() => i8.encode(128)).toThrow(CodecError);
    expect(() => u32.encode(-1)).toThrow(CodecError);
    expect(() => i32.encode(2 ** 31)).toThrow(CodecError);
    expect(() => u64.encode(1 as unknown as bigint)).toThrow(/bigint/);
    expect(() => u64.encode(-1n)).toThrow(CodecError);
    expect(() => i64.encode(2n ** 63n)).toThrow(CodecError);
    expect(() => u32.encode('1' as unknown as number)).toThrow(CodecError);
  });

  test('decode at a byteOffset inside a larger Buffer', () => {
    const backing = Buffer.from('ffff' + '78563412' + 'ffff', 'hex');
    const view = backing.subarray(1);
    expect(u32.decode(view, 1)).toBe(0x12345678);
    expect(codecError(() => u32.decode(view, 4)).message).toMatch(/needs 4 bytes, 3 available/);
    expect(() => u32.decode(view, 9)).toThrow(/outside/);
  });
});

describe('Windows scalars', () => {
  test('BOOLEAN is one byte, BOOL four; any non-zero reads as true', () => {
    expect(hex(BOOLEAN.encode(true))).toBe('01');
    expect(hex(BOOL.encode(true))).toBe('01000000');
    expect(BOOLEAN.decode(fromHex('02'))).toBe(true);
    expect(BOOL.decode(fromHex('00000080'))).toBe(true);
    expect(BOOL.decode(fromHex('00000000'))).toBe(false);
    expect(() => BOOLEAN.encode(1 as unknown as boolean)).toThrow(/boolean/);
  });

  test('NTSTATUS decodes unsigned and accepts both signed and unsigned forms', () => {
    expect(NTSTATUS.decode(fromHex('220000c0'))).toBe(0xc0000022);
    expect(hex(NTSTATUS.encode(0xc0000022))).toBe('220000c0');
    expect(hex(NTSTATUS.encode(-1073741790))).toBe('220000c0');
    expect(ntstatus({ signed: true }).decode(fromHex('220000c0'))).toBe(-1073741790);
    expect(() => NTSTATUS.encode(2 ** 32)).toThrow(CodecError);
  });

  test('GUID uses the mixed-endian layout', () => {
    const text = '01234567-89ab-cdef-0123-456789abcdef';
    const bytes = GUID.encode(text);
    expect(hex(bytes)).toBe('67452301' + 'ab89' + 'efcd' + '0123' + '456789abcdef');
    expect(GUID.decode(bytes)).toBe(text);
    expect(GUID.decode(GUID.encode('{01234567-89AB-CDEF-0123-456789ABCDEF}'))).toBe(text);
    expect(() => GUID.encode('01234567-89ab-cdef-0123')).toThrow(/GUID/);
    expect(() => GUID.encode('{01234567-89ab-cdef-0123-456789abcdef')).toThrow(/GUID/);
  });

  test('FILETIME: bigint ticks by default, Date on request', () => {
    const ticks = 133_500_000_001_234_567n;
    expect(FILETIME.decode(FILETIME.encode(ticks))).toBe(ticks);
    const asDate = filetime({ as: 'date' });
    const date = new Date('2024-01-02T03:04:05.678Z');
    const bytes = asDate.encode(date);
    expect(FILETIME.decode(bytes)).toBe((BigInt(date.getTime()) + 11_644_473_600_000n) * 10_000n);
    expect(asDate.decode(bytes).toISOString()).toBe('2024-01-02T03:04:05.678Z');
    // sub-millisecond ticks are dropped, not rounded
    expect(asDate.decode(FILETIME.encode(ticks)).getTime()).toBe(Number(ticks / 10_000n) - 11_644_473_600_000);
    expect(() => asDate.encode(new Date(Number.NaN))).toThrow(/valid Date/);
    expect(filetime({ as: 'date', align: 8 }).alignment).toBe(8);
  });
});

describe('strings', () => {
  test('WCHAR[n]: UTF-16LE up to the NUL; the rest of the array is zero', () => {
    const W = wstring(6);
    expect(hex(W.encode('ab€'))).toBe('61006200ac20' + '000000000000');
    expect(W.decode(W.encode('ab€'))).toBe('ab€');
    expect(W.decode(fromHex('610000006200000000000000'))).toBe('a');
  });

  test('WCHAR[n] rejects strings that do not fit with their NUL, naming the field', () => {
    const S = struct({ header: struct({ id: u32, name: wstring(4) }) });
    const error = codecError(() => S.encode({ header: { id: 1, name: 'abcd' } }));
    expect(error.path).toBe('header.name');
    expect(error.offset).toBe(4);
    expect(error.message).toMatch(/4 UTF-16 units does not fit in WCHAR\[4\] with its NUL terminator \(at most 3\)/);
    expect(S.decode(S.encode({ header: { id: 1, name: 'abc' } })).header.name).toBe('abc');
    expect(() => S.encode({ header: { id: 1, name: 'a\0b' } })).toThrow(/NUL character/);
  });

  test('WCHAR[n] without NUL: lenient by default, strict on request', () => {
    const full = fromHex('610062006300');
    expect(wstring(3).decode(full)).toBe('abc');
    const error = codecError(() => wstring(3, { terminator: 'strict' }).decode(full));
    expect(error.message).toMatch(/no NUL terminator in WCHAR\[3\]/);
  });

  test('long paths and unpaired surrogates survive a round trip', () => {
    const W = wstring(260);
    const path = '\\Device\\HarddiskVolume3\\' + 'directory\\'.repeat(20) + 'file.txt';
    expect(W.decode(W.encode(path))).toBe(path);
    const lone = 'name\ud800tail';
    expect(W.decode(W.encode(lone))).toBe(lone);
  });

  test('CHAR[n] in utf8 and latin1', () => {
    expect(hex(cstring(8).encode('hé'))).toBe('68c3a90000000000');
    expect(cstring(8).decode(cstring(8).encode('hé'))).toBe('hé');
    const latin = cstring(4, { encoding: 'latin1' });
    expect(hex(latin.encode('hé'))).toBe('68e90000');
    expect(latin.decode(fromHex('68e90000'))).toBe('hé');
    expect(() => latin.encode('h€')).toThrow(/outside latin1/);
    expect(() => cstring(4).encode('héll')).toThrow(/does not fit in CHAR\[4\]/);
    expect(() => latin.encode('abcd')).toThrow(/does not fit in CHAR\[4\]/);
  });
});

describe('byte arrays', () => {
  test('decode copies by default and can return a view', () => {
    const input = fromHex('0102030405');
    const copy = bytes(4).decode(input, 1);
    const view = bytes(4, { view: true }).decode(input, 1);
    input[1] = 0xff;
    expect([...copy]).toEqual([2, 3, 4, 5]);
    expect([...view]).toEqual([0xff, 3, 4, 5]);
  });

  test('encode accepts up to n bytes and zero-fills the rest', () => {
    expect(hex(bytes(4).encode(new Uint8Array([9, 8])))).toBe('09080000');
    expect(() => bytes(2).encode(new Uint8Array(3))).toThrow(/3 bytes do not fit in UCHAR\[2\]/);
    expect(() => bytes(2).encode([1, 2] as unknown as Uint8Array)).toThrow(/Uint8Array/);
  });
});

describe('enums and flags', () => {
  const Op = enumOf(u32, { CREATE: 1, WRITE: 2, CLEANUP: 0x10 });

  test('enum names ↔ numbers', () => {
    expect(hex(Op.encode('CLEANUP'))).toBe('10000000');
    expect(Op.decode(fromHex('02000000'))).toBe('WRITE');
    expect(codecError(() => Op.decode(fromHex('03000000'))).message).toMatch(/unknown enum value 3/);
    expect(() => Op.encode('DELETE' as 'CREATE')).toThrow(/expected one of CREATE, WRITE, CLEANUP/);
    const lenient = enumOf(u8, { A: 1 }, { unknown: 'number' });
    expect(lenient.decode(fromHex('07'))).toBe(7);
    expect(lenient.decode(lenient.encode(7))).toBe(7);
  });

  test('flags as an object of booleans', () => {
    const F = flags(u32, { READ: 0x1, WRITE: 0x2, HIGH: 0x8000_0000 });
    expect(hex(F.encode({ READ: true, HIGH: true }))).toBe('01000080');
    expect(F.decode(fromHex('03000080'))).toEqual({ READ: true, WRITE: true, HIGH: true });
    expect(F.decode(fromHex('00000000'))).toEqual({ READ: false, WRITE: false, HIGH: false });
    expect(codecError(() => F.decode(fromHex('05000000'))).message).toMatch(/unknown flag bits 0x4/);
    expect(flags(u32, { READ: 1 }, { unknown: 'ignore' }).decode(fromHex('05000000'))).toEqual({ READ: true });
    expect(() => F.encode({ READ: true, EXEC: true } as { READ: boolean })).toThrow(/unknown flag "EXEC"/);
  });

  test('flags as a Set of names', () => {
    const F = flags(u16, { A: 1, B: 2, C: 4 }, { as: 'set' });
    expect(F.decode(fromHex('0500'))).toEqual(new Set(['A', 'C']));
    expect(hex(F.encode(new Set(['B', 'C'] as const)))).toBe('0600');
    expect(hex(F.encode(['A']))).toBe('0100');
    expect(() => F.encode(['D' as 'A'])).toThrow(/unknown flag "D"/);
  });
});
