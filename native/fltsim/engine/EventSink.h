// Where the engine reports what happened (callbacks called, connections closed, driver
// events), as control-channel event lines without the leading "event ". The host broadcasts
// them to control sessions; unit tests collect them. Implementations are thread-safe and
// never call back into the engine.
#pragma once

#include <string>

namespace fltport::fltsim {

enum class EventCategory : int {
  kPort = 0,      // connect, connect-refused, disconnect, client-port-closed, port-closed, unload
  kMessage = 1,   // one per MessageNotify call (FilterSendMessage)
  kDriver = 2,    // lines a driver emits with FltsimEmitEvent
  kMailslot = 3,  // mailslot created/closed and kernel reads
};
constexpr int kEventCategoryCount = 4;

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Any thread. Cheap: lets the engine skip formatting nobody reads.
  virtual bool Wants(EventCategory category) const = 0;
  // Any thread; `line` is "name key=value ...".
  virtual void Emit(EventCategory category, const std::string& line) = 0;
};

}  // namespace fltport::fltsim
