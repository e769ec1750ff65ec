#include "WaiterTable.h"

#include <errno.h>

#include <chrono>

namespace fltport::posix {

uint64_t WaiterTable::Register(core::Status* status, size_t max_body) {
  std::lock_guard<std::mutex> lock(mu_);
  if (failed_) {
    *status = failure_;
    return 0;
  }
  const uint64_t tag = next_tag_++;
  Entry entry;
  entry.max_body = max_body;
  waits_.emplace(tag, std::move(entry));
  *status = core::Status::Ok();
  return tag;
}

void WaiterTable::Abandon(uint64_t tag) {
  std::lock_guard<std::mutex> lock(mu_);
  waits_.erase(tag);
}

core::Status WaiterTable::Wait(uint64_t tag, Frame* answer, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    auto it = waits_.find(tag);
    if (it == waits_.end()) return core::Status::Protocol("wait for an unregistered tag");
    if (it->second.done) {
      *answer = std::move(it->second.answer);
      waits_.erase(it);
      return core::Status::Ok();
    }
    if (failed_) {
      waits_.erase(it);
      return failure_;
    }
    if (timeout_ms < 0) {
      cv_.wait(lock);
    } else if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
      auto again = waits_.find(tag);
      if (again != waits_.end() && !again->second.done) {
        again->second.abandoned = true;
        return core::Status::FromErrno(ETIMEDOUT, "recv", "fltsim-host did not answer in time");
      }
    }
  }
}

WaiterTable::Delivery WaiterTable::Complete(uint64_t tag, Frame&& answer) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = waits_.find(tag);
    if (it == waits_.end() || it->second.done) return Delivery::kUnknownTag;
    if (it->second.abandoned) {
      waits_.erase(it);  // the caller gave up: the answer is late, not wrong
      return Delivery::kDelivered;
    }
    if (answer.body.size() > it->second.max_body) return Delivery::kTooLong;
    it->second.done = true;
    it->second.answer = std::move(answer);
  }
  cv_.notify_all();
  return Delivery::kDelivered;
}

void WaiterTable::FailAll(const core::Status& status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (failed_) return;
    failed_ = true;
    failure_ = status;
  }
  cv_.notify_all();
}

size_t WaiterTable::pending() {
  std::lock_guard<std::mutex> lock(mu_);
  return waits_.size();
}

}  // namespace fltport::posix
