#!/usr/bin/env node
// Counts test results for .ci/run's closing line from ctest's JUnit report and vitest's JSON
// report. Prints "PASSED FAILED SKIPPED" on stdout and a per-runner breakdown on stderr.
//
//   node native/cmake/count-results.mjs CTEST_JUNIT.xml VITEST.json [MORE_JUNIT.xml...]
//
// MORE_JUNIT files are JUnit reports written by CI hook scripts (e.g. native tests run under
// Wine); each is read like ctest's.
//
// Rules, chosen so that a broken run can never read as green:
// - a missing or unreadable report counts as one failed test;
// - ctest's "Not Run" (an executable that was never built) is written to JUnit as <skipped>,
//   but is a failure (ctest itself says "tests failed"); the native harness has no skip;
// - a vitest file that failed to load has no test results of its own: it counts as one failure.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** @returns {{passed: number, failed: number, skipped: number}} */
export function countCtestJunit(xml) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const m of xml.matchAll(/<testcase\b([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const attrs = m[1] ?? '';
    const body = m[3] ?? '';
    const status = /\bstatus="([^"]*)"/.exec(attrs)?.[1] ?? '';
    if (status === 'fail' || status === 'notrun' || /<(failure|error)\b/.test(body)) failed++;
    else if (status === 'disabled' || (status === '' && /<skipped\b/.test(body))) skipped++;
    // JUnit written by other tools (hook scripts) has no status attribute: no failure, no
    // skip means it passed. A status we do not know is not evidence of a pass.
    else if (status === 'run' || status === '') passed++;
    else failed++;
  }
  return { passed, failed, skipped };
}

/** @returns {{passed: number, failed: number, skipped: number}} */
export function countVitestJson(report) {
  const files = Array.isArray(report?.testResults) ? report.testResults : [];
  const brokenFiles = files.filter(
    (f) => f?.status === 'failed' && (Array.isArray(f.assertionResults) ? f.assertionResults.length : 0) === 0,
  ).length;
  return {
    passed: Number(report?.numPassedTests ?? 0),
    failed: Number(report?.numFailedTests ?? 0) + brokenFiles,
    skipped: Number(report?.numPendingTests ?? 0) + Number(report?.numTodoTests ?? 0),
  };
}

function readReport(path, parse, label) {
  if (!path || !existsSync(path)) {
    console.error(`${label}: no report at ${path ?? '(none given)'}: counted as 1 failed`);
    return { passed: 0, failed: 1, skipped: 0 };
  }
  try {
    const c = parse(readFileSync(path, 'utf8'));
    console.error(`${label}: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`);
    return c;
  } catch (e) {
    console.error(`${label}: unreadable report ${path} (${e.message}): counted as 1 failed`);
    return { passed: 0, failed: 1, skipped: 0 };
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  const [junitPath, vitestPath, ...more] = process.argv.slice(2);
  const parts = [
    readReport(junitPath, countCtestJunit, 'ctest'),
    readReport(vitestPath, (t) => countVitestJson(JSON.parse(t)), 'vitest'),
    ...more.map((p) => readReport(p, countCtestJunit, p)),
  ];
  const sum = (k) => parts.reduce((n, c) => n + c[k], 0);
  console.log(`${sum('passed')} ${sum('failed')} ${sum('skipped')}`);
}
