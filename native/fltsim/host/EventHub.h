// Fans engine and driver events out to the control sessions that watch their category
// ("event <line>" frames, Tag 0). Implements the engine's EventSink. Thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../engine/EventSink.h"

namespace fltport::fltsim {

class EventSubscriber {
 public:
  virtual ~EventSubscriber() = default;
  // Bit (1 << category) set for each watched EventCategory. Any thread.
  virtual unsigned watch_mask() const = 0;
  // Any thread.
  virtual void SendEvent(const std::string& line) = 0;
};

class EventHub : public EventSink {
 public:
  bool Wants(EventCategory category) const override;
  void Emit(EventCategory category, const std::string& line) override;

  void Subscribe(const std::shared_ptr<EventSubscriber>& subscriber);
  void Unsubscribe(const EventSubscriber* subscriber);
  // Call after a subscriber changed its mask.
  void Recompute();

 private:
  void RecomputeLocked();
  mutable std::mutex mu_;
  std::vector<std::weak_ptr<EventSubscriber>> subscribers_;
  std::atomic<unsigned> any_mask_{0};
};

}  // namespace fltport::fltsim
