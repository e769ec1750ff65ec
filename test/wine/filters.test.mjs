// Filter management through the public API (`filters`). Under Wine this is native/win's
// FilterManagementWin.cc and FilterInfoDecoder: FilterFindFirst/Next and friends with the
// documented information classes, FilterAttach/Detach, FilterGetDosName, FilterLoad/Unload
// (with SeLoadDriverPrivilege enabled), answered through the test fltlib.dll by fltsim-host.
// The host serves one filter, `fltsim` at altitude 370030, and five simulated volumes
// (docs/fltsim.md); under Linux the same cases go through native/posix.
import { strict as assert } from 'node:assert';
import { describe, test } from 'node:test';

import { EXPECT, FILTERS, TARGET, assertFltportError, fltport, within } from './lane.mjs';

const { filters } = fltport;
const T = 15_000;
const F = 'fltsim';

async function rejection(promise, what) {
  return within(T, promise, what).then(
    () => assert.fail(`${what} succeeded`),
    (e) => e,
  );
}

describe(`filter management (${TARGET})`, () => {
  test('filters.list: the hosted filter, its altitude, no instances', async () => {
    assert.deepEqual(await within(T, filters.list(), 'list'), [
      { name: F, altitude: '370030', instanceCount: 0, frameId: 0, legacy: false },
    ]);
  });

  test('filters.volumes: the simulated volumes, with DOS names where they have one', async () => {
    const volumes = await within(T, filters.volumes(), 'volumes');
    assert.deepEqual(
      volumes.map((v) => [v.name, v.dosName, v.filesystemType, v.filesystemTypeName, v.frameId]),
      [
        ['\\Device\\HarddiskVolume1', 'C:', 2, 'ntfs', 0],
        ['\\Device\\HarddiskVolume2', 'D:', 2, 'ntfs', 0],
        ['\\Device\\Mup', null, 13, 'mup', 0],
        ['\\Device\\NamedPipe', null, 25, 'npfs', 0],
        ['\\Device\\Mailslot', null, 26, 'msfs', 0],
      ],
    );
    assert.equal(await within(T, filters.dosName('\\Device\\HarddiskVolume2'), 'dosName'), 'D:');
    assertFltportError(await rejection(filters.dosName('\\Device\\Mup'), 'dosName of Mup'), EXPECT.noDosName, 'dosName');
    assertFltportError(await rejection(filters.dosName('\\Device\\Nope'), 'dosName of nothing'), EXPECT.volumeNotFound, 'dosName');
  });

  test('attach and detach instances, with the Filter Manager collisions', async () => {
    assert.equal(await within(T, filters.attach(F, 'C:'), 'attach'), `${F} Instance`);
    try {
      assertFltportError(await rejection(filters.attach(F, '\\Device\\HarddiskVolume1'), 'same name'), EXPECT.instanceNameCollision, 'attach');
      assertFltportError(await rejection(filters.attach(F, 'c:\\', { instance: 'Second' }), 'same altitude'), EXPECT.instanceAltitudeCollision, 'attach');
      assert.equal(await within(T, filters.attach(F, 'D:', { instance: 'Mine' }), 'attach'), 'Mine');
      const instances = await within(T, filters.instances(F), 'instances');
      assert.deepEqual(
        instances.map((i) => ({ ...i })),
        [
          { name: `${F} Instance`, altitude: '370030', volumeName: '\\Device\\HarddiskVolume1', filterName: F, frameId: 0, volumeType: 2, volumeTypeName: 'ntfs', detachAllowed: FILTERS.detachAllowedReported },
          { name: 'Mine', altitude: '370030', volumeName: '\\Device\\HarddiskVolume2', filterName: F, frameId: 0, volumeType: 2, volumeTypeName: 'ntfs', detachAllowed: FILTERS.detachAllowedReported },
        ],
      );
      assert.equal((await filters.list())[0].instanceCount, 2);
      assertFltportError(await rejection(filters.detach(F, 'D:', { instance: 'Other' }), 'detach of nothing'), EXPECT.instanceNotFound, 'detach');
      await within(T, filters.detach(F, 'D:', { instance: 'Mine' }), 'detach');
    } finally {
      await filters.detach(F, 'C:').catch(() => {});
    }
    assert.deepEqual(await within(T, filters.instances(F), 'instances'), []);
    assertFltportError(await rejection(filters.attach(F, 'Q:'), 'attach to nothing'), EXPECT.volumeNotFound, 'attach');
  });

  test('filters it does not host: load 0x80070002, unload and instances 0x801F0013', async () => {
    assertFltportError(await rejection(filters.load('Nope'), 'load'), EXPECT.filterLoadNotFound, 'load');
    assertFltportError(await rejection(filters.unload('Nope'), 'unload'), EXPECT.filterNotFound, 'unload');
    assertFltportError(await rejection(filters.instances('Nope'), 'instances'), EXPECT.filterNotFound, 'instances');
  });

  test('loading the loaded filter: STATUS_IMAGE_ALREADY_LOADED (0x80070420)', async () => {
    assertFltportError(await rejection(filters.load(F), 'load'), EXPECT.filterAlreadyLoaded, 'load');
  });

  test('unload runs the driver unload routine, load runs its entry again', async () => {
    await within(T, filters.unload(F), 'unload');
    try {
      assert.deepEqual(await within(T, filters.list(), 'list'), []);
      assertFltportError(await rejection(filters.attach(F, 'C:'), 'attach while unloaded'), EXPECT.filterNotFound, 'attach');
    } finally {
      await within(T, filters.load(F), 'load');
    }
    assert.deepEqual(await within(T, filters.list(), 'list'), [
      { name: F, altitude: '370030', instanceCount: 0, frameId: 0, legacy: false },
    ]);
  });
});
