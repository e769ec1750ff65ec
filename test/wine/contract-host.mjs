// The contract suite's `wine` target (test/helpers/contract-target.ts): FLTPORT_CONTRACT_WINE_HOST
// names this module. It runs inside the suite's Windows node.exe under Wine and starts
// fltsim-host-sample.exe (FLTPORT_WINE_SAMPLE_HOST, the CMake target the lane cross-builds)
// as a Windows child process with an instance of its own; the test fltlib.dll next to the
// addon finds that instance through FLTSIM_RUNTIME_DIR, which is set in this process's
// environment (read at every connect), so connect options stay empty as on Windows.
import { spawn } from 'node:child_process';

import { FltsimControl } from './fltsim-control.mjs';

let started = 0;

export async function startContractHost() {
  const exe = process.env.FLTPORT_WINE_SAMPLE_HOST;
  if (!exe) throw new Error('FLTPORT_WINE_SAMPLE_HOST (the Windows fltsim-host-sample.exe) is not set');
  started += 1;
  const instance = `contract-${process.pid}-${started}`;
  const child = spawn(exe, ['--instance', instance, '--log-level', process.env.FLTSIM_LOG_LEVEL || 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FLTSIM_RUNTIME_DIR: instance },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fltsim-host-sample.exe not ready after 60 s; stderr:\n${stderr}`)), 60_000);
    child.stdout.on('data', () => {
      if (/^ready /m.test(stdout)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`fltsim-host-sample.exe exited (${code ?? signal}) before it was ready; stderr:\n${stderr}`));
    });
  });
  await ready;
  process.env.FLTSIM_RUNTIME_DIR = instance;
  return {
    connectOptions: {},
    mailslotOptions: {},
    log: () => stderr,
    async stop() {
      // Politely (host.exit: DisconnectNotify for every connection, then unload), then for sure.
      try {
        const control = await FltsimControl.open({ address: `\\\\.\\pipe\\fltsim-${instance}`, timeoutMs: 5000 });
        await control.call('host.exit', {}, { timeoutMs: 5000 }).catch(() => {});
        control.close();
      } catch {
        // already gone
      }
      const timer = setTimeout(() => child.kill(), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
