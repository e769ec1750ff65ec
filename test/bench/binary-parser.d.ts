// binary-parser 2.x ships types that its package.json "exports" map hides from
// moduleResolution node16/nodenext; this is the part test/bench/codec.ts uses.
declare module 'binary-parser' {
  interface FieldOptions {
    length?: number;
    clone?: boolean;
    formatter?: (value: never) => unknown;
  }
  export class Parser {
    endianness(e: 'little' | 'big'): Parser;
    uint32(name: string, options?: FieldOptions): Parser;
    uint64(name: string, options?: FieldOptions): Parser;
    buffer(name: string, options: FieldOptions): Parser;
    parse(buffer: Uint8Array): unknown;
  }
}
