// The hostile fltsim-host of the POSIX client targets: native/test/posix_test_peer.h's test
// peer on one socket for the whole process, and the few steps every such target takes with it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "FltsimStream.h"
#include "posix_test_peer.h"

namespace fltport::fuzz {

inline test::TestWirePeer& Peer() {
  static test::TestWirePeer* peer = new test::TestWirePeer();  // one socket for the process
  return *peer;
}

// A client stream of `kind` that has said HELLO to the peer (what Connect() or Create() has
// once CONNECT or MS_CREATE succeeded), and the host's end of it in *host.
inline std::unique_ptr<posix::FltsimStream> OpenStream(uint16_t kind,
                                                       std::unique_ptr<test::PeerStream>* host) {
  std::thread accept([&] { *host = Peer().AcceptHello(kind); });
  core::Status s;
  auto stream = posix::FltsimStream::Open(Peer().dir(), kind, 5000, &s);
  accept.join();
  if (!stream || !*host) __builtin_trap();  // the harness itself is broken
  return stream;
}

// Waits until the request a worker thread is making shows up as a frame of `type`, or the
// worker ended without sending one, so that what the input does next meets a registered tag.
inline void AwaitFrame(test::PeerStream* host, uint16_t type, const std::atomic<bool>& ended) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  posix::Frame f;
  while (!ended.load() && std::chrono::steady_clock::now() < give_up) {
    // Short, since most of these end without a frame once the backend is closing; but not
    // 1 ms: PeerStream::Read counts whole milliseconds and would give up before looking.
    if (host->Read(&f, 2) && f.type == type) return;
  }
}

// The host writes `bytes` unless this run already wrote kMaxWritten: a backend that stopped
// reading (a disconnected port waits for Close()) leaves them in the socket, and past its
// buffer the peer's blocking write would hang.
class HostWriter {
 public:
  static constexpr size_t kMaxWritten = 128 * 1024;
  explicit HostWriter(test::PeerStream* host) : host_(host) {}
  void Write(const std::vector<uint8_t>& bytes) {
    if ((written_ += bytes.size()) <= kMaxWritten) host_->Write(bytes);
  }

 private:
  test::PeerStream* host_;
  size_t written_ = 0;
};

}  // namespace fltport::fuzz
