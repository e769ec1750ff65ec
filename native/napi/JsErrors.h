// core::Status -> the JS error the TS layer wants. lib/errors.ts registers a factory at load
// (setErrorFactory, better-sqlite3 style: the error classes live in JS, native only
// describes the failure as a NativeErrorInfo). Without a factory a plain Error with code
// 'FLTPORT_NATIVE' carries the same fields and every number in its message, so no failure
// is ever reported without its number.
//
// Argument errors (wrong JS types, out-of-range sizes) are programming errors, not
// failures of the kernel: they are thrown as TypeError/RangeError with Node's codes.
//
// Threads: JS thread only (everything here touches napi_env).
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

#include "Status.h"

namespace fltport::napi {

class JsErrors {
 public:
  // JS thread. The NativeErrorInfo object for `status` (which must have failed).
  static Napi::Object Info(Napi::Env env, const core::Status& status, uint32_t required_size = 0);

  // JS thread. The error for `status`: the registered factory's result, or the fallback
  // Error when none is registered or the factory itself failed. `required_size` (a receive
  // or read too small for the waiting message) is passed as info.requiredSize when non-zero.
  static Napi::Value Make(Napi::Env env, const core::Status& status, uint32_t required_size = 0);

  // JS thread. The fallback error: a plain Error, code 'FLTPORT_NATIVE', info's fields copied
  // on it, all numbers in the message.
  static Napi::Error Fallback(Napi::Env env, const core::Status& status, uint32_t required_size);

  // JS thread. The message used by Fallback (exposed for tests via the fallback itself).
  static std::string Describe(const core::Status& status, uint32_t required_size);

  // What a Windows caller sees when it uses a handle that was already closed: the Filter*
  // call fails with ERROR_INVALID_HANDLE (0x80070006). Used for calls made after close().
  static core::Status Closed(const char* syscall, const char* what);

  // JS thread, at the top of a callback Node invokes (TSFN call, async-work completion):
  // hand `error` to JS as a pending exception (it becomes an uncaught exception, like any
  // throw from an event callback). Never throws: while an environment is being torn down
  // JS cannot run and napi_throw fails; a C++ exception escaping there would abort.
  static void ThrowToJs(Napi::Env env, const Napi::Error& error) noexcept;

  // JS thread. Throw a TypeError / RangeError with Node's error codes.
  [[noreturn]] static void ThrowType(Napi::Env env, const std::string& message);
  [[noreturn]] static void ThrowRange(Napi::Env env, const std::string& message);
};

}  // namespace fltport::napi
