// A union selected by an earlier field of the same struct (the C pattern
// `ULONG Type; union {...} u;`), compiled to a switch on the already-decoded tag.
import { type AnyCodec, Codec, type Infer, type InferInput, type Layout, type ReadOut, truncated } from './codec.js';
import { type Gen, type Path, type Scope, type ScopeEntry, type Target, alignUp, pathExpr, show } from './gen.js';
import { EnumCodec } from './enum.js';
import { BigIntCodec, IntCodec } from './primitives.js';

export interface VariantOptions {
  /**
   * 'union' (default): sized like the C union of all cases (largest case, rounded to the
   * union's alignment); encode zero-fills the unused part. 'exact': takes only the bytes of
   * the selected case, so the enclosing struct becomes variable-size.
   */
  size?: 'union' | 'exact';
}

type Cases = Record<PropertyKey, AnyCodec>;

export class VariantCodec<Tag extends string, C extends Cases> extends Codec<Infer<C[keyof C]>, InferInput<C[keyof C]>> {
  readonly kind = 'variant';
  readonly tag: Tag;
  readonly cases: C;
  readonly mode: 'union' | 'exact';

  constructor(tag: Tag, cases: C, options: VariantOptions) {
    super();
    if (Object.keys(cases).length === 0) throw new TypeError('variant: needs at least one case');
    this.tag = tag;
    this.cases = cases;
    this.mode = options.size ?? 'union';
    if (this.mode === 'union') {
      for (const [key, codec] of Object.entries(cases)) {
        if (!codec.layoutFor('x64').fixed || !codec.layoutFor('x86').fixed) throw new TypeError(`variant: case ${key} has a variable size; use {size: 'exact'}`);
      }
    }
  }

  layoutFor(target: Target): Layout {
    let size = 0;
    let min = Infinity;
    let align = 1;
    let explicitAlign = 1;
    for (const codec of Object.values(this.cases)) {
      const layout = codec.layoutFor(target);
      size = Math.max(size, layout.size);
      min = Math.min(min, layout.size);
      align = Math.max(align, layout.align);
      explicitAlign = Math.max(explicitAlign, layout.explicitAlign);
    }
    if (this.mode === 'union') return { size: alignUp(size, align), align, explicitAlign, fixed: true };
    return { size: min, align, explicitAlign, fixed: false };
  }

  #tagEntry(scope: Scope): ScopeEntry {
    const entry = scope.get(this.tag);
    if (entry === undefined) throw new TypeError(`variant: tag '${this.tag}' must name an earlier field of the same struct`);
    if (!(entry.codec instanceof IntCodec) && !(entry.codec instanceof BigIntCodec) && !(entry.codec instanceof EnumCodec)) {
      throw new TypeError(`variant: tag '${this.tag}' must be an integer or enumOf field`);
    }
    return entry;
  }

  #label(entry: ScopeEntry, key: string): string {
    if (entry.codec instanceof EnumCodec) {
      if (!(key in entry.codec.values)) throw new TypeError(`variant: case '${key}' is not a name of the tag enum`);
      return JSON.stringify(key);
    }
    if (!/^-?\d+$/.test(key)) throw new TypeError(`variant: case '${key}' is not an integer tag value`);
    return entry.codec instanceof BigIntCodec ? `${key}n` : key;
  }

  emitRead(g: Gen, off: string, path: Path, scope: Scope): ReadOut {
    const entry = this.#tagEntry(scope);
    const start = g.hoist(off, 'o');
    const out = g.id('v');
    const end = g.id('e');
    g.line(`let ${out}, ${end};`);
    g.line(`switch (${entry.expr}) {`);
    for (const [key, codec] of Object.entries(this.cases)) {
      g.line(`case ${this.#label(entry, key)}: {`);
      const layout = codec.layoutFor(g.target);
      if (this.mode === 'exact' && layout.fixed) {
        g.line(`if (${start} + ${layout.size} > ${g.limit}) ${g.ref(truncated)}(${g.ref(codec)}, ${JSON.stringify(g.target)}, ${pathExpr(path)}, ${start}, ${g.limit});`);
      }
      const r = codec.emitRead(g, start, path, new Map());
      g.line(`${out} = ${r.value}; ${end} = ${r.end ?? `${start} + ${layout.size}`}; break; }`);
    }
    g.line(`default: ${g.fail(`"no case for ${this.tag} = " + ${g.ref(show)}(${entry.expr})`, path, start)}`);
    g.line('}');
    return this.mode === 'union' ? { value: out } : { value: out, end };
  }

  emitWrite(g: Gen, val: string, off: string, path: Path, scope: Scope): string | undefined {
    const entry = this.#tagEntry(scope);
    const start = g.hoist(off, 'o');
    const value = g.hoist(val);
    const end = g.id('e');
    g.line(`let ${end};`);
    g.line(`switch (${entry.expr}) {`);
    for (const [key, codec] of Object.entries(this.cases)) {
      g.line(`case ${this.#label(entry, key)}: {`);
      const written = codec.emitWrite(g, value, start, path, new Map());
      g.line(`${end} = ${written ?? `${start} + ${codec.layoutFor(g.target).size}`}; break; }`);
    }
    g.line(`default: ${g.fail(`"no case for ${this.tag} = " + ${g.ref(show)}(${entry.expr})`, path, start)}`);
    g.line('}');
    return this.mode === 'union' ? undefined : end;
  }

  override emitEnd(g: Gen, val: string, off: string, scope: Scope): string {
    if (this.mode === 'union') return `${off} + ${this.layoutFor(g.target).size}`;
    const entry = this.#tagEntry(scope);
    const start = g.hoist(off, 'o');
    const value = g.hoist(val);
    const end = g.id('e');
    g.line(`let ${end} = ${start};`);
    g.line(`switch (${entry.expr}) {`);
    for (const [key, codec] of Object.entries(this.cases)) {
      g.line(`case ${this.#label(entry, key)}: {`);
      g.line(`${end} = ${codec.emitEnd(g, value, start, new Map())}; break; }`);
    }
    g.line('}');
    return end;
  }
}

export function variant<const Tag extends string, const C extends Cases>(tag: Tag, cases: C, options: VariantOptions = {}): VariantCodec<Tag, C> {
  return new VariantCodec(tag, cases, options);
}
