// The host side of one user mailslot handle: a server end (CreateMailslot: MS_CREATE, then
// MS_READ / MS_QUERY / MS_SET / CANCEL) or a client end (CreateFile: MS_OPEN, then MS_WRITE).
// Nothing here blocks: reads pend in the engine and complete through OnReadComplete.
#pragma once

#include <memory>
#include <mutex>

#include "../engine/MailslotEngine.h"
#include "Session.h"

namespace fltport::fltsim {

class MailslotSession : public SessionKind,
                        public MailslotSink,
                        public std::enable_shared_from_this<MailslotSession> {
 public:
  MailslotSession(HostContext context, std::shared_ptr<Stream> stream, PeerIdentity peer);

  bool OnFrame(const FLTSIM_FRAME_HEADER& header, const uint8_t* body, size_t size,
               std::string* why) override;  // I/O thread
  void OnClosed() override;                 // I/O thread
  void OnReadComplete(uint64_t tag, uint32_t status, uint32_t information,
                      std::vector<uint8_t> bytes) override;  // any thread

 private:
  enum class Role { kNone, kServer, kWriter };

  const HostContext context_;
  const std::shared_ptr<Stream> stream_;
  const PeerIdentity peer_;
  Role role_ = Role::kNone;  // I/O thread only
  std::shared_ptr<Mailslot> slot_;
};

}  // namespace fltport::fltsim
