// One private I/O completion port drained by one thread: the loop shared by the port backend
// (overlapped FilterGetMessage) and the mailslot backend (overlapped ReadFile).
//
// The thread calls Handler::OnPackets once with no packets when it starts, then once per
// GetQueuedCompletionStatusEx wake-up with every packet dequeued (up to kMaxPackets), so a
// backend turns one wake-up into one MessageBatch. It exits when OnPackets returns false:
// the handler decides that, after it has seen every outstanding I/O complete.
//
// Other threads never touch the handler's state; they queue work and call Wake(), which
// posts at most one wake packet at a time (key kWakeKey, no OVERLAPPED).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>

#include "FltUserCompat.h"
#include "Status.h"
#include "UniqueHandle.h"

namespace fltport::win {

class CompletionLoop {
 public:
  // GetQueuedCompletionStatusEx's batch: 64 entries (1.5 KiB on the stack) is what System
  // Informer and libuv use; more rarely helps since one batch is one JS callback anyway.
  static constexpr ULONG kMaxPackets = 64;
  // Reserved for wake packets; backends use small keys for their handles (and for packets
  // they post themselves).
  static constexpr ULONG_PTR kWakeKey = ~ULONG_PTR(0);

  class Handler {
   public:
    virtual ~Handler() = default;
    // Loop thread. `count` is 0 on the first call (the thread just started) and after a wait
    // that timed out. Wake packets are included (key kWakeKey, lpOverlapped null).
    // `*next_wait_ms` (INFINITE on entry) bounds the next wait, for a handler that also has
    // work which completes no packet. Return false to end the thread; the handler must have
    // seen every I/O it started complete by then.
    virtual bool OnPackets(const OVERLAPPED_ENTRY* entries, ULONG count, DWORD* next_wait_ms) = 0;
    // Loop thread, then the thread ends: GetQueuedCompletionStatusEx failed, which cannot
    // happen while the port is open (the port is closed only after Join). I/O may still be
    // pending: the handler must not free any OVERLAPPED or buffer the kernel may write.
    virtual void OnLoopFailed(const core::Status& status) = 0;
  };

  CompletionLoop() = default;
  CompletionLoop(const CompletionLoop&) = delete;
  CompletionLoop& operator=(const CompletionLoop&) = delete;
  // Owner's thread (never the loop thread): Join(), then the port is closed.
  ~CompletionLoop();

  // Owner's thread, before Start(). NumberOfConcurrentThreads = 1: only our thread waits.
  core::Status Create();
  // Owner's thread, before Start(). The handle must have been opened for overlapped I/O.
  core::Status Associate(HANDLE file, ULONG_PTR key);
  // Owner's thread, once.
  core::Status Start(Handler* handler);

  // Owner's thread, after Create(): the completion port itself, for a handler whose other
  // threads post their own packets (PostQueuedCompletionStatus with a key of the handler's).
  // Valid until ClosePort(): whoever posts must know the loop is still running.
  HANDLE port() const { return port_.get(); }
  // Any thread: have the loop thread call OnPackets soon. Harmless after the thread ended
  // (the packet is never read) and after ClosePort() (nothing is posted).
  void Wake();
  // Any thread but the loop's: wait for the loop thread to end (no-op if never started).
  void Join();
  // Any thread but the loop's, after Join(): close the completion port.
  void ClosePort();

  // Loop thread: the Status of an overlapped request that completed with a failure. The
  // NTSTATUS comes from OVERLAPPED.Internal (spec §1.3, last paragraph); the Win32 error is
  // kernel32's own translation of it (GetOverlappedResult), which also covers statuses
  // missing from core's table.
  static core::Status CompletionStatus(HANDLE file, OVERLAPPED* overlapped, const char* syscall);
  // Any thread: after a call that took `overlapped` failed without ERROR_IO_PENDING, will a
  // completion packet still arrive? The I/O manager queues one for a request the driver
  // completed with an NT warning status (0x8xxxxxxx, e.g. STATUS_BUFFER_OVERFLOW) even though
  // the call reports failure; for errors (0xCxxxxxxx) and for calls rejected before a request
  // existed (Internal still 0 or STATUS_PENDING) it does not. Getting this wrong either
  // frees a buffer the kernel still owns or waits forever.
  static bool PacketQueuedAfterFailure(const OVERLAPPED& overlapped);

  // Any thread.
  bool started() const { return started_; }
  bool OnLoopThread() const;

 private:
  void Run();  // loop thread

  UniqueHandle port_;          // guarded by port_mu_ once Start() ran
  std::mutex port_mu_;         // Wake() vs ClosePort()
  std::atomic<bool> wake_pending_{false};
  Handler* handler_ = nullptr;
  bool started_ = false;
  std::thread thread_;
  std::thread::id thread_id_;  // written before the thread runs, read-only afterwards
};

}  // namespace fltport::win
