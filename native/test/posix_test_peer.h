// TEST-ONLY: a socket peer that speaks wire.h frames from the host's side, so the posix
// backend can be driven frame by frame — including frames no correct fltsim-host would
// send (oversized Length, short bodies, unknown types, wrong tags, bytes split across
// writes). It is not a simulator: it has no Filter Manager semantics at all; each test
// scripts exactly what "the host" says. Tests against the real fltsim-host live in
// posix_fltsim_host_test.cc.
//
// Threads: a peer and its streams are used from the test's thread (and helper threads the
// test starts). RecordingPortEvents (its own header) records what the backend reports.
#pragma once

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "FrameBuilder.h"
#include "FrameReader.h"
#include "MailslotBackend.h"
#include "MessageBatch.h"
#include "PortBackend.h"
#include "RecordingPortEvents.h"
#include "Status.h"
#include "fltsim/wire.h"

namespace fltport::test {

inline Bytes U32Le(uint32_t v) {
  return {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
}
inline Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
inline Bytes U64Le(uint64_t v) { return Cat({U32Le(uint32_t(v)), U32Le(uint32_t(v >> 32))}); }
inline Bytes StatusBody(uint32_t status) { return Cat({U32Le(status), U32Le(0)}); }
inline Bytes CompletionBody(uint32_t status, uint32_t information, const Bytes& data = {}) {
  return Cat({U32Le(status), U32Le(information), data});
}
// What FilterGetMessage writes: FILTER_MESSAGE_HEADER {ReplyLength, pad, MessageId} + payload.
inline Bytes MessageBytes(uint32_t reply_length, uint64_t id, const Bytes& payload) {
  return Cat({U32Le(reply_length), U32Le(0xDDDDDDDD), U64Le(id), payload});
}
inline Bytes RawFrame(uint32_t length, uint16_t type, uint64_t tag, const Bytes& body) {
  return Cat({U32Le(length), {uint8_t(type), uint8_t(type >> 8), 0, 0}, U64Le(tag), body});
}
inline Bytes Frame(uint16_t type, uint64_t tag, const Bytes& body) {
  return RawFrame(uint32_t(16 + body.size()), type, tag, body);
}
inline std::u16string Utf16FromBody(const posix::Frame& f, size_t offset, size_t bytes) {
  std::u16string s;
  for (size_t i = 0; i + 1 < bytes; i += 2) s.push_back(char16_t(f.U16(offset + i)));
  return s;
}

// One accepted client stream.
class PeerStream {
 public:
  explicit PeerStream(int fd) : fd_(fd) {}
  ~PeerStream() { Close(); }

  // The next frame from the client, validated by the same rules the client uses on us.
  bool Read(posix::Frame* out, int timeout_ms = 5000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      bool have = false;
      if (!reader_.Next(out, &have).ok()) return false;
      if (have) return true;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      const int n = poll(&p, 1, int(left));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      uint8_t buf[65536];
      const ssize_t got = recv(fd_, buf, sizeof buf, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        eof_ = true;
        return false;
      }
      reader_.Feed(buf, size_t(got));
    }
  }
  // Reads frames until one of `type` arrives (others are dropped); false on timeout/EOF.
  bool ReadType(uint16_t type, posix::Frame* out, int timeout_ms = 5000) {
    while (Read(out, timeout_ms)) {
      if (out->type == type) return true;
    }
    return false;
  }
  // True when no frame at all arrives within `ms`.
  bool Silent(int ms) {
    posix::Frame f;
    return !Read(&f, ms) && !eof_;
  }
  // True once the client closed its end (after draining whatever it still sent).
  bool WaitEof(int timeout_ms = 5000) {
    posix::Frame f;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!eof_ && std::chrono::steady_clock::now() < deadline) Read(&f, 50);
    return eof_;
  }
  void Write(const Bytes& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      done += size_t(n);
    }
  }
  // The same bytes, `chunk` at a time with a pause between: frames split across reads.
  void WriteSlowly(const Bytes& bytes, size_t chunk, int pause_ms) {
    for (size_t i = 0; i < bytes.size(); i += chunk) {
      Write(Bytes(bytes.begin() + i, bytes.begin() + std::min(bytes.size(), i + chunk)));
      std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
    }
  }
  void Send(uint16_t type, uint64_t tag, const Bytes& body) { Write(Frame(type, tag, body)); }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  bool eof() const { return eof_; }

 private:
  int fd_;
  bool eof_ = false;
  posix::FrameReader reader_;
};

// Listens where a client resolving `dir()` connects.
class TestWirePeer {
 public:
  TestWirePeer() {
    char tmpl[] = "/tmp/fltport-peer-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/" FLTSIM_SOCKET_NAME;
    listen_fd_ = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(listen_fd_, 16);
  }
  ~TestWirePeer() {
    close(listen_fd_);
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  const std::string& dir() const { return dir_; }
  const std::string& path() const { return path_; }

  std::unique_ptr<PeerStream> Accept(int timeout_ms = 5000) {
    pollfd p{listen_fd_, POLLIN, 0};
    while (poll(&p, 1, timeout_ms) < 0 && errno == EINTR) {
    }
    if (!(p.revents & POLLIN)) return nullptr;
    const int fd = accept(listen_fd_, nullptr, nullptr);
    return fd < 0 ? nullptr : std::make_unique<PeerStream>(fd);
  }

  // Accept + HELLO of `kind` answered with `status`; *hello gets the client's HELLO.
  std::unique_ptr<PeerStream> AcceptHello(uint16_t kind, posix::Frame* hello = nullptr,
                                          uint32_t status = 0) {
    auto s = Accept();
    posix::Frame f;
    if (!s || !s->Read(&f) || f.type != FLTSIM_HELLO || f.U16(6) != kind) return nullptr;
    if (hello) *hello = f;
    s->Send(FLTSIM_HELLO_RESULT, f.tag, StatusBody(status));
    return s;
  }

 private:
  std::string dir_, path_;
  int listen_fd_ = -1;
};

}  // namespace fltport::test
