// Security-descriptor emulation (spec §7.4, §2.3 "access denied"): the default descriptor
// admits SYSTEM/Administrators, which fltsim reads as uid 0 and the host's own uid; a client
// running as another uid gets STATUS_ACCESS_DENIED (0x80070005) unless the driver widened the
// descriptor. The other identity is real: sim-peer runs in a child process started as
// uid/gid 65534 (nobody), and the host reads its credentials with SO_PEERCRED.
import { describe, expect, it } from 'vitest';

import { hresultFromNtStatus } from '../../lib/errors.js';
import type { SimControl } from '../helpers/sim-control.js';
import { compileSimPeer, runSimPeer, type SimHost } from '../helpers/sim-host.js';
import { useSimHost } from '../helpers/sim-file.js';
import { SimPortClient } from '../helpers/sim-wire.js';

const NOBODY = { uid: 65534, gid: 65534 };
const hex = (n: number): string => `0x${(n >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
const runningAsRoot = process.getuid?.() === 0;

let host: SimHost;
let ctl: SimControl;
let counter = 0;

useSimHost((h, c) => {
  host = h;
  ctl = c;
  compileSimPeer();
});

async function port(args: Record<string, string | number> = {}): Promise<string> {
  const name = `\\FltsimSecurity${++counter}`;
  await ctl.ok('port.create', { name, max: 4, ...args });
  return name;
}

describe.runIf(runningAsRoot)('connecting as another uid (tests run as root)', () => {
  it('the default descriptor refuses uid 65534: 0xC0000022 / 0x80070005, ConnectNotify not called', async () => {
    const name = await port();
    const r = await runSimPeer(NOBODY, { socketPath: host.socketPath, port: name });
    expect(r.uid).toBe(65534);
    expect(hex(r.status)).toBe(hex(0xc0000022));
    expect(hex(hresultFromNtStatus(r.status))).toBe(hex(0x80070005));
    const refused = await ctl.event('connect-refused', { port: name });
    expect(refused.fields).toMatchObject({ uid: '65534', status: hex(0xc0000022), pid: String(r.pid) });
    await ctl.ok('ping');
    expect(ctl.seen('td-connect').filter((e) => e.fields['port'] === name)).toHaveLength(0);
  });

  it('the default descriptor admits root', async () => {
    const name = await port();
    const c = await SimPortClient.connect(host.socketPath, name);
    expect(hex(c.status)).toBe(hex(0));
    c.close();
  });

  it('FltsimSecurityDescriptorAllowUid admits that uid, and ConnectNotify sees its pid', async () => {
    const name = await port({ uids: '65534' });
    const r = await runSimPeer(NOBODY, { socketPath: host.socketPath, port: name, context: 'c0ffee' });
    expect(hex(r.status)).toBe(hex(0));
    expect(r.echo).toBe('peer');
    const seen = await ctl.event('connect', { port: name });
    expect(seen.fields).toMatchObject({ uid: '65534', gid: '65534', pid: String(r.pid), context: 'c0ffee' });
    expect((await ctl.event('td-connect', { port: name })).fields['pid']).toBe(String(r.pid));
  });

  it('FltsimSecurityDescriptorAllowGid admits the primary group', async () => {
    const name = await port({ gids: '65534' });
    const r = await runSimPeer(NOBODY, { socketPath: host.socketPath, port: name });
    expect(hex(r.status)).toBe(hex(0));
    const other = await port({ gids: '12345' });
    expect(hex((await runSimPeer(NOBODY, { socketPath: host.socketPath, port: other })).status)).toBe(hex(0xc0000022));
  });

  it('a NULL DACL admits every caller (the loosening spec §7.4 warns about)', async () => {
    const name = await port({ sd: 'null' });
    const r = await runSimPeer(NOBODY, { socketPath: host.socketPath, port: name });
    expect(hex(r.status)).toBe(hex(0));
    expect(r.echo).toBe('peer');
  });

  it('the access check comes before the connection limit (spec §2.2 order)', async () => {
    const name = await port({ max: 1 });
    const owner = await SimPortClient.connect(host.socketPath, name);
    expect(hex(owner.status)).toBe(hex(0));
    const r = await runSimPeer(NOBODY, { socketPath: host.socketPath, port: name });
    expect(hex(r.status)).toBe(hex(0xc0000022));
    owner.close();
  });
});

describe('the access mask requested at connect', () => {
  it('a descriptor granting only FLT_PORT_CONNECT refuses even root: XP requests FLT_PORT_ALL_ACCESS', async () => {
    const name = await port({ access: 1 });
    const c = await SimPortClient.connect(host.socketPath, name);
    expect(hex(c.status)).toBe(hex(0xc0000022));
    c.close();
  });

  it('with connect_access=0x1 (the UNCONFIRMED modern alternative) the same port admits root', async () => {
    const name = await port({ access: 1 });
    await ctl.ok('option', { name: 'connect_access', value: '0x1' });
    try {
      const c = await SimPortClient.connect(host.socketPath, name);
      expect(hex(c.status)).toBe(hex(0));
      c.close();
    } finally {
      await ctl.ok('option', { name: 'connect_access', value: '0x001F0001' });
    }
  });

  it('sd=none (no descriptor) gets the default security', async () => {
    const name = await port({ sd: 'none' });
    const c = await SimPortClient.connect(host.socketPath, name);
    expect(hex(c.status)).toBe(hex(0));
    c.close();
  });
});
