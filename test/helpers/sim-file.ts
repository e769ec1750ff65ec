// One fltsim-host and one control session for a test file (or a describe block): started
// before its tests, stopped after them, and the host must then exit cleanly (status 0, no
// signal: a crash or a hang in the simulator fails the file even when every test passed).
import { afterAll, beforeAll, expect } from 'vitest';

import { SimControl } from './sim-control.js';
import { SimHost, type SimHostOptions } from './sim-host.js';

/** Registers the hooks; `ready` receives the host and its control session once both are up. */
export function useSimHost(ready: (host: SimHost, ctl: SimControl) => void | Promise<void>, options: SimHostOptions = {}): void {
  let host: SimHost | undefined;
  let ctl: SimControl | undefined;
  beforeAll(async () => {
    host = await SimHost.start(options);
    ctl = await SimControl.open(host.socketPath);
    await ready(host, ctl);
  });
  afterAll(async () => {
    ctl?.close();
    expect(await host?.stop()).toEqual({ code: 0, signal: null });
  });
}
