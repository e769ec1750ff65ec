// Runs a fixture under test/lifecycle/fixtures/ in a forked child and reports how it ended:
// exit code or signal, stdout/stderr, the RESULT lines it printed, how long it took, and
// whether it had to be killed for overrunning its bound (a process that should have exited by
// itself but was kept alive).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  results: unknown[];
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

export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

export function runFixture(name: string, options: ChildOptions = {}): Promise<ChildOutcome> {
  const started = performance.now();
  const child = fork(fixturePath(name), options.args ?? [], {
    execArgv: options.execArgv ?? [],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 15_000);
  return new Promise((resolve, reject) => {
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // 'exit' can precede the last 'data' events; 'close' follows both.
      child.on('close', () => {
        const results = stdout
          .split('\n')
          .filter((l) => l.startsWith('RESULT '))
          .map((l) => JSON.parse(l.slice('RESULT '.length)) as unknown);
        resolve({
          code,
          signal,
          stdout,
          stderr,
          results,
          elapsedMs: performance.now() - started,
          timedOut,
        });
      });
    });
  });
}
