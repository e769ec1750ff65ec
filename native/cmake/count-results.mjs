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
// - a missing or unreadable report counts as one failed test, and so does a JUnit report that
//   is not well-formed XML (cut short by a killed writer): it is parsed, never pattern-matched;
// - ctest's "Not Run" (an executable that was never built) is written to JUnit as <skipped>,
//   but is a failure (ctest itself says "tests failed"); the native harness has no skip;
// - a vitest file that failed to load has no test results of its own: it counts as one failure.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * The elements of an XML document, in order: `{ name, attrs, children }`, attribute values and
 * nothing else decoded. Enough XML for JUnit (any tool's): comments, CDATA, processing
 * instructions and a DOCTYPE are skipped; attribute values may hold '>' and '/>' (legal, and
 * node's reporter writes them unescaped) and either quote. Not well-formed (unclosed or
 * mismatched tags, no root element, a broken tag) throws: a report cut short by a killed
 * writer must not count as the part that made it to disk.
 */
export function parseXmlElements(xml) {
  const root = { name: '', attrs: {}, children: [] };
  const stack = [root];
  let i = 0;
  const fail = (what) => {
    throw new Error(`not well-formed XML: ${what} at line ${xml.slice(0, i).split('\n').length}`);
  };
  const skipPast = (end, what) => {
    const at = xml.indexOf(end, i);
    if (at < 0) fail(`unterminated ${what}`);
    i = at + end.length;
  };
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    if (lt < 0) break;
    i = lt;
    if (xml.startsWith('<!--', i)) skipPast('-->', 'comment');
    else if (xml.startsWith('<![CDATA[', i)) skipPast(']]>', 'CDATA section');
    else if (xml.startsWith('<?', i)) skipPast('?>', 'processing instruction');
    else if (xml.startsWith('<!', i)) skipPast('>', 'declaration'); // DOCTYPE without an internal subset
    else if (xml.startsWith('</', i)) {
      const m = /^<\/([^\s>]+)\s*>/.exec(xml.slice(i, i + 512));
      if (!m) fail('broken end tag');
      const open = stack.pop();
      if (stack.length === 0 || open.name !== m[1]) fail(`</${m[1]}> closes <${open.name || '(nothing)'}>`);
      i += m[0].length;
    } else {
      const name = /^<([A-Za-z_:][\w:.-]*)/.exec(xml.slice(i, i + 256))?.[1];
      if (!name) fail("'<' that starts no tag");
      i += 1 + name.length;
      const el = { name, attrs: {}, children: [] };
      for (;;) {
        const ws = /^\s*/.exec(xml.slice(i, i + 4096))[0].length;
        i += ws;
        if (xml.startsWith('/>', i)) {
          i += 2;
          stack[stack.length - 1].children.push(el);
          break;
        }
        if (xml[i] === '>') {
          i += 1;
          stack[stack.length - 1].children.push(el);
          stack.push(el);
          break;
        }
        const attr = /^([A-Za-z_:][\w:.-]*)\s*=\s*(["'])/.exec(xml.slice(i, i + 512));
        if (!attr || ws === 0) fail(`broken attribute in <${name}>`);
        i += attr[0].length;
        const close = xml.indexOf(attr[2], i);
        if (close < 0) fail(`unterminated attribute ${attr[1]} in <${name}>`);
        const raw = xml.slice(i, close);
        if (raw.includes('<')) fail(`'<' in attribute ${attr[1]} of <${name}>`);
        el.attrs[attr[1]] = decodeEntities(raw);
        i = close + 1;
      }
    }
  }
  if (stack.length > 1) fail(`<${stack[stack.length - 1].name}> is never closed`);
  if (root.children.length !== 1) fail(root.children.length === 0 ? 'no root element' : 'more than one root element');
  return root.children[0];
}

function decodeEntities(text) {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, e) =>
    e[0] === '#' ? String.fromCodePoint(Number(e[1] === 'x' ? `0${e.slice(1)}` : e.slice(1))) : { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[e],
  );
}

/** @returns {{passed: number, failed: number, skipped: number}} */
export function countCtestJunit(xml) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const visit = (el) => {
    if (el.name !== 'testcase') {
      el.children.forEach(visit);
      return;
    }
    const status = el.attrs.status ?? '';
    const has = (name) => el.children.some((c) => c.name === name);
    if (status === 'fail' || status === 'notrun' || has('failure') || has('error')) failed++;
    else if (status === 'disabled' || (status === '' && has('skipped'))) skipped++;
    // JUnit written by other tools (hook scripts) has no status attribute: no failure, no
    // skip means it passed. A status we do not know is not evidence of a pass.
    else if (status === 'run' || status === '') passed++;
    else failed++;
  };
  visit(parseXmlElements(xml));
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
