#include "MailslotSession.h"

#include "../engine/SimKernel.h"
#include "StatusTable.h"
#include "../transport/FrameReader.h"
#include "../transport/WireCodec.h"

namespace fltport::fltsim {

namespace nt = core::nt;

MailslotSession::MailslotSession(HostContext context, std::shared_ptr<Stream> stream,
                                 PeerIdentity peer)
    : context_(context), stream_(std::move(stream)), peer_(peer) {}

bool MailslotSession::OnFrame(const FLTSIM_FRAME_HEADER& header, const uint8_t* body, size_t size,
                              std::string* why) {
  MailslotEngine& mailslots = context_.kernel->mailslots();
  const uint64_t tag = header.Tag;
  auto send_status = [&](uint16_t type, uint32_t status) {
    auto b = EncodeStatusBody(status);
    stream_->SendFrame(type, tag, b.data(), b.size());
  };
  switch (header.Type) {
    case FLTSIM_MS_CREATE:
    case FLTSIM_MS_OPEN: {
      if (role_ != Role::kNone) {
        *why = "MS_CREATE/MS_OPEN on a stream that already has a mailslot handle";
        return false;
      }
      uint32_t status;
      if (header.Type == FLTSIM_MS_CREATE) {
        MailslotCreateRequest request;
        if (!ParseMailslotCreate(body, size, &request, why)) return false;
        status = mailslots.Create(request.name, request.max_message_size, request.quota,
                                  request.read_timeout, false, &slot_);
        if (status == nt::kSuccess) role_ = Role::kServer;
      } else {
        std::u16string name;
        if (!ParseMailslotOpen(body, size, &name, why)) return false;
        status = mailslots.Open(name, &slot_);
        if (status == nt::kSuccess) role_ = Role::kWriter;
      }
      send_status(FLTSIM_MS_OPEN_RESULT, status);
      return true;
    }
    case FLTSIM_MS_READ: {
      uint32_t buffer_size;
      if (!ParseGet(body, size, &buffer_size, why)) return false;
      if (role_ == Role::kNone) {
        *why = "MS_READ before MS_CREATE";
        return false;
      }
      if (role_ == Role::kWriter) {
        // Client handles are write-only (spec §10.1); ReactOS msfs answers ACCESS_DENIED.
        auto c = EncodeCompletionBody(nt::kAccessDenied, 0);
        stream_->SendFrame(FLTSIM_MS_READ_COMPLETE, tag, c.data(), c.size());
        return true;
      }
      mailslots.PostRead(*slot_, tag, buffer_size, shared_from_this());
      return true;
    }
    case FLTSIM_MS_WRITE: {
      if (role_ == Role::kNone) {
        *why = "MS_WRITE before MS_OPEN";
        return false;
      }
      uint32_t status = role_ == Role::kServer
                            ? nt::kAccessDenied  // the server handle cannot write (spec §10.3)
                            : mailslots.Write(*slot_, body, static_cast<uint32_t>(size));
      auto c = EncodeCompletionBody(status, status == nt::kSuccess ? static_cast<uint32_t>(size) : 0);
      stream_->SendFrame(FLTSIM_MS_WRITE_RESULT, tag, c.data(), c.size());
      return true;
    }
    case FLTSIM_MS_QUERY: {
      if (size != 0) {
        *why = "MS_QUERY body is " + std::to_string(size) + " bytes, expected 0";
        return false;
      }
      if (role_ == Role::kNone) {
        *why = "MS_QUERY before MS_CREATE";
        return false;
      }
      uint8_t out[sizeof(FLTSIM_MS_INFO_BODY)] = {};
      if (role_ == Role::kWriter) {
        WirePut32(out, nt::kAccessDenied);  // GetMailslotInfo needs the server handle
      } else {
        MailslotInfo info = mailslots.Query(*slot_);
        WirePut32(out, nt::kSuccess);
        WirePut32(out + 4, info.max_message_size);
        WirePut32(out + 8, info.quota);
        WirePut32(out + 12, info.next_size);
        WirePut32(out + 16, info.count);
        WirePut64(out + 24, static_cast<uint64_t>(info.read_timeout));
      }
      stream_->SendFrame(FLTSIM_MS_QUERY_RESULT, tag, out, sizeof out);
      return true;
    }
    case FLTSIM_MS_SET: {
      int64_t timeout;
      if (!ParseMailslotSet(body, size, &timeout, why)) return false;
      if (role_ == Role::kNone) {
        *why = "MS_SET before MS_CREATE";
        return false;
      }
      if (role_ == Role::kWriter) {
        send_status(FLTSIM_MS_SET_RESULT, nt::kAccessDenied);
        return true;
      }
      mailslots.SetReadTimeout(*slot_, timeout);
      send_status(FLTSIM_MS_SET_RESULT, nt::kSuccess);
      return true;
    }
    case FLTSIM_CANCEL: {
      uint64_t target;
      if (!ParseCancel(body, size, &target, why)) return false;
      if (role_ == Role::kServer) mailslots.Cancel(*slot_, target, target == FLTSIM_CANCEL_ALL);
      return true;
    }
    default:
      *why = "frame type " + std::to_string(header.Type) + " is not valid on a mailslot stream";
      return false;
  }
}

void MailslotSession::OnClosed() {
  if (role_ == Role::kServer) context_.kernel->mailslots().CloseServer(*slot_);
  slot_.reset();
}

void MailslotSession::OnReadComplete(uint64_t tag, uint32_t status, uint32_t information,
                                     std::vector<uint8_t> bytes) {
  auto c = EncodeCompletionBody(status, information);
  stream_->SendFrame(FLTSIM_MS_READ_COMPLETE, tag, c.data(), c.size(), bytes.data(), bytes.size());
}

}  // namespace fltport::fltsim
