// Source generation for compiled readers and writers. Each codec appends JS statements to a
// Gen and hands back expressions; the whole schema becomes one straight-line function per
// direction, so the hot path has no per-field dispatch, closures or intermediate arrays.
import { codecFail } from './errors.js';

export type Target = 'x64' | 'x86' | 'arm64';
export const targets: readonly Target[] = ['x64', 'x86', 'arm64'];

export function pointerSize(target: Target): number {
  return target === 'x86' ? 4 : 8;
}

/** One step of a field path; `index` is the name of a loop variable in the generated code. */
export type PathPart = { readonly key: string } | { readonly index: string };
export type Path = readonly PathPart[];

export function childPath(path: Path, key: string): Path {
  return [...path, { key }];
}

export function indexPath(path: Path, index: string): Path {
  return [...path, { index }];
}

/** Renders a path as a JS expression yielding e.g. "entries[3].name" (only evaluated on error). */
export function pathExpr(path: Path): string {
  const pieces: string[] = [];
  let literal = '';
  for (const part of path) {
    if ('key' in part) {
      literal += literal === '' && pieces.length === 0 ? part.key : `.${part.key}`;
    } else {
      pieces.push(JSON.stringify(`${literal}[`), part.index);
      literal = ']';
    }
  }
  pieces.push(JSON.stringify(literal));
  return pieces.join(' + ');
}

export function pathString(path: Path): string {
  let out = '';
  for (const part of path) {
    if ('key' in part) out += out === '' ? part.key : `.${part.key}`;
    else out += `[${part.index}]`;
  }
  return out;
}

/**
 * Earlier sibling fields visible to count-from-field arrays and variants: field name → the JS
 * expression holding its decoded value (read) or its input value (write), and its codec.
 */
export interface ScopeEntry {
  readonly expr: string;
  readonly codec: unknown;
}
export type Scope = ReadonlyMap<string, ScopeEntry>;

export class Gen {
  readonly target: Target;
  /** Name of the variable holding the exclusive end of readable bytes (decode) or of the value's room (encode). */
  limit = 'E';
  readonly #lines: string[] = [];
  readonly #consts: unknown[] = [];
  #counter = 0;

  constructor(target: Target) {
    this.target = target;
  }

  id(prefix = 'v'): string {
    return `${prefix}${this.#counter++}`;
  }

  line(source: string): void {
    this.#lines.push(source);
  }

  /** Makes a run-time value (a helper, a lookup table, a codec) reachable from generated code. */
  ref(value: unknown): string {
    let index = this.#consts.indexOf(value);
    if (index < 0) {
      index = this.#consts.length;
      this.#consts.push(value);
    }
    return `$k${index}`;
  }

  /** A statement that throws CodecError; `message` is a JS expression. */
  fail(message: string, path: Path, offset: string): string {
    return `${this.ref(codecFail)}(${message}, ${pathExpr(path)}, ${offset});`;
  }

  /** Binds an expression to a fresh const unless it is already a plain identifier. */
  hoist(expr: string, prefix = 'v'): string {
    if (/^[A-Za-z_$][\w$]*$/.test(expr)) return expr;
    const name = this.id(prefix);
    this.line(`const ${name} = ${expr};`);
    return name;
  }

  build<F>(params: string, bodyTail: string): F {
    const names = this.#consts.map((_, index) => `$k${index}`);
    const source = `"use strict";\nreturn function (${params}) {\n${this.#lines.join('\n')}\n${bodyTail}\n};`;
    // new Function is the point: one specialised function per schema and target.
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const factory = new Function(...names, source) as (...args: unknown[]) => F;
    return factory(...this.#consts);
  }

  source(): string {
    return this.#lines.join('\n');
  }
}

/** `off + n` without emitting `+ 0`. */
export function addOffset(off: string, n: number): string {
  if (n === 0) return off;
  // Fold constants so nested fixed layouts read at `S + 24`, not `S + 16 + 8`.
  const match = /^(.*) \+ (\d+)$/.exec(off);
  if (match !== null && match[1] !== undefined && match[2] !== undefined && !match[1].includes('?')) {
    return `${match[1]} + ${Number(match[2]) + n}`;
  }
  return `${off} + ${n}`;
}

export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

/** Renders an offending value for an error message without ever throwing itself. */
export function show(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'bigint':
      return `${value}n`;
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default:
      if (value === null) return 'null';
      if (Array.isArray(value)) return `an array of ${value.length}`;
      if (value instanceof Date) return 'a Date';
      return 'an object';
  }
}
