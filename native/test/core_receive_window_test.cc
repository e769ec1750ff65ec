// ReceiveWindow: the armed count never exceeds capacity, arming stops at the high-water
// mark, and Consumed() signals exactly when the window reopens.
#include <atomic>
#include <chrono>
#include <thread>

#include "ReceiveWindow.h"
#include "TestHarness.h"

using fltport::test::ExpectEq;
using fltport::test::ExpectTrue;

using fltport::core::ReceiveWindow;

namespace {

// Arms as the I/O thread would; returns how many were armed.
uint32_t ArmAll(ReceiveWindow& w) {
  uint32_t n = 0;
  while (w.MayArm()) {
    w.Armed();
    ++n;
  }
  return n;
}

}  // namespace

namespace {

void TestArmsUpToCapacityOnly() {
  ReceiveWindow w(4, 100);
  ExpectEq(ArmAll(w), 4u, "ArmAll(w)");
  ExpectEq(w.armed(), 4u, "w.armed()");
  ExpectTrue(!w.MayArm(), "!w.MayArm()");
  w.Completed(false);  // e.g. cancelled: nothing for JS
  ExpectEq(w.unconsumed(), 0u, "w.unconsumed()");
  ExpectEq(ArmAll(w), 1u, "ArmAll(w)");
  ExpectEq(w.armed(), 4u, "w.armed()");
}

void TestZeroCapacityAndHighWaterMeanOne() {
  ReceiveWindow w(0, 0);
  ExpectEq(w.capacity(), 1u, "w.capacity()");
  ExpectEq(w.high_water(), 1u, "w.high_water()");
  ExpectEq(ArmAll(w), 1u, "ArmAll(w)");
}

void TestStopsRearmingAtHighWaterAndConsumedReopens() {
  ReceiveWindow w(2, 3);
  ExpectEq(ArmAll(w), 2u, "ArmAll(w)");
  w.Completed(true);
  w.Completed(true);
  ExpectEq(w.unconsumed(), 2u, "w.unconsumed()");
  ExpectEq(w.armed(), 0u, "w.armed()");
  ExpectEq(ArmAll(w), 2u, "ArmAll(w)");  // 2 < 3: below the mark, both slots re-arm
  w.Completed(true);
  ExpectEq(w.unconsumed(), 3u, "w.unconsumed()");
  ExpectEq(w.armed(), 1u, "w.armed()");
  ExpectTrue(!w.MayArm(), "!w.MayArm()");  // at the mark: no re-arm although a slot is free
  w.Completed(true);   // the one still armed completes too: now above the mark
  ExpectEq(w.unconsumed(), 4u, "w.unconsumed()");
  ExpectEq(w.armed(), 0u, "w.armed()");
  ExpectTrue(!w.MayArm(), "!w.MayArm()");
  ExpectTrue(!w.Consumed(1), "!w.Consumed(1)");  // 4 -> 3: still at the mark, no wake-up
  ExpectTrue(!w.MayArm(), "!w.MayArm()");
  ExpectTrue(w.Consumed(1), "w.Consumed(1)");  // 3 -> 2: crossed below, wake the I/O thread
  ExpectTrue(w.MayArm(), "w.MayArm()");
  ExpectTrue(!w.Consumed(1), "!w.Consumed(1)");  // already open: no redundant wake-up
  ExpectEq(w.unconsumed(), 1u, "w.unconsumed()");
  ExpectTrue(!w.Consumed(10), "!w.Consumed(10)");  // over-consumption clamps at 0
  ExpectEq(w.unconsumed(), 0u, "w.unconsumed()");
}

void TestBigConsumeFromAboveTheMarkWakesOnce() {
  ReceiveWindow w(8, 2);
  ArmAll(w);
  for (int i = 0; i < 8; ++i) w.Completed(true);
  ExpectEq(w.unconsumed(), 8u, "w.unconsumed()");
  ExpectTrue(w.Consumed(8), "w.Consumed(8)");
  ExpectEq(w.unconsumed(), 0u, "w.unconsumed()");
  ExpectEq(ArmAll(w), 8u, "ArmAll(w)");
}

void TestStopForbidsArmingButCountsCompletions() {
  ReceiveWindow w(3, 10);
  ArmAll(w);
  w.Stop();
  w.Completed(false);
  ExpectTrue(!w.MayArm(), "!w.MayArm()");
  ExpectEq(w.armed(), 2u, "w.armed()");
  w.Completed(false);
  w.Completed(false);
  w.Completed(false);  // more completions than arms: never below 0
  ExpectEq(w.armed(), 0u, "w.armed()");
}

// The invariant under concurrency: while JS consumes on another thread, the I/O thread
// never has more than capacity armed, and never arms while unconsumed >= high water.
void TestConcurrentConsumerNeverBreaksTheBounds() {
  ReceiveWindow w(4, 6);
  std::atomic<bool> done{false};
  std::atomic<uint32_t> delivered{0};
  std::atomic<uint32_t> consumed{0};
  std::thread js([&] {
    while (!done.load()) {
      const uint32_t d = delivered.load(), c = consumed.load();
      if (d > c) {
        w.Consumed(1);
        consumed++;
      }
    }
  });
  uint32_t violations = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (delivered.load() < 20000 && std::chrono::steady_clock::now() < until) {
    if (w.MayArm()) {
      if (w.unconsumed() >= w.high_water()) ++violations;  // only shrinks concurrently
      w.Armed();
    }
    if (w.armed() > w.capacity()) ++violations;
    if (w.armed() > 0) {
      w.Completed(true);
      delivered++;
    }
    // Bound on what sits in Node: unconsumed never exceeds capacity + high water.
    if (w.unconsumed() > w.capacity() + w.high_water()) ++violations;
  }
  done = true;
  js.join();
  ExpectEq(violations, 0u, "violations");
  ExpectEq(delivered.load(), 20000u, "delivered.load()");
}

}  // namespace

int main(int argc, char** argv) {
  return fltport::test::Main(argc, argv,
                             {
                                 {"arms_up_to_capacity_only", &TestArmsUpToCapacityOnly},
                                 {"zero_capacity_and_high_water_mean_one", &TestZeroCapacityAndHighWaterMeanOne},
                                 {"stops_rearming_at_high_water_and_consumed_reopens", &TestStopsRearmingAtHighWaterAndConsumedReopens},
                                 {"big_consume_from_above_the_mark_wakes_once", &TestBigConsumeFromAboveTheMarkWakesOnce},
                                 {"stop_forbids_arming_but_counts_completions", &TestStopForbidsArmingButCountsCompletions},
                                 {"concurrent_consumer_never_breaks_the_bounds", &TestConcurrentConsumerNeverBreaksTheBounds},
                             });
}
