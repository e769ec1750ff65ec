#include "PipeTransport.h"

#include <windows.h>

#include <cstring>
#include <deque>
#include <mutex>

#include "Log.h"

namespace fltport::fltsim {
namespace {

// A peer that stops reading may not make the host hold unbounded output for it.
constexpr size_t kMaxQueuedOutput = 2 * FLTSIM_MAX_FRAME;
constexpr DWORD kReadChunk = 64 * 1024;
constexpr DWORD kPipeBuffer = 64 * 1024;
constexpr ULONG_PTR kIoKey = 1;
constexpr ULONG_PTR kWakeKey = 2;
constexpr ULONG_PTR kStopKey = 3;
// How long Run() waits, when stopping, for the I/O it cancelled to come back.
constexpr DWORD kDrainMs = 5000;

class PipeStream : public Stream {
 public:
  PipeStream(PipeTransport* owner, uint64_t id, PeerIdentity peer) : owner_(owner), id_(id), peer_(peer) {}

  void SendFrame(uint16_t type, uint64_t tag, const void* part1, size_t size1, const void* part2,
                 size_t size2) override {
    const size_t total = sizeof(FLTSIM_FRAME_HEADER) + size1 + size2;
    if (total > FLTSIM_MAX_FRAME) {
      LogWrite(LogLevel::kError, "stream %llu: refusing to send a %llu-byte frame (type %u)",
               static_cast<unsigned long long>(id_), static_cast<unsigned long long>(total),
               static_cast<unsigned>(type));
      Drop("host tried to send an oversized frame");
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_ || drop_requested_) return;
      out_.push_back(BuildFrame(type, tag, part1, size1, part2, size2));
      queued_ += total;
      if (queued_ > kMaxQueuedOutput) {
        drop_requested_ = true;
        drop_reason_ = "peer is not reading (output queue over limit)";
      }
    }
    owner_->Wake();
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

  // I/O thread: moves the next frame to write into *out; false when there is none.
  bool TakeOutput(std::vector<uint8_t>* out) {
    std::lock_guard<std::mutex> lock(mu_);
    if (out_.empty() || closed_) return false;
    *out = std::move(out_.front());
    out_.pop_front();
    queued_ -= out->size();
    return true;
  }
  bool TakeDropRequest(std::string* reason) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!drop_requested_) return false;
    *reason = drop_reason_;
    return true;
  }
  void MarkClosed() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    out_.clear();
    queued_ = 0;
  }

 private:
  PipeTransport* const owner_;
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

// One overlapped operation; `overlapped` first so a packet's lpOverlapped leads back here.
struct PipeTransport::Op {
  OVERLAPPED overlapped;
  enum Kind { kAccept, kRead, kWrite } kind;
  Client* client = nullptr;
};

struct PipeTransport::Client {
  HANDLE pipe = INVALID_HANDLE_VALUE;
  std::shared_ptr<PipeStream> stream;
  std::shared_ptr<StreamHandler> handler;
  FrameReader reader;
  Op read_op;
  Op write_op;
  std::vector<uint8_t> read_buffer;
  std::vector<uint8_t> writing;  // the frame (or its rest) WriteFile is sending
  bool read_pending = false;
  bool write_pending = false;
  bool dead = false;
  bool closed_notified = false;
};

PipeTransport::PipeTransport(std::string pipe_name, StreamAcceptor* acceptor, uint32_t peer_uid)
    : pipe_name_(std::move(pipe_name)), acceptor_(acceptor), peer_uid_(peer_uid) {}

PipeTransport::~PipeTransport() {
  // Run() drained and closed everything; this only covers a Listen() without Run().
  if (listen_pipe_ != nullptr && !accept_pending_) CloseHandle(listen_pipe_);
  if (iocp_ != nullptr) CloseHandle(iocp_);
}

bool PipeTransport::Listen(std::string* error) {
  iocp_ = CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
  if (iocp_ == nullptr) {
    *error = "CreateIoCompletionPort failed: " + std::to_string(GetLastError());
    return false;
  }
  accept_op_ = std::make_unique<Op>();
  return CreateInstance(true, error);
}

bool PipeTransport::CreateInstance(bool first, std::string* error) {
  DWORD open_mode = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED;
  if (first) open_mode |= FILE_FLAG_FIRST_PIPE_INSTANCE;
  HANDLE pipe = CreateNamedPipeA(pipe_name_.c_str(), open_mode,
                                 PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS,
                                 PIPE_UNLIMITED_INSTANCES, kPipeBuffer, kPipeBuffer, 0, nullptr);
  if (pipe == INVALID_HANDLE_VALUE) {
    const DWORD e = GetLastError();
    *error = "CreateNamedPipe " + pipe_name_ + " failed: " + std::to_string(e) +
             (first && (e == ERROR_ACCESS_DENIED || e == ERROR_PIPE_BUSY) ? " (another fltsim-host serves it)" : "");
    return false;
  }
  if (CreateIoCompletionPort(pipe, iocp_, kIoKey, 0) == nullptr) {
    *error = "CreateIoCompletionPort(pipe) failed: " + std::to_string(GetLastError());
    CloseHandle(pipe);
    return false;
  }
  listen_pipe_ = pipe;
  return true;
}

void PipeTransport::Wake() {
  if (wake_pending_.exchange(true)) return;
  if (iocp_ == nullptr || !PostQueuedCompletionStatus(iocp_, 0, kWakeKey, nullptr)) wake_pending_.store(false);
}

void PipeTransport::Stop() {
  stop_.store(true);
  if (iocp_ != nullptr) PostQueuedCompletionStatus(iocp_, 0, kStopKey, nullptr);
}

void PipeTransport::StartAccept() {
  while (!stop_.load() && listen_pipe_ != nullptr) {
    std::memset(&accept_op_->overlapped, 0, sizeof(OVERLAPPED));
    accept_op_->kind = Op::kAccept;
    if (ConnectNamedPipe(listen_pipe_, &accept_op_->overlapped)) {
      accept_pending_ = true;  // completed, and a packet is queued all the same
      return;
    }
    const DWORD e = GetLastError();
    if (e == ERROR_IO_PENDING) {
      accept_pending_ = true;
      return;
    }
    // ERROR_PIPE_CONNECTED: a client came between CreateNamedPipe and ConnectNamedPipe; no
    // packet comes for it. Anything else: take what we have and try a fresh instance.
    OnAccepted(e == ERROR_PIPE_CONNECTED, e);
  }
}

void PipeTransport::OnAccepted(bool ok, unsigned long error) {
  HANDLE pipe = listen_pipe_;
  listen_pipe_ = nullptr;
  if (!ok) {
    if (!stop_.load()) LogWrite(LogLevel::kWarn, "ConnectNamedPipe failed: %lu", error);
    CloseHandle(pipe);
  } else {
    auto client = std::make_unique<Client>();
    client->pipe = pipe;
    PeerIdentity peer;
    ULONG pid = 0;
    if (GetNamedPipeClientProcessId(pipe, &pid)) peer.pid = pid;
    peer.uid = peer_uid_;
    peer.gid = peer_uid_;
    peer.has_credentials = true;
    client->stream = std::make_shared<PipeStream>(this, next_stream_id_++, peer);
    client->handler = acceptor_->OnAccept(client->stream);
    client->read_buffer.resize(kReadChunk);
    client->read_op.kind = Op::kRead;
    client->read_op.client = client.get();
    client->write_op.kind = Op::kWrite;
    client->write_op.client = client.get();
    if (!client->handler) {
      client->stream->MarkClosed();
      DisconnectNamedPipe(pipe);
      CloseHandle(pipe);
    } else {
      LogWrite(LogLevel::kTrace, "stream %llu accepted (pid %lu)",
               static_cast<unsigned long long>(client->stream->id()), pid);
      clients_.push_back(std::move(client));
      StartRead(*clients_.back());
    }
  }
  if (stop_.load()) return;
  std::string why;
  if (!CreateInstance(false, &why)) {
    // Existing clients keep working; new ones cannot connect. Retried at the next wake-up.
    LogWrite(LogLevel::kError, "%s", why.c_str());
  }
}

void PipeTransport::StartRead(Client& client) {
  if (client.dead || client.read_pending) return;
  std::memset(&client.read_op.overlapped, 0, sizeof(OVERLAPPED));
  if (ReadFile(client.pipe, client.read_buffer.data(), kReadChunk, nullptr, &client.read_op.overlapped) ||
      GetLastError() == ERROR_IO_PENDING) {
    client.read_pending = true;  // a packet comes either way
    return;
  }
  Kill(client, "ReadFile failed");
}

void PipeTransport::OnRead(Client& client, bool ok, unsigned long bytes) {
  client.read_pending = false;
  if (client.dead) return;
  if (!ok || bytes == 0) {
    if (client.reader.buffered() > 0) {
      LogWrite(LogLevel::kWarn, "stream %llu closed in the middle of a frame (%llu bytes)",
               static_cast<unsigned long long>(client.stream->id()),
               static_cast<unsigned long long>(client.reader.buffered()));
    }
    Kill(client, nullptr);  // the client closed its handle (ERROR_BROKEN_PIPE)
    return;
  }
  client.reader.Append(client.read_buffer.data(), bytes);
  FLTSIM_FRAME_HEADER header;
  std::vector<uint8_t> body;
  std::string why;
  while (true) {
    FrameReader::Result r = client.reader.Next(&header, &body, &why);
    if (r == FrameReader::Result::kNeedMore) break;
    if (r == FrameReader::Result::kMalformed || !client.handler->OnFrame(header, body.data(), body.size(), &why)) {
      LogWrite(LogLevel::kWarn, "stream %llu dropped: malformed frame: %s",
               static_cast<unsigned long long>(client.stream->id()), why.c_str());
      Kill(client, nullptr);
      return;
    }
  }
  StartRead(client);
}

void PipeTransport::StartWrite(Client& client) {
  if (client.dead || client.write_pending) return;
  if (client.writing.empty() && !client.stream->TakeOutput(&client.writing)) return;
  std::memset(&client.write_op.overlapped, 0, sizeof(OVERLAPPED));
  if (WriteFile(client.pipe, client.writing.data(), static_cast<DWORD>(client.writing.size()), nullptr,
                &client.write_op.overlapped) ||
      GetLastError() == ERROR_IO_PENDING) {
    client.write_pending = true;
    return;
  }
  Kill(client, "WriteFile failed");
}

void PipeTransport::OnWritten(Client& client, bool ok, unsigned long bytes) {
  client.write_pending = false;
  if (client.dead) return;
  if (!ok) {
    Kill(client, nullptr);  // the peer went away while we were writing
    return;
  }
  if (bytes >= client.writing.size()) {
    client.writing.clear();
  } else {
    client.writing.erase(client.writing.begin(), client.writing.begin() + bytes);
  }
  StartWrite(client);
}

void PipeTransport::Service() {
  for (auto& client : clients_) {
    if (client->dead) continue;
    std::string reason;
    if (client->stream->TakeDropRequest(&reason)) {
      LogWrite(LogLevel::kWarn, "stream %llu dropped: %s", static_cast<unsigned long long>(client->stream->id()),
               reason.c_str());
      Kill(*client, nullptr);
      continue;
    }
    StartWrite(*client);
  }
  if (listen_pipe_ == nullptr && !stop_.load()) {
    std::string why;
    if (CreateInstance(false, &why)) StartAccept();
  }
}

void PipeTransport::Kill(Client& client, const char* why) {
  if (client.dead) return;
  if (why != nullptr) {
    LogWrite(LogLevel::kWarn, "stream %llu: %s (%lu)", static_cast<unsigned long long>(client.stream->id()), why,
             GetLastError());
  }
  client.dead = true;
  client.stream->MarkClosed();
  // Whatever is in flight completes (cancelled) through the port before the handle closes.
  if (client.read_pending || client.write_pending) CancelIoEx(client.pipe, nullptr);
}

void PipeTransport::Reap() {
  for (size_t i = 0; i < clients_.size();) {
    Client& client = *clients_[i];
    if (client.dead && !client.read_pending && !client.write_pending) {
      if (!client.closed_notified) {
        client.closed_notified = true;
        client.handler->OnClosed();
      }
      DisconnectNamedPipe(client.pipe);
      CloseHandle(client.pipe);
      LogWrite(LogLevel::kTrace, "stream %llu closed", static_cast<unsigned long long>(client.stream->id()));
      clients_.erase(clients_.begin() + static_cast<ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
}

void PipeTransport::Run() {
  StartAccept();
  DWORD drain_started = 0;
  for (;;) {
    if (stop_.load()) {
      // Stopping: cancel everything, then wait (bounded) for the cancelled I/O to return.
      if (drain_started == 0) {
        drain_started = GetTickCount();
        if (listen_pipe_ != nullptr) {
          if (accept_pending_) {
            CancelIoEx(listen_pipe_, nullptr);
          } else {
            CloseHandle(listen_pipe_);
            listen_pipe_ = nullptr;
          }
        }
        for (auto& client : clients_) Kill(*client, nullptr);
      }
      Reap();
      if (clients_.empty() && !accept_pending_) break;
      if (GetTickCount() - drain_started > kDrainMs) {
        LogWrite(LogLevel::kError, "%llu pipe stream(s) did not finish their I/O; leaving them",
                 static_cast<unsigned long long>(clients_.size()));
        break;
      }
    }
    DWORD bytes = 0;
    ULONG_PTR key = 0;
    OVERLAPPED* overlapped = nullptr;
    const BOOL ok = GetQueuedCompletionStatus(iocp_, &bytes, &key, &overlapped, stop_.load() ? 100 : INFINITE);
    const DWORD error = ok ? 0 : GetLastError();
    if (overlapped == nullptr) {
      if (!ok && error != WAIT_TIMEOUT) {
        LogWrite(LogLevel::kError, "GetQueuedCompletionStatus failed: %lu", error);
        break;
      }
      if (key == kWakeKey) wake_pending_.store(false);
      if (!stop_.load()) Service();
      continue;
    }
    Op* op = reinterpret_cast<Op*>(overlapped);
    switch (op->kind) {
      case Op::kAccept:
        accept_pending_ = false;
        if (stop_.load()) {
          CloseHandle(listen_pipe_);
          listen_pipe_ = nullptr;
        } else {
          OnAccepted(ok != FALSE || error == ERROR_PIPE_CONNECTED, error);
          StartAccept();
        }
        break;
      case Op::kRead:
        OnRead(*op->client, ok != FALSE, bytes);
        break;
      case Op::kWrite:
        OnWritten(*op->client, ok != FALSE, bytes);
        break;
    }
    Reap();
  }
  for (auto& client : clients_) {
    if (!client->closed_notified) {
      client->closed_notified = true;
      client->handler->OnClosed();
    }
  }
  // Clients whose I/O never came back keep their handles and buffers: freeing them could
  // let a late completion write into freed memory. The process is about to exit.
  for (auto& client : clients_) (void)client.release();
  clients_.clear();
}

}  // namespace fltport::fltsim
