// The life cycle of one port or mailslot session, shared by every backend so that "may I
// still do X?" has one answer everywhere:
//
//   connecting ──► open ──► closing ──► closed
//        │           │         ▲
//        │           ▼         │
//        │      disconnected ──┘        (the driver closed the port, or unloaded)
//        └──────────────────────────► closed   (the connect failed)
//
// Every change goes through TryTransition/Transition, which refuse anything not drawn
// above, so a second Close(), a disconnect racing a close, or a late completion cannot
// move the session backwards. The phase is atomic: any thread may read it or attempt a
// transition; compare-and-swap decides races (exactly one of two racing Close() calls
// wins open -> closing).
#pragma once

#include <atomic>
#include <cstdint>

#include "Status.h"

namespace fltport::core {

enum class SessionPhase : uint8_t {
  kConnecting,
  kOpen,
  kClosing,
  kClosed,
  kDisconnected,
};

class SessionState {
 public:
  SessionState() = default;
  explicit SessionState(SessionPhase initial) : phase_(initial) {}
  SessionState(const SessionState&) = delete;
  SessionState& operator=(const SessionState&) = delete;

  // Any thread. Whether `from -> to` is an edge of the diagram above.
  static bool IsLegal(SessionPhase from, SessionPhase to);
  // Any thread. "open", "closing", ... for logs and Status details.
  static const char* Name(SessionPhase phase);

  // Any thread. Moves to `to` if that is legal from the current phase; false (and no change)
  // otherwise. Atomic with respect to concurrent transitions.
  bool TryTransition(SessionPhase to);
  // Any thread. Same as TryTransition, but an illegal move is reported as a kProtocol
  // Status naming both phases (an internal invariant broke, or the peer sent something
  // that makes no sense in this phase).
  Status Transition(SessionPhase to);

  // Any thread.
  SessionPhase phase() const { return phase_.load(std::memory_order_acquire); }
  // True while receives, replies and sends may be started.
  bool is_open() const { return phase() == SessionPhase::kOpen; }
  // True once nothing more will ever happen on the session (closed is terminal).
  bool is_closed() const { return phase() == SessionPhase::kClosed; }

 private:
  // Any thread: the CAS loop; `observed` is the phase the decision was made against.
  bool TryTransition(SessionPhase to, SessionPhase* observed);

  std::atomic<SessionPhase> phase_{SessionPhase::kConnecting};
};

}  // namespace fltport::core
