#include "PortWrap.h"

#include <utility>

#include "Addon.h"
#include "JsArgs.h"
#include "JsErrors.h"
#include "MessageBatch.h"
#include "PromiseWorker.h"
#include "StatusTable.h"

namespace fltport::napi {
namespace {

// napi_type_tag for NativePort objects (random, fixed for the life of the format).
constexpr napi_type_tag kPortTypeTag = {0x6c1f0a3be2d54f71ULL, 0x9a07c4e15b2f8d36ULL};

constexpr uint32_t kFltPortFlagSyncHandle = 0x00000001;  // FLT_PORT_FLAG_SYNC_HANDLE
constexpr uint32_t kFilterMessageHeaderSize = 16;         // FILTER_MESSAGE_HEADER
constexpr uint32_t kFilterReplyHeaderSize = 16;           // FILTER_REPLY_HEADER
constexpr uint32_t kMaxConcurrency = 1024;                // core::PortOptions
constexpr uint32_t kMaxContextSize = 0xFFFF;              // wSizeOfContext is a WORD
// Batches index payloads with u32 offsets (core::MessageBatch::kMaxBytes).
constexpr uint32_t kMaxMessageSize = 0x7FFFFFFF;
constexpr uint32_t kMaxHighWaterMark = 1u << 20;

Napi::Error AsError(Napi::Env env, const core::Status& status) {
  return Napi::Error(env, JsErrors::Make(env, status));
}

}  // namespace

// JS thread.
Napi::Function PortWrap::DefineClass(Napi::Env env) {
  Napi::Function ctor = ObjectWrap<PortWrap>::DefineClass(env, "NativePort", {});
  Napi::Object proto = ctor.Get("prototype").As<Napi::Object>();
  constexpr auto kMethod = static_cast<napi_property_attributes>(napi_writable | napi_configurable);
  proto.DefineProperties({
      Napi::PropertyDescriptor::Value(
          "reply", Napi::Function::New<&Dispatch<&PortWrap::JsReply>>(env, "reply"), kMethod),
      Napi::PropertyDescriptor::Value(
          "send", Napi::Function::New<&Dispatch<&PortWrap::JsSend>>(env, "send"), kMethod),
      Napi::PropertyDescriptor::Value(
          "consumed", Napi::Function::New<&Dispatch<&PortWrap::JsConsumed>>(env, "consumed"),
          kMethod),
      Napi::PropertyDescriptor::Value(
          "close", Napi::Function::New<&Dispatch<&PortWrap::JsClose>>(env, "close"), kMethod),
      Napi::PropertyDescriptor::Value(
          "ref", Napi::Function::New<&Dispatch<&PortWrap::JsRef>>(env, "ref"), kMethod),
      Napi::PropertyDescriptor::Value(
          "unref", Napi::Function::New<&Dispatch<&PortWrap::JsUnref>>(env, "unref"), kMethod),
  });
  return ctor;
}

// JS thread.
template <Napi::Value (PortWrap::*Method)(const Napi::CallbackInfo&)>
Napi::Value PortWrap::Dispatch(const Napi::CallbackInfo& info) {
  return (FromThis(info)->*Method)(info);
}

// JS thread.
PortWrap* PortWrap::FromThis(const Napi::CallbackInfo& info) {
  Napi::Value self = info.This();
  if (!self.IsObject() || !self.As<Napi::Object>().CheckTypeTag(&kPortTypeTag)) {
    JsErrors::ThrowType(info.Env(), "NativePort method called on an object that is not a NativePort");
  }
  PortWrap* port = Unwrap(self.As<Napi::Object>());
  if (port == nullptr) JsErrors::ThrowType(info.Env(), "NativePort is no longer valid");
  return port;
}

// JS thread.
PortWrap::PortWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PortWrap>(info) {
  Napi::Env env = info.Env();
  Addon* addon = Addon::Get(env);
  if (addon == nullptr || info.Length() != 1 || !addon->IsConstructToken(info[0])) {
    JsErrors::ThrowType(env, "NativePort cannot be constructed from JavaScript; use connect()");
  }
  auto* init = static_cast<Init*>(addon->TakePendingConstruct(&kPortTypeTag));
  if (init == nullptr) {
    JsErrors::ThrowType(env, "NativePort cannot be constructed from JavaScript; use connect()");
  }
  info.This().As<Napi::Object>().TypeTag(&kPortTypeTag);
  // Nothing below throws: from here this wrapper owns the session.
  backend_ = std::move(init->backend);
  core::PortBackend* backend = backend_.get();
  control_ = std::make_unique<SessionControl>(addon, std::move(init->pump),
                                              [backend]() { backend->Close(); });
}

// JS thread (finalizer or environment teardown).
PortWrap::~PortWrap() {
  if (!control_) return;  // the constructor refused: nothing was adopted
  control_->Detach();
  // Unclosed and unreachable: close it now. The I/O thread's last deliveries still reach
  // the JS callbacks (the pump outlives this wrapper), onStopped('closed') among them.
  control_->CloseNow();
  if (!control_->idle()) {
    // A pool thread still runs Close on this backend. Only possible when the
    // environment is torn down under it; leaking the closed backend beats freeing memory
    // that thread is using.
    (void)backend_.release();
  }
}

// JS thread.
Napi::Object PortWrap::NewInstance(Napi::Env env, std::unique_ptr<core::PortBackend> backend,
                                   std::shared_ptr<EventPump> pump) {
  Addon* addon = Addon::Get(env);
  Init init{std::move(backend), pump};
  try {
    if (addon == nullptr || addon->tearing_down()) {
      core::Status st = JsErrors::Closed("FilterConnectCommunicationPort", "environment");
      throw Napi::Error::New(env, JsErrors::Describe(st, 0));
    }
    addon->set_pending_construct(&kPortTypeTag, &init);
    Napi::Object obj = addon->port_constructor().New({addon->ConstructToken(env)});
    PortWrap* port = Unwrap(obj);
    pump->Attach(port);
    return obj;
  } catch (...) {
    if (addon) addon->set_pending_construct(nullptr, nullptr);
    if (init.backend) init.backend->Close();  // not adopted: never leave its I/O thread running
    pump->Release();
    throw;
  }
}

// JS thread.
Napi::Value PortWrap::Connect(const Napi::CallbackInfo& info, Addon* /*addon*/) {
  Napi::Env env = info.Env();
  Napi::Object o = JsArgs::Object(env, info[0], "options");
  Napi::Function on_batch = JsArgs::Function(env, info[1], "onBatch");
  Napi::Function on_stopped = JsArgs::Function(env, info[2], "onStopped");

  core::PortOptions options;
  options.name = JsArgs::String16(env, o.Get("name"), "options.name", false);
  options.flags = JsArgs::U32(env, o.Get("flags"), "options.flags");
  ByteView context = JsArgs::Bytes(env, o.Get("context"), "options.context", true);
  if (context.length > kMaxContextSize) {
    JsErrors::ThrowRange(env, "options.context must be at most 65535 bytes");
  }
  if (context.length) options.context.assign(context.data, context.data + context.length);
  options.concurrency = JsArgs::U32(env, o.Get("concurrency"), "options.concurrency", 1,
                                    kMaxConcurrency);
  options.initial_buffer_size =
      JsArgs::U32(env, o.Get("initialBufferSize"), "options.initialBufferSize",
                  kFilterMessageHeaderSize, kMaxMessageSize);
  options.max_message_size =
      JsArgs::U32(env, o.Get("maxMessageSize"), "options.maxMessageSize",
                  options.initial_buffer_size, kMaxMessageSize);
  options.high_water_mark = JsArgs::U32(env, o.Get("highWaterMark"), "options.highWaterMark", 1,
                                        kMaxHighWaterMark);
  options.sim_runtime_dir = JsArgs::String8(env, o.Get("simRuntimeDir"), "options.simRuntimeDir");

  if (options.flags & kFltPortFlagSyncHandle) {
    // A synchronous handle serializes every call on it (spec §8.2): receives would block
    // replies and sends. Same failure fltlib gives for bad options: E_INVALIDARG.
    auto deferred = Napi::Promise::Deferred::New(env);
    deferred.Reject(JsErrors::Make(
        env, core::Status::Argument("FLT_PORT_FLAG_SYNC_HANDLE is not supported: fltport "
                                    "needs an overlapped handle",
                                    "FilterConnectCommunicationPort")));
    return deferred.Promise();
  }

  std::shared_ptr<EventPump> pump =
      EventPump::Create(env, EventPump::Kind::kPort, on_batch, on_stopped, "fltport:port");
  // Written by the pool thread, read on the JS thread after it (AsyncWorker orders them).
  auto slot = std::make_shared<std::unique_ptr<core::PortBackend>>();
  return PromiseWorker::Start(
      env, "fltport:connect",
      [options = std::move(options), pump, slot]() {
        core::Status status;
        *slot = core::PortBackend::Connect(options, pump.get(), &status);
        if (*slot) return core::Status::Ok();
        if (status.ok()) {
          status = core::Status::Protocol("the backend returned neither a port nor a failure",
                                          "FilterConnectCommunicationPort");
        }
        return status;
      },
      [pump, slot](Napi::Env e) -> Napi::Value { return NewInstance(e, std::move(*slot), pump); },
      [pump, slot](Napi::Env) {
        // A failed connect never calls the pump: drop the TSFN so it stops holding the loop.
        if (!*slot) pump->Release();
      });
}

// JS thread. reply(token, messageId, status, payload): FilterReplyMessage, outcome later.
Napi::Value PortWrap::JsReply(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint64_t token = JsArgs::Token(env, info[0], "token");
  const uint64_t message_id = JsArgs::BigU64(env, info[1], "messageId");
  const uint32_t status = JsArgs::Bits32(env, info[2], "status");
  ByteView payload = JsArgs::Bytes(env, info[3], "payload", true);
  if (payload.length > UINT32_MAX - kFilterReplyHeaderSize) {
    JsErrors::ThrowRange(env, "payload is larger than a FilterReplyMessage can carry");
  }
  if (control_->closing()) throw AsError(env, JsErrors::Closed("FilterReplyMessage", "port"));
  core::Status taken =
      backend_->Reply(token, message_id, static_cast<int32_t>(status), payload.data, payload.length);
  if (!taken.ok()) {
    // Refused (the session has stopped): the backend will never report this outcome, so it
    // goes to JS the way outcomes always do, in a batch of its own, never from inside reply().
    auto batch = std::make_unique<core::MessageBatch>();
    batch->AppendReply(token, std::move(taken));
    control_->pump().Post(std::move(batch));
  }
  return env.Undefined();
}

// JS thread. send(token, input, outputCapacity): FilterSendMessage; the outcome, with the
// bytes returned, arrives in a batch (readTokens), as a mailslot read's does. No pool thread:
// the backend copies the input and starts the call without blocking (SendAsync).
Napi::Value PortWrap::JsSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint64_t token = JsArgs::Token(env, info[0], "token");
  ByteView input = JsArgs::Bytes(env, info[1], "input", true);
  if (input.length > UINT32_MAX) JsErrors::ThrowRange(env, "input must be smaller than 4 GiB");
  const uint32_t capacity = JsArgs::U32(env, info[2], "outputCapacity");
  if (control_->closing()) throw AsError(env, JsErrors::Closed("FilterSendMessage", "port"));
  // Empty buffers are NULL ones, as they always were for port.send (spec §5.2: the driver
  // sees NULL with length 0).
  const core::Status started =
      backend_->SendAsync(token, input.length ? input.data : nullptr,
                          static_cast<uint32_t>(input.length), capacity, capacity == 0);
  // Not started (the session has stopped): no outcome will come, so say so now.
  if (!started.ok()) throw AsError(env, started);
  return env.Undefined();
}

// JS thread.
Napi::Value PortWrap::JsConsumed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint32_t count = JsArgs::U32(env, info[0], "count");
  // After close there is no window left to open: documented as a no-op.
  if (!control_->closing() && count) backend_->Consumed(count);
  return env.Undefined();
}

// JS thread.
Napi::Value PortWrap::JsClose(const Napi::CallbackInfo& info) {
  return control_->Close(info.Env(), Value(), "fltport:close");
}

// JS thread.
Napi::Value PortWrap::JsRef(const Napi::CallbackInfo& info) {
  control_->SetUserRef(info.Env(), true);
  return info.Env().Undefined();
}

// JS thread.
Napi::Value PortWrap::JsUnref(const Napi::CallbackInfo& info) {
  control_->SetUserRef(info.Env(), false);
  return info.Env().Undefined();
}

// JS thread.
void PortWrap::OnPumpStopped() { control_->OnStopDelivered(Env()); }

}  // namespace fltport::napi
