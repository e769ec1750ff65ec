// Layout self-test: C source full of _Static_assert(sizeof/offsetof/_Alignof) lines that a
// Windows-ABI C compiler (mingw-w64 here, MSVC on Windows) must accept if and only if the
// codecs lay the structs out as the compiler does.
import { type AnyCodec } from './codec.js';
import type { Target } from './gen.js';
import { ArrayCodec, BytesCodec } from './array.js';
import { EnumCodec, FlagsCodec } from './enum.js';
import { BigIntCodec, BoolCodec, FiletimeDateCodec, FloatCodec, GuidCodec, IntCodec, NtStatusCodec, PointerCodec } from './primitives.js';
import { CStringCodec, WStringCodec } from './strings.js';
import { AlignedCodec, StructCodec, UnionCodec } from './struct.js';
import { VariantCodec } from './variant.js';

export interface SelfTestOptions {
  target: Target;
  /**
   * 'declare' (default): the C declarations are generated from the codecs, checking the
   * layout engine against the compiler. 'header': `prelude` includes the real header and only
   * assertions are emitted, checking the codecs against the header itself.
   */
  mode?: 'declare' | 'header';
  /** Text placed after <windows.h> (e.g. `#include "wire.h"`). */
  prelude?: string;
}

type Aggregate = StructCodec<Record<string, AnyCodec>> | UnionCodec<Record<string, AnyCodec>>;

function isAggregate(codec: AnyCodec): codec is Aggregate {
  return codec instanceof StructCodec || codec instanceof UnionCodec;
}

const ident = (text: string): string => text.replace(/[^A-Za-z0-9_]/g, '_');

class CEmitter {
  readonly target: Target;
  readonly names = new Map<AnyCodec, string>();
  readonly out: string[] = [];
  readonly #emitted = new Set<AnyCodec>();
  #counter = 0;

  constructor(target: Target) {
    this.target = target;
  }

  /** Declares `codec` as a C type (and, first, every aggregate it contains). */
  declare(codec: Aggregate, name: string): void {
    if (this.#emitted.has(codec)) return;
    this.#emitted.add(codec);
    this.names.set(codec, name);
    const members: string[] = [];
    for (const field of codec.layoutFor(this.target).fields) {
      if (!field.layout.fixed) break; // C cannot express what follows a variable-size member
      members.push(`  ${this.member(field.codec, field.name, `${name}_${field.name}`)};`);
    }
    const keyword = codec instanceof UnionCodec ? 'union' : 'struct';
    const align = codec.typeAlign > 1 ? ` DECLSPEC_ALIGN(${codec.typeAlign})` : '';
    if (codec.pack !== undefined) this.out.push(`#pragma pack(push, ${codec.pack})`);
    this.out.push(`typedef ${keyword}${align} ${name} {\n${members.join('\n')}\n} ${name};`);
    if (codec.pack !== undefined) this.out.push('#pragma pack(pop)');
  }

  /** A C member declaration: type, name and array suffixes. */
  member(codec: AnyCodec, name: string, helperName: string): string {
    if (codec instanceof AlignedCodec) return `DECLSPEC_ALIGN(${codec.alignTo}) ${this.member(codec.inner as AnyCodec, name, helperName)}`;
    if (codec instanceof ArrayCodec && typeof codec.count === 'number') {
      const inner = this.member(codec.element as AnyCodec, name, helperName);
      // The element declarator is `T name[inner dims]`; our count is the outer dimension.
      return inner.replace(new RegExp(`\\b${name}\\b`), `${name}[${codec.count}]`);
    }
    return `${this.scalar(codec, helperName)} ${name}${this.suffix(codec)}`;
  }

  suffix(codec: AnyCodec): string {
    if (codec instanceof WStringCodec || codec instanceof CStringCodec) return `[${codec.length}]`;
    if (codec instanceof BytesCodec && typeof codec.count === 'number') return `[${codec.count}]`;
    return '';
  }

  scalar(codec: AnyCodec, helperName: string): string {
    if (isAggregate(codec)) {
      const existing = this.names.get(codec);
      if (existing !== undefined) return existing;
      const name = codec.typeName ?? `${ident(helperName)}_T${this.#counter++}`;
      this.declare(codec, name);
      return name;
    }
    if (codec instanceof VariantCodec) {
      const cases: string[] = [];
      for (const [key, inner] of Object.entries(codec.cases as Record<string, AnyCodec>)) {
        cases.push(`${this.member(inner, `case_${ident(key)}`, `${helperName}_${ident(key)}`)};`);
      }
      return `union { ${cases.join(' ')} }`;
    }
    if (codec instanceof IntCodec || codec instanceof EnumCodec || codec instanceof FlagsCodec) {
      const kind = codec instanceof IntCodec ? codec.kind : codec.base.kind;
      return { u8: 'UCHAR', i8: 'INT8', u16: 'USHORT', i16: 'SHORT', u32: 'ULONG', i32: 'LONG' }[kind];
    }
    if (codec instanceof BigIntCodec) {
      if (codec.layoutFor().align === 4) return 'FILETIME';
      return codec.kind === 'u64' ? 'ULONGLONG' : 'LONGLONG';
    }
    if (codec instanceof FiletimeDateCodec) return codec.layoutFor().align === 4 ? 'FILETIME' : 'ULONGLONG';
    if (codec instanceof FloatCodec) return codec.kind === 'f32' ? 'float' : 'double';
    if (codec instanceof BoolCodec) return codec.kind;
    if (codec instanceof NtStatusCodec) return 'LONG';
    if (codec instanceof PointerCodec) return codec.signed ? 'LONG_PTR' : codec.kind === 'HANDLE' || codec.kind === 'PVOID' ? codec.kind : 'ULONG_PTR';
    if (codec instanceof GuidCodec) return 'GUID';
    if (codec instanceof WStringCodec) return 'WCHAR';
    if (codec instanceof CStringCodec) return 'CHAR';
    if (codec instanceof BytesCodec) return 'UCHAR';
    throw new TypeError(`layout self-test: no C equivalent for a ${codec.kind} codec`);
  }
}

/** Collects (C path, offset, size) for every member at a fixed offset, recursively. */
function collect(codec: AnyCodec, target: Target, cPath: string, base: number, out: { path: string; offset: number; size: number }[], mode: 'declare' | 'header'): void {
  const inner = codec instanceof AlignedCodec ? (codec.inner as AnyCodec) : codec;
  if (isAggregate(inner)) {
    for (const field of inner.layoutFor(target).fields) {
      if (field.offset === undefined || !field.layout.fixed) break;
      // Anonymous C members (named _anonN by codegen) are transparent in C member paths.
      const anonymous = mode === 'header' && /^_anon\d+$/.test(field.name);
      const path = anonymous ? cPath : cPath === '' ? field.name : `${cPath}.${field.name}`;
      if (!anonymous) out.push({ path, offset: base + field.offset, size: field.layout.size });
      collect(field.codec, target, path, base + field.offset, out, mode);
    }
    return;
  }
  if (inner instanceof ArrayCodec && typeof inner.count === 'number' && inner.count > 0) {
    const el = inner.element.layoutFor(target);
    if (!el.fixed) return;
    for (const index of inner.count > 1 ? [0, inner.count - 1] : [0]) {
      const path = `${cPath}[${index}]`;
      out.push({ path, offset: base + index * el.size, size: el.size });
      collect(inner.element as AnyCodec, target, path, base + index * el.size, out, mode);
    }
  }
}

/** C source asserting the layout of each named codec (keys are the C type names). */
export function layoutAssertions(schemas: Record<string, AnyCodec>, options: SelfTestOptions): string {
  const mode = options.mode ?? 'declare';
  const { target } = options;
  const lines = [
    `/* Layout self-test generated by fltport for ${target}. Compile with -fsyntax-only. */`,
    '#include <windows.h>',
    '#include <stddef.h>',
    options.prelude ?? '',
  ];
  const emitter = new CEmitter(target);
  for (const [name, codec] of Object.entries(schemas)) {
    const inner = codec instanceof AlignedCodec ? (codec.inner as AnyCodec) : codec;
    if (!isAggregate(inner)) throw new TypeError(`layout self-test: ${name} is not a struct or union`);
    emitter.names.set(inner, name);
  }
  if (mode === 'declare') {
    for (const [name, codec] of Object.entries(schemas)) {
      emitter.names.delete(codec);
      emitter.declare(codec as Aggregate, name);
    }
    lines.push(...emitter.out);
  }
  lines.push('');
  const check = (expr: string, value: number, what: string): void => {
    lines.push(`_Static_assert(${expr} == ${value}, ${JSON.stringify(`${what} == ${value} (fltport ${target})`)});`);
  };
  for (const [name, codec] of Object.entries(schemas)) {
    const layout = codec.layoutFor(target);
    if (layout.fixed) {
      check(`sizeof(${name})`, layout.size, `sizeof(${name})`);
      check(`_Alignof(${name})`, layout.align, `_Alignof(${name})`);
    }
    const fields: { path: string; offset: number; size: number }[] = [];
    collect(codec, target, '', 0, fields, mode);
    for (const field of fields) {
      check(`offsetof(${name}, ${field.path})`, field.offset, `offsetof(${name}, ${field.path})`);
      check(`sizeof(((${name} *)0)->${field.path})`, field.size, `sizeof(${name}.${field.path})`);
    }
  }
  return `${lines.join('\n')}\n`;
}
