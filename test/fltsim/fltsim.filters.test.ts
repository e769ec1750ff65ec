// Filter management through fltsim-host's control channel (the commands native/posix's
// FilterManagement sends): the hosted filter, simulated volumes, instances, and FilterUnload /
// FilterLoad running the driver's unload routine and FltsimDriverEntry again.
import { describe, expect, it } from 'vitest';

import { hresultFromNtStatus } from '../../lib/errors.js';
import type { SimControl } from '../helpers/sim-control.js';
import type { SimHost } from '../helpers/sim-host.js';
import { useSimHost } from '../helpers/sim-file.js';
import { SimPortClient } from '../helpers/sim-wire.js';

const hex = (n: number): string => `0x${(n >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;

let host: SimHost;
let ctl: SimControl;

useSimHost(
  (h, c) => {
    host = h;
    ctl = c;
  },
  { extraArgs: ['--filter-name', 'FltportSample', '--altitude', '370123'] },
);

describe('filters and volumes', () => {
  it('lists the hosted filter with its altitude and instance count', async () => {
    expect(await ctl.ok('filters.list')).toEqual({
      count: '1',
      'name.0': 'FltportSample',
      'altitude.0': '370123',
      'instances.0': '0',
      'frame.0': '0',
      'legacy.0': '0',
    });
  });

  it('lists the simulated volumes and their DOS names', async () => {
    const v = await ctl.ok('volumes.list');
    expect(v['count']).toBe('5');
    expect([v['name.0'], v['dos.0'], v['fstype.0']]).toEqual(['\\Device\\HarddiskVolume1', 'C:', '2']);
    expect([v['name.4'], v['dos.4'], v['fstype.4']]).toEqual(['\\Device\\Mailslot', '', '26']);
    expect(await ctl.ok('volumes.dosname', { volume: '\\Device\\HarddiskVolume2' })).toEqual({ dos: 'D:' });
    expect(hex(await ctl.fails('volumes.dosname', { volume: '\\Device\\Mup' }))).toBe(hex(0xc0000034));
    const missing = await ctl.fails('volumes.dosname', { volume: '\\Device\\Nope' });
    expect(hex(missing)).toBe(hex(0xc01c0014));
    expect(hex(hresultFromNtStatus(missing))).toBe(hex(0x801f0014));
  });

  it('attaches and detaches instances, with the Filter Manager collisions', async () => {
    expect(await ctl.ok('filters.attach', { filter: 'fltportsample', volume: 'C:' })).toEqual({ instance: 'FltportSample Instance' });
    const sameName = await ctl.fails('filters.attach', { filter: 'FltportSample', volume: '\\Device\\HarddiskVolume1' });
    expect(hex(hresultFromNtStatus(sameName))).toBe(hex(0x801f0012));
    const sameAltitude = await ctl.fails('filters.attach', { filter: 'FltportSample', volume: 'c:\\', instance: 'Second' });
    expect(hex(hresultFromNtStatus(sameAltitude))).toBe(hex(0x801f0011));
    expect(await ctl.ok('filters.attach', { filter: 'FltportSample', volume: 'D:', instance: 'Mine' })).toEqual({ instance: 'Mine' });
    const list = await ctl.ok('filters.instances', { filter: 'FltportSample' });
    expect(list).toMatchObject({
      count: '2',
      'name.0': 'FltportSample Instance',
      'volume.0': '\\Device\\HarddiskVolume1',
      'altitude.0': '370123',
      'filter.0': 'FltportSample',
      'fstype.0': '2',
      'detach.0': '1',
      'name.1': 'Mine',
    });
    expect((await ctl.ok('filters.list'))['instances.0']).toBe('2');
    const notThere = await ctl.fails('filters.detach', { filter: 'FltportSample', volume: 'D:', instance: 'Other' });
    expect(hex(hresultFromNtStatus(notThere))).toBe(hex(0x801f0015));
    await ctl.ok('filters.detach', { filter: 'FltportSample', volume: 'D:', instance: 'Mine' });
    await ctl.ok('filters.detach', { filter: 'FltportSample', volume: 'C:' });
    expect((await ctl.ok('filters.instances', { filter: 'FltportSample' }))['count']).toBe('0');
    const badVolume = await ctl.fails('filters.attach', { filter: 'FltportSample', volume: 'Q:' });
    expect(hex(badVolume)).toBe(hex(0xc01c0014));
  });

  it('answers for filters it does not host', async () => {
    const load = await ctl.fails('filters.load', { filter: 'Nope' });
    expect(hex(hresultFromNtStatus(load))).toBe(hex(0x80070002));
    const unload = await ctl.fails('filters.unload', { filter: 'Nope' });
    expect(hex(hresultFromNtStatus(unload))).toBe(hex(0x801f0013));
    expect(hex(await ctl.fails('filters.instances', { filter: 'Nope' }))).toBe(hex(0xc01c0013));
    expect(hex(await ctl.fails('filters.load', { filter: 'FltportSample' }))).toBe(hex(0xc000010e));
  });
});

describe('FilterUnload and FilterLoad', () => {
  it('unload runs the driver unload routine; load runs FltsimDriverEntry again on a new filter', async () => {
    await ctl.ok('port.create', { name: '\\FltsimReload' });
    const before = await SimPortClient.connect(host.socketPath, '\\FltsimReload');
    expect(before.status).toBe(0);
    await ctl.ok('filters.attach', { filter: 'FltportSample', volume: 'C:' });
    await ctl.ok('filters.unload', { filter: 'FltportSample' });
    expect((await ctl.event('disconnect', { port: '\\FltsimReload' })).fields['reason']).toBe('unload');
    expect((await ctl.ok('filters.list'))['count']).toBe('0');
    expect(hex(await ctl.fails('filters.attach', { filter: 'FltportSample', volume: 'C:' }))).toBe(hex(0xc01c0013));
    expect((await before.get(64)).status).toBe(0xc0000037);
    await ctl.ok('filters.load', { filter: 'FltportSample' });
    expect(await ctl.ok('filters.list')).toMatchObject({ count: '1', 'instances.0': '0' });
    // The reloaded driver serves new ports and connections.
    await ctl.ok('port.create', { name: '\\FltsimReload' });
    const after = await SimPortClient.connect(host.socketPath, '\\FltsimReload');
    expect(after.status).toBe(0);
    const echo = await after.send(Buffer.from('again'), 8);
    expect(echo.bytes.toString()).toBe('again');
    before.close();
    after.close();
  });
});
