// NativeMailslot: the server (read) end of a mailslot (lib/binding.ts, spec §10), plus
// writeMailslot for the client end. Reads are one-shot and non-blocking: the outcome of
// read(token) arrives in a batch (readTokens/readErrors/readOffsets/readLengths), through the
// same EventPump as a port's messages. info()/setReadTimeout() do not wait for messages and
// run on the JS thread.
//
// Threads: JS thread, unless a comment says otherwise.
#pragma once

#include <napi.h>

#include <memory>

#include "EventPump.h"
#include "MailslotBackend.h"
#include "SessionControl.h"

namespace fltport::napi {

class Addon;

class MailslotWrap final : public Napi::ObjectWrap<MailslotWrap>, public EventPump::Owner {
 public:
  // JS thread (module initialization): the NativeMailslot class.
  static Napi::Function DefineClass(Napi::Env env);
  // JS thread: binding.createMailslot(options, onBatch, onStopped).
  static Napi::Value Create(const Napi::CallbackInfo& info, Addon* addon);
  // JS thread: binding.writeMailslot(name, data, simRuntimeDir).
  static Napi::Value Write(const Napi::CallbackInfo& info);

  // JS thread: only through NewInstance (the constructor checks the addon's token).
  explicit MailslotWrap(const Napi::CallbackInfo& info);
  // JS thread: garbage collection or environment teardown.
  ~MailslotWrap() override;

 private:
  struct Init {
    std::unique_ptr<core::MailslotServer> server;
    std::shared_ptr<EventPump> pump;
  };

  static Napi::Object NewInstance(Napi::Env env, std::unique_ptr<core::MailslotServer> server,
                                  std::shared_ptr<EventPump> pump);
  template <Napi::Value (MailslotWrap::*Method)(const Napi::CallbackInfo&)>
  static Napi::Value Dispatch(const Napi::CallbackInfo& info);
  static MailslotWrap* FromThis(const Napi::CallbackInfo& info);

  Napi::Value JsRead(const Napi::CallbackInfo& info);
  Napi::Value JsInfo(const Napi::CallbackInfo& info);
  Napi::Value JsSetReadTimeout(const Napi::CallbackInfo& info);
  Napi::Value JsClose(const Napi::CallbackInfo& info);
  Napi::Value JsRef(const Napi::CallbackInfo& info);
  Napi::Value JsUnref(const Napi::CallbackInfo& info);

  // EventPump::Owner.
  void OnPumpStopped() override;

  std::unique_ptr<core::MailslotServer> server_;
  std::unique_ptr<SessionControl> control_;
};

}  // namespace fltport::napi
