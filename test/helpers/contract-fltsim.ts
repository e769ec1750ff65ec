// Target `fltsim` of the contract suite: fltsim-host with the sample driver linked in (the
// CMake target fltsim-host-sample, built by native/cmake/sample-host.mjs when out of date), in
// a private runtime directory.
import { buildSampleHost } from '../../native/cmake/sample-host.mjs';
import type { ContractHost } from './contract-target.js';
import { SimHost, type SimHostOptions } from './sim-host.js';

export async function startFltsimSample(options: SimHostOptions = {}): Promise<ContractHost & { host: SimHost }> {
  const binary = buildSampleHost();
  const previous = process.env['FLTSIM_HOST'];
  process.env['FLTSIM_HOST'] = binary;
  let host: SimHost;
  try {
    host = await SimHost.start({ logLevel: 'warn', ...options });
  } finally {
    if (previous === undefined) delete process.env['FLTSIM_HOST'];
    else process.env['FLTSIM_HOST'] = previous;
  }
  return {
    host,
    connectOptions: { simRuntimeDir: host.runtimeDir },
    mailslotOptions: { simRuntimeDir: host.runtimeDir },
    socketPath: host.socketPath,
    log: () => host.stderr(),
    stop: async () => {
      await host.stop();
    },
  };
}
