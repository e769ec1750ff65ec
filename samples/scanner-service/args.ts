// Command-line options of the scanner service. Pure: argv in, options out (or a UsageError).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { compilePatterns, DEFAULT_PATTERNS, type CompiledPattern, type PatternSpec } from './patterns.js';

export interface ServiceOptions {
  /** Seconds to run; 0 = until SIGINT/SIGTERM. */
  duration: number;
  patterns: CompiledPattern[];
  patternSource: string;
  /** Handler deadline, ms (serve's timeout). */
  timeout: number;
  /** Handlers at once and pending receives. */
  concurrency: number;
  /** Write notes to the driver's mailslot ("ping hello" at start, "rescan <path>" on a content detection). */
  notes: boolean;
  reconnect: boolean;
  simRuntimeDir: string | undefined;
  /** Display refresh, ms. */
  interval: number;
  /** Print the summary as JSON (one line). */
  json: boolean;
  /** Live display: 'auto' (TTY → in place, else lines), 'lines', 'none'. */
  display: 'auto' | 'lines' | 'none';
  help: boolean;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `usage: scanner-service [options]
  --duration <s>          run for s seconds, then print the summary (default: until Ctrl-C)
  --patterns <file.json>  patterns to use instead of the built-in ones: a JSON array of
                          { name, target: "content"|"path", literal | regex, flags?, reason }
  --timeout <ms>          handler deadline; a late handler gets the default reply (default 1000)
  --concurrency <n>       handlers at once / pending receives, 1-1024 (default 8)
  --no-notes              do not write notes to the driver's mailslot
  --no-reconnect          exit when the driver goes away instead of waiting for it
  --sim-runtime-dir <dir> fltsim only: where fltsim-host listens
  --interval <ms>         display refresh (default 1000)
  --display <mode>        auto (default: in place on a terminal, lines otherwise), lines, none
  --json                  print the summary as one JSON line
  -h, --help`;

function int(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(text)}`);
  const value = Number(text);
  if (value < min || value > max) throw new UsageError(`--${name} must be ${min}..${max}, got ${value}`);
  return value;
}

export function parseServiceArgs(
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): ServiceOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        duration: { type: 'string' },
        patterns: { type: 'string' },
        timeout: { type: 'string' },
        concurrency: { type: 'string' },
        'no-notes': { type: 'boolean' },
        'no-reconnect': { type: 'boolean' },
        'sim-runtime-dir': { type: 'string' },
        interval: { type: 'string' },
        display: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  let specs: readonly PatternSpec[] = DEFAULT_PATTERNS;
  let patternSource = 'built-in';
  if (values.patterns !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFile(values.patterns));
    } catch (e) {
      throw new UsageError(`--patterns ${values.patterns}: ${(e as Error).message}`);
    }
    if (!Array.isArray(parsed) || parsed.length === 0) throw new UsageError(`--patterns ${values.patterns}: expected a non-empty JSON array`);
    specs = parsed as PatternSpec[];
    patternSource = values.patterns;
  }
  let patterns: CompiledPattern[];
  try {
    patterns = compilePatterns(specs);
  } catch (e) {
    throw new UsageError(`${patternSource === 'built-in' ? 'built-in patterns' : `--patterns ${patternSource}`}: ${(e as Error).message}`);
  }
  const display = values.display ?? 'auto';
  if (display !== 'auto' && display !== 'lines' && display !== 'none') throw new UsageError(`--display must be auto, lines or none, got ${JSON.stringify(display)}`);
  return {
    duration: int('duration', values.duration, 0, 0, 31 * 24 * 3600),
    patterns,
    patternSource,
    timeout: int('timeout', values.timeout, 1000, 1, 600_000),
    concurrency: int('concurrency', values.concurrency, 8, 1, 1024),
    notes: values['no-notes'] !== true,
    reconnect: values['no-reconnect'] !== true,
    simRuntimeDir: values['sim-runtime-dir'] ?? env['FLTSIM_RUNTIME_DIR'] ?? undefined,
    interval: int('interval', values.interval, 1000, 50, 60_000),
    json: values.json === true,
    display,
    help: values.help === true,
  };
}
