#!/usr/bin/env node
// `npm run bench`: runs test/bench/run.ts when it exists. Node 20 cannot run TypeScript by
// itself, so the file is loaded through Vite's module runner (vite comes with vitest), the
// same transform the tests get. `npm run bench -- ARGS` reaches the script as process.argv.
// Without a benchmark there is nothing to measure, and saying so is a failure, not a result.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const entry = join(root, 'test', 'bench', 'run.ts');

if (!existsSync(entry)) {
  console.error('no benchmarks yet (test/bench/run.ts does not exist)');
  process.exit(1);
}

process.argv = [process.argv[0] ?? process.execPath, entry, ...process.argv.slice(2)];
const { runnerImport } = await import('vite');
await runnerImport(entry, { root, configFile: false, logLevel: 'warn' });
