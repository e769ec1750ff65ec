// Runs a fixture under test/lifecycle/fixtures/ in a child process (spawned, not forked: an
// IPC channel would change what keeps the child's event loop alive, which is what these
// tests measure) and reports how it ended: exit code or signal, output, the RESULT lines it
// printed, how long it took, and whether it had to be killed for overrunning its bound.
// The parent can wait for a RESULT while the child runs, and write command lines to its stdin.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  results: Record<string, unknown>[];
  elapsedMs: number;
  timedOut: boolean;
}

export interface ChildOptions {
  args?: string[];
  env?: Record<string, string>;
  execArgv?: string[];
  /** Kill the child (SIGKILL) if it has not exited after this long. */
  timeoutMs?: number;
}

export interface RunningChild {
  readonly pid: number;
  readonly results: Record<string, unknown>[];
  /** Resolves with the first RESULT (past or future) for which `predicate` holds. */
  result(predicate: (r: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Writes one command line to the child's stdin. */
  command(line: string): void;
  /** Whether the child is still running. */
  alive(): boolean;
  readonly exited: Promise<ChildOutcome>;
}

export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

export function startFixture(name: string, options: ChildOptions = {}): RunningChild {
  const started = performance.now();
  const child = spawn(process.execPath, [...(options.execArgv ?? []), fixturePath(name), ...(options.args ?? [])], {
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let partial = '';
  const results: Record<string, unknown>[] = [];
  const listeners: (() => void)[] = [];
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    partial += d;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      if (l.startsWith('RESULT ')) results.push(JSON.parse(l.slice('RESULT '.length)) as Record<string, unknown>);
    }
    for (const f of listeners.splice(0)) f();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let timedOut = false;
  let running = true;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 15_000);
  const exited = new Promise<ChildOutcome>((resolve, reject) => {
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running = false;
      for (const f of listeners.splice(0)) f();
      resolve({ code, signal, stdout, stderr, results, elapsedMs: performance.now() - started, timedOut });
    });
  });
  return {
    pid: child.pid ?? -1,
    results,
    exited,
    alive: () => running,
    command: (line) => {
      child.stdin.write(`${line}\n`);
    },
    result: (predicate, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no matching RESULT from ${name}; stderr: ${stderr}`)), timeoutMs);
        const check = (): void => {
          const hit = results.find(predicate);
          if (hit) {
            clearTimeout(t);
            resolve(hit);
          } else if (!running) {
            clearTimeout(t);
            reject(new Error(`${name} exited without a matching RESULT; stderr: ${stderr}`));
          } else {
            listeners.push(check);
          }
        };
        check();
      }),
  };
}

/** Runs a fixture to its end. */
export function runFixture(name: string, options: ChildOptions = {}): Promise<ChildOutcome> {
  return startFixture(name, options).exited;
}
