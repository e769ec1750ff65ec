#include "MailslotWrap.h"

#include <utility>
#include <vector>

#include "Addon.h"
#include "JsArgs.h"
#include "JsErrors.h"
#include "PromiseWorker.h"

namespace fltport::napi {
namespace {

// napi_type_tag for NativeMailslot objects.
constexpr napi_type_tag kMailslotTypeTag = {0x2b8e51d04f6c9a17ULL, 0xd3a96f0c71e4b258ULL};

Napi::Error AsError(Napi::Env env, const core::Status& status) {
  return Napi::Error(env, JsErrors::Make(env, status));
}

}  // namespace

// JS thread.
Napi::Function MailslotWrap::DefineClass(Napi::Env env) {
  Napi::Function ctor = ObjectWrap<MailslotWrap>::DefineClass(env, "NativeMailslot", {});
  Napi::Object proto = ctor.Get("prototype").As<Napi::Object>();
  constexpr auto kMethod = static_cast<napi_property_attributes>(napi_writable | napi_configurable);
  proto.DefineProperties({
      Napi::PropertyDescriptor::Value(
          "read", Napi::Function::New<&Dispatch<&MailslotWrap::JsRead>>(env, "read"), kMethod),
      Napi::PropertyDescriptor::Value(
          "info", Napi::Function::New<&Dispatch<&MailslotWrap::JsInfo>>(env, "info"), kMethod),
      Napi::PropertyDescriptor::Value(
          "setReadTimeout",
          Napi::Function::New<&Dispatch<&MailslotWrap::JsSetReadTimeout>>(env, "setReadTimeout"),
          kMethod),
      Napi::PropertyDescriptor::Value(
          "close", Napi::Function::New<&Dispatch<&MailslotWrap::JsClose>>(env, "close"), kMethod),
      Napi::PropertyDescriptor::Value(
          "ref", Napi::Function::New<&Dispatch<&MailslotWrap::JsRef>>(env, "ref"), kMethod),
      Napi::PropertyDescriptor::Value(
          "unref", Napi::Function::New<&Dispatch<&MailslotWrap::JsUnref>>(env, "unref"), kMethod),
  });
  return ctor;
}

// JS thread.
template <Napi::Value (MailslotWrap::*Method)(const Napi::CallbackInfo&)>
Napi::Value MailslotWrap::Dispatch(const Napi::CallbackInfo& info) {
  return (FromThis(info)->*Method)(info);
}

// JS thread.
MailslotWrap* MailslotWrap::FromThis(const Napi::CallbackInfo& info) {
  Napi::Value self = info.This();
  if (!self.IsObject() || !self.As<Napi::Object>().CheckTypeTag(&kMailslotTypeTag)) {
    JsErrors::ThrowType(info.Env(),
                        "NativeMailslot method called on an object that is not a NativeMailslot");
  }
  MailslotWrap* slot = Unwrap(self.As<Napi::Object>());
  if (slot == nullptr) JsErrors::ThrowType(info.Env(), "NativeMailslot is no longer valid");
  return slot;
}

// JS thread.
MailslotWrap::MailslotWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MailslotWrap>(info) {
  Napi::Env env = info.Env();
  Addon* addon = Addon::Get(env);
  if (addon == nullptr || info.Length() != 1 || !addon->IsConstructToken(info[0])) {
    JsErrors::ThrowType(env, "NativeMailslot cannot be constructed from JavaScript; use createMailslot()");
  }
  auto* init = static_cast<Init*>(addon->TakePendingConstruct(&kMailslotTypeTag));
  if (init == nullptr) {
    JsErrors::ThrowType(env, "NativeMailslot cannot be constructed from JavaScript; use createMailslot()");
  }
  info.This().As<Napi::Object>().TypeTag(&kMailslotTypeTag);
  server_ = std::move(init->server);
  core::MailslotServer* server = server_.get();
  control_ = std::make_unique<SessionControl>(addon, std::move(init->pump),
                                              [server]() { server->Close(); });
}

// JS thread (finalizer or environment teardown).
MailslotWrap::~MailslotWrap() {
  if (!control_) return;
  control_->Detach();
  control_->CloseNow();
  if (!control_->idle()) (void)server_.release();  // see ~PortWrap
}

// JS thread.
Napi::Object MailslotWrap::NewInstance(Napi::Env env, std::unique_ptr<core::MailslotServer> server,
                                       std::shared_ptr<EventPump> pump) {
  Addon* addon = Addon::Get(env);
  Init init{std::move(server), pump};
  try {
    if (addon == nullptr || addon->tearing_down()) {
      core::Status st = JsErrors::Closed("CreateMailslotW", "environment");
      throw Napi::Error::New(env, JsErrors::Describe(st, 0));
    }
    addon->set_pending_construct(&kMailslotTypeTag, &init);
    Napi::Object obj = addon->mailslot_constructor().New({addon->ConstructToken(env)});
    pump->Attach(Unwrap(obj));
    return obj;
  } catch (...) {
    if (addon) addon->set_pending_construct(nullptr, nullptr);
    if (init.server) init.server->Close();
    pump->Release();
    throw;
  }
}

// JS thread.
Napi::Value MailslotWrap::Create(const Napi::CallbackInfo& info, Addon* /*addon*/) {
  Napi::Env env = info.Env();
  Napi::Object o = JsArgs::Object(env, info[0], "options");
  Napi::Function on_batch = JsArgs::Function(env, info[1], "onBatch");
  Napi::Function on_stopped = JsArgs::Function(env, info[2], "onStopped");
  core::MailslotOptions options;
  options.name = JsArgs::String16(env, o.Get("name"), "options.name", false);
  options.max_message_size = JsArgs::U32(env, o.Get("maxMessageSize"), "options.maxMessageSize");
  options.read_timeout_ms = JsArgs::U32(env, o.Get("readTimeout"), "options.readTimeout");
  options.sim_runtime_dir = JsArgs::String8(env, o.Get("simRuntimeDir"), "options.simRuntimeDir");

  std::shared_ptr<EventPump> pump =
      EventPump::Create(env, EventPump::Kind::kMailslot, on_batch, on_stopped, "fltport:mailslot");
  auto slot = std::make_shared<std::unique_ptr<core::MailslotServer>>();
  return PromiseWorker::Start(
      env, "fltport:createMailslot",
      [options = std::move(options), pump, slot]() {
        core::Status status;
        *slot = core::MailslotServer::Create(options, pump.get(), &status);
        if (*slot) return core::Status::Ok();
        if (status.ok()) {
          status = core::Status::Protocol("the backend returned neither a mailslot nor a failure",
                                          "CreateMailslotW");
        }
        return status;
      },
      [pump, slot](Napi::Env e) -> Napi::Value { return NewInstance(e, std::move(*slot), pump); },
      [pump, slot](Napi::Env) {
        if (!*slot) pump->Release();
      });
}

// JS thread.
Napi::Value MailslotWrap::Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::u16string name = JsArgs::String16(env, info[0], "name", false);
  ByteView data = JsArgs::Bytes(env, info[1], "data", false);
  if (data.length > UINT32_MAX) JsErrors::ThrowRange(env, "data must be smaller than 4 GiB");
  std::string dir = JsArgs::String8(env, info[2], "simRuntimeDir");
  auto bytes = std::make_shared<std::vector<uint8_t>>(data.data, data.data + data.length);
  return PromiseWorker::Start(
      env, "fltport:writeMailslot",
      [name = std::move(name), bytes, dir = std::move(dir)]() {
        return core::MailslotWrite(name, bytes->empty() ? nullptr : bytes->data(),
                                   static_cast<uint32_t>(bytes->size()), dir);
      },
      nullptr);
}

// JS thread. read(token, maxSize): one ReadFile; the outcome arrives in a batch.
Napi::Value MailslotWrap::JsRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint64_t token = JsArgs::Token(env, info[0], "token");
  const uint32_t max_size = JsArgs::U32(env, info[1], "maxSize");
  if (control_->closing() || control_->stopped()) {
    throw AsError(env, JsErrors::Closed("ReadFile", "mailslot"));
  }
  server_->Read(token, max_size);
  return env.Undefined();
}

// JS thread. GetMailslotInfo: answers at once, never waits for a message.
Napi::Value MailslotWrap::JsInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (control_->closing()) throw AsError(env, JsErrors::Closed("GetMailslotInfo", "mailslot"));
  core::MailslotInfo mi{};
  core::Status st = server_->Info(&mi);
  if (!st.ok()) throw AsError(env, st);
  Napi::Object out = Napi::Object::New(env);
  out.Set("maxMessageSize", Napi::Number::New(env, mi.max_message_size));
  out.Set("nextSize", Napi::Number::New(env, mi.next_size));
  out.Set("count", Napi::Number::New(env, mi.count));
  out.Set("readTimeout", Napi::Number::New(env, mi.read_timeout_ms));
  return out;
}

// JS thread. SetMailslotInfo.
Napi::Value MailslotWrap::JsSetReadTimeout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint32_t ms = JsArgs::U32(env, info[0], "ms");
  if (control_->closing()) throw AsError(env, JsErrors::Closed("SetMailslotInfo", "mailslot"));
  core::Status st = server_->SetReadTimeout(ms);
  if (!st.ok()) throw AsError(env, st);
  return env.Undefined();
}

// JS thread.
Napi::Value MailslotWrap::JsClose(const Napi::CallbackInfo& info) {
  return control_->Close(info.Env(), Value(), "fltport:closeMailslot");
}

// JS thread.
Napi::Value MailslotWrap::JsRef(const Napi::CallbackInfo& info) {
  control_->SetUserRef(info.Env(), true);
  return info.Env().Undefined();
}

// JS thread.
Napi::Value MailslotWrap::JsUnref(const Napi::CallbackInfo& info) {
  control_->SetUserRef(info.Env(), false);
  return info.Env().Undefined();
}

// JS thread.
void MailslotWrap::OnPumpStopped() { control_->OnStopDelivered(Env()); }

}  // namespace fltport::napi
