// The package's shape is load-bearing: vitest 5 and node-gyp 13 need Node 22, cmake-js goes
// online without binary.napi_versions, a script named `prebuild` runs before every build, and
// DESIGN.md fixes the top level. Each of those has broken (or would break) this project on
// Node 20 / offline machines, so each is asserted here.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const readJson = (rel: string): Record<string, unknown> => JSON.parse(readFileSync(join(root, rel), 'utf8')) as Record<string, unknown>;

interface PackageJson {
  name: string;
  type: string;
  engines: { node: string };
  gypfile: boolean;
  binary: { napi_versions: number[] };
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  files: string[];
}
const pkg = readJson('package.json') as unknown as PackageJson;

function major(range: string | undefined): number {
  const m = /(\d+)/.exec(range ?? '');
  return m ? Number(m[1]) : Number.NaN;
}

describe('package.json', () => {
  it('is the ESM package fltport for Node >= 20.17', () => {
    expect(pkg.name).toBe('fltport');
    expect(pkg.type).toBe('module');
    expect(pkg.engines.node).toBe('>=20.17');
  });

  it('builds its addon on install with node-gyp-build, N-API 8, offline-capable cmake-js', () => {
    expect(pkg.gypfile).toBe(true);
    expect(pkg.binary).toEqual({ napi_versions: [8] });
    expect(pkg.scripts['install']).toBe('node-gyp-build');
  });

  it('has every script of issue 2, and none named prebuild', () => {
    for (const s of ['build', 'build:native', 'build:ts', 'test', 'prebuilds:linux', 'prebuilds:win32', 'check:win32-imports', 'start', 'bench']) {
      expect(pkg.scripts[s], s).toBeTypeOf('string');
    }
    expect(pkg.scripts).not.toHaveProperty('prebuild');
    expect(pkg.scripts['test']).toMatch(/run-ctest\.mjs.*&&.*vitest run --config test\/vitest\.config\.ts$/);
    expect(pkg.scripts['prebuilds:linux']).toMatch(/prebuildify --napi --strip/);
    // `node-gyp rebuild` would wipe build/, and with it the incremental ctest tree in build/ctest.
    expect(pkg.scripts['build:native']).not.toMatch(/rebuild/);
  });

  it('declares the dependency majors that work on Node 20', () => {
    expect(major(pkg.dependencies['node-addon-api'])).toBe(8);
    expect(major(pkg.dependencies['node-gyp-build'])).toBe(4);
    const dev = pkg.devDependencies;
    expect(major(dev['vitest'])).toBe(4);
    expect(major(dev['node-gyp'])).toBe(12);
    expect(major(dev['cmake-js'])).toBe(8);
    expect(major(dev['prebuildify'])).toBe(6);
    expect(major(dev['@types/node'])).toBe(20);
    expect([5, 7]).toContain(major(dev['typescript']));
    for (const d of ['node-api-headers', 'fast-check', 'expect-type']) expect(dev[d], d).toBeTypeOf('string');
  });

  it('locks versions inside those majors', () => {
    const lock = readJson('package-lock.json') as { packages: Record<string, { version?: string }> };
    const locked = (name: string): number => major(lock.packages[`node_modules/${name}`]?.version);
    expect(locked('vitest')).toBe(4);
    expect(locked('node-gyp')).toBe(12);
    expect(locked('cmake-js')).toBe(8);
    expect(locked('prebuildify')).toBe(6);
    expect(locked('node-addon-api')).toBe(8);
    expect(locked('node-gyp-build')).toBe(4);
    expect(locked('@types/node')).toBe(20);
  });
});

describe('tsconfig.json', () => {
  const ts = readJson('tsconfig.json') as { compilerOptions: Record<string, unknown>; include: string[] };

  it('is strict with the extra checks the codebase relies on', () => {
    expect(ts.compilerOptions).toMatchObject({
      strict: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      verbatimModuleSyntax: true,
    });
  });

  it('emits JavaScript and .d.ts from lib/ to dist/', () => {
    expect(ts.compilerOptions).toMatchObject({ rootDir: 'lib', outDir: 'dist', declaration: true });
    expect(ts.compilerOptions['noEmit']).toBeUndefined();
    expect(ts.include).toEqual(['lib/**/*.ts']);
  });
});

describe('repository layout', () => {
  const gitAvailable = spawnSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: root }).status === 0;

  it.skipIf(!gitAvailable)('tracks nothing at the top level beyond what DESIGN.md lists', () => {
    const tracked = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((p) => p.split('/')[0] ?? p);
    const allowed = new Set([
      'native', 'lib', 'test', 'samples', 'binding.gyp', 'CMakeLists.txt', 'package.json',
      'package-lock.json', 'tsconfig.json', 'README.md', '.ci', '.github', 'docs', '.gitignore', '.gitattributes',
    ]);
    expect([...new Set(tracked)].filter((p) => !allowed.has(p))).toEqual([]);
    for (const required of ['binding.gyp', 'CMakeLists.txt', 'package.json', 'package-lock.json', 'tsconfig.json', 'README.md', '.ci', '.gitignore']) {
      expect(tracked, required).toContain(required);
    }
  });

  it('ignores dependencies and every build output', () => {
    const ignore = readFileSync(join(root, '.gitignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const entry of ['node_modules/', 'build/', 'dist/', 'prebuilds/', 'coverage/', '*.log']) expect(ignore, entry).toContain(entry);
  });

  it('keeps the vitest config under test/ and the CI entry point executable', () => {
    expect(existsSync(join(root, 'test/vitest.config.ts'))).toBe(true);
    expect(existsSync(join(root, 'vitest.config.ts'))).toBe(false);
    // A Windows checkout may have CRLF line ends (GitHub's Windows runners set core.autocrlf;
    // the repository has no .gitattributes). .ci/run only runs on Linux, where LF is required.
    const raw = readFileSync(join(root, '.ci/run'), 'utf8');
    const ci = process.platform === 'win32' ? raw.replaceAll('\r\n', '\n') : raw;
    expect(ci.startsWith('#!/usr/bin/env bash\n')).toBe(true);
    expect(ci).toMatch(/^set -euo pipefail$/m);
  });
});

describe('script helpers', () => {
  it('env.mjs sets npm_config_nodedir=/usr only when Node headers are there, and never overrides', async () => {
    const { buildEnv } = await import('../../native/cmake/env.mjs');
    const headers = existsSync('/usr/include/node/node_api.h');
    expect(buildEnv({ PATH: '/bin' })['npm_config_nodedir']).toBe(headers ? '/usr' : undefined);
    expect(buildEnv({ npm_config_nodedir: '/opt/node' })['npm_config_nodedir']).toBe('/opt/node');
  });

  it('env.mjs passes the exit status of the command through', () => {
    const env = join(root, 'native/cmake/env.mjs');
    expect(spawnSync(process.execPath, [env, process.execPath, '-e', 'process.exit(7)']).status).toBe(7);
    const r = spawnSync(process.execPath, [env, process.execPath, '-p', 'process.env.npm_config_nodedir ?? "unset"'], {
      encoding: 'utf8',
      env: { ...process.env, npm_config_nodedir: '/custom' },
    });
    expect(r.stdout.trim()).toBe('/custom');
    expect(spawnSync(process.execPath, [env]).status).toBe(2);
  });

  it.skipIf(existsSync(join(root, 'test/bench/run.ts')))('npm run bench says there are no benchmarks and fails', () => {
    const r = spawnSync(process.execPath, [join(root, 'native/cmake/bench.mjs')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no benchmarks yet/);
  });
});
