// The module: per-environment instance data (Napi::Addon), so the main thread and every
// worker_threads Worker get their own error factory, constructors and live-session registry.
//
// An environment cleanup hook closes every port and mailslot still open when the
// environment goes away (natural process exit, a Worker's exit or terminate()): it joins
// their I/O threads before Node frees what those threads could otherwise touch.
// (process.exit() and fatal errors skip cleanup hooks; the OS reclaims everything then.)
//
// Threads: JS thread of its environment only.
#pragma once

#include <napi.h>

#include <memory>
#include <unordered_set>

namespace fltport::napi {

class SessionControl;

class Addon final : public Napi::Addon<Addon> {
 public:
  // JS thread (module initialization).
  Addon(Napi::Env env, Napi::Object exports);
  ~Addon();

  // JS thread. The instance data of `env`; null before initialization completes or after the
  // environment released it.
  static Addon* Get(Napi::Env env) { return env.GetInstanceData<Addon>(); }

  // JS thread.
  Napi::FunctionReference& error_factory() { return error_factory_; }
  Napi::FunctionReference& port_constructor() { return port_constructor_; }
  Napi::FunctionReference& mailslot_constructor() { return mailslot_constructor_; }
  // JS thread: the function that makes batch objects, compiled once (JsBatch::NewFactory).
  Napi::FunctionReference& batch_factory() { return batch_factory_; }
  bool tearing_down() const { return tearing_down_; }

  // JS thread. The wrapper constructors accept only this token (an External), so JS cannot
  // build a NativePort/NativeMailslot around nothing through `port.constructor`.
  Napi::Value ConstructToken(Napi::Env env);
  bool IsConstructToken(const Napi::Value& v) const;
  // JS thread: what the next wrapper constructor of type `kind` adopts (set right before
  // calling it). Keyed by kind so a NativeMailslot constructor can never adopt a port.
  void set_pending_construct(const void* kind, void* p) {
    pending_kind_ = kind;
    pending_construct_ = p;
  }
  void* TakePendingConstruct(const void* kind) {
    if (kind != pending_kind_ || pending_construct_ == nullptr) return nullptr;
    void* p = pending_construct_;
    pending_construct_ = nullptr;
    pending_kind_ = nullptr;
    return p;
  }

  // JS thread: the live sessions the cleanup hook must close.
  void Register(SessionControl* s) { sessions_.insert(s); }
  void Unregister(SessionControl* s) { sessions_.erase(s); }

 private:
  Napi::Value JsSetErrorFactory(const Napi::CallbackInfo& info);
  Napi::Value JsConnect(const Napi::CallbackInfo& info);
  Napi::Value JsCreateMailslot(const Napi::CallbackInfo& info);
  Napi::Value JsWriteMailslot(const Napi::CallbackInfo& info);
  Napi::Value JsListFilters(const Napi::CallbackInfo& info);
  Napi::Value JsListInstances(const Napi::CallbackInfo& info);
  Napi::Value JsListVolumes(const Napi::CallbackInfo& info);
  Napi::Value JsLoadFilter(const Napi::CallbackInfo& info);
  Napi::Value JsUnloadFilter(const Napi::CallbackInfo& info);
  Napi::Value JsAttachFilter(const Napi::CallbackInfo& info);
  Napi::Value JsDetachFilter(const Napi::CallbackInfo& info);
  Napi::Value JsGetDosName(const Napi::CallbackInfo& info);
  Napi::Value JsStatusTable(const Napi::CallbackInfo& info);
  Napi::Value JsHresultFromNtStatus(const Napi::CallbackInfo& info);

  // JS thread, environment teardown.
  static void CleanupHook(void* self);
  void Cleanup();

  Napi::FunctionReference error_factory_;
  Napi::FunctionReference port_constructor_;
  Napi::FunctionReference mailslot_constructor_;
  Napi::FunctionReference batch_factory_;
  napi_env env_ = nullptr;
  std::unordered_set<SessionControl*> sessions_;
  void* pending_construct_ = nullptr;
  const void* pending_kind_ = nullptr;
  char construct_token_ = 0;  // its address is the token
  bool tearing_down_ = false;
  bool cleanup_registered_ = false;
};

}  // namespace fltport::napi
