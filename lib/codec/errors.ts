// CodecError is a FltportError (code FLTPORT_CODEC) through CodecErrorBase, which keeps the
// Error-style constructor this class calls.
import { CodecErrorBase } from '../errors.js';

export interface CodecErrorDetails {
  /** Field path inside the value, e.g. `header.name` or `entries[3].size`; '' for the whole value. */
  path: string;
  /** Byte offset (relative to the start of the buffer handed to decode/encode) where it went wrong. */
  offset: number;
  cause?: unknown;
}

export class CodecError extends CodecErrorBase {
  override readonly code = 'FLTPORT_CODEC' as const;
  readonly path: string;
  readonly offset: number;

  constructor(message: string, details: CodecErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'CodecError';
    this.path = details.path;
    this.offset = details.offset;
  }
}

/** Builds the error the compiled readers/writers throw; kept out of generated code so it stays small. */
export function codecFail(what: string, path: string, offset: number): never {
  const where = path === '' ? `at offset ${offset}` : `at ${path} (offset ${offset})`;
  throw new CodecError(`${what} ${where}`, { path, offset });
}
