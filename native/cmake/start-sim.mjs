#!/usr/bin/env node
// `npm start`: runs the simulated Filter Manager so that a Node service can connect to it on
// Linux. Until the CLI exists this starts build/Release/fltsim-host directly; once dist/cli.js
// is built, `npm start` hands over to `node dist/cli.js sim` (host plus listener).
// Extra arguments (`npm start -- ARGS`) are passed through.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);

// Same order as native/posix/RuntimeDir: FLTSIM_RUNTIME_DIR, $XDG_RUNTIME_DIR/fltsim, /tmp/fltsim-<uid>.
function runtimeDir() {
  const env = process.env;
  if (env['FLTSIM_RUNTIME_DIR']) return env['FLTSIM_RUNTIME_DIR'];
  if (env['XDG_RUNTIME_DIR']) return join(env['XDG_RUNTIME_DIR'], 'fltsim');
  return `/tmp/fltsim-${process.getuid?.() ?? 0}`;
}

function run(cmd, cmdArgs, env = process.env) {
  const child = spawn(cmd, cmdArgs, { stdio: 'inherit', env });
  // Forward Ctrl-C / kill so the host can close its ports and remove its socket.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('error', (e) => {
    console.error(`npm start: cannot run ${cmd}: ${e.message}`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}

const cli = join(root, 'dist', 'cli.js');
const host = join(root, 'build', 'Release', process.platform === 'win32' ? 'fltsim-host.exe' : 'fltsim-host');

if (existsSync(cli)) {
  run(process.execPath, [cli, 'sim', ...args]);
} else if (process.platform === 'win32') {
  console.error(
    'npm start: on Windows fltport talks to the real Filter Manager; there is no simulator to start.\n' +
      'Load the sample minifilter (samples/minifilter/README.md) and connect to its port.',
  );
  process.exit(1);
} else if (existsSync(host)) {
  const dir = runtimeDir();
  console.log(`fltsim-host: starting ${host}`);
  console.log(`fltsim-host: runtime directory ${dir} (socket ${join(dir, 'fltsim.sock')})`);
  console.log('Connect from Node in another shell with the same environment, e.g.:');
  console.log(`  FLTSIM_RUNTIME_DIR=${dir} node -e "import('fltport').then(async (f) => { /* f.connect(...) */ })"`);
  console.log('Stop with Ctrl-C.');
  run(host, args, { ...process.env, FLTSIM_RUNTIME_DIR: dir });
} else {
  console.error(
    `npm start: ${host} is not built.\n` +
      'It is built by `npm install` / `npm run build:native` once the simulator sources are listed in binding.gyp.',
  );
  process.exit(1);
}
