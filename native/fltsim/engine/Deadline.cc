#include "Deadline.h"

#include <time.h>

#include <climits>

namespace fltport::fltsim {
namespace {

// 1601-01-01 to 1970-01-01 in 100 ns units.
constexpr int64_t kUnixEpochAsNt = 116444736000000000LL;
// Waits longer than about a century are "forever": steady_clock arithmetic would overflow
// on the way (INT64 100 ns units reach 29,000 years).
constexpr int64_t kMaxFinite100ns = 100LL * 365 * 24 * 3600 * 10000000LL;

}  // namespace

int64_t SystemTimeNow() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return kUnixEpochAsNt + static_cast<int64_t>(ts.tv_sec) * 10000000LL + ts.tv_nsec / 100;
}

Deadline Deadline::Infinite() { return Deadline(); }

Deadline Deadline::Now() {
  Deadline d;
  d.infinite_ = false;
  d.at_ = SteadyClock::now();
  return d;
}

Deadline Deadline::AfterMilliseconds(int64_t ms) {
  if (ms < 0) return Infinite();
  if (ms >= kMaxFinite100ns / 10000) return Infinite();
  Deadline d;
  d.infinite_ = false;
  d.at_ = SteadyClock::now() + std::chrono::milliseconds(ms);
  return d;
}

Deadline Deadline::FromNtTimeout(const int64_t* timeout, bool zero_is_poll) {
  if (timeout == nullptr) return Infinite();
  int64_t v = *timeout;
  if (v == 0) return zero_is_poll ? Now() : Infinite();
  int64_t units;
  if (v < 0) {
    // INT64_MIN has no positive counterpart; it is "forever" in any case.
    units = (v == INT64_MIN) ? INT64_MAX : -v;
  } else {
    units = v - SystemTimeNow();  // absolute system time; may already have passed
  }
  if (units >= kMaxFinite100ns) return Infinite();
  Deadline d;
  d.infinite_ = false;
  d.at_ = SteadyClock::now();
  if (units > 0) d.at_ += std::chrono::nanoseconds(units * 100);
  return d;
}

int Deadline::RemainingMillisecondsForPoll() const {
  if (infinite_) return -1;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(at_ - SteadyClock::now());
  // Round up so that poll() never wakes before the deadline and spins.
  int64_t ms = left.count() + 1;
  if (ms < 0) return 0;
  if (ms > INT_MAX) return INT_MAX;
  return static_cast<int>(ms);
}

}  // namespace fltport::fltsim
