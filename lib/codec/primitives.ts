// Scalars. Every reader is a single DataView call (little-endian: all Windows targets are);
// every writer validates the JS value first, because DataView silently wraps out-of-range input.
import { Codec, type Layout, type ReadOut, natural } from './codec.js';
import { type Gen, type Path, type Target, pointerSize, show } from './gen.js';

type IntName = 'u8' | 'u16' | 'u32' | 'i8' | 'i16' | 'i32';

const intInfo: Record<IntName, { size: number; getter: string; check: (x: string) => string; range: string }> = {
  u8: { size: 1, getter: 'Uint8', check: (x) => `(${x} & 0xff) !== ${x}`, range: '0..255' },
  u16: { size: 2, getter: 'Uint16', check: (x) => `(${x} & 0xffff) !== ${x}`, range: '0..65535' },
  u32: { size: 4, getter: 'Uint32', check: (x) => `(${x} >>> 0) !== ${x}`, range: '0..4294967295' },
  i8: { size: 1, getter: 'Int8', check: (x) => `((${x} << 24) >> 24) !== ${x}`, range: '-128..127' },
  i16: { size: 2, getter: 'Int16', check: (x) => `((${x} << 16) >> 16) !== ${x}`, range: '-32768..32767' },
  i32: { size: 4, getter: 'Int32', check: (x) => `(${x} | 0) !== ${x}`, range: '-2147483648..2147483647' },
};

export class IntCodec extends Codec<number> {
  readonly kind: IntName;
  readonly signed: boolean;
  readonly bits: number;
  readonly #layout: Layout;

  constructor(kind: IntName) {
    super();
    this.kind = kind;
    this.signed = kind.startsWith('i');
    this.bits = intInfo[kind].size * 8;
    this.#layout = natural(intInfo[kind].size, intInfo[kind].size);
  }

  layoutFor(): Layout {
    return this.#layout;
  }

  emitRead(g: Gen, off: string): ReadOut {
    void g;
    const info = intInfo[this.kind];
    return { value: info.size === 1 ? `D.get${info.getter}(${off})` : `D.get${info.getter}(${off}, true)` };
  }

  emitWrite(g: Gen, val: string, off: string, path: Path): undefined {
    const info = intInfo[this.kind];
    const x = g.hoist(val);
    g.line(`if (typeof ${x} !== "number" || ${info.check(x)}) ${g.fail(`"expected an integer in ${info.range}, got " + ${g.ref(show)}(${x})`, path, off)}`);
    g.line(info.size === 1 ? `D.set${info.getter}(${off}, ${x});` : `D.set${info.getter}(${off}, ${x}, true);`);
    return undefined;
  }
}

export class BigIntCodec extends Codec<bigint> {
  readonly kind: 'u64' | 'i64';
  readonly #layout: Layout;

  constructor(kind: 'u64' | 'i64', align = 8) {
    super();
    this.kind = kind;
    this.#layout = natural(8, align);
  }

  layoutFor(): Layout {
    return this.#layout;
  }

  emitRead(g: Gen, off: string): ReadOut {
    void g;
    return { value: `D.get${this.kind === 'u64' ? 'BigUint64' : 'BigInt64'}(${off}, true)` };
  }

  emitWrite(g: Gen, val: string, off: string, path: Path): undefined {
    const x = g.hoist(val);
    const fit = this.kind === 'u64' ? 'asUintN' : 'asIntN';
    g.line(`if (typeof ${x} !== "bigint" || BigInt.${fit}(64, ${x}) !== ${x}) ${g.fail(`"expected a bigint fitting ${this.kind}, got " + ${g.ref(show)}(${x})`, path, off)}`);
    g.line(`D.set${this.kind === 'u64' ? 'BigUint64' : 'BigInt64'}(${off}, ${x}, true);`);
    return undefined;
  }
}

export class FloatCodec extends Codec<number> {
  readonly kind: 'f32' | 'f64';
  readonly #layout: Layout;

  constructor(kind: 'f32' | 'f64') {
    super();
    this.kind = kind;
    const size = kind === 'f32' ? 4 : 8;
    this.#layout = natural(size, size);
  }

  layoutFor(): Layout {
    return this.#layout;
  }

  emitRead(g: Gen, off: string): ReadOut {
    void g;
    return { value: `D.get${this.kind === 'f32' ? 'Float32' : 'Float64'}(${off}, true)` };
  }

  emitWrite(g: Gen, val: string, off: string, path: Path): undefined {
    const x = g.hoist(val);
    g.line(`if (typeof ${x} !== "number") ${g.fail(`"expected a number, got " + ${g.ref(show)}(${x})`, path, off)}`);
    g.line(`D.set${this.kind === 'f32' ? 'Float32' : 'Float64'}(${off}, ${x}, true);`);
    return undefined;
  }
}

/** BOOLEAN (UCHAR) or BOOL (int). Any non-zero byte pattern reads as true, as in C. */
export class BoolCodec extends Codec<boolean> {
  readonly kind: 'BOOLEAN' | 'BOOL';
  readonly #layout: Layout;

  constructor(kind: 'BOOLEAN' | 'BOOL') {
    super();
    this.kind = kind;
    this.#layout = kind === 'BOOLEAN' ? natural(1, 1) : natural(4, 4);
  }

  layoutFor(): Layout {
    return this.#layout;
  }

  emitRead(g: Gen, off: string): ReadOut {
    void g;
    return { value: this.kind === 'BOOLEAN' ? `D.getUint8(${off}) !== 0` : `D.getInt32(${off}, true) !== 0` };
  }

  emitWrite(g: Gen, val: string, off: string, path: Path): undefined {
    const x = g.hoist(val);
    g.line(`if (typeof ${x} !== "boolean") ${g.fail(`"expected a boolean, got " + ${g.ref(show)}(${x})`, path, off)}`);
    g.line(this.kind === 'BOOLEAN' ? `D.setUint8(${off}, ${x} ? 1 : 0);` : `D.setInt32(${off}, ${x} ? 1 : 0, true);`);
    return undefined;
  }
}

/**
 * NTSTATUS is a LONG in C, but everyone writes status constants as unsigned hex
 * (0xC0000022), so it decodes as an unsigned number by default; both forms encode.
 */
export class NtStatusCodec extends Codec<number> {
  readonly kind = 'NTSTATUS';
  readonly signed: boolean;
  readonly #layout = natural(4, 4);

  constructor(signed: boolean) {
    super();
    this.signed = signed;
  }

  layoutFor(): Layout {
    return this.#layout;
  }

  emitRead(g: Gen, off: string): ReadOut {
    void g;
    return { value: this.signed ? `D.getInt32(${off}, true)` : `D.getUint32(${off}, true)` };
  }

  emitWrite(g: Gen, val: string, off: string, path: Path): undefined {
    const x = g.hoist(val);
    g.line(`if (!Number.isInteger(${x}) || ${x} < -2147483648 || ${x} > 4294967295) ${g.fail(`"expected an NTSTATUS (a 32-bit integer, signed or unsigned), got " + ${g.ref(show)}(${x})`, path, off)}`);
    g.line(`D.setUint32(${off}, ${x} >>> 0, true);`);
    return undefined;
  }
}

/** ULONG_PTR, SIZE_T, HANDLE, PVOID: 4 bytes on x86, 8 elsewhere; always a bigint so types don't change per target. */
export class PointerCodec extends Codec<bigint> {
  readonly kind: string;
  readonly signed: boolean;

  constructor(kind: string, signed: boolean) {
    super();
    this.kind = kind;
    this.signed = signed;
  }

  layoutFor(target: Target): Layout {
    const size = pointerSize(target);
    return natural(size, size);
  }

  emitRead(g: Gen, off: string): ReadOut {
    if (pointerSize(g.target) === 8) return { value: `D.get${this.signed ? 'BigInt64' : 'BigUint64'}(${off}, true)` };
    return { value: `BigInt(D.get${this.signed ? 'Int32' : 'Uint32'}(${off}, true))` };
  }

  emitWrite(g: Gen, val: string, off: string, path: Path): undefined {
    const bits = pointerSize(g.target) * 8;
    const x = g.hoist(val);
    const fit = this.signed ? 'asIntN' : 'asUintN';
    g.line(`if (typeof ${x} !== "bigint" || BigInt.${fit}(${bits}, ${x}) !== ${x}) ${g.fail(`"expected a bigint fitting a ${bits}-bit ${this.kind}, got " + ${g.ref(show)}(${x})`, path, off)}`);
    if (bits === 64) g.line(`D.set${this.signed ? 'BigInt64' : 'BigUint64'}(${off}, ${x}, true);`);
    else g.line(`D.set${this.signed ? 'Int32' : 'Uint32'}(${off}, Number(${x}), true);`);
    return undefined;
  }
}

const hex = Array.from({ length: 256 }, (_, index) => index.toString(16).padStart(2, '0'));

function guidToString(view: DataView, off: number): string {
  const d1 = view.getUint32(off, true).toString(16).padStart(8, '0');
  const d2 = view.getUint16(off + 4, true).toString(16).padStart(4, '0');
  const d3 = view.getUint16(off + 6, true).toString(16).padStart(4, '0');
  let d4 = '';
  let d5 = '';
  for (let index = 8; index < 10; index++) d4 += hex[view.getUint8(off + index)];
  for (let index = 10; index < 16; index++) d5 += hex[view.getUint8(off + index)];
  return `${d1}-${d2}-${d3}-${d4}-${d5}`;
}

const guidPattern = /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/i;

function writeGuid(view: DataView, off: number, text: unknown): boolean {
  if (typeof text !== 'string') return false;
  const match = guidPattern.exec(text);
  if (match === null || text.startsWith('{') !== text.endsWith('}')) return false;
  const [, d1 = '', d2 = '', d3 = '', d4 = '', d5 = ''] = match;
  view.setUint32(off, Number.parseInt(d1, 16), true);
  view.setUint16(off + 4, Number.parseInt(d2, 16), true);
  view.setUint16(off + 6, Number.parseInt(d3, 16), true);
  const tail = d4 + d5;
  for (let index = 0; index < 8; index++) view.setUint8(off + 8 + index, Number.parseInt(tail.slice(index * 2, index * 2 + 2), 16));
  return true;
}

/** GUID {ULONG; USHORT; USHORT; UCHAR[8]}: the first three groups are little-endian, the rest bytes in order. */
export class GuidCodec extends Codec<string> {
  readonly kind = 'GUID';
  readonly #layout = natural(16, 4);

  layoutFor(): Layout {
    return this.#layout;
  }

  emitRead(g: Gen, off: string): ReadOut {
    return { value: `${g.ref(guidToString)}(D, ${off})` };
  }

  emitWrite(g: Gen, val: string, off: string, path: Path): undefined {
    const x = g.hoist(val);
    g.line(`if (!${g.ref(writeGuid)}(D, ${off}, ${x})) ${g.fail(`"expected a GUID string like 01234567-89ab-cdef-0123-456789abcdef, got " + ${g.ref(show)}(${x})`, path, off)}`);
    return undefined;
  }
}

/** 100-ns intervals between 1601-01-01 and 1970-01-01. */
const epochDeltaMs = 11_644_473_600_000;

function filetimeToDate(ticks: bigint): Date {
  return new Date(Number(ticks / 10_000n) - epochDeltaMs);
}

function dateToFiletime(date: unknown): bigint | undefined {
  if (!(date instanceof Date)) return undefined;
  const ms = date.getTime();
  if (!Number.isFinite(ms) || ms < -epochDeltaMs) return undefined;
  return BigInt(ms + epochDeltaMs) * 10_000n;
}

/**
 * FILETIME as a Date. Millisecond precision: the 100-ns remainder is dropped on decode, so
 * use the bigint form when ticks matter (ordering events, round trips).
 */
export class FiletimeDateCodec extends Codec<Date> {
  readonly kind = 'FILETIME';
  readonly #layout: Layout;

  constructor(align: 4 | 8) {
    super();
    this.#layout = natural(8, align);
  }

  layoutFor(): Layout {
    return this.#layout;
  }

  emitRead(g: Gen, off: string): ReadOut {
    return { value: `${g.ref(filetimeToDate)}(D.getBigUint64(${off}, true))` };
  }

  emitWrite(g: Gen, val: string, off: string, path: Path): undefined {
    const ticks = g.id('t');
    g.line(`const ${ticks} = ${g.ref(dateToFiletime)}(${val});`);
    g.line(`if (${ticks} === undefined || ${ticks} > 0xffffffffffffffffn) ${g.fail(`"expected a valid Date on or after 1601-01-01, got " + ${g.ref(show)}(${val})`, path, off)}`);
    g.line(`D.setBigUint64(${off}, ${ticks}, true);`);
    return undefined;
  }
}

export const u8 = new IntCodec('u8');
export const u16 = new IntCodec('u16');
export const u32 = new IntCodec('u32');
export const i8 = new IntCodec('i8');
export const i16 = new IntCodec('i16');
export const i32 = new IntCodec('i32');
export const u64 = new BigIntCodec('u64');
export const i64 = new BigIntCodec('i64');
export const f32 = new FloatCodec('f32');
export const f64 = new FloatCodec('f64');
export const BOOLEAN = new BoolCodec('BOOLEAN');
export const BOOL = new BoolCodec('BOOL');
export const NTSTATUS = new NtStatusCodec(false);
export const GUID = new GuidCodec();
/** LARGE_INTEGER: a union with a LONGLONG, so 8-aligned, signed. */
export const LARGE_INTEGER = new BigIntCodec('i64');
export const ULONG_PTR = new PointerCodec('ULONG_PTR', false);
export const LONG_PTR = new PointerCodec('LONG_PTR', true);
export const SIZE_T = new PointerCodec('SIZE_T', false);
export const HANDLE = new PointerCodec('HANDLE', false);
export const PVOID = new PointerCodec('PVOID', false);

export function ntstatus(options: { signed?: boolean } = {}): NtStatusCodec {
  return options.signed === true ? new NtStatusCodec(true) : NTSTATUS;
}

export interface FiletimeOptions {
  /** 'bigint' (default): raw 100-ns ticks since 1601; 'date': a Date (millisecond precision). */
  as?: 'bigint' | 'date';
  /**
   * 4 for the Win32 FILETIME struct (two DWORDs), 8 when the C field is a LARGE_INTEGER or
   * ULONGLONG (as kernel timestamps from KeQuerySystemTime are). Default 4.
   */
  align?: 4 | 8;
}

export function filetime(options: FiletimeOptions & { as: 'date' }): Codec<Date>;
export function filetime(options?: FiletimeOptions & { as?: 'bigint' }): Codec<bigint>;
export function filetime(options: FiletimeOptions = {}): Codec<Date> | Codec<bigint> {
  const align = options.align ?? 4;
  if (options.as === 'date') return new FiletimeDateCodec(align);
  return new BigIntCodec('u64', align);
}

/** FILETIME {DWORD dwLowDateTime; DWORD dwHighDateTime}: 8 bytes, 4-aligned, decoded as bigint ticks. */
export const FILETIME = filetime();
