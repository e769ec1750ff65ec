// Requests handed from any thread to a backend's I/O thread (replies to send, mailslot reads
// to issue). The I/O thread closes the queue when it delivers its last batch, in the same
// critical section in which it takes what is left, so every request is either executed by
// the I/O thread or refused to its producer: none is stranded in between.
#pragma once

#include <mutex>
#include <utility>
#include <vector>

namespace fltport::win {

template <typename T>
class HandoffQueue {
 public:
  // Any thread. False (and `item` is dropped) once the I/O thread closed the queue.
  bool Push(T item) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return false;
    items_.push_back(std::move(item));
    return true;
  }
  // I/O thread: everything queued so far, in push order.
  std::vector<T> TakeAll() {
    std::vector<T> out;
    std::lock_guard<std::mutex> lock(mu_);
    out.swap(items_);
    return out;
  }
  // I/O thread, once, at its last wake-up: refuse further pushes, return the rest.
  std::vector<T> CloseAndTakeAll() {
    std::vector<T> out;
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    out.swap(items_);
    return out;
  }
 private:
  std::mutex mu_;
  std::vector<T> items_;
  bool closed_ = false;
};

}  // namespace fltport::win
