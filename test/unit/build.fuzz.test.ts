// test/fuzz holds together: every fuzz target is built by CMakeLists.txt, has a committed seed
// corpus that test/fuzz/make-corpus.mjs regenerates byte for byte, and CI runs them all
// (native/cmake/run-fuzz.sh as a .ci/run hook) within a small time budget.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fuzzDir = join(root, 'test/fuzz');
const corpusDir = join(fuzzDir, 'corpus');

const targetSources = readdirSync(fuzzDir)
  .filter((f) => f.endsWith('.cc'))
  .map((f) => f.slice(0, -'.cc'.length))
  .sort();
const cmake = readFileSync(join(root, 'CMakeLists.txt'), 'utf8');
// fltport_add_fuzz_target(<name> SOURCES test/fuzz/<file>.cc ...): [name, file] pairs.
const registered = [...cmake.matchAll(/fltport_add_fuzz_target\(\s*(\w+)\s+SOURCES\s+test\/fuzz\/(\w+)\.cc\b/g)]
  .map((m) => [m[1] ?? '', m[2] ?? ''] as const);

describe('test/fuzz', () => {
  it('builds every target source, and nothing else, with fltport_add_fuzz_target', () => {
    expect(targetSources.length).toBeGreaterThan(0);
    for (const [name, file] of registered) expect(file, `fuzz target ${name} is built from test/fuzz/${name}.cc`).toBe(name);
    expect(registered.map(([name]) => name).sort()).toEqual(targetSources);
  });

  it('has a seed corpus for every target and no corpus without a target', () => {
    const corpora = readdirSync(corpusDir).sort();
    expect(corpora).toEqual(targetSources);
    for (const target of corpora) {
      const files = readdirSync(join(corpusDir, target));
      expect(files.filter((f) => f.startsWith('seed-')).length, target).toBeGreaterThan(0);
      // Seeds are generated; crash-* inputs are the ones that once failed, kept as regressions.
      expect(files.filter((f) => !/^(seed|crash)-[a-z0-9-]+$/.test(f)), target).toEqual([]);
    }
  });

  const out = mkdtempSync(join(tmpdir(), 'fltport-corpus-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('make-corpus.mjs writes exactly the committed seeds', () => {
    const r = spawnSync(process.execPath, [join(fuzzDir, 'make-corpus.mjs'), '--out', out], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(targetSources);
    for (const target of targetSources) {
      const committed = readdirSync(join(corpusDir, target)).filter((f) => f.startsWith('seed-')).sort();
      expect(readdirSync(join(out, target)).sort(), target).toEqual(committed);
      for (const seed of committed) {
        expect(readFileSync(join(out, target, seed)).equals(readFileSync(join(corpusDir, target, seed))), `${target}/${seed}`).toBe(true);
      }
    }
  });

  it('runs in CI as a .ci/run hook, within about a minute of fuzzing', () => {
    const ci = readFileSync(join(root, '.ci/run'), 'utf8');
    expect(ci).toMatch(/^\s*"[^"|]+\|native\/cmake\/run-fuzz\.sh"$/m);
    const script = readFileSync(join(root, 'native/cmake/run-fuzz.sh'), 'utf8');
    const seconds = Number(/FLTPORT_FUZZ_SECONDS:-(\d+)/.exec(script)?.[1]);
    const jobs = Number(/FLTPORT_FUZZ_JOBS:-(\d+)/.exec(script)?.[1]);
    expect(seconds * Math.ceil(targetSources.length / jobs)).toBeLessThanOrEqual(60);
  });
});
