// The Codec base class: layout per target, lazily compiled reader/writer per target, and the
// public decode/encode surface. Concrete codecs only describe layout and emit source.
import { CodecError } from './errors.js';
import { Gen, type Path, type Scope, type Target, addOffset } from './gen.js';

declare const valueType: unique symbol;
declare const inputType: unique symbol;

export interface Layout {
  /** sizeof on this target for fixed-size codecs; for variable-size ones, the smallest possible encoding. */
  readonly size: number;
  readonly align: number;
  /** Alignment requested with __declspec(align(n)); unlike natural alignment, `#pragma pack` does not lower it. */
  readonly explicitAlign: number;
  readonly fixed: boolean;
}

export interface ReadOut {
  /** JS expression for the decoded value. */
  readonly value: string;
  /** JS expression for the position after the value; required from variable-size codecs. */
  readonly end?: string;
}

/** A leaf located inside a fixed layout, for error messages. */
export interface Located {
  readonly path: string;
  readonly offset: number;
}

export interface DecodedWithLength<T> {
  readonly value: T;
  readonly byteLength: number;
}

export interface CodecOps<T, I> {
  readonly target: Target;
  readonly size: number;
  readonly alignment: number;
  readonly fixed: boolean;
  offsetOf(path: string): number;
  decode(bytes: Uint8Array, offset?: number): T;
  decodeWithLength(bytes: Uint8Array, offset?: number): DecodedWithLength<T>;
  encode(value: I): Uint8Array;
  encodeInto(value: I, target: Uint8Array, offset?: number): number;
  encodedSize(value: I): number;
}

interface Compiled<T, I> {
  readonly layout: Layout;
  readonly read: (bytes: Uint8Array, start: number) => T;
  readonly end: number[];
  readonly write: (bytes: Uint8Array, start: number, value: I) => void;
  readonly sizeOf: ((value: I, start: number) => number) | undefined;
}

export abstract class Codec<T, I = T> implements CodecOps<T, I> {
  declare readonly [valueType]: T;
  declare readonly [inputType]: I;
  /** Short description used in error messages and generated C ("u32", "struct", ...). */
  abstract readonly kind: string;
  /** Name given with `named()`/`struct(..., {name})`; used by the C emitter and docs. */
  typeName: string | undefined;
  // Loosely typed so that private state does not make Codec invariant in T and I
  // (Codec<number> must be usable where Codec<unknown> is expected).
  readonly #compiled = new Map<Target, Compiled<any, any>>(); // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly #views = new Map<Target, TargetView<any, any>>(); // eslint-disable-line @typescript-eslint/no-explicit-any
  protected defaultTarget: Target = 'x64';
  #reader: ((bytes: Uint8Array, start: number) => T) | undefined;

  abstract layoutFor(target: Target): Layout;
  /** Emits statements that read the value at `off` (bounds already checked for fixed codecs). */
  abstract emitRead(g: Gen, off: string, path: Path, scope: Scope): ReadOut;
  /** Emits statements that validate and write `val` at `off`; returns the end expression for variable codecs. */
  abstract emitWrite(g: Gen, val: string, off: string, path: Path, scope: Scope): string | undefined;

  /** For variable codecs: emits statements computing the end position of `val` written at `off`. */
  emitEnd(g: Gen, val: string, off: string, scope: Scope): string {
    void val;
    void scope;
    return addOffset(off, this.layoutFor(g.target).size);
  }

  /** Static offset of a dotted path below this codec; undefined when it is not a fixed position. */
  offsetWithin(_target: Target, path: readonly string[]): number | undefined {
    return path.length === 0 ? 0 : undefined;
  }

  /** Which leaf covers byte `rel` (used to name the field a truncated input cut through). */
  locate(_target: Target, _rel: number): Located {
    return { path: '', offset: 0 };
  }

  // ---- public surface (default target) ----

  get target(): Target {
    return this.defaultTarget;
  }

  get size(): number {
    return this.layoutFor(this.defaultTarget).size;
  }

  get alignment(): number {
    return this.layoutFor(this.defaultTarget).align;
  }

  get fixed(): boolean {
    return this.layoutFor(this.defaultTarget).fixed;
  }

  /** The same codec laid out for another target (pointer-sized fields change size). */
  for(target: Target): CodecOps<T, I> {
    let view: TargetView<T, I> | undefined = this.#views.get(target);
    if (view === undefined) {
      view = new TargetView(this, target);
      this.#views.set(target, view);
    }
    return view;
  }

  offsetOf(path: string): number {
    return offsetOfIn(this, this.defaultTarget, path);
  }

  decode(bytes: Uint8Array, offset = 0): T {
    // The default target's reader is cached in a field: this is the hot path.
    return (this.#reader ??= this.compiled(this.defaultTarget).read)(bytes, offset);
  }

  decodeWithLength(bytes: Uint8Array, offset = 0): DecodedWithLength<T> {
    return decodeWithLengthIn(this.compiled(this.defaultTarget), bytes, offset);
  }

  encode(value: I): Uint8Array {
    return encodeIn(this.compiled(this.defaultTarget), value);
  }

  encodeInto(value: I, target: Uint8Array, offset = 0): number {
    return encodeIntoIn(this.compiled(this.defaultTarget), value, target, offset);
  }

  encodedSize(value: I): number {
    return encodedSizeIn(this.compiled(this.defaultTarget), value);
  }

  /** The generated reader's source, for debugging and for the curious. */
  readerSource(target: Target = this.defaultTarget): string {
    return this.compiled(target).read.toString();
  }

  /** @internal */
  compiled(target: Target): Compiled<T, any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    let compiled: Compiled<T, I> | undefined = this.#compiled.get(target);
    if (compiled === undefined) {
      compiled = compile(this, target);
      this.#compiled.set(target, compiled);
    }
    return compiled;
  }
}

class TargetView<T, I> implements CodecOps<T, I> {
  readonly #codec: Codec<T, I>;
  readonly target: Target;

  constructor(codec: Codec<T, I>, target: Target) {
    this.#codec = codec;
    this.target = target;
  }

  get size(): number {
    return this.#codec.layoutFor(this.target).size;
  }

  get alignment(): number {
    return this.#codec.layoutFor(this.target).align;
  }

  get fixed(): boolean {
    return this.#codec.layoutFor(this.target).fixed;
  }

  offsetOf(path: string): number {
    return offsetOfIn(this.#codec, this.target, path);
  }

  decode(bytes: Uint8Array, offset = 0): T {
    return decodeIn(this.#codec.compiled(this.target), bytes, offset);
  }

  decodeWithLength(bytes: Uint8Array, offset = 0): DecodedWithLength<T> {
    return decodeWithLengthIn(this.#codec.compiled(this.target), bytes, offset);
  }

  encode(value: I): Uint8Array {
    return encodeIn(this.#codec.compiled(this.target), value);
  }

  encodeInto(value: I, target: Uint8Array, offset = 0): number {
    return encodeIntoIn(this.#codec.compiled(this.target), value, target, offset);
  }

  encodedSize(value: I): number {
    return encodedSizeIn(this.#codec.compiled(this.target), value);
  }
}

function offsetOfIn(codec: AnyCodec, target: Target, path: string): number {
  const parts = path.split('.');
  const offset = codec.offsetWithin(target, parts);
  if (offset === undefined) {
    throw new CodecError(`offsetOf: '${path}' is not a field at a fixed offset of this ${codec.kind}`, { path, offset: 0 });
  }
  return offset;
}

/** Called by generated readers when the input or offset is unusable (kept out of the generated code). */
function badInput(bytes: unknown, offset: unknown): never {
  if (!(bytes instanceof Uint8Array)) throw new CodecError('decode: expected a Uint8Array or Buffer', { path: '', offset: 0 });
  throw new CodecError(`offset ${String(offset)} is outside the ${bytes.byteLength}-byte input`, { path: '', offset: typeof offset === 'number' ? offset : 0 });
}

function decodeIn<T, I>(compiled: Compiled<T, I>, bytes: Uint8Array, offset: number): T {
  return compiled.read(bytes, offset);
}

function decodeWithLengthIn<T, I>(compiled: Compiled<T, I>, bytes: Uint8Array, offset: number): DecodedWithLength<T> {
  const value = compiled.read(bytes, offset);
  return { value, byteLength: compiled.layout.fixed ? compiled.layout.size : (compiled.end[0] ?? offset) - offset };
}

function encodedSizeIn<T, I>(compiled: Compiled<T, I>, value: I): number {
  if (compiled.sizeOf === undefined) return compiled.layout.size;
  return compiled.sizeOf(value, 0);
}

function encodeIn<T, I>(compiled: Compiled<T, I>, value: I): Uint8Array {
  const bytes = new Uint8Array(encodedSizeIn(compiled, value));
  compiled.write(bytes, 0, value);
  return bytes;
}

function encodeIntoIn<T, I>(compiled: Compiled<T, I>, value: I, target: Uint8Array, offset: number): number {
  if (!(target instanceof Uint8Array)) {
    throw new CodecError('encodeInto: expected a Uint8Array or Buffer', { path: '', offset: 0 });
  }
  if (!Number.isInteger(offset) || offset < 0 || offset > target.byteLength) {
    throw new CodecError(`offset ${offset} is outside the ${target.byteLength}-byte buffer`, { path: '', offset });
  }
  const size = compiled.sizeOf === undefined ? compiled.layout.size : compiled.sizeOf(value, offset);
  if (offset + size > target.byteLength) {
    throw new CodecError(`the value needs ${size} bytes but only ${target.byteLength - offset} are free`, { path: '', offset });
  }
  // Padding and unused string/array tails must be zero on the wire, whatever the buffer held.
  target.fill(0, offset, offset + size);
  compiled.write(target, offset, value);
  return size;
}

/** Throws the error for an input too short for a fixed layout, naming the field it cut through. */
export function truncated(codec: AnyCodec, target: Target, pathPrefix: string, start: number, limit: number): never {
  const layout = codec.layoutFor(target);
  const available = Math.max(0, limit - start);
  const leaf = codec.locate(target, available);
  const path = pathPrefix === '' ? leaf.path : leaf.path === '' ? pathPrefix : leaf.path.startsWith('[') ? pathPrefix + leaf.path : `${pathPrefix}.${leaf.path}`;
  throw new CodecError(
    `input truncated: ${codec.typeName ?? codec.kind} needs ${layout.size} bytes, ${available} available; ${path === '' ? 'value' : path} is cut off (offset ${start + leaf.offset})`,
    { path, offset: start + leaf.offset },
  );
}

function compile<T, I>(codec: Codec<T, I>, target: Target): Compiled<T, I> {
  const layout = codec.layoutFor(target);
  const endHolder: number[] = [0];

  const r = new Gen(target);
  r.line(`if (!(B instanceof Uint8Array) || (S >>> 0) !== S || S > B.byteLength) ${r.ref(badInput)}(B, S);`);
  r.line('const D = new DataView(B.buffer, B.byteOffset, B.byteLength);');
  r.line('const E = B.byteLength;');
  if (layout.fixed) {
    r.line(`if (E - S < ${layout.size}) ${r.ref(truncated)}(${r.ref(codec)}, ${JSON.stringify(target)}, "", S, E);`);
  }
  const out = codec.emitRead(r, 'S', [], new Map());
  if (!layout.fixed) r.line(`${r.ref(endHolder)}[0] = ${out.end ?? 'S'};`);
  const read = r.build<(bytes: Uint8Array, start: number) => T>('B, S', `return ${out.value};`);

  const w = new Gen(target);
  w.line('const D = new DataView(B.buffer, B.byteOffset, B.byteLength);');
  codec.emitWrite(w, 'V', 'S', [], new Map());
  const write = w.build<(bytes: Uint8Array, start: number, value: I) => void>('B, S, V', '');

  let sizeOf: ((value: I, start: number) => number) | undefined;
  if (!layout.fixed) {
    const s = new Gen(target);
    const end = codec.emitEnd(s, 'V', 'S', new Map());
    sizeOf = s.build<(value: I, start: number) => number>('V, S', `return ${end} - S;`);
  }
  return { layout, read, end: endHolder, write, sizeOf };
}

/** Helper used by most fixed codecs: layout with no explicit alignment. */
export function natural(size: number, align: number): Layout {
  return { size, align, explicitAlign: 1, fixed: true };
}

export type AnyCodec = Codec<any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
/** The decoded value type of a codec. */
export type Infer<C> = C extends Codec<infer T, any> ? T : never; // eslint-disable-line @typescript-eslint/no-explicit-any
/** What `encode` accepts (differs from Infer only for envelopes and unions). */
export type InferInput<C> = C extends Codec<any, infer I> ? I : never; // eslint-disable-line @typescript-eslint/no-explicit-any
