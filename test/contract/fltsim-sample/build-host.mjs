#!/usr/bin/env node
// Builds build/contract/fltsim-host-sample: fltsim-host with the SAMPLE minifilter linked in
// (samples/minifilter/filter/{communication,testcontrol,mailslot,fltsimentry}.c, FPS_TEST_CONTROL
// on) instead of the built-in test driver. Used by the contract suite (target fltsim) and by
// `npm start` (the scanner service's simulated driver).
//
// The simulator's own objects come from node-gyp's build (build/Release/obj.target/fltsim-host,
// made by `npm install`/`npm run build:native`); an object that is missing or older than its
// source is compiled here. The sample's files need kernel routines fltsim does not provide yet:
// kernel-gaps.c supplies them, declared by Part A of samples/minifilter/check/fltKernelExtra.h
// (probed against fltsim's header first, as native/cmake/check-driver-syntax.sh does).
//
// Usage: node test/contract/fltsim-sample/build-host.mjs [--force] [--quiet]  → prints the path.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const here = join(root, 'test', 'contract', 'fltsim-sample');
const sample = join(root, 'samples', 'minifilter');
const extra = join(sample, 'check', 'fltKernelExtra.h');
const fltsimInc = join(root, 'native', 'fltsim', 'include');
const out = join(root, 'build', 'contract');
export const sampleHostPath = join(out, 'fltsim-host-sample');

const SHARED = ['communication.c', 'testcontrol.c', 'mailslot.c', 'fltsimentry.c'];
// The scanner service's synthetic workload (samples/scanner-service/sim): a C generator that
// calls the sample's FpsSendScanRequest, and its control verbs.
const workloadDir = join(root, 'samples', 'scanner-service', 'sim');

function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`build-host: ${what} failed (${cmd} ${args.join(' ')}):\n${r.stdout ?? ''}${r.stderr ?? r.error?.message ?? ''}`);
  }
}

const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);

/** fltsim-host's sources as binding.gyp lists them, minus the built-in test driver. */
function fltsimSources() {
  const gyp = readFileSync(join(root, 'binding.gyp'), 'utf8');
  const m = /'fltsim_sources':\s*\[([^\]]*)\]/.exec(gyp);
  if (!m) throw new Error('build-host: binding.gyp has no fltsim_sources list');
  return [...m[1].matchAll(/'([^']+\.cc)'/g)].map((x) => x[1]).filter((s) => !s.includes('/drivers/testdriver/'));
}

/** -DFPSX_HAVE_<name>=1 for every Part A declaration fltsim's header already has. */
function probeDefines(work) {
  const text = readFileSync(extra, 'utf8');
  const partA = text.slice(0, text.indexOf('Part B - kernel only'));
  const defines = [];
  for (const m of partA.matchAll(/probe: (type|expr) ([A-Za-z_0-9]+)(?! \(not-a-gap\))/g)) {
    const [, kind, name] = m;
    const file = join(work, `probe_${name}.c`);
    writeFileSync(file, `#include <fltKernel.h>\n${kind === 'type' ? `typedef ${name} fpsx_probe_t;` : `void fpsx_probe(void) { (void)(${name}); }`}\n`);
    const r = spawnSync('gcc', ['-std=c11', '-fshort-wchar', '-fsyntax-only', '-Wno-unused-value', '-I', fltsimInc, file], { encoding: 'utf8' });
    if (r.status === 0) defines.push(`-DFPSX_HAVE_${name}=1`);
  }
  return defines;
}

const GAP_SYMBOLS = ['InterlockedIncrement', 'InterlockedDecrement', 'InterlockedExchange', 'InterlockedIncrement64',
  'InterlockedExchange64', 'InterlockedCompareExchange64', 'ObfReferenceObject', 'PsCreateSystemThread', 'RtlUTF8ToUnicodeN'];

/** -DFPSX_ENGINE_HAS_<name> for each gap routine fltsim's objects already define (nm). */
function engineSymbols(objects) {
  const r = spawnSync('nm', ['-g', '--defined-only', ...objects], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`build-host: nm failed: ${r.stderr}`);
  const defined = new Set(r.stdout.split('\n').map((l) => l.trim().split(/\s+/)[2]).filter(Boolean));
  return GAP_SYMBOLS.filter((n) => defined.has(n)).map((n) => `-DFPSX_ENGINE_HAS_${n}=1`);
}

/** Every header under native/fltsim and native/core (what the host's objects depend on). */
function listHeaders() {
  const found = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (/\.(h|hpp)$/.test(entry.name)) found.push(p);
    }
  };
  walk(join(root, 'native', 'fltsim'));
  walk(join(root, 'native', 'core'));
  return found;
}

export function buildSampleHost({ force = false, quiet = true } = {}) {
  const log = (s) => quiet || console.error(s);
  const sources = fltsimSources();
  const objDir = join(out, 'obj');
  const gypObj = join(root, 'build', 'Release', 'obj.target', 'fltsim-host');
  const inputs = [
    ...SHARED.map((f) => join(sample, 'filter', f)),
    join(sample, 'filter', 'fps.h'),
    join(sample, 'inc', 'fltport_sample.h'),
    extra,
    join(fltsimInc, 'fltKernel.h'),
    join(here, 'kernel-gaps.c'),
    join(here, 'build-host.mjs'),
    join(workloadDir, 'workload.c'),
    join(workloadDir, 'workload.h'),
    join(workloadDir, 'workload-verbs.cc'),
  ];
  // An object is reused when it is newer than its source and every fltsim header (headers are
  // not tracked one by one): node-gyp's first, else one compiled here earlier.
  const headers = Math.max(...listHeaders().map(mtime));
  const objects = sources.map((src) => {
    const since = Math.max(mtime(join(root, src)), headers);
    const gyp = join(gypObj, src.replace(/\.cc$/, '.o'));
    if (mtime(gyp) >= since) return { src, obj: gyp, fresh: true };
    const own = join(objDir, src.replace(/\.cc$/, '.o'));
    return { src, obj: own, fresh: mtime(own) >= since };
  });
  const newest = Math.max(...inputs.map(mtime), ...objects.map((o) => mtime(o.obj)));
  if (!force && mtime(sampleHostPath) > newest && objects.every((o) => o.fresh)) return sampleHostPath;

  // One builder at a time (vitest runs contract files in parallel): the others wait, then
  // find the host fresh.
  mkdirSync(out, { recursive: true });
  const lock = join(out, '.build-lock');
  try {
    mkdirSync(lock);
  } catch {
    // A build takes seconds (~15 s when every fltsim object is compiled here); a lock older
    // than a minute was left by a killed builder.
    const stale = 60_000;
    while (existsSync(lock) && Date.now() - mtime(lock) < stale) sleep(200);
    if (existsSync(lock)) rmSync(lock, { recursive: true, force: true });
    return buildSampleHost({ force: false, quiet });
  }
  try {
    return buildLocked({ objects, quiet, log });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function buildLocked({ objects, log }) {
  const work = join(out, `work-${process.pid}`);
  mkdirSync(join(work, 'wrap'), { recursive: true });
  log('build-host: probing fltsim header');
  const defines = probeDefines(work);
  writeFileSync(
    join(work, 'wrap', 'fltKernel.h'),
    [
      '#include_next <fltKernel.h>',
      '#define FPSX_SHARED_ONLY 1',
      `#include "${extra}"`,
      'NTSTATUS NTAPI FpsxSimZwClose(HANDLE Handle);',
      '#define ZwClose FpsxSimZwClose',
      '',
    ].join('\n'),
  );
  for (const o of objects.filter((x) => !x.fresh)) {
    mkdirSync(dirname(o.obj), { recursive: true });
    log(`build-host: g++ ${o.src}`);
    run('g++', ['-std=gnu++17', '-O1', '-g', '-pthread', '-I', join(root, 'native', 'core'), '-I', fltsimInc, '-c', join(root, o.src), '-o', o.obj], `compiling ${o.src}`);
  }
  const engineHas = engineSymbols(objects.map((o) => o.obj));
  const cflags = ['-fshort-wchar', ...engineHas, '-Wno-multichar', '-Wno-unknown-pragmas', '-O1', '-g', '-DFPS_TEST_CONTROL=1', ...defines,
    '-isystem', join(work, 'wrap'), '-isystem', fltsimInc, '-I', join(sample, 'inc'), '-I', join(sample, 'filter')];
  const cObjects = [];
  for (const f of SHARED) {
    const obj = join(work, f.replace(/\.c$/, '.o'));
    log(`build-host: gcc ${f}`);
    run('gcc', ['-std=c11', ...cflags, '-c', join(sample, 'filter', f), '-o', obj], `compiling ${f}`);
    cObjects.push(obj);
  }
  const gapsObj = join(work, 'kernel-gaps.o');
  run('gcc', ['-std=gnu11', ...cflags, '-c', join(here, 'kernel-gaps.c'), '-o', gapsObj], 'compiling kernel-gaps.c');
  const wlObj = join(work, 'workload.o');
  run('gcc', ['-std=gnu11', ...cflags, '-I', workloadDir, '-c', join(workloadDir, 'workload.c'), '-o', wlObj], 'compiling workload.c');
  const verbsObj = join(work, 'workload-verbs.o');
  run('g++', ['-std=gnu++17', '-O1', '-g', '-I', join(root, 'native', 'core'), '-I', join(root, 'native', 'fltsim', 'host'), '-I', workloadDir, '-c', join(workloadDir, 'workload-verbs.cc'), '-o', verbsObj], 'compiling workload-verbs.cc');
  const tmp = `${sampleHostPath}.${process.pid}`;
  run('g++', ['-pthread', '-Wl,--wrap=FltsimDriverEntry,--wrap=FltsimSetFilterUnloadCallback', '-o', tmp, ...objects.map((o) => o.obj), ...cObjects, gapsObj, wlObj, verbsObj], 'linking fltsim-host-sample');
  renameSync(tmp, sampleHostPath);
  rmSync(work, { recursive: true, force: true });
  return sampleHostPath;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  console.log(buildSampleHost({ force: args.includes('--force'), quiet: args.includes('--quiet') }));
}
