// SessionState: every (from, to) pair against the diagram in SessionState.h, and races.
#include <atomic>
#include <thread>
#include <vector>

#include "SessionState.h"
#include "core_test_check.h"

using fltport::core::SessionPhase;
using fltport::core::SessionState;
using fltport::core::StatusOrigin;

namespace {

constexpr SessionPhase kAll[] = {SessionPhase::kConnecting, SessionPhase::kOpen,
                                 SessionPhase::kClosing, SessionPhase::kClosed,
                                 SessionPhase::kDisconnected};

// The diagram, written independently of the switch in SessionState.cc.
bool Expected(SessionPhase from, SessionPhase to) {
  struct Edge {
    SessionPhase from, to;
  };
  static const Edge kEdges[] = {
      {SessionPhase::kConnecting, SessionPhase::kOpen},
      {SessionPhase::kConnecting, SessionPhase::kClosed},
      {SessionPhase::kOpen, SessionPhase::kClosing},
      {SessionPhase::kOpen, SessionPhase::kDisconnected},
      {SessionPhase::kDisconnected, SessionPhase::kClosing},
      {SessionPhase::kClosing, SessionPhase::kClosed},
  };
  for (const Edge& e : kEdges) {
    if (e.from == from && e.to == to) return true;
  }
  return false;
}

}  // namespace

TEST(every_pair_matches_the_diagram) {
  int legal = 0;
  for (SessionPhase from : kAll) {
    for (SessionPhase to : kAll) {
      const bool expect = Expected(from, to);
      CHECK_EQ(SessionState::IsLegal(from, to), expect);
      SessionState s(from);
      CHECK_EQ(s.TryTransition(to), expect);
      CHECK_EQ(s.phase(), expect ? to : from);  // a refused move changes nothing
      SessionState t(from);
      auto status = t.Transition(to);
      CHECK_EQ(status.ok(), expect);
      if (!expect) {
        CHECK_EQ(status.origin, StatusOrigin::kProtocol);
        const std::string want = std::string("illegal session transition ") +
                                 SessionState::Name(from) + " -> " + SessionState::Name(to);
        CHECK_EQ(status.detail, want);
      }
      legal += expect;
    }
  }
  CHECK_EQ(legal, 6);
}

TEST(starts_connecting_and_closed_is_terminal) {
  SessionState s;
  CHECK_EQ(s.phase(), SessionPhase::kConnecting);
  CHECK(!s.is_open());
  CHECK(s.TryTransition(SessionPhase::kOpen));
  CHECK(s.is_open());
  CHECK(s.TryTransition(SessionPhase::kDisconnected));
  CHECK(!s.is_open());
  CHECK(!s.TryTransition(SessionPhase::kOpen));  // no way back after a disconnect
  CHECK(s.TryTransition(SessionPhase::kClosing));
  CHECK(!s.TryTransition(SessionPhase::kClosing));  // a second Close() loses
  CHECK(s.TryTransition(SessionPhase::kClosed));
  CHECK(s.is_closed());
  for (SessionPhase to : kAll) CHECK(!s.TryTransition(to));
}

TEST(names) {
  CHECK_EQ(std::string(SessionState::Name(SessionPhase::kConnecting)), "connecting");
  CHECK_EQ(std::string(SessionState::Name(SessionPhase::kOpen)), "open");
  CHECK_EQ(std::string(SessionState::Name(SessionPhase::kClosing)), "closing");
  CHECK_EQ(std::string(SessionState::Name(SessionPhase::kClosed)), "closed");
  CHECK_EQ(std::string(SessionState::Name(SessionPhase::kDisconnected)), "disconnected");
}

// Close() on two threads and a disconnect on a third, many times: exactly one of the
// closes wins open -> closing, and the disconnect only wins if it came first.
TEST(racing_transitions_have_one_winner) {
  for (int round = 0; round < 2000; ++round) {
    SessionState s(SessionPhase::kOpen);
    std::atomic<int> go{0};
    std::atomic<int> close_wins{0};
    std::atomic<int> disconnect_wins{0};
    auto closer = [&] {
      while (go.load() == 0) {
      }
      if (s.TryTransition(SessionPhase::kClosing)) close_wins++;
    };
    std::thread a(closer), b(closer);
    std::thread c([&] {
      while (go.load() == 0) {
      }
      if (s.TryTransition(SessionPhase::kDisconnected)) disconnect_wins++;
    });
    go = 1;
    a.join();
    b.join();
    c.join();
    // disconnected -> closing is legal, so both may win, but never two closes.
    CHECK_EQ(close_wins.load(), 1);
    CHECK(disconnect_wins.load() <= 1);
    CHECK_EQ(s.phase(), SessionPhase::kClosing);
  }
}

TEST_MAIN("core_session_state_test")
