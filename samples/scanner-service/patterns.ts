// What the scanner looks for. Pure: no fltport, no I/O, so it is unit-tested on its own.
//
// A pattern matches either the content the driver sent (the first bytes of the file, up to
// FPS_SCAN_BYTES) or the normalized path. Content is matched as latin1 text, so any byte
// sequence can be expressed and binary content cannot break a regex. Each pattern carries the
// reason code that goes into FPS_SCAN_REPLY.Reason (service-defined: the wire header leaves
// the numbers to the service, 0 = none).

export type PatternTarget = 'content' | 'path';

export interface PatternSpec {
  /** Short name, printed in logs and the summary. */
  name: string;
  target: PatternTarget;
  /** Exactly one of literal / regex. Literal: bytes as latin1 text. Regex: JavaScript syntax. */
  literal?: string;
  regex?: string;
  /** Regex flags (no 'g' or 'y': matching must not keep state between requests). Default 'i' for paths, '' for content. */
  flags?: string;
  /** FPS_SCAN_REPLY.Reason when it matches; 1..0xFFFFFFFF. */
  reason: number;
}

export interface CompiledPattern {
  readonly name: string;
  readonly target: PatternTarget;
  readonly reason: number;
  test(text: string): boolean;
}

/** Reason codes of the built-in patterns (0 = allowed, nothing matched). */
export const REASON = {
  NONE: 0,
  TEST_SIGNATURE: 1,
  ENCODED_POWERSHELL: 2,
  ACCESS_KEY: 3,
  DOUBLE_EXTENSION: 4,
} as const;

/** The EICAR anti-malware test string: harmless, recognised by every scanner. */
export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

export const DEFAULT_PATTERNS: readonly PatternSpec[] = [
  { name: 'eicar-test-file', target: 'content', literal: EICAR, reason: REASON.TEST_SIGNATURE },
  {
    name: 'encoded-powershell',
    target: 'content',
    regex: String.raw`powershell(?:\.exe)?\s[^\r\n]*-e(?:nc(?:odedcommand)?)?\s+[A-Za-z0-9+/=]{16,}`,
    flags: 'i',
    reason: REASON.ENCODED_POWERSHELL,
  },
  { name: 'aws-access-key-id', target: 'content', regex: String.raw`\bAKIA[0-9A-Z]{16}\b`, reason: REASON.ACCESS_KEY },
  {
    name: 'double-extension',
    target: 'path',
    regex: String.raw`\.(?:pdf|docx?|xlsx?|txt|jpe?g|png)\.(?:exe|scr|com|bat|cmd|js|vbs)$`,
    flags: 'i',
    reason: REASON.DOUBLE_EXTENSION,
  },
];

export class PatternError extends Error {
  override name = 'PatternError';
}

export function compilePattern(spec: PatternSpec): CompiledPattern {
  const where = `pattern ${JSON.stringify(spec?.name ?? '?')}`;
  if (typeof spec !== 'object' || spec === null) throw new PatternError('a pattern must be an object');
  const known = new Set(['name', 'target', 'literal', 'regex', 'flags', 'reason']);
  for (const key of Object.keys(spec)) if (!known.has(key)) throw new PatternError(`${where}: unknown field ${key}`);
  if (typeof spec.name !== 'string' || spec.name === '') throw new PatternError('a pattern needs a name');
  if (spec.target !== 'content' && spec.target !== 'path') throw new PatternError(`${where}: target must be "content" or "path"`);
  if (!Number.isInteger(spec.reason) || spec.reason < 1 || spec.reason > 0xffffffff) throw new PatternError(`${where}: reason must be an integer 1..0xFFFFFFFF`);
  if ((spec.literal === undefined) === (spec.regex === undefined)) throw new PatternError(`${where}: give exactly one of literal, regex`);
  if (spec.literal !== undefined) {
    if (typeof spec.literal !== 'string' || spec.literal === '') throw new PatternError(`${where}: literal must be a non-empty string`);
    if (spec.flags !== undefined) throw new PatternError(`${where}: flags apply to regex patterns only`);
    const literal = spec.literal;
    return { name: spec.name, target: spec.target, reason: spec.reason, test: (text) => text.includes(literal) };
  }
  const flags = spec.flags ?? (spec.target === 'path' ? 'i' : '');
  if (/[gy]/.test(flags)) throw new PatternError(`${where}: flags g and y are not allowed (they keep state between matches)`);
  let re: RegExp;
  try {
    re = new RegExp(spec.regex!, flags);
  } catch (e) {
    throw new PatternError(`${where}: ${(e as Error).message}`);
  }
  return { name: spec.name, target: spec.target, reason: spec.reason, test: (text) => re.test(text) };
}

export function compilePatterns(specs: readonly PatternSpec[]): CompiledPattern[] {
  if (!Array.isArray(specs)) throw new PatternError('patterns must be an array');
  const names = new Set<string>();
  return specs.map((spec) => {
    const compiled = compilePattern(spec);
    if (names.has(compiled.name)) throw new PatternError(`pattern ${JSON.stringify(compiled.name)} is defined twice`);
    names.add(compiled.name);
    return compiled;
  });
}

export interface ScanInput {
  path: string;
  content: Uint8Array;
}

export interface ScanVerdict {
  block: boolean;
  reason: number;
  /** The first pattern that matched (patterns are tried in order). */
  pattern: string | null;
  target: PatternTarget | null;
}

const latin1 = new TextDecoder('latin1');

/** First match wins, in the order given; nothing matched = allow with reason 0. */
export function scan(patterns: readonly CompiledPattern[], input: ScanInput): ScanVerdict {
  let content: string | undefined;
  for (const p of patterns) {
    const text = p.target === 'path' ? input.path : (content ??= latin1.decode(input.content));
    if (p.test(text)) return { block: true, reason: p.reason, pattern: p.name, target: p.target };
  }
  return { block: false, reason: REASON.NONE, pattern: null, target: null };
}
