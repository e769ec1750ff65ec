// native/cmake/check-win32-imports.sh is what stands between a mingw-w64 build that quietly
// depends on libstdc++-6.dll (and fails to load on a clean Windows) and a green CI. Feed it
// small DLLs built here with the same cross-compiler, good and bad, and check its verdicts.
// Compiled with mingw-w64 on Linux; nothing here runs on Windows.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipNote } from '../helpers/skip.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const script = join(root, 'native/cmake/check-win32-imports.sh');
const cc = 'x86_64-w64-mingw32-gcc-posix';
const cxx = 'x86_64-w64-mingw32-g++-posix';
const haveMingw = spawnSync(cxx, ['--version']).status === 0 && spawnSync('x86_64-w64-mingw32-objdump', ['--version']).status === 0;

function check(...files: string[]): { status: number | null; out: string } {
  const r = spawnSync('bash', [script, ...files], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

const skipMingw = skipNote(
  !haveMingw,
  'build.win32-imports "check-win32-imports.sh"',
  `needs the mingw-w64 cross toolchain (${cxx}, x86_64-w64-mingw32-objdump) and bash: a check of Linux CI's cross-build`,
);

describe.skipIf(skipMingw)('check-win32-imports.sh', () => {
  let dir = '';
  const dll = (name: string): string => join(dir, name);

  function compile(compiler: string, source: string, out: string, flags: string[]): void {
    const src = join(dir, `${out}.${compiler === cxx ? 'cc' : 'c'}`);
    writeFileSync(src, source);
    const r = spawnSync(compiler, ['-shared', '-o', dll(out), src, ...flags], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${compiler} failed: ${r.stderr}`);
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fltport-imports-'));
    // Only KERNEL32 + msvcrt: what a well-linked addon looks like besides node.exe/FLTLIB.
    compile(cc, '#include <windows.h>\n__declspec(dllexport) DWORD f(void) { return GetTickCount(); }\n', 'kernel32-only.dll', []);
    // FilterConnectCommunicationPort from FLTLIB.DLL, as the Windows backend does.
    compile(
      cc,
      '#include <windows.h>\n#include <fltuser.h>\n__declspec(dllexport) HRESULT f(HANDLE* h) { return FilterConnectCommunicationPort(L"\\\\p", 0, NULL, 0, NULL, h); }\n',
      'fltlib.dll',
      ['-lfltlib'],
    );
    // A GUI import no addon has any business with.
    compile(cc, '#include <windows.h>\n__declspec(dllexport) int f(void) { return MessageBoxA(0, "x", "y", 0); }\n', 'user32.dll', ['-luser32']);
    // C++ with the runtime linked dynamically: the mistake the static link flags prevent.
    compile(cxx, '#include <string>\n__declspec(dllexport) size_t f(const char* s) { return std::string(s).size(); }\n', 'dynamic-libstdcxx.dll', []);
    // The same C++ linked the way native/cmake/mingw-w64-x86_64.cmake links.
    compile(
      cxx,
      '#include <string>\n#include <mutex>\nstatic std::mutex m;\n__declspec(dllexport) size_t f(const char* s) { std::lock_guard<std::mutex> l(m); return std::string(s).size(); }\n',
      'static-runtime.dll',
      ['-static', '-static-libgcc', '-static-libstdc++'],
    );
    writeFileSync(dll('not-a-pe.node'), 'this is not a PE image\n');
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts a DLL that imports only Windows system DLLs', () => {
    const r = check(dll('kernel32-only.dll'));
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/ok: .*KERNEL32\.dll/);
  });

  it('accepts FLTLIB.DLL', () => {
    const r = check(dll('fltlib.dll'));
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/ok: .*FLTLIB\.DLL/i);
  });

  it('accepts C++ with the static runtime the toolchain file asks for', () => {
    const r = check(dll('static-runtime.dll'));
    expect(r.status).toBe(0);
    expect(r.out).not.toMatch(/libstdc\+\+|libgcc|libwinpthread/i);
  });

  it('rejects USER32.dll and names it', () => {
    const r = check(dll('user32.dll'));
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/FAIL: imports USER32\.dll/i);
  });

  it('rejects a dynamically linked libstdc++', () => {
    const r = check(dll('dynamic-libstdcxx.dll'));
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/FAIL: imports .*libstdc\+\+-6\.dll/);
  });

  it('fails when any one of several files is bad, and reports each', () => {
    const r = check(dll('kernel32-only.dll'), dll('user32.dll'));
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/kernel32-only\.dll: ok/);
    expect(r.out).toMatch(/user32\.dll: FAIL/);
  });

  it('rejects a file that is not a PE image, and a missing file', () => {
    expect(check(dll('not-a-pe.node'))).toMatchObject({ status: 1 });
    const missing = check(dll('missing.node'));
    expect(missing.status).toBe(1);
    expect(missing.out).toMatch(/no such file/);
  });

  it('is a usage error without arguments', () => {
    expect(check().status).toBe(2);
  });
});
