// The I/O-thread side of one fltsim stream: a non-blocking socket, an outgoing queue and a
// wake pipe, driven by Poll() from the session's I/O thread.
//
// Any thread may Send() a frame. When nothing is queued the frame is written at once under
// the queue's mutex (a Reply then costs one send(), no thread hop); whatever the socket did
// not take is queued and the I/O thread, woken, writes it when the socket is writable.
// Frames are never interleaved: every write happens under the same mutex.
//
// Threads: Send/Wake/Shutdown from any thread; Poll only from the I/O thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "FltsimStream.h"
#include "FrameReader.h"
#include "Status.h"
#include "WakePipe.h"

namespace fltport::posix {

class FrameChannel {
 public:
  explicit FrameChannel(std::unique_ptr<FltsimStream> stream) : stream_(std::move(stream)) {}
  FrameChannel(const FrameChannel&) = delete;
  FrameChannel& operator=(const FrameChannel&) = delete;

  // Creating thread, before the I/O thread starts.
  core::Status Open() { return wake_.Open(); }

  // Any thread. Queues `frame` (written at once when possible). Returns false when the
  // channel is shut down or the socket already failed: the frame will never be sent and
  // the caller settles the request itself.
  bool Send(std::vector<uint8_t> frame);
  // Any thread: make Poll() return soon.
  void Wake() { wake_.Wake(); }
  // Any thread: refuse further sends and take the socket down in both directions so that
  // the peer sees end of stream and a Poll() in progress returns.
  void Shutdown();

  // I/O thread. Waits up to `timeout_ms` (-1 = no limit) for the socket or a wake-up,
  // writes what is queued, then reads what arrived (at most ~1 MiB per call, so one wake-up
  // produces a bounded batch) and calls `on_frame` for each whole frame in order. Returns
  // the first failure: a transport error, end of stream (ECONNRESET), a malformed frame
  // (kProtocol), or a non-ok Status from `on_frame`. Ok on timeout or wake-up.
  core::Status Poll(int timeout_ms, const std::function<core::Status(Frame&)>& on_frame);

  // Any thread.
  const std::string& path() const { return stream_->path(); }

 private:
  // Called with out_mu_ held: writes queued bytes until EAGAIN. Returns false on a
  // socket error (recorded in write_errno_).
  bool FlushLocked();

  std::unique_ptr<FltsimStream> stream_;
  WakePipe wake_;
  std::mutex out_mu_;
  std::deque<std::vector<uint8_t>> out_;  // guarded by out_mu_
  size_t out_offset_ = 0;                 // bytes of out_.front() already written
  bool shut_down_ = false;                // guarded by out_mu_
  int write_errno_ = 0;                   // guarded by out_mu_
};

}  // namespace fltport::posix
