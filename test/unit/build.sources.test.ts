// binding.gyp (what `npm install` builds) and CMakeLists.txt (unit tests, sanitizers, the
// Windows cross-build) must compile the same files, or the addon users get differs from the
// one that was tested. This test holds the two source lists together, list by list.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

// ---- A parser for gyp files: Python literals (dicts, lists, strings) with # comments ----------

type GypValue = string | number | boolean | GypValue[] | { [key: string]: GypValue };

class GypSyntaxError extends Error {}

function parseGyp(text: string): GypValue {
  let i = 0;
  const fail = (what: string): never => {
    const line = text.slice(0, i).split('\n').length;
    throw new GypSyntaxError(`gyp: ${what} at line ${line}`);
  };
  const skip = (): void => {
    for (;;) {
      while (i < text.length && /\s/.test(text[i] ?? '')) i++;
      if (text[i] === '#') {
        while (i < text.length && text[i] !== '\n') i++;
        continue;
      }
      return;
    }
  };
  const parseString = (): string => {
    const quote = text[i];
    i++;
    let out = '';
    while (i < text.length && text[i] !== quote) {
      const c = text[i] ?? '';
      if (c === '\n') fail('newline in string');
      if (c === '\\') {
        const n = text[i + 1] ?? '';
        out += n === 'n' ? '\n' : n === 't' ? '\t' : n;
        i += 2;
      } else {
        out += c;
        i++;
      }
    }
    if (i >= text.length) fail('unterminated string');
    i++;
    // Python joins adjacent literals: 'a' 'b' == 'ab'.
    skip();
    if (text[i] === "'" || text[i] === '"') out += parseString();
    return out;
  };
  const parseValue = (): GypValue => {
    skip();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: { [key: string]: GypValue } = {};
      for (;;) {
        skip();
        if (text[i] === '}') {
          i++;
          return obj;
        }
        if (text[i] !== "'" && text[i] !== '"') fail('expected a string key');
        const key = parseString();
        skip();
        if (text[i] !== ':') fail(`expected ':' after '${key}'`);
        i++;
        if (Object.hasOwn(obj, key)) fail(`duplicate key '${key}'`);
        obj[key] = parseValue();
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') fail(`expected ',' or '}' after value of '${key}'`);
      }
    }
    if (c === '[') {
      i++;
      const arr: GypValue[] = [];
      for (;;) {
        skip();
        if (text[i] === ']') {
          i++;
          return arr;
        }
        arr.push(parseValue());
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== ']') fail("expected ',' or ']'");
      }
    }
    if (c === "'" || c === '"') return parseString();
    const word = /^(True|False|-?\d+)/.exec(text.slice(i));
    if (word) {
      i += word[0].length;
      return word[0] === 'True' ? true : word[0] === 'False' ? false : Number(word[0]);
    }
    return fail(`unexpected '${c ?? 'end of input'}'`);
  };
  const value = parseValue();
  skip();
  if (i < text.length) fail('trailing text');
  return value;
}

function isDict(v: GypValue | undefined): v is { [key: string]: GypValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringList(v: GypValue | undefined, what: string): string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
    throw new Error(`${what} is not a list of strings`);
  }
  return v as string[];
}

/** The `variables` of binding.gyp whose names end in `_sources`. */
function gypSourceLists(text: string): Map<string, string[]> {
  const gyp = parseGyp(text);
  if (!isDict(gyp) || !isDict(gyp['variables'])) throw new Error('binding.gyp has no top-level variables');
  const lists = new Map<string, string[]>();
  for (const [name, value] of Object.entries(gyp['variables'])) {
    if (name.endsWith('_sources')) lists.set(name, stringList(value, `binding.gyp variable ${name}`));
  }
  return lists;
}

// ---- CMakeLists.txt: `set(<NAME>_SOURCES ...)` at the start of a line ---------------------

function stripCMakeComments(text: string): string {
  // Line comments only; a '#' inside a quoted argument is kept.
  return text
    .split('\n')
    .map((line) => {
      let inQuote = false;
      for (let k = 0; k < line.length; k++) {
        const c = line[k];
        if (c === '"' && line[k - 1] !== '\\') inQuote = !inQuote;
        if (c === '#' && !inQuote) return line.slice(0, k);
      }
      return line;
    })
    .join('\n');
}

function cmakeSourceLists(text: string): Map<string, string[]> {
  const body = stripCMakeComments(text);
  const lists = new Map<string, string[]>();
  const re = /^[ \t]*set\(\s*([A-Z0-9_]+_SOURCES)\b([^)]*)\)/gm;
  for (const m of body.matchAll(re)) {
    const name = m[1] ?? '';
    if (lists.has(name)) throw new Error(`CMakeLists.txt sets ${name} more than once`);
    lists.set(
      name,
      (m[2] ?? '')
        .split(/\s+/)
        .filter((s) => s.length > 0)
        .map((s) => s.replace(/^"(.*)"$/, '$1')),
    );
  }
  return lists;
}

/** binding.gyp variable name -> CMake list name. */
function cmakeNameFor(gypName: string): string {
  const upper = gypName.toUpperCase();
  return upper.startsWith('FLTSIM') ? upper : `FLTPORT_${upper}`;
}

/**
 * CMake lists with no gyp counterpart: node-gyp cannot cross-compile for Windows (the Wine
 * lane's programs), and samples/ is not in the npm package (fltsim-host-sample).
 */
const CMAKE_ONLY = new Set(['FLTSIM_WIN32_SOURCES', 'FLTSIM_SAMPLE_SOURCES']);

function compareLists(gyp: Map<string, string[]>, cmake: Map<string, string[]>): string[] {
  const problems: string[] = [];
  const paired = new Set<string>();
  for (const [gypName, gypFiles] of gyp) {
    const cmakeName = cmakeNameFor(gypName);
    paired.add(cmakeName);
    const cmakeFiles = cmake.get(cmakeName);
    if (!cmakeFiles) {
      problems.push(`binding.gyp ${gypName} has no ${cmakeName} in CMakeLists.txt`);
      continue;
    }
    for (const f of gypFiles) {
      if (!cmakeFiles.includes(f)) problems.push(`${f} is in binding.gyp ${gypName} but not in CMakeLists.txt ${cmakeName}`);
    }
    for (const f of cmakeFiles) {
      if (!gypFiles.includes(f)) problems.push(`${f} is in CMakeLists.txt ${cmakeName} but not in binding.gyp ${gypName}`);
    }
  }
  for (const name of cmake.keys()) {
    if (!paired.has(name) && !CMAKE_ONLY.has(name)) problems.push(`CMakeLists.txt ${name} has no counterpart in binding.gyp`);
  }
  for (const [name, files] of [...gyp, ...cmake]) {
    const seen = new Set<string>();
    for (const f of files) {
      if (seen.has(f)) problems.push(`${f} is listed twice in ${name}`);
      seen.add(f);
    }
  }
  return problems;
}

// ---- The real files ------------------------------------------------------------------------

const gypText = readFileSync(join(root, 'binding.gyp'), 'utf8');
const cmakeText = readFileSync(join(root, 'CMakeLists.txt'), 'utf8');

const EXPECTED_GYP_LISTS = ['core_sources', 'napi_sources', 'posix_sources', 'win_sources', 'fltsim_sources'];

/** Files under native/, from git when this is a checkout (work in progress that is not yet
 * committed is not held against anyone), else from the file system. */
function nativeFiles(): string[] {
  try {
    const out = execFileSync('git', ['ls-files', '--', 'native'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out.split('\n').filter(Boolean);
  } catch {
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(dir, e.name)) : [relative(root, join(dir, e.name)).split(sep).join('/')],
      );
    return walk(join(root, 'native'));
  }
}

describe('binding.gyp and CMakeLists.txt list the same sources', () => {
  const gyp = gypSourceLists(gypText);
  const cmake = cmakeSourceLists(cmakeText);

  it('binding.gyp declares every source list of DESIGN.md', () => {
    expect([...gyp.keys()].sort()).toEqual(expect.arrayContaining(EXPECTED_GYP_LISTS));
    expect(gyp.get('core_sources')?.length).toBeGreaterThan(0);
  });

  it('CMakeLists.txt declares the matching lists, plus FLTSIM_WIN32_SOURCES for the Wine lane and FLTSIM_SAMPLE_SOURCES', () => {
    for (const name of EXPECTED_GYP_LISTS) expect(cmake.has(cmakeNameFor(name)), cmakeNameFor(name)).toBe(true);
    expect(cmake.has('FLTSIM_WIN32_SOURCES')).toBe(true);
    expect(cmake.has('FLTSIM_SAMPLE_SOURCES')).toBe(true);
  });

  it('fltsim-host-sample is built from samples/ only, and only where samples/ exists (not from the npm package)', () => {
    const files = cmake.get('FLTSIM_SAMPLE_SOURCES') ?? [];
    expect(files.length).toBeGreaterThan(0);
    expect(files.filter((f) => !f.startsWith('samples/'))).toEqual([]);
    const published = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files: string[] }).files;
    expect(published.some((f) => f.startsWith('samples'))).toBe(false);
    const body = stripCMakeComments(cmakeText);
    const guard = /if\(TARGET fltsim-host AND EXISTS "\$\{PROJECT_SOURCE_DIR\}\/samples\/[^"]+"\)([\s\S]*?)\nendif\(\)/.exec(body);
    expect(guard?.[1]).toMatch(/add_executable\(fltsim-host-sample \$\{FLTSIM_SAMPLE_SOURCES\}/);
    expect(body.replace(guard?.[0] ?? '', '')).not.toMatch(/FLTSIM_SAMPLE_SOURCES\}/);
  });

  it('every list matches its counterpart exactly', () => {
    expect(compareLists(gyp, cmake)).toEqual([]);
  });

  it('every listed file exists', () => {
    const missing = [...gyp.values(), ...cmake.values()].flat().filter((f) => !existsSync(join(root, f)));
    expect([...new Set(missing)]).toEqual([]);
  });

  it('every committed native compilation unit is built by some list or test', () => {
    const files = nativeFiles();
    const listed = new Set([...gyp.values(), ...cmake.values()].flat());
    // Native tests and the benchmark client (native/bench/, `npm run bench`) are programs, not
    // list members: built by CMakeLists.txt, or (Windows programs run under Wine) by a build
    // script under native/ that names them.
    const scripts = files
      .filter((f) => /\.(sh|cmake|mjs)$/.test(f))
      .map((f) => readFileSync(join(root, f), 'utf8'))
      .join('\n');
    const isTestBuilt = (f: string): boolean => {
      const base = f.slice(f.lastIndexOf('/') + 1);
      return cmakeText.includes(f) || scripts.includes(f) || scripts.includes(base);
    };
    const unlisted = files
      .filter((f) => /\.(c|cc|cpp)$/.test(f))
      .filter((f) => !listed.has(f) && !(/^native\/(test|bench)\//.test(f) && isTestBuilt(f)));
    expect(unlisted, 'add these files to a source list (both build files), or build the test').toEqual([]);
  });

  it('lists are never extended outside their set(): no globbing, no list(APPEND)', () => {
    const body = stripCMakeComments(cmakeText);
    expect(body).not.toMatch(/file\s*\(\s*GLOB/i);
    expect(body).not.toMatch(/list\s*\(\s*(APPEND|INSERT|PREPEND)\s+[A-Z0-9_]*_SOURCES\b/i);
  });

  it('the addon target builds core + napi everywhere, posix off Windows and win on Windows', () => {
    const parsed = parseGyp(gypText);
    if (!isDict(parsed)) throw new Error('binding.gyp is not a dict');
    const targets = parsed['targets'];
    if (!Array.isArray(targets)) throw new Error('binding.gyp has no targets');
    const addon = targets.find((t) => isDict(t) && t['target_name'] === 'fltport');
    if (!isDict(addon)) throw new Error('no fltport target');
    expect(stringList(addon['sources'], 'fltport sources')).toEqual(['<@(core_sources)', '<@(napi_sources)']);
    const conditions = addon['conditions'];
    if (!Array.isArray(conditions)) throw new Error('fltport has no conditions');
    const byCondition = new Map<string, GypValue[]>();
    for (const c of conditions) {
      if (Array.isArray(c) && typeof c[0] === 'string' && isDict(c[1])) {
        byCondition.set(c[0], stringList(c[1]['sources'] ?? [], `sources under ${c[0]}`));
      }
    }
    expect(byCondition.get('OS=="win"')).toEqual(['<@(win_sources)']);
    expect(byCondition.get('OS!="win"')).toEqual(['<@(posix_sources)']);
  });

  it('fltsim-host is a non-Windows executable of fltsim_sources, generated only when that list is non-empty', () => {
    const parsed = parseGyp(gypText);
    if (!isDict(parsed)) throw new Error('binding.gyp is not a dict');
    const topTargets = Array.isArray(parsed['targets']) ? parsed['targets'] : [];
    // Unconditional, it would fail to link while the list is empty.
    expect(topTargets.some((t) => isDict(t) && t['target_name'] === 'fltsim-host')).toBe(false);
    const conditions = Array.isArray(parsed['conditions']) ? parsed['conditions'] : [];
    const gated = conditions.filter(
      (c): c is [string, { [key: string]: GypValue }] =>
        Array.isArray(c) && typeof c[0] === 'string' && isDict(c[1]) && Array.isArray(c[1]['targets']) &&
        c[1]['targets'].some((t) => isDict(t) && t['target_name'] === 'fltsim-host'),
    );
    expect(gated).toHaveLength(1);
    const [condition, body] = gated[0] ?? ['', {}];
    expect(condition.replace(/\s+/g, '')).toBe('OS!="win"andfltsim_sources!=[]');
    const host = (body['targets'] as GypValue[]).find((t) => isDict(t) && t['target_name'] === 'fltsim-host');
    if (!isDict(host)) throw new Error('no fltsim-host target');
    expect(host['type']).toBe('executable');
    expect(stringList(host['sources'], 'fltsim-host sources')).toEqual(['<@(fltsim_sources)']);
  });
});

// The checks above are only worth something if they notice a difference: feed them one.
describe('the list comparison catches drift', () => {
  const gypSample = `
  # a comment with 'quotes' and "double quotes"
  {
    'variables': {
      'core_sources': [ 'native/core/A.cc', "native/core/B.cc", ],  # trailing comma
      'napi_sources': [],
      'fltsim_sources': [ 'native/fltsim/' 'Joined.cc' ],
    },
    'targets': [ { 'target_name': 'x', 'flag': True, 'n': 8 } ],
  }`;
  const cmakeSample = `
  set(FLTPORT_CORE_SOURCES
    native/core/A.cc   # comment
    native/core/B.cc
  )
  set(FLTPORT_NAPI_SOURCES
  )
  set(FLTSIM_SOURCES native/fltsim/Joined.cc)
  set(FLTSIM_WIN32_SOURCES)
  `;

  it('parses Python-literal gyp files with comments, both quote styles and trailing commas', () => {
    const lists = gypSourceLists(gypSample);
    expect(lists.get('core_sources')).toEqual(['native/core/A.cc', 'native/core/B.cc']);
    expect(lists.get('napi_sources')).toEqual([]);
    expect(lists.get('fltsim_sources')).toEqual(['native/fltsim/Joined.cc']);
    expect(compareLists(lists, cmakeSourceLists(cmakeSample))).toEqual([]);
  });

  it('reports a file added to binding.gyp only', () => {
    const gyp = gypSourceLists(gypSample.replace("'native/core/A.cc',", "'native/core/A.cc', 'native/core/New.cc',"));
    expect(compareLists(gyp, cmakeSourceLists(cmakeSample))).toEqual([
      'native/core/New.cc is in binding.gyp core_sources but not in CMakeLists.txt FLTPORT_CORE_SOURCES',
    ]);
  });

  it('reports a file added to CMakeLists.txt only', () => {
    const cmake = cmakeSourceLists(cmakeSample.replace('native/core/B.cc', 'native/core/B.cc\n    native/core/New.cc'));
    expect(compareLists(gypSourceLists(gypSample), cmake)).toEqual([
      'native/core/New.cc is in CMakeLists.txt FLTPORT_CORE_SOURCES but not in binding.gyp core_sources',
    ]);
  });

  it('reports a file moved to another list, a missing list and an unpaired list', () => {
    const cmake = cmakeSourceLists(
      cmakeSample
        .replace('    native/core/B.cc\n', '')
        .replace('set(FLTPORT_NAPI_SOURCES\n  )', 'set(FLTPORT_NAPI_SOURCES native/core/B.cc)')
        .replace('set(FLTSIM_SOURCES native/fltsim/Joined.cc)', 'set(FLTPORT_EXTRA_SOURCES native/x.cc)'),
    );
    expect(compareLists(gypSourceLists(gypSample), cmake)).toEqual([
      'native/core/B.cc is in binding.gyp core_sources but not in CMakeLists.txt FLTPORT_CORE_SOURCES',
      'native/core/B.cc is in CMakeLists.txt FLTPORT_NAPI_SOURCES but not in binding.gyp napi_sources',
      'binding.gyp fltsim_sources has no FLTSIM_SOURCES in CMakeLists.txt',
      'CMakeLists.txt FLTPORT_EXTRA_SOURCES has no counterpart in binding.gyp',
    ]);
  });

  it('reports a file listed twice', () => {
    const gyp = gypSourceLists(gypSample.replace("'napi_sources': []", "'napi_sources': ['n.cc', 'n.cc']"));
    const cmake = cmakeSourceLists(cmakeSample.replace('set(FLTPORT_NAPI_SOURCES\n  )', 'set(FLTPORT_NAPI_SOURCES n.cc n.cc)'));
    expect(compareLists(gyp, cmake)).toEqual(['n.cc is listed twice in napi_sources', 'n.cc is listed twice in FLTPORT_NAPI_SOURCES']);
  });

  it('rejects malformed gyp with the line of the problem', () => {
    expect(() => parseGyp("{\n'a': [1,\n 'x' 'y' : }")).toThrow(/line 3/);
    expect(() => parseGyp("{'a': 1, 'a': 2}")).toThrow(/duplicate key 'a'/);
    expect(() => parseGyp("{'a': 'unterminated}")).toThrow(GypSyntaxError);
  });
});
