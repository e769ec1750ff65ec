#include "SessionControl.h"

#include <utility>

#include "Addon.h"
#include "PromiseWorker.h"

namespace fltport::napi {

// JS thread.
SessionControl::SessionControl(Addon* addon, std::shared_ptr<EventPump> pump,
                               std::function<void()> closer)
    : addon_(addon), pump_(std::move(pump)), closer_(std::move(closer)) {
  if (addon_) addon_->Register(this);
}

// JS thread.
SessionControl::~SessionControl() { Detach(); }

// JS thread.
void SessionControl::Detach() {
  if (addon_) addon_->Unregister(this);
  addon_ = nullptr;
  pump_->Detach();
}

// JS thread.
Napi::Value SessionControl::Close(Napi::Env env, Napi::Object self, const char* resource_name) {
  if (!close_promise_.IsEmpty()) return close_promise_.Value();
  close_deferred_ = std::make_unique<Napi::Promise::Deferred>(Napi::Promise::Deferred::New(env));
  Napi::Promise promise = close_deferred_->Promise();
  close_promise_ = Napi::Persistent(promise);
  self_ = Napi::Persistent(self);
  closing_ = true;
  UpdateRef(env);
  if (backend_closed_) {
    MaybeResolve(env);
    return promise;
  }
  // Cancel + drain + join can take as long as the kernel needs to complete the cancelled
  // receives: never on the JS thread.
  BeginOperation();
  std::function<void()> closer = closer_;
  PromiseWorker::Start(
      env, resource_name,
      [closer]() {
        closer();
        return core::Status::Ok();
      },
      nullptr,
      [this](Napi::Env e) {
        EndOperation();
        OnBackendClosed(e);
      },
      self);
  return promise;
}

// JS thread.
void SessionControl::CloseNow() {
  closing_ = true;
  if (backend_closed_) return;
  closer_();
  backend_closed_ = true;
  pump_->Release();
}

// JS thread.
void SessionControl::OnBackendClosed(Napi::Env env) {
  backend_closed_ = true;
  // The backend has joined its I/O thread: nothing will push again; queued deliveries
  // (the stop among them) still reach JS before Node finalizes the TSFN.
  pump_->Release();
  MaybeResolve(env);
}

// JS thread.
void SessionControl::OnStopDelivered(Napi::Env env) {
  UpdateRef(env);
  MaybeResolve(env);
}

// JS thread.
void SessionControl::SetUserRef(Napi::Env env, bool ref) {
  user_ref_ = ref;
  UpdateRef(env);
}

// JS thread.
void SessionControl::MaybeResolve(Napi::Env env) {
  if (resolved_ || !close_deferred_ || !backend_closed_ || !pump_->stop_delivered()) return;
  resolved_ = true;
  std::unique_ptr<Napi::Promise::Deferred> deferred = std::move(close_deferred_);
  UpdateRef(env);
  self_.Reset();
  deferred->Resolve(env.Undefined());
}

// JS thread.
void SessionControl::UpdateRef(Napi::Env env) {
  const bool close_pending = closing_ && close_deferred_ && !resolved_;
  const bool live = user_ref_ && !closing_ && !pump_->stop_delivered();
  pump_->SetRef(env, live || close_pending);
}

}  // namespace fltport::napi
