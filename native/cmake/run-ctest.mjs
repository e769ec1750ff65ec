#!/usr/bin/env node
// Native unit tests: plain CMake (not cmake-js: core and fltsim tests need no N-API) into a
// build directory that is reused, so a second `npm test` only rebuilds what changed.
//
//   node native/cmake/run-ctest.mjs [extra ctest args...]
//   FLTPORT_SANITIZE=address|undefined   sanitizer build, in build/ctest-<sanitizer>
//   FLTPORT_CTEST_JOBS=N                 build/test parallelism (default 2: shared 2-core machines)
//
// ctest writes JUnit XML to <build dir>/ctest-junit.xml; .ci/run counts cases from it.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { ctestTree, root, withTreeLock } from './ctest-tree.mjs';

const sanitize = process.env['FLTPORT_SANITIZE'] ?? '';
if (!['', 'address', 'undefined'].includes(sanitize)) {
  console.error(`FLTPORT_SANITIZE must be address, undefined or empty (got '${sanitize}')`);
  process.exit(2);
}
const jobs = String(Number.parseInt(process.env['FLTPORT_CTEST_JOBS'] ?? '2', 10) || 2);
const tree = ctestTree(sanitize);
const buildDir = tree.dir;
const junit = join(buildDir, 'ctest-junit.xml');

function run(cmd, args) {
  console.log(`$ ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.error) {
    console.error(`${cmd}: ${r.error.message}${r.error.code === 'ENOENT' ? ' (is CMake installed?)' : ''}`);
    process.exit(127);
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
}

withTreeLock(buildDir, () => {
  // Configure every time: it is quick when the cache exists, and picks up edited source lists.
  run('cmake', tree.configureArgs);
  run('cmake', ['--build', buildDir, '--parallel', jobs]);
});
// A stale report from an earlier run must never be counted as this run's.
rmSync(junit, { force: true });
run('ctest', [
  '--test-dir', buildDir,
  '--output-on-failure',
  '--no-tests=error',
  '--parallel', jobs,
  '--output-junit', junit,
  ...process.argv.slice(2),
]);
if (!existsSync(junit)) {
  console.error(`ctest wrote no report at ${junit}`);
  process.exit(1);
}
