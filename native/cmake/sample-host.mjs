#!/usr/bin/env node
// fltsim-host-sample, the CMake target (CMakeLists.txt, docs/contract.md), for Linux callers:
// the contract suite (target fltsim), `npm start`, and anyone by hand. It is built in the
// ctest tree (build/ctest: `npm test` builds it with everything else), which is configured
// as run-ctest.mjs does when it never was; CMake itself decides what is out of date. The
// Wine lane builds the same target in its mingw-w64 tree (run-wine-lane.sh).
//
//   node native/cmake/sample-host.mjs [--quiet]   → builds if needed, prints the path
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { ctestTree, runTool, withTreeLock } from './ctest-tree.mjs';

const tree = ctestTree();
export const sampleHostPath = join(tree.dir, 'fltsim-host-sample');

/** Builds fltsim-host-sample when it is missing or out of date; returns its path. */
export function buildSampleHost({ quiet = true } = {}) {
  withTreeLock(tree.dir, () => {
    if (!existsSync(join(tree.dir, 'CMakeCache.txt'))) runTool('cmake', tree.configureArgs, { quiet });
    runTool('cmake', ['--build', tree.dir, '--target', 'fltsim-host-sample', '--parallel', process.env['FLTPORT_CTEST_JOBS'] || '2'], { quiet });
  });
  return sampleHostPath;
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  try {
    console.log(buildSampleHost({ quiet: process.argv.includes('--quiet') }));
  } catch (e) {
    console.error(`sample-host: ${e.message}`);
    process.exit(1);
  }
}
