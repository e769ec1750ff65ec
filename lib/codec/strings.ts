// Fixed and counted character arrays: WCHAR[n], CHAR[n], and a length-prefixed inline WCHAR run.
import { Codec, type Layout, type ReadOut, natural } from './codec.js';
import { type Gen, type Path, type Scope, addOffset, alignUp, show } from './gen.js';
import { IntCodec, u16 } from './primitives.js';
import { latin1, utf16, utf8, utf8Encoder, writeLatin1, writeUtf16 } from './text.js';

export interface FixedStringOptions {
  /**
   * Decode: when the array holds no NUL, 'lenient' (default) returns all n characters (C code
   * that fills the buffer exactly does this); 'strict' throws CodecError. Encode always
   * requires room for the NUL.
   */
  terminator?: 'lenient' | 'strict';
}

function checkCount(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 1 || n > 0x7fffffff) throw new RangeError(`${what}: length must be a positive integer, got ${n}`);
}

/** WCHAR[n]: a NUL-terminated UTF-16LE string in a fixed array of n code units. */
export class WStringCodec extends Codec<string> {
  readonly kind = 'WCHAR[]';
  readonly length: number;
  readonly strict: boolean;
  readonly #layout: Layout;

  constructor(length: number, options: FixedStringOptions) {
    super();
    checkCount(length, 'wstring');
    this.length = length;
    this.strict = options.terminator === 'strict';
    this.#layout = natural(2 * length, 2);
  }

  layoutFor(): Layout {
    return this.#layout;
  }

  emitRead(g: Gen, off: string, path: Path): ReadOut {
    const start = g.hoist(off, 'o');
    const end = g.id('e');
    const limit = g.id('l');
    g.line(`const ${limit} = ${start} + ${2 * this.length};`);
    g.line(`let ${end} = ${start};`);
    g.line(`while (${end} < ${limit} && (B[${end}] | B[${end} + 1]) !== 0) ${end} += 2;`);
    if (this.strict) g.line(`if (${end} === ${limit}) ${g.fail(`"no NUL terminator in WCHAR[${this.length}]"`, path, start)}`);
    return { value: `${g.ref(utf16)}(B, ${start}, ${end})` };
  }

  emitWrite(g: Gen, val: string, off: string, path: Path): undefined {
    const text = g.hoist(val);
    g.line(`if (typeof ${text} !== "string") ${g.fail(`"expected a string, got " + ${g.ref(show)}(${text})`, path, off)}`);
    g.line(
      `if (${text}.length >= ${this.length}) ${g.fail(`"string of " + ${text}.length + " UTF-16 units does not fit in WCHAR[${this.length}] with its NUL terminator (at most ${this.length - 1})"`, path, off)}`,
    );
    g.line(`if (${g.ref(writeUtf16)}(D, ${off}, ${text}) >= 0) ${g.fail(`"string contains a NUL character"`, path, off)}`);
    return undefined;
  }
}

export interface CharStringOptions extends FixedStringOptions {
  /** How bytes map to characters; default 'utf8'. 'latin1' maps each byte to U+0000..U+00FF. */
  encoding?: 'utf8' | 'latin1';
}

/** CHAR[n]: a NUL-terminated 8-bit string in a fixed array of n bytes. */
export class CStringCodec extends Codec<string> {
  readonly kind = 'CHAR[]';
  readonly length: number;
  readonly strict: boolean;
  readonly encoding: 'utf8' | 'latin1';
  readonly #layout: Layout;

  constructor(length: number, options: CharStringOptions) {
    super();
    checkCount(length, 'cstring');
    this.length = length;
    this.strict = options.terminator === 'strict';
    this.encoding = options.encoding ?? 'utf8';
    this.#layout = natural(length, 1);
  }

  layoutFor(): Layout {
    return this.#layout;
  }

  emitRead(g: Gen, off: string, path: Path): ReadOut {
    const start = g.hoist(off, 'o');
    const end = g.id('e');
    const limit = g.id('l');
    g.line(`const ${limit} = ${start} + ${this.length};`);
    g.line(`let ${end} = ${start};`);
    g.line(`while (${end} < ${limit} && B[${end}] !== 0) ${end}++;`);
    if (this.strict) g.line(`if (${end} === ${limit}) ${g.fail(`"no NUL terminator in CHAR[${this.length}]"`, path, start)}`);
    return { value: `${g.ref(this.encoding === 'latin1' ? latin1 : utf8)}(B, ${start}, ${end})` };
  }

  emitWrite(g: Gen, val: string, off: string, path: Path): undefined {
    const text = g.hoist(val);
    const room = this.length - 1;
    g.line(`if (typeof ${text} !== "string") ${g.fail(`"expected a string, got " + ${g.ref(show)}(${text})`, path, off)}`);
    if (this.encoding === 'latin1') {
      g.line(`if (${text}.length > ${room}) ${g.fail(`"string of " + ${text}.length + " characters does not fit in CHAR[${this.length}] with its NUL terminator (at most ${room})"`, path, off)}`);
      const why = g.id('w');
      g.line(`const ${why} = ${g.ref(writeLatin1)}(B, ${off}, ${text});`);
      g.line(`if (${why} !== "") ${g.fail(`"string contains " + ${why}`, path, off)}`);
    } else {
      g.line(`if (${text}.includes("\\0")) ${g.fail(`"string contains a NUL character"`, path, off)}`);
      const res = g.id('r');
      g.line(`const ${res} = ${g.ref(utf8Encoder)}.encodeInto(${text}, B.subarray(${off}, ${addOffset(off, room)}));`);
      g.line(`if (${res}.read < ${text}.length) ${g.fail(`"string needs more than ${room} UTF-8 bytes and does not fit in CHAR[${this.length}] with its NUL terminator"`, path, off)}`);
    }
    return undefined;
  }
}

export interface CountedStringOptions {
  /** What the length field counts: bytes (as UNICODE_STRING.Length does; default) or characters. */
  unit?: 'bytes' | 'chars';
  /** Largest accepted length in characters, checked on decode and encode. */
  maxChars?: number;
}

/** A length field followed directly by that many WCHARs (no NUL): variable size. */
export class CountedWStringCodec extends Codec<string> {
  readonly kind = 'counted WCHAR';
  readonly lengthCodec: IntCodec;
  readonly unit: 'bytes' | 'chars';
  readonly maxChars: number;
  readonly #layout: Layout;
  readonly #dataOffset: number;

  constructor(lengthCodec: IntCodec, options: CountedStringOptions) {
    super();
    if (lengthCodec.signed) throw new TypeError('wstringCounted: the length field must be unsigned');
    this.lengthCodec = lengthCodec;
    this.unit = options.unit ?? 'bytes';
    const lengthLayout = lengthCodec.layoutFor();
    const fieldMax = 2 ** lengthCodec.bits - 1;
    this.maxChars = Math.min(options.maxChars ?? Infinity, this.unit === 'bytes' ? Math.floor(fieldMax / 2) : fieldMax, 0x3fffffff);
    this.#dataOffset = alignUp(lengthLayout.size, 2);
    this.#layout = { size: this.#dataOffset, align: Math.max(2, lengthLayout.align), explicitAlign: 1, fixed: false };
  }

  layoutFor(): Layout {
    return this.#layout;
  }

  emitRead(g: Gen, off: string, path: Path): ReadOut {
    const start = g.hoist(off, 'o');
    g.line(`if (${start} + ${this.#dataOffset} > ${g.limit}) ${g.fail(`"input truncated: length field needs ${this.lengthCodec.layoutFor().size} bytes"`, path, start)}`);
    const count = g.hoist(this.lengthCodec.emitRead(g, start).value, 'n');
    if (this.unit === 'bytes') g.line(`if ((${count} & 1) !== 0) ${g.fail(`"odd byte length " + ${count} + " for a UTF-16 string"`, path, start)}`);
    const chars = this.unit === 'bytes' ? `(${count} >>> 1)` : count;
    g.line(`if (${chars} > ${this.maxChars}) ${g.fail(`"string length " + ${chars} + " exceeds the maximum of ${this.maxChars} characters"`, path, start)}`);
    const end = g.id('e');
    g.line(`const ${end} = ${start} + ${this.#dataOffset} + ${chars} * 2;`);
    g.line(`if (${end} > ${g.limit}) ${g.fail(`"input truncated: string of " + ${chars} + " characters needs " + (${end} - ${start}) + " bytes, " + (${g.limit} - ${start}) + " available"`, path, start)}`);
    return { value: `${g.ref(utf16)}(B, ${start} + ${this.#dataOffset}, ${end})`, end };
  }

  emitWrite(g: Gen, val: string, off: string, path: Path): string {
    const text = g.hoist(val);
    const start = g.hoist(off, 'o');
    g.line(`if (typeof ${text} !== "string") ${g.fail(`"expected a string, got " + ${g.ref(show)}(${text})`, path, start)}`);
    g.line(`if (${text}.length > ${this.maxChars}) ${g.fail(`"string of " + ${text}.length + " characters exceeds the maximum of ${this.maxChars}"`, path, start)}`);
    this.lengthCodec.emitWrite(g, this.unit === 'bytes' ? `${text}.length * 2` : `${text}.length`, start, path);
    g.line(`if (${g.ref(writeUtf16)}(D, ${start} + ${this.#dataOffset}, ${text}) >= 0) ${g.fail(`"string contains a NUL character"`, path, start)}`);
    return `${start} + ${this.#dataOffset} + ${text}.length * 2`;
  }

  override emitEnd(g: Gen, val: string, off: string, scope: Scope): string {
    void scope;
    const text = g.hoist(val);
    return `${off} + ${this.#dataOffset} + (typeof ${text} === "string" ? ${text}.length * 2 : 0)`;
  }
}

export function wstring(length: number, options: FixedStringOptions = {}): WStringCodec {
  return new WStringCodec(length, options);
}

export function cstring(length: number, options: CharStringOptions = {}): CStringCodec {
  return new CStringCodec(length, options);
}

export function wstringCounted(lengthCodec: IntCodec = u16, options: CountedStringOptions = {}): CountedWStringCodec {
  return new CountedWStringCodec(lengthCodec, options);
}

