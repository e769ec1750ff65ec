// Enums (number ↔ name) and flag sets (bitmask ↔ object of booleans or Set of names). Both
// compile to switch statements / constant masks: no lookup objects on the hot path.
import { Codec, type Layout, type ReadOut } from './codec.js';
import { type Gen, type Path, show } from './gen.js';
import type { IntCodec } from './primitives.js';

export interface EnumOptions {
  /** 'error' (default): an unlisted value is a CodecError. 'number': it decodes as the bare number. */
  unknown?: 'error' | 'number';
}

function checkIntBase(base: IntCodec, who: string): void {
  if (!['u8', 'u16', 'u32', 'i8', 'i16', 'i32'].includes(base.kind)) throw new TypeError(`${who}: the underlying codec must be an 8/16/32-bit integer`);
}

export class EnumCodec<M extends Record<string, number>, U = never> extends Codec<keyof M & string | U> {
  readonly kind = 'enum';
  readonly base: IntCodec;
  readonly values: M;
  readonly unknown: 'error' | 'number';

  constructor(base: IntCodec, values: M, options: EnumOptions) {
    super();
    checkIntBase(base, 'enumOf');
    if (Object.keys(values).length === 0) throw new TypeError('enumOf: needs at least one name');
    for (const [name, value] of Object.entries(values)) {
      const fits = base.signed ? value >= -(2 ** (base.bits - 1)) && value < 2 ** (base.bits - 1) : value >= 0 && value < 2 ** base.bits;
      if (!Number.isInteger(value) || !fits) throw new RangeError(`enumOf: ${name} = ${value} does not fit ${base.kind}`);
    }
    this.base = base;
    this.values = values;
    this.unknown = options.unknown ?? 'error';
  }

  layoutFor(): Layout {
    return this.base.layoutFor();
  }

  emitRead(g: Gen, off: string, path: Path): ReadOut {
    const raw = g.hoist(this.base.emitRead(g, off).value, 'n');
    const out = g.id('v');
    g.line(`let ${out};`);
    g.line(`switch (${raw}) {`);
    const seen = new Set<number>();
    for (const [name, value] of Object.entries(this.values)) {
      if (seen.has(value)) continue; // aliases: the first name wins when decoding
      seen.add(value);
      g.line(`case ${value}: ${out} = ${JSON.stringify(name)}; break;`);
    }
    g.line(this.unknown === 'number' ? `default: ${out} = ${raw};` : `default: ${g.fail(`"unknown ${this.typeName ?? 'enum'} value " + ${raw}`, path, off)}`);
    g.line('}');
    return { value: out };
  }

  emitWrite(g: Gen, val: string, off: string, path: Path): undefined {
    const name = g.hoist(val);
    const raw = g.id('n');
    g.line(`let ${raw};`);
    g.line(`switch (${name}) {`);
    for (const [key, value] of Object.entries(this.values)) g.line(`case ${JSON.stringify(key)}: ${raw} = ${value}; break;`);
    const bad = g.fail(`"expected one of ${Object.keys(this.values).join(', ')}, got " + ${g.ref(show)}(${name})`, path, off);
    g.line(this.unknown === 'number' ? `default: if (typeof ${name} === "number") ${raw} = ${name}; else ${bad}` : `default: ${bad}`);
    g.line('}');
    this.base.emitWrite(g, raw, off, path);
    return undefined;
  }
}

export interface FlagsOptions {
  /** 'object' (default): {NAME: boolean} for every name. 'set': a Set of the names that are set. */
  as?: 'object' | 'set';
  /** 'error' (default): bits outside every mask are a CodecError. 'ignore': they are dropped. */
  unknown?: 'error' | 'ignore';
}

export type FlagsObject<M> = { -readonly [K in keyof M]: boolean };
export type FlagsObjectInput<M> = { -readonly [K in keyof M]?: boolean };

export class FlagsCodec<M extends Record<string, number>, V, I> extends Codec<V, I> {
  readonly kind = 'flags';
  readonly base: IntCodec;
  readonly masks: M;
  readonly as: 'object' | 'set';
  readonly unknown: 'error' | 'ignore';
  readonly #known: number;

  constructor(base: IntCodec, masks: M, options: FlagsOptions) {
    super();
    checkIntBase(base, 'flags');
    let known = 0;
    for (const [name, mask] of Object.entries(masks)) {
      if (!Number.isInteger(mask) || mask === 0 || mask < 0 || mask >= 2 ** base.bits) throw new RangeError(`flags: ${name} = ${mask} is not a non-zero ${base.bits}-bit mask`);
      known |= mask;
    }
    this.base = base;
    this.masks = masks;
    this.as = options.as ?? 'object';
    this.unknown = options.unknown ?? 'error';
    this.#known = known;
  }

  layoutFor(): Layout {
    return this.base.layoutFor();
  }

  emitRead(g: Gen, off: string, path: Path): ReadOut {
    const raw = g.hoist(this.base.emitRead(g, off).value, 'n');
    if (this.unknown === 'error') {
      g.line(`if ((${raw} & ${~this.#known}) !== 0) ${g.fail(`"unknown flag bits 0x" + ((${raw} & ${~this.#known}) >>> 0).toString(16)`, path, off)}`);
    }
    if (this.as === 'object') {
      const parts = Object.entries(this.masks).map(([name, mask]) => `${JSON.stringify(name)}: (${raw} & ${mask | 0}) === ${mask | 0}`);
      return { value: `{${parts.join(', ')}}` };
    }
    const set = g.id('f');
    g.line(`const ${set} = new Set();`);
    for (const [name, mask] of Object.entries(this.masks)) g.line(`if ((${raw} & ${mask | 0}) === ${mask | 0}) ${set}.add(${JSON.stringify(name)});`);
    return { value: set };
  }

  emitWrite(g: Gen, val: string, off: string, path: Path): undefined {
    const input = g.hoist(val);
    const raw = g.id('n');
    g.line(`let ${raw} = 0;`);
    if (this.as === 'object') {
      g.line(`if (typeof ${input} !== "object" || ${input} === null) ${g.fail(`"expected an object of booleans, got " + ${g.ref(show)}(${input})`, path, off)}`);
      g.line(`for (const k in ${input}) if (!Object.prototype.hasOwnProperty.call(${g.ref(this.masks)}, k)) ${g.fail(`"unknown flag " + ${g.ref(show)}(k)`, path, off)}`);
      for (const [name, mask] of Object.entries(this.masks)) {
        const bit = `${input}[${JSON.stringify(name)}]`;
        g.line(`if (${bit} === true) ${raw} |= ${mask | 0}; else if (${bit} !== false && ${bit} !== undefined) ${g.fail(`"flag ${name} must be a boolean"`, path, off)}`);
      }
    } else {
      g.line(`if (!(${input} instanceof Set) && !Array.isArray(${input})) ${g.fail(`"expected a Set or array of flag names, got " + ${g.ref(show)}(${input})`, path, off)}`);
      const name = g.id('k');
      g.line(`for (const ${name} of ${input}) switch (${name}) {`);
      for (const [key, mask] of Object.entries(this.masks)) g.line(`case ${JSON.stringify(key)}: ${raw} |= ${mask | 0}; break;`);
      g.line(`default: ${g.fail(`"unknown flag " + ${g.ref(show)}(${name})`, path, off)}`);
      g.line('}');
    }
    const kind = this.base.kind;
    const fitted = kind === 'u32' ? `${raw} >>> 0` : kind === 'u16' ? `${raw} & 0xffff` : kind === 'u8' ? `${raw} & 0xff` : kind === 'i16' ? `(${raw} << 16) >> 16` : kind === 'i8' ? `(${raw} << 24) >> 24` : raw;
    this.base.emitWrite(g, fitted, off, path);
    return undefined;
  }
}

export function enumOf<const M extends Record<string, number>>(base: IntCodec, values: M, options?: EnumOptions & { unknown?: 'error' }): EnumCodec<M>;
export function enumOf<const M extends Record<string, number>>(base: IntCodec, values: M, options: EnumOptions & { unknown: 'number' }): EnumCodec<M, number>;
export function enumOf<const M extends Record<string, number>>(base: IntCodec, values: M, options: EnumOptions = {}): EnumCodec<M, number> | EnumCodec<M> {
  return new EnumCodec(base, values, options);
}

export function flags<const M extends Record<string, number>>(base: IntCodec, masks: M, options: FlagsOptions & { as: 'set' }): FlagsCodec<M, Set<keyof M & string>, ReadonlySet<keyof M & string> | readonly (keyof M & string)[]>;
export function flags<const M extends Record<string, number>>(base: IntCodec, masks: M, options?: FlagsOptions & { as?: 'object' }): FlagsCodec<M, FlagsObject<M>, FlagsObjectInput<M>>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function flags<const M extends Record<string, number>>(base: IntCodec, masks: M, options: FlagsOptions = {}): FlagsCodec<M, any, any> {
  return new FlagsCodec(base, masks, options);
}
