#!/usr/bin/env node
// The Wine lane's report (native/cmake/run-wine-lane.sh): merges the JUnit files node.exe
// wrote into one, adds a failed test case for each lane-level failure (a build, the host, a
// test process that died without a report), writes it to OUT and prints "PASSED FAILED
// SKIPPED" counted by .ci/run's own rules (count-results.mjs).
//
//   node native/cmake/wine-lane-report.mjs OUT JUNIT_COUNT JUNIT... [FAILURE_NAME...]
//
// A FAILURE_NAME starting with "skip:" becomes a skipped case instead (a file not run, with
// the reason).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

import { countCtestJunit, parseXmlElements } from './count-results.mjs';

const [out, n, ...rest] = process.argv.slice(2);
const files = rest.slice(0, Number(n));
const failures = rest.slice(Number(n));
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

let body = '';
for (const f of files) {
  const xml = existsSync(f) ? readFileSync(f, 'utf8') : '';
  let problem = '';
  try {
    if (!/<testcase\b/.test(xml)) problem = 'no JUnit report: the test process died or ran nothing';
    else parseXmlElements(xml);
  } catch (e) {
    problem = `unreadable JUnit report (${e.message}): the test process died while writing it?`;
  }
  const inner = /<testsuites\b[^>]*>([\s\S]*)<\/testsuites>/.exec(xml)?.[1];
  if (problem || inner === undefined) {
    body += `<testcase name="${esc(f)}" classname="wine"><failure message="${esc(problem || 'no <testsuites> element')}"/></testcase>\n`;
  } else {
    body += inner;
  }
}
for (const f of failures) {
  if (f.startsWith('skip:')) {
    body += `<testcase name="${esc(f.slice(5))}" classname="wine-lane"><skipped message="${esc(f.slice(5))}"/></testcase>\n`;
  } else {
    body += `<testcase name="${esc(f)}" classname="wine-lane"><failure message="${esc(f)}"/></testcase>\n`;
  }
}
const xml = `<?xml version="1.0" encoding="utf-8"?>\n<testsuites>\n${body}</testsuites>\n`;
writeFileSync(out, xml);
const c = countCtestJunit(xml);
console.log(`${c.passed} ${c.failed} ${c.skipped}`);
