// Flow control for one port: the number of pending FilterGetMessage calls is the credit the
// kernel sees (DESIGN "Flow control is the kernel's"). A receive is (re-)armed only while
// fewer than `high_water` delivered messages wait unconsumed in JS, so at most
// capacity + high_water messages ever sit in Node for one port.
//
// Threads: Armed/Completed/MayArm/Stop on the backend's I/O thread; Consumed on the JS thread.
#pragma once

#include <atomic>
#include <cstdint>

namespace fltport::core {

class ReceiveWindow {
 public:
  ReceiveWindow(uint32_t capacity, uint32_t high_water)
      : capacity_(capacity ? capacity : 1), high_water_(high_water ? high_water : 1) {}

  // I/O thread: may one more receive be armed now?
  bool MayArm() const {
    return !stopped_ && armed_ < capacity_ &&
           unconsumed_.load(std::memory_order_acquire) < high_water_;
  }
  // I/O thread: a receive was posted and is pending.
  void Armed() { ++armed_; }
  // I/O thread: a pending receive completed; `delivered` if it produced a message for JS.
  void Completed(bool delivered) {
    if (armed_) --armed_;
    if (delivered) unconsumed_.fetch_add(1, std::memory_order_acq_rel);
  }
  // JS thread: JS consumed `count` messages. Returns true when the I/O thread should wake
  // to re-arm (the window had closed and is open again).
  bool Consumed(uint32_t count) {
    uint32_t before = unconsumed_.load(std::memory_order_acquire);
    uint32_t after;
    do {
      after = count > before ? 0 : before - count;
    } while (!unconsumed_.compare_exchange_weak(before, after, std::memory_order_acq_rel));
    return before >= high_water_ && after < high_water_;
  }
  // I/O thread: no more arming (disconnect or close).
  void Stop() { stopped_ = true; }

  uint32_t armed() const { return armed_; }
  uint32_t unconsumed() const { return unconsumed_.load(std::memory_order_acquire); }
  uint32_t capacity() const { return capacity_; }
  uint32_t high_water() const { return high_water_; }

 private:
  const uint32_t capacity_;
  const uint32_t high_water_;
  uint32_t armed_ = 0;  // I/O thread only
  bool stopped_ = false;  // I/O thread only
  std::atomic<uint32_t> unconsumed_{0};
};

}  // namespace fltport::core
