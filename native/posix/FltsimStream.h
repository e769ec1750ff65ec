// One stream to fltsim-host = one user handle (wire.h): connect the AF_UNIX socket, say
// HELLO with the stream's kind, and wait for HELLO_RESULT. After that the stream offers
// blocking frame I/O with deadlines (handshakes, the control client, a mailslot write) or
// is handed to a FrameChannel for an I/O thread.
//
// The socket is non-blocking from the start; "blocking" helpers wait in poll() with a
// deadline, retrying EINTR, so a host that stops answering costs a timeout, not a hang.
// SIGPIPE is never raised (MSG_NOSIGNAL, or SO_NOSIGPIPE where that is the mechanism).
//
// Threads: the thread that opened it, until it is handed to a FrameChannel.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "FrameReader.h"
#include "Status.h"

namespace fltport::posix {

class FltsimStream {
 public:
  ~FltsimStream();
  FltsimStream(const FltsimStream&) = delete;
  FltsimStream& operator=(const FltsimStream&) = delete;

  // Any thread but an I/O thread. `runtime_dir` as RuntimeDir::Resolve takes it; `kind` is
  // FLTSIM_STREAM_KIND. On failure: nullptr and *status — ECONNREFUSED/ENOENT from
  // "connect" when no host listens, ETIMEDOUT when it does not answer HELLO in time, the
  // HELLO_RESULT's NTSTATUS when it refuses us.
  static std::unique_ptr<FltsimStream> Open(const std::string& runtime_dir, uint16_t kind,
                                            int timeout_ms, core::Status* status);

  // Owning thread. Writes the whole frame or fails (errno; ETIMEDOUT past the deadline).
  core::Status WriteAll(const std::vector<uint8_t>& bytes, int timeout_ms);
  // Owning thread. Waits for the next whole, validated frame. End of stream -> ECONNRESET
  // from "recv"; a malformed frame -> kProtocol.
  core::Status ReadFrame(Frame* out, int timeout_ms);
  // Owning thread. Reads what is available now, without waiting, into the reader (up to
  // max_bytes; it stops at a short read, which means the socket is drained for now).
  // Returns Ok and *eof when the peer closed; EAGAIN is not an error.
  core::Status ReadAvailable(size_t max_bytes, bool* eof, size_t* got);

  // Any thread: both directions down, so the peer sees end of stream and poll() wakes.
  void Shutdown();

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  FrameReader& reader() { return reader_; }

  // Any thread. Sends without raising SIGPIPE; returns what send() returns (errno kept).
  static long SendNoSignal(int fd, const uint8_t* data, size_t length);

 private:
  FltsimStream(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

  int fd_;
  std::string path_;
  FrameReader reader_;
};

}  // namespace fltport::posix
