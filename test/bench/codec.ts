// Codec benchmark: a realistic 1.1 KiB file-event struct decoded and encoded three ways —
// fltport's compiled codec, hand-written DataView code (what a careful author would write),
// and binary-parser (decode only: it has no encoder). All three produce the same values:
// the path up to its NUL, a copied 512-byte content array, an enum name and flag booleans.
import { Parser } from 'binary-parser';
import { bytes, enumOf, flags, struct, u32, u64, wstring } from '../../lib/codec/index.js';

const OPERATIONS = { CREATE: 1, WRITE: 2, CLEANUP: 3 } as const;
type Operation = keyof typeof OPERATIONS;
const OPERATION_NAMES: Record<number, Operation> = { 1: 'CREATE', 2: 'WRITE', 3: 'CLEANUP' };

// typedef struct _FILE_EVENT { ULONG Operation; ULONG Flags; ULONGLONG ProcessId;
//   ULONGLONG FileSize; WCHAR Path[260]; ULONG ContentLength; UCHAR Content[512]; } — 1 064 bytes.
export const FileEvent = struct({
  Operation: enumOf(u32, OPERATIONS),
  Flags: flags(u32, { DIRECTORY: 0x1, DELETE_ON_CLOSE: 0x2, PAGING_IO: 0x4 }),
  ProcessId: u64,
  FileSize: u64,
  Path: wstring(260),
  ContentLength: u32,
  Content: bytes(512),
});

interface FileEventValue {
  Operation: Operation;
  Flags: { DIRECTORY: boolean; DELETE_ON_CLOSE: boolean; PAGING_IO: boolean };
  ProcessId: bigint;
  FileSize: bigint;
  Path: string;
  ContentLength: number;
  Content: Uint8Array;
}

const OFF_PATH = 24;
const OFF_LENGTH = OFF_PATH + 520;
const OFF_CONTENT = OFF_LENGTH + 4;
const SIZE = 1064;
const utf16 = new TextDecoder('utf-16le');

/** WCHAR[] from start to end, up to the first NUL. */
function wchars(b: Uint8Array, start: number, end: number): string {
  let at = start;
  while (at < end && (b[at] !== 0 || b[at + 1] !== 0)) at += 2;
  return utf16.decode(b.subarray(start, at));
}

export function handDecode(b: Uint8Array): FileEventValue {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const op = OPERATION_NAMES[v.getUint32(0, true)];
  if (op === undefined) throw new Error('bad Operation');
  const f = v.getUint32(4, true);
  return {
    Operation: op,
    Flags: { DIRECTORY: (f & 1) !== 0, DELETE_ON_CLOSE: (f & 2) !== 0, PAGING_IO: (f & 4) !== 0 },
    ProcessId: v.getBigUint64(8, true),
    FileSize: v.getBigUint64(16, true),
    Path: wchars(b, OFF_PATH, OFF_LENGTH),
    ContentLength: v.getUint32(OFF_LENGTH, true),
    // A copy, as the codec makes: Buffer.from takes it from the pool (cheaper than slice()).
    Content: Buffer.from(b.subarray(OFF_CONTENT, OFF_CONTENT + 512)),
  };
}

export function handEncode(e: FileEventValue): Uint8Array {
  const b = new Uint8Array(SIZE);
  const v = new DataView(b.buffer);
  v.setUint32(0, OPERATIONS[e.Operation], true);
  v.setUint32(4, (e.Flags.DIRECTORY ? 1 : 0) | (e.Flags.DELETE_ON_CLOSE ? 2 : 0) | (e.Flags.PAGING_IO ? 4 : 0), true);
  v.setBigUint64(8, e.ProcessId, true);
  v.setBigUint64(16, e.FileSize, true);
  const p = e.Path;
  if (p.length > 259) throw new Error('Path too long');
  for (let i = 0; i < p.length; i++) v.setUint16(OFF_PATH + 2 * i, p.charCodeAt(i), true);
  v.setUint32(OFF_LENGTH, e.ContentLength, true);
  b.set(e.Content.subarray(0, 512), OFF_CONTENT);
  return b;
}

const binaryParser = new Parser()
  .endianness('little')
  .uint32('Operation', { formatter: (n: number) => OPERATION_NAMES[n] })
  .uint32('Flags', {
    formatter: (f: number) => ({ DIRECTORY: (f & 1) !== 0, DELETE_ON_CLOSE: (f & 2) !== 0, PAGING_IO: (f & 4) !== 0 }),
  })
  .uint64('ProcessId')
  .uint64('FileSize')
  // binary-parser 2 has no UTF-16 strings: a buffer plus a formatter, as its users write it.
  .buffer('Path', { length: 520, formatter: (b: Uint8Array) => wchars(b, 0, 520) as never })
  .uint32('ContentLength')
  .buffer('Content', { length: 512, clone: true });

export function binaryParserDecode(b: Uint8Array): FileEventValue {
  return binaryParser.parse(b) as FileEventValue;
}

export function sampleEvent(): FileEventValue {
  const content = new Uint8Array(512);
  for (let i = 0; i < 512; i++) content[i] = (i * 31) & 0xff;
  return {
    Operation: 'WRITE',
    Flags: { DIRECTORY: false, DELETE_ON_CLOSE: true, PAGING_IO: false },
    ProcessId: 4242n,
    FileSize: 123_456_789n,
    Path: '\\Device\\HarddiskVolume3\\Users\\alice\\AppData\\Local\\Temp\\report-2026-11-23 (final).docx',
    ContentLength: 512,
    Content: content,
  };
}

export interface CodecRow {
  name: string;
  opsPerSec: number;
}

/** ops/s of fn over `ms` milliseconds (after a warm-up), returning a value so nothing is elided. */
function rate(fn: () => unknown, ms: number): number {
  let sink: unknown;
  const deadlineWarm = performance.now() + Math.min(200, ms);
  while (performance.now() < deadlineWarm) for (let i = 0; i < 1000; i++) sink = fn();
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < 1000; i++) sink = fn();
    n += 1000;
    t = performance.now();
  }
  if (sink === 42) console.log(sink);
  return (n * 1000) / (t - t0);
}

/** Checks that the three decoders agree, then measures interleaved rounds; medians per variant. */
export function runCodecBench(rounds: number, msPerRun: number): Map<string, number> {
  const value = sampleEvent();
  const wire = FileEvent.encode(value as never);
  if (wire.byteLength !== SIZE || FileEvent.size !== SIZE) throw new Error(`FILE_EVENT is ${FileEvent.size} bytes, expected ${SIZE}`);
  const hand = handEncode(value);
  if (Buffer.compare(Buffer.from(hand), Buffer.from(wire)) !== 0) throw new Error('hand-written encode differs from the codec');
  for (const [name, d] of [['codec', (b: Uint8Array) => FileEvent.decode(b)], ['hand', handDecode], ['binary-parser', binaryParserDecode]] as const) {
    const got = d(wire) as FileEventValue;
    if (got.Path !== value.Path || got.ProcessId !== value.ProcessId || got.Operation !== value.Operation ||
        got.Flags.DELETE_ON_CLOSE !== true || Buffer.compare(Buffer.from(got.Content), Buffer.from(value.Content)) !== 0) {
      throw new Error(`${name} decoded something else`);
    }
  }
  const variants: [string, () => unknown][] = [
    ['decode codec', () => FileEvent.decode(wire)],
    ['decode hand', () => handDecode(wire)],
    ['decode binary-parser', () => binaryParserDecode(wire)],
    ['encode codec', () => FileEvent.encode(value as never)],
    ['encode hand', () => handEncode(value)],
  ];
  const samples = new Map<string, number[]>(variants.map(([n]) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    // Alternate the order per round so no variant always runs first.
    const order = r % 2 === 0 ? variants : [...variants].reverse();
    for (const [name, fn] of order) samples.get(name)!.push(rate(fn, msPerRun));
  }
  return new Map([...samples].map(([n, s]) => [n, median(s)]));
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
