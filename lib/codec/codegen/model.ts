// Turns a parsed header into codecs (for use at run time and for sizeof in constant
// expressions) and, in the same walk, into the TypeScript source that builds those codecs.
import type { AnyCodec } from '../codec.js';
import type { Target } from '../gen.js';
import { array, bytes } from '../array.js';
import { enumOf } from '../enum.js';
import * as prim from '../primitives.js';
import { cstring, wstring } from '../strings.js';
import { aligned, struct, union } from '../struct.js';
import { HeaderSyntaxError } from './lexer.js';
import type { AggregateDecl, BaseType, Builtin, Dim, EnumDecl, ParsedHeader, TypeRef, TypedefDecl } from './parser.js';

export interface Built {
  codec: AnyCodec;
  /** TS expression that builds the same codec in the generated module. */
  ts: string;
  /** The builtin at the bottom, for the WCHAR/CHAR/UCHAR array special cases. */
  builtin: Builtin | undefined;
}

const builtinCodecs: Record<Builtin, [AnyCodec, string]> = {
  u8: [prim.u8, 'u8'], i8: [prim.i8, 'i8'], u16: [prim.u16, 'u16'], i16: [prim.i16, 'i16'], u32: [prim.u32, 'u32'], i32: [prim.i32, 'i32'],
  u64: [prim.u64, 'u64'], i64: [prim.i64, 'i64'], f32: [prim.f32, 'f32'], f64: [prim.f64, 'f64'],
  UCHAR: [prim.u8, 'u8'], CHAR: [prim.i8, 'i8'], WCHAR: [prim.u16, 'u16'],
  BOOLEAN: [prim.BOOLEAN, 'BOOLEAN'], BOOL: [prim.BOOL, 'BOOL'], NTSTATUS: [prim.NTSTATUS, 'NTSTATUS'], GUID: [prim.GUID, 'GUID'],
  LARGE_INTEGER: [prim.LARGE_INTEGER, 'LARGE_INTEGER'], ULARGE_INTEGER: [prim.u64, 'u64'], FILETIME: [prim.FILETIME, 'FILETIME'],
  ULONG_PTR: [prim.ULONG_PTR, 'ULONG_PTR'], LONG_PTR: [prim.LONG_PTR, 'LONG_PTR'], HANDLE: [prim.PVOID, 'PVOID'],
};

export interface ModelOptions {
  /** CHAR[n] arrays: 'utf8' (default) or 'latin1'. */
  charEncoding?: 'utf8' | 'latin1';
}

export class Model {
  readonly header: ParsedHeader;
  readonly options: ModelOptions;
  readonly imports = new Set<string>();
  readonly #cache = new Map<AggregateDecl | EnumDecl | TypedefDecl, Built>();
  /** Declarations that are exported under a name: references use the name, not the expression. */
  readonly exportedNames = new Map<AggregateDecl | EnumDecl | TypedefDecl, string>();

  constructor(header: ParsedHeader, options: ModelOptions = {}) {
    this.header = header;
    this.options = options;
  }

  nameOf(decl: AggregateDecl | EnumDecl): string | undefined {
    return decl.names[0] ?? decl.tag;
  }

  resolveTag(which: 'struct' | 'union' | 'enum', tag: string, line: number): AggregateDecl | EnumDecl {
    const decl = this.header.types.get(`${which} ${tag}`);
    if (decl === undefined || 'type' in decl) throw new HeaderSyntaxError(`${which} ${tag} is used before it is defined`, line);
    return decl;
  }

  base(type: BaseType, line: number): Built {
    switch (type.kind) {
      case 'builtin': {
        const [codec, ts] = builtinCodecs[type.name];
        this.imports.add(ts);
        return { codec, ts, builtin: type.name };
      }
      case 'typedef': {
        const decl = this.header.types.get(type.name);
        if (decl === undefined) throw new HeaderSyntaxError(`unknown type ${type.name}`, line);
        if ('type' in decl) return this.typedef(decl);
        return 'members' in decl ? this.aggregate(decl) : this.enumeration(decl);
      }
      case 'tag': {
        const decl = this.resolveTag(type.which, type.tag, line);
        return 'members' in decl ? this.aggregate(decl) : this.enumeration(decl);
      }
      case 'aggregate':
        return this.aggregate(type.decl);
      case 'enum':
        return this.enumeration(type.decl);
    }
  }

  type(ref: TypeRef, dims: readonly Dim[], align: number | undefined, line: number): Built {
    let built: Built;
    if (ref.pointer) {
      this.imports.add('PVOID');
      built = { codec: prim.PVOID, ts: 'PVOID', builtin: 'HANDLE' };
    } else {
      built = this.base(ref.base, line);
    }
    let rest = [...dims];
    if (rest.length > 0 && !ref.pointer) {
      const last = rest[rest.length - 1]!;
      const n = this.dimText(last);
      if (built.builtin === 'WCHAR' && built.ts === 'u16') {
        this.imports.add('wstring');
        built = { codec: wstring(last.value), ts: `wstring(${n})`, builtin: undefined };
        rest = rest.slice(0, -1);
      } else if (built.builtin === 'CHAR' && built.ts === 'i8') {
        this.imports.add('cstring');
        const encoding = this.options.charEncoding ?? 'utf8';
        built = { codec: cstring(last.value, { encoding }), ts: encoding === 'utf8' ? `cstring(${n})` : `cstring(${n}, { encoding: 'latin1' })`, builtin: undefined };
        rest = rest.slice(0, -1);
      } else if (built.builtin === 'UCHAR' && built.ts === 'u8') {
        this.imports.add('bytes');
        built = { codec: bytes(last.value), ts: `bytes(${n})`, builtin: undefined };
        rest = rest.slice(0, -1);
      }
    }
    for (const dim of rest.reverse()) {
      this.imports.add('array');
      built = { codec: array(built.codec, dim.value), ts: `array(${built.ts}, ${this.dimText(dim)})`, builtin: undefined };
    }
    if (align !== undefined && align > 1) {
      this.imports.add('aligned');
      built = { codec: aligned(built.codec, align), ts: `aligned(${built.ts}, ${align})`, builtin: built.builtin };
    }
    return built;
  }

  dimText(dim: Dim): string {
    if (dim.name !== undefined && this.header.decls.some((d) => d.kind === 'constant' && d.name === dim.name && typeof d.value === 'bigint')) return dim.name;
    return String(dim.value);
  }

  typedef(decl: TypedefDecl): Built {
    const cached = this.#cache.get(decl);
    if (cached !== undefined) return this.reference(decl, cached);
    const built = this.type(decl.type, decl.dims, decl.align, decl.line);
    this.#cache.set(decl, built);
    return this.reference(decl, built);
  }

  aggregate(decl: AggregateDecl): Built {
    const cached = this.#cache.get(decl);
    if (cached !== undefined) return this.reference(decl, cached);
    const fields: Record<string, AnyCodec> = {};
    const lines: string[] = [];
    for (const member of decl.members) {
      if (member.name in fields) throw new HeaderSyntaxError(`duplicate member ${member.name}`, member.line);
      const built = this.type(member.type, member.dims, member.align, member.line);
      fields[member.name] = built.codec;
      lines.push(`${member.name}: ${built.ts.replace(/\n/g, '\n  ')},`);
    }
    const name = this.nameOf(decl);
    const options: string[] = [];
    if (name !== undefined) options.push(`name: '${name}'`);
    if (decl.pack !== undefined) options.push(`pack: ${decl.pack}`);
    if (decl.align !== undefined && decl.align > 1) options.push(`align: ${decl.align}`);
    const make = decl.which === 'struct' ? struct : union;
    this.imports.add(decl.which);
    const codec = make(fields, {
      ...(name === undefined ? {} : { name }),
      ...(decl.pack === undefined ? {} : { pack: decl.pack as 1 | 2 | 4 | 8 | 16 }),
      ...(decl.align === undefined || decl.align <= 1 ? {} : { align: decl.align }),
    });
    const ts = `${decl.which}({\n${lines.map((l) => `  ${l}`).join('\n')}\n}${options.length === 0 ? '' : `, { ${options.join(', ')} }`})`;
    const built: Built = { codec, ts, builtin: undefined };
    this.#cache.set(decl, built);
    return this.reference(decl, built);
  }

  enumeration(decl: EnumDecl): Built {
    const cached = this.#cache.get(decl);
    if (cached !== undefined) return this.reference(decl, cached);
    const values: Record<string, number> = {};
    for (const { name, value } of decl.values) values[name] = Number(value > 0x7fffffffn ? value - 0x1_0000_0000n : value);
    this.imports.add('enumOf');
    this.imports.add('i32');
    const codec = enumOf(prim.i32, values);
    const literal = `{ ${Object.entries(values).map(([k, v]) => `${k}: ${v}`).join(', ')} }`;
    const built: Built = { codec, ts: `enumOf(i32, ${literal})`, builtin: undefined };
    this.#cache.set(decl, built);
    return this.reference(decl, built);
  }

  /** Once a declaration has been exported, later uses refer to it by name. */
  reference(decl: AggregateDecl | EnumDecl | TypedefDecl, built: Built): Built {
    const name = this.exportedNames.get(decl);
    if (name === undefined) return built;
    if ('values' in decl) return { ...built, ts: `enumOf(i32, ${name})` };
    return { ...built, ts: name };
  }

  /** The enum's values object literal (exported as a const). */
  enumValues(decl: EnumDecl): string {
    const entries = decl.values.map(({ name, value }) => `${name}: ${Number(value > 0x7fffffffn ? value - 0x1_0000_0000n : value)}`);
    return `{ ${entries.join(', ')} }`;
  }

  sizeOf(ref: TypeRef, target: Target, line: number): number {
    return this.type(ref, [], undefined, line).codec.for(target).size;
  }
}
