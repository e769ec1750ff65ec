#!/usr/bin/env bash
# Asserts that a cross-built Windows .node/.dll/.exe imports only what every Windows x64 machine
# has: node.exe (N-API), FLTLIB.DLL (Filter Manager user library) and Windows system DLLs.
# A libstdc++-6.dll, libgcc_s_seh-1.dll or libwinpthread-1.dll import means the static-runtime
# link flags were lost, and the addon would fail to load on a clean Windows with
# "The specified module could not be found".
#
# Usage: check-win32-imports.sh FILE...   (exit 0: all allowed; 1: a disallowed import or no
# import table; 2: usage/tool error)
set -euo pipefail

objdump=x86_64-w64-mingw32-objdump
if [ "$#" -eq 0 ]; then
  echo "usage: $0 FILE..." >&2
  exit 2
fi
if ! command -v "$objdump" >/dev/null 2>&1; then
  echo "check-win32-imports: $objdump not found (Debian: apt-get install mingw-w64)" >&2
  exit 2
fi

# Compared case-insensitively (the loader ignores case; mingw writes KERNEL32.dll, MSVC kernel32.dll).
allowed_exact=(node.exe fltlib.dll kernel32.dll msvcrt.dll advapi32.dll ntdll.dll)
allowed_prefix=(api-ms-win-crt-)

status=0
for file in "$@"; do
  if [ ! -f "$file" ]; then
    echo "check-win32-imports: $file: no such file (run npm run prebuilds:win32 first)" >&2
    status=1
    continue
  fi
  if ! dump="$("$objdump" -p "$file" 2>&1)"; then
    echo "check-win32-imports: $file: objdump failed: $dump" >&2
    status=1
    continue
  fi
  if ! grep -q 'file format pei-x86-64' <<<"$dump"; then
    echo "check-win32-imports: $file: not a PE32+ x86-64 image" >&2
    status=1
    continue
  fi
  mapfile -t dlls < <(sed -n 's/^[[:space:]]*DLL Name: //p' <<<"$dump" | tr -d '\r')
  if [ "${#dlls[@]}" -eq 0 ]; then
    # An addon with no import table cannot have called into node.exe: something is wrong.
    echo "check-win32-imports: $file: no imports found" >&2
    status=1
    continue
  fi
  bad=()
  for dll in "${dlls[@]}"; do
    lower="${dll,,}"
    ok=0
    for a in "${allowed_exact[@]}"; do [ "$lower" = "$a" ] && ok=1; done
    for p in "${allowed_prefix[@]}"; do [[ "$lower" == "$p"* ]] && ok=1; done
    [ "$ok" -eq 1 ] || bad+=("$dll")
  done
  if [ "${#bad[@]}" -gt 0 ]; then
    echo "check-win32-imports: $file: FAIL: imports ${bad[*]} (allowed: node.exe, FLTLIB.DLL, Windows system DLLs); all imports: ${dlls[*]}" >&2
    status=1
  else
    echo "check-win32-imports: $file: ok: ${dlls[*]}"
  fi
done
exit "$status"
