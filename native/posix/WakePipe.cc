#include "WakePipe.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

namespace fltport::posix {
namespace {

bool MakeNonBlockingCloexec(int fd) {
  const int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return false;
  const int fd_flags = fcntl(fd, F_GETFD);
  return fd_flags >= 0 && fcntl(fd, F_SETFD, fd_flags | FD_CLOEXEC) >= 0;
}

}  // namespace

WakePipe::~WakePipe() {
  if (read_fd_ >= 0) close(read_fd_);
  if (write_fd_ >= 0) close(write_fd_);
}

core::Status WakePipe::Open() {
  int fds[2];
  if (pipe(fds) != 0) return core::Status::FromErrno(errno, "pipe", "wake pipe");
  read_fd_ = fds[0];
  write_fd_ = fds[1];
  if (!MakeNonBlockingCloexec(read_fd_) || !MakeNonBlockingCloexec(write_fd_)) {
    return core::Status::FromErrno(errno, "fcntl", "wake pipe");
  }
  return core::Status::Ok();
}

void WakePipe::Wake() {
  if (write_fd_ < 0) return;
  const char byte = 1;
  // EAGAIN: the pipe is full, so the poller is certain to wake anyway.
  while (write(write_fd_, &byte, 1) < 0 && errno == EINTR) {
  }
}

void WakePipe::Drain() {
  char sink[256];
  for (;;) {
    const ssize_t n = read(read_fd_, sink, sizeof sink);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    return;  // 0 cannot happen while we hold the write end; EAGAIN means drained
  }
}

}  // namespace fltport::posix
