// Public entry of the codec library: typed, compiled encoders/decoders for C structs laid out
// as MSVC lays them out on x64, x86 and arm64 Windows.
export { Codec, type AnyCodec, type CodecOps, type DecodedWithLength, type Infer, type InferInput, type Layout } from './codec.js';
export { CodecError, type CodecErrorDetails } from './errors.js';
export { type Target, targets, pointerSize } from './gen.js';
export {
  BOOL,
  BOOLEAN,
  FILETIME,
  GUID,
  HANDLE,
  LARGE_INTEGER,
  LONG_PTR,
  NTSTATUS,
  PVOID,
  SIZE_T,
  ULONG_PTR,
  f32,
  f64,
  filetime,
  type FiletimeOptions,
  i16,
  i32,
  i64,
  i8,
  ntstatus,
  u16,
  u32,
  u64,
  u8,
  type IntCodec,
} from './primitives.js';
export { cstring, wstring, wstringCounted, type CharStringOptions, type CountedStringOptions, type FixedStringOptions } from './strings.js';
export { array, bytes, type BytesOptions, type CountFrom } from './array.js';
export { aligned, struct, union, type FieldLayout, type Pack, type StructCodec, type StructLayout, type StructOptions, type UnionCodec } from './struct.js';
export { enumOf, flags, type EnumOptions, type FlagsOptions } from './enum.js';
export { variant, type VariantOptions } from './variant.js';
export { envelope, type EnvelopeSpec } from './envelope.js';
export { layoutOf, type LayoutNode } from './layout.js';
export { layoutAssertions, type SelfTestOptions } from './self-test.js';

import { i16, i32, i64, i8, u16, u32, u64, u8 } from './primitives.js';

/** Windows integer type names, for schemas that read like the C header. */
export const UCHAR = u8;
export const CHAR = i8;
export const USHORT = u16;
export const SHORT = i16;
export const WCHAR = u16;
export const ULONG = u32;
export const DWORD = u32;
export const LONG = i32;
export const ULONGLONG = u64;
export const LONGLONG = i64;
