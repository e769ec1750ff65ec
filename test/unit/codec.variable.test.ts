import { describe, expect, test } from 'vitest';
import {
  CodecError,
  LARGE_INTEGER,
  array,
  bytes,
  enumOf,
  envelope,
  struct,
  u16,
  u32,
  u64,
  u8,
  variant,
  wstring,
  wstringCounted,
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

describe('count-from-field arrays', () => {
  const Record = struct({ id: u32, size: u16 });
  const Batch = struct({ count: u16, records: array(Record, { countFrom: 'count', max: 100 }), trailer: u8 });

  test('layout: the array starts aligned, what follows sits at a run-time offset', () => {
    expect(Batch.fixed).toBe(false);
    expect(Batch.offsetOf('records')).toBe(4);
    expect(() => Batch.offsetOf('trailer')).toThrow(CodecError);
    const value = { count: 2, records: [{ id: 1, size: 2 }, { id: 3, size: 4 }], trailer: 9 };
    expect(Batch.encodedSize(value)).toBe(4 + 16 + 1);
    const bytes = Batch.encode(value);
    expect(hex(bytes)).toBe('0200' + '0000' + '0100000002000000' + '0300000004000000' + '09');
    expect(Batch.decode(bytes)).toEqual(value);
    expect(Batch.decodeWithLength(bytes)).toEqual({ value, byteLength: 21 });
  });

  test('a count larger than the input is a CodecError naming the array', () => {
    const error = codecError(() => Batch.decode(fromHex('0500' + '0000' + '0100000002000000')));
    expect(error.path).toBe('records');
    expect(error.offset).toBe(4);
    expect(error.message).toMatch(/5 elements \(from count\) need 40 bytes, 8 available/);
    expect(codecError(() => Batch.decode(fromHex('e803' + '0000'))).message).toMatch(/count 1000 exceeds the maximum of 100/);
  });

  test('encode refuses a count field that disagrees with the array', () => {
    const error = codecError(() => Batch.encode({ count: 3, records: [{ id: 1, size: 2 }], trailer: 0 }));
    expect(error.path).toBe('records');
    expect(error.message).toMatch(/count is 3 but the array has 1 elements/);
  });

  test('bytes with a count field, followed by a fixed field', () => {
    const Blob = struct({ length: u32, data: bytes({ countFrom: 'length' }), crc: u32 });
    const value = { length: 3, data: new Uint8Array([7, 8, 9]), crc: 0xdeadbeef };
    const encoded = Blob.encode(value);
    expect(hex(encoded)).toBe('03000000' + '070809' + '00' + 'efbeadde');
    const decoded = Blob.decode(encoded);
    expect(decoded.crc).toBe(0xdeadbeef);
    expect([...decoded.data]).toEqual([7, 8, 9]);
    const error = codecError(() => Blob.decode(encoded.subarray(0, 10)));
    expect(error.path).toBe('crc');
    expect(error.offset).toBe(8);
  });

  test('countFrom must name an earlier integer field', () => {
    const Bad = struct({ data: bytes({ countFrom: 'length' }), length: u32 });
    expect(() => Bad.decode(new Uint8Array(8))).toThrow(/earlier field/);
  });
});

describe('counted inline strings', () => {
  test('USHORT byte length + WCHAR data (UNICODE_STRING style)', () => {
    const Name = struct({ flags: u8, name: wstringCounted(u16), next: u16 });
    const value = { flags: 1, name: 'ab', next: 5 };
    const bytes = Name.encode(value);
    expect(hex(bytes)).toBe('01' + '00' + '0400' + '61006200' + '0500');
    expect(Name.decode(bytes)).toEqual(value);
    expect(Name.encodedSize(value)).toBe(10);
  });

  test('length in characters, with a maximum', () => {
    const S = wstringCounted(u32, { unit: 'chars', maxChars: 4 });
    expect(hex(S.encode('xyz'))).toBe('03000000' + '780079007a00');
    expect(S.decode(S.encode('xyz'))).toBe('xyz');
    expect(() => S.encode('12345')).toThrow(/exceeds the maximum of 4/);
    expect(codecError(() => S.decode(fromHex('09000000'))).message).toMatch(/exceeds the maximum/);
  });

  test('odd byte lengths and truncated data are CodecErrors', () => {
    const S = wstringCounted(u16);
    expect(codecError(() => S.decode(fromHex('0300616200'))).message).toMatch(/odd byte length 3/);
    expect(codecError(() => S.decode(fromHex('08006100'))).message).toMatch(/truncated: string of 4 characters needs 10 bytes, 4 available/);
  });
});

describe('variant (tagged union)', () => {
  const Open = struct({ path: wstring(8) });
  const Write = struct({ offset: u64, length: u32 });

  test('union-sized by default: sized like the C union', () => {
    const Msg = struct({ kind: u32, body: variant('kind', { 1: Open, 2: Write }) });
    expect(Msg.size).toBe(24); // kind 4 + pad 4 + union(16, align 8)
    expect(Msg.offsetOf('body')).toBe(8);
    const write = { kind: 2 as const, body: { offset: 10n, length: 3 } };
    const bytes = Msg.encode(write);
    expect(hex(bytes)).toBe('02000000' + '00000000' + '0a00000000000000' + '03000000' + '00000000');
    expect(Msg.decode(bytes)).toEqual(write);
    expect(Msg.decode(Msg.encode({ kind: 1, body: { path: 'a.txt' } }))).toEqual({ kind: 1, body: { path: 'a.txt' } });
    const error = codecError(() => Msg.decode(fromHex('07000000' + '00'.repeat(20))));
    expect(error.path).toBe('body');
    expect(error.message).toMatch(/no case for kind = 7/);
  });

  test('exact-sized variant keyed by an enum', () => {
    const Kind = enumOf(u16, { OPEN: 1, WRITE: 2 });
    const Short = struct({ path: wstring(4) });
    const Msg = struct({ kind: Kind, body: variant('kind', { OPEN: Short, WRITE: Write }, { size: 'exact' }) });
    const open = { kind: 'OPEN' as const, body: { path: 'x' } };
    // The body starts at the variant's alignment (the largest case's, 8) and takes only its own case's bytes.
    expect(Msg.encodedSize(open)).toBe(8 + 8);
    expect(Msg.encodedSize({ kind: 'WRITE', body: { offset: 1n, length: 1 } })).toBe(8 + 16);
    expect(Msg.decode(Msg.encode(open))).toEqual(open);
    const truncated = Msg.encode({ kind: 'WRITE', body: { offset: 1n, length: 1 } }).subarray(0, 18);
    const error = codecError(() => Msg.decode(truncated));
    expect(error.path).toBe('body.length');
    expect(error.offset).toBe(16);
  });
});

describe('versioned envelope', () => {
  const Header = struct({ Magic: u32, Version: u16, Type: u16, Size: u32, Sequence: u32, Timestamp: LARGE_INTEGER });
  const FileEvent = struct({ pid: u32, path: wstring(8) });
  const Ping = struct({ token: u64 });
  const Message = envelope({
    header: Header,
    magic: { field: 'Magic', value: 0x46505331 },
    version: { field: 'Version', value: 2, accept: [1, 2] },
    size: { field: 'Size' },
    type: { field: 'Type' },
    bodies: { 1: FileEvent, 2: Ping },
  });

  test('encode fills magic, version, size and type; decode returns them', () => {
    const bytes = Message.encode({ type: 2, header: { Sequence: 9, Timestamp: 100n }, body: { token: 0xabn } });
    expect(bytes.length).toBe(32);
    expect(hex(bytes)).toBe('31535046' + '0200' + '0200' + '20000000' + '09000000' + '6400000000000000' + 'ab00000000000000');
    const decoded = Message.decode(bytes);
    expect(decoded).toEqual({
      type: 2,
      header: { Magic: 0x46505331, Version: 2, Type: 2, Size: 32, Sequence: 9, Timestamp: 100n },
      body: { token: 0xabn },
    });
    if (decoded.type === 1) throw new Error('narrowing by type');
    expect(decoded.body.token).toBe(0xabn);
  });

  test('magic, version and size are checked before the body is read', () => {
    const good = Message.encode({ type: 1, header: { Sequence: 1, Timestamp: 0n }, body: { pid: 4, path: 'C:' } });
    const badMagic = good.slice();
    badMagic[0] = 0;
    expect(codecError(() => Message.decode(badMagic))).toMatchObject({ path: 'header.Magic', offset: 0 });
    const badVersion = good.slice();
    badVersion[4] = 3;
    expect(codecError(() => Message.decode(badVersion)).message).toMatch(/unsupported version 3, accepted: 1, 2/);
    const tooBig = good.slice();
    tooBig[8] = 200;
    expect(codecError(() => Message.decode(tooBig))).toMatchObject({ path: 'header.Size', offset: 8 });
    const tooSmall = good.slice();
    tooSmall[8] = 30; // header fits, body (20 bytes) does not
    const error = codecError(() => Message.decode(tooSmall));
    expect(error.path).toBe('body.path');
    const unknownType = good.slice();
    unknownType[6] = 9;
    expect(codecError(() => Message.decode(unknownType)).message).toMatch(/unknown message type 9/);
  });

  test('a newer producer may append bytes the size covers', () => {
    const body = FileEvent.encode({ pid: 4, path: 'C:' });
    const longer = new Uint8Array(24 + body.length + 8);
    Header.encodeInto({ Magic: 0x46505331, Version: 1, Type: 1, Size: longer.length, Sequence: 5, Timestamp: 1n }, longer);
    longer.set(body, 24);
    const decoded = Message.decodeWithLength(longer);
    expect(decoded.byteLength).toBe(longer.length);
    expect(decoded.value.body).toEqual({ pid: 4, path: 'C:' });
  });
});

describe('decode errors name the field path and offset', () => {
  test('a truncated fixed struct names the first field cut off, inside arrays too', () => {
    const S = struct({ header: struct({ id: u32, name: wstring(4) }), items: array(struct({ a: u32, b: u32 }), 2) });
    const bytes = S.encode({ header: { id: 1, name: 'ab' }, items: [{ a: 1, b: 2 }, { a: 3, b: 4 }] });
    expect(codecError(() => S.decode(bytes.subarray(0, 6)))).toMatchObject({ path: 'header.name', offset: 4 });
    expect(codecError(() => S.decode(bytes.subarray(0, 24)))).toMatchObject({ path: 'items[1].b', offset: 24 });
  });

  test('encode errors inside arrays carry the index', () => {
    const S = struct({ items: array(struct({ a: u8 }), 2) });
    expect(codecError(() => S.encode({ items: [{ a: 1 }, { a: 300 }] }))).toMatchObject({ path: 'items[1].a', offset: 1 });
    expect(codecError(() => S.encode({ items: [{ a: 1 }] })).message).toMatch(/exactly 2 elements, got 1/);
    expect(codecError(() => S.encode(null as unknown as { items: { a: number }[] })).message).toMatch(/expected an object, got null/);
  });

  test('encodeInto checks room before writing anything', () => {
    const target = new Uint8Array(4).fill(0xee);
    expect(() => u64.encodeInto(1n, target)).toThrow(/needs 8 bytes but only 4 are free/);
    expect(hex(target)).toBe('eeeeeeee');
  });
});
