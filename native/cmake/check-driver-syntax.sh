#!/usr/bin/env bash
#
# check-driver-syntax.sh - type-checks the sample minifilter (samples/minifilter) on Linux.
#
# The driver is built with the WDK on Windows; here nothing can build it. What this script
# can do, and does:
#
#   wire    inc/fltport_sample.h compiled for every ABI we can reach - C11 and C++17 on the
#           host, clang for x86_64/i686/aarch64 Windows (MSVC ABI), mingw-w64 x64/x86 with
#           <windows.h> when installed - so its static asserts check the layout everywhere.
#   driver  every filter/*.c with clang --target=<arch>-pc-windows-msvc -fsyntax-only
#           -ffreestanding, against fltsim's fltKernel.h plus check/fltKernelExtra.h (the
#           WDK declarations fltsim does not provide), for x86_64 and aarch64, with
#           FPS_TEST_CONTROL defined and undefined. -Werror.
#   fltsim  communication.c, testcontrol.c, mailslot.c and fltsimentry.c with plain gcc
#           against fltsim's fltKernel.h alone - exactly how fltsim-host will compile them -
#           and a list of the identifiers fltsim still has to provide.
#
# Exit status: 0 when every lane passes, 1 otherwise. --allow-fltsim-gaps makes the fltsim
# lane advisory (reported, not failing) while fltsim's header is still being completed.
#
# Usage: native/cmake/check-driver-syntax.sh [--allow-fltsim-gaps] [--verbose]
# Environment: CLANG (default clang-14 or clang), GCC, GXX, MINGW64, MINGW32.

set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SAMPLE="$ROOT/samples/minifilter"
FLTSIM_INC="$ROOT/native/fltsim/include"
EXTRA="$SAMPLE/check/fltKernelExtra.h"

ALLOW_FLTSIM_GAPS=0
VERBOSE=0
for arg in "$@"; do
  case "$arg" in
    --allow-fltsim-gaps) ALLOW_FLTSIM_GAPS=1 ;;
    --verbose|-v) VERBOSE=1 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

if [ -z "${CLANG:-}" ]; then
  if command -v clang-14 >/dev/null 2>&1; then CLANG=clang-14; else CLANG=clang; fi
fi
GCC=${GCC:-gcc}
GXX=${GXX:-g++}
MINGW64=${MINGW64:-x86_64-w64-mingw32-gcc}
MINGW32=${MINGW32:-i686-w64-mingw32-gcc}

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

FAILED=0
PASSED=0
SKIPPED=0

pass() { PASSED=$((PASSED + 1)); echo "  ok    $1"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL  $1"; sed 's/^/        /' "$2" | head -n 60; }
skip() { SKIPPED=$((SKIPPED + 1)); echo "  skip  $1 ($2)"; }

# run NAME CMD... : runs a compiler, records pass/fail with its output.
run() {
  local name=$1; shift
  local log="$WORK/log.$PASSED.$FAILED.$SKIPPED"
  if "$@" >"$log" 2>&1; then
    pass "$name"
    [ "$VERBOSE" = 1 ] && sed 's/^/        /' "$log"
  else
    fail "$name" "$log"
  fi
  return 0
}

if [ ! -f "$FLTSIM_INC/fltKernel.h" ]; then
  echo "fltsim's fltKernel.h is missing ($FLTSIM_INC/fltKernel.h): nothing to check against" >&2
  exit 1
fi
if ! command -v "$CLANG" >/dev/null 2>&1; then
  echo "clang not found (set CLANG)" >&2
  exit 1
fi

# Kernel-mode C dialect shared by every clang lane. -ffreestanding: no hosted headers;
# -fms-extensions: __try/__except, __inline. Relaxed on purpose, because the WDK's own
# idioms trip them and MSVC /W4 has no equivalent: multi-character pool tags, pragmas
# clang does not know (alloc_text it accepts without checking; MSVC checks it), and tables
# initialized positionally up to the last field used (FLT_REGISTRATION grows per release).
KM_FLAGS=(
  -fsyntax-only -ffreestanding -fms-extensions
  -Wall -Wextra -Werror
  -Wno-unknown-pragmas -Wno-multichar -Wno-microsoft-anon-tag -Wno-missing-field-initializers
  -DPOOL_NX_OPTIN=1 -DALLOC_PRAGMA=1
)

# ---------------------------------------------------------------------------------------
echo "wire header (inc/fltport_sample.h)"

cat >"$WORK/wire_base.c" <<'EOF'
#define FPS_WIRE_DEFINE_BASE_TYPES
#include "fltport_sample.h"
int fps_wire_translation_unit_is_not_empty;
EOF
cat >"$WORK/wire_fltsim.c" <<'EOF'
#include <fltKernel.h>
#include "fltport_sample.h"
EOF
cat >"$WORK/wire_windows.c" <<'EOF'
#include <windows.h>
#include "fltport_sample.h"
EOF
cp "$WORK/wire_base.c" "$WORK/wire_base.cc"

run "C11 host ($GCC)" "$GCC" -std=c11 -pedantic -Wall -Wextra -Werror -fsyntax-only \
  -I"$SAMPLE/inc" "$WORK/wire_base.c"
run "C++17 host ($GXX)" "$GXX" -std=c++17 -pedantic -Wall -Wextra -Werror -fsyntax-only \
  -I"$SAMPLE/inc" "$WORK/wire_base.cc"
for arch in x86_64 i686 aarch64; do
  run "clang $arch-pc-windows-msvc, fltsim types" "$CLANG" --target=$arch-pc-windows-msvc \
    -fsyntax-only -ffreestanding -Wall -Wextra -Werror -isystem "$FLTSIM_INC" -I"$SAMPLE/inc" \
    "$WORK/wire_fltsim.c"
done
for cc in "$MINGW64" "$MINGW32"; do
  if command -v "$cc" >/dev/null 2>&1; then
    run "$cc, <windows.h>" "$cc" -Wall -Wextra -Werror -fsyntax-only -I"$SAMPLE/inc" \
      "$WORK/wire_windows.c"
  else
    skip "$cc" "not installed"
  fi
done

# ---------------------------------------------------------------------------------------
echo "probing fltsim's fltKernel.h for what check/fltKernelExtra.h must add"

# Every guarded block in the extra header names a probe. A probe that compiles against
# fltsim's header alone means fltsim already declares it: the block is switched off with
# -DFPSX_HAVE_<name>, so the extra header never redefines what fltsim provides.
PROBE_DEFINES=()
HAVE_LIST=()
MISSING_LIST=()
while read -r kind name; do
  probe="$WORK/probe_$name.c"
  {
    echo '#include <fltKernel.h>'
    if [ "$kind" = type ]; then
      echo "typedef $name fpsx_probe_t;"
    else
      echo "void fpsx_probe(void) { (void)($name); }"
    fi
  } >"$probe"
  if "$CLANG" --target=x86_64-pc-windows-msvc -fsyntax-only -ffreestanding -fms-extensions \
       -Wno-unused-value -isystem "$FLTSIM_INC" "$probe" >/dev/null 2>&1; then
    PROBE_DEFINES+=("-DFPSX_HAVE_$name=1")
    HAVE_LIST+=("$name")
  else
    MISSING_LIST+=("$name")
  fi
done < <(sed -n 's/.*probe: \(type\|expr\) \([A-Za-z_0-9]*\).*/\1 \2/p' "$EXTRA")
echo "  fltsim provides ${#HAVE_LIST[@]} of the ${#HAVE_LIST[@]}+${#MISSING_LIST[@]} probed declarations"
[ "$VERBOSE" = 1 ] && echo "  provided: ${HAVE_LIST[*]:-none}"

# A wrapper fltKernel.h: fltsim's header, then - as the WDK build sees things - FLTSIM
# undefined, so the sources' fltsim-only branches stay out and their WDK branches are
# checked, then the extra declarations.
mkdir -p "$WORK/wrap"
cat >"$WORK/wrap/fltKernel.h" <<EOF
#include_next <fltKernel.h>
#undef FLTSIM
#include "$EXTRA"
EOF

# ---------------------------------------------------------------------------------------
echo "driver sources, WDK build (clang, MSVC targets, fltsim fltKernel.h + check/fltKernelExtra.h)"

mapfile -t SOURCES < <(cd "$SAMPLE/filter" && ls -1 *.c)
for arch in x86_64 aarch64; do
  for tc in on off; do
    tcdef=()
    [ "$tc" = on ] && tcdef=(-DFPS_TEST_CONTROL=1)
    for src in "${SOURCES[@]}"; do
      run "$arch FPS_TEST_CONTROL=$tc $src" "$CLANG" --target=$arch-pc-windows-msvc \
        "${KM_FLAGS[@]}" "${tcdef[@]}" "${PROBE_DEFINES[@]}" \
        -isystem "$WORK/wrap" -isystem "$FLTSIM_INC" -I"$SAMPLE/inc" -I"$SAMPLE/filter" \
        "$SAMPLE/filter/$src"
    done
  done
done

# ---------------------------------------------------------------------------------------
echo "fltsim build of the shared files (plain gcc -fshort-wchar, FLTSIM defined, as fltsim-host builds them)"

SHARED=(communication.c testcontrol.c mailslot.c fltsimentry.c)
GCC_FLAGS=(-std=c11 -fshort-wchar -fsyntax-only -Wall -Wextra -Werror -Wno-multichar
           -Wno-unknown-pragmas -I"$SAMPLE/inc" -I"$SAMPLE/filter")

# 1. With Part A of the extra header: proves the shared files are valid C11 for gcc and
#    that Part A lists everything they need beyond fltsim's header. Always strict.
mkdir -p "$WORK/wrapA"
cat >"$WORK/wrapA/fltKernel.h" <<EOF
#include_next <fltKernel.h>
#define FPSX_SHARED_ONLY 1
#include "$EXTRA"
/* fltsim prints driver traces with vsnprintf: have gcc check the formats against it. */
ULONG DbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, ...) __attribute__((format(printf, 3, 4)));
EOF
GCC_PROBE_DEFINES=()
GAP_LIST=()
PART_A=$(sed -n '1,/Part B - kernel only/p' "$EXTRA")
while read -r kind name; do
  probe="$WORK/gprobe_$name.c"
  {
    echo '#include <fltKernel.h>'
    if [ "$kind" = type ]; then
      echo "typedef $name fpsx_probe_t;"
    else
      echo "void fpsx_probe(void) { (void)($name); }"
    fi
  } >"$probe"
  if "$GCC" -std=c11 -fshort-wchar -fsyntax-only -Wno-unused-value -I"$FLTSIM_INC" "$probe" \
       >/dev/null 2>&1; then
    GCC_PROBE_DEFINES+=("-DFPSX_HAVE_$name=1")
  else
    GAP_LIST+=("$name")
  fi
done < <(echo "$PART_A" | grep -v 'not-a-gap' | sed -n 's/.*probe: \(type\|expr\) \([A-Za-z_0-9]*\).*/\1 \2/p')
# Macros guarded with #ifndef in Part A (SAL, constants, helpers).
while read -r name; do
  printf '#include <fltKernel.h>\n#ifndef %s\n#error missing\n#endif\n' "$name" >"$WORK/gmacro.c"
  if ! "$GCC" -std=c11 -fshort-wchar -fsyntax-only -I"$FLTSIM_INC" "$WORK/gmacro.c" >/dev/null 2>&1; then
    GAP_LIST+=("$name")
  fi
done < <(echo "$PART_A" | sed -n 's/^#ifndef \([A-Za-z_][A-Za-z_0-9]*\)$/\1/p' | grep -v '^FPS_FLTKERNEL_EXTRA_H$')

for tc in on off; do
  tcdef=()
  [ "$tc" = on ] && tcdef=(-DFPS_TEST_CONTROL=1)
  for src in "${SHARED[@]}"; do
    run "gcc + Part A, FPS_TEST_CONTROL=$tc $src" "$GCC" "${GCC_FLAGS[@]}" "${tcdef[@]}" \
      "${GCC_PROBE_DEFINES[@]}" -isystem "$WORK/wrapA" -isystem "$FLTSIM_INC" "$SAMPLE/filter/$src"
  done
done

# 2. With fltsim's header alone: the real fltsim-host build. Passes once fltsim declares
#    everything in GAP_LIST.
FLTSIM_FAILED=0
for tc in on off; do
  tcdef=()
  [ "$tc" = on ] && tcdef=(-DFPS_TEST_CONTROL=1)
  for src in "${SHARED[@]}"; do
    log="$WORK/fltsim.$tc.$src.log"
    if "$GCC" "${GCC_FLAGS[@]}" "${tcdef[@]}" -I"$FLTSIM_INC" "$SAMPLE/filter/$src" >"$log" 2>&1; then
      pass "gcc, fltsim alone, FPS_TEST_CONTROL=$tc $src"
    else
      FLTSIM_FAILED=$((FLTSIM_FAILED + 1))
      echo "  gap   gcc, fltsim alone, FPS_TEST_CONTROL=$tc $src"
      [ "$VERBOSE" = 1 ] && sed 's/^/        /' "$log" | head -n 40
    fi
  done
done
if [ "${#GAP_LIST[@]}" != 0 ]; then
  echo "  declarations the shared files need that fltsim's fltKernel.h does not provide (${#GAP_LIST[@]}):"
  printf '%s\n' "${GAP_LIST[@]}" | sort -u | paste -sd' ' | fold -s -w 88 | sed 's/^/    /'
fi
if [ "$FLTSIM_FAILED" != 0 ]; then
  if [ "$ALLOW_FLTSIM_GAPS" = 1 ]; then
    echo "  (advisory: --allow-fltsim-gaps)"
  else
    FAILED=$((FAILED + FLTSIM_FAILED))
  fi
fi

# ---------------------------------------------------------------------------------------
echo
echo "check-driver-syntax: $PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" = 0 ]
