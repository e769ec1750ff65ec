// NativePort: one connection to a minifilter's communication port (lib/binding.ts).
//
// Owns the core::PortBackend (and so its I/O thread) and the session's SessionControl.
// FilterConnectCommunicationPort (connect) and the cancel-and-drain of close run on pool
// threads; reply, send and consumed never block (the backend copies the reply payload or the
// send's input once; their outcomes come back in batches, by token).
//
// Methods are installed on the prototype through a dispatcher that checks the receiver's
// type tag first, so `NativePort.prototype.send.call(other)` is a TypeError, not a crash.
//
// Threads: JS thread, unless a comment says otherwise.
#pragma once

#include <napi.h>

#include <memory>

#include "EventPump.h"
#include "PortBackend.h"
#include "SessionControl.h"

namespace fltport::napi {

class Addon;

class PortWrap final : public Napi::ObjectWrap<PortWrap>, public EventPump::Owner {
 public:
  // JS thread (module initialization): the NativePort class.
  static Napi::Function DefineClass(Napi::Env env);
  // JS thread: binding.connect(options, onBatch, onStopped).
  static Napi::Value Connect(const Napi::CallbackInfo& info, Addon* addon);

  // JS thread: only through NewInstance (the constructor checks the addon's token).
  explicit PortWrap(const Napi::CallbackInfo& info);
  // JS thread: garbage collection or environment teardown. Closes the backend if JS did not.
  ~PortWrap() override;

 private:
  struct Init {
    std::unique_ptr<core::PortBackend> backend;
    std::shared_ptr<EventPump> pump;
  };

  // JS thread: wraps a connected backend; closes it if the wrapper cannot be made.
  static Napi::Object NewInstance(Napi::Env env, std::unique_ptr<core::PortBackend> backend,
                                  std::shared_ptr<EventPump> pump);
  template <Napi::Value (PortWrap::*Method)(const Napi::CallbackInfo&)>
  static Napi::Value Dispatch(const Napi::CallbackInfo& info);
  static PortWrap* FromThis(const Napi::CallbackInfo& info);

  Napi::Value JsReply(const Napi::CallbackInfo& info);
  Napi::Value JsSend(const Napi::CallbackInfo& info);
  Napi::Value JsConsumed(const Napi::CallbackInfo& info);
  Napi::Value JsClose(const Napi::CallbackInfo& info);
  Napi::Value JsRef(const Napi::CallbackInfo& info);
  Napi::Value JsUnref(const Napi::CallbackInfo& info);

  // EventPump::Owner.
  void OnPumpStopped() override;

  std::unique_ptr<core::PortBackend> backend_;
  std::unique_ptr<SessionControl> control_;
};

}  // namespace fltport::napi
