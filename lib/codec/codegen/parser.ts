// Parser for the C subset used in wire headers: typedef'd structs/unions/enums, nested and
// anonymous aggregates, fixed-width and Windows integer types, arrays sized by constant
// expressions (macros, enumerators, sizeof), #pragma pack and __declspec(align).
// Function prototypes, C_ASSERT/static_assert and other declarations are skipped.
import { HeaderSyntaxError, type Token, preprocess } from './lexer.js';

export type Builtin =
  | 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'u64' | 'i64' | 'f32' | 'f64'
  | 'UCHAR' | 'CHAR' | 'WCHAR' | 'BOOLEAN' | 'BOOL' | 'NTSTATUS' | 'GUID' | 'LARGE_INTEGER' | 'ULARGE_INTEGER' | 'FILETIME'
  | 'ULONG_PTR' | 'LONG_PTR' | 'HANDLE';

export type BaseType =
  | { kind: 'builtin'; name: Builtin }
  | { kind: 'typedef'; name: string }
  | { kind: 'tag'; which: 'struct' | 'union' | 'enum'; tag: string }
  | { kind: 'aggregate'; decl: AggregateDecl }
  | { kind: 'enum'; decl: EnumDecl };

export interface TypeRef {
  base: BaseType;
  pointer: boolean;
}

export interface Dim {
  value: number;
  /** Source text when the size is a single named constant (kept in generated code). */
  name: string | undefined;
}

export interface Member {
  name: string;
  type: TypeRef;
  dims: Dim[];
  align: number | undefined;
  anonymous: boolean;
  line: number;
}

export interface AggregateDecl {
  which: 'struct' | 'union';
  tag: string | undefined;
  /** typedef names given in the same declaration (non-pointer declarators). */
  names: string[];
  members: Member[];
  pack: number | undefined;
  align: number | undefined;
  line: number;
}

export interface EnumDecl {
  tag: string | undefined;
  names: string[];
  values: { name: string; value: bigint }[];
  line: number;
}

export interface TypedefDecl {
  name: string;
  type: TypeRef;
  dims: Dim[];
  align: number | undefined;
  line: number;
}

export type Decl =
  | { kind: 'aggregate'; decl: AggregateDecl }
  | { kind: 'enum'; decl: EnumDecl }
  | { kind: 'typedef'; decl: TypedefDecl }
  | { kind: 'constant'; name: string; value: bigint | string; line: number };

export interface ParsedHeader {
  decls: Decl[];
  /** Every integer constant: #defines and enumerators. */
  constants: Map<string, bigint>;
  /** Declarations skipped, with the reason (for a comment in the generated module). */
  skipped: { line: number; what: string }[];
  /** typedef names and `struct X`/`union X`/`enum X` tags → their declaration. */
  types: Map<string, TypedefDecl | AggregateDecl | EnumDecl>;
}

export interface ParseOptions {
  /** Macros defined before the header, e.g. {_WIN64: '1'}. */
  defines?: Record<string, string>;
  /** Answers sizeof(type) in constant expressions (the model knows layouts; the parser does not). */
  sizeOf?: (type: TypeRef, header: ParsedHeader) => number;
}

const builtinNames: Record<string, Builtin> = {
  UCHAR: 'UCHAR', BYTE: 'UCHAR', UINT8: 'UCHAR', uint8_t: 'UCHAR', BOOLEAN: 'BOOLEAN',
  CHAR: 'CHAR', CCHAR: 'CHAR', INT8: 'i8', int8_t: 'i8',
  WCHAR: 'WCHAR', wchar_t: 'WCHAR',
  USHORT: 'u16', WORD: 'u16', UINT16: 'u16', uint16_t: 'u16', CSHORT: 'i16', SHORT: 'i16', INT16: 'i16', int16_t: 'i16',
  ULONG: 'u32', DWORD: 'u32', UINT: 'u32', UINT32: 'u32', ULONG32: 'u32', DWORD32: 'u32', uint32_t: 'u32',
  LONG: 'i32', INT: 'i32', INT32: 'i32', LONG32: 'i32', int32_t: 'i32', HRESULT: 'i32',
  ULONGLONG: 'u64', DWORD64: 'u64', UINT64: 'u64', ULONG64: 'u64', DWORDLONG: 'u64', uint64_t: 'u64',
  LONGLONG: 'i64', INT64: 'i64', LONG64: 'i64', int64_t: 'i64',
  FLOAT: 'f32', DOUBLE: 'f64',
  BOOL: 'BOOL', NTSTATUS: 'NTSTATUS', GUID: 'GUID', UUID: 'GUID',
  LARGE_INTEGER: 'LARGE_INTEGER', ULARGE_INTEGER: 'ULARGE_INTEGER', FILETIME: 'FILETIME',
  ULONG_PTR: 'ULONG_PTR', UINT_PTR: 'ULONG_PTR', DWORD_PTR: 'ULONG_PTR', SIZE_T: 'ULONG_PTR', uintptr_t: 'ULONG_PTR', size_t: 'ULONG_PTR',
  LONG_PTR: 'LONG_PTR', INT_PTR: 'LONG_PTR', SSIZE_T: 'LONG_PTR', intptr_t: 'LONG_PTR', ptrdiff_t: 'LONG_PTR',
  HANDLE: 'HANDLE', PVOID: 'HANDLE', LPVOID: 'HANDLE', PWSTR: 'HANDLE', PWCHAR: 'HANDLE', LPWSTR: 'HANDLE', PCWSTR: 'HANDLE',
  PSTR: 'HANDLE', PCHAR: 'HANDLE', PUCHAR: 'HANDLE', HMODULE: 'HANDLE', PEPROCESS: 'HANDLE', PFILE_OBJECT: 'HANDLE',
};

const cKeywords = new Set(['signed', 'unsigned', 'char', 'short', 'int', 'long', '__int8', '__int16', '__int32', '__int64', 'float', 'double', 'void', '_Bool']);
const qualifiers = new Set(['const', 'volatile', 'CONST', 'VOLATILE', 'register', 'static', 'extern', 'UNALIGNED', '__unaligned', 'POINTER_64', '__ptr64', '__ptr32', 'POINTER_32', 'restrict', '__restrict', 'inline', '__inline', '__forceinline', 'FORCEINLINE']);
const assertions = new Set(['C_ASSERT', 'static_assert', '_Static_assert', 'STATIC_ASSERT', 'FLTSIM_STATIC_ASSERT']);

function multiword(words: string[], line: number): Builtin {
  const count = (w: string): number => words.filter((x) => x === w).length;
  const unsigned = words.includes('unsigned');
  if (words.includes('float')) return 'f32';
  if (words.includes('double')) return 'f64';
  if (words.includes('_Bool')) return 'u8';
  if (words.includes('char') || words.includes('__int8')) return unsigned ? 'UCHAR' : words.includes('signed') ? 'i8' : 'CHAR';
  if (words.includes('short') || words.includes('__int16')) return unsigned ? 'u16' : 'i16';
  if (count('long') >= 2 || words.includes('__int64')) return unsigned ? 'u64' : 'i64';
  if (words.includes('void')) throw new HeaderSyntaxError('void is only allowed behind a pointer', line);
  return unsigned ? 'u32' : 'i32';
}

class Cursor {
  readonly tokens: Token[];
  index = 0;

  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  peek(offset = 0): Token | undefined {
    return this.tokens[this.index + offset];
  }

  next(): Token {
    const token = this.tokens[this.index++];
    if (token === undefined) throw new HeaderSyntaxError('unexpected end of header', this.tokens[this.tokens.length - 1]?.line ?? 1);
    return token;
  }

  is(text: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token !== undefined && token.kind !== 'pack' && token.kind !== 'string' && token.text === text;
  }

  expect(text: string): Token {
    const token = this.next();
    if (token.text !== text || token.kind === 'string') throw new HeaderSyntaxError(`expected '${text}', found '${token.text}'`, token.line);
    return token;
  }

  ident(): string {
    const token = this.next();
    if (token.kind !== 'ident') throw new HeaderSyntaxError(`expected an identifier, found '${token.text}'`, token.line);
    return token.text;
  }

  /** Skips a balanced (...) group starting at the current '('. */
  skipGroup(): Token[] {
    const open = this.expect('(');
    const inner: Token[] = [];
    let depth = 1;
    while (depth > 0) {
      const token = this.peek();
      if (token === undefined) throw new HeaderSyntaxError('unbalanced parentheses', open.line);
      this.index++;
      if (token.kind === 'punct' && token.text === '(') depth++;
      if (token.kind === 'punct' && token.text === ')') depth--;
      if (depth > 0) inner.push(token);
    }
    return inner;
  }
}

export function parseHeader(text: string, options: ParseOptions = {}): ParsedHeader {
  const header: ParsedHeader = { decls: [], constants: new Map(), skipped: [], types: new Map() };
  const expanding = new Set<string>();
  let macros: Map<string, { tokens: Token[]; line: number }> = new Map();
  const typedefs = header.types;

  // ---- constant expressions ----
  const macroValue = (name: string): bigint | undefined => {
    const enumerated = header.constants.get(name);
    if (enumerated !== undefined) return enumerated;
    const macro = macros.get(name);
    if (macro === undefined || expanding.has(name)) return undefined;
    expanding.add(name);
    try {
      return evaluate(macro.tokens, macro.line);
    } catch {
      return undefined;
    } finally {
      expanding.delete(name);
    }
  };

  const evaluate = (tokens: Token[], line: number): bigint => {
    const c = new Cursor(tokens);
    const value = ternary(c, line);
    if (c.peek() !== undefined) throw new HeaderSyntaxError(`unexpected '${c.peek()!.text}' in constant expression`, line);
    return value;
  };

  const binaryLevels: string[][] = [['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!='], ['<', '>', '<=', '>='], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];
  const ternary = (c: Cursor, line: number): bigint => {
    const cond = binary(c, 0, line);
    if (!c.is('?')) return cond;
    c.next();
    const a = ternary(c, line);
    c.expect(':');
    const b = ternary(c, line);
    return cond !== 0n ? a : b;
  };
  const binary = (c: Cursor, level: number, line: number): bigint => {
    if (level >= binaryLevels.length) return unary(c, line);
    let left = binary(c, level + 1, line);
    for (;;) {
      const op = binaryLevels[level]!.find((o) => c.is(o));
      if (op === undefined) return left;
      c.next();
      const right = binary(c, level + 1, line);
      left = apply(op, left, right, line);
    }
  };
  const apply = (op: string, a: bigint, b: bigint, line: number): bigint => {
    switch (op) {
      case '||': return a !== 0n || b !== 0n ? 1n : 0n;
      case '&&': return a !== 0n && b !== 0n ? 1n : 0n;
      case '|': return a | b;
      case '^': return a ^ b;
      case '&': return a & b;
      case '==': return a === b ? 1n : 0n;
      case '!=': return a !== b ? 1n : 0n;
      case '<': return a < b ? 1n : 0n;
      case '>': return a > b ? 1n : 0n;
      case '<=': return a <= b ? 1n : 0n;
      case '>=': return a >= b ? 1n : 0n;
      case '<<': return a << b;
      case '>>': return a >> b;
      case '+': return a + b;
      case '-': return a - b;
      case '*': return a * b;
      default:
        if (b === 0n) throw new HeaderSyntaxError('division by zero in constant expression', line);
        return op === '/' ? a / b : a % b;
    }
  };
  const isTypeStart = (c: Cursor, offset: number): boolean => {
    const token = c.peek(offset);
    if (token === undefined || token.kind !== 'ident') return false;
    return token.text in builtinNames || cKeywords.has(token.text) || typedefs.has(token.text) || ['struct', 'union', 'enum'].includes(token.text) || qualifiers.has(token.text);
  };
  const unary = (c: Cursor, line: number): bigint => {
    const token = c.peek();
    if (token === undefined) throw new HeaderSyntaxError('incomplete constant expression', line);
    if (token.kind === 'punct') {
      if (token.text === '-') return (c.next(), -unary(c, line));
      if (token.text === '+') return (c.next(), unary(c, line));
      if (token.text === '~') return (c.next(), ~unary(c, line));
      if (token.text === '!') return (c.next(), unary(c, line) === 0n ? 1n : 0n);
      if (token.text === '(') {
        if (isTypeStart(c, 1)) {
          // A cast: the value is what matters for sizes and constants.
          c.next();
          parseTypeName(c);
          c.expect(')');
          return unary(c, line);
        }
        c.next();
        const value = ternary(c, line);
        c.expect(')');
        return value;
      }
    }
    if (token.kind === 'number') {
      c.next();
      if (token.value < 0n) throw new HeaderSyntaxError(`'${token.text}' is not an integer constant`, token.line);
      return token.value;
    }
    if (token.kind === 'ident') {
      c.next();
      if (token.text === 'sizeof') {
        const parenthesised = c.is('(') && isTypeStart(c, 1);
        if (!parenthesised) throw new HeaderSyntaxError('sizeof needs a parenthesised type name', token.line);
        c.expect('(');
        const type = parseTypeName(c);
        c.expect(')');
        if (options.sizeOf === undefined) throw new HeaderSyntaxError('sizeof is not available here', token.line);
        return BigInt(options.sizeOf(type, header));
      }
      const value = macroValue(token.text);
      if (value === undefined) throw new HeaderSyntaxError(`'${token.text}' is not an integer constant`, token.line);
      return value;
    }
    throw new HeaderSyntaxError(`unexpected '${token.text}' in constant expression`, token.line);
  };

  const pre = preprocess(text, options.defines ?? {}, (tokens, table, line) => {
    macros = table;
    // In #if, identifiers that are not macros are 0, as in C.
    const replaced = tokens.map((t) => (t.kind === 'ident' && macroValue(t.text) === undefined ? { kind: 'number' as const, text: '0', value: 0n, line: t.line } : t));
    return evaluate(replaced, line);
  });
  macros = pre.macros;

  // ---- types ----
  const parseAlignSpec = (c: Cursor): number | undefined => {
    // __declspec(align(n)), DECLSPEC_ALIGN(n), _Alignas(n), alignas(n), __attribute__((aligned(n)))
    const token = c.peek();
    if (token === undefined || token.kind !== 'ident') return undefined;
    const line = token.line;
    if (token.text === '__declspec') {
      c.next();
      const inner = new Cursor(c.skipGroup());
      if (inner.is('align')) {
        inner.next();
        return Number(evaluate(new Cursor(inner.tokens.slice(inner.index)).skipGroup(), line));
      }
      return 0; // other declspecs (e.g. novtable) do not affect layout
    }
    if (token.text === 'DECLSPEC_ALIGN' || token.text === '_Alignas' || token.text === 'alignas') {
      c.next();
      return Number(evaluate(c.skipGroup(), line));
    }
    if (token.text === '__attribute__') {
      c.next();
      const group = c.skipGroup();
      const at = group.findIndex((t) => t.text === 'aligned' || t.text === '__aligned__');
      if (at >= 0) {
        const rest = new Cursor(group.slice(at + 1));
        return Number(evaluate(rest.skipGroup(), line));
      }
      return 0;
    }
    return undefined;
  };

  /** Skips SAL annotations (_In_, _Field_size_bytes_(n), ...) and qualifiers; returns an alignment if one was given. */
  const skipDecorations = (c: Cursor): number | undefined => {
    let align: number | undefined;
    for (;;) {
      const token = c.peek();
      if (token === undefined || token.kind !== 'ident') return align;
      if (qualifiers.has(token.text)) {
        c.next();
        continue;
      }
      if (/^_[A-Z][A-Za-z0-9_]*_$/.test(token.text)) {
        c.next();
        if (c.is('(')) c.skipGroup();
        continue;
      }
      const value = parseAlignSpec(c);
      if (value === undefined) return align;
      if (value > 0) align = Math.max(align ?? 1, value);
    }
  };

  let packStack: { value: number | undefined; label: string | undefined }[] = [];
  let pack: number | undefined;
  let anonymousCount = 0;

  const applyPack = (token: Extract<Token, { kind: 'pack' }>): void => {
    if (token.op === 'push') {
      packStack.push({ value: pack, label: token.label });
      if (token.value !== undefined) pack = token.value;
    } else if (token.op === 'pop') {
      if (token.label !== undefined && !/^\d+$/.test(token.label)) {
        const at = packStack.map((e) => e.label).lastIndexOf(token.label);
        if (at >= 0) {
          pack = packStack[at]!.value;
          packStack = packStack.slice(0, at);
        }
      } else {
        const top = packStack.pop();
        pack = top?.value;
        if (token.value !== undefined) pack = token.value;
      }
    } else {
      pack = token.value;
    }
  };

  const parseAggregateBody = (c: Cursor, which: 'struct' | 'union', tag: string | undefined, line: number, align: number | undefined): AggregateDecl => {
    const decl: AggregateDecl = { which, tag, names: [], members: [], pack, align, line };
    c.expect('{');
    while (!c.is('}')) {
      const token = c.peek();
      if (token === undefined) throw new HeaderSyntaxError(`unterminated ${which}`, line);
      if (token.kind === 'pack') {
        c.next();
        applyPack(token);
        continue;
      }
      if (token.kind === 'ident' && assertions.has(token.text)) {
        c.next();
        c.skipGroup();
        if (c.is(';')) c.next();
        continue;
      }
      if (c.is(';')) {
        c.next();
        continue;
      }
      parseMember(c, decl);
    }
    c.expect('}');
    return decl;
  };

  const parseSpecifier = (c: Cursor): { type: BaseType; align: number | undefined; line: number } => {
    let align = skipDecorations(c);
    const token = c.peek();
    if (token === undefined) throw new HeaderSyntaxError('expected a type', 0);
    const line = token.line;
    if (token.kind === 'ident' && (token.text === 'struct' || token.text === 'union')) {
      c.next();
      const typeAlign = skipDecorations(c);
      let tag: string | undefined;
      if (c.peek()?.kind === 'ident') tag = c.ident();
      const more = skipDecorations(c);
      if (c.is('{')) {
        const decl = parseAggregateBody(c, token.text, tag, line, maxAlign(typeAlign, more));
        return { type: { kind: 'aggregate', decl }, align: maxAlign(align, skipDecorations(c)), line };
      }
      if (tag === undefined) throw new HeaderSyntaxError(`${token.text} needs a tag or a body`, line);
      return { type: { kind: 'tag', which: token.text, tag }, align: maxAlign(align, skipDecorations(c)), line };
    }
    if (token.kind === 'ident' && token.text === 'enum') {
      c.next();
      let tag: string | undefined;
      if (c.peek()?.kind === 'ident') tag = c.ident();
      if (c.is(':')) throw new HeaderSyntaxError('enums with a fixed underlying type are not supported', line);
      if (c.is('{')) return { type: { kind: 'enum', decl: parseEnumBody(c, tag, line) }, align, line };
      if (tag === undefined) throw new HeaderSyntaxError('enum needs a tag or a body', line);
      return { type: { kind: 'tag', which: 'enum', tag }, align, line };
    }
    const words: string[] = [];
    while (c.peek()?.kind === 'ident' && cKeywords.has(c.peek()!.text)) {
      words.push(c.next().text);
      align = maxAlign(align, skipDecorations(c));
    }
    if (words.length > 0) {
      if (words.length === 1 && words[0] === 'void') return { type: { kind: 'builtin', name: 'HANDLE' }, align, line };
      return { type: { kind: 'builtin', name: multiword(words, line) }, align, line };
    }
    const name = c.ident();
    align = maxAlign(align, skipDecorations(c));
    const builtin = builtinNames[name];
    if (typedefs.has(name)) return { type: { kind: 'typedef', name }, align, line };
    if (builtin !== undefined) return { type: { kind: 'builtin', name: builtin }, align, line };
    throw new HeaderSyntaxError(`unknown type '${name}'`, line);
  };

  const parseTypeName = (c: Cursor): TypeRef => {
    const spec = parseSpecifier(c);
    let pointer = false;
    while (c.is('*')) {
      c.next();
      pointer = true;
      skipDecorations(c);
    }
    return { base: spec.type, pointer };
  };

  const parseDims = (c: Cursor): Dim[] => {
    const dims: Dim[] = [];
    while (c.is('[')) {
      const open = c.next();
      const inner: Token[] = [];
      while (!c.is(']')) inner.push(c.next());
      c.next();
      if (inner.length === 0) throw new HeaderSyntaxError('flexible array members ([]) have no fixed size; declare [1] or [ANYSIZE_ARRAY] or model the tail with a count field', open.line);
      const value = evaluate(inner, open.line);
      if (value < 0n || value > 0x7fffffffn) throw new HeaderSyntaxError(`array size ${value} is out of range`, open.line);
      const only = inner.length === 1 ? inner[0] : undefined;
      dims.push({ value: Number(value), name: only?.kind === 'ident' ? only.text : undefined });
    }
    return dims;
  };

  interface Declarator {
    name: string;
    pointer: boolean;
    dims: Dim[];
    align: number | undefined;
    line: number;
  }

  const parseDeclarator = (c: Cursor): Declarator => {
    let pointer = false;
    let align = skipDecorations(c);
    while (c.is('*')) {
      c.next();
      pointer = true;
      align = maxAlign(align, skipDecorations(c));
    }
    if (c.is('(') && c.is('*', 1)) {
      // function pointer: (*Name)(args)
      c.next();
      c.next();
      skipDecorations(c);
      const token = c.peek();
      const name = c.ident();
      c.expect(')');
      c.skipGroup();
      return { name, pointer: true, dims: [], align, line: token?.line ?? 0 };
    }
    const token = c.peek();
    const name = c.ident();
    const dims = parseDims(c);
    align = maxAlign(align, skipDecorations(c));
    if (c.is(':')) throw new HeaderSyntaxError(`bit-field '${name}' is not supported: its layout is compiler-specific; use the whole integer and flags()`, token?.line ?? 0);
    return { name, pointer, dims, align, line: token?.line ?? 0 };
  };

  const parseMember = (c: Cursor, into: AggregateDecl): void => {
    const spec = parseSpecifier(c);
    if (c.is(';')) {
      c.next();
      if (spec.type.kind === 'aggregate') {
        // An anonymous struct/union member: C11 lets its fields be used directly; in TS it becomes `_anon<N>`.
        into.members.push({ name: `_anon${anonymousCount++}`, type: { base: spec.type, pointer: false }, dims: [], align: spec.align, anonymous: true, line: spec.line });
        return;
      }
      throw new HeaderSyntaxError('declaration declares nothing', spec.line);
    }
    for (;;) {
      const d = parseDeclarator(c);
      into.members.push({ name: d.name, type: { base: spec.type, pointer: d.pointer }, dims: d.dims, align: maxAlign(spec.align, d.align), anonymous: false, line: d.line });
      if (c.is(',')) {
        c.next();
        continue;
      }
      c.expect(';');
      return;
    }
  };

  const parseEnumBody = (c: Cursor, tag: string | undefined, line: number): EnumDecl => {
    const decl: EnumDecl = { tag, names: [], values: [], line };
    c.expect('{');
    let next = 0n;
    while (!c.is('}')) {
      const name = c.ident();
      if (c.is('=')) {
        c.next();
        const expr: Token[] = [];
        let depth = 0;
        while (!(depth === 0 && (c.is(',') || c.is('}')))) {
          const token = c.next();
          if (token.text === '(') depth++;
          if (token.text === ')') depth--;
          expr.push(token);
        }
        next = evaluate(expr, line);
      }
      if (next < -(2n ** 31n) || next > 2n ** 32n - 1n) throw new HeaderSyntaxError(`enumerator ${name} = ${next} does not fit in 32 bits`, line);
      decl.values.push({ name, value: next });
      header.constants.set(name, next);
      next++;
      if (c.is(',')) c.next();
    }
    c.expect('}');
    return decl;
  };

  const skipDeclaration = (c: Cursor, why: string): void => {
    const first = c.peek();
    let depth = 0;
    for (;;) {
      const token = c.peek();
      if (token === undefined) break;
      c.index++;
      if (token.kind === 'pack') {
        applyPack(token);
        continue;
      }
      if (token.text === '(' || token.text === '{') depth++;
      if (token.text === ')' || token.text === '}') {
        depth--;
        if (depth === 0 && token.text === '}' && !c.is(';')) break; // function body
      }
      if (depth <= 0 && token.text === ';') break;
    }
    header.skipped.push({ line: first?.line ?? 0, what: why });
  };

  const registerAggregate = (decl: AggregateDecl): void => {
    header.decls.push({ kind: 'aggregate', decl });
    if (decl.tag !== undefined) typedefs.set(`${decl.which} ${decl.tag}`, decl);
  };

  const c = new Cursor(pre.tokens);
  while (c.peek() !== undefined) {
    const token = c.peek()!;
    if (token.kind === 'pack') {
      c.next();
      applyPack(token);
      continue;
    }
    if (c.is(';')) {
      c.next();
      continue;
    }
    if (token.kind === 'ident' && assertions.has(token.text)) {
      c.next();
      c.skipGroup();
      if (c.is(';')) c.next();
      continue;
    }
    if (token.kind === 'ident' && token.text === 'typedef') {
      c.next();
      const spec = parseSpecifier(c);
      if (spec.type.kind === 'aggregate') registerAggregate(spec.type.decl);
      if (spec.type.kind === 'enum') header.decls.push({ kind: 'enum', decl: spec.type.decl });
      for (;;) {
        const d = parseDeclarator(c);
        const type: TypeRef = { base: spec.type, pointer: d.pointer };
        if (!d.pointer && d.dims.length === 0 && spec.type.kind === 'aggregate') {
          spec.type.decl.names.push(d.name);
          typedefs.set(d.name, spec.type.decl);
        } else if (!d.pointer && d.dims.length === 0 && spec.type.kind === 'enum') {
          spec.type.decl.names.push(d.name);
          typedefs.set(d.name, spec.type.decl);
        } else {
          const decl: TypedefDecl = { name: d.name, type, dims: d.dims, align: maxAlign(spec.align, d.align), line: d.line };
          typedefs.set(d.name, decl);
          header.decls.push({ kind: 'typedef', decl });
        }
        if (c.is(',')) {
          c.next();
          continue;
        }
        c.expect(';');
        break;
      }
      continue;
    }
    if (token.kind === 'ident' && (token.text === 'struct' || token.text === 'union' || token.text === 'enum')) {
      const save = c.index;
      const spec = parseSpecifier(c);
      if (c.is(';')) {
        c.next();
        if (spec.type.kind === 'aggregate') registerAggregate(spec.type.decl);
        if (spec.type.kind === 'enum') {
          header.decls.push({ kind: 'enum', decl: spec.type.decl });
          if (spec.type.decl.tag !== undefined) typedefs.set(`enum ${spec.type.decl.tag}`, spec.type.decl);
        }
        continue;
      }
      c.index = save;
    }
    skipDeclaration(c, token.kind === 'ident' ? `declaration starting with '${token.text}'` : 'declaration');
  }

  // Constants in definition order, interleaved with declarations by line.
  const constantDecls: Decl[] = [];
  for (const [name, macro] of pre.macros) {
    if (macro.line === 0) continue;
    if (macro.tokens.length > 0 && macro.tokens.every((t) => t.kind === 'string')) {
      constantDecls.push({ kind: 'constant', name, value: macro.tokens.map((t) => cString(t.text)).join(''), line: macro.line });
      continue;
    }
    const value = macroValue(name);
    if (value !== undefined) {
      header.constants.set(name, value);
      constantDecls.push({ kind: 'constant', name, value, line: macro.line });
    }
  }

  // Merge constants into the declaration order by line so generated code reads like the header.
  header.decls = mergeByLine(constantDecls, header.decls);
  return header;
}

function lineOf(decl: Decl): number {
  return decl.kind === 'constant' ? decl.line : decl.decl.line;
}

function mergeByLine(constants: Decl[], others: Decl[]): Decl[] {
  const out: Decl[] = [];
  let i = 0;
  for (const decl of others) {
    while (i < constants.length && lineOf(constants[i]!) <= lineOf(decl)) out.push(constants[i++]!);
    out.push(decl);
  }
  while (i < constants.length) out.push(constants[i++]!);
  return out;
}

function maxAlign(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

function cString(literal: string): string {
  const body = literal.replace(/^L?"/, '').replace(/"$/, '');
  return body.replace(/\\(x[0-9a-fA-F]+|[0-7]{1,3}|.)/g, (_m, esc: string) => {
    if (esc.startsWith('x')) return String.fromCharCode(Number.parseInt(esc.slice(1), 16));
    if (/^[0-7]+$/.test(esc)) return String.fromCharCode(Number.parseInt(esc, 8));
    const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', a: '\x07', b: '\b', f: '\f', v: '\v' };
    return map[esc] ?? esc;
  });
}
