#!/usr/bin/env node
// Runs a build tool (node-gyp, prebuildify, cmake-js) with npm_config_nodedir=/usr when this
// machine has Node's headers in /usr/include/node (Debian's nodejs packages): node-gyp and
// prebuildify otherwise try to download headers, which fails on machines without internet.
// A nodedir the caller already chose is left alone. Usage: node native/cmake/env.mjs CMD [ARGS...]
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export function buildEnv(base = process.env) {
  const env = { ...base };
  if (!env['npm_config_nodedir'] && existsSync('/usr/include/node/node_api.h')) {
    env['npm_config_nodedir'] = '/usr';
  }
  return env;
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  const [cmd, ...args] = process.argv.slice(2);
  if (!cmd) {
    console.error('usage: node native/cmake/env.mjs COMMAND [ARGS...]');
    process.exit(2);
  }
  // npm puts node_modules/.bin on PATH for scripts; on Windows those are .cmd shims.
  const r = spawnSync(cmd, args, {
    stdio: 'inherit',
    env: buildEnv(),
    shell: process.platform === 'win32',
  });
  if (r.error) {
    console.error(`${cmd}: ${r.error.message}`);
    process.exit(127);
  }
  process.exit(r.status ?? 1);
}
