#include "Addon.h"

#include <vector>

#include "BackendName.h"
#include "FilterFunctions.h"
#include "JsBatch.h"
#include "JsArgs.h"
#include "JsErrors.h"
#include "MailslotWrap.h"
#include "PortWrap.h"
#include "SessionControl.h"
#include "StatusTable.h"

#ifndef FLTPORT_VERSION
#error "FLTPORT_VERSION must be defined by the build (package.json's version)"
#endif

namespace fltport::napi {

// JS thread (module initialization).
Addon::Addon(Napi::Env env, Napi::Object exports) {
  port_constructor_ = Napi::Persistent(PortWrap::DefineClass(env));
  mailslot_constructor_ = Napi::Persistent(MailslotWrap::DefineClass(env));
  batch_factory_ = Napi::Persistent(JsBatch::NewFactory(env));

  DefineAddon(exports, {
      InstanceValue("version", Napi::String::New(env, FLTPORT_VERSION), napi_enumerable),
      InstanceValue("backend", Napi::String::New(env, BackendName()), napi_enumerable),
      InstanceMethod("setErrorFactory", &Addon::JsSetErrorFactory, napi_enumerable),
      InstanceMethod("connect", &Addon::JsConnect, napi_enumerable),
      InstanceMethod("createMailslot", &Addon::JsCreateMailslot, napi_enumerable),
      InstanceMethod("writeMailslot", &Addon::JsWriteMailslot, napi_enumerable),
      InstanceMethod("listFilters", &Addon::JsListFilters, napi_enumerable),
      InstanceMethod("listInstances", &Addon::JsListInstances, napi_enumerable),
      InstanceMethod("listVolumes", &Addon::JsListVolumes, napi_enumerable),
      InstanceMethod("loadFilter", &Addon::JsLoadFilter, napi_enumerable),
      InstanceMethod("unloadFilter", &Addon::JsUnloadFilter, napi_enumerable),
      InstanceMethod("attachFilter", &Addon::JsAttachFilter, napi_enumerable),
      InstanceMethod("detachFilter", &Addon::JsDetachFilter, napi_enumerable),
      InstanceMethod("getDosName", &Addon::JsGetDosName, napi_enumerable),
      InstanceMethod("statusTable", &Addon::JsStatusTable, napi_enumerable),
      InstanceMethod("hresultFromNtStatus", &Addon::JsHresultFromNtStatus, napi_enumerable),
  });

  // Registered after Node's own per-addon hook, so it runs before the instance data and the
  // wrappers are finalized (hooks run in reverse order of registration).
  env_ = env;
  cleanup_registered_ = napi_add_env_cleanup_hook(env, &Addon::CleanupHook, this) == napi_ok;
}

// JS thread (the instance data finalizer). The order against the wrappers' finalizers is not
// specified: sessions still registered forget this addon instead of calling into it.
Addon::~Addon() {
  for (SessionControl* s : sessions_) s->addon_ = nullptr;
  sessions_.clear();
  if (cleanup_registered_) {
    napi_remove_env_cleanup_hook(env_, &Addon::CleanupHook, this);
  }
}

// JS thread, environment teardown: no JS runs any more. Close every open session
// synchronously; each Close() cancels, drains and joins its I/O thread, whose last deliveries
// are freed by the pump (the TSFNs are closing by now).
void Addon::Cleanup() {
  cleanup_registered_ = false;
  tearing_down_ = true;
  std::vector<SessionControl*> live(sessions_.begin(), sessions_.end());
  for (SessionControl* s : live) s->CloseNow();
}

// JS thread, environment teardown.
void Addon::CleanupHook(void* self) { static_cast<Addon*>(self)->Cleanup(); }

// JS thread.
Napi::Value Addon::ConstructToken(Napi::Env env) {
  return Napi::External<char>::New(env, &construct_token_);
}

// JS thread.
bool Addon::IsConstructToken(const Napi::Value& v) const {
  return v.IsExternal() && v.As<Napi::External<char>>().Data() == &construct_token_;
}

// JS thread.
Napi::Value Addon::JsSetErrorFactory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Value f = info[0];
  if (f.IsNull() || f.IsUndefined()) {
    error_factory_.Reset();
  } else {
    error_factory_ = Napi::Persistent(JsArgs::Function(env, f, "factory"));
  }
  return env.Undefined();
}

// JS thread.
Napi::Value Addon::JsConnect(const Napi::CallbackInfo& info) { return PortWrap::Connect(info, this); }

// JS thread.
Napi::Value Addon::JsCreateMailslot(const Napi::CallbackInfo& info) {
  return MailslotWrap::Create(info, this);
}

// JS thread.
Napi::Value Addon::JsWriteMailslot(const Napi::CallbackInfo& info) {
  return MailslotWrap::Write(info);
}

Napi::Value Addon::JsListFilters(const Napi::CallbackInfo& info) {
  return FilterFunctions::ListFilters(info);
}
Napi::Value Addon::JsListInstances(const Napi::CallbackInfo& info) {
  return FilterFunctions::ListInstances(info);
}
Napi::Value Addon::JsListVolumes(const Napi::CallbackInfo& info) {
  return FilterFunctions::ListVolumes(info);
}
Napi::Value Addon::JsLoadFilter(const Napi::CallbackInfo& info) {
  return FilterFunctions::LoadFilter(info);
}
Napi::Value Addon::JsUnloadFilter(const Napi::CallbackInfo& info) {
  return FilterFunctions::UnloadFilter(info);
}
Napi::Value Addon::JsAttachFilter(const Napi::CallbackInfo& info) {
  return FilterFunctions::AttachFilter(info);
}
Napi::Value Addon::JsDetachFilter(const Napi::CallbackInfo& info) {
  return FilterFunctions::DetachFilter(info);
}
Napi::Value Addon::JsGetDosName(const Napi::CallbackInfo& info) {
  return FilterFunctions::GetDosName(info);
}

// JS thread.
Napi::Value Addon::JsStatusTable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t count = 0;
  const core::NtStatusEntry* table = core::NtStatusTable(&count);
  Napi::Array out = Napi::Array::New(env, count);
  for (size_t i = 0; i < count; ++i) {
    Napi::Object e = Napi::Object::New(env);
    e.Set("ntstatus", Napi::Number::New(env, table[i].ntstatus));
    e.Set("win32", Napi::Number::New(env, table[i].win32));
    e.Set("hresult", Napi::Number::New(env, core::HresultFromNtStatus(table[i].ntstatus)));
    e.Set("name", table[i].name);
    out.Set(static_cast<uint32_t>(i), e);
  }
  return out;
}

// JS thread.
Napi::Value Addon::JsHresultFromNtStatus(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint32_t ntstatus = JsArgs::Bits32(env, info[0], "ntstatus");
  return Napi::Number::New(env, core::HresultFromNtStatus(ntstatus));
}

}  // namespace fltport::napi

// NODE_API_ADDON pastes its argument into an identifier: it needs an unqualified name.
using FltportAddon = fltport::napi::Addon;
NODE_API_ADDON(FltportAddon)
