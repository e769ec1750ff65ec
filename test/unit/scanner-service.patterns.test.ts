// The scanner service's pure parts: patterns, statistics, arguments.
import { describe, expect, it } from 'vitest';
import { parseServiceArgs, UsageError } from '../../samples/scanner-service/args.js';
import { compilePattern, compilePatterns, DEFAULT_PATTERNS, EICAR, PatternError, REASON, scan } from '../../samples/scanner-service/patterns.js';
import { formatLine, formatSummary, LatencyHistogram, ScanStats } from '../../samples/scanner-service/stats.js';

const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
const defaults = compilePatterns(DEFAULT_PATTERNS);
const check = (path: string, content: string) => scan(defaults, { path, content: bytes(content) });

describe('patterns', () => {
  it('clean text and binary content are allowed with reason 0', () => {
    expect(check('\\Device\\HarddiskVolume3\\Users\\a\\report.txt', 'quarterly report for the customer')).toEqual({ block: false, reason: 0, pattern: null, target: null });
    expect(check('\\??\\C:\\x.dll', 'MZ\x90\x00\x03\x00\x00\x00\x04\x00\xff\xff')).toMatchObject({ block: false, reason: 0 });
  });

  it('the EICAR string anywhere in the content blocks with reason TEST_SIGNATURE', () => {
    expect(check('\\??\\C:\\a.com', EICAR)).toEqual({ block: true, reason: REASON.TEST_SIGNATURE, pattern: 'eicar-test-file', target: 'content' });
    expect(check('\\??\\C:\\a.txt', `notes\n${EICAR}\nmore`)).toMatchObject({ block: true, reason: 1 });
    // One character off is not the test file.
    expect(check('\\??\\C:\\a.txt', EICAR.replace('EICAR', 'EICAX'))).toMatchObject({ block: false });
  });

  it('encoded PowerShell command lines block (case-insensitive, -e/-enc/-EncodedCommand), plain ones do not', () => {
    for (const line of ['powershell.exe -NoP -W Hidden -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBi', 'POWERSHELL -enc SQBFAFgAIAAoAE4AZQB3', 'powershell -nop -e SQBFAFgAIAAoAE4AZQB3AC0A'])
      expect(check('\\??\\C:\\run.bat', `x\r\n${line}\r\n`)).toMatchObject({ block: true, reason: REASON.ENCODED_POWERSHELL, pattern: 'encoded-powershell' });
    expect(check('\\??\\C:\\run.bat', 'powershell -File build.ps1 -Environment prod')).toMatchObject({ block: false });
    expect(check('\\??\\C:\\run.bat', 'powershell -enc short')).toMatchObject({ block: false });
  });

  it('AWS access key ids block; near misses do not', () => {
    expect(check('\\??\\C:\\cfg.ini', 'aws_access_key_id = AKIAABCDEFGHIJKLMNOP\n')).toMatchObject({ block: true, reason: REASON.ACCESS_KEY });
    expect(check('\\??\\C:\\cfg.ini', 'AKIAABCDEFGHIJKLMNO')).toMatchObject({ block: false }); // 15 characters
    expect(check('\\??\\C:\\cfg.ini', 'XAKIAABCDEFGHIJKLMNOP')).toMatchObject({ block: false }); // not at a word boundary
  });

  it('double extensions block on the path alone (case-insensitive), whatever the content', () => {
    expect(check('\\Device\\HarddiskVolume3\\Users\\b\\Downloads\\invoice-0042.PDF.exe', '')).toEqual({ block: true, reason: REASON.DOUBLE_EXTENSION, pattern: 'double-extension', target: 'path' });
    expect(check('\\??\\C:\\setup.exe', '')).toMatchObject({ block: false });
    expect(check('\\??\\C:\\a.pdf.exe.txt', '')).toMatchObject({ block: false });
  });

  it('patterns are tried in order: the first match gives the reason', () => {
    const ps = compilePatterns([
      { name: 'second-word', target: 'content', regex: 'b+', reason: 20 },
      { name: 'first-word', target: 'content', literal: 'aaa', reason: 10 },
    ]);
    expect(scan(ps, { path: '', content: bytes('aaa bbb') })).toMatchObject({ reason: 20, pattern: 'second-word' });
  });

  it('content is matched byte for byte as latin1 (binary-safe, no UTF-8 decoding)', () => {
    const [p] = compilePatterns([{ name: 'hi-bytes', target: 'content', literal: '\xff\xfe\x00A', reason: 9 }]);
    expect(scan([p!], { path: '', content: new Uint8Array([1, 0xff, 0xfe, 0, 0x41]) })).toMatchObject({ block: true, reason: 9 });
    expect(scan([p!], { path: '', content: new Uint8Array([0xff, 0xfe, 0x41]) })).toMatchObject({ block: false });
  });

  it('stateless regexes: matching the same input twice gives the same answer', () => {
    const [p] = compilePatterns([{ name: 'x', target: 'content', regex: 'abc', reason: 1 }]);
    expect([p!.test('abc'), p!.test('abc')]).toEqual([true, true]);
  });

  it.each([
    [{ name: 'a', target: 'content', literal: 'x', regex: 'y', reason: 1 }, 'exactly one of literal, regex'],
    [{ name: 'a', target: 'content', reason: 1 }, 'exactly one of literal, regex'],
    [{ name: 'a', target: 'file', literal: 'x', reason: 1 }, 'target must be'],
    [{ name: 'a', target: 'content', literal: 'x', reason: 0 }, 'reason must be'],
    [{ name: 'a', target: 'content', regex: '(', reason: 1 }, 'pattern "a"'],
    [{ name: 'a', target: 'content', regex: 'x', flags: 'g', reason: 1 }, 'flags g and y'],
    [{ name: 'a', target: 'content', literal: 'x', reason: 1, extra: true }, 'unknown field extra'],
    [{ name: '', target: 'content', literal: 'x', reason: 1 }, 'needs a name'],
  ])('refuses a bad pattern %#', (spec, message) => {
    expect(() => compilePattern(spec as never)).toThrow(PatternError);
    expect(() => compilePattern(spec as never)).toThrow(message);
  });

  it('refuses duplicate names', () => {
    expect(() => compilePatterns([DEFAULT_PATTERNS[0]!, DEFAULT_PATTERNS[0]!])).toThrow('defined twice');
  });
});

describe('statistics', () => {
  it('percentiles are within the 2 % bucket width of the exact ones', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i / 100); // 0.01 .. 10 ms, uniform
    expect(h.count).toBe(1000);
    expect(h.max).toBe(10);
    expect(h.quantile(0.5)).toBeGreaterThanOrEqual(5);
    expect(h.quantile(0.5)).toBeLessThanOrEqual(5 * 1.02);
    expect(h.quantile(0.99)).toBeGreaterThanOrEqual(9.9);
    expect(h.quantile(0.99)).toBeLessThanOrEqual(9.9 * 1.02);
    expect(h.quantile(1)).toBe(10);
    h.reset();
    expect(h.count).toBe(0);
    expect(Number.isNaN(h.quantile(0.5))).toBe(true);
  });

  it('a skewed distribution: p50 stays low, p99 finds the tail', () => {
    const h = new LatencyHistogram();
    for (let i = 0; i < 980; i++) h.record(0.02);
    for (let i = 0; i < 20; i++) h.record(50);
    expect(h.quantile(0.5)).toBeCloseTo(0.02, 3);
    expect(h.quantile(0.99)).toBe(50);
  });

  it('ScanStats: rates per interval, verdicts, per-pattern counts; snapshots roll the interval', () => {
    const s = new ScanStats(1000);
    for (let i = 0; i < 30; i++) s.event();
    for (let i = 0; i < 20; i++) s.verdict(false, null, 0.01);
    for (let i = 0; i < 10; i++) s.verdict(true, i < 7 ? 'eicar-test-file' : 'double-extension', 1);
    const port = { timeouts: 2, lateReplies: 1, reconnects: 0, handlerErrors: 0, replyErrors: 0 };
    const a = s.snapshot(1500, port);
    expect(a).toMatchObject({ events: 30, allow: 20, block: 10, rate: 60, elapsedMs: 500, timeouts: 2, lateReplies: 1 });
    expect(a.byPattern).toEqual({ 'eicar-test-file': 7, 'double-extension': 3 });
    expect(a.p50).toBeCloseTo(0.01, 3);
    const b = s.snapshot(2500, port);
    expect(b.rate).toBe(0);
    expect(Number.isNaN(b.p50)).toBe(true);
    expect(b.totalP50).toBeCloseTo(0.01, 3);
    expect(formatLine(a, 'serving')).toBe('t=1s state=serving events/s=60 events=30 allow=20 block=10 p50=10µs p99=1.00ms timeouts=2 late=1 reconnects=0');
    expect(formatSummary(b)[1]).toBe('  verdicts: allow 20, block 10');
    expect(formatSummary(b)[2]).toBe('    eicar-test-file: 7');
  });
});

describe('arguments', () => {
  it('defaults', () => {
    const o = parseServiceArgs([], {});
    expect(o).toMatchObject({ duration: 0, timeout: 1000, concurrency: 8, notes: true, reconnect: true, simRuntimeDir: undefined, interval: 1000, json: false, display: 'auto', help: false, patternSource: 'built-in' });
    expect(o.patterns.map((p) => p.name)).toEqual(['eicar-test-file', 'encoded-powershell', 'aws-access-key-id', 'double-extension']);
  });

  it('every option, and FLTSIM_RUNTIME_DIR as the default runtime directory', () => {
    const o = parseServiceArgs(['--duration', '30', '--timeout', '250', '--concurrency', '4', '--no-notes', '--no-reconnect', '--interval', '500', '--display', 'lines', '--json'], { FLTSIM_RUNTIME_DIR: '/run/x' });
    expect(o).toMatchObject({ duration: 30, timeout: 250, concurrency: 4, notes: false, reconnect: false, simRuntimeDir: '/run/x', interval: 500, display: 'lines', json: true });
    expect(parseServiceArgs(['--sim-runtime-dir', '/a'], { FLTSIM_RUNTIME_DIR: '/b' }).simRuntimeDir).toBe('/a');
    expect(parseServiceArgs(['-h']).help).toBe(true);
  });

  it('--patterns reads a JSON file and replaces the built-in list', () => {
    const file = JSON.stringify([{ name: 'secret', target: 'content', literal: 'TOPSECRET', reason: 42 }]);
    const o = parseServiceArgs(['--patterns', 'p.json'], {}, (p) => (p === 'p.json' ? file : ''));
    expect(o.patternSource).toBe('p.json');
    expect(scan(o.patterns, { path: '', content: bytes('a TOPSECRET b') })).toMatchObject({ block: true, reason: 42 });
  });

  it.each([
    [['--duration', '-1'], 'Option'],
    [['--duration', '1.5'], '--duration must be a whole number'],
    [['--concurrency', '0'], '--concurrency must be 1..1024'],
    [['--timeout', 'x'], '--timeout must be a whole number'],
    [['--display', 'fancy'], '--display must be auto, lines or none'],
    [['--bogus'], "Unknown option '--bogus'"],
    [['extra'], 'positional'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseServiceArgs(argv)).toThrow(UsageError);
    expect(() => parseServiceArgs(argv)).toThrow(message);
  });

  it('refuses a bad patterns file with its name in the message', () => {
    const read = (p: string): string => ({ 'bad.json': '{', 'empty.json': '[]', 'wrong.json': '[{"name":"x","target":"content","reason":1}]' })[p] ?? '';
    expect(() => parseServiceArgs(['--patterns', 'bad.json'], {}, read)).toThrow('--patterns bad.json');
    expect(() => parseServiceArgs(['--patterns', 'empty.json'], {}, read)).toThrow('non-empty JSON array');
    expect(() => parseServiceArgs(['--patterns', 'wrong.json'], {}, read)).toThrow('exactly one of literal, regex');
  });
});
