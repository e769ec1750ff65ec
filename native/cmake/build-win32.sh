#!/usr/bin/env bash
# Cross-builds the Windows addon with mingw-w64 and cmake-js (node-gyp cannot cross-compile):
# writes prebuilds/win32-x64/fltport.node, which node-gyp-build loads on Windows x64.
# Compiled here, never run here: it runs on Windows, or under Wine with node.exe.
#
# Env: FLTPORT_WIN32_BUILD_DIR (default build/win32), FLTPORT_JOBS (default 2).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="${FLTPORT_WIN32_BUILD_DIR:-build/win32}"
jobs="${FLTPORT_JOBS:-2}"
prefix=x86_64-w64-mingw32
dest=prebuilds/win32-x64/fltport.node

for tool in "$prefix-g++-posix" "$prefix-gcc-posix" "$prefix-dlltool" "$prefix-strip" cmake; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "build-win32: $tool not found (Debian: apt-get install mingw-w64 cmake)" >&2
    exit 1
  fi
done
cmakejs="$root/node_modules/.bin/cmake-js"
if [ ! -x "$cmakejs" ]; then
  echo "build-win32: $cmakejs missing: run npm install first" >&2
  exit 1
fi

# The Windows backend is what the addon's N-API layer calls into on Windows; report what is
# listed so an empty list is visible, and explain the link failure it causes below.
win_count="$(sed -n '/^set(FLTPORT_WIN_SOURCES/,/^)/p' CMakeLists.txt | grep -c '^ *native/' || true)"
echo "build-win32: FLTPORT_WIN_SOURCES lists $win_count file(s)"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
# Only the addon: the Wine lane builds its own Windows targets (fltsim-host.exe, the test
# fltlib.dll) from the same tree, and a problem there must not block the prebuild.
"$cmakejs" build \
  --out "$out" \
  --config Release \
  --target fltport \
  --parallel "$jobs" \
  --CDCMAKE_TOOLCHAIN_FILE="$root/native/cmake/mingw-w64-x86_64.cmake" \
  --CDFLTPORT_BUILD_TESTS=OFF 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" -ne 0 ]; then
  if grep -q 'undefined reference' "$log"; then
    # Name each missing function once: usually a backend function declared in native/core and
    # called by native/napi that no file in FLTPORT_WIN_SOURCES defines yet.
    echo "build-win32: link failed; these are referenced but defined by no listed source:" >&2
    sed -n "s/.*undefined reference to \`\([^(']*\).*/  \1/p" "$log" | sort -u >&2
    if [ "$win_count" -eq 0 ]; then
      echo "build-win32: FLTPORT_WIN_SOURCES is empty, but the N-API sources call into the Windows backend: add native/win sources to CMakeLists.txt and binding.gyp." >&2
    else
      echo "build-win32: define them in native/win (and list the file in FLTPORT_WIN_SOURCES and win_sources)." >&2
    fi
  fi
  echo "build-win32: FAILED (cmake-js exit $rc)" >&2
  exit "$rc"
fi

built=""
for candidate in "$out/Release/fltport.node" "$out/fltport.node"; do
  if [ -f "$candidate" ]; then built="$candidate"; break; fi
done
if [ -z "$built" ]; then
  echo "build-win32: cmake-js succeeded but no fltport.node under $out" >&2
  exit 1
fi
mkdir -p "$(dirname "$dest")"
"$prefix-strip" --strip-unneeded -o "$dest" "$built"
echo "build-win32: wrote $dest ($(stat -c %s "$dest") bytes) from $built"
