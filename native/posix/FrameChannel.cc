#include "FrameChannel.h"

#include <errno.h>
#include <poll.h>

namespace fltport::posix {

bool FrameChannel::FlushLocked() {
  while (!out_.empty()) {
    const std::vector<uint8_t>& front = out_.front();
    const long n = FltsimStream::SendNoSignal(stream_->fd(), front.data() + out_offset_,
                                              front.size() - out_offset_);
    if (n > 0) {
      out_offset_ += static_cast<size_t>(n);
      if (out_offset_ == front.size()) {
        out_.pop_front();
        out_offset_ = 0;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    write_errno_ = n < 0 ? errno : EPIPE;
    return false;
  }
  return true;
}

bool FrameChannel::Send(std::vector<uint8_t> frame) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(out_mu_);
    if (shut_down_ || write_errno_ != 0) return false;
    const bool was_empty = out_.empty();
    out_.push_back(std::move(frame));
    if (was_empty) {
      // Lowest latency: the socket is almost always writable and nothing is ahead of us.
      if (!FlushLocked()) wake = true;   // let the I/O thread report the error
      else wake = !out_.empty();         // partly written: POLLOUT will finish it
    }
    // Not empty before: the I/O thread is already waiting for POLLOUT on our behalf.
  }
  if (wake) wake_.Wake();
  return true;
}

void FrameChannel::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(out_mu_);
    shut_down_ = true;
  }
  stream_->Shutdown();
  wake_.Wake();
}

core::Status FrameChannel::Poll(int timeout_ms,
                                const std::function<core::Status(Frame&)>& on_frame) {
  pollfd fds[2];
  {
    std::lock_guard<std::mutex> lock(out_mu_);
    if (write_errno_ != 0) {
      return core::Status::FromErrno(write_errno_, "send", "fltsim-host at " + path());
    }
    fds[0] = {stream_->fd(), static_cast<short>(POLLIN | (out_.empty() ? 0 : POLLOUT)), 0};
  }
  fds[1] = {wake_.fd(), POLLIN, 0};
  const int n = poll(fds, 2, timeout_ms);
  if (n < 0) {
    // A signal: return to the caller's loop, which re-evaluates its deadlines and polls again.
    if (errno == EINTR) return core::Status::Ok();
    return core::Status::FromErrno(errno, "poll", path());
  }
  if (fds[1].revents) wake_.Drain();
  if (fds[0].revents & POLLOUT) {
    std::lock_guard<std::mutex> lock(out_mu_);
    if (!FlushLocked()) {
      return core::Status::FromErrno(write_errno_, "send", "fltsim-host at " + path());
    }
  }
  if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
    bool eof = false;
    size_t got = 0;
    core::Status s = stream_->ReadAvailable(size_t(1) << 20, &eof, &got);
    if (!s.ok()) return s;
    // Hand out every whole frame before reporting end of stream: the host may have said
    // its last words (completions) right before closing.
    for (;;) {
      Frame frame;
      bool have = false;
      s = stream_->reader().Next(&frame, &have);
      if (!s.ok()) return s;
      if (!have) break;
      s = on_frame(frame);
      if (!s.ok()) return s;
    }
    if (eof) {
      const size_t partial = stream_->reader().buffered();
      return core::Status::FromErrno(
          ECONNRESET, "recv",
          "fltsim-host at " + path() + " closed the stream" +
              (partial ? " in the middle of a frame (" + std::to_string(partial) + " bytes)"
                       : std::string()));
    }
  }
  return core::Status::Ok();
}

}  // namespace fltport::posix
