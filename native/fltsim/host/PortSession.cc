#include "PortSession.h"

#include "../engine/SimKernel.h"
#include "../transport/WireCodec.h"
#include "WorkerPool.h"
#include "StatusTable.h"

namespace fltport::fltsim {

PortSession::PortSession(HostContext context, std::shared_ptr<Stream> stream, PeerIdentity peer)
    : context_(context), stream_(std::move(stream)), peer_(peer) {}

std::shared_ptr<Connection> PortSession::Live(std::string* why, const char* what) {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ != State::kConnected) {
    *why = std::string(what) + " before a successful CONNECT";
    return nullptr;
  }
  return conn_;
}

bool PortSession::OnFrame(const FLTSIM_FRAME_HEADER& header, const uint8_t* body, size_t size,
                          std::string* why) {
  PortEngine& ports = context_.kernel->ports();
  switch (header.Type) {
    case FLTSIM_CONNECT:
      return OnConnect(header.Tag, body, size, why);
    case FLTSIM_GET: {
      uint32_t buffer_size;
      if (!ParseGet(body, size, &buffer_size, why)) return false;
      auto conn = Live(why, "GET");
      if (!conn) return false;
      uint32_t status = ports.PostGet(*conn, header.Tag, buffer_size);
      if (status != core::nt::kPending) {
        // Failed at once (overlapped FilterGetMessage's immediate error, spec §3.3).
        auto completion = EncodeCompletionBody(status, 0);
        stream_->SendFrame(FLTSIM_GET_COMPLETE, header.Tag, completion.data(), completion.size());
      }
      return true;
    }
    case FLTSIM_CANCEL: {
      uint64_t target;
      if (!ParseCancel(body, size, &target, why)) return false;
      auto conn = Live(why, "CANCEL");
      if (!conn) return false;
      ports.Cancel(*conn, target, target == FLTSIM_CANCEL_ALL);
      return true;
    }
    case FLTSIM_REPLY: {
      auto conn = Live(why, "REPLY");
      if (!conn) return false;
      // Replies never wait (spec §4.3), so they run right here, in frame order.
      uint32_t status = ports.Reply(*conn, body, size);
      auto result = EncodeStatusBody(status);
      stream_->SendFrame(FLTSIM_REPLY_RESULT, header.Tag, result.data(), result.size());
      return true;
    }
    case FLTSIM_SEND: {
      SendRequest request;
      if (!ParseSend(body, size, &request, why)) return false;
      auto conn = Live(why, "SEND");
      if (!conn) return false;
      std::vector<uint8_t> input(request.input, request.input + request.input_size);
      auto self = shared_from_this();
      const uint64_t tag = header.Tag;
      // MessageNotify runs in "the caller's thread": one pool thread per call, so concurrent
      // sends on one handle run concurrently and a slow driver stalls only its caller.
      context_.pool->Submit([self, conn, tag, request, input = std::move(input)]() {
        UserSendResult r = self->context_.kernel->ports().Send(
            *conn, input.data(), static_cast<uint32_t>(input.size()), request.input_null,
            request.output_capacity, request.output_null);
        auto completion = EncodeCompletionBody(r.status, r.returned);
        self->stream_->SendFrame(FLTSIM_SEND_RESULT, tag, completion.data(), completion.size(),
                                 r.output.data(), r.output.size());
      });
      return true;
    }
    default:
      *why = "frame type " + std::to_string(header.Type) + " is not valid on a port stream";
      return false;
  }
}

bool PortSession::OnConnect(uint64_t tag, const uint8_t* body, size_t size, std::string* why) {
  ConnectRequest request;
  if (!ParseConnect(body, size, &request, why)) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ != State::kIdle) {
      *why = "CONNECT on a stream that is already connected or connecting";
      return false;
    }
    state_ = State::kConnecting;
  }
  auto self = shared_from_this();
  context_.pool->Submit([self, tag, request = std::move(request)]() {
    std::shared_ptr<Connection> conn;
    uint32_t status = self->context_.kernel->ports().Connect(
        request.name, request.context.data(), request.context.size(), self->peer_, self, &conn);
    bool closed;
    {
      std::lock_guard<std::mutex> lock(self->mu_);
      closed = self->closed_;
      if (conn) {
        // Connected before the result goes out: the client may send GET right after reading it.
        self->conn_ = conn;
        self->state_ = State::kConnected;
      } else {
        self->state_ = State::kIdle;  // a failed connect leaves no handle; the stream may retry
      }
    }
    auto result = EncodeStatusBody(status);
    self->stream_->SendFrame(FLTSIM_CONNECT_RESULT, tag, result.data(), result.size());
    if (conn && closed) self->context_.kernel->ports().CloseUser(conn);  // closed meanwhile
  });
  return true;
}

void PortSession::OnClosed() {
  std::shared_ptr<Connection> conn;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    conn = conn_;
  }
  if (!conn) return;  // not connected, or the connect task will close it when it finishes
  auto kernel = context_.kernel;
  // DisconnectNotify may block in driver code: not on the I/O thread.
  context_.pool->Submit([kernel, conn]() { kernel->ports().CloseUser(conn); });
}

void PortSession::OnGetComplete(uint64_t tag, uint32_t status, uint32_t information,
                                std::vector<uint8_t> bytes) {
  auto completion = EncodeCompletionBody(status, information);
  stream_->SendFrame(FLTSIM_GET_COMPLETE, tag, completion.data(), completion.size(), bytes.data(),
                     bytes.size());
}

}  // namespace fltport::fltsim
