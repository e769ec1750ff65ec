// The contract suite's targets. FLTPORT_CONTRACT_TARGET picks one:
//   fltsim  (default off Windows) fltsim-host running the SAMPLE driver's communication code
//           with FPS_TEST_CONTROL (CMake target fltsim-host-sample, built when out of date)
//   driver  (default on Windows)  the installed sample minifilter (Debug build: test control)
//   wine    the Windows addon under Wine against a Windows build of fltsim with the sample;
//           FLTPORT_CONTRACT_WINE_HOST names a module whose `startContractHost()` returns a
//           ContractHost (how to start that host is the Wine lane's business).
// Every case talks to the target only through fltport's public API and the driver's control
// port; target-specific cases check `name` and are skipped elsewhere with the reason printed.
export type ContractTargetName = 'fltsim' | 'driver' | 'wine';

/** What a target adapter provides: options every call needs, and how to stop it. */
export interface ContractHost {
  /** Spread into every connect() (fltsim: simRuntimeDir). */
  connectOptions: { simRuntimeDir?: string };
  /** Spread into Mailslot.create/write. */
  mailslotOptions: { simRuntimeDir?: string };
  /** fltsim only: the host's socket (for SimControl). */
  socketPath?: string;
  /** fltsim only: the host's log so far, for failure messages. */
  log?: () => string;
  stop(): Promise<void>;
}

export interface ContractTarget extends ContractHost {
  name: ContractTargetName;
}

export function contractTargetName(): ContractTargetName {
  const env = process.env['FLTPORT_CONTRACT_TARGET'];
  if (env === undefined || env === '') return process.platform === 'win32' ? 'driver' : 'fltsim';
  if (env === 'fltsim' || env === 'driver' || env === 'wine') return env;
  throw new Error(`FLTPORT_CONTRACT_TARGET=${env}: expected fltsim, driver or wine`);
}

export async function startContractTarget(): Promise<ContractTarget> {
  const name = contractTargetName();
  if (name === 'fltsim') {
    const { startFltsimSample } = await import('./contract-fltsim.js');
    return { name, ...(await startFltsimSample()) };
  }
  if (name === 'driver') {
    // Nothing to start: the sample is installed and loaded (samples/minifilter/README.md).
    return {
      name,
      connectOptions: {},
      mailslotOptions: {},
      stop: async () => {},
    };
  }
  const modulePath = process.env['FLTPORT_CONTRACT_WINE_HOST'];
  if (!modulePath) throw new Error('FLTPORT_CONTRACT_TARGET=wine needs FLTPORT_CONTRACT_WINE_HOST (a module exporting startContractHost())');
  const { pathToFileURL } = await import('node:url');
  const mod = (await import(pathToFileURL(modulePath).href)) as { startContractHost(): Promise<ContractHost> };
  return { name, ...(await mod.startContractHost()) };
}

/** The title of a case a target cannot express: the reason is part of the printed name. */
export function only(target: ContractTargetName, names: readonly ContractTargetName[], reason: string): [boolean, string] {
  return [!names.includes(target), names.includes(target) ? '' : ` [skipped on ${target}: ${reason}]`];
}
