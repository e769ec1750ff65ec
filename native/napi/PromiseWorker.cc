#include "PromiseWorker.h"

#include <exception>
#include <new>
#include <utility>

#include "JsErrors.h"

namespace fltport::napi {

// JS thread.
PromiseWorker::PromiseWorker(Napi::Env env, const char* resource_name, Work work, Settle settle,
                             Finally finally, Napi::Object keep_alive)
    : Napi::AsyncWorker(env, resource_name),
      deferred_(Napi::Promise::Deferred::New(env)),
      work_(std::move(work)),
      settle_(std::move(settle)),
      finally_(std::move(finally)) {
  if (!keep_alive.IsEmpty()) keep_alive_ = Napi::Persistent(keep_alive);
}

// JS thread.
Napi::Promise PromiseWorker::Start(Napi::Env env, const char* resource_name, Work work,
                                   Settle settle, Finally finally, Napi::Object keep_alive) {
  auto* worker = new PromiseWorker(env, resource_name, std::move(work), std::move(settle),
                                   std::move(finally), keep_alive);
  Napi::Promise promise = worker->deferred_.Promise();
  worker->Queue();  // AsyncWorker deletes itself after OnOK/OnError
  return promise;
}

// Pool thread. A backend must report failures as Status; an exception here (bad_alloc of a
// large output buffer, say) still becomes a numbered error rather than a crash.
void PromiseWorker::Execute() {
  try {
    status_ = work_();
  } catch (const std::bad_alloc&) {
    status_ = core::Status::FromHresult(core::hr::kOutOfMemory, "operator new");
    status_.detail = "out of memory";
  } catch (const std::exception& e) {
    status_ = core::Status::Protocol(e.what());
  } catch (...) {
    status_ = core::Status::Protocol("unknown native exception");
  }
}

// JS thread. Bookkeeping only (counters, releasing a thread-safe function): must not throw.
void PromiseWorker::RunFinally() {
  if (finally_) {
    Finally f = std::move(finally_);
    finally_ = nullptr;
    try {
      f(Env());
    } catch (...) {
    }
  }
}

// JS thread. Also reached while a Worker is being terminated, when no JS can run and every
// napi call fails: nothing may escape as a C++ exception then (it would abort the process).
void PromiseWorker::OnOK() {
  Napi::Env env = Env();
  RunFinally();
  try {
    Napi::HandleScope scope(env);
    if (!status_.ok()) {
      deferred_.Reject(JsErrors::Make(env, status_));
      return;
    }
    try {
      deferred_.Resolve(settle_ ? settle_(env) : env.Undefined());
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  } catch (...) {
    // Tearing down: no one is left to settle the promise for.
  }
}

// JS thread. Only reached if AsyncWorker itself failed (SetError is never called).
void PromiseWorker::OnError(const Napi::Error& e) {
  RunFinally();
  try {
    Napi::HandleScope scope(Env());
    deferred_.Reject(e.Value());
  } catch (...) {
  }
}

}  // namespace fltport::napi
