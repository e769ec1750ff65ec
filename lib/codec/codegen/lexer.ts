// Tokenizer and a small preprocessor for wire headers: comments, line continuations,
// object-like #define integer constants, #if/#ifdef/#ifndef/#elif/#else/#endif, and
// #pragma pack, which is passed to the parser as a token so that it applies in order.

export type Token =
  | { kind: 'ident'; text: string; line: number }
  | { kind: 'number'; text: string; value: bigint; line: number }
  | { kind: 'punct'; text: string; line: number }
  | { kind: 'string'; text: string; line: number }
  | { kind: 'pack'; text: string; op: 'push' | 'pop' | 'set'; value: number | undefined; label: string | undefined; line: number };

export class HeaderSyntaxError extends Error {
  readonly line: number;

  constructor(message: string, line: number) {
    super(`line ${line}: ${message}`);
    this.name = 'HeaderSyntaxError';
    this.line = line;
  }
}

const punctuators = ['<<=', '>>=', '...', '->', '++', '--', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '##', '::'];

/** Splits source (without preprocessor lines) into tokens. */
export function tokenize(source: string, firstLine = 1): Token[] {
  const out: Token[] = [];
  let line = firstLine;
  let index = 0;
  while (index < source.length) {
    const ch = source[index]!;
    if (ch === '\n') {
      line++;
      index++;
      continue;
    }
    if (/\s/.test(ch)) {
      index++;
      continue;
    }
    if (/\d/.test(ch) || (ch === '.' && /\d/.test(source[index + 1] ?? ''))) {
      const match = /^(0[xX][0-9a-fA-F]+|\d+(\.\d*)?([eE][+-]?\d+)?)([uUlLfF]|i64|ui64)*/.exec(source.slice(index, index + 64))!;
      const text = match[0];
      const digits = match[1]!;
      let value: bigint;
      if (match[2] !== undefined || match[3] !== undefined) value = -1n; // floating literal: not an integer constant
      else if (/^0[xX]/.test(digits)) value = BigInt(digits);
      else if (/^0\d+$/.test(digits)) value = BigInt(`0o${digits.slice(1)}`);
      else value = BigInt(digits);
      out.push({ kind: 'number', text, value, line });
      index += text.length;
      continue;
    }
    if (ch === "'" || ((ch === 'L' || ch === 'u' || ch === 'U') && source[index + 1] === "'")) {
      const start = ch === "'" ? index : index + 1;
      const match = /^'(\\.|[^'\\])+'/.exec(source.slice(start, start + 16));
      if (match === null) throw new HeaderSyntaxError('bad character literal', line);
      out.push({ kind: 'number', text: match[0], value: BigInt(charValue(match[0].slice(1, -1))), line });
      index = start + match[0].length;
      continue;
    }
    if (ch === '"' || (ch === 'L' && source[index + 1] === '"')) {
      const start = ch === '"' ? index : index + 1;
      const match = /^"(\\.|[^"\\])*"/.exec(source.slice(start));
      if (match === null) throw new HeaderSyntaxError('unterminated string literal', line);
      out.push({ kind: 'string', text: match[0], line });
      index = start + match[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      const match = /^[A-Za-z_]\w*/.exec(source.slice(index, index + 256))!;
      out.push({ kind: 'ident', text: match[0], line });
      index += match[0].length;
      continue;
    }
    const three = source.slice(index, index + 3);
    const two = source.slice(index, index + 2);
    const text = punctuators.find((p) => p === three || p === two) ?? ch;
    out.push({ kind: 'punct', text, line });
    index += text.length;
  }
  return out;
}

function charValue(body: string): number {
  if (!body.startsWith('\\')) return body.codePointAt(0) ?? 0;
  const escapes: Record<string, number> = { n: 10, t: 9, r: 13, '0': 0, '\\': 92, "'": 39, '"': 34, a: 7, b: 8, f: 12, v: 11 };
  const rest = body.slice(1);
  if (rest.startsWith('x')) return Number.parseInt(rest.slice(1), 16);
  if (/^[0-7]+$/.test(rest)) return Number.parseInt(rest, 8);
  return escapes[rest] ?? rest.codePointAt(0) ?? 0;
}

/** Removes comments, keeping newlines so that line numbers stay right. */
export function stripComments(source: string): string {
  let out = '';
  let index = 0;
  while (index < source.length) {
    const ch = source[index]!;
    const next = source[index + 1];
    if (ch === '/' && next === '/') {
      while (index < source.length && source[index] !== '\n') {
        // a backslash-newline continues a // comment in C
        if (source[index] === '\\' && source[index + 1] === '\n') {
          out += '\n';
          index += 2;
          continue;
        }
        index++;
      }
      continue;
    }
    if (ch === '/' && next === '*') {
      const end = source.indexOf('*/', index + 2);
      const body = source.slice(index, end < 0 ? source.length : end + 2);
      out += ' ' + body.replace(/[^\n]/g, '');
      index = end < 0 ? source.length : end + 2;
      continue;
    }
    if (ch === '"' || ch === "'") {
      const match = (ch === '"' ? /^"(\\.|[^"\\\n])*"?/ : /^'(\\.|[^'\\\n])*'?/).exec(source.slice(index))!;
      out += match[0];
      index += match[0].length;
      continue;
    }
    out += ch;
    index++;
  }
  return out;
}

export interface Preprocessed {
  tokens: Token[];
  /** Object-like macros in definition order, as token lists. */
  macros: Map<string, { tokens: Token[]; line: number }>;
}

/** Expression evaluation hook used for #if (defined() already replaced). */
export type ConstEval = (tokens: Token[], line: number) => bigint;

export function preprocess(text: string, predefined: Record<string, string>, evaluate: (tokens: Token[], macros: Preprocessed['macros'], line: number) => bigint): Preprocessed {
  const source = stripComments(text.replace(/\r\n?/g, '\n'));
  const macros: Preprocessed['macros'] = new Map();
  for (const [name, value] of Object.entries(predefined)) macros.set(name, { tokens: tokenize(value), line: 0 });
  const tokens: Token[] = [];
  // Each frame: is this branch active, has any branch of this #if been taken, was the parent active.
  const conditions: { active: boolean; taken: boolean; parent: boolean }[] = [];
  const active = (): boolean => conditions.length === 0 || conditions[conditions.length - 1]!.active;
  const lines = source.split('\n');
  let chunk = '';
  let chunkStart = 1;
  const flush = (): void => {
    if (chunk !== '') tokens.push(...tokenize(chunk, chunkStart));
    chunk = '';
  };
  for (let index = 0; index < lines.length; index++) {
    const lineNo = index + 1;
    let raw = lines[index]!;
    let consumed = 0;
    while (raw.endsWith('\\') && index + consumed + 1 < lines.length) {
      consumed++;
      raw = raw.slice(0, -1) + ' ' + lines[index + consumed]!;
    }
    const directive = /^\s*#\s*(\w*)\s*(.*)$/.exec(raw);
    if (directive === null) {
      if (chunk === '') chunkStart = lineNo;
      chunk += (active() ? raw : '') + '\n'.repeat(consumed + 1);
      index += consumed;
      continue;
    }
    flush();
    chunkStart = lineNo + consumed + 1;
    index += consumed;
    const [, name = '', rest = ''] = directive;
    const condition = (expr: string): boolean => {
      const replaced = expr.replace(/\bdefined\s*(\(\s*(\w+)\s*\)|\s+(\w+))/g, (_m, _a, p1?: string, p2?: string) => (macros.has(p1 ?? p2 ?? '') ? '1' : '0'));
      try {
        return evaluate(tokenize(replaced, lineNo), macros, lineNo) !== 0n;
      } catch {
        return false;
      }
    };
    switch (name) {
      case 'if':
      case 'ifdef':
      case 'ifndef': {
        const parent = active();
        const value = name === 'if' ? condition(rest) : macros.has(rest.trim().split(/\s+/)[0] ?? '') === (name === 'ifdef');
        conditions.push({ active: parent && value, taken: value, parent });
        break;
      }
      case 'elif': {
        const top = conditions[conditions.length - 1];
        if (top === undefined) throw new HeaderSyntaxError('#elif without #if', lineNo);
        const value = !top.taken && condition(rest);
        top.active = top.parent && value;
        top.taken ||= value;
        break;
      }
      case 'else': {
        const top = conditions[conditions.length - 1];
        if (top === undefined) throw new HeaderSyntaxError('#else without #if', lineNo);
        top.active = top.parent && !top.taken;
        top.taken = true;
        break;
      }
      case 'endif':
        if (conditions.pop() === undefined) throw new HeaderSyntaxError('#endif without #if', lineNo);
        break;
      case 'define': {
        if (!active()) break;
        const match = /^(\w+)(\(?)(.*)$/.exec(rest);
        if (match === null) throw new HeaderSyntaxError('bad #define', lineNo);
        // Function-like macros are not constants; they are skipped (C_ASSERT & co are handled by the parser).
        if (match[2] === '(') break;
        macros.set(match[1]!, { tokens: tokenize(match[3] ?? '', lineNo), line: lineNo });
        break;
      }
      case 'undef':
        if (active()) macros.delete(rest.trim());
        break;
      case 'pragma':
        if (active()) {
          const pack = parsePack(rest, lineNo);
          if (pack !== undefined) tokens.push(pack);
        }
        break;
      case 'error':
        if (active()) throw new HeaderSyntaxError(`#error ${rest}`, lineNo);
        break;
      default:
        // #include, #line, empty '#': nothing a wire header's layout depends on.
        break;
    }
  }
  flush();
  if (conditions.length > 0) throw new HeaderSyntaxError('unterminated #if', lines.length);
  return { tokens, macros };
}

function parsePack(rest: string, line: number): Token | undefined {
  const match = /^pack\s*\(([^)]*)\)/.exec(rest.trim());
  if (match === null) return undefined;
  const args = (match[1] ?? '').split(',').map((a) => a.trim()).filter((a) => a !== '');
  const number = (text: string): number => {
    const value = Number(text);
    if (![1, 2, 4, 8, 16].includes(value)) throw new HeaderSyntaxError(`#pragma pack value must be 1, 2, 4, 8 or 16, got ${text}`, line);
    return value;
  };
  const text = `#pragma ${rest.trim()}`;
  if (args[0] === 'push') {
    const numeric = args.slice(1).find((a) => /^\d+$/.test(a));
    const label = args.slice(1).find((a) => !/^\d+$/.test(a));
    return { kind: 'pack', text, op: 'push', value: numeric === undefined ? undefined : number(numeric), label, line };
  }
  if (args[0] === 'pop') return { kind: 'pack', text, op: 'pop', value: args[1] !== undefined && /^\d+$/.test(args[1]) ? number(args[1]) : undefined, label: args[1], line };
  if (args.length === 0) return { kind: 'pack', text, op: 'set', value: undefined, label: undefined, line };
  return { kind: 'pack', text, op: 'set', value: number(args[0]!), label: undefined, line };
}
