// Which backend the loaded fltport.node was built with, and what tests that need no port can
// expect from each. Most binding tests talk to fltsim's wire protocol (a Unix socket under a
// runtime directory); with the 'win32' backend (the MSVC build, Windows CI) the same calls go
// to the real fltlib.dll, where no driver is loaded: those tests skip, saying why, and the
// ones that need no port assert what Windows answers instead.
import { expect } from 'vitest';
import { loadBinding, type NativeBinding } from '../../lib/binding.js';
import { skipNote } from './skip.js';

export const backend: NativeBinding['backend'] = loadBinding().backend;

/** Skip condition for tests that need fltsim's wire (a stub host on a Unix socket). */
export const needsFltsim = backend !== 'fltsim';

/** Skip condition for tests of what the real fltlib.dll answers. */
export const needsWin32 = backend !== 'win32';

/**
 * needsFltsim, after printing why when it holds (the reason names the backend: a skip keyed
 * on the backend, not on the OS).
 */
export function skipUnlessFltsim(what: string, why: string): boolean {
  return skipNote(needsFltsim, what, `${why} [backend ${backend}]`);
}

/** No driver registers this port (the sample's are \FltportSampleScan and \FltportSampleControl). */
export const MISSING_PORT = '\\FltportSampleNoSuchPort';

const E_FAIL = 0x80004005;
const ENOENT = 2;
const ERROR_FILE_NOT_FOUND = 2;

/**
 * What connect() to MISSING_PORT rejects with when nothing serves it. fltsim: the runtime
 * directory has no fltsim-host socket, so the POSIX transport fails with ENOENT before any
 * port is looked up. win32: fltlib's FilterConnectCommunicationPort returns
 * HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND) (STATUS_OBJECT_NAME_NOT_FOUND from the Filter
 * Manager), and the addon reports it as returned: origin 'hresult', Win32 code derived.
 */
export function missingPortFailure(): Record<string, unknown> {
  return backend === 'win32'
    ? {
        origin: 'hresult',
        hresult: 0x80070002,
        win32: ERROR_FILE_NOT_FOUND,
        syscall: 'FilterConnectCommunicationPort',
      }
    : { origin: 'errno', hresult: E_FAIL, errno: ENOENT, syscall: 'connect' };
}

/** The NativeErrorInfo keys of missingPortFailure(), sorted. */
export function missingPortInfoKeys(): string[] {
  return (backend === 'win32'
    ? ['detail', 'hresult', 'origin', 'syscall', 'win32']
    : ['detail', 'errno', 'hresult', 'origin', 'syscall']
  ).sort();
}

/** Asserts `detail` says where it looked: fltsim names the runtime directory; fltlib says nothing more. */
export function expectMissingPortDetail(detail: unknown, runtimeDir: string): void {
  if (backend === 'win32') expect(detail).toBe('');
  else expect(detail).toContain(runtimeDir);
}
