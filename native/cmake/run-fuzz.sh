#!/usr/bin/env bash
# Builds the libFuzzer targets of test/fuzz (CMake, clang, -DFLTPORT_FUZZ=ON: ASan + UBSan +
# coverage) into build/fuzz and runs each for a bounded time, starting from its committed
# corpus (test/fuzz/corpus/<target>, read-only) plus what earlier local runs found
# (build/fuzz/corpus/<target>, where new inputs go). A target that crashes, hangs, leaks or
# trips a sanitizer fails; the input that did it is kept in build/fuzz/artifacts/ and its path
# printed with the command that replays it. docs/native.md "Fuzzing" has the targets.
#
#   bash native/cmake/run-fuzz.sh [TARGET...]     (default: every target)
#
# Env: FLTPORT_FUZZ_SECONDS  time per target (default 6: what CI spends; raise it locally)
#      FLTPORT_FUZZ_JOBS     targets run at once (default 2: shared 2-core machines)
#      FLTPORT_FUZZ_ARGS     more libFuzzer flags for every target (e.g. -max_len=65536)
#      FLTPORT_JUNIT_OUT     JUnit report for .ci/run, one case per target
#      CC / CXX              clang and clang++ (default clang, clang++)
# Prints one line:  fuzz: N targets, N execs, N failed   and exits 0 only when none failed.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
build="$root/build/fuzz"
seconds="${FLTPORT_FUZZ_SECONDS:-6}"
jobs="${FLTPORT_FUZZ_JOBS:-2}"
extra_args=(${FLTPORT_FUZZ_ARGS:-})
cc="${CC:-clang}"
cxx="${CXX:-clang++}"

say() { echo "fuzz: $*"; }

# libFuzzer's runtime is a separate Debian package (libclang-rt-14-dev) that clang only
# recommends: say so plainly instead of failing deep in the link.
probe="$(mktemp -d)"
trap 'rm -rf "$probe"' EXIT
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' \
  >"$probe/probe.cc"
if ! "$cxx" -fsanitize=fuzzer,address,undefined "$probe/probe.cc" -o "$probe/probe" >"$probe/log" 2>&1; then
  say "$cxx cannot build a libFuzzer target (Debian: apt-get install clang libclang-rt-14-dev):"
  sed 's/^/    /' "$probe/log" | head -n 10
  exit 1
fi

t0=$SECONDS
mkdir -p "$build/artifacts" "$build/logs"
if ! cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
     -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
     -DFLTPORT_BUILD_TESTS=ON -DFLTPORT_FUZZ=ON >"$build/logs/configure.log" 2>&1; then
  say "cmake configure failed:"
  tail -n 30 "$build/logs/configure.log"
  exit 1
fi
if ! nice -n 19 cmake --build "$build" --target fltport_fuzz --parallel "$jobs" \
     >"$build/logs/build.log" 2>&1; then
  say "build failed:"
  grep -E 'error|Error' "$build/logs/build.log" | head -n 30
  exit 1
fi
say "built in $((SECONDS - t0))s"

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cd "$build" && ls fuzz_* 2>/dev/null | sed 's/^fuzz_//' | sort)
fi
if [ "${#targets[@]}" -eq 0 ]; then
  say "no targets were built"
  exit 1
fi

# run_target NAME: fuzzes one target; its log is build/fuzz/logs/NAME.log.
run_target() {
  local name="$1"
  local exe="$build/fuzz_$name" log="$build/logs/$name.log"
  mkdir -p "$build/corpus/$name"
  rm -f "$build/artifacts/$name-"*
  if [ ! -x "$exe" ] || [ ! -d "test/fuzz/corpus/$name" ]; then
    echo "no executable $exe or no seed corpus test/fuzz/corpus/$name" >"$log"
    return 1
  fi
  # -timeout: one input running longer is a hang; -rss_limit_mb: a run that grows past it
  # is a leak or an unbounded allocation. Both fail the target like a crash.
  nice -n 19 "$exe" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$name-" "${extra_args[@]}" \
    "$build/corpus/$name" "test/fuzz/corpus/$name" >"$log" 2>&1
}

names=()
for name in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  (
    rc=0
    run_target "$name" || rc=$?
    echo "$rc" >"$build/logs/$name.rc"
  ) &
  names+=("$name")
done
wait

junit_cases=""
xml_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'; }
failed=0
total_execs=0
for name in "${names[@]}"; do
  log="$build/logs/$name.log"
  rc="$(cat "$build/logs/$name.rc" 2>/dev/null || echo 1)"
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
  execs="${execs:-0}"
  total_execs=$((total_execs + execs))
  if [ "$rc" -eq 0 ]; then
    say "$name: ok, $execs execs"
    junit_cases+="    <testcase classname=\"fuzz\" name=\"$name\"/>"$'\n'
    continue
  fi
  failed=$((failed + 1))
  artifact="$(ls -t "$build/artifacts/$name-"* 2>/dev/null | head -n 1)"
  say "$name: FAILED (exit $rc) after $execs execs"
  if [ -n "$artifact" ]; then
    say "  input: $artifact"
    say "  replay: $build/fuzz_$name $artifact"
  fi
  grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -n 5 | sed 's/^/    /'
  say "  log: $log"
  detail="$( (grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -n 5; echo "input: ${artifact:-none}") | xml_escape)"
  junit_cases+="    <testcase classname=\"fuzz\" name=\"$name\"><failure message=\"fuzz target failed\">$detail</failure></testcase>"$'\n'
done

if [ -n "${FLTPORT_JUNIT_OUT:-}" ]; then
  {
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo "<testsuite name=\"fuzz\" tests=\"${#names[@]}\" failures=\"$failed\">"
    printf '%s' "$junit_cases"
    echo '</testsuite>'
  } >"$FLTPORT_JUNIT_OUT"
fi

say "${#names[@]} targets, $total_execs execs, $failed failed ($((SECONDS - t0))s, ${seconds}s each)"
[ "$failed" -eq 0 ]
