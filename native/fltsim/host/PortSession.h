// The host side of one user handle on a communication port: FilterConnectCommunicationPort,
// FilterGetMessage, CancelIoEx, FilterReplyMessage, FilterSendMessage and the final
// CloseHandle, turned into PortEngine calls. Blocking work (ConnectNotify, MessageNotify,
// DisconnectNotify) runs on the worker pool so the I/O thread never waits for a driver.
#pragma once

#include <memory>
#include <mutex>

#include "../engine/PortEngine.h"
#include "Session.h"

namespace fltport::fltsim {

class PortSession : public SessionKind,
                    public PortSink,
                    public std::enable_shared_from_this<PortSession> {
 public:
  PortSession(HostContext context, std::shared_ptr<Stream> stream, PeerIdentity peer);

  bool OnFrame(const FLTSIM_FRAME_HEADER& header, const uint8_t* body, size_t size,
               std::string* why) override;  // I/O thread
  void OnClosed() override;                 // I/O thread
  void OnGetComplete(uint64_t tag, uint32_t status, uint32_t information,
                     std::vector<uint8_t> bytes) override;  // any thread

 private:
  enum class State { kIdle, kConnecting, kConnected };
  bool OnConnect(uint64_t tag, const uint8_t* body, size_t size, std::string* why);
  std::shared_ptr<Connection> Live(std::string* why, const char* what);

  const HostContext context_;
  const std::shared_ptr<Stream> stream_;
  const PeerIdentity peer_;
  std::mutex mu_;
  State state_ = State::kIdle;
  bool closed_ = false;
  std::shared_ptr<Connection> conn_;
};

}  // namespace fltport::fltsim
