#include "EventHub.h"

#include <algorithm>

namespace fltport::fltsim {

bool EventHub::Wants(EventCategory category) const {
  return (any_mask_.load() & (1u << static_cast<int>(category))) != 0;
}

void EventHub::Emit(EventCategory category, const std::string& line) {
  const unsigned bit = 1u << static_cast<int>(category);
  std::vector<std::shared_ptr<EventSubscriber>> targets;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& weak : subscribers_) {
      auto s = weak.lock();
      if (s && (s->watch_mask() & bit) != 0) targets.push_back(std::move(s));
    }
  }
  // Outside mu_: sending may take the stream's lock.
  const std::string text = "event " + line;
  for (const auto& s : targets) s->SendEvent(text);
}

void EventHub::Subscribe(const std::shared_ptr<EventSubscriber>& subscriber) {
  std::lock_guard<std::mutex> lock(mu_);
  subscribers_.push_back(subscriber);
  RecomputeLocked();
}

void EventHub::Unsubscribe(const EventSubscriber* subscriber) {
  std::lock_guard<std::mutex> lock(mu_);
  subscribers_.erase(std::remove_if(subscribers_.begin(), subscribers_.end(),
                                    [&](const std::weak_ptr<EventSubscriber>& w) {
                                      auto s = w.lock();
                                      return !s || s.get() == subscriber;
                                    }),
                     subscribers_.end());
  RecomputeLocked();
}

void EventHub::Recompute() {
  std::lock_guard<std::mutex> lock(mu_);
  RecomputeLocked();
}

void EventHub::RecomputeLocked() {
  unsigned mask = 0;
  for (const auto& weak : subscribers_) {
    if (auto s = weak.lock()) mask |= s->watch_mask();
  }
  any_mask_.store(mask);
}

}  // namespace fltport::fltsim
