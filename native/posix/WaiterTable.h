// Requests that a caller thread waits for (FilterSendMessage, GetMailslotInfo, ...): the
// caller registers a tag, sends its frame, and blocks in Wait(); the I/O thread hands the
// answering frame over with Complete(). When the session dies, FailAll() releases every
// waiter at once with the session's status and refuses later registrations, so no caller
// can be left waiting on a stream nobody reads any more.
//
// Threads: Register/Wait/Abandon on caller threads; Complete/FailAll on the I/O thread (or
// the closing thread once the I/O thread is gone).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>

#include "FrameReader.h"
#include "Status.h"

namespace fltport::posix {

class WaiterTable {
 public:
  // `first_tag` keeps the table's tags apart from the other request kinds of the stream,
  // which makes a wrong tag from the host easy to name in a protocol error.
  explicit WaiterTable(uint64_t first_tag) : next_tag_(first_tag) {}

  enum class Delivery { kDelivered, kUnknownTag, kTooLong };

  // Caller thread. A fresh tag, or 0 and *status when the table has already failed.
  // `max_body` bounds the answer's body: a host that answers with more than the caller
  // can take is breaking the protocol (Complete reports kTooLong).
  uint64_t Register(core::Status* status, size_t max_body = SIZE_MAX);
  // Caller thread: the frame could not even be sent; forget the tag.
  void Abandon(uint64_t tag);
  // Caller thread. Blocks until Complete(tag) or FailAll(); then the tag is forgotten.
  // With timeout_ms >= 0, gives up after that long with ETIMEDOUT; the tag then stays
  // known (abandoned) so that the host's late answer is swallowed, not a protocol error.
  core::Status Wait(uint64_t tag, Frame* answer, int timeout_ms = -1);

  // I/O thread. Anything but kDelivered is a protocol error of the host (the waiter is left
  // waiting; the session's FailAll releases it).
  Delivery Complete(uint64_t tag, Frame&& answer);
  // Any thread. Every current and future waiter gets `status`. Idempotent: the first
  // status wins.
  void FailAll(const core::Status& status);

  size_t pending();

 private:
  struct Entry {
    bool done = false;
    bool abandoned = false;
    size_t max_body = SIZE_MAX;
    Frame answer;
  };

  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t next_tag_;                // guarded by mu_
  std::map<uint64_t, Entry> waits_;  // guarded by mu_
  bool failed_ = false;              // guarded by mu_
  core::Status failure_;             // guarded by mu_
};

}  // namespace fltport::posix
