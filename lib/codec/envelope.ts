// A versioned message envelope in the style of System Informer's KPH messages: a fixed header
// whose magic, version and size are checked before any body byte is interpreted, and whose
// type field selects the body codec. The body may be shorter than the size the header claims
// (a newer producer appended fields); it may never run past it.
import { type AnyCodec, Codec, type Infer, type InferInput, type Layout, type ReadOut, truncated } from './codec.js';
import { type Gen, type Path, type Target, addOffset, alignUp, childPath, pathExpr, show } from './gen.js';
import { EnumCodec } from './enum.js';
import { BigIntCodec, IntCodec } from './primitives.js';
import type { StructCodec } from './struct.js';

type HeaderFields = Record<string, AnyCodec>;
type Bodies = Record<PropertyKey, AnyCodec>;

export interface EnvelopeSpec<H extends HeaderFields, B extends Bodies, TF extends keyof H & string, MF extends keyof H & string, SF extends keyof H & string, VF extends keyof H & string> {
  header: StructCodec<H>;
  /** Field that must hold `value`; checked first. */
  magic: { field: MF; value: number | bigint };
  /** Field holding the version; decode accepts `accept` (default [value]); encode writes `value` unless the input header sets it. */
  version?: { field: VF; value: number; accept?: readonly number[] };
  /** Field holding the byte size of the whole message (header + body, default) or of the body only. */
  size: { field: SF; covers?: 'message' | 'body' };
  /** Field whose value selects the body codec. */
  type: { field: TF };
  bodies: B;
  /** true: the body must use exactly the bytes that the size field announces. Default false. */
  exact?: boolean;
}

type Managed<MF, SF, TF, VF> = MF | SF | TF | VF;

export type EnvelopeValue<H extends HeaderFields, B extends Bodies> = {
  [K in keyof B]: { type: K; header: Infer<StructCodec<H>>; body: Infer<B[K]> };
}[keyof B];

export type EnvelopeInput<H extends HeaderFields, B extends Bodies, MF extends PropertyKey, SF extends PropertyKey, TF extends PropertyKey, VF extends PropertyKey> = {
  [K in keyof B]: {
    type: K;
    header: Omit<InferInput<StructCodec<H>>, Managed<MF, SF, TF, VF>> & { [F in Managed<MF, SF, TF, VF> & keyof H]?: InferInput<H[F]> };
    body: InferInput<B[K]>;
  };
}[keyof B];

export class EnvelopeCodec<H extends HeaderFields, B extends Bodies, TF extends keyof H & string, MF extends keyof H & string, SF extends keyof H & string, VF extends keyof H & string> extends Codec<
  EnvelopeValue<H, B>,
  EnvelopeInput<H, B, MF, SF, TF, VF>
> {
  readonly kind = 'envelope';
  readonly spec: EnvelopeSpec<H, B, TF, MF, SF, VF>;

  constructor(spec: EnvelopeSpec<H, B, TF, MF, SF, VF>) {
    super();
    this.spec = spec;
    const header = spec.header;
    for (const target of ['x64', 'x86'] as const) {
      if (!header.layoutFor(target).fixed) throw new TypeError('envelope: the header must have a fixed size');
    }
    for (const role of [spec.magic.field, spec.size.field, spec.type.field, ...(spec.version === undefined ? [] : [spec.version.field])]) {
      if (!(role in header.fields)) throw new TypeError(`envelope: the header has no field '${role}'`);
    }
    const typeCodec = header.fields[spec.type.field];
    for (const key of Object.keys(spec.bodies)) this.#label(typeCodec, key);
  }

  #label(codec: unknown, key: string): string {
    if (codec instanceof EnumCodec) {
      if (!(key in codec.values)) throw new TypeError(`envelope: body '${key}' is not a name of the type enum`);
      return JSON.stringify(key);
    }
    if (!(codec instanceof IntCodec) && !(codec instanceof BigIntCodec)) throw new TypeError('envelope: the type field must be an integer or enumOf');
    if (!/^-?\d+$/.test(key)) throw new TypeError(`envelope: body key '${key}' is not an integer type value`);
    return codec instanceof BigIntCodec ? `${key}n` : key;
  }

  layoutFor(target: Target): Layout {
    const header = this.spec.header.layoutFor(target);
    let align = header.align;
    let min = Infinity;
    for (const body of Object.values(this.spec.bodies)) {
      const layout = body.layoutFor(target);
      align = Math.max(align, layout.align);
      min = Math.min(min, alignUp(header.size, layout.align) + layout.size);
    }
    return { size: min, align, explicitAlign: 1, fixed: false };
  }

  emitRead(g: Gen, off: string, path: Path): ReadOut {
    const { header, magic, version, size, type, bodies } = this.spec;
    const hl = header.layoutFor(g.target);
    const start = g.hoist(off, 'o');
    const headerPath = childPath(path, 'header');
    g.line(`if (${start} + ${hl.size} > ${g.limit}) ${g.ref(truncated)}(${g.ref(header)}, ${JSON.stringify(g.target)}, ${pathExpr(headerPath)}, ${start}, ${g.limit});`);
    const h = g.hoist(header.emitRead(g, start, headerPath).value, 'h');
    const at = (field: string): string => addOffset(start, offsetOn(header, g.target, field));
    const magicLit = typeof magic.value === 'bigint' ? `${magic.value}n` : String(magic.value);
    g.line(`if (${h}.${magic.field} !== ${magicLit}) ${g.fail(`"bad magic 0x" + ${h}.${magic.field}.toString(16) + ", expected 0x${magic.value.toString(16)}"`, childPath(headerPath, magic.field), at(magic.field))}`);
    if (version !== undefined) {
      const accept = version.accept ?? [version.value];
      g.line(`if (${accept.map((v) => `${h}.${version.field} !== ${v}`).join(' && ')}) ${g.fail(`"unsupported version " + ${g.ref(show)}(${h}.${version.field}) + ", accepted: ${accept.join(', ')}"`, childPath(headerPath, version.field), at(version.field))}`);
    }
    const total = g.id('n');
    g.line(`const ${total} = Number(${h}.${size.field});`);
    const bodyEnd = g.id('b');
    if ((size.covers ?? 'message') === 'message') {
      g.line(`if (${total} < ${hl.size}) ${g.fail(`"size " + ${total} + " is smaller than the ${hl.size}-byte header"`, childPath(headerPath, size.field), at(size.field))}`);
      g.line(`const ${bodyEnd} = ${start} + ${total};`);
    } else {
      g.line(`const ${bodyEnd} = ${start} + ${hl.size} + ${total};`);
    }
    g.line(`if (${bodyEnd} > ${g.limit}) ${g.fail(`"size " + ${total} + " runs past the end of the input (" + (${g.limit} - ${start}) + " bytes)"`, childPath(headerPath, size.field), at(size.field))}`);
    const body = g.id('v');
    g.line(`let ${body};`);
    const typeCodec = header.fields[type.field];
    const outer = g.limit;
    g.line(`switch (${h}.${type.field}) {`);
    for (const [key, codec] of Object.entries(bodies)) {
      const bl = codec.layoutFor(g.target);
      const bodyStart = alignUp(hl.size, bl.align);
      const bodyPath = childPath(path, 'body');
      g.line(`case ${this.#label(typeCodec, key)}: {`);
      if (bl.fixed) {
        g.line(`if (${start} + ${bodyStart + bl.size} > ${bodyEnd}) ${g.ref(truncated)}(${g.ref(codec)}, ${JSON.stringify(g.target)}, ${pathExpr(bodyPath)}, ${start} + ${bodyStart}, ${bodyEnd});`);
      } else {
        g.line(`if (${start} + ${bodyStart} > ${bodyEnd}) ${g.fail(`"size " + ${total} + " leaves no room for the body"`, childPath(headerPath, size.field), at(size.field))}`);
      }
      g.limit = bodyEnd;
      const r = codec.emitRead(g, addOffset(start, bodyStart), bodyPath, new Map());
      g.limit = outer;
      g.line(`${body} = ${r.value};`);
      if (this.spec.exact === true) {
        const used = r.end ?? `${start} + ${bodyStart + bl.size}`;
        g.line(`if (${used} !== ${bodyEnd}) ${g.fail(`"body uses " + (${used} - ${start}) + " bytes but the size field says " + (${bodyEnd} - ${start})`, childPath(headerPath, size.field), at(size.field))}`);
      }
      g.line('break; }');
    }
    g.line(`default: ${g.fail(`"unknown message type " + ${g.ref(show)}(${h}.${type.field})`, childPath(headerPath, type.field), at(type.field))}`);
    g.line('}');
    return { value: `{type: ${h}.${type.field}, header: ${h}, body: ${body}}`, end: bodyEnd };
  }

  emitWrite(g: Gen, val: string, off: string, path: Path): string {
    const { header, magic, version, size, type, bodies } = this.spec;
    const hl = header.layoutFor(g.target);
    const start = g.hoist(off, 'o');
    const input = g.hoist(val, 'm');
    g.line(`if (typeof ${input} !== "object" || ${input} === null) ${g.fail(`"expected {type, header, body}, got " + ${g.ref(show)}(${input})`, path, start)}`);
    const typeCodec = header.fields[type.field];
    const end = g.id('e');
    const bodyAt = g.id('a');
    g.line(`let ${end}, ${bodyAt};`);
    g.line(`switch (${input}.type) {`);
    for (const [key, codec] of Object.entries(bodies)) {
      const bodyStart = alignUp(hl.size, codec.layoutFor(g.target).align);
      g.line(`case ${this.#label(typeCodec, key)}: {`);
      g.line(`${bodyAt} = ${start} + ${bodyStart};`);
      const written = codec.emitWrite(g, `${input}.body`, bodyAt, childPath(path, 'body'), new Map());
      g.line(`${end} = ${written ?? `${bodyAt} + ${codec.layoutFor(g.target).size}`}; break; }`);
    }
    g.line(`default: ${g.fail(`"unknown message type " + ${g.ref(show)}(${input}.type)`, childPath(path, 'type'), start)}`);
    g.line('}');
    const given = g.id('g');
    g.line(`const ${given} = ${input}.header ?? {};`);
    const sizeExpr = (size.covers ?? 'message') === 'message' ? `${end} - ${start}` : `${end} - ${start} - ${hl.size}`;
    const sizeCodec = header.fields[size.field];
    const sizeValue = sizeCodec instanceof BigIntCodec ? `BigInt(${sizeExpr})` : sizeExpr;
    const magicLit = typeof magic.value === 'bigint' ? `${magic.value}n` : String(magic.value);
    const versionPart = version === undefined ? '' : `, ${JSON.stringify(version.field)}: ${given}.${version.field} ?? ${version.value}`;
    const full = g.id('h');
    g.line(`const ${full} = {...${given}, ${JSON.stringify(magic.field)}: ${magicLit}, ${JSON.stringify(size.field)}: ${sizeValue}, ${JSON.stringify(type.field)}: ${input}.type${versionPart}};`);
    header.emitWrite(g, full, start, childPath(path, 'header'));
    return end;
  }

  override emitEnd(g: Gen, val: string, off: string): string {
    const { header, bodies } = this.spec;
    const hl = header.layoutFor(g.target);
    const input = g.id('m');
    g.line(`const ${input} = ${val} ?? {};`);
    const start = g.hoist(off, 'o');
    const end = g.id('e');
    g.line(`let ${end} = ${start} + ${hl.size};`);
    g.line(`switch (${input}.type) {`);
    for (const [key, codec] of Object.entries(bodies)) {
      const bodyStart = alignUp(hl.size, codec.layoutFor(g.target).align);
      g.line(`case ${this.#label(header.fields[this.spec.type.field], key)}: {`);
      g.line(`${end} = ${codec.emitEnd(g, `${input}.body`, `${start} + ${bodyStart}`, new Map())}; break; }`);
    }
    g.line('}');
    return end;
  }
}

function offsetOn(header: AnyCodec, target: Target, field: string): number {
  return header.for(target).offsetOf(field);
}

export function envelope<
  H extends HeaderFields,
  const B extends Bodies,
  TF extends keyof H & string,
  MF extends keyof H & string,
  SF extends keyof H & string,
  VF extends keyof H & string = never,
>(spec: EnvelopeSpec<H, B, TF, MF, SF, VF>): EnvelopeCodec<H, B, TF, MF, SF, VF> {
  return new EnvelopeCodec(spec);
}
