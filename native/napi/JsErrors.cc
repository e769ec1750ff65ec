#include "JsErrors.h"

#include <cstdio>

#include "Addon.h"
#include "StatusTable.h"

namespace fltport::napi {
namespace {

const char* OriginName(core::StatusOrigin origin) {
  switch (origin) {
    case core::StatusOrigin::kNone:
      // A success reaching here is a native bug; name it so the message still makes sense.
      return "protocol";
    case core::StatusOrigin::kNtStatus:
      return "ntstatus";
    case core::StatusOrigin::kWin32:
      return "win32";
    case core::StatusOrigin::kHresult:
      return "hresult";
    case core::StatusOrigin::kErrno:
      return "errno";
    case core::StatusOrigin::kProtocol:
      return "protocol";
    case core::StatusOrigin::kArgument:
      return "argument";
  }
  return "protocol";
}

std::string Hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

// HRESULT_FROM_WIN32 etc. only guarantee a number when something failed; a Status that
// claims success but is reported anyway still gets E_FAIL so that JS never sees 0.
uint32_t EffectiveHresult(const core::Status& s) { return s.hresult ? s.hresult : core::hr::kFail; }

bool HasWin32(const core::Status& s) { return s.win32 != 0; }

}  // namespace

// JS thread.
Napi::Object JsErrors::Info(Napi::Env env, const core::Status& status, uint32_t required_size) {
  Napi::Object info = Napi::Object::New(env);
  info.Set("origin", OriginName(status.origin));
  info.Set("hresult", Napi::Number::New(env, EffectiveHresult(status)));
  if (status.has_ntstatus) info.Set("ntstatus", Napi::Number::New(env, status.ntstatus));
  if (HasWin32(status)) info.Set("win32", Napi::Number::New(env, status.win32));
  if (status.origin == core::StatusOrigin::kErrno) {
    info.Set("errno", Napi::Number::New(env, status.sys_errno));
  }
  info.Set("syscall", status.syscall);
  info.Set("detail", status.detail);
  if (required_size) info.Set("requiredSize", Napi::Number::New(env, required_size));
  return info;
}

// JS thread.
std::string JsErrors::Describe(const core::Status& status, uint32_t required_size) {
  std::string msg = status.syscall.empty() ? std::string("native operation") : status.syscall;
  msg += " failed: HRESULT " + Hex(EffectiveHresult(status));
  if (status.has_ntstatus) {
    msg += ", NTSTATUS " + Hex(status.ntstatus);
    if (const char* name = core::NtStatusName(status.ntstatus)) msg += std::string(" ") + name;
  }
  if (HasWin32(status)) msg += ", Win32 error " + std::to_string(status.win32);
  if (status.origin == core::StatusOrigin::kErrno) msg += ", errno " + std::to_string(status.sys_errno);
  if (required_size) msg += ", required size " + std::to_string(required_size);
  msg += std::string(" (origin ") + OriginName(status.origin) + ")";
  if (!status.detail.empty()) msg += ": " + status.detail;
  return msg;
}

// JS thread.
Napi::Error JsErrors::Fallback(Napi::Env env, const core::Status& status, uint32_t required_size) {
  Napi::Error err = Napi::Error::New(env, Describe(status, required_size));
  Napi::Object obj = err.Value();
  obj.Set("code", "FLTPORT_NATIVE");
  Napi::Object info = Info(env, status, required_size);
  Napi::Array keys = info.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    Napi::Value key = keys.Get(i);
    obj.Set(key, info.Get(key));
  }
  return err;
}

// JS thread.
Napi::Value JsErrors::Make(Napi::Env env, const core::Status& status, uint32_t required_size) {
  Addon* addon = Addon::Get(env);
  if (addon && !addon->error_factory().IsEmpty()) {
    Napi::Object info = Info(env, status, required_size);
    try {
      Napi::Value made = addon->error_factory().Call(env.Undefined(), {info});
      if (made.IsObject()) return made;
    } catch (const Napi::Error&) {
      // The factory is lib/errors.ts; if it breaks, the failure must still reach the caller
      // with its numbers, so fall through to the plain error rather than lose it.
    }
  }
  return Fallback(env, status, required_size).Value();
}

core::Status JsErrors::Closed(const char* syscall, const char* what) {
  core::Status s = core::Status::FromWin32(6 /* ERROR_INVALID_HANDLE */, syscall);
  s.detail = std::string("the ") + what + " is closed";
  return s;
}

// JS thread.
void JsErrors::ThrowToJs(Napi::Env env, const Napi::Error& error) noexcept {
  try {
    napi_value value = error.Value();
    if (value != nullptr) napi_throw(env, value);
  } catch (...) {
    // The environment is going away: there is no JS left to tell.
  }
}

// JS thread.
void JsErrors::ThrowType(Napi::Env env, const std::string& message) {
  Napi::Error err = Napi::TypeError::New(env, message);
  err.Set("code", "ERR_INVALID_ARG_TYPE");
  throw err;
}

// JS thread.
void JsErrors::ThrowRange(Napi::Env env, const std::string& message) {
  Napi::Error err = Napi::RangeError::New(env, message);
  err.Set("code", "ERR_OUT_OF_RANGE");
  throw err;
}

}  // namespace fltport::napi
