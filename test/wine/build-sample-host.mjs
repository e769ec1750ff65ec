#!/usr/bin/env node
// Builds fltsim-host-sample.exe for the contract suite under Wine (docs/wine-lane.md): the
// Windows fltsim-host (libfltsim_win32_core.a from the lane's CMake build: engine, sessions,
// transports, the FltMgrMsg device, main_win32.cc) with the SAMPLE minifilter linked in
// instead of the built-in test driver — what test/contract/fltsim-sample/build-host.mjs does
// for the Linux host, with mingw-w64. The same recipe: the sample's shared files with
// FPS_TEST_CONTROL, fltKernelExtra.h's Part A declarations that fltsim's header lacks (probed),
// kernel-gaps.c for the routines fltsim does not provide (minus those the engine defines),
// plus win64-gaps.c for what only a Windows build of the sample calls.
//
//   node test/wine/build-sample-host.mjs CORE_LIB OUT_EXE
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const sample = join(root, 'samples', 'minifilter');
const extra = join(sample, 'check', 'fltKernelExtra.h');
const fltsimInc = join(root, 'native', 'fltsim', 'include');
const gaps = join(root, 'test', 'contract', 'fltsim-sample', 'kernel-gaps.c');
const SHARED = ['communication.c', 'testcontrol.c', 'mailslot.c', 'fltsimentry.c'];
const GAP_SYMBOLS = ['InterlockedIncrement', 'InterlockedDecrement', 'InterlockedExchange', 'InterlockedIncrement64',
  'InterlockedExchange64', 'InterlockedCompareExchange64', 'ObfReferenceObject', 'PsCreateSystemThread', 'RtlUTF8ToUnicodeN'];
const CC = 'x86_64-w64-mingw32-gcc-posix';
const CXX = 'x86_64-w64-mingw32-g++-posix';
const NM = 'x86_64-w64-mingw32-nm';

const [coreLib, outExe] = process.argv.slice(2);
if (!coreLib || !outExe) {
  console.error('usage: build-sample-host.mjs CORE_LIB OUT_EXE');
  process.exit(2);
}

function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    console.error(`build-sample-host: ${what} failed (${cmd} ${args.join(' ')}):\n${r.stdout ?? ''}${r.stderr ?? r.error?.message ?? ''}`);
    process.exit(1);
  }
  return r.stdout;
}

const work = join(dirname(resolve(outExe)), 'sample-host-work');
rmSync(work, { recursive: true, force: true });
mkdirSync(join(work, 'wrap'), { recursive: true });

// -DFPSX_HAVE_<name>=1 for every Part A declaration fltsim's header already has (the same
// probes as build-host.mjs, with the cross compiler).
const text = readFileSync(extra, 'utf8');
const partA = text.slice(0, text.indexOf('Part B - kernel only'));
const defines = [];
for (const m of partA.matchAll(/probe: (type|expr) ([A-Za-z_0-9]+)(?! \(not-a-gap\))/g)) {
  const [, kind, name] = m;
  const file = join(work, `probe_${name}.c`);
  writeFileSync(file, `#include <fltKernel.h>\n${kind === 'type' ? `typedef ${name} fpsx_probe_t;` : `void fpsx_probe(void) { (void)(${name}); }`}\n`);
  const r = spawnSync(CC, ['-std=c11', '-fsyntax-only', '-Wno-unused-value', '-I', fltsimInc, file], { encoding: 'utf8' });
  if (r.status === 0) defines.push(`-DFPSX_HAVE_${name}=1`);
}

// -DFPSX_ENGINE_HAS_<name>=1 for each gap routine the engine's objects already define.
const defined = new Set(run(NM, ['-g', '--defined-only', coreLib], 'nm').split('\n').map((l) => l.trim().split(/\s+/)[2]).filter(Boolean));
const engineHas = GAP_SYMBOLS.filter((n) => defined.has(n)).map((n) => `-DFPSX_ENGINE_HAS_${n}=1`);

writeFileSync(
  join(work, 'wrap', 'fltKernel.h'),
  ['#include_next <fltKernel.h>', '#define FPSX_SHARED_ONLY 1', `#include "${extra}"`,
    'NTSTATUS NTAPI FpsxSimZwClose(HANDLE Handle);', '#define ZwClose FpsxSimZwClose', ''].join('\n'),
);
const cflags = [...engineHas, '-Wno-multichar', '-Wno-unknown-pragmas', '-O1', '-DFPS_TEST_CONTROL=1', ...defines,
  '-isystem', join(work, 'wrap'), '-isystem', fltsimInc, '-I', join(sample, 'inc'), '-I', join(sample, 'filter')];
const objects = [];
for (const f of SHARED) {
  const obj = join(work, f.replace(/\.c$/, '.o'));
  run(CC, ['-std=c11', ...cflags, '-c', join(sample, 'filter', f), '-o', obj], `compiling ${f}`);
  objects.push(obj);
}
const gapsObj = join(work, 'kernel-gaps.o');
run(CC, ['-std=gnu11', ...cflags, '-c', gaps, '-o', gapsObj], 'compiling kernel-gaps.c');
objects.push(gapsObj);
const win64Obj = join(work, 'win64-gaps.o');
run(CC, ['-std=c11', '-Wall', '-Wextra', '-I', fltsimInc, '-c', join(root, 'test', 'wine', 'win64-gaps.c'), '-o', win64Obj], 'compiling win64-gaps.c');
objects.push(win64Obj);
// The driver's objects first: the library's HostedFilter refers to FltsimDriverEntry.
run(CXX, ['-o', outExe, ...objects, coreLib, '-static', '-static-libgcc', '-static-libstdc++'], 'linking');
rmSync(work, { recursive: true, force: true });
console.log(outExe);
