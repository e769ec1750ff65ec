import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { type AnyCodec, layoutOf } from '../../lib/codec/index.js';
import { HeaderSyntaxError, compileHeader, generateFromHeader, runCodegen } from '../../lib/codec/codegen/index.js';

const fixture = fileURLToPath(new URL('./fixtures/codec/wire.h', import.meta.url));
const header = readFileSync(fixture, 'utf8');
const model = compileHeader(header, { sourceName: 'wire.h' });
const codec = (name: string): AnyCodec => {
  const found = model.codecs.get(name);
  if (found === undefined) throw new Error(`no codec ${name}`);
  return found;
};
const offsets = (name: string, target: 'x64' | 'x86'): Record<string, number | undefined> =>
  Object.fromEntries((layoutOf(codec(name), target).fields ?? []).map((f) => [f.name, f.offset]));

describe('codegen: parsing a realistic wire header', () => {
  test('constants: #define expressions, sizeof, string port names, enumerators', () => {
    expect(Object.fromEntries(model.constants)).toMatchObject({
      WIRE_PORT_NAME: '\\FltportWirePort',
      WIRE_MAGIC: 0x46505331n,
      WIRE_MAX_PATH: 260n,
      WIRE_READ_BUFFER_SIZE: 512n,
      WIRE_TAIL: 496n,
      WIRE_FLAG_DELETE: 2n,
      WIRE_HAS_VOLUME: 1n,
      WireMaxRecords: 8n,
    });
    expect(model.constants.has('WIRE_CHECK')).toBe(false);
    expect(model.enums.get('WIRE_OPERATION')).toEqual({ WireOpCreate: 1, WireOpWrite: 2, WireOpCleanup: 16, WireOpRename: 17 });
  });

  test('layouts follow the pack pragmas, alignment and the target', () => {
    expect(codec('WIRE_REPLY_HEADER').size).toBe(16);
    expect(codec('WIRE_REPLY_MESSAGE').size).toBe(17);
    expect(codec('WIRE_REPLY').size).toBe(5);
    expect(codec('WIRE_ENVELOPE').size).toBe(24);
    expect(offsets('WIRE_STATS', 'x64')).toEqual({ Count: 0, Bytes: 4, LastReply: 20 });
    expect(codec('WIRE_STATS').size).toBe(28);
    expect(offsets('WIRE_ALIGNED', 'x64')).toEqual({ Tag: 0, Aligned: 16, Tail: 24 });
    expect(codec('WIRE_ALIGNED').size).toBe(32);
    expect(offsets('WIRE_FILE_EVENT', 'x64')).toEqual({
      Operation: 0, Flags: 4, ProcessId: 8, ThreadId: 16, FileSize: 24, VolumeGuid: 32, IsDirectory: 48, Path: 50,
      ProcessName: 570, _anon0: 592, ContentLength: 600, Content: 604,
    });
    expect(codec('WIRE_FILE_EVENT').size).toBe(1120);
    expect(offsets('WIRE_FILE_EVENT', 'x86')).toMatchObject({ ProcessId: 8, ThreadId: 12, FileSize: 16, Path: 42, _anon0: 584, Content: 596 });
    expect(codec('WIRE_FILE_EVENT').for('x86').size).toBe(1112);
    expect(offsets('WIRE_BATCH', 'x64')).toEqual({ Count: 0, Records: 4, Matrix: 612, Tail: 636 });
    expect(codec('WIRE_BATCH').size).toBe(1132);
    expect(codec('WIRE_RECORD').offsetOf('When')).toBe(68);
  });

  test('the generated module reads like the header', () => {
    const source = model.source;
    expect(source).toContain("from 'fltport/codec';");
    expect(source).toContain('export const WIRE_PORT_NAME = "\\\\FltportWirePort";');
    expect(source).toContain('export const WIRE_OPERATION = { WireOpCreate: 1, WireOpWrite: 2, WireOpCleanup: 16, WireOpRename: 17 } as const;');
    expect(source).toContain("}, { name: 'WIRE_REPLY_MESSAGE', pack: 1 });");
    expect(source).toContain('  Operation: enumOf(i32, WIRE_OPERATION),');
    expect(source).toContain('  Path: wstring(WIRE_MAX_PATH),');
    expect(source).toContain('  Content: bytes(WIRE_READ_BUFFER_SIZE),');
    expect(source).toContain('  Aligned: aligned(u64, 16),');
    expect(source).toContain('  Matrix: array(array(u32, 3), 2),');
    expect(source).toContain('export type WIRE_FILE_EVENT = Infer<typeof WIRE_FILE_EVENT>;');
    expect(source).toContain("//   line 122: declaration starting with 'NTSTATUS'");
  });

  const scratch = mkdtempSync(join(tmpdir(), 'fltport-codegen-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  test('the generated module compiles to the same codecs', async () => {
    // Forward slashes: the generator writes the specifier into a single-quoted string as is, and
    // a Windows path's backslashes would become escapes (\f a form feed). Vite resolves
    // C:/... as well as C:\... on Windows; on POSIX this changes nothing.
    const library = fileURLToPath(new URL('../../lib/codec/index.ts', import.meta.url)).replaceAll('\\', '/');
    const file = join(scratch, 'wire.ts');
    writeFileSync(file, generateFromHeader(header, { importFrom: library }));
    const generated = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    expect(generated['WIRE_MAX_PATH']).toBe(260);
    for (const name of ['WIRE_FILE_EVENT', 'WIRE_REPLY_MESSAGE', 'WIRE_STATS', 'WIRE_ALIGNED', 'WIRE_BATCH']) {
      const emitted = generated[name] as AnyCodec;
      for (const target of ['x64', 'x86'] as const) expect(layoutOf(emitted, target)).toEqual(layoutOf(codec(name), target));
    }
    const Reply = generated['WIRE_REPLY_MESSAGE'] as AnyCodec;
    const bytes = Reply.encode({ ReplyHeader: { Status: 0, MessageId: 42n }, SafeToOpen: true });
    expect(Buffer.from(bytes).toString('hex')).toBe('00000000' + '00000000' + '2a00000000000000' + '01');
  });

  test('unsupported constructs fail with the line number', () => {
    const error = (text: string): HeaderSyntaxError => {
      try {
        compileHeader(text);
      } catch (e) {
        if (e instanceof HeaderSyntaxError) return e;
        throw e;
      }
      throw new Error('expected a HeaderSyntaxError');
    };
    expect(error('typedef struct _A {\n  ULONG a : 3;\n} A;').message).toMatch(/line 2: bit-field 'a'/);
    expect(error('typedef struct _A {\n  MYSTERY x;\n} A;').message).toMatch(/line 2: unknown type 'MYSTERY'/);
    expect(error('typedef struct _A { ULONG n; UCHAR data[]; } A;').message).toMatch(/flexible array/);
    expect(error('#define N FOO\ntypedef struct _A { UCHAR d[N]; } A;').message).toMatch(/line 2: 'N' is not an integer constant/);
  });

  test('pack(push, label) / pack(pop, label), pack() and #if on defines', () => {
    const m = compileHeader(
      [
        '#pragma pack(push, outer, 2)',
        '#pragma pack(push, 1)',
        '#pragma pack(pop, outer)',
        'typedef struct _A { UCHAR a; ULONG b; } A;',
        '#pragma pack(4)',
        'typedef struct _B { UCHAR a; ULONGLONG b; } B;',
        '#pragma pack()',
        '#if defined(_WIN64) && !defined(NOPE)',
        'typedef struct _C { UCHAR a; ULONGLONG b; } C;',
        '#else',
        'typedef struct _C { UCHAR a; } C;',
        '#endif',
      ].join('\n'),
      { defines: { _WIN64: '1' } },
    );
    expect(m.codecs.get('A')?.size).toBe(8);
    expect(m.codecs.get('B')?.size).toBe(12);
    expect(m.codecs.get('C')?.size).toBe(16);
  });
});

describe('runCodegen (the CLI entry)', () => {
  test('writes the module to -o', () => {
    const written: Record<string, string> = {};
    const code = runCodegen(['wire.h', '-o', 'out.ts', '--import-from', 'fltport', '-D', 'X=2'], {
      readFile: () => header,
      writeFile: (path, text) => {
        written[path] = text;
      },
      stderr: () => undefined,
    });
    expect(code).toBe(0);
    expect(written['out.ts']).toContain("from 'fltport';");
    expect(written['out.ts']).toContain('Generated by `fltport codegen` from wire.h');
  });

  test('usage errors exit 2, header errors exit 1, with a message', () => {
    const messages: string[] = [];
    const io = { stderr: (t: string) => void messages.push(t), stdout: () => undefined, readFile: () => 'struct { ULONG a : 1; };' };
    expect(runCodegen([], io)).toBe(2);
    expect(runCodegen(['a.h', '--target', 'mips'], io)).toBe(2);
    expect(runCodegen(['a.h'], io)).toBe(1);
    expect(messages.join('')).toMatch(/no header given[\s\S]*--target must be one of x64, x86, arm64[\s\S]*a\.h: line 1: bit-field/);
  });
});

describe('generated import specifier', () => {
  test('a Windows path and a quote survive as one single-quoted literal', () => {
    const text = generateFromHeader('typedef struct _A { ULONG x; } A;', { importFrom: "C:\\fltport\\it's\\codec.js" });
    expect(text).toContain(`from 'C:\\\\fltport\\\\it\\'s\\\\codec.js';`);
    expect(generateFromHeader('typedef struct _A { ULONG x; } A;')).toContain(`from 'fltport/codec';`);
  });
});
