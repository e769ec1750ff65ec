// The numbers in CI's closing line ("tests: N passed, N failed") come from ctest's JUnit report
// and vitest's JSON report. These tests pin how they are counted, and that the ctest side
// registers one test per native case, including the ways a native test can break.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countCtestJunit as ctest, countVitestJson as vitest } from '../../native/cmake/count-results.mjs';
import { skipNote } from '../helpers/skip.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('count-results: ctest JUnit', () => {
  it('counts run, failed, not-run and disabled cases', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="(empty)" tests="5" failures="2" disabled="1" skipped="1">
  <testcase name="a.ok" classname="a.ok" time="0.001" status="run">
    <system-out>ok: passed</system-out>
  </testcase>
  <testcase name="a.bad" classname="a.bad" time="0.001" status="fail">
    <failure message=""/>
  </testcase>
  <testcase name="a.crash" classname="a.crash" time="0.001" status="fail">
    <failure message=""/>
  </testcase>
  <testcase name="b.NOT_BUILT" classname="b.NOT_BUILT" time="0" status="notrun">
    <skipped message="Unable to find executable"/>
  </testcase>
  <testcase name="c.off" classname="c.off" time="0" status="disabled">
    <skipped message="Disabled"/>
  </testcase>
</testsuite>`;
    // JUnit's own attributes say failures=2, skipped=1; a never-built executable is a failure.
    expect(ctest(xml)).toEqual({ passed: 1, failed: 3, skipped: 1 });
  });

  it('reads JUnit from other tools (no status attribute) by its failure and skipped elements', () => {
    const xml = `<testsuites><testsuite name="wine">
  <testcase name="a" classname="win"/>
  <testcase name="b" classname="win"><failure message="got 0x80070005"/></testcase>
  <testcase name="c" classname="win"><error message="crashed"/></testcase>
  <testcase name="d" classname="win"><skipped/></testcase>
  <testcase name="e" classname="win"><system-out>ok</system-out></testcase>
</testsuite></testsuites>`;
    expect(ctest(xml)).toEqual({ passed: 2, failed: 2, skipped: 1 });
  });

  it('counts nothing in an empty report, and an unknown status as failed', () => {
    expect(ctest('<testsuite tests="0"></testsuite>')).toEqual({ passed: 0, failed: 0, skipped: 0 });
    expect(ctest('<testsuite><testcase name="x" status="weird"/></testsuite>')).toEqual({ passed: 0, failed: 1, skipped: 0 });
  });
});

describe('count-results: vitest JSON', () => {
  it('adds pending and todo to skipped, and a file that failed to load to failed', () => {
    const report = {
      numPassedTests: 7,
      numFailedTests: 2,
      numPendingTests: 3,
      numTodoTests: 1,
      testResults: [
        { status: 'passed', assertionResults: [{}, {}] },
        { status: 'failed', assertionResults: [{}, {}] },
        { status: 'failed', assertionResults: [] },
      ],
    };
    expect(vitest(report)).toEqual({ passed: 7, failed: 3, skipped: 4 });
  });

  it('reads an empty or odd report as zero, not as a crash', () => {
    expect(vitest({})).toEqual({ passed: 0, failed: 0, skipped: 0 });
    expect(vitest(null)).toEqual({ passed: 0, failed: 0, skipped: 0 });
  });
});

describe('count-results CLI', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fltport-count-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = (...args: string[]): { out: string; err: string; status: number | null } => {
    const r = spawnSync(process.execPath, [join(root, 'native/cmake/count-results.mjs'), ...args], { encoding: 'utf8' });
    return { out: r.stdout.trim(), err: r.stderr, status: r.status };
  };

  it('sums both reports', () => {
    writeFileSync(join(dir, 'j.xml'), '<testsuite><testcase name="a" status="run"/><testcase name="b" status="fail"><failure/></testcase></testsuite>');
    writeFileSync(join(dir, 'v.json'), JSON.stringify({ numPassedTests: 4, numFailedTests: 0, numPendingTests: 2, testResults: [] }));
    const r = cli(join(dir, 'j.xml'), join(dir, 'v.json'));
    expect(r.status).toBe(0);
    expect(r.out).toBe('5 1 2');
  });

  it('adds the JUnit reports of CI hooks after the two main reports', () => {
    writeFileSync(join(dir, 'hook.xml'), '<testsuite><testcase name="w1"/><testcase name="w2"><failure/></testcase></testsuite>');
    const r = cli(join(dir, 'j.xml'), join(dir, 'v.json'), join(dir, 'hook.xml'));
    expect(r.out).toBe('6 2 2');
  });

  it('counts a missing or corrupt report as a failure', () => {
    writeFileSync(join(dir, 'bad.json'), '{ not json');
    const r = cli(join(dir, 'missing.xml'), join(dir, 'bad.json'));
    expect(r.out).toBe('0 2 0');
    expect(r.err).toMatch(/ctest: no report/);
    expect(r.err).toMatch(/vitest: unreadable report/);
  });
});

// Builds a throw-away CMake project with native/cmake/FltportTests.cmake and runs ctest on it.
// That harness is Linux CI's (.ci/run builds and runs ctest there, with a single-config
// generator); Windows CI has cmake but never runs it: with the default Visual Studio generator
// file(GENERATE) of $<TARGET_FILE> is per configuration, ctest needs -C, and the crash case's
// std::abort() in a Debug MSVC build opens an error dialog instead of failing.
const onWindows = process.platform === 'win32';
const haveCMake = !onWindows && spawnSync('cmake', ['--version']).status === 0 && spawnSync('ctest', ['--version']).status === 0;
const skipCMake = skipNote(
  !haveCMake,
  'build.ci "FltportTests.cmake: one ctest test per native case"',
  onWindows
    ? "the native test harness is Linux CI's (single-config CMake generator, POSIX abort semantics); Windows CI does not build it"
    : 'cmake and ctest are not both on PATH',
);

describe.skipIf(skipCMake)('FltportTests.cmake: one ctest test per native case', () => {
  let dir = '';
  let junit = '';
  let ctestOutput = '';
  let ctestStatus: number | null = null;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fltport-discover-'));
    const cases = `#include "TestHarness.h"
#include <cstdlib>
static void Ok() { fltport::test::ExpectEq(0x80070006u, 0x80070006u, "same"); }
static void Bad() { fltport::test::ExpectEq(0x80070006u, 0x80070005u, "different"); }
static void Crash() { std::abort(); }
int main(int argc, char** argv) {
  return fltport::test::Main(argc, argv, {{"ok", &Ok}, {"bad", &Bad}, {"crash", &Crash}});
}
`;
    writeFileSync(join(dir, 'alpha.cc'), cases);
    writeFileSync(join(dir, 'never_built.cc'), cases);
    writeFileSync(join(dir, 'empty.cc'), '#include "TestHarness.h"\nint main(int c, char** v) { return fltport::test::Main(c, v, {}); }\n');
    writeFileSync(
      join(dir, 'CMakeLists.txt'),
      `cmake_minimum_required(VERSION 3.20)
project(discover CXX)
set(CMAKE_CXX_STANDARD 17)
enable_testing()
include("${join(root, 'native/cmake/FltportTests.cmake')}")
fltport_add_native_test(alpha SOURCES alpha.cc)
fltport_add_native_test(never_built SOURCES never_built.cc)
fltport_add_native_test(empty SOURCES empty.cc)
`,
    );
    const build = join(dir, 'build');
    execFileSync('cmake', ['-S', dir, '-B', build], { stdio: 'pipe' });
    // never_built is configured but not built: the case of a test whose build was skipped.
    execFileSync('cmake', ['--build', build, '--target', 'alpha', 'empty'], { stdio: 'pipe' });
    junit = join(dir, 'junit.xml');
    const r = spawnSync('ctest', ['--test-dir', build, '--output-junit', junit], { encoding: 'utf8' });
    ctestOutput = r.stdout + r.stderr;
    ctestStatus = r.status;
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('registers each case as <executable>.<case>, and each breakage as its own failing test', () => {
    const names = [...readFileSync(junit, 'utf8').matchAll(/<testcase name="([^"]+)"/g)].map((m) => m[1]).sort();
    expect(names).toEqual(['alpha.bad', 'alpha.crash', 'alpha.ok', 'empty.NO_CASES', 'never_built.NOT_BUILT']);
  });

  it('fails the run, and counts 1 passed and 4 failed', () => {
    expect(ctestStatus).not.toBe(0);
    expect(ctestOutput).toMatch(/20% tests passed, 4 tests failed out of 5/);
    expect(ctest(readFileSync(junit, 'utf8'))).toEqual({ passed: 1, failed: 4, skipped: 0 });
  });

  it('reports the failing check with both values in hex', () => {
    const log = readFileSync(join(dir, 'build/Testing/Temporary/LastTest.log'), 'utf8');
    expect(log).toMatch(/FAILED different: got 2147942406 \(0x80070006\), want 2147942405 \(0x80070005\)/);
  });
});
