// NT timeouts turned into waits on the monotonic clock. NT expresses a timeout as a signed
// 64-bit count of 100 ns units: negative = relative interval, positive = absolute system time
// (100 ns since 1601-01-01 UTC), zero = "do not wait", and a NULL pointer = forever.
// Pure value type; any thread.
#pragma once

#include <chrono>
#include <cstdint>

namespace fltport::fltsim {

using SteadyClock = std::chrono::steady_clock;

// 100 ns intervals since 1601-01-01 UTC (what KeQuerySystemTime returns).
int64_t SystemTimeNow();

class Deadline {
 public:
  // Never expires.
  static Deadline Infinite();
  // Already expired: a wait with it only checks its condition once ("poll").
  static Deadline Now();
  // `timeout` as NT passes it: nullptr = forever; *timeout < 0 relative; > 0 absolute;
  // == 0 -> Now() when zero_is_poll, else Infinite() (spec §6.2 "pointer to 0" conflict).
  static Deadline FromNtTimeout(const int64_t* timeout, bool zero_is_poll);
  // Relative interval in milliseconds (tests and the control channel).
  static Deadline AfterMilliseconds(int64_t ms);

  bool infinite() const { return infinite_; }
  bool Expired() const { return !infinite_ && SteadyClock::now() >= at_; }
  SteadyClock::time_point at() const { return at_; }
  // Milliseconds left, clamped to [0, INT32_MAX]; -1 when infinite (poll() convention).
  int RemainingMillisecondsForPoll() const;

 private:
  bool infinite_ = true;
  SteadyClock::time_point at_{};
};

}  // namespace fltport::fltsim
