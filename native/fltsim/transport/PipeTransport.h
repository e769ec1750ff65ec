// Win32 named-pipe transport for the Windows build of fltsim-host (the Wine lane): the same
// wire.h frames as UnixSocketTransport, over byte-mode pipe instances of one name
// (\\.\pipe\fltsim-<instance>), one instance per user handle. A Linux process cannot open
// Wine's pipes, so its clients are Windows programs in the same Wine prefix: the lane's test
// processes use it for the control channel (docs/fltsim.md), and any stream kind works.
//
// Threads: Run() is the I/O thread: it owns every pipe handle, issues every overlapped
// ConnectNamedPipe/ReadFile/WriteFile, and makes every StreamHandler call. Other threads
// queue output with SendFrame and wake it through the completion port.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "FrameReader.h"
#include "Transport.h"

namespace fltport::fltsim {

class PipeTransport : public Transport {
 public:
  // `pipe_name`: \\.\pipe\... (ANSI). `peer_uid`: what every client is reported as (under
  // Wine every process runs as the one Windows administrator).
  PipeTransport(std::string pipe_name, StreamAcceptor* acceptor, uint32_t peer_uid);
  ~PipeTransport() override;

  // Main thread. Creates the completion port and the first pipe instance with
  // FILE_FLAG_FIRST_PIPE_INSTANCE, which fails when another host owns the name.
  bool Listen(std::string* error) override;
  std::string Address() const override { return pipe_name_; }
  void Run() override;
  void Stop() override;  // any thread (a console control handler runs on its own thread)

  // Any thread: have the I/O thread look at queued output and drop requests.
  void Wake();

  struct Op;
  struct Client;

 private:
  bool CreateInstance(bool first, std::string* error);  // I/O thread (and Listen)
  void StartAccept();
  void OnAccepted(bool ok, unsigned long error);
  void StartRead(Client& client);
  void OnRead(Client& client, bool ok, unsigned long bytes);
  void StartWrite(Client& client);
  void OnWritten(Client& client, bool ok, unsigned long bytes);
  void Service();  // output and drop requests of every client
  void Kill(Client& client, const char* why);
  void Reap();     // frees dead clients with no I/O in flight

  const std::string pipe_name_;
  StreamAcceptor* const acceptor_;
  const uint32_t peer_uid_;
  void* iocp_ = nullptr;
  void* listen_pipe_ = nullptr;  // the instance waiting in ConnectNamedPipe
  std::unique_ptr<Op> accept_op_;
  bool accept_pending_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<bool> wake_pending_{false};
  uint64_t next_stream_id_ = 1;
  std::vector<std::unique_ptr<Client>> clients_;  // I/O thread only
};

}  // namespace fltport::fltsim
