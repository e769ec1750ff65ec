// The bridge from a backend's I/O thread to JS: one typed thread-safe function per port or
// mailslot, one call per MessageBatch (never per message). The batch pointer itself is the
// TSFN's data, so a hand-off allocates nothing beyond the batch the backend built.
//
// Lifetime rules, because three parties can end a session (JS close(), garbage collection of
// the wrapper, and the environment going away, where Node closes every TSFN on its own):
// - EventPump is shared (std::shared_ptr) by its owner (PortWrap/MailslotWrap, which also
//   owns the backend that calls it) and by the TSFN, which drops its share in its finalizer.
//   So the pump outlives both the backend ("events must outlive the backend") and the TSFN.
// - Every use of the TSFN handle happens under mu_ and only while tsfn_alive_: the TSFN
//   finalizer clears it, so an I/O thread can never call into a finalized TSFN.
// - A batch that cannot be handed over (napi_closing, TSFN gone) is freed where it is; one
//   still queued when Node tears the TSFN down comes back with a null env and is freed then.
// - Nothing reaches JS before the owner is attached (connect()/createMailslot() resolved and
//   its continuations ran): earlier deliveries are held, in order, and flushed after a marker
//   that travels through the same queue.
#pragma once

#include <napi.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>

#include "MailslotBackend.h"
#include "MessageBatch.h"
#include "PortBackend.h"
#include "Status.h"

namespace fltport::napi {

class EventPump final : public core::PortEvents, public core::MailslotEvents {
 public:
  enum class Kind : uint8_t { kPort, kMailslot };

  // Implemented by PortWrap/MailslotWrap. JS thread.
  class Owner {
   public:
    virtual ~Owner() = default;
    // JS thread: the stop was delivered to JS (onStopped ran, or threw).
    virtual void OnPumpStopped() = 0;
  };

  // JS thread. Creates the TSFN (referenced: it keeps the loop alive until SetRef(false)).
  static std::shared_ptr<EventPump> Create(Napi::Env env, Kind kind, Napi::Function on_batch,
                                           Napi::Function on_stopped, const char* resource_name);

  EventPump(Kind kind, Napi::Function on_batch, Napi::Function on_stopped);
  ~EventPump() override;
  EventPump(const EventPump&) = delete;
  EventPump& operator=(const EventPump&) = delete;

  // I/O thread (core::PortEvents / core::MailslotEvents).
  void OnBatch(std::unique_ptr<core::MessageBatch> batch) override;
  void OnStopped(core::StopReason reason, const core::Status& status) override;
  void OnStopped(const core::Status& status) override;

  // JS thread: start delivering to JS (after the current JS turn).
  void Attach(Owner* owner);
  // JS thread: the owner is being destroyed; deliveries still reach the JS callbacks.
  void Detach() { owner_ = nullptr; }
  // Any thread: hand a batch made outside the I/O thread to JS (reply outcomes that the
  // backend will never produce). Freed if it cannot be handed over.
  void Post(std::unique_ptr<core::MessageBatch> batch) { OnBatch(std::move(batch)); }
  // Any thread: the backend is closed, nothing more will be pushed. Idempotent. Queued
  // deliveries still run; then Node finalizes the TSFN.
  void Release();
  // JS thread: whether the TSFN keeps the event loop alive.
  void SetRef(Napi::Env env, bool ref);

  // JS thread.
  bool stop_delivered() const { return stop_delivered_; }

 private:
  static void CallJs(Napi::Env env, Napi::Function unused, EventPump* pump,
                     core::MessageBatch* data);
  static void Finalize(Napi::Env env, std::shared_ptr<EventPump>* self, EventPump* context);
  using Tsfn = Napi::TypedThreadSafeFunction<EventPump, core::MessageBatch, &EventPump::CallJs>;

  // Any thread: queue `item` (a batch, or a marker); false if the TSFN no longer takes
  // calls (the caller still owns a batch then).
  bool Push(core::MessageBatch* item);
  // JS thread: CallJs's body; may throw.
  void Dispatch(Napi::Env env, core::MessageBatch* data, std::unique_ptr<core::MessageBatch> item);
  void Deliver(Napi::Env env, std::unique_ptr<core::MessageBatch> batch);
  void DeliverStop(Napi::Env env);

  const Kind kind_;

  std::mutex mu_;
  Tsfn tsfn_;               // guarded by mu_
  bool tsfn_alive_ = false;  // guarded by mu_: created and not yet finalized
  bool released_ = false;    // guarded by mu_: our thread count is spent
  bool ref_ = true;          // guarded by mu_: current napi ref state

  // Written by the I/O thread before the stop marker is pushed; read on the JS thread after
  // the TSFN handed the marker over (its queue mutex orders the two).
  core::StopReason stop_reason_ = core::StopReason::kClosed;
  core::Status stop_status_;

  // JS thread only.
  Napi::FunctionReference on_batch_;
  Napi::FunctionReference on_stopped_;
  Owner* owner_ = nullptr;
  bool attached_ = false;
  bool stop_delivered_ = false;
  // Deliveries that arrived before Attach's marker; a null entry is the stop.
  std::deque<std::unique_ptr<core::MessageBatch>> held_;
};

}  // namespace fltport::napi
