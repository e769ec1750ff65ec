#include "CompletionLoop.h"

#include <string>

namespace fltport::win {

CompletionLoop::~CompletionLoop() {
  Join();
  ClosePort();
}

core::Status CompletionLoop::Create() {
  HANDLE port = ::CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1);
  if (port == nullptr) return core::Status::FromWin32(::GetLastError(), "CreateIoCompletionPort");
  port_.reset(port);
  return core::Status::Ok();
}

core::Status CompletionLoop::Associate(HANDLE file, ULONG_PTR key) {
  if (!port_) return core::Status::Protocol("completion port not created", "CreateIoCompletionPort");
  if (::CreateIoCompletionPort(file, port_.get(), key, 0) == nullptr) {
    return core::Status::FromWin32(::GetLastError(), "CreateIoCompletionPort");
  }
  return core::Status::Ok();
}

core::Status CompletionLoop::Start(Handler* handler) {
  if (started_ || !port_ || handler == nullptr) {
    return core::Status::Protocol("completion loop started twice or without a port");
  }
  handler_ = handler;
  // std::thread reports failure by throwing; builds without exceptions terminate instead,
  // which is what running out of threads deserves.
  thread_ = std::thread([this] { Run(); });
  thread_id_ = thread_.get_id();
  started_ = true;
  return core::Status::Ok();
}

void CompletionLoop::Wake() {
  // Coalescing: one wake packet in flight is enough, because the loop clears the flag
  // before it looks at the shared state, and producers publish their state before calling.
  if (wake_pending_.exchange(true, std::memory_order_acq_rel)) return;
  std::lock_guard<std::mutex> lock(port_mu_);
  if (!port_ || !::PostQueuedCompletionStatus(port_.get(), 0, kWakeKey, nullptr)) {
    // Nothing will clear the flag if the post failed: let the next Wake() try again.
    wake_pending_.store(false, std::memory_order_release);
  }
}

void CompletionLoop::Join() {
  if (thread_.joinable() && !OnLoopThread()) thread_.join();
}

void CompletionLoop::ClosePort() {
  if (thread_.joinable()) return;  // still running (or ClosePort from the loop thread): keep it
  std::lock_guard<std::mutex> lock(port_mu_);
  port_.reset();
}

core::Status CompletionLoop::CompletionStatus(HANDLE file, OVERLAPPED* overlapped,
                                              const char* syscall) {
  const auto ntstatus = static_cast<uint32_t>(overlapped->Internal);
  core::Status status = core::Status::FromCompletion(ntstatus, syscall);
  DWORD bytes = 0;
  if (!status.ok() && !::GetOverlappedResult(file, overlapped, &bytes, FALSE)) {
    const DWORD win32 = ::GetLastError();
    if (win32 != 0 && win32 != ERROR_IO_INCOMPLETE) {
      status.win32 = win32;
      status.hresult = core::HresultFromWin32(win32);
    }
  }
  return status;
}

bool CompletionLoop::PacketQueuedAfterFailure(const OVERLAPPED& overlapped) {
  const auto ntstatus = static_cast<uint32_t>(overlapped.Internal);
  return (ntstatus >> 30) == 2;  // severity STATUS_SEVERITY_WARNING
}

bool CompletionLoop::OnLoopThread() const {
  return started_ && std::this_thread::get_id() == thread_id_;
}

void CompletionLoop::Run() {
  DWORD wait_ms = INFINITE;
  if (!handler_->OnPackets(nullptr, 0, &wait_ms)) return;
  OVERLAPPED_ENTRY entries[kMaxPackets];
  for (;;) {
    ULONG count = 0;
    // Not alertable: nothing in fltport queues APCs to this thread.
    if (!::GetQueuedCompletionStatusEx(port_.get(), entries, kMaxPackets, &count, wait_ms,
                                       FALSE)) {
      const DWORD error = ::GetLastError();
      if (error != WAIT_TIMEOUT || wait_ms == INFINITE) {
        handler_->OnLoopFailed(core::Status::FromWin32(error, "GetQueuedCompletionStatusEx"));
        return;
      }
      count = 0;  // the handler's bounded wait elapsed
    }
    for (ULONG i = 0; i < count; ++i) {
      if (entries[i].lpCompletionKey == kWakeKey) {
        // A read-modify-write, not a store: it reads from the producers' exchange(true), so
        // whatever they published before Wake() is visible to OnPackets below.
        wake_pending_.exchange(false, std::memory_order_acq_rel);
        break;  // coalesced: there is at most one
      }
    }
    wait_ms = INFINITE;
    if (!handler_->OnPackets(entries, count, &wait_ms)) return;
  }
}

}  // namespace fltport::win
