import { describe, expect, it } from 'vitest';

import { AbortError, InvalidArgumentError, NotFoundError } from '../../lib/errors.js';
import { Filters, filesystemTypeName } from '../../lib/filters.js';
import { FakeBinding } from '../helpers/fake-binding.js';

function setup(): { binding: FakeBinding; filters: Filters } {
  const binding = new FakeBinding();
  binding.filters = [
    { name: 'FltportSample', altitude: '370030', instanceCount: 1, frameId: 0, legacy: false },
    { name: 'WdFilter', altitude: '328010', instanceCount: 4, frameId: 0, legacy: false },
  ];
  binding.volumes = [
    { name: '\\Device\\HarddiskVolume3', dosName: 'C:', frameId: 0, filesystemType: 2 },
    { name: '\\Device\\Mailslot', dosName: '', frameId: 0, filesystemType: 26 },
  ];
  binding.instances.set('fltportsample', [
    {
      name: 'FltportSample Instance',
      altitude: '370030',
      volumeName: '\\Device\\HarddiskVolume3',
      filterName: 'FltportSample',
      frameId: 0,
      volumeType: 2,
      detachAllowed: true,
    },
  ]);
  return { binding, filters: new Filters({ binding, simRuntimeDir: '/sim' }) };
}

describe('filters', () => {
  it('lists filters with the simulator context', async () => {
    const { binding, filters } = setup();
    const list = await filters.list();
    expect(list.map((f) => [f.name, f.altitude, f.instanceCount])).toEqual([
      ['FltportSample', '370030', 1],
      ['WdFilter', '328010', 4],
    ]);
    expect(binding.calls[0]).toEqual({ fn: 'listFilters', args: [{ simRuntimeDir: '/sim' }] });
    expect(binding.setErrorFactoryCalls).toBe(1);
  });

  it('lists instances and volumes with file-system names and null DOS names', async () => {
    const { filters } = setup();
    const [inst] = await filters.instances('FltportSample');
    expect(inst).toMatchObject({ name: 'FltportSample Instance', volumeType: 2, volumeTypeName: 'ntfs', detachAllowed: true });
    const vols = await filters.volumes();
    expect(vols.map((v) => [v.name, v.dosName, v.filesystemTypeName])).toEqual([
      ['\\Device\\HarddiskVolume3', 'C:', 'ntfs'],
      ['\\Device\\Mailslot', null, 'msfs'],
    ]);
    expect(filesystemTypeName(30)).toBe('cimfs');
    expect(filesystemTypeName(77)).toBe('type-77');
  });

  it('maps an unknown filter to FLTPORT_NOT_FOUND with ERROR_FLT_FILTER_NOT_FOUND', async () => {
    const { filters } = setup();
    const err = (await filters.instances('Nope').catch((e: unknown) => e)) as NotFoundError;
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.hresult).toBe(0x801f0013);
    expect(err.message).toContain('ERROR_FLT_FILTER_NOT_FOUND');
  });

  it('attaches and detaches with an optional instance name', async () => {
    const { binding, filters } = setup();
    expect(await filters.attach('FltportSample', 'C:')).toBe('FltportSample Instance');
    expect(await filters.attach('FltportSample', 'C:', { instance: 'Second' })).toBe('Second');
    await filters.detach('FltportSample', 'C:', { instance: 'Second' });
    expect(binding.calls.map((c) => [c.fn, ...c.args.slice(1)])).toEqual([
      ['attachFilter', 'FltportSample', 'C:', ''],
      ['attachFilter', 'FltportSample', 'C:', 'Second'],
      ['detachFilter', 'FltportSample', 'C:', 'Second'],
    ]);
    const err = (await filters.attach('FltportSample', 'Q:').catch((e: unknown) => e)) as NotFoundError;
    expect(err.hresult).toBe(0x801f0014);
  });

  it('loads, unloads and resolves DOS names', async () => {
    const { binding, filters } = setup();
    binding.filterPorts.set('fltportsample', ['\\FltportSample']);
    await filters.load('FltportSample');
    expect(binding.loaded.has('fltportsample')).toBe(true);
    await filters.unload('FltportSample');
    expect(binding.loaded.size).toBe(0);
    expect(await filters.dosName('\\Device\\HarddiskVolume3')).toBe('C:');
    expect(await filters.dosName('\\Device\\Mailslot')).toBeNull();
  });

  it('checks arguments before calling native', async () => {
    const { binding, filters } = setup();
    await expect(filters.load('')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(filters.attach('F', 42 as never)).rejects.toThrow(/volume must be a non-empty string/);
    await expect(filters.detach('F', 'C:', { instanse: 'x' } as never)).rejects.toThrow(/"instanse" is not known/);
    await expect(filters.list({ signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
    expect(binding.calls).toHaveLength(0);
  });
});
