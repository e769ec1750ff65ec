// Passed explicitly (`vitest run --config test/vitest.config.ts`): the package's top level is
// fixed by DESIGN.md, so the config lives under test/ and points the root back up.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**', 'build/**'],
    // Native addons own threads and process-wide handles: separate processes, not workers, so
    // one file's crash or leaked handle cannot take another file's results with it.
    pool: 'forks',
    // Shared 2-core machines.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // A run that matched no test file is a broken run, not a green one.
    passWithNoTests: false,
    restoreMocks: true,
    unstubEnvs: true,
  },
});
