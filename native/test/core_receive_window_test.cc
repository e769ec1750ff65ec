// ReceiveWindow: the armed count never exceeds capacity, arming stops at the high-water
// mark, and Consumed() signals exactly when the window reopens.
#include <atomic>
#include <chrono>
#include <thread>

#include "ReceiveWindow.h"
#include "core_test_check.h"

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

TEST(arms_up_to_capacity_only) {
  ReceiveWindow w(4, 100);
  CHECK_EQ(ArmAll(w), 4u);
  CHECK_EQ(w.armed(), 4u);
  CHECK(!w.MayArm());
  w.Completed(false);  // e.g. cancelled: nothing for JS
  CHECK_EQ(w.unconsumed(), 0u);
  CHECK_EQ(ArmAll(w), 1u);
  CHECK_EQ(w.armed(), 4u);
}

TEST(zero_capacity_and_high_water_mean_one) {
  ReceiveWindow w(0, 0);
  CHECK_EQ(w.capacity(), 1u);
  CHECK_EQ(w.high_water(), 1u);
  CHECK_EQ(ArmAll(w), 1u);
}

TEST(stops_rearming_at_high_water_and_consumed_reopens) {
  ReceiveWindow w(2, 3);
  CHECK_EQ(ArmAll(w), 2u);
  w.Completed(true);
  w.Completed(true);
  CHECK_EQ(w.unconsumed(), 2u);
  CHECK_EQ(w.armed(), 0u);
  CHECK_EQ(ArmAll(w), 2u);  // 2 < 3: below the mark, both slots re-arm
  w.Completed(true);
  CHECK_EQ(w.unconsumed(), 3u);
  CHECK_EQ(w.armed(), 1u);
  CHECK(!w.MayArm());  // at the mark: no re-arm although a slot is free
  w.Completed(true);   // the one still armed completes too: now above the mark
  CHECK_EQ(w.unconsumed(), 4u);
  CHECK_EQ(w.armed(), 0u);
  CHECK(!w.MayArm());
  CHECK(!w.Consumed(1));  // 4 -> 3: still at the mark, no wake-up
  CHECK(!w.MayArm());
  CHECK(w.Consumed(1));  // 3 -> 2: crossed below, wake the I/O thread
  CHECK(w.MayArm());
  CHECK(!w.Consumed(1));  // already open: no redundant wake-up
  CHECK_EQ(w.unconsumed(), 1u);
  CHECK(!w.Consumed(10));  // over-consumption clamps at 0
  CHECK_EQ(w.unconsumed(), 0u);
}

TEST(big_consume_from_above_the_mark_wakes_once) {
  ReceiveWindow w(8, 2);
  ArmAll(w);
  for (int i = 0; i < 8; ++i) w.Completed(true);
  CHECK_EQ(w.unconsumed(), 8u);
  CHECK(w.Consumed(8));
  CHECK_EQ(w.unconsumed(), 0u);
  CHECK_EQ(ArmAll(w), 8u);
}

TEST(stop_forbids_arming_but_counts_completions) {
  ReceiveWindow w(3, 10);
  ArmAll(w);
  w.Stop();
  w.Completed(false);
  CHECK(!w.MayArm());
  CHECK_EQ(w.armed(), 2u);
  w.Completed(false);
  w.Completed(false);
  w.Completed(false);  // more completions than arms: never below 0
  CHECK_EQ(w.armed(), 0u);
}

// The invariant under concurrency: while JS consumes on another thread, the I/O thread
// never has more than capacity armed, and never arms while unconsumed >= high water.
TEST(concurrent_consumer_never_breaks_the_bounds) {
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
  CHECK_EQ(violations, 0u);
  CHECK_EQ(delivered.load(), 20000u);
}

TEST_MAIN("core_receive_window_test")
