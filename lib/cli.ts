#!/usr/bin/env node
// `fltport`: listen to a port, send a message, list filters, run the simulator, generate
// codecs from a C header. main() takes its I/O (and the binding) as arguments so that tests
// run it in-process; the bottom of this file is the bin entry.
import { type ChildProcess, spawn as nodeSpawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type ParseArgsConfig, inspect, parseArgs } from 'node:util';

import type { NativeBinding } from './binding.js';
import { runCodegen } from './codec/codegen/index.js';
import { FltportError, InvalidArgumentError, describeHresult, describeNtStatus } from './errors.js';
import { Filters } from './filters.js';
import type { PortMessage } from './message-stream.js';
import { connect } from './port.js';
import type { Decoder, Encoder } from './validate.js';

/** Exit codes (documented in docs/api.md and --help). */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  accessDenied: 4,
  disconnected: 5,
  simulatorUnavailable: 6,
} as const;

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Stops `listen` and `sim` (the bin entry wires SIGINT/SIGTERM to it). */
  signal?: AbortSignal;
  binding?: NativeBinding;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Package root: where build/Release/fltsim-host and package.json are. */
  packageRoot?: string;
  spawn?: (command: string, args: readonly string[], options: { env: NodeJS.ProcessEnv; stdio: 'inherit' }) => ChildProcess;
  exists?: (path: string) => boolean;
  readFile?: (path: string) => Uint8Array;
  importModule?: (specifier: string) => Promise<unknown>;
}

class UsageError extends Error {}

const USAGE = `usage: fltport <command> [options]

commands:
  listen <port>              print messages from a communication port (e.g. \\FltportSampleScan)
      --codec <module>       decode bodies with the module's \`message\` codec (its default export may hold it)
      --reply <hex>          answer every message that expects a reply with these bytes
      --status <ntstatus>    FILTER_REPLY_HEADER.Status for --reply (default 0)
      --count <n>            stop after n messages
      --concurrency <n>      pending receives (default 16)
      --max-message-size <n> largest payload accepted (default 65536)
      --context <hex>        connection context for the driver's ConnectNotify
      --json                 one JSON object per message
  send <port> <hex|@file>    FilterSendMessage; prints what the driver returned
      --reply-capacity <n>   output buffer size (default 4096)
      --context <hex>
  filters                    list filters (FilterFindFirst/Next)
      --instances <filter>   list one filter's instances instead
      --volumes              list volumes instead
  sim                        run fltsim-host, the simulated Filter Manager (Linux)
      --runtime-dir <dir>    where its socket goes (default $FLTSIM_RUNTIME_DIR, $XDG_RUNTIME_DIR/fltsim, /tmp/fltsim-<uid>)
  codegen <header.h> [-o out.ts]
                             generate codecs from a C header (fltport codegen --help)

common options:
  --sim-runtime-dir <dir>    fltsim's runtime directory (listen, send, filters)
  -h, --help                 this text
  --version                  package version

exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 access denied,
            5 disconnected, 6 simulator unavailable
errors print their FLTPORT_* code and HRESULT.`;

function parseHex(text: string, what: string): Uint8Array {
  const clean = text.replace(/^0x/i, '').replace(/[\s:_-]/g, '');
  if (!/^[0-9a-f]*$/i.test(clean) || clean.length % 2 !== 0) {
    throw new UsageError(`${what} must be hex bytes such as "01 00 ff" or "0100ff", got ${JSON.stringify(text)}`);
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function parseInteger(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const n = /^0x[0-9a-f]+$/i.test(text) ? Number.parseInt(text, 16) : /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`${what} must be an integer (decimal or 0x hex), got ${JSON.stringify(text)}`);
  return n;
}

/** "de ad be ef" for up to `max` bytes, with an ellipsis when cut. */
export function hexPreview(bytes: Uint8Array, max = 32): string {
  const shown = Array.from(bytes.subarray(0, max), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return bytes.byteLength > max ? `${shown} …` : shown;
}

/** The payload read as UTF-16LE up to its first NUL; '' when it does not look like text. */
export function utf16Preview(bytes: Uint8Array, max = 64): string {
  const chars: string[] = [];
  for (let i = 0; i + 1 < bytes.byteLength && chars.length < max; i += 2) {
    const code = (bytes[i] ?? 0) | ((bytes[i + 1] ?? 0) << 8);
    if (code === 0) break;
    if (code < 0x20 || (code >= 0xd800 && code <= 0xdfff) || code === 0xfffe || code === 0xffff) return '';
    chars.push(String.fromCharCode(code));
  }
  // Only call it text when it plausibly is: binary data also decodes to "characters". Real
  // paths and names are mostly Latin, so most code units have a zero high byte.
  const latin = chars.filter((c) => c.charCodeAt(0) < 0x100).length;
  return chars.length >= 2 && latin * 2 >= chars.length ? chars.join('') : '';
}

function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError || error instanceof InvalidArgumentError) return EXIT.usage;
  if (!(error instanceof FltportError)) return EXIT.failure;
  switch (error.code) {
    case 'FLTPORT_NOT_FOUND':
      return EXIT.notFound;
    case 'FLTPORT_ACCESS_DENIED':
      return EXIT.accessDenied;
    case 'FLTPORT_DISCONNECTED':
      return EXIT.disconnected;
    case 'FLTPORT_SIM_UNAVAILABLE':
      return EXIT.simulatorUnavailable;
    default:
      return EXIT.failure;
  }
}

function formatError(error: unknown): string {
  if (error instanceof UsageError) return `fltport: ${error.message}\nrun \`fltport --help\` for usage\n`;
  if (error instanceof FltportError) {
    const numbers: string[] = [];
    if (error.hresult !== undefined) numbers.push(`HRESULT ${describeHresult(error.hresult)}`);
    if (error.ntstatus !== undefined) numbers.push(`NTSTATUS ${describeNtStatus(error.ntstatus)}`);
    const head = numbers.length > 0 ? `${error.code} (${numbers.join(', ')})` : error.code;
    return `fltport: ${head}: ${error.message}\n`;
  }
  return `fltport: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`;
}

function defaultPackageRoot(): string {
  // lib/cli.ts and dist/cli.js are both one level below the package root.
  return fileURLToPath(new URL('..', import.meta.url));
}

/** Runs the CLI; resolves with the process exit code. */
export async function main(argv: readonly string[], ioIn: Partial<CliIo> = {}): Promise<number> {
  const io: CliIo = {
    stdout: ioIn.stdout ?? ((t) => process.stdout.write(t)),
    stderr: ioIn.stderr ?? ((t) => process.stderr.write(t)),
    ...ioIn,
  } as CliIo;
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.stdout(`${USAGE}\n`);
        return command === undefined ? EXIT.usage : EXIT.ok;
      case '--version':
        io.stdout(`${packageVersion(io)}\n`);
        return EXIT.ok;
      case 'listen':
        return await listen(rest, io);
      case 'send':
        return await send(rest, io);
      case 'filters':
        return await listFilters(rest, io);
      case 'sim':
        return await sim(rest, io);
      case 'codegen':
        return runCodegen(rest, { stdout: io.stdout, stderr: io.stderr });
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(formatError(new UsageError((error as Error).message)));
      return EXIT.usage;
    }
    io.stderr(formatError(error));
    return exitCodeFor(error);
  }
}

function packageVersion(io: CliIo): string {
  const root = io.packageRoot ?? defaultPackageRoot();
  try {
    return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function help(args: readonly string[], io: CliIo): boolean {
  if (args.includes('-h') || args.includes('--help')) {
    io.stdout(`${USAGE}\n`);
    return true;
  }
  return false;
}

function withBinding<T extends object>(io: CliIo, options: T): T & { binding?: NativeBinding } {
  return io.binding === undefined ? options : { ...options, binding: io.binding };
}

/** A subcommand's own options: strict, with positionals. */
function parseCommand<const O extends NonNullable<ParseArgsConfig['options']>>(args: readonly string[], options: O) {
  return parseArgs({ args: [...args], allowPositionals: true, strict: true, options });
}

/** `--sim-runtime-dir` as a connect/Filters option. */
function simRuntimeDirOption(dir: string | undefined): { simRuntimeDir?: string } {
  return dir === undefined ? {} : { simRuntimeDir: dir };
}

interface CodecModule {
  message?: Decoder<unknown>;
  reply?: Encoder<unknown>;
}

async function loadCodecModule(specifier: string, io: CliIo): Promise<CodecModule> {
  const url = /^[./]|^[a-z]:\\/i.test(specifier) ? pathToFileURL(resolve(io.cwd ?? process.cwd(), specifier)).href : specifier;
  const mod = (await (io.importModule ?? ((s: string) => import(s)))(url)) as Record<string, unknown>;
  const candidates = [mod, mod['default'] as Record<string, unknown> | undefined];
  for (const c of candidates) {
    if (c !== undefined && c !== null && typeof (c['message'] as Decoder<unknown> | undefined)?.decode === 'function') {
      return c as CodecModule;
    }
  }
  throw new UsageError(`--codec ${specifier}: the module exports no \`message\` codec (an object with decode(bytes))`);
}

async function listen(args: readonly string[], io: CliIo): Promise<number> {
  if (help(args, io)) return EXIT.ok;
  const { values, positionals } = parseCommand(args, {
    codec: { type: 'string' },
    reply: { type: 'string' },
    status: { type: 'string' },
    count: { type: 'string' },
    concurrency: { type: 'string' },
    'max-message-size': { type: 'string' },
    context: { type: 'string' },
    json: { type: 'boolean' },
    'sim-runtime-dir': { type: 'string' },
  });
  const [portName, extra] = positionals;
  if (portName === undefined) throw new UsageError('listen needs a port name, e.g. fltport listen \\FltportSampleScan');
  if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
  const reply = values.reply === undefined ? undefined : parseHex(values.reply, '--reply');
  const status = parseInteger(values.status, '--status') ?? 0;
  if (values.status !== undefined && reply === undefined) throw new UsageError('--status needs --reply');
  const count = parseInteger(values.count, '--count');
  if (count !== undefined && count < 1) throw new UsageError('--count must be at least 1');
  const codecs = values.codec === undefined ? undefined : await loadCodecModule(values.codec, io);

  const port = await connect(
    portName,
    withBinding(io, {
      ...(codecs?.message === undefined ? {} : { message: codecs.message }),
      ...(values.context === undefined ? {} : { context: parseHex(values.context, '--context') }),
      ...(values.concurrency === undefined ? {} : { concurrency: parseInteger(values.concurrency, '--concurrency') as number }),
      ...(values['max-message-size'] === undefined
        ? {}
        : { maxMessageSize: parseInteger(values['max-message-size'], '--max-message-size') as number }),
      ...simRuntimeDirOption(values['sim-runtime-dir']),
      onFault: (error: FltportError) => io.stderr(formatError(error)),
      ...(io.signal === undefined ? {} : { signal: io.signal }),
    }),
  );
  if (!values.json) io.stderr(`listening on ${portName} (connection ${port.connection}); stop with Ctrl-C\n`);
  let seen = 0;
  let warnedUnanswered = false;
  try {
    const iterator = port.messages(io.signal === undefined ? {} : { signal: io.signal });
    for await (const message of iterator) {
      seen += 1;
      printMessage(message, codecs !== undefined, values.json === true, io);
      if (message.expectsReply) {
        if (reply !== undefined) {
          await message.replyBytes(reply, { status }).catch((error: unknown) => io.stderr(formatError(error)));
        } else if (!warnedUnanswered) {
          warnedUnanswered = true;
          io.stderr('note: messages that expect a reply are not answered (pass --reply <hex>); the driver waits until its timeout\n');
        }
      }
      if (count !== undefined && seen >= count) break;
    }
  } catch (error) {
    if (!(error instanceof FltportError && error.code === 'FLTPORT_ABORTED')) throw error;
  } finally {
    await port.close();
  }
  if (!values.json) {
    const s = port.stats();
    io.stderr(`${s.received} received, ${s.replied} replied, ${s.lateReplies} late, ${s.replyErrors} reply errors, ${s.faults} faults\n`);
  }
  return EXIT.ok;
}

function printMessage(message: PortMessage<unknown, unknown>, decode: boolean, json: boolean, io: CliIo): void {
  let body: unknown;
  let bodyError: string | undefined;
  if (decode) {
    try {
      body = message.body;
    } catch (error) {
      bodyError = (error as Error).message;
    }
  }
  if (json) {
    const record: Record<string, unknown> = {
      id: message.id.toString(),
      replyLength: message.replyLength,
      size: message.bytes.byteLength,
      hex: Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength).toString('hex'),
    };
    if (decode) record[bodyError === undefined ? 'body' : 'bodyError'] = bodyError ?? body;
    io.stdout(`${JSON.stringify(record, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
    return;
  }
  const text = utf16Preview(message.bytes);
  io.stdout(
    `#${message.id} replyLength=${message.replyLength} ${message.bytes.byteLength} bytes  ${hexPreview(message.bytes)}` +
      `${text === '' ? '' : `  "${text}"`}\n`,
  );
  if (decode) io.stdout(bodyError === undefined ? `  ${inspect(body, { depth: 4, breakLength: 120 })}\n` : `  (decode failed: ${bodyError})\n`);
}

async function send(args: readonly string[], io: CliIo): Promise<number> {
  if (help(args, io)) return EXIT.ok;
  const { values, positionals } = parseCommand(args, {
    'reply-capacity': { type: 'string' },
    context: { type: 'string' },
    'sim-runtime-dir': { type: 'string' },
  });
  const [portName, data, extra] = positionals;
  if (portName === undefined || data === undefined) throw new UsageError('send needs a port name and data: fltport send \\Port 0100ff (or @file)');
  if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
  let input: Uint8Array;
  if (data.startsWith('@')) {
    const path = resolve(io.cwd ?? process.cwd(), data.slice(1));
    try {
      input = (io.readFile ?? ((p: string) => new Uint8Array(readFileSync(p))))(path);
    } catch (error) {
      throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
    }
  } else {
    input = parseHex(data, 'data');
  }
  const replyCapacity = parseInteger(values['reply-capacity'], '--reply-capacity') ?? 4096;
  const port = await connect(
    portName,
    withBinding(io, {
      ...(values.context === undefined ? {} : { context: parseHex(values.context, '--context') }),
      ...simRuntimeDirOption(values['sim-runtime-dir']),
      concurrency: 1,
    }),
  );
  try {
    const out = await port.send(input.byteLength === 0 ? null : input, { replyCapacity });
    const text = utf16Preview(out);
    io.stdout(`${out.byteLength} bytes returned${out.byteLength === 0 ? '' : `: ${hexPreview(out, 4096)}`}${text === '' ? '' : `  "${text}"`}\n`);
  } finally {
    await port.close();
  }
  return EXIT.ok;
}

async function listFilters(args: readonly string[], io: CliIo): Promise<number> {
  if (help(args, io)) return EXIT.ok;
  const { values, positionals } = parseCommand(args, {
    instances: { type: 'string' },
    volumes: { type: 'boolean' },
    'sim-runtime-dir': { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const filters = new Filters(
    withBinding(io, simRuntimeDirOption(values['sim-runtime-dir'])),
  );
  if (values.instances !== undefined && values.volumes) throw new UsageError('--instances and --volumes are exclusive');
  if (values.instances !== undefined) {
    const rows = (await filters.instances(values.instances)).map((i) => [i.name, i.altitude, i.volumeName, i.volumeTypeName, i.detachAllowed ? 'yes' : 'no']);
    io.stdout(table(['Instance', 'Altitude', 'Volume', 'FS', 'Detachable'], rows));
    return EXIT.ok;
  }
  if (values.volumes) {
    const rows = (await filters.volumes()).map((v) => [v.dosName ?? '', v.name, v.filesystemTypeName]);
    io.stdout(table(['Dos Name', 'Volume', 'FS'], rows));
    return EXIT.ok;
  }
  const rows = (await filters.list()).map((f) => [f.name, String(f.instanceCount), f.altitude, String(f.frameId), f.legacy ? 'legacy' : '']);
  io.stdout(table(['Filter Name', 'Num Instances', 'Altitude', 'Frame', ''], rows));
  return EXIT.ok;
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return `${[line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')}\n`;
}

/** fltsim's runtime directory, resolved like native/posix/RuntimeDir. */
export function simRuntimeDir(explicit: string | undefined, env: NodeJS.ProcessEnv): string {
  if (explicit !== undefined && explicit !== '') return explicit;
  if (env['FLTSIM_RUNTIME_DIR']) return env['FLTSIM_RUNTIME_DIR'];
  if (env['XDG_RUNTIME_DIR']) return join(env['XDG_RUNTIME_DIR'], 'fltsim');
  return `/tmp/fltsim-${process.getuid?.() ?? 0}`;
}

async function sim(args: readonly string[], io: CliIo): Promise<number> {
  if (help(args, io)) return EXIT.ok;
  const dashdash = args.indexOf('--');
  const own = dashdash < 0 ? args : args.slice(0, dashdash);
  const passthrough = dashdash < 0 ? [] : args.slice(dashdash + 1);
  const { values, positionals } = parseCommand(own, { 'runtime-dir': { type: 'string' } });
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])} (host options go after --)`);
  const exists = io.exists ?? existsSync;
  const root = io.packageRoot ?? defaultPackageRoot();
  const exe = process.platform === 'win32' ? 'fltsim-host.exe' : 'fltsim-host';
  const candidates = [join(root, 'build', 'Release', exe), join(root, 'build', 'Debug', exe)];
  const host = candidates.find((p) => exists(p));
  if (host === undefined) {
    io.stderr(
      `fltport: fltsim-host is not built (looked for ${candidates.join(', ')}). ` +
        'Build it with `npm run build:native` (Linux; needs a C++17 compiler).\n',
    );
    return EXIT.failure;
  }
  const env = io.env ?? process.env;
  const dir = simRuntimeDir(values['runtime-dir'], env);
  const socket = join(dir, 'fltsim.sock');
  const hostArgs = [...(values['runtime-dir'] === undefined ? [] : ['--runtime-dir', values['runtime-dir']]), ...passthrough];
  const child = (io.spawn ?? ((c, a, o) => nodeSpawn(c, [...a], o)))(host, hostArgs, {
    env: { ...env, FLTSIM_RUNTIME_DIR: dir },
    stdio: 'inherit',
  });
  const exited = new Promise<number>((resolveExit) => {
    child.once('error', (error) => {
      io.stderr(`fltport: cannot run ${host}: ${error.message}\n`);
      resolveExit(EXIT.failure);
    });
    child.once('exit', (code, signal) => resolveExit(code ?? (signal === null ? EXIT.failure : 0)));
  });
  io.stdout(`fltsim-host ${host} (pid ${child.pid ?? '?'})\nsocket: ${socket}\n`);
  io.stdout(`connect with FLTSIM_RUNTIME_DIR=${dir} (or { simRuntimeDir: ${JSON.stringify(dir)} }); stop with Ctrl-C\n`);
  const onAbort = (): void => {
    child.kill('SIGTERM');
  };
  if (io.signal !== undefined) {
    if (io.signal.aborted) onAbort();
    else io.signal.addEventListener('abort', onAbort, { once: true });
  }
  try {
    return await exited;
  } finally {
    io.signal?.removeEventListener('abort', onAbort);
  }
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  const stop = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => stop.abort(new Error(`received ${sig}`)));
  }
  void main(process.argv.slice(2), { signal: stop.signal }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(formatError(error));
      process.exitCode = EXIT.failure;
    },
  );
}
