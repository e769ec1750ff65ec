// One simulated kernel: the options, the port engine (Filter Manager ports) and the mailslot
// engine (\Device\Mailslot), plus where events go. fltsim-host owns one; unit tests create a
// fresh one per test. Kernel objects reach their SimKernel through the Filter they belong to,
// so several kernels can live in one process (tests), sharing only the handle table.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "EventSink.h"
#include "SimOptions.h"

namespace fltport::fltsim {

class PortEngine;
class MailslotEngine;
struct Filter;

class SimKernel {
 public:
  // `host_uid` stands for SYSTEM/Administrators in default descriptors (with uid 0).
  explicit SimKernel(const SimOptions& options, uint32_t host_uid);
  ~SimKernel();
  SimKernel(const SimKernel&) = delete;
  SimKernel& operator=(const SimKernel&) = delete;

  SharedSimOptions& options() { return options_; }
  PortEngine& ports() { return *ports_; }
  MailslotEngine& mailslots() { return *mailslots_; }
  uint32_t host_uid() const { return host_uid_; }

  // Set before any other thread uses the kernel; nullptr drops events.
  void SetEventSink(EventSink* sink) { sink_.store(sink); }
  bool EventWanted(EventCategory category) const {
    EventSink* sink = sink_.load();
    return sink != nullptr && sink->Wants(category);
  }
  void EmitEvent(EventCategory category, const std::string& line) {
    EventSink* sink = sink_.load();
    if (sink != nullptr && sink->Wants(category)) sink->Emit(category, line);
  }

  // The Filter behind a PFLT_FILTER handle value, or nullptr.
  static std::shared_ptr<Filter> FilterFromHandle(uintptr_t handle);

  // The kernel FltsimEmitEvent reports to: the most recently constructed one still alive
  // (the host has exactly one; tests create one at a time).
  static SimKernel* Current();

  // Host shutdown: unloads every filter (DisconnectNotify for every connection, blocked
  // senders released) and closes every mailslot (blocked readers released). Idempotent.
  void Shutdown();

 private:
  SharedSimOptions options_;
  uint32_t host_uid_;
  std::atomic<EventSink*> sink_{nullptr};
  std::unique_ptr<PortEngine> ports_;
  std::unique_ptr<MailslotEngine> mailslots_;
};

}  // namespace fltport::fltsim
