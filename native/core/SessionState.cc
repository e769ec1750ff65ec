#include "SessionState.h"

#include <string>

namespace fltport::core {

bool SessionState::IsLegal(SessionPhase from, SessionPhase to) {
  switch (from) {
    case SessionPhase::kConnecting:
      // A failed connect goes straight to closed: there is nothing to cancel or drain.
      return to == SessionPhase::kOpen || to == SessionPhase::kClosed;
    case SessionPhase::kOpen:
      return to == SessionPhase::kClosing || to == SessionPhase::kDisconnected;
    case SessionPhase::kDisconnected:
      // The handle is dead but still has to be closed (spec §8.3 item 7).
      return to == SessionPhase::kClosing;
    case SessionPhase::kClosing:
      return to == SessionPhase::kClosed;
    case SessionPhase::kClosed:
      return false;
  }
  return false;
}

const char* SessionState::Name(SessionPhase phase) {
  switch (phase) {
    case SessionPhase::kConnecting:
      return "connecting";
    case SessionPhase::kOpen:
      return "open";
    case SessionPhase::kClosing:
      return "closing";
    case SessionPhase::kClosed:
      return "closed";
    case SessionPhase::kDisconnected:
      return "disconnected";
  }
  return "invalid";
}

bool SessionState::TryTransition(SessionPhase to, SessionPhase* observed) {
  SessionPhase from = phase_.load(std::memory_order_acquire);
  do {
    if (!IsLegal(from, to)) {
      // The phase that made the move illegal, not a later one: the error names it.
      *observed = from;
      return false;
    }
  } while (!phase_.compare_exchange_weak(from, to, std::memory_order_acq_rel,
                                         std::memory_order_acquire));
  *observed = from;
  return true;
}

bool SessionState::TryTransition(SessionPhase to) {
  SessionPhase observed;
  return TryTransition(to, &observed);
}

Status SessionState::Transition(SessionPhase to) {
  SessionPhase observed;
  if (TryTransition(to, &observed)) return Status::Ok();
  return Status::Protocol(std::string("illegal session transition ") + Name(observed) + " -> " +
                          Name(to));
}

}  // namespace fltport::core
