// Compiles generated static asserts with mingw-w64 (the Windows ABI) for x64 and x86. CI
// installs mingw-w64; a missing compiler is a failure unless FLTPORT_SKIP_MINGW=1 says why not.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { BOOLEAN, GUID, HANDLE, LARGE_INTEGER, NTSTATUS, type AnyCodec, FILETIME, ULONG_PTR, aligned, array, bytes, cstring, enumOf, flags, layoutAssertions, struct, u16, u32, u64, u8, union, variant, wstring } from '../../lib/codec/index.js';
import { compileHeader } from '../../lib/codec/codegen/index.js';
import { compileLayoutTest, compilerAvailable, mingwCompilers } from '../../lib/codec/self-test-runner.js';

const skip = process.env['FLTPORT_SKIP_MINGW'] === '1';
if (skip) console.warn('codec.self-test: FLTPORT_SKIP_MINGW=1, the C layout cross-check is skipped');

const fixtureDir = fileURLToPath(new URL('./fixtures/codec/', import.meta.url));

const FILTER_REPLY_HEADER = struct({ Status: NTSTATUS, MessageId: u64 }, { name: 'FILTER_REPLY_HEADER_T' });
const schemas: Record<string, AnyCodec> = {
  NATURAL: struct({ a: u8, b: u64 }),
  PACKED: struct({ a: u8, b: u64 }, { pack: 1 }),
  SCANNER_REPLY_MESSAGE: struct({ ReplyHeader: FILTER_REPLY_HEADER, SafeToOpen: BOOLEAN }, { pack: 1 }),
  // Not here: __declspec(align(n)) members under a smaller #pragma pack. MSVC keeps the
  // declspec alignment (its docs' /Zp table, asserted in codec.layout.test.ts); GCC/mingw caps
  // it at the pack value, so mingw cannot arbitrate that case.
  ALIGNED_MEMBER: struct({ a: u8, b: u16, c: u64, d: aligned(u64, 32), e: u8, f: u64 }),
  TYPE_ALIGNED: struct({ v: u32 }, { align: 16 }),
  EVERYTHING: struct({
    op: enumOf(u32, { A: 1 }),
    fl: flags(u16, { X: 1 }),
    h: HANDLE,
    p: ULONG_PTR,
    guid: GUID,
    big: LARGE_INTEGER,
    ft: FILETIME,
    tag: u8,
    body: variant('tag', { 1: struct({ x: u64 }), 2: bytes(3) }),
    path: wstring(7),
    name: cstring(5),
    grid: array(array(u16, 3), 2),
    pairs: array(struct({ k: u8, v: u32 }), 3),
    u: union({ q: u64, parts: struct({ lo: u32, hi: u32 }) }),
    inner: struct({ c: u8, nested: struct({ z: u16, w: u64 }, { pack: 2 }) }),
  }),
};

describe.skipIf(skip)('layout self-test against mingw-w64', () => {
  test('the compilers are installed (CI installs mingw-w64; set FLTPORT_SKIP_MINGW=1 to skip)', () => {
    for (const target of ['x64', 'x86'] as const) {
      expect(compilerAvailable(target), `${mingwCompilers[target]} is missing: apt-get install mingw-w64`).toBe(true);
    }
  });

  for (const target of ['x64', 'x86'] as const) {
    test(`${target}: declarations generated from schemas agree with the compiler`, () => {
      const source = layoutAssertions(schemas, { target });
      expect(source).toContain('_Static_assert(sizeof(SCANNER_REPLY_MESSAGE) == 17');
      expect(source).toContain('#pragma pack(push, 1)');
      const result = compileLayoutTest(source, target);
      expect(result.output).toBe('');
      expect(result.ok).toBe(true);
    });

    test(`${target}: codecs generated from wire.h agree with wire.h itself`, () => {
      const model = compileHeader(readFileSync(`${fixtureDir}/wire.h`, 'utf8'));
      const named = Object.fromEntries([...model.codecs].filter(([name]) => !name.startsWith('_') && name !== 'WIRE_NAME'));
      const source = layoutAssertions(named, { target, mode: 'header', prelude: '#include "wire.h"' });
      expect(source).toContain('offsetof(WIRE_FILE_EVENT, Parts.High)');
      const result = compileLayoutTest(source, target, [fixtureDir]);
      expect(result.output).toBe('');
      expect(result.ok).toBe(true);
    });

    test(`${target}: a wrong assertion fails, so the check can fail`, () => {
      const wrong = `${layoutAssertions({ PACKED: schemas['PACKED']! }, { target })}_Static_assert(sizeof(PACKED) == 10, "deliberately wrong");\n`;
      const result = compileLayoutTest(wrong, target);
      expect(result.ran).toBe(true);
      expect(result.ok).toBe(false);
      expect(result.output).toMatch(/deliberately wrong/);
      const wrongOffset = layoutAssertions({ NATURAL: struct({ a: u8, b: u64 }, { pack: 1 }) }, { target }).replace('typedef struct NATURAL {', '#pragma pack(push, 8)\ntypedef struct NATURAL {').replace('} NATURAL;', '} NATURAL;\n#pragma pack(pop)');
      const mismatch = compileLayoutTest(wrongOffset, target);
      expect(mismatch.ok).toBe(false);
      expect(mismatch.output).toMatch(/offsetof\(NATURAL, b\) == 1/);
    });
  }
});
