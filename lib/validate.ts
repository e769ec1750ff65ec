// Option checking shared by the public entry points. Every message names the option and the
// function, because the native layer below would otherwise fail with a bare E_INVALIDARG or
// (worse) a kernel status that points nowhere near the typo.
import { InvalidArgumentError, abortErrorFrom } from './errors.js';

/** What codecs look like to the port API: the codec library's Codec<T, I> fits, as does any hand-written object. */
export interface Decoder<T> {
  decode(bytes: Uint8Array): T;
}
export interface Encoder<I> {
  encode(value: I): Uint8Array;
}
export interface BinaryCodec<T, I = T> extends Decoder<T>, Encoder<I> {}

export function fail(where: string, argument: string, why: string): never {
  throw new InvalidArgumentError(`${where}: ${argument} ${why}`, { argument });
}

/** Checks that `options` is undefined or a plain object whose keys are all known. */
export function checkOptions(
  where: string,
  options: unknown,
  known: readonly string[],
): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    fail(where, 'options', `must be an object, got ${describe(options)}`);
  }
  const record = options as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!known.includes(key)) {
      fail(where, `option "${key}"`, `is not known (known options: ${known.join(', ')})`);
    }
  }
  return record;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return `a ${value.constructor.name} of ${value.byteLength} bytes`;
  switch (typeof value) {
    case 'string':
      return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case 'number':
    case 'bigint':
    case 'boolean':
      return `${typeof value} ${String(value)}`;
    case 'undefined':
      return 'undefined';
    case 'function':
      return 'a function';
    default:
      return `an object (${Object.prototype.toString.call(value)})`;
  }
}

export function intOption(
  where: string,
  name: string,
  value: unknown,
  range: { min: number; max: number; default: number },
): number {
  if (value === undefined) return range.default;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    fail(where, name, `must be an integer, got ${describe(value)}`);
  }
  if (value < range.min || value > range.max) {
    fail(where, name, `must be between ${range.min} and ${range.max}, got ${value}`);
  }
  return value;
}

/** A duration in milliseconds: finite, >= min. */
export function msOption(
  where: string,
  name: string,
  value: unknown,
  range: { min: number; max?: number; default: number },
): number {
  if (value === undefined) return range.default;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    fail(where, name, `must be a number of milliseconds, got ${describe(value)}`);
  }
  const max = range.max ?? 2 ** 31 - 1;
  if (value < range.min || value > max) {
    fail(where, name, `must be between ${range.min} and ${max} ms, got ${value}`);
  }
  return value;
}

export function boolOption(where: string, name: string, value: unknown, def: boolean): boolean {
  if (value === undefined) return def;
  if (typeof value !== 'boolean') fail(where, name, `must be a boolean, got ${describe(value)}`);
  return value;
}

export function stringOption(where: string, name: string, value: unknown, def: string): string {
  if (value === undefined) return def;
  if (typeof value !== 'string') fail(where, name, `must be a string, got ${describe(value)}`);
  if (value.includes('\0')) fail(where, name, 'must not contain NUL characters');
  return value;
}

export function signalOption(where: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) fail(where, 'signal', `must be an AbortSignal, got ${describe(value)}`);
  return value;
}

export function functionOption<F extends (...args: never[]) => unknown>(
  where: string,
  name: string,
  value: unknown,
): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') fail(where, name, `must be a function, got ${describe(value)}`);
  return value as F;
}

export function decoderOption<T>(where: string, name: string, value: unknown): Decoder<T> | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || typeof (value as Decoder<T>).decode !== 'function') {
    fail(where, name, `must be a codec with a decode(bytes) method, got ${describe(value)}`);
  }
  return value as Decoder<T>;
}

export function encoderOption<I>(where: string, name: string, value: unknown): Encoder<I> | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || typeof (value as Encoder<I>).encode !== 'function') {
    fail(where, name, `must be a codec with an encode(value) method, got ${describe(value)}`);
  }
  return value as Encoder<I>;
}

/** Bytes from a Uint8Array (or any ArrayBufferView / ArrayBuffer), as a Uint8Array view (no copy). */
export function bytesOf(where: string, name: string, value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return fail(where, name, `must be a Uint8Array (or Buffer), got ${describe(value)}`);
}

/**
 * The fixed encoded size of a codec, when it has one: the codec library's fixed codecs expose
 * `size` with `fixed: true`; a variable-size codec's `size` is only its minimum, so it does not count.
 */
export function fixedSizeOf(codec: unknown): number | undefined {
  if (codec === null || typeof codec !== 'object') return undefined;
  const c = codec as { size?: unknown; fixed?: unknown };
  if (typeof c.size !== 'number' || c.fixed === false) return undefined;
  return c.size;
}

/** Throws the AbortError for `signal` if it already fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortErrorFrom(signal, what);
}

/** Encoded bytes, with a codec failure reported as FLTPORT_CODEC naming where it happened. */
export function encodeWith<I>(encoder: Encoder<I> | undefined, value: unknown, where: string): Uint8Array {
  if (encoder === undefined) return bytesOf(where, 'value', value ?? new Uint8Array(0));
  const out = encoder.encode(value as I);
  if (!(out instanceof Uint8Array)) {
    fail(where, 'codec.encode', `must return a Uint8Array, got ${describe(out)}`);
  }
  return out;
}
