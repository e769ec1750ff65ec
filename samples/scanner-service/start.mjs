#!/usr/bin/env node
// `npm start`: the scanner service against the sample driver.
//
// Linux (and every non-Windows platform): builds fltsim-host with the sample driver and its
// synthetic workload (the CMake target fltsim-host-sample, native/cmake/sample-host.mjs),
// starts it in a private runtime directory with FLTSIM_SAMPLE_WORKLOAD set, compiles the
// service (tsc) and runs it against that host until Ctrl-C or --duration; then stops the host.
// Windows: compiles and runs only the service, against the installed sample driver.
//
//   npm start -- [service options] [--workload count=0,rate=200,seed=1,concurrency=4]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const windows = process.platform === 'win32';

const args = process.argv.slice(2);
let workload = process.env['FLTSIM_SAMPLE_WORKLOAD'] || 'count=0,rate=200,seed=1,concurrency=4';
const at = args.indexOf('--workload');
if (at !== -1) {
  workload = args[at + 1] ?? '';
  args.splice(at, 2);
}

function fail(message) {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

// 1. The service, compiled with the project's TypeScript into build/scanner-service.
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!existsSync(tsc)) fail('TypeScript is not installed: run `npm install` first.');
const built = spawnSync(process.execPath, [tsc, '-p', join(root, 'samples', 'scanner-service', 'tsconfig.json')], { cwd: root, stdio: 'inherit' });
if (built.status !== 0) fail('compiling the scanner service failed.');
const service = join(root, 'build', 'scanner-service', 'samples', 'scanner-service', 'main.js');

// 2. The addon (the compiled lib/ lives under build/scanner-service, so name it explicitly).
function findAddon() {
  const prebuilt = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  const candidates = [join(root, 'build', 'Release', 'fltport.node')];
  if (existsSync(prebuilt)) for (const f of readdirSync(prebuilt)) if (f.endsWith('.node')) candidates.push(join(prebuilt, f));
  return candidates.find((p) => existsSync(p));
}
const addon = process.env['FLTPORT_ADDON_PATH'] || findAddon();
if (!addon) fail('the native addon is not built: run `npm run build:native` (or `npm install`).');
const serviceEnv = { ...process.env, FLTPORT_ADDON_PATH: addon };

function runService(extraArgs, onExit) {
  const child = spawn(process.execPath, [service, ...extraArgs, ...args], { stdio: 'inherit', env: serviceEnv });
  // Ctrl-C reaches the service directly (same process group); it prints its summary and exits.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => onExit(code ?? (signal ? 128 : 1)));
  return child;
}

if (windows) {
  runService([], (code) => process.exit(code));
} else {
  // 3. fltsim-host with the sample driver and the workload, in its own process group so that
  //    Ctrl-C stops the service first (summary), then this script stops the host.
  const { buildSampleHost } = await import(pathToFileURL(join(root, 'native', 'cmake', 'sample-host.mjs')).href);
  let hostPath;
  try {
    hostPath = buildSampleHost({ quiet: false });
  } catch (e) {
    fail(`building fltsim-host-sample failed (needs CMake and a C/C++ compiler):\n${e.message}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'fltport-scanner-'));
  const host = spawn(hostPath, ['--runtime-dir', dir, '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
    env: { ...process.env, FLTSIM_SAMPLE_WORKLOAD: workload },
  });
  const stopHost = () =>
    new Promise((resolveStop) => {
      if (host.exitCode !== null || host.signalCode !== null) return resolveStop();
      host.once('exit', () => resolveStop());
      host.kill('SIGTERM');
      setTimeout(() => host.kill('SIGKILL'), 10_000).unref();
    });
  host.on('error', (e) => fail(`cannot start ${hostPath}: ${e.message}`));
  let out = '';
  const ready = await new Promise((resolveReady) => {
    host.stdout.setEncoding('utf8').on('data', (s) => {
      out += s;
      if (/^ready /m.test(out)) resolveReady(true);
    });
    host.once('exit', () => resolveReady(false));
  });
  if (!ready) fail('fltsim-host exited before it was ready.');
  console.error(`npm start: fltsim-host (sample driver) in ${dir}; workload ${workload || 'off'}`);
  runService(['--sim-runtime-dir', dir], async (code) => {
    await stopHost();
    rmSync(dir, { recursive: true, force: true });
    process.exit(code);
  });
}
