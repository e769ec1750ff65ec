// Starts fltsim-host for a test: a private runtime directory, waits for "ready <socket>",
// keeps stderr for diagnostics, stops it with SIGTERM (and checks it went away cleanly).
// Reusable by any suite that needs a simulated Filter Manager (fltsim, posix, napi, contract).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/**
 * The fltsim-host binary: $FLTSIM_HOST, else the newer of node-gyp's build/Release/fltsim-host
 * and the CMake build that `npm test` runs first (build/ctest/fltsim-host) — an old build of
 * one must not shadow a fresh build of the other.
 */
export function simHostBinary(): string {
  const explicit = process.env['FLTSIM_HOST'];
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`FLTSIM_HOST=${explicit} does not exist`);
    return explicit;
  }
  const candidates = [join(root, 'build', 'Release', 'fltsim-host'), join(root, 'build', 'ctest', 'fltsim-host')];
  const found = candidates.filter((p) => existsSync(p)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!found[0]) {
    throw new Error(
      `fltsim-host not built (looked in ${candidates.join(', ')}): run \`npm run test:native\` or \`npm run build:native\``,
    );
  }
  return found[0];
}

export interface SimHostOptions {
  /** fltsim options (--option name=value), e.g. { zero_timeout: 'infinite' }. */
  options?: Record<string, string>;
  logLevel?: 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /** Use this runtime directory instead of a fresh temporary one (it is not removed). */
  runtimeDir?: string;
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
}

export interface SimHostExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class SimHost {
  readonly socketPath: string;
  readonly runtimeDir: string;
  readonly child: ChildProcess;
  readonly #ownsDir: boolean;
  readonly #stderr: string[];
  readonly #exited: Promise<SimHostExit>;

  private constructor(child: ChildProcess, runtimeDir: string, socketPath: string, ownsDir: boolean, stderr: string[], exited: Promise<SimHostExit>) {
    this.child = child;
    this.runtimeDir = runtimeDir;
    this.socketPath = socketPath;
    this.#ownsDir = ownsDir;
    this.#stderr = stderr;
    this.#exited = exited;
  }

  static async start(options: SimHostOptions = {}): Promise<SimHost> {
    const ownsDir = options.runtimeDir === undefined;
    const runtimeDir = options.runtimeDir ?? mkdtempSync(join(tmpdir(), 'fltsim-test-'));
    // Other uids (the access-denied tests) must be able to reach the socket inside.
    if (ownsDir) chmodSync(runtimeDir, 0o755);
    const args = ['--runtime-dir', runtimeDir, '--log-level', options.logLevel ?? 'info'];
    for (const [k, v] of Object.entries(options.options ?? {})) args.push('--option', `${k}=${v}`);
    args.push(...(options.extraArgs ?? []));
    const child = spawn(simHostBinary(), args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FLTSIM_OPTIONS: '', ...options.env },
    });
    const stderr: string[] = [];
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (s: string) => stderr.push(s));
    const exited = new Promise<SimHostExit>((resolveExit) => {
      child.on('exit', (code, signal) => resolveExit({ code, signal }));
    });
    const socketPath = await new Promise<string>((resolveReady, reject) => {
      let out = '';
      const timer = setTimeout(
        () => reject(new Error(`fltsim-host not ready after ${options.readyTimeoutMs ?? 10_000} ms; stderr: ${stderr.join('')}`)),
        options.readyTimeoutMs ?? 10_000,
      );
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (s: string) => {
        out += s;
        const m = /^ready (.+)$/m.exec(out);
        if (m?.[1]) {
          clearTimeout(timer);
          resolveReady(m[1]);
        }
      });
      void exited.then((e) => {
        clearTimeout(timer);
        reject(new Error(`fltsim-host exited (${e.code ?? e.signal}) before ready; stderr: ${stderr.join('')}`));
      });
    });
    return new SimHost(child, runtimeDir, socketPath, ownsDir, stderr, exited);
  }

  /** Everything the host logged so far. */
  stderr(): string {
    return this.#stderr.join('');
  }

  /**
   * Waits until the log matches `pattern`. stderr is a separate pipe: a line the host wrote
   * before answering on the socket may reach us after the answer.
   */
  async waitForLog(pattern: RegExp | string, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.stderr();
      if (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text)) return text;
      if (Date.now() >= deadline) throw new Error(`log never matched ${String(pattern)}; log:\n${text}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  get exited(): Promise<SimHostExit> {
    return this.#exited;
  }

  /** SIGTERM (default) and wait for the exit; removes the runtime directory it created. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<SimHostExit> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const exit = await this.#exited;
    clearTimeout(timer);
    if (this.#ownsDir) rmSync(this.runtimeDir, { recursive: true, force: true });
    return exit;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

export interface SimPeerResult {
  status: number;
  uid: number;
  gid: number;
  pid: number;
  echo?: string;
}

let compiledPeer: string | undefined;

/**
 * Compiles sim-peer.ts (with sim-wire.ts) once with the project's tsc into a directory every
 * uid can read, and returns the path of sim-peer.js.
 */
export function compileSimPeer(): string {
  if (compiledPeer) return compiledPeer;
  const out = mkdtempSync(join(tmpdir(), 'fltsim-peer-'));
  chmodSync(out, 0o755);
  const tsc = join(root, 'node_modules', '.bin', 'tsc');
  const r = spawnSync(
    tsc,
    [
      '--outDir', out, '--rootDir', join(root, 'test', 'helpers'),
      '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
      '--types', 'node', '--skipLibCheck', '--strict', '--ignoreConfig',
      join(root, 'test', 'helpers', 'sim-peer.ts'),
    ],
    { cwd: root, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`tsc failed to compile sim-peer.ts: ${r.stdout}${r.stderr}`);
  // Emitted as ES modules: the directory needs its own package.json to say so.
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  process.once('exit', () => rmSync(out, { recursive: true, force: true }));
  compiledPeer = join(out, 'sim-peer.js');
  return compiledPeer;
}

/** Runs sim-peer.js as uid/gid (root only) and returns what the host answered it. */
export async function runSimPeer(
  identity: { uid: number; gid: number },
  request: { socketPath: string; port: string; context?: string },
): Promise<SimPeerResult> {
  const script = compileSimPeer();
  const child = spawn(process.execPath, [script, JSON.stringify(request)], {
    uid: identity.uid,
    gid: identity.gid,
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: tmpdir(),
  });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (err += s));
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  if (code !== 0) throw new Error(`sim-peer exited with ${code}: ${err}`);
  return JSON.parse(out) as SimPeerResult;
}
