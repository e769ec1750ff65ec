// The CMake tree of the native unit tests (build/ctest, build/ctest-<sanitizer>): how it is
// configured and who may build in it. run-ctest.mjs (`npm test`) configures and builds all of
// it; sample-host.mjs builds fltsim-host-sample there for the contract suite and `npm start`.
// Two builds in one tree at once corrupt it (vitest runs contract files in parallel), so every
// build takes the tree's lock.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The tree for `sanitize` ('' | 'address' | 'undefined') and the cmake arguments that configure it. */
export function ctestTree(sanitize = '') {
  const dir = join(root, 'build', sanitize ? `ctest-${sanitize}` : 'ctest');
  return {
    dir,
    configureArgs: ['-S', root, '-B', dir, '-DCMAKE_BUILD_TYPE=Debug', `-DFLTPORT_SANITIZE=${sanitize}`, '-DFLTPORT_BUILD_TESTS=ON'],
  };
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Runs `fn` (synchronously) holding `<dir>/.build-lock`; waits while another live process
 * holds it. A lock whose owner died (a killed build) is taken over; one without an owner yet is
 * given a few seconds to get one.
 */
export function withTreeLock(dir, fn) {
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, '.build-lock');
  const owner = join(lock, 'pid');
  const started = Date.now();
  let announced = false;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(owner, String(process.pid));
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    let pid = 0;
    let since = Date.now();
    try {
      pid = Number(readFileSync(owner, 'utf8'));
    } catch {
      try {
        since = statSync(lock).mtimeMs;
      } catch {
        continue; // released meanwhile
      }
    }
    if (pid > 0 ? !alive(pid) : Date.now() - since > 5000) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    // Short waits (another test file's no-op build) are not worth a line.
    if (!announced && pid > 0 && Date.now() - started > 2000) {
      console.error(`waiting for the build in ${dir} (process ${pid})`);
      announced = true;
    }
    sleep(200);
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Runs a build tool; throws with its output (when captured) if it fails. */
export function runTool(cmd, args, { quiet = false } = {}) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: quiet ? 'pipe' : ['ignore', 2, 2], maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}${r.error.code === 'ENOENT' ? ' (is CMake installed?)' : ''}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status})${quiet ? `:\n${r.stdout}${r.stderr}` : ''}`);
}
