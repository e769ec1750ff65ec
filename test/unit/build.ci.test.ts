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

// The reports the counts are taken from, as the tools write them for names full of markup:
// node's test runner (test/wine under node.exe) leaves '>' unescaped in attributes and text.
describe('count-results: JUnit as node --test and vitest write it, and merged by the Wine lane', () => {
  const name = `a > b "c" & <d> 'e' />`;
  const reports: Record<'node' | 'vitest', string> = { node: '', vitest: '' };
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fltport-junit-'));
    const cases = (api: string) => `${api}
test(${JSON.stringify(name)}, () => {});
test('fails > here', () => { throw new Error('x > y <z> />'); });
test.skip('skipped > </testcase>', () => {});
test.todo('todo >');
`;
    writeFileSync(join(dir, 'n.test.mjs'), cases("import { test } from 'node:test';"));
    writeFileSync(join(dir, 'v.test.js'), cases(''));
    reports.node = join(dir, 'node.xml');
    reports.vitest = join(dir, 'vitest.xml');
    // Exit status 1: one case fails on purpose.
    spawnSync(process.execPath, ['--test', '--test-reporter=junit', `--test-reporter-destination=${reports.node}`, 'n.test.mjs'], { cwd: dir });
    spawnSync(
      process.execPath,
      [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--root', dir, '--globals', '--reporter=junit', `--outputFile.junit=${reports.vitest}`, 'v.test.js'],
      { cwd: dir },
    );
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("counts node's report, whose attributes keep '>' and '/>' unescaped", () => {
    const xml = readFileSync(reports.node, 'utf8');
    expect(xml).toMatch(/name="fails > here"/);
    expect(ctest(xml)).toEqual({ passed: 1, failed: 1, skipped: 2 });
  });

  it("counts vitest's report", () => {
    expect(ctest(readFileSync(reports.vitest, 'utf8'))).toEqual({ passed: 1, failed: 1, skipped: 2 });
  });

  it('wine-lane-report.mjs merges both as they are, adds lane-level failures and skips, and counts the same', () => {
    const out = join(dir, 'lane.xml');
    const cut = join(dir, 'cut.xml');
    writeFileSync(cut, readFileSync(reports.node, 'utf8').slice(0, 300));
    const r = spawnSync(
      process.execPath,
      [join(root, 'native/cmake/wine-lane-report.mjs'), out, '4', reports.node, reports.vitest, cut, join(dir, 'missing.xml'), 'build: x > y', 'skip:f.test.ts (not run)'],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    // node 1/1/2 + vitest 1/1/2 + the cut report, the missing one and the lane failure (failed)
    // + the skip.
    expect(r.stdout.trim()).toBe('2 5 5');
    const merged = readFileSync(out, 'utf8');
    expect(ctest(merged)).toEqual({ passed: 2, failed: 5, skipped: 5 });
    expect(merged).toContain('name="fails > here"');
    expect(merged).toMatch(/cut\.xml" classname="wine"><failure message="unreadable JUnit report/);
  });
});

describe('count-results: JUnit is parsed as XML, not matched by pattern', () => {
  it("reads a test name with an unescaped '>' (legal in an attribute value) as one case", () => {
    // A pattern that ends the tag at the first '>' read this as one case whose body ran on into
    // the next case: 0 passed, 1 failed.
    const xml = '<testsuites><testcase name="a > b"/><testcase name="c"><failure/></testcase></testsuites>';
    expect(ctest(xml)).toEqual({ passed: 1, failed: 1, skipped: 0 });
  });

  it("reads '/>', '<'-free markup and either quote inside attribute values", () => {
    const xml = `<testsuite>
  <testcase name='it "quotes" />' classname="a>b" status="run"/>
  <testcase name="x &gt; y &amp;&lt;z&gt;" status='fail'><failure message='1 > 0'/></testcase>
  <testcase name="&#x3e;&#62;" status="&#x72;un" />
</testsuite>`;
    expect(ctest(xml)).toEqual({ passed: 2, failed: 1, skipped: 0 });
  });

  it('ignores markup inside comments, CDATA and processing instructions', () => {
    const xml = `<?xml version="1.0"?><!DOCTYPE testsuites>
<!-- <testcase name="commented out"><failure/></testcase> -->
<testsuites><?report tool="x"?>
  <testcase name="out">
    <system-out><![CDATA[<failure message="printed by the test"/> </testcase>]]></system-out>
    <system-err>&lt;error/&gt;</system-err>
  </testcase>
</testsuites>`;
    expect(ctest(xml)).toEqual({ passed: 1, failed: 0, skipped: 0 });
  });

  it('counts only failure, error and skipped elements of the case itself', () => {
    const xml = `<testsuites><testcase name="a"><properties><property name="failure" value="x"/></properties></testcase>
<testcase name="b"><skipped/><system-out>failure</system-out></testcase></testsuites>`;
    expect(ctest(xml)).toEqual({ passed: 1, failed: 0, skipped: 1 });
  });

  it('refuses a report cut short or broken instead of counting the part that was written', () => {
    const whole = '<testsuites><testcase name="a"/><testcase name="b"><failure/></testcase></testsuites>';
    for (const cut of [whole.slice(0, 40), whole.slice(0, -1), whole.slice(0, -14)]) {
      expect(() => ctest(cut), cut).toThrow(/not well-formed XML/);
    }
    expect(() => ctest('')).toThrow(/no root element/);
    expect(() => ctest('<a><testcase name="x"></a></testcase>')).toThrow(/<\/a> closes <testcase>/);
    expect(() => ctest('<a><testcase name="x" status="run></a>')).toThrow(/unterminated attribute status/);
    expect(() => ctest('<a><testcase name=x/></a>')).toThrow(/broken attribute/);
    expect(() => ctest('<a/><b/>')).toThrow(/more than one root/);
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
    writeFileSync(join(dir, 'cut.xml'), '<testsuite><testcase name="a" status="run"/><testcase name="b" sta');
    const r = cli(join(dir, 'missing.xml'), join(dir, 'bad.json'), join(dir, 'cut.xml'));
    expect(r.out).toBe('0 3 0');
    expect(r.err).toMatch(/ctest: no report/);
    expect(r.err).toMatch(/vitest: unreadable report/);
    expect(r.err).toMatch(/cut\.xml: unreadable report .*not well-formed XML/);
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
