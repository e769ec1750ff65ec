// One native operation off the JS thread, settled as a promise: Execute runs `work` on a
// libuv pool thread (Filter* calls that may block in the driver: connect, FilterSendMessage,
// close/drain, filter management); OnOK runs `settle` on the JS thread to build the result,
// or rejects with the typed error of the failed Status.
//
// `keep_alive` (a NativePort/NativeMailslot) is held by a strong reference until the
// operation settles, so a wrapper (and the backend it owns) cannot be garbage collected
// while a pool thread uses it.
//
// Threads: constructed, queued and settled on the JS thread; `work` on a pool thread.
#pragma once

#include <napi.h>

#include <functional>

#include "Status.h"

namespace fltport::napi {

class PromiseWorker final : public Napi::AsyncWorker {
 public:
  using Work = std::function<core::Status()>;
  // JS thread; may throw (the promise then rejects with what it threw).
  using Settle = std::function<Napi::Value(Napi::Env)>;
  // JS thread; runs exactly once after `work`, whatever the outcome, before the promise
  // settles (bookkeeping: in-flight counters, releasing what `work` used).
  using Finally = std::function<void(Napi::Env)>;

  // JS thread. Queues the work and returns its promise.
  static Napi::Promise Start(Napi::Env env, const char* resource_name, Work work, Settle settle,
                             Finally finally = nullptr, Napi::Object keep_alive = Napi::Object());

 private:
  PromiseWorker(Napi::Env env, const char* resource_name, Work work, Settle settle,
                Finally finally, Napi::Object keep_alive);

  void Execute() override;                   // pool thread
  void OnOK() override;                      // JS thread
  void OnError(const Napi::Error& e) override;  // JS thread (an exception escaped `work`)

  // JS thread.
  void RunFinally();

  Napi::Promise::Deferred deferred_;
  Work work_;
  Settle settle_;
  Finally finally_;
  Napi::ObjectReference keep_alive_;
  core::Status status_;
};

}  // namespace fltport::napi
