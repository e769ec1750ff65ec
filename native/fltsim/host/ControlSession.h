// A control stream (FLTSIM_KIND_CONTROL): UTF-8 command lines in, one result line per
// command (same Tag), and asynchronous "event ..." lines (Tag 0) for the categories the
// session watches (all by default; the `watch` verb changes that). Commands run one at a
// time per session, in arrival order, on the worker pool: a verb may block (unload runs
// DisconnectNotify) without stalling the I/O thread or other sessions.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "EventHub.h"
#include "Session.h"

namespace fltport::fltsim {

class ControlSession : public SessionKind,
                       public EventSubscriber,
                       public std::enable_shared_from_this<ControlSession> {
 public:
  static std::shared_ptr<ControlSession> Create(HostContext context, std::shared_ptr<Stream> stream);

  bool OnFrame(const FLTSIM_FRAME_HEADER& header, const uint8_t* body, size_t size,
               std::string* why) override;  // I/O thread
  void OnClosed() override;                 // I/O thread
  void OnHelloAnswered() override;          // I/O thread: starts the event subscription
  unsigned watch_mask() const override { return mask_.load(); }
  void SendEvent(const std::string& line) override;  // any thread

  ControlSession(HostContext context, std::shared_ptr<Stream> stream);

 private:
  void RunQueue();                                 // worker thread
  std::string Execute(const std::string& line);    // worker thread

  const HostContext context_;
  const std::shared_ptr<Stream> stream_;
  std::atomic<unsigned> mask_;
  std::mutex mu_;
  std::deque<std::pair<uint64_t, std::string>> queue_;
  bool running_ = false;
};

}  // namespace fltport::fltsim
