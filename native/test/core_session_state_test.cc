// SessionState: every (from, to) pair against the diagram in SessionState.h, and races.
#include <atomic>
#include <thread>
#include <vector>

#include "SessionState.h"
#include "TestHarness.h"

using fltport::test::ExpectEq;
using fltport::test::ExpectTrue;

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

namespace {

void TestEveryPairMatchesTheDiagram() {
  int legal = 0;
  for (SessionPhase from : kAll) {
    for (SessionPhase to : kAll) {
      const bool expect = Expected(from, to);
      ExpectEq(SessionState::IsLegal(from, to), expect, "SessionState::IsLegal(from, to)");
      SessionState s(from);
      ExpectEq(s.TryTransition(to), expect, "s.TryTransition(to)");
      ExpectEq(s.phase(), expect ? to : from, "s.phase()");  // a refused move changes nothing
      SessionState t(from);
      auto status = t.Transition(to);
      ExpectEq(status.ok(), expect, "status.ok()");
      if (!expect) {
        ExpectEq(status.origin, StatusOrigin::kProtocol, "status.origin");
        const std::string want = std::string("illegal session transition ") +
                                 SessionState::Name(from) + " -> " + SessionState::Name(to);
        ExpectEq(status.detail, want, "status.detail");
      }
      legal += expect;
    }
  }
  ExpectEq(legal, 6, "legal");
}

void TestStartsConnectingAndClosedIsTerminal() {
  SessionState s;
  ExpectEq(s.phase(), SessionPhase::kConnecting, "s.phase()");
  ExpectTrue(!s.is_open(), "!s.is_open()");
  ExpectTrue(s.TryTransition(SessionPhase::kOpen), "s.TryTransition(SessionPhase::kOpen)");
  ExpectTrue(s.is_open(), "s.is_open()");
  ExpectTrue(s.TryTransition(SessionPhase::kDisconnected), "s.TryTransition(SessionPhase::kDisconnected)");
  ExpectTrue(!s.is_open(), "!s.is_open()");
  ExpectTrue(!s.TryTransition(SessionPhase::kOpen), "!s.TryTransition(SessionPhase::kOpen)");  // no way back after a disconnect
  ExpectTrue(s.TryTransition(SessionPhase::kClosing), "s.TryTransition(SessionPhase::kClosing)");
  ExpectTrue(!s.TryTransition(SessionPhase::kClosing), "!s.TryTransition(SessionPhase::kClosing)");  // a second Close() loses
  ExpectTrue(s.TryTransition(SessionPhase::kClosed), "s.TryTransition(SessionPhase::kClosed)");
  ExpectTrue(s.is_closed(), "s.is_closed()");
  for (SessionPhase to : kAll) ExpectTrue(!s.TryTransition(to), "!s.TryTransition(to)");
}

void TestNames() {
  ExpectEq(std::string(SessionState::Name(SessionPhase::kConnecting)), "connecting", "std::string(SessionState::Name(SessionPhase::kConnecting))");
  ExpectEq(std::string(SessionState::Name(SessionPhase::kOpen)), "open", "std::string(SessionState::Name(SessionPhase::kOpen))");
  ExpectEq(std::string(SessionState::Name(SessionPhase::kClosing)), "closing", "std::string(SessionState::Name(SessionPhase::kClosing))");
  ExpectEq(std::string(SessionState::Name(SessionPhase::kClosed)), "closed", "std::string(SessionState::Name(SessionPhase::kClosed))");
  ExpectEq(std::string(SessionState::Name(SessionPhase::kDisconnected)), "disconnected", "std::string(SessionState::Name(SessionPhase::kDisconnected))");
}

// Close() on two threads and a disconnect on a third, many times: exactly one of the
// closes wins open -> closing, and the disconnect only wins if it came first.
void TestRacingTransitionsHaveOneWinner() {
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
    ExpectEq(close_wins.load(), 1, "close_wins.load()");
    ExpectTrue(disconnect_wins.load() <= 1, "disconnect_wins.load() <= 1");
    ExpectEq(s.phase(), SessionPhase::kClosing, "s.phase()");
  }
}

}  // namespace

int main(int argc, char** argv) {
  return fltport::test::Main(argc, argv,
                             {
                                 {"every_pair_matches_the_diagram", &TestEveryPairMatchesTheDiagram},
                                 {"starts_connecting_and_closed_is_terminal", &TestStartsConnectingAndClosedIsTerminal},
                                 {"names", &TestNames},
                                 {"racing_transitions_have_one_winner", &TestRacingTransitionsHaveOneWinner},
                             });
}
