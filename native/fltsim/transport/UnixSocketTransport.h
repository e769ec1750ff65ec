// AF_UNIX stream-socket transport (Linux, macOS): one listening socket in the runtime
// directory, one accepted socket per user handle, a poll() loop on the I/O thread, peer
// credentials from SO_PEERCRED (Linux) or getpeereid (elsewhere). The socket file is mode
// 0777 so that every uid can reach the simulated port; the port's security descriptor is
// what denies (spec §7.4).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "FrameReader.h"
#include "Transport.h"

namespace fltport::fltsim {

class UnixSocketTransport : public Transport {
 public:
  UnixSocketTransport(std::string socket_path, StreamAcceptor* acceptor);
  ~UnixSocketTransport() override;

  bool Listen(std::string* error) override;
  std::string Address() const override { return socket_path_; }
  void Run() override;
  void Stop() override;

  // Any thread: wakes the poll loop (a stream has output queued or wants to be dropped).
  void Wake();

 private:
  struct Client;
  void AcceptAll();
  // Returns false when the client must be closed.
  bool ReadFrom(Client& client);
  void CloseClient(Client& client);

  const std::string socket_path_;
  StreamAcceptor* acceptor_;
  int listen_fd_ = -1;
  int wake_read_ = -1;
  int wake_write_ = -1;
  std::atomic<bool> stop_{false};
  bool listening_ = false;
  uint64_t next_stream_id_ = 1;
  std::vector<std::unique_ptr<Client>> clients_;  // I/O thread only
};

}  // namespace fltport::fltsim
