// The "current process" of kernel code (PsGetCurrentProcess). Windows runs ConnectNotify,
// MessageNotify and a user-initiated DisconnectNotify in the user's thread, so drivers read
// the caller's process there (spec §2.2, §5.2). fltsim runs them on host threads and sets a
// thread-local pid for their duration: the pid the client sent in HELLO. Elsewhere (driver
// worker threads, unload) it is the System process, pid 4.
#pragma once

#include <cstdint>

namespace fltport::fltsim {

constexpr uint32_t kSystemProcessId = 4;

// Any thread: the pid kernel code on this thread runs "in".
uint32_t CurrentProcessId();

// RAII: kernel code called inside the scope runs in process `pid`. Nests.
class CurrentProcessScope {
 public:
  explicit CurrentProcessScope(uint32_t pid);
  ~CurrentProcessScope();
  CurrentProcessScope(const CurrentProcessScope&) = delete;
  CurrentProcessScope& operator=(const CurrentProcessScope&) = delete;

 private:
  uint32_t saved_;
};

// The PEPROCESS handle value for `pid` (one per pid, kept for the life of the host).
uintptr_t ProcessHandleFor(uint32_t pid);
// The pid behind a PEPROCESS handle; false if it is not one.
bool ProcessIdFromHandle(uintptr_t handle, uint32_t* pid);

}  // namespace fltport::fltsim
