#include "JsArgs.h"

#include <cmath>

#include "JsErrors.h"

namespace fltport::napi {
namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;  // Number.MAX_SAFE_INTEGER

double IntegerNumber(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) JsErrors::ThrowType(env, std::string(name) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::trunc(d) != d) {
    JsErrors::ThrowRange(env, std::string(name) + " must be an integer");
  }
  return d;
}

}  // namespace

uint32_t JsArgs::U32(Napi::Env env, const Napi::Value& v, const char* name, uint32_t min,
                     uint32_t max) {
  const double d = IntegerNumber(env, v, name);
  if (d < min || d > max) {
    JsErrors::ThrowRange(env, std::string(name) + " must be in [" + std::to_string(min) + ", " +
                                  std::to_string(max) + "]");
  }
  return static_cast<uint32_t>(d);
}

uint32_t JsArgs::Bits32(Napi::Env env, const Napi::Value& v, const char* name) {
  const double d = IntegerNumber(env, v, name);
  if (d < -2147483648.0 || d > 4294967295.0) {
    JsErrors::ThrowRange(env, std::string(name) + " must be a 32-bit value");
  }
  return d < 0 ? static_cast<uint32_t>(static_cast<int32_t>(d)) : static_cast<uint32_t>(d);
}

uint64_t JsArgs::Token(Napi::Env env, const Napi::Value& v, const char* name) {
  const double d = IntegerNumber(env, v, name);
  if (d < 0 || d > kMaxSafeInteger) {
    JsErrors::ThrowRange(env, std::string(name) + " must be a non-negative safe integer");
  }
  return static_cast<uint64_t>(d);
}

uint64_t JsArgs::BigU64(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsBigInt()) JsErrors::ThrowType(env, std::string(name) + " must be a bigint");
  bool lossless = false;
  const uint64_t value = v.As<Napi::BigInt>().Uint64Value(&lossless);
  // Negative or wider than 64 bits: napi reports it as lossy.
  if (!lossless) JsErrors::ThrowRange(env, std::string(name) + " must be in [0, 2^64)");
  return value;
}

ByteView JsArgs::Bytes(Napi::Env env, const Napi::Value& v, const char* name, bool nullable) {
  if (nullable && (v.IsNull() || v.IsUndefined())) return {};
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    JsErrors::ThrowType(env, std::string(name) + (nullable ? " must be a Uint8Array or null"
                                                           : " must be a Uint8Array"));
  }
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_value buffer;
  size_t offset = 0;
  napi_status st = napi_get_typedarray_info(env, v, &type, &length, &data, &buffer, &offset);
  if (st != napi_ok) JsErrors::ThrowType(env, std::string(name) + " is not a readable Uint8Array");
  // A detached buffer reports length 0 and may report a null data pointer.
  if (!data) length = 0;
  return {static_cast<const uint8_t*>(data), length};
}

std::u16string JsArgs::String16(Napi::Env env, const Napi::Value& v, const char* name,
                                bool allow_empty) {
  if (!v.IsString()) JsErrors::ThrowType(env, std::string(name) + " must be a string");
  std::u16string s = v.As<Napi::String>().Utf16Value();
  if (!allow_empty && s.empty()) JsErrors::ThrowRange(env, std::string(name) + " must not be empty");
  // The Filter* APIs take NUL-terminated names: an embedded NUL would silently truncate.
  if (s.find(u'\0') != std::u16string::npos) {
    JsErrors::ThrowRange(env, std::string(name) + " must not contain NUL characters");
  }
  return s;
}

std::string JsArgs::String8(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsString()) JsErrors::ThrowType(env, std::string(name) + " must be a string");
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.find('\0') != std::string::npos) {
    JsErrors::ThrowRange(env, std::string(name) + " must not contain NUL characters");
  }
  return s;
}

Napi::Object JsArgs::Object(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsObject() || v.IsFunction()) JsErrors::ThrowType(env, std::string(name) + " must be an object");
  return v.As<Napi::Object>();
}

Napi::Function JsArgs::Function(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!v.IsFunction()) JsErrors::ThrowType(env, std::string(name) + " must be a function");
  return v.As<Napi::Function>();
}

}  // namespace fltport::napi
