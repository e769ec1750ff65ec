// C structs and unions laid out as MSVC does: natural alignment, min(pack, natural) under
// #pragma pack, __declspec(align) raising (never lowered by pack), tail padding to the
// struct's alignment. Variable-size members are allowed; later members then sit at run-time
// offsets, aligned relative to the struct's start exactly as a C compiler would place them.
import { type AnyCodec, Codec, type Infer, type InferInput, type Layout, type Located, type ReadOut, truncated } from './codec.js';
import { type Gen, type Path, type Scope, type ScopeEntry, type Target, addOffset, alignUp, childPath, pathExpr, show } from './gen.js';

export type Pack = 1 | 2 | 4 | 8 | 16;

export interface StructOptions {
  /** `#pragma pack(n)` in effect where the struct is defined. */
  pack?: Pack;
  /** `__declspec(align(n))` on the struct type. */
  align?: number;
  /** The C type name (used by the layout self-test and in error messages). */
  name?: string;
  /** The target used by size/offsetOf/decode/encode on this codec; `.for(t)` still works. Default x64. */
  target?: Target;
}

export interface FieldLayout {
  readonly name: string;
  readonly codec: AnyCodec;
  /** Offset from the struct start; undefined after a variable-size member. */
  readonly offset: number | undefined;
  /** Offset assuming every earlier variable member has its minimum size. */
  readonly minOffset: number;
  readonly layout: Layout;
  /** Effective alignment inside this struct (after pack and explicit alignment). */
  readonly align: number;
}

export interface StructLayout extends Layout {
  readonly fields: readonly FieldLayout[];
}

type Fields = Record<string, AnyCodec>;

// ---- types -----------------------------------------------------------------------------
// A struct holding `variant(tag, cases)` infers as a discriminated union on the tag field, so
// `if (m.Type === 1) m.Body` narrows; several variants intersect.

type Expand<T> = T extends unknown ? { [K in keyof T]: T[K] } : never;
type UnionToIntersection<U> = (U extends unknown ? (arg: U) => void : never) extends (arg: infer I) => void ? I : never;
// Matched structurally: VariantCodec is invariant in its cases (they appear in encode's
// parameter), so `extends VariantCodec<string, Record<...>>` would never match.
type VariantLike = { readonly kind: 'variant'; readonly tag: string; readonly cases: object };

type VariantKeys<F> = { [K in keyof F]: F[K] extends VariantLike ? K : never }[keyof F];
type TagKeys<F> = { [K in keyof F]: F[K] extends { readonly kind: 'variant'; readonly tag: infer T } ? T : never }[keyof F];

type CaseUnion<T extends string, K extends PropertyKey, C, Mode> = {
  [P in keyof C]: { [Q in T]: P } & { [Q in K]: Mode extends 'value' ? Infer<C[P]> : InferInput<C[P]> };
}[keyof C];
type Boxed<F, Mode> = {
  [K in VariantKeys<F>]: F[K] extends { readonly kind: 'variant'; readonly tag: infer T extends string; readonly cases: infer C } ? { box: CaseUnion<T, K, C, Mode> } : never;
}[VariantKeys<F>];
type Unbox<B> = B extends { box: unknown } ? B['box'] : never;
// Boxing stops UnionToIntersection from collapsing one variant's own cases into each other.
type Variants<F, Mode> = Unbox<UnionToIntersection<Boxed<F, Mode>>>;

type Plain<F, Mode> = {
  [K in keyof F as K extends VariantKeys<F> | TagKeys<F> ? never : K]: Mode extends 'value' ? Infer<F[K]> : InferInput<F[K]>;
};

export type StructValue<F> = [VariantKeys<F>] extends [never] ? { [K in keyof F]: Infer<F[K]> } : Expand<Plain<F, 'value'> & Variants<F, 'value'>>;
export type StructInput<F> = [VariantKeys<F>] extends [never] ? { [K in keyof F]: InferInput<F[K]> } : Expand<Plain<F, 'input'> & Variants<F, 'input'>>;

// ---- layout ------------------------------------------------------------------------------

const identifier = /^[A-Za-z_$][\w$]*$/;

function checkAlign(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1 || (value & (value - 1)) !== 0 || value > 8192) {
    throw new RangeError(`${what} must be a power of two between 1 and 8192, got ${value}`);
  }
}

export function layoutMembers(fields: readonly (readonly [string, AnyCodec])[], target: Target, pack: number | undefined, typeAlign: number, union: boolean): StructLayout {
  const out: FieldLayout[] = [];
  let offset = 0;
  let size = 0;
  let maxAlign = 1;
  let explicitAlign = typeAlign;
  let fixed = true;
  for (const [name, codec] of fields) {
    const layout = codec.layoutFor(target);
    const align = Math.max(pack === undefined ? layout.align : Math.min(pack, layout.align), layout.explicitAlign);
    maxAlign = Math.max(maxAlign, align);
    explicitAlign = Math.max(explicitAlign, layout.explicitAlign);
    if (union) {
      out.push({ name, codec, offset: 0, minOffset: 0, layout, align });
      size = Math.max(size, layout.size);
      if (!layout.fixed) fixed = false;
      continue;
    }
    offset = alignUp(offset, align);
    out.push({ name, codec, offset: fixed ? offset : undefined, minOffset: offset, layout, align });
    offset += layout.size;
    if (!layout.fixed) fixed = false;
  }
  const align = Math.max(maxAlign, typeAlign);
  const end = union ? size : offset;
  // Tail padding only for fixed layouts: a variable message ends where its last member ends.
  return { size: fixed ? alignUp(end, align) : end, align, explicitAlign, fixed, fields: out };
}

abstract class Aggregate<T, I> extends Codec<T, I> {
  readonly members: readonly (readonly [string, AnyCodec])[];
  readonly pack: Pack | undefined;
  readonly typeAlign: number;
  readonly #layouts = new Map<Target, StructLayout>();
  abstract readonly union: boolean;

  constructor(fields: Fields, options: StructOptions, what: string) {
    super();
    const members = Object.entries(fields);
    if (members.length === 0) throw new TypeError(`${what}: a C ${what} needs at least one member`);
    for (const [name, codec] of members) {
      if (!identifier.test(name)) throw new TypeError(`${what}: field name '${name}' is not an identifier`);
      if (!(codec instanceof Codec)) throw new TypeError(`${what}: field '${name}' is not a codec`);
    }
    if (options.pack !== undefined) checkAlign(options.pack, `${what} pack`);
    if (options.align !== undefined) checkAlign(options.align, `${what} align`);
    this.members = members;
    this.pack = options.pack;
    this.typeAlign = options.align ?? 1;
    this.typeName = options.name;
    if (options.target !== undefined) this.defaultTarget = options.target;
  }

  /** Field offsets, sizes and alignments on a target. */
  layoutFor(target: Target): StructLayout {
    let layout = this.#layouts.get(target);
    if (layout === undefined) {
      layout = layoutMembers(this.members, target, this.pack, this.typeAlign, this.union);
      this.#layouts.set(target, layout);
    }
    return layout;
  }

  override offsetWithin(target: Target, path: readonly string[]): number | undefined {
    if (path.length === 0) return 0;
    const [head, ...rest] = path;
    const field = this.layoutFor(target).fields.find((f) => f.name === head);
    if (field === undefined || field.offset === undefined) return undefined;
    const inner = field.codec.offsetWithin(target, rest);
    return inner === undefined ? undefined : field.offset + inner;
  }

  override locate(target: Target, rel: number): Located {
    for (const field of this.layoutFor(target).fields) {
      if (field.offset === undefined) break;
      if (rel < field.offset + field.layout.size) {
        const inner = field.codec.locate(target, rel - field.offset);
        const path = inner.path === '' ? field.name : inner.path.startsWith('[') ? field.name + inner.path : `${field.name}.${inner.path}`;
        return { path, offset: field.offset + inner.offset };
      }
    }
    return { path: '', offset: 0 };
  }
}

export class StructCodec<F extends Fields> extends Aggregate<StructValue<F>, StructInput<F>> {
  readonly kind = 'struct';
  readonly union = false;
  readonly fields: F;

  constructor(fields: F, options: StructOptions) {
    super(fields, options, 'struct');
    this.fields = fields;
  }

  emitRead(g: Gen, off: string, path: Path): ReadOut {
    const layout = this.layoutFor(g.target);
    const start = g.hoist(off, 'o');
    const scope = new Map<string, ScopeEntry>();
    const values: string[] = [];
    let cursor: string | undefined;
    if (!layout.fixed) {
      const prefix = layout.fields.find((f) => f.offset === undefined || !f.layout.fixed);
      const prefixSize = prefix === undefined ? layout.size : prefix.minOffset;
      if (prefixSize > 0) {
        g.line(`if (${start} + ${prefixSize} > ${g.limit}) ${g.ref(truncated)}(${g.ref(this)}, ${JSON.stringify(g.target)}, ${pathExprOf(path)}, ${start}, ${g.limit});`);
      }
    }
    for (const field of layout.fields) {
      const fieldPath = childPath(path, field.name);
      let at: string;
      if (field.offset !== undefined) {
        at = addOffset(start, field.offset);
      } else {
        const c = cursor ?? start;
        if (field.align > 1) g.line(`${c} = ${start} + ((${c} - ${start} + ${field.align - 1}) & ${-field.align});`);
        if (field.layout.fixed) {
          g.line(`if (${c} + ${field.layout.size} > ${g.limit}) ${g.ref(truncated)}(${g.ref(field.codec)}, ${JSON.stringify(g.target)}, ${pathExprOf(fieldPath)}, ${c}, ${g.limit});`);
        }
        at = c;
      }
      const r = field.codec.emitRead(g, at, fieldPath, scope);
      const local = g.id('v');
      g.line(`const ${local} = ${r.value};`);
      values.push(`${JSON.stringify(field.name)}: ${local}`);
      scope.set(field.name, { expr: local, codec: field.codec });
      if (!field.layout.fixed) {
        if (cursor === undefined) {
          cursor = g.id('p');
          g.line(`let ${cursor} = ${r.end ?? at};`);
        } else {
          g.line(`${cursor} = ${r.end ?? at};`);
        }
      } else if (field.offset === undefined && cursor !== undefined) {
        g.line(`${cursor} += ${field.layout.size};`);
      }
    }
    const obj = g.id('s');
    g.line(`const ${obj} = {${values.join(', ')}};`);
    return cursor === undefined ? { value: obj, end: addOffset(start, layout.size) } : { value: obj, end: cursor };
  }

  emitWrite(g: Gen, val: string, off: string, path: Path): string | undefined {
    const layout = this.layoutFor(g.target);
    const obj = g.hoist(val, 's');
    const start = g.hoist(off, 'o');
    g.line(`if (typeof ${obj} !== "object" || ${obj} === null) ${g.fail(`"expected an object, got " + ${g.ref(show)}(${obj})`, path, start)}`);
    const scope = new Map<string, ScopeEntry>();
    let cursor: string | undefined;
    for (const field of layout.fields) {
      const fieldPath = childPath(path, field.name);
      const value = g.hoist(`${obj}[${JSON.stringify(field.name)}]`);
      scope.set(field.name, { expr: value, codec: field.codec });
      let at: string;
      if (field.offset !== undefined) {
        at = addOffset(start, field.offset);
      } else {
        const c = cursor ?? start;
        if (field.align > 1) g.line(`${c} = ${start} + ((${c} - ${start} + ${field.align - 1}) & ${-field.align});`);
        at = c;
      }
      const end = field.codec.emitWrite(g, value, at, fieldPath, scope);
      if (!field.layout.fixed) {
        if (cursor === undefined) {
          cursor = g.id('p');
          g.line(`let ${cursor} = ${end ?? at};`);
        } else {
          g.line(`${cursor} = ${end ?? at};`);
        }
      } else if (field.offset === undefined && cursor !== undefined) {
        g.line(`${cursor} += ${field.layout.size};`);
      }
    }
    return cursor;
  }

  override emitEnd(g: Gen, val: string, off: string): string {
    const layout = this.layoutFor(g.target);
    if (layout.fixed) return addOffset(off, layout.size);
    const obj = g.id('s');
    g.line(`const ${obj} = ${val} ?? {};`);
    const start = g.hoist(off, 'o');
    const scope = new Map<string, ScopeEntry>();
    const cursor = g.id('p');
    g.line(`let ${cursor} = ${start};`);
    for (const field of layout.fields) {
      const value = g.hoist(`${obj}[${JSON.stringify(field.name)}]`);
      scope.set(field.name, { expr: value, codec: field.codec });
      if (field.offset !== undefined) {
        if (!field.layout.fixed) g.line(`${cursor} = ${field.codec.emitEnd(g, value, addOffset(start, field.offset), scope)};`);
        else g.line(`${cursor} = ${addOffset(start, field.offset + field.layout.size)};`);
        continue;
      }
      if (field.align > 1) g.line(`${cursor} = ${start} + ((${cursor} - ${start} + ${field.align - 1}) & ${-field.align});`);
      if (field.layout.fixed) g.line(`${cursor} += ${field.layout.size};`);
      else g.line(`${cursor} = ${field.codec.emitEnd(g, value, cursor, scope)};`);
    }
    return cursor;
  }
}

type UnionValue<F> = { [K in keyof F]: Infer<F[K]> };
type UnionInput<F> = { [K in keyof F]?: InferInput<F[K]> };

/**
 * An untagged C union. Decode returns every member's reading of the same bytes; encode
 * writes the first member present in the input (declaration order). For a union chosen by a
 * preceding tag field use `variant`.
 */
export class UnionCodec<F extends Fields> extends Aggregate<UnionValue<F>, UnionInput<F>> {
  readonly kind = 'union';
  readonly union = true;
  readonly fields: F;

  constructor(fields: F, options: StructOptions) {
    super(fields, options, 'union');
    for (const [name, codec] of this.members) {
      for (const target of ['x64', 'x86'] as const) {
        if (!codec.layoutFor(target).fixed) throw new TypeError(`union: member '${name}' must have a fixed size`);
      }
    }
    this.fields = fields;
  }

  emitRead(g: Gen, off: string, path: Path): ReadOut {
    const start = g.hoist(off, 'o');
    const values: string[] = [];
    for (const field of this.layoutFor(g.target).fields) {
      const r = field.codec.emitRead(g, start, childPath(path, field.name), new Map());
      const local = g.hoist(r.value);
      values.push(`${JSON.stringify(field.name)}: ${local}`);
    }
    const obj = g.id('s');
    g.line(`const ${obj} = {${values.join(', ')}};`);
    return { value: obj };
  }

  emitWrite(g: Gen, val: string, off: string, path: Path): undefined {
    const obj = g.hoist(val, 's');
    const start = g.hoist(off, 'o');
    g.line(`if (typeof ${obj} !== "object" || ${obj} === null) ${g.fail(`"expected an object, got " + ${g.ref(show)}(${obj})`, path, start)}`);
    const chain: string[] = [];
    for (const field of this.layoutFor(g.target).fields) {
      const key = JSON.stringify(field.name);
      g.line(`${chain.length === 0 ? '' : 'else '}if (${obj}[${key}] !== undefined) {`);
      field.codec.emitWrite(g, `${obj}[${key}]`, start, childPath(path, field.name), new Map());
      g.line('}');
      chain.push(key);
    }
    g.line(`else ${g.fail(`"expected one of the union members ${this.members.map(([n]) => n).join(', ')}"`, path, start)}`);
    return undefined;
  }
}

function pathExprOf(path: Path): string {
  return pathExpr(path);
}

/** A member or type with `__declspec(align(n))`: raises alignment (even under #pragma pack) but not size. */
export class AlignedCodec<T, I> extends Codec<T, I> {
  readonly kind: string;
  readonly inner: Codec<T, I>;
  readonly alignTo: number;

  constructor(inner: Codec<T, I>, alignTo: number) {
    super();
    checkAlign(alignTo, 'aligned');
    this.inner = inner;
    this.alignTo = alignTo;
    this.kind = inner.kind;
    this.typeName = inner.typeName;
  }

  layoutFor(target: Target): Layout {
    const inner = this.inner.layoutFor(target);
    return { ...inner, align: Math.max(inner.align, this.alignTo), explicitAlign: Math.max(inner.explicitAlign, this.alignTo) };
  }

  emitRead(g: Gen, off: string, path: Path, scope: Scope): ReadOut {
    return this.inner.emitRead(g, off, path, scope);
  }

  emitWrite(g: Gen, val: string, off: string, path: Path, scope: Scope): string | undefined {
    return this.inner.emitWrite(g, val, off, path, scope);
  }

  override emitEnd(g: Gen, val: string, off: string, scope: Scope): string {
    return this.inner.emitEnd(g, val, off, scope);
  }

  override offsetWithin(target: Target, path: readonly string[]): number | undefined {
    return this.inner.offsetWithin(target, path);
  }

  override locate(target: Target, rel: number): Located {
    return this.inner.locate(target, rel);
  }
}

export function struct<F extends Fields>(fields: F, options: StructOptions = {}): StructCodec<F> {
  return new StructCodec(fields, options);
}

export function union<F extends Fields>(fields: F, options: StructOptions = {}): UnionCodec<F> {
  return new UnionCodec(fields, options);
}

export function aligned<T, I>(codec: Codec<T, I>, alignment: number): AlignedCodec<T, I> {
  return new AlignedCodec(codec, alignment);
}
