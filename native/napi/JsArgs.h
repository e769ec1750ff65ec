// Defensive conversion of JS arguments. lib/ validates options with friendly names first;
// this layer only guarantees that nothing JS can pass crashes the process: every wrong type
// is a TypeError, every out-of-range number a RangeError (Node's ERR_* codes).
//
// Threads: JS thread only.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace fltport::napi {

// A view of a Uint8Array's bytes, valid until JS runs again (callers copy before that).
struct ByteView {
  const uint8_t* data = nullptr;
  size_t length = 0;
};

class JsArgs {
 public:
  // JS thread. An integer Number in [min, max].
  static uint32_t U32(Napi::Env env, const Napi::Value& v, const char* name, uint32_t min = 0,
                      uint32_t max = UINT32_MAX);
  // JS thread. An NTSTATUS-like 32-bit value: an integer in [-2^31, 2^32), as bits.
  static uint32_t Bits32(Napi::Env env, const Napi::Value& v, const char* name);
  // JS thread. A non-negative safe integer (tokens cross back to JS as doubles).
  static uint64_t Token(Napi::Env env, const Napi::Value& v, const char* name);
  // JS thread. A bigint in [0, 2^64).
  static uint64_t BigU64(Napi::Env env, const Napi::Value& v, const char* name);
  // JS thread. A Uint8Array (Buffer included); null/undefined allowed when `nullable`.
  // A detached buffer reads as zero bytes.
  static ByteView Bytes(Napi::Env env, const Napi::Value& v, const char* name, bool nullable);
  // JS thread. A string, as UTF-16 (Windows names) or UTF-8 (paths on POSIX).
  static std::u16string String16(Napi::Env env, const Napi::Value& v, const char* name,
                                 bool allow_empty);
  static std::string String8(Napi::Env env, const Napi::Value& v, const char* name);
  static Napi::Object Object(Napi::Env env, const Napi::Value& v, const char* name);
  static Napi::Function Function(Napi::Env env, const Napi::Value& v, const char* name);
};

}  // namespace fltport::napi
