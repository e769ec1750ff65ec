// When a backend's I/O thread hands its batch to JS.
//
// At once, unless all the batch carries is reply outcomes that succeeded. Such a batch tells
// JS only "the kernel took your reply", yet handing it over costs what a batch of messages
// costs: a thread-safe-function call, a main-thread wake-up and a JS callback. In a flood the
// outcome of a reply and the next message arrive microseconds apart, in different wake-ups of
// the I/O thread, so without this every message cost two JS wake-ups (docs/benchmarks.md).
// So such a batch lingers, at most `linger`, and goes out with whatever comes next: a message,
// a read, a fault, a failed outcome (LateReplyError, disconnect: news), or the stop. When
// traffic stops, a successful outcome is late by at most `linger`; the kernel side (the
// driver's FltSendMessage) is not delayed at all: it was released when the reply was sent.
//
// Threads: one backend I/O thread; not shared.
#pragma once

#include <chrono>

#include "MessageBatch.h"

namespace fltport::core {

class BatchLinger {
 public:
  using Clock = std::chrono::steady_clock;
  // Long enough for the next message of a busy port (tens of µs) with room for scheduling on
  // loaded machines, short enough that a quiet port's reply promise settles within a frame of
  // anything a person or a timer would notice. 0 = hand every batch over at once.
  static constexpr std::chrono::milliseconds kDefault{1};

  explicit BatchLinger(std::chrono::milliseconds linger = kDefault) : linger_(linger) {}

  // Whether to hand `batch` over now (an empty batch never is). When the answer is no, the
  // batch's time starts counting (from its first such answer) and WaitMs bounds the wait.
  bool FlushNow(const MessageBatch& batch, Clock::time_point now) {
    if (batch.empty()) return false;
    if (linger_.count() <= 0 || !batch.only_successful_replies()) return true;
    if (!holding_) {
      holding_ = true;
      since_ = now;
    }
    return now - since_ >= linger_;
  }

  // The batch was handed over: nothing lingers.
  void Flushed() { holding_ = false; }

  // The wait (ms, -1 = none) the I/O thread may block for, given the one it wants: shortened
  // so that a lingering batch leaves on time (rounded up: never a busy 0 ms loop before it is due).
  int WaitMs(int wanted_ms, Clock::time_point now) const {
    if (!holding_) return wanted_ms;
    const auto left = since_ + linger_ - now;
    long long ms = std::chrono::duration_cast<std::chrono::milliseconds>(left).count();
    if (std::chrono::milliseconds(ms) < left) ms += 1;  // round up
    if (ms < 0) ms = 0;
    if (wanted_ms >= 0 && wanted_ms < ms) return wanted_ms;
    return static_cast<int>(ms);
  }

  bool holding() const { return holding_; }

 private:
  std::chrono::milliseconds linger_;
  bool holding_ = false;
  Clock::time_point since_{};
};

}  // namespace fltport::core
