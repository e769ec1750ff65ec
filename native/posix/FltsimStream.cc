#include "FltsimStream.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "FrameBuilder.h"
#include "RuntimeDir.h"
#include "fltsim/wire.h"

namespace fltport::posix {
namespace {

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(left);
}

// Waits for `events` on `fd` until `deadline`. Returns 1 when ready, 0 on timeout, -1 + errno.
int PollUntil(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = poll(&p, 1, RemainingMs(deadline));
    if (n < 0 && errno == EINTR) continue;  // the deadline is absolute: retrying is exact
    return n;
  }
}

}  // namespace

FltsimStream::~FltsimStream() {
  if (fd_ >= 0) close(fd_);
}

long FltsimStream::SendNoSignal(int fd, const uint8_t* data, size_t length) {
#ifdef MSG_NOSIGNAL
  return static_cast<long>(send(fd, data, length, MSG_NOSIGNAL));
#else
  return static_cast<long>(send(fd, data, length, 0));  // SO_NOSIGPIPE was set at open
#endif
}

std::unique_ptr<FltsimStream> FltsimStream::Open(const std::string& runtime_dir, uint16_t kind,
                                                 int timeout_ms, core::Status* status) {
  const std::string path = RuntimeDir::SocketPath(runtime_dir);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    *status = core::Status::FromErrno(ENAMETOOLONG, "connect",
                                      "fltsim socket path too long for AF_UNIX: " + path);
    return nullptr;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);

  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) {
    *status = core::Status::FromErrno(errno, "socket", path);
    return nullptr;
  }
  std::unique_ptr<FltsimStream> stream(new FltsimStream(fd, path));
  const int fd_flags = fcntl(fd, F_GETFD);
  if (fd_flags < 0 || fcntl(fd, F_SETFD, fd_flags | FD_CLOEXEC) < 0) {
    *status = core::Status::FromErrno(errno, "fcntl", path);
    return nullptr;
  }
#if !defined(MSG_NOSIGNAL) && defined(SO_NOSIGPIPE)
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif

  // Connect while the socket is still blocking: an AF_UNIX connect either succeeds, is
  // refused, or (backlog full) waits briefly. EINTR leaves it completing in the background,
  // so wait for writability and read the outcome from SO_ERROR instead of retrying.
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    if (err == EINTR || err == EINPROGRESS) {
      const int ready = PollUntil(fd, POLLOUT, deadline);
      socklen_t len = sizeof err;
      if (ready < 0) {
        err = errno;
      } else if (ready == 0) {
        err = ETIMEDOUT;
      } else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
        err = errno;
      }
    }
    if (err != 0) {
      *status = core::Status::FromErrno(err, "connect", "no fltsim-host at " + path);
      return nullptr;
    }
  }
  const int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
    *status = core::Status::FromErrno(errno, "fcntl", path);
    return nullptr;
  }

  auto hello = FrameBuilder(FLTSIM_HELLO, 0)
                   .U32(FLTSIM_WIRE_MAGIC)
                   .U16(FLTSIM_WIRE_VERSION)
                   .U16(kind)
                   .U32(static_cast<uint32_t>(getpid()))
                   .U32(0)
                   .Finish();
  core::Status s = stream->WriteAll(hello, RemainingMs(deadline));
  Frame answer;
  if (s.ok()) s = stream->ReadFrame(&answer, RemainingMs(deadline));
  if (s.ok() && answer.type != FLTSIM_HELLO_RESULT) {
    s = core::Status::Protocol("expected HELLO_RESULT, got frame type " +
                               std::to_string(answer.type), "HELLO");
  }
  if (s.ok() && answer.U32(0) != 0) {
    s = core::Status::FromNtStatus(answer.U32(0), "HELLO");
    s.detail = "fltsim-host at " + path + " refused this client (wire version " +
               std::to_string(FLTSIM_WIRE_VERSION) + ")";
  }
  if (!s.ok()) {
    *status = std::move(s);
    return nullptr;
  }
  *status = core::Status::Ok();
  return stream;
}

core::Status FltsimStream::WriteAll(const std::vector<uint8_t>& bytes, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  size_t done = 0;
  while (done < bytes.size()) {
    const long n = SendNoSignal(fd_, bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      const int ready = PollUntil(fd_, POLLOUT, deadline);
      if (ready < 0) return core::Status::FromErrno(errno, "poll", path_);
      if (ready == 0) {
        return core::Status::FromErrno(ETIMEDOUT, "send", "fltsim-host at " + path_ +
                                                              " stopped reading");
      }
      continue;
    }
    return core::Status::FromErrno(n < 0 ? errno : EPIPE, "send", "fltsim-host at " + path_);
  }
  return core::Status::Ok();
}

core::Status FltsimStream::ReadAvailable(size_t max_bytes, bool* eof, size_t* got) {
  *eof = false;
  *got = 0;
  uint8_t chunk[16384];
  while (*got < max_bytes) {
    const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      reader_.Feed(chunk, static_cast<size_t>(n));
      *got += static_cast<size_t>(n);
      // A short read drained the socket: asking again would only return EAGAIN, a system
      // call per wake-up for nothing (the callers poll level-triggered, so anything that
      // arrives now is seen by the next poll).
      if (static_cast<size_t>(n) < sizeof chunk) return core::Status::Ok();
      continue;
    }
    if (n == 0) {
      *eof = true;
      return core::Status::Ok();
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return core::Status::Ok();
    return core::Status::FromErrno(errno, "recv", "fltsim-host at " + path_);
  }
  return core::Status::Ok();
}

core::Status FltsimStream::ReadFrame(Frame* out, int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    bool have = false;
    core::Status s = reader_.Next(out, &have);
    if (!s.ok() || have) return s;
    bool eof = false;
    size_t got = 0;
    s = ReadAvailable(size_t(1) << 20, &eof, &got);
    if (!s.ok()) return s;
    if (got > 0) continue;
    if (eof) {
      return core::Status::FromErrno(ECONNRESET, "recv",
                                     "fltsim-host at " + path_ + " closed the stream");
    }
    const int ready = PollUntil(fd_, POLLIN, deadline);
    if (ready < 0) return core::Status::FromErrno(errno, "poll", path_);
    if (ready == 0) {
      return core::Status::FromErrno(ETIMEDOUT, "recv", "fltsim-host at " + path_ +
                                                            " did not answer in time");
    }
  }
}

void FltsimStream::Shutdown() {
  if (fd_ >= 0) shutdown(fd_, SHUT_RDWR);
}

}  // namespace fltport::posix
