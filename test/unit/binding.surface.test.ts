// The real addon's surface (needs build/Release/fltport.node): what it exports, its version
// and backend, and native/core's status table against lib/errors.ts's view of it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadBinding } from '../../lib/binding.js';
import { hresultFromNtStatus as tsHresultFromNtStatus, nativeStatusRows } from '../../lib/errors.js';

const binding = loadBinding();
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('binding surface', () => {
  it('reports the package version and the backend this platform links', () => {
    expect(binding.version).toBe(pkg.version);
    expect(binding.backend).toBe(process.platform === 'win32' ? 'win32' : 'fltsim');
  });

  it('exports exactly the NativeBinding members', () => {
    expect(Object.keys(binding).sort()).toEqual(
      [
        'attachFilter',
        'backend',
        'connect',
        'createMailslot',
        'detachFilter',
        'getDosName',
        'hresultFromNtStatus',
        'listFilters',
        'listInstances',
        'listVolumes',
        'loadFilter',
        'setErrorFactory',
        'statusTable',
        'unloadFilter',
        'version',
        'writeMailslot',
      ].sort(),
    );
    for (const fn of ['connect', 'createMailslot', 'writeMailslot', 'statusTable'] as const) {
      expect(typeof binding[fn]).toBe('function');
    }
  });
});

describe('status table parity (native/core vs lib/errors.ts)', () => {
  it('has the same rows, in the same order', () => {
    expect(binding.statusTable()).toEqual(nativeStatusRows());
  });

  it('maps the statuses the spec singles out', () => {
    const byName = new Map(binding.statusTable().map((e) => [e.name, e]));
    expect(byName.get('STATUS_PORT_DISCONNECTED')).toEqual({
      ntstatus: 0xc0000037,
      win32: 6,
      hresult: 0x80070006,
      name: 'STATUS_PORT_DISCONNECTED',
    });
    expect(byName.get('STATUS_TIMEOUT')?.hresult).toBe(0x80070102);
    expect(byName.get('STATUS_FLT_NO_WAITER_FOR_REPLY')?.hresult).toBe(0x801f0020);
    expect(byName.get('STATUS_FLT_BUFFER_TOO_SMALL')?.hresult).toBe(0x8007007a);
    expect(byName.get('STATUS_CANCELLED')?.hresult).toBe(0x800703e3);
    expect(byName.get('STATUS_SUCCESS')?.hresult).toBe(0);
  });

  it('computes fltlib HRESULTs like lib/errors.ts, in and outside the table', () => {
    const samples = [
      0, 0x102, 0x103, 0xc0000037, 0xc01c0020, 0x801c0001, 0xc01c0099, // facility 0x1C
      0xc0ab0001, // another facility -> E_FAIL
      0xc0001234, // facility 0, not in the table -> ERROR_MR_MID_NOT_FOUND
      0x40000000, 0x80000005, 0xffffffff,
    ];
    for (const nt of samples) {
      expect(binding.hresultFromNtStatus(nt), `0x${nt.toString(16)}`).toBe(tsHresultFromNtStatus(nt));
    }
    expect(binding.hresultFromNtStatus(0xc01c0099)).toBe(0x801f0099);
    expect(binding.hresultFromNtStatus(0xc0ab0001)).toBe(0x80004005);
    expect(binding.hresultFromNtStatus(0xc0001234)).toBe(0x8007013d);
    // A signed NTSTATUS (as an i32 read from a DataView) is the same status.
    expect(binding.hresultFromNtStatus(0xc0000037 | 0)).toBe(0x80070006);
  });

  it('rejects what is not a 32-bit integer', () => {
    expect(() => binding.hresultFromNtStatus('1' as never)).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }),
    );
    expect(() => binding.hresultFromNtStatus(2 ** 32)).toThrow(
      expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }),
    );
    expect(() => binding.hresultFromNtStatus(1.5)).toThrow(RangeError);
    expect(() => binding.hresultFromNtStatus(Number.NaN)).toThrow(RangeError);
  });
});
