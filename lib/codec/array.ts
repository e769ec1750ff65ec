// Byte arrays and arrays of any codec, with a fixed count or a count read from an earlier field.
import { type AnyCodec, Codec, type Infer, type InferInput, type Layout, type Located, type ReadOut, natural } from './codec.js';
import { type Gen, type Path, type Scope, type ScopeEntry, type Target, addOffset, indexPath, show } from './gen.js';
import { BigIntCodec, IntCodec } from './primitives.js';

/** A count taken from an earlier integer field of the same struct. */
export interface CountFrom {
  countFrom: string;
  /** Refuse counts above this (protects against huge allocations from corrupt input). */
  max?: number;
}

type Count = number | CountFrom;

function resolveCount(scope: Scope, count: CountFrom, who: string): ScopeEntry {
  const entry = scope.get(count.countFrom);
  if (entry === undefined) throw new TypeError(`${who}: countFrom '${count.countFrom}' must name an earlier field of the same struct`);
  if (!(entry.codec instanceof IntCodec) && !(entry.codec instanceof BigIntCodec)) {
    throw new TypeError(`${who}: countFrom '${count.countFrom}' must be an integer field`);
  }
  return entry;
}

function checkFixedCount(n: number, who: string): void {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) throw new RangeError(`${who}: count must be a non-negative integer, got ${n}`);
}

export interface BytesOptions {
  /**
   * false (default): decode copies the bytes, so the value stays valid after the message
   * buffer is reused and does not pin it. true: a view into the input (no copy; you own the
   * lifetime question).
   */
  view?: boolean;
}

/** Most elements a counted array of possibly-empty elements decodes without a declared max. */
export const ZERO_SIZE_ELEMENT_CAP = 65536;

const sliceBytes = Uint8Array.prototype.slice;
const viewBytes = Uint8Array.prototype.subarray;

interface NodeBufferCtor {
  allocUnsafe(size: number): Uint8Array;
  prototype: { copy(this: Uint8Array, target: Uint8Array, targetStart: number, sourceStart: number, sourceEnd: number): number };
}
const NodeBuffer = (globalThis as { Buffer?: NodeBufferCtor }).Buffer;
const bufferCopy = NodeBuffer?.prototype.copy;

/**
 * A private copy. On Node it comes from Buffer's pool: a fresh 512-byte Uint8Array costs
 * ~1 µs (off-heap backing store) against ~0.12 µs for a pooled Buffer, and the copy is what
 * dominates decoding a typical message.
 */
function copyBytes(bytes: Uint8Array, start: number, end: number): Uint8Array {
  if (NodeBuffer === undefined || bufferCopy === undefined) return sliceBytes.call(bytes, start, end);
  const out = NodeBuffer.allocUnsafe(end - start);
  bufferCopy.call(bytes, out, 0, start, end);
  return out;
}

/** UCHAR[n] (or a count from a field) as a Uint8Array. Encode accepts up to n bytes; the rest is zero. */
export class BytesCodec extends Codec<Uint8Array> {
  readonly kind = 'UCHAR[]';
  readonly count: Count;
  readonly view: boolean;

  constructor(count: Count, options: BytesOptions) {
    super();
    if (typeof count === 'number') checkFixedCount(count, 'bytes');
    this.count = count;
    this.view = options.view === true;
  }

  layoutFor(): Layout {
    return typeof this.count === 'number' ? natural(this.count, 1) : { size: 0, align: 1, explicitAlign: 1, fixed: false };
  }

  emitRead(g: Gen, off: string, path: Path, scope: Scope): ReadOut {
    const call = (a: string, b: string): string => (this.view ? `${g.ref(viewBytes)}.call(B, ${a}, ${b})` : `${g.ref(copyBytes)}(B, ${a}, ${b})`);
    if (typeof this.count === 'number') return { value: call(off, addOffset(off, this.count)) };
    const entry = resolveCount(scope, this.count, 'bytes');
    const start = g.hoist(off, 'o');
    const n = g.id('n');
    g.line(`const ${n} = Number(${entry.expr});`);
    if (this.count.max !== undefined) g.line(`if (${n} > ${this.count.max}) ${g.fail(`"count " + ${n} + " exceeds the maximum of ${this.count.max}"`, path, start)}`);
    g.line(`if (${n} > ${g.limit} - ${start}) ${g.fail(`"input truncated: " + ${n} + " bytes (from ${this.count.countFrom}) needed, " + (${g.limit} - ${start}) + " available"`, path, start)}`);
    return { value: call(start, `${start} + ${n}`), end: `${start} + ${n}` };
  }

  emitWrite(g: Gen, val: string, off: string, path: Path, scope: Scope): string | undefined {
    const bytes = g.hoist(val);
    g.line(`if (!(${bytes} instanceof Uint8Array)) ${g.fail(`"expected a Uint8Array, got " + ${g.ref(show)}(${bytes})`, path, off)}`);
    if (typeof this.count === 'number') {
      g.line(`if (${bytes}.length > ${this.count}) ${g.fail(`${bytes}.length + " bytes do not fit in UCHAR[${this.count}]"`, path, off)}`);
      g.line(`B.set(${bytes}, ${off});`);
      return undefined;
    }
    const entry = resolveCount(scope, this.count, 'bytes');
    g.line(`if (Number(${entry.expr}) !== ${bytes}.length) ${g.fail(`"${this.count.countFrom} is " + ${g.ref(show)}(${entry.expr}) + " but the array has " + ${bytes}.length + " bytes"`, path, off)}`);
    if (this.count.max !== undefined) g.line(`if (${bytes}.length > ${this.count.max}) ${g.fail(`${bytes}.length + " bytes exceed the maximum of ${this.count.max}"`, path, off)}`);
    g.line(`B.set(${bytes}, ${off});`);
    return `${off} + ${bytes}.length`;
  }

  override emitEnd(g: Gen, val: string, off: string): string {
    if (typeof this.count === 'number') return addOffset(off, this.count);
    const bytes = g.hoist(val);
    return `${off} + (${bytes} instanceof Uint8Array ? ${bytes}.length : 0)`;
  }
}

/** TYPE[n] of any codec, or a count from an earlier field. */
export class ArrayCodec<C extends AnyCodec> extends Codec<Infer<C>[], InferInput<C>[]> {
  readonly kind = 'array';
  readonly element: C;
  readonly count: Count;

  constructor(element: C, count: Count) {
    super();
    if (typeof count === 'number') checkFixedCount(count, 'array');
    this.element = element;
    this.count = count;
  }

  layoutFor(target: Target): Layout {
    const el = this.element.layoutFor(target);
    if (typeof this.count === 'number' && el.fixed) {
      return { size: el.size * this.count, align: el.align, explicitAlign: el.explicitAlign, fixed: true };
    }
    return { size: typeof this.count === 'number' ? el.size * this.count : 0, align: el.align, explicitAlign: el.explicitAlign, fixed: false };
  }

  override offsetWithin(target: Target, path: readonly string[]): number | undefined {
    if (path.length === 0) return 0;
    const [head = '', ...rest] = path;
    const el = this.element.layoutFor(target);
    const index = Number(head);
    if (!el.fixed || !Number.isInteger(index) || index < 0 || (typeof this.count === 'number' && index >= this.count)) return undefined;
    const inner = this.element.offsetWithin(target, rest);
    return inner === undefined ? undefined : index * el.size + inner;
  }

  override locate(target: Target, rel: number): Located {
    const el = this.element.layoutFor(target);
    if (!el.fixed || el.size === 0) return { path: '', offset: 0 };
    const index = Math.floor(rel / el.size);
    const inner = this.element.locate(target, rel - index * el.size);
    return { path: `[${index}]${inner.path === '' ? '' : inner.path.startsWith('[') ? inner.path : `.${inner.path}`}`, offset: index * el.size + inner.offset };
  }

  #stride(target: Target): number {
    const el = this.element.layoutFor(target);
    return el.size;
  }

  emitRead(g: Gen, off: string, path: Path, scope: Scope): ReadOut {
    const el = this.element.layoutFor(g.target);
    const start = g.hoist(off, 'o');
    const n = g.id('n');
    if (typeof this.count === 'number') {
      g.line(`const ${n} = ${this.count};`);
    } else {
      const entry = resolveCount(scope, this.count, 'array');
      g.line(`const ${n} = Number(${entry.expr});`);
      if (this.count.max !== undefined) g.line(`if (${n} > ${this.count.max}) ${g.fail(`"count " + ${n} + " exceeds the maximum of ${this.count.max}"`, path, start)}`);
      if (el.fixed) {
        g.line(`if (${n} * ${el.size} > ${g.limit} - ${start}) ${g.fail(`"input truncated: " + ${n} + " elements (from ${this.count.countFrom}) need " + ${n} * ${el.size} + " bytes, " + (${g.limit} - ${start}) + " available"`, path, start)}`);
      } else if (el.size > 0) {
        // Each element needs at least its minimum size: bounds the allocation below.
        g.line(`if (${n} * ${el.size} > ${g.limit} - ${start}) ${g.fail(`"input truncated: " + ${n} + " elements cannot fit in " + (${g.limit} - ${start}) + " bytes"`, path, start)}`);
      } else if (this.count.max === undefined) {
        // Elements that may encode to zero bytes (e.g. lists counted from outside) give the
        // input no say in how many there can be: cap the count so a hostile count field cannot
        // make decode allocate and loop without bound. Declare { max } to allow more.
        g.line(`if (${n} > ${ZERO_SIZE_ELEMENT_CAP}) ${g.fail(`"count " + ${n} + " of elements that may be empty exceeds ${ZERO_SIZE_ELEMENT_CAP}; declare { max } on ${this.count.countFrom}"`, path, start)}`);
      }
    }
    const out = g.id('a');
    const index = g.id('i');
    g.line(`const ${out} = new Array(${n});`);
    if (el.fixed) {
      const stride = this.#stride(g.target);
      g.line(`for (let ${index} = 0; ${index} < ${n}; ${index}++) {`);
      const at = g.id('o');
      g.line(`const ${at} = ${start} + ${index} * ${stride};`);
      const r = this.element.emitRead(g, at, indexPath(path, index), scope);
      g.line(`${out}[${index}] = ${r.value};`);
      g.line('}');
      return typeof this.count === 'number' ? { value: out } : { value: out, end: `${start} + ${n} * ${stride}` };
    }
    const cursor = g.id('p');
    g.line(`let ${cursor} = ${start};`);
    g.line(`for (let ${index} = 0; ${index} < ${n}; ${index}++) {`);
    if (el.align > 1) g.line(`${cursor} = ${start} + ((${cursor} - ${start} + ${el.align - 1}) & ${-el.align});`);
    const r = this.element.emitRead(g, cursor, indexPath(path, index), scope);
    g.line(`${out}[${index}] = ${r.value};`);
    g.line(`${cursor} = ${r.end ?? cursor};`);
    g.line('}');
    return { value: out, end: cursor };
  }

  emitWrite(g: Gen, val: string, off: string, path: Path, scope: Scope): string | undefined {
    const el = this.element.layoutFor(g.target);
    const items = g.hoist(val);
    const start = g.hoist(off, 'o');
    g.line(`if (!Array.isArray(${items})) ${g.fail(`"expected an array, got " + ${g.ref(show)}(${items})`, path, start)}`);
    if (typeof this.count === 'number') {
      g.line(`if (${items}.length !== ${this.count}) ${g.fail(`"expected exactly ${this.count} elements, got " + ${items}.length`, path, start)}`);
    } else {
      const entry = resolveCount(scope, this.count, 'array');
      g.line(`if (Number(${entry.expr}) !== ${items}.length) ${g.fail(`"${this.count.countFrom} is " + ${g.ref(show)}(${entry.expr}) + " but the array has " + ${items}.length + " elements"`, path, start)}`);
      if (this.count.max !== undefined) g.line(`if (${items}.length > ${this.count.max}) ${g.fail(`${items}.length + " elements exceed the maximum of ${this.count.max}"`, path, start)}`);
    }
    const index = g.id('i');
    if (el.fixed) {
      g.line(`for (let ${index} = 0; ${index} < ${items}.length; ${index}++) {`);
      const at = g.id('o');
      g.line(`const ${at} = ${start} + ${index} * ${el.size};`);
      this.element.emitWrite(g, `${items}[${index}]`, at, indexPath(path, index), scope);
      g.line('}');
      return typeof this.count === 'number' ? undefined : `${start} + ${items}.length * ${el.size}`;
    }
    const cursor = g.id('p');
    g.line(`let ${cursor} = ${start};`);
    g.line(`for (let ${index} = 0; ${index} < ${items}.length; ${index}++) {`);
    if (el.align > 1) g.line(`${cursor} = ${start} + ((${cursor} - ${start} + ${el.align - 1}) & ${-el.align});`);
    const end = this.element.emitWrite(g, `${items}[${index}]`, cursor, indexPath(path, index), scope);
    g.line(`${cursor} = ${end ?? cursor};`);
    g.line('}');
    return cursor;
  }

  override emitEnd(g: Gen, val: string, off: string, scope: Scope): string {
    const el = this.element.layoutFor(g.target);
    const items = g.hoist(val);
    if (el.fixed) {
      if (typeof this.count === 'number') return addOffset(off, el.size * this.count);
      return `${off} + (Array.isArray(${items}) ? ${items}.length * ${el.size} : 0)`;
    }
    const start = g.hoist(off, 'o');
    const cursor = g.id('p');
    const index = g.id('i');
    g.line(`let ${cursor} = ${start};`);
    g.line(`if (Array.isArray(${items})) for (let ${index} = 0; ${index} < ${items}.length; ${index}++) {`);
    if (el.align > 1) g.line(`${cursor} = ${start} + ((${cursor} - ${start} + ${el.align - 1}) & ${-el.align});`);
    const end = this.element.emitEnd(g, `${items}[${index}]`, cursor, scope);
    g.line(`${cursor} = ${end};`);
    g.line('}');
    return cursor;
  }
}

export function bytes(count: number | CountFrom, options: BytesOptions = {}): BytesCodec {
  return new BytesCodec(count, options);
}

export function array<C extends AnyCodec>(element: C, count: number | CountFrom): ArrayCodec<C> {
  return new ArrayCodec(element, count);
}

