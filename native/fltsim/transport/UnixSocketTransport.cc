#include "UnixSocketTransport.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <deque>

#include "../engine/Log.h"

namespace fltport::fltsim {
namespace {

// A peer that stops reading may not make the host hold unbounded output for it.
constexpr size_t kMaxQueuedOutput = 2 * FLTSIM_MAX_FRAME;
constexpr size_t kReadChunk = 64 * 1024;

bool SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

bool SetCloseOnExec(int fd) {
  int flags = fcntl(fd, F_GETFD);
  return flags >= 0 && fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == 0;
}

PeerIdentity PeerOf(int fd) {
  PeerIdentity peer;
#if defined(__linux__)
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
    peer.uid = cred.uid;
    peer.gid = cred.gid;
    peer.has_credentials = true;
  }
#else
  uid_t uid;
  gid_t gid;
  if (getpeereid(fd, &uid, &gid) == 0) {
    peer.uid = uid;
    peer.gid = gid;
    peer.has_credentials = true;
  }
#endif
  return peer;
}

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0  // macOS: SO_NOSIGPIPE is set on the socket instead
#endif

class UnixStream : public Stream {
 public:
  UnixStream(UnixSocketTransport* owner, int fd, uint64_t id, PeerIdentity peer)
      : owner_(owner), fd_(fd), id_(id), peer_(peer) {}

  void SendFrame(uint16_t type, uint64_t tag, const void* part1, size_t size1, const void* part2,
                 size_t size2) override {
    const size_t total = sizeof(FLTSIM_FRAME_HEADER) + size1 + size2;
    if (total > FLTSIM_MAX_FRAME) {
      LogWrite(LogLevel::kError, "stream %llu: refusing to send a %zu-byte frame (type %u)",
               static_cast<unsigned long long>(id_), total, type);
      Drop("host tried to send an oversized frame");
      return;
    }
    std::vector<uint8_t> frame = BuildFrame(type, tag, part1, size1, part2, size2);
    bool need_wake = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_ || drop_requested_) return;
      size_t sent = 0;
      if (out_.empty()) {
        // Fast path: most frames fit in the socket buffer and go out from the calling thread.
        while (sent < frame.size()) {
          ssize_t n = ::send(fd_, frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
          if (n > 0) {
            sent += static_cast<size_t>(n);
            continue;
          }
          if (n < 0 && errno == EINTR) continue;
          if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
          drop_requested_ = true;
          drop_reason_ = std::string("send: ") + strerror(errno);
          need_wake = true;
          break;
        }
      }
      if (!drop_requested_ && sent < frame.size()) {
        out_.emplace_back(frame.begin() + static_cast<ptrdiff_t>(sent), frame.end());
        queued_ += frame.size() - sent;
        if (queued_ > kMaxQueuedOutput) {
          drop_requested_ = true;
          drop_reason_ = "peer is not reading (output queue over limit)";
        }
        need_wake = true;
      }
    }
    if (need_wake) owner_->Wake();
  }

  void Drop(const std::string& reason) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_ || drop_requested_) return;
      drop_requested_ = true;
      drop_reason_ = reason;
    }
    owner_->Wake();
  }

  const PeerIdentity& peer() const override { return peer_; }
  uint64_t id() const override { return id_; }

  // I/O thread.
  int fd() const { return fd_; }
  bool WantsOutput() {
    std::lock_guard<std::mutex> lock(mu_);
    return !out_.empty();
  }
  bool TakeDropRequest(std::string* reason) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!drop_requested_) return false;
    *reason = drop_reason_;
    return true;
  }
  // Returns false if the socket failed.
  bool Flush() {
    std::lock_guard<std::mutex> lock(mu_);
    while (!out_.empty()) {
      std::vector<uint8_t>& front = out_.front();
      ssize_t n = ::send(fd_, front.data(), front.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      if (n < 0) return false;
      queued_ -= static_cast<size_t>(n);
      if (static_cast<size_t>(n) == front.size()) {
        out_.pop_front();
      } else {
        front.erase(front.begin(), front.begin() + n);
      }
    }
    return true;
  }
  // Closes the descriptor under the lock: after this no thread can write to it (or to a
  // descriptor number the kernel has since reused).
  void CloseFd() {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    closed_ = true;
    ::close(fd_);
    out_.clear();
    queued_ = 0;
  }

 private:
  UnixSocketTransport* owner_;
  const int fd_;
  const uint64_t id_;
  const PeerIdentity peer_;
  std::mutex mu_;
  std::deque<std::vector<uint8_t>> out_;
  size_t queued_ = 0;
  bool closed_ = false;
  bool drop_requested_ = false;
  std::string drop_reason_;
};

}  // namespace

struct UnixSocketTransport::Client {
  std::shared_ptr<UnixStream> stream;
  std::shared_ptr<StreamHandler> handler;
  FrameReader reader;
  bool dead = false;
};

UnixSocketTransport::UnixSocketTransport(std::string socket_path, StreamAcceptor* acceptor)
    : socket_path_(std::move(socket_path)), acceptor_(acceptor) {
  int fds[2];
  if (pipe(fds) == 0) {
    wake_read_ = fds[0];
    wake_write_ = fds[1];
    SetNonBlocking(wake_read_);
    SetNonBlocking(wake_write_);
    SetCloseOnExec(wake_read_);
    SetCloseOnExec(wake_write_);
  }
}

UnixSocketTransport::~UnixSocketTransport() {
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (wake_read_ >= 0) ::close(wake_read_);
  if (wake_write_ >= 0) ::close(wake_write_);
}

bool UnixSocketTransport::Listen(std::string* error) {
  if (wake_read_ < 0) {
    *error = "cannot create the wake pipe";
    return false;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof addr.sun_path) {
    *error = "socket path too long for AF_UNIX (" + std::to_string(socket_path_.size()) +
             " bytes): " + socket_path_;
    return false;
  }
  std::memcpy(addr.sun_path, socket_path_.c_str(), socket_path_.size() + 1);

  // An existing socket file is either a live host (refuse: two simulators would split the
  // clients) or left over by one that died (replace it).
  struct stat st;
  if (lstat(socket_path_.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      *error = socket_path_ + " exists and is not a socket";
      return false;
    }
    int probe = socket(AF_UNIX, SOCK_STREAM, 0);
    if (probe >= 0) {
      int rc;
      do {
        rc = connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
      } while (rc != 0 && errno == EINTR);
      int err = errno;
      ::close(probe);
      if (rc == 0) {
        *error = "another fltsim-host is listening on " + socket_path_;
        return false;
      }
      if (err != ECONNREFUSED && err != ENOENT) {
        *error = "cannot probe " + socket_path_ + ": " + strerror(err);
        return false;
      }
    }
    LogWrite(LogLevel::kInfo, "replacing stale socket %s", socket_path_.c_str());
    if (unlink(socket_path_.c_str()) != 0 && errno != ENOENT) {
      *error = "cannot remove stale socket " + socket_path_ + ": " + strerror(errno);
      return false;
    }
  }

  listen_fd_ = socket(AF_UNIX, SOCK_STREAM, 0);
  if (listen_fd_ < 0) {
    *error = std::string("socket: ") + strerror(errno);
    return false;
  }
  SetCloseOnExec(listen_fd_);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    *error = "bind " + socket_path_ + ": " + strerror(errno);
    return false;
  }
  listening_ = true;
  // Every uid may connect; the port's security descriptor decides who is admitted.
  if (chmod(socket_path_.c_str(), 0777) != 0) {
    *error = "chmod " + socket_path_ + ": " + strerror(errno);
    return false;
  }
  if (listen(listen_fd_, 128) != 0 || !SetNonBlocking(listen_fd_)) {
    *error = std::string("listen: ") + strerror(errno);
    return false;
  }
  return true;
}

void UnixSocketTransport::Wake() {
  char b = 1;
  ssize_t ignored = write(wake_write_, &b, 1);  // EAGAIN: a wake-up is already pending
  (void)ignored;
}

void UnixSocketTransport::Stop() {
  stop_.store(true);
  Wake();  // write() is async-signal-safe
}

void UnixSocketTransport::Run() {
  std::vector<pollfd> fds;
  while (!stop_.load()) {
    fds.clear();
    fds.push_back(pollfd{wake_read_, POLLIN, 0});
    fds.push_back(pollfd{listen_fd_, POLLIN, 0});
    for (auto& client : clients_) {
      short events = POLLIN;
      if (client->stream->WantsOutput()) events |= POLLOUT;
      fds.push_back(pollfd{client->stream->fd(), events, 0});
    }
    int rc = poll(fds.data(), fds.size(), -1);
    if (rc < 0) {
      if (errno == EINTR) continue;
      LogWrite(LogLevel::kError, "poll: %s", strerror(errno));
      break;
    }
    if (fds[0].revents & POLLIN) {
      char buf[256];
      while (read(wake_read_, buf, sizeof buf) > 0) {
      }
    }
    if (fds[1].revents & POLLIN) AcceptAll();
    // Clients accepted in this round are not in `fds`; only the first `polled` are.
    const size_t polled = fds.size() - 2;
    for (size_t i = 0; i < polled && i < clients_.size(); ++i) {
      Client& client = *clients_[i];
      const short revents = fds[i + 2].revents;
      if (client.dead) continue;
      if ((revents & POLLOUT) && !client.stream->Flush()) {
        LogWrite(LogLevel::kDebug, "stream %llu: peer went away while we were writing",
                 static_cast<unsigned long long>(client.stream->id()));
        client.dead = true;
        continue;
      }
      if ((revents & (POLLIN | POLLHUP | POLLERR)) && !ReadFrom(client)) client.dead = true;
    }
    // Drops requested from other threads (or by a handler) and dead clients.
    for (auto& client : clients_) {
      std::string reason;
      if (!client->dead && client->stream->TakeDropRequest(&reason)) {
        LogWrite(LogLevel::kWarn, "stream %llu dropped: %s",
                 static_cast<unsigned long long>(client->stream->id()), reason.c_str());
        client->dead = true;
      }
    }
    for (size_t i = 0; i < clients_.size();) {
      if (clients_[i]->dead) {
        CloseClient(*clients_[i]);
        clients_.erase(clients_.begin() + static_cast<ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
  }
  for (auto& client : clients_) CloseClient(*client);
  clients_.clear();
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
  if (listening_) {
    unlink(socket_path_.c_str());
    listening_ = false;
  }
}

void UnixSocketTransport::AcceptAll() {
  while (true) {
    int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        LogWrite(LogLevel::kWarn, "accept: %s", strerror(errno));
      }
      return;
    }
    SetNonBlocking(fd);
    SetCloseOnExec(fd);
#ifdef SO_NOSIGPIPE
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    auto client = std::make_unique<Client>();
    client->stream = std::make_shared<UnixStream>(this, fd, next_stream_id_++, PeerOf(fd));
    client->handler = acceptor_->OnAccept(client->stream);
    if (!client->handler) {
      client->stream->CloseFd();
      continue;
    }
    LogWrite(LogLevel::kTrace, "stream %llu accepted (uid %u)",
             static_cast<unsigned long long>(client->stream->id()), client->stream->peer().uid);
    clients_.push_back(std::move(client));
  }
}

bool UnixSocketTransport::ReadFrom(Client& client) {
  uint8_t buf[kReadChunk];
  // Bounded work per wake-up so one busy stream cannot starve the others.
  for (int round = 0; round < 16; ++round) {
    ssize_t n = ::recv(client.stream->fd(), buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n <= 0) {
      if (client.reader.buffered() > 0) {
        LogWrite(LogLevel::kWarn, "stream %llu closed in the middle of a frame (%zu bytes)",
                 static_cast<unsigned long long>(client.stream->id()), client.reader.buffered());
      }
      return false;  // orderly close or error
    }
    client.reader.Append(buf, static_cast<size_t>(n));
    FLTSIM_FRAME_HEADER header;
    std::vector<uint8_t> body;
    std::string why;
    while (true) {
      FrameReader::Result r = client.reader.Next(&header, &body, &why);
      if (r == FrameReader::Result::kNeedMore) break;
      if (r == FrameReader::Result::kMalformed ||
          !client.handler->OnFrame(header, body.data(), body.size(), &why)) {
        LogWrite(LogLevel::kWarn, "stream %llu dropped: malformed frame: %s",
                 static_cast<unsigned long long>(client.stream->id()), why.c_str());
        return false;
      }
    }
    if (static_cast<size_t>(n) < sizeof buf) return true;
  }
  return true;
}

void UnixSocketTransport::CloseClient(Client& client) {
  client.stream->CloseFd();
  client.handler->OnClosed();
  LogWrite(LogLevel::kTrace, "stream %llu closed", static_cast<unsigned long long>(client.stream->id()));
}

}  // namespace fltport::fltsim
