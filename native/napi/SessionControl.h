// The life cycle shared by NativePort and NativeMailslot (one instance inside each wrapper):
// the close() promise, who keeps the event loop alive, synchronous close at environment
// teardown or garbage collection, and the count of pool-thread operations still using the
// backend.
//
//   open ──close()──► closing (pool thread: backend Close = cancel, drain, join) ──► closed
//                      the promise resolves once the backend is closed AND the stop was
//                      delivered to JS (onStopped ran), in that order for the caller.
//
// Event-loop rule: an open session keeps the process alive while referenced (ref()/unref(),
// default ref) and until JS has been told it stopped; a pending close() keeps it alive until
// it resolves, whatever unref() said, so `await x.close()` always completes.
//
// Threads: JS thread only, except `closer_`, which the close worker runs on a pool thread.
#pragma once

#include <napi.h>

#include <cstdint>
#include <functional>
#include <memory>

#include "EventPump.h"

namespace fltport::napi {

class Addon;

class SessionControl {
 public:
  // JS thread. `closer` closes the backend synchronously (PortBackend/MailslotServer Close):
  // idempotent, callable from any thread.
  SessionControl(Addon* addon, std::shared_ptr<EventPump> pump, std::function<void()> closer);
  ~SessionControl();
  SessionControl(const SessionControl&) = delete;
  SessionControl& operator=(const SessionControl&) = delete;

  // JS thread.
  EventPump& pump() { return *pump_; }
  // close() was called (or the environment/GC closed it): no new operation may start.
  bool closing() const { return closing_; }
  // The stop reached JS: the backend will produce nothing more.
  bool stopped() const { return pump_->stop_delivered(); }

  // JS thread: NativePort.close()/NativeMailslot.close(). Returns the same promise every time.
  Napi::Value Close(Napi::Env env, Napi::Object self, const char* resource_name);
  // JS thread: environment teardown or the wrapper's finalizer. Blocks until the backend is
  // closed (its I/O thread joined). Idempotent.
  void CloseNow();
  // JS thread: ref()/unref().
  void SetUserRef(Napi::Env env, bool ref);
  // JS thread: the pump delivered the stop.
  void OnStopDelivered(Napi::Env env);

  // JS thread: a pool-thread operation that uses the backend starts/ends.
  void BeginOperation() { ++in_flight_; }
  void EndOperation() { --in_flight_; }
  // JS thread: whether the backend may be destroyed now (no pool thread uses it).
  bool idle() const { return in_flight_ == 0; }

  // JS thread: the wrapper is being destroyed (GC or environment teardown).
  void Detach();

 private:
  // JS thread.
  void OnBackendClosed(Napi::Env env);
  void MaybeResolve(Napi::Env env);
  void UpdateRef(Napi::Env env);

  Addon* addon_;  // null once the addon (instance data) is gone
  std::shared_ptr<EventPump> pump_;
  std::function<void()> closer_;

  bool closing_ = false;
  bool backend_closed_ = false;
  bool resolved_ = false;
  bool user_ref_ = true;
  uint32_t in_flight_ = 0;
  std::unique_ptr<Napi::Promise::Deferred> close_deferred_;
  Napi::Reference<Napi::Promise> close_promise_;
  // Strong reference to the wrapper while a close() is pending, so that the promise can
  // settle even if JS dropped every other reference to the port.
  Napi::ObjectReference self_;

  friend class Addon;  // the live-session registry clears addon_ at teardown
};

}  // namespace fltport::napi
