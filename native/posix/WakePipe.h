// Wakes a thread sleeping in poll(): a self-pipe, both ends non-blocking and close-on-exec.
// A pipe rather than eventfd so the same code runs on every POSIX system; a wake that finds
// the pipe full is already pending, so losing that byte loses nothing.
//
// Threads: Wake() from any thread (async-signal-safe: one write()); fd()/Drain() on the
// thread that polls.
#pragma once

#include "Status.h"

namespace fltport::posix {

class WakePipe {
 public:
  WakePipe() = default;
  ~WakePipe();
  WakePipe(const WakePipe&) = delete;
  WakePipe& operator=(const WakePipe&) = delete;

  // Creating thread, before any other use.
  core::Status Open();
  // Any thread.
  void Wake();
  // Polling thread: the read end, for POLLIN.
  int fd() const { return read_fd_; }
  // Polling thread: consume every pending wake-up.
  void Drain();

 private:
  int read_fd_ = -1;
  int write_fd_ = -1;
};

}  // namespace fltport::posix
