#!/usr/bin/env bash
# Cross-compiles native/win's test programs with mingw-w64 and runs them under Wine, in a Wine
# prefix of their own. What runs (each a native/test/TestHarness.h program, one line per case):
#
#   win_completion_loop_test      the completion loop both backends share, driven with
#                                 overlapped named-pipe reads (Wine implements those for real)
#   win_mailslot_test             the mailslot backend end to end (Wine 8: its sliced path)
#   win_smoke                     the port backend links against libfltlib.a and reports Wine's
#                                 fltlib.dll E_NOTIMPL from FilterConnectCommunicationPort
#   win_filter_info_decoder_test  the enumeration-buffer decoder, on the Windows ABI
#
# The port backend's receive loop needs a fltlib.dll that can connect: that is the Wine lane's
# (native/cmake/run-wine-lane.sh). Nothing here has run on Windows.
#
# Env: FLTPORT_WIN_TEST_DIR (build output, default build/win-tests), FLTPORT_WINEPREFIX
# (default build/wine-tests-prefix), FLTPORT_JOBS (default 2), FLTPORT_WINE_TIMEOUT (seconds
# per program, default 180), FLTPORT_JUNIT_OUT (optional JUnit report for .ci/run).
# Exit 0 only when every case of every program passed.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
out="${FLTPORT_WIN_TEST_DIR:-$root/build/win-tests}"
prefix="${FLTPORT_WINEPREFIX:-$root/build/wine-tests-prefix}"
jobs="${FLTPORT_JOBS:-2}"
per_program_timeout="${FLTPORT_WINE_TIMEOUT:-180}"
cxx=x86_64-w64-mingw32-g++-posix
objdump=x86_64-w64-mingw32-objdump

say() { echo "run-wine-tests: $*"; }

for tool in "$cxx" "$objdump" wine wineserver timeout; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    say "$tool not found (Debian: apt-get install g++-mingw-w64-x86-64-posix wine wine64)" >&2
    exit 1
  fi
done
mkdir -p "$out/obj" "$(dirname "$prefix")"

# ---- Build ---------------------------------------------------------------------------------
# MSVC-clean C++17 with warnings as errors, as the addon itself must be; static runtime so
# the programs import only Windows DLLs (checked below).
cxxflags=(-std=c++17 -O2 -Wall -Wextra -Werror -Inative/core -Inative/win -Inative/test)
ldflags=(-static -static-libgcc -static-libstdc++)

declare -A objects=(
  [CompletionLoop]=native/win/CompletionLoop.cc
  [FilterInfoDecoder]=native/win/FilterInfoDecoder.cc
  [MailslotBackendWin]=native/win/MailslotBackendWin.cc
  [NtApi]=native/win/NtApi.cc
  [PortBackendWin]=native/win/PortBackendWin.cc
  [MessageBatch]=native/core/MessageBatch.cc
  [SessionState]=native/core/SessionState.cc
  [StatusTable]=native/core/StatusTable.cc
  [win_completion_loop_test]=native/test/win_completion_loop_test.cc
  [win_mailslot_test]=native/test/win_mailslot_test.cc
  [win_smoke]=native/test/win_smoke.cc
  [win_filter_info_decoder_test]=native/test/win_filter_info_decoder_test.cc
)
# program: its objects (the test's own first) and extra libraries.
programs=(
  "win_completion_loop_test|win_completion_loop_test CompletionLoop StatusTable|"
  "win_mailslot_test|win_mailslot_test MailslotBackendWin CompletionLoop NtApi MessageBatch SessionState StatusTable|"
  "win_smoke|win_smoke PortBackendWin CompletionLoop MessageBatch SessionState StatusTable|-lfltlib"
  "win_filter_info_decoder_test|win_filter_info_decoder_test FilterInfoDecoder StatusTable|"
)

# An object is rebuilt when its source or any header it may include is newer.
newest_header="$(ls -t native/core/*.h native/win/*.h native/test/*.h 2>/dev/null | head -n1)"
to_build=()
for name in "${!objects[@]}"; do
  src="${objects[$name]}"
  obj="$out/obj/$name.o"
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ "$newest_header" -nt "$obj" ]; then
    to_build+=("$src" "$obj")
  fi
done
if [ "${#to_build[@]}" -gt 0 ]; then
  say "compiling $(( ${#to_build[@]} / 2 )) file(s) with $cxx (-j$jobs)"
  # xargs hands each job a source and its object; the flags travel in the environment.
  if ! printf '%s\n' "${to_build[@]}" |
    FLTPORT_CXX="$cxx" FLTPORT_CXXFLAGS="${cxxflags[*]}" xargs -n 2 -P "$jobs" \
      sh -c '$FLTPORT_CXX $FLTPORT_CXXFLAGS -c "$1" -o "$2" || { rm -f "$2"; exit 255; }' job; then
    say "FAILED: compilation" >&2
    exit 1
  fi
fi

for entry in "${programs[@]}"; do
  IFS='|' read -r program objs libs <<<"$entry"
  files=()
  for o in $objs; do files+=("$out/obj/$o.o"); done
  # shellcheck disable=SC2086
  if ! "$cxx" -o "$out/$program.exe" "${files[@]}" $libs "${ldflags[@]}"; then
    say "FAILED: linking $program" >&2
    exit 1
  fi
  imports="$("$objdump" -p "$out/$program.exe" | sed -n 's/^\s*DLL Name: //p' | tr '\n' ' ')"
  for dll in $imports; do
    case "${dll,,}" in
      kernel32.dll | msvcrt.dll | fltlib.dll) ;;
      *) say "FAILED: $program imports $dll (only KERNEL32, msvcrt and FLTLIB are expected)" >&2
         exit 1 ;;
    esac
  done
  say "built $program.exe (imports: $imports)"
done

# ---- Wine prefix ---------------------------------------------------------------------------
export WINEPREFIX="$prefix" WINEDEBUG="${WINEDEBUG:--all}"
# No Mono/Gecko installers in a headless prefix.
export WINEDLLOVERRIDES="${WINEDLLOVERRIDES:-mscoree,mshtml=}"
cleanup() { timeout 30 wineserver -k >/dev/null 2>&1 || true; }
trap cleanup EXIT
if [ ! -f "$prefix/.fltport-win10" ]; then
  say "creating Wine prefix $prefix (Windows 10)"
  if ! timeout 300 wine winecfg -v win10 >"$out/winecfg.log" 2>&1; then
    say "FAILED: could not create the Wine prefix (see $out/winecfg.log)" >&2
    tail -n 20 "$out/winecfg.log" >&2
    exit 1
  fi
  touch "$prefix/.fltport-win10"
fi
say "$(wine --version 2>/dev/null), prefix $prefix"

# ---- Run -----------------------------------------------------------------------------------
passed=0
failed=0
junit_cases=""
xml_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'; }

for entry in "${programs[@]}"; do
  program="${entry%%|*}"
  log="$out/$program.log"
  start=$SECONDS
  # Output goes to a file, not a pipe: Windows console programs under Wine are happiest so.
  (cd "$out" && timeout "$per_program_timeout" wine "./$program.exe" >"$log" 2>&1)
  rc=$?
  took=$((SECONDS - start))
  # msvcrt writes CRLF line ends.
  tr -d '\r' <"$log" >"$log.tmp" && mv "$log.tmp" "$log"
  cases=0
  while IFS= read -r line; do
    case_name="${line%%: *}"
    result="${line##*: }"
    cases=$((cases + 1))
    if [ "$result" = "passed" ]; then
      passed=$((passed + 1))
      junit_cases+="    <testcase classname=\"wine.$program\" name=\"$case_name\"/>"$'\n'
    else
      failed=$((failed + 1))
      detail="$(grep -F "FAILED" "$log" | head -n 20 | xml_escape)"
      junit_cases+="    <testcase classname=\"wine.$program\" name=\"$case_name\"><failure message=\"failed under Wine\">$detail</failure></testcase>"$'\n'
    fi
  done < <(grep -E '^[A-Za-z0-9_.]+: (passed|FAILED)$' "$log")
  if [ "$cases" -eq 0 ] || { [ "$rc" -ne 0 ] && ! grep -q 'FAILED$' "$log"; }; then
    # Crashed, hung (exit 124 = timeout) or never reached its cases: one failure for the run.
    failed=$((failed + 1))
    detail="$(tail -n 20 "$log" | xml_escape)"
    junit_cases+="    <testcase classname=\"wine.$program\" name=\"run\"><failure message=\"exit $rc\">$detail</failure></testcase>"$'\n'
    say "$program: exit $rc after ${took}s with $cases case(s) reported; last lines:"
    tail -n 20 "$log" | sed 's/^/    /'
  else
    say "$program: $(grep -cE ': passed$' "$log") passed, $(grep -cE ': FAILED$' "$log") failed (${took}s)"
    if grep -qE ': FAILED$' "$log"; then grep -E 'FAILED' "$log" | sed 's/^/    /'; fi
  fi
done

if [ -n "${FLTPORT_JUNIT_OUT:-}" ]; then
  {
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo "<testsuite name=\"native-win-under-wine\" tests=\"$((passed + failed))\" failures=\"$failed\">"
    printf '%s' "$junit_cases"
    echo '</testsuite>'
  } >"$FLTPORT_JUNIT_OUT"
fi

say "under Wine: $passed passed, $failed failed"
if [ "$failed" -gt 0 ] || [ "$passed" -eq 0 ]; then
  say "FAIL"
  exit 1
fi
say "PASS"
