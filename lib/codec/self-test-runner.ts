// Runs the layout self-test through a mingw-w64 compiler. Node-only (child_process), so it is
// not re-exported from the codec entry point.
import { spawnSync } from 'node:child_process';
import type { Target } from './gen.js';

export const mingwCompilers: Record<Target, string | undefined> = {
  x64: 'x86_64-w64-mingw32-gcc',
  x86: 'i686-w64-mingw32-gcc',
  // mingw-w64 on Debian has no aarch64 C compiler; arm64 layout equals x64 for these types.
  arm64: undefined,
};

export interface CompileResult {
  ok: boolean;
  /** false when the compiler binary could not be started at all. */
  ran: boolean;
  output: string;
}

export function compilerAvailable(target: Target): boolean {
  const compiler = mingwCompilers[target];
  if (compiler === undefined) return false;
  const probe = spawnSync(compiler, ['--version'], { encoding: 'utf8' });
  return probe.status === 0;
}

/** Syntax-checks C source for the target; the static asserts are evaluated at that stage. */
export function compileLayoutTest(source: string, target: Target, includeDirs: readonly string[] = []): CompileResult {
  const compiler = mingwCompilers[target];
  if (compiler === undefined) return { ok: false, ran: false, output: `no compiler configured for ${target}` };
  const args = ['-x', 'c', '-std=c11', '-fsyntax-only', ...includeDirs.flatMap((d) => ['-I', d]), '-'];
  const result = spawnSync(compiler, args, { input: source, encoding: 'utf8', timeout: 60_000 });
  if (result.error !== undefined) return { ok: false, ran: false, output: String(result.error) };
  return { ok: result.status === 0, ran: true, output: `${result.stdout}${result.stderr}` };
}
