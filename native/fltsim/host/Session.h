// One accepted stream of fltsim-host: waits for HELLO, then hands every frame to the session
// kind the HELLO named (PortSession, MailslotSession, ControlSession). Frames a kind does not
// expect in its current state are malformed and drop the stream (wire.h validation rule).
#pragma once

#include <memory>
#include <string>

#include "../transport/Transport.h"

namespace fltport::fltsim {

class SimKernel;
class WorkerPool;
class EventHub;
class ControlRegistry;

// What every session needs from the host.
struct HostContext {
  SimKernel* kernel = nullptr;
  WorkerPool* pool = nullptr;
  EventHub* events = nullptr;
  ControlRegistry* registry = nullptr;
};

class SessionKind {
 public:
  virtual ~SessionKind() = default;
  // I/O thread; see StreamHandler::OnFrame.
  virtual bool OnFrame(const FLTSIM_FRAME_HEADER& header, const uint8_t* body, size_t size,
                       std::string* why) = 0;
  // I/O thread, once.
  virtual void OnClosed() = 0;
  // I/O thread, once, right after HELLO_RESULT went out (nothing may precede it).
  virtual void OnHelloAnswered() {}
};

class Session : public StreamHandler {
 public:
  Session(HostContext context, std::shared_ptr<Stream> stream);
  bool OnFrame(const FLTSIM_FRAME_HEADER& header, const uint8_t* body, size_t size,
               std::string* why) override;
  void OnClosed() override;

 private:
  HostContext context_;
  std::shared_ptr<Stream> stream_;
  std::shared_ptr<SessionKind> kind_;
  bool hello_answered_ = false;
};

}  // namespace fltport::fltsim

namespace fltport::fltsim {

// Creates a Session for every accepted stream.
class SessionAcceptor : public StreamAcceptor {
 public:
  explicit SessionAcceptor(HostContext context) : context_(context) {}
  std::shared_ptr<StreamHandler> OnAccept(std::shared_ptr<Stream> stream) override {
    return std::make_shared<Session>(context_, std::move(stream));
  }

 private:
  HostContext context_;
};

}  // namespace fltport::fltsim
