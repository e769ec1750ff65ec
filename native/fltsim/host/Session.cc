#include "Session.h"

#include "ControlSession.h"
#include "../engine/Log.h"
#include "MailslotSession.h"
#include "PortSession.h"
#include "StatusTable.h"
#include "../transport/WireCodec.h"

namespace fltport::fltsim {

Session::Session(HostContext context, std::shared_ptr<Stream> stream)
    : context_(context), stream_(std::move(stream)) {}

bool Session::OnFrame(const FLTSIM_FRAME_HEADER& header, const uint8_t* body, size_t size,
                      std::string* why) {
  if (kind_) return kind_->OnFrame(header, body, size, why);
  if (hello_answered_) {
    *why = "frame after a refused HELLO";
    return false;
  }
  if (header.Type != FLTSIM_HELLO) {
    *why = "first frame is type " + std::to_string(header.Type) + ", not HELLO";
    return false;
  }
  HelloRequest hello;
  if (!ParseHello(body, size, &hello, why)) return false;
  hello_answered_ = true;
  if (hello.version != FLTSIM_WIRE_VERSION) {
    LogWrite(LogLevel::kWarn, "stream %llu: wire version %u, host speaks %u",
             static_cast<unsigned long long>(stream_->id()), hello.version, FLTSIM_WIRE_VERSION);
    auto refused = EncodeStatusBody(core::nt::kNotSupported);
    stream_->SendFrame(FLTSIM_HELLO_RESULT, header.Tag, refused.data(), refused.size());
    return true;  // the client reads the refusal; anything it sends next drops the stream
  }
  PeerIdentity peer = stream_->peer();
  peer.pid = hello.process_id;
  switch (hello.kind) {
    case FLTSIM_KIND_PORT:
      kind_ = std::make_shared<PortSession>(context_, stream_, peer);
      break;
    case FLTSIM_KIND_MAILSLOT:
      kind_ = std::make_shared<MailslotSession>(context_, stream_, peer);
      break;
    default:
      kind_ = ControlSession::Create(context_, stream_);
      break;
  }
  auto accepted = EncodeStatusBody(core::nt::kSuccess);
  stream_->SendFrame(FLTSIM_HELLO_RESULT, header.Tag, accepted.data(), accepted.size());
  kind_->OnHelloAnswered();
  return true;
}

void Session::OnClosed() {
  if (kind_) kind_->OnClosed();
}

}  // namespace fltport::fltsim
