#include "EventPump.h"

#include <utility>

#include "JsBatch.h"
#include "JsErrors.h"

namespace fltport::napi {
namespace {

// The attach marker: an address no real batch can have. Never deleted.
core::MessageBatch* AttachMarker() {
  static core::MessageBatch marker;
  return &marker;
}

// The stop marker is the null batch.
constexpr core::MessageBatch* kStopMarker = nullptr;

bool IsRealBatch(const core::MessageBatch* item) {
  return item != kStopMarker && item != AttachMarker();
}

const char* ReasonName(core::StopReason reason) {
  switch (reason) {
    case core::StopReason::kClosed:
      return "closed";
    case core::StopReason::kDisconnected:
      return "disconnected";
    case core::StopReason::kFailed:
      return "failed";
  }
  return "failed";
}

}  // namespace

// JS thread.
EventPump::EventPump(Kind kind, Napi::Function on_batch, Napi::Function on_stopped)
    : kind_(kind),
      on_batch_(Napi::Persistent(on_batch)),
      on_stopped_(Napi::Persistent(on_stopped)) {}

// Whichever thread drops the last share: the JS thread (owner destructor, TSFN finalizer) in
// practice. Touches no JS: the references were reset by the TSFN finalizer.
EventPump::~EventPump() = default;

// JS thread.
std::shared_ptr<EventPump> EventPump::Create(Napi::Env env, Kind kind, Napi::Function on_batch,
                                             Napi::Function on_stopped,
                                             const char* resource_name) {
  auto pump = std::make_shared<EventPump>(kind, on_batch, on_stopped);
  // The TSFN's share of the pump, dropped by Finalize.
  auto* tsfn_share = new std::shared_ptr<EventPump>(pump);
  try {
    // Unbounded queue (0): the I/O thread must never block on JS; flow control is the
    // ReceiveWindow's, not the queue's. One initial thread count, owned by the session and
    // spent by Release() once the backend is closed.
    Tsfn tsfn = Tsfn::New(env, resource_name, 0, 1, pump.get(), &EventPump::Finalize, tsfn_share);
    std::lock_guard<std::mutex> lock(pump->mu_);
    pump->tsfn_ = tsfn;
    pump->tsfn_alive_ = true;
  } catch (...) {
    delete tsfn_share;
    pump->on_batch_.Reset();
    pump->on_stopped_.Reset();
    throw;
  }
  return pump;
}

// Any thread.
bool EventPump::Push(core::MessageBatch* item) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!tsfn_alive_ || released_) return false;
  const napi_status st = tsfn_.NonBlockingCall(item);
  if (st == napi_ok) return true;
  // napi_closing: Node is tearing the TSFN down and has already taken our thread count.
  released_ = true;
  return false;
}

// I/O thread, or any thread through Post (Push serializes).
void EventPump::OnBatch(std::unique_ptr<core::MessageBatch> batch) {
  if (!batch || batch->empty()) return;
  if (Push(batch.get())) batch.release();  // the TSFN queue owns it now
  // else: the environment is going away; `batch` is freed here, never leaked.
}

// I/O thread.
void EventPump::OnStopped(core::StopReason reason, const core::Status& status) {
  stop_reason_ = reason;
  stop_status_ = status;
  Push(kStopMarker);
}

// I/O thread.
void EventPump::OnStopped(const core::Status& status) {
  stop_reason_ = status.ok() ? core::StopReason::kClosed : core::StopReason::kFailed;
  stop_status_ = status;
  Push(kStopMarker);
}

// JS thread.
void EventPump::Attach(Owner* owner) {
  owner_ = owner;
  Push(AttachMarker());
}

// Any thread.
void EventPump::Release() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!tsfn_alive_ || released_) return;
  released_ = true;
  tsfn_.Release();
}

// JS thread.
void EventPump::SetRef(Napi::Env env, bool ref) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!tsfn_alive_ || ref_ == ref) return;
  ref_ = ref;
  if (ref) {
    tsfn_.Ref(env);
  } else {
    tsfn_.Unref(env);
  }
}

// JS thread (Node's TSFN finalizer: after the last Release, or at environment teardown).
void EventPump::Finalize(Napi::Env env, std::shared_ptr<EventPump>* self, EventPump* context) {
  {
    std::lock_guard<std::mutex> lock(context->mu_);
    // From here on no thread touches the handle: Node frees it right after this returns.
    context->tsfn_alive_ = false;
    context->released_ = true;
  }
  context->held_.clear();
  if (env != nullptr) {
    try {
      context->on_batch_.Reset();
      context->on_stopped_.Reset();
    } catch (...) {
      // Tearing down: Node frees the references with the environment.
    }
  }
  delete self;  // may destroy the pump: nothing below may touch `context`
}

// JS thread; env is null when Node empties the queue of a TSFN it is tearing down.
void EventPump::CallJs(Napi::Env env, Napi::Function, EventPump* pump, core::MessageBatch* data) {
  if (env == nullptr || pump == nullptr) {
    if (IsRealBatch(data)) delete data;
    return;
  }
  std::unique_ptr<core::MessageBatch> item(IsRealBatch(data) ? data : nullptr);
  // Node may still dispatch queued calls while a Worker is being terminated, when no JS can
  // run: every napi call then fails. Nothing may escape as a C++ exception from here (it
  // would abort the process); the batch is freed by whoever holds it when the throw unwinds.
  try {
    pump->Dispatch(env, data, std::move(item));
  } catch (const Napi::Error& e) {
    JsErrors::ThrowToJs(env, e);
  } catch (...) {
    // std::bad_alloc building a batch object: the batch is freed; nothing to tell JS with.
  }
}

// JS thread.
void EventPump::Dispatch(Napi::Env env, core::MessageBatch* data,
                         std::unique_ptr<core::MessageBatch> item) {
  if (data == AttachMarker()) {
    attached_ = true;
    // Flush in arrival order. A throwing callback must not drop the rest of the held
    // deliveries: run them all, then rethrow the first failure (it becomes an uncaught
    // exception, as any throw from an event callback would).
    std::unique_ptr<Napi::Error> first;
    while (!held_.empty()) {
      std::unique_ptr<core::MessageBatch> next = std::move(held_.front());
      held_.pop_front();
      try {
        if (next) {
          Deliver(env, std::move(next));
        } else {
          DeliverStop(env);
        }
      } catch (const Napi::Error& e) {
        if (!first) first = std::make_unique<Napi::Error>(e);
      }
    }
    if (first) throw *first;
    return;
  }
  if (!attached_) {
    held_.push_back(std::move(item));  // null = the stop
    return;
  }
  if (item) {
    Deliver(env, std::move(item));
  } else {
    DeliverStop(env);
  }
}

// JS thread.
void EventPump::Deliver(Napi::Env env, std::unique_ptr<core::MessageBatch> batch) {
  if (on_batch_.IsEmpty()) return;
  Napi::HandleScope scope(env);
  Napi::Object js = JsBatch::New(env, std::move(batch));
  on_batch_.Call(env.Undefined(), {js});
}

// JS thread.
void EventPump::DeliverStop(Napi::Env env) {
  if (stop_delivered_) return;  // a backend bug must not make JS see two stops
  stop_delivered_ = true;
  Napi::HandleScope scope(env);
  // The owner hears of the stop even if the callback throws: close() promises wait for it.
  try {
    if (!on_stopped_.IsEmpty()) {
      Napi::Value error = stop_status_.ok() ? env.Null() : JsErrors::Make(env, stop_status_);
      if (kind_ == Kind::kPort) {
        on_stopped_.Call(env.Undefined(),
                         {Napi::String::New(env, ReasonName(stop_reason_)), error});
      } else {
        on_stopped_.Call(env.Undefined(), {error});
      }
    }
  } catch (const Napi::Error&) {
    if (owner_) owner_->OnPumpStopped();
    throw;
  }
  if (owner_) owner_->OnPumpStopped();
}

}  // namespace fltport::napi
