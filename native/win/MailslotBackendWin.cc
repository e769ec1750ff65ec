// core::MailslotServer and core::MailslotWrite on Windows (spec §10). Compiled with
// mingw-w64; exercised under Wine 8 by native/test/win_mailslot_test.cc
// (native/win/run-wine-tests.sh) in its sliced mode only (see below); not yet run on Windows.
//
// Two ways to read, chosen once per server by what the handle allows:
// - overlapped (the intended path): the server end is created for asynchronous I/O
//   (NtApi::CreateMailslot) and associated with the CompletionLoop shared with the port
//   backend; the I/O thread issues overlapped ReadFile calls, their packets become
//   ReadOutcomes, Close() cancels them with CancelIoEx and drains them.
// - sliced (fallback): when the OS hands back a synchronous handle anyway — Wine 8 makes every
//   mailslot handle synchronous, and refuses to associate it with a completion port — the
//   I/O thread reads synchronously, one request at a time, with the mailslot's own timeout
//   set to at most kSliceMs per attempt. A read blocked on Wine 8 cannot be cancelled
//   (CancelIoEx and CancelSynchronousIo both leave it blocked), so the slice bounds how long
//   Close() waits, and the caller's timeout is enforced across slices by deadline.
//
// Threads: the caller of Create() opens the mailslot and starts the I/O thread; Read() is
// queued from any thread to the I/O thread, which alone issues reads and turns each
// wake-up into one MessageBatch of ReadOutcomes; Info()/SetReadTimeout() run on the calling
// thread with a borrowed handle; Close() from any thread.
#include <atomic>
#include <chrono>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "CompletionLoop.h"
#include "FltUserCompat.h"
#include "HandoffQueue.h"
#include "MailslotBackend.h"
#include "MessageBatch.h"
#include "NtApi.h"
#include "SessionState.h"
#include "SharedHandle.h"
#include "Status.h"
#include "UniqueHandle.h"
#include "WideString.h"

namespace fltport::win {
namespace {

using core::SessionPhase;
using core::Status;
using Clock = std::chrono::steady_clock;

constexpr ULONG_PTR kReadKey = 1;
// Sliced mode: the longest one synchronous read blocks, hence Close()'s worst-case latency
// there. Short enough to feel immediate, long enough that an idle wait costs ~20 syscalls/s.
constexpr DWORD kSliceMs = 50;

std::string Num(uint64_t n) { return std::to_string(n); }

struct ReadRequest {
  uint64_t token;
  uint32_t max_size;
};

// One overlapped ReadFile in flight: OVERLAPPED first (CONTAINING_RECORD), then the buffer.
// Owned by the kernel from a pending ReadFile until its packet is dequeued.
struct ReadSlot {
  OVERLAPPED overlapped;
  uint64_t token;
  uint32_t size;
  std::unique_ptr<uint8_t[]> buffer;
};

// Sliced mode: a read being served across slices.
struct SlicedRead {
  ReadRequest request;
  std::unique_ptr<uint8_t[]> buffer;  // null until started
  bool forever = false;
  Clock::time_point deadline;
};

// Caller-sized buffers: an allocation failure is an outcome, not a crash. A 0-byte read is
// legal (it fetches a 0-byte message) and still needs a valid pointer.
std::unique_ptr<uint8_t[]> AllocateReadBuffer(uint32_t size) {
  return std::unique_ptr<uint8_t[]>(new (std::nothrow) uint8_t[size ? size : 1]);
}

Status OutOfMemory(uint32_t size) {
  Status oom = Status::FromWin32(ERROR_NOT_ENOUGH_MEMORY, "ReadFile");
  oom.detail = "a " + Num(size) + "-byte read buffer";
  return oom;
}

class MailslotServerWin final : public core::MailslotServer, private CompletionLoop::Handler {
 public:
  explicit MailslotServerWin(core::MailslotEvents* events) : events_(events) {}
  // Any thread but the I/O thread.
  ~MailslotServerWin() override { Close(); }

  // Caller of Create(). On failure nothing runs and `events_` is never called.
  Status Open(const core::MailslotOptions& options);

  void Read(uint64_t token, uint32_t max_size) override;
  Status Info(core::MailslotInfo* info) override;
  Status SetReadTimeout(uint32_t read_timeout_ms) override;
  void Close() override;

 private:
  // CompletionLoop::Handler, I/O thread.
  bool OnPackets(const OVERLAPPED_ENTRY* entries, ULONG count, DWORD* next_wait_ms) override;
  void OnLoopFailed(const Status& status) override;

  // I/O thread, overlapped mode.
  void Issue(const ReadRequest& request);
  void Complete(std::unique_ptr<ReadSlot> slot, DWORD bytes);
  // I/O thread, sliced mode: serve queued reads; true while some remain.
  bool RunSlices();
  // I/O thread.
  void Fail(uint64_t token, Status status);
  void AppendFailure(uint64_t token, Status status);
  uint32_t NextMessageSize();
  core::MessageBatch* BatchWithRoom(size_t bytes);
  void Flush();

  core::MailslotEvents* const events_;
  core::SessionState state_;
  CompletionLoop loop_;
  SharedHandle mailslot_;         // Info()/SetReadTimeout() borrow it; Close() drops it
  HANDLE io_mailslot_ = nullptr;  // the I/O thread's view; it ends before Close() drops it
  HandoffQueue<ReadRequest> reads_;
  bool sliced_ = false;  // set by Open() before the I/O thread starts
  // Sliced mode: the caller's read timeout. The kernel's is the I/O thread's current slice.
  std::atomic<uint32_t> sliced_timeout_ms_{0};

  // I/O thread only.
  std::unique_ptr<core::MessageBatch> batch_;
  uint32_t pending_ = 0;  // overlapped ReadFile calls whose packet has not been dequeued
  bool stopping_ = false;
  std::deque<SlicedRead> sliced_reads_;
  DWORD kernel_timeout_ms_ = 0;  // sliced mode: what the mailslot's timeout is set to now

  std::mutex close_mu_;  // serializes Close() callers: a second one waits for the first
};

Status MailslotServerWin::Open(const core::MailslotOptions& options) {
  if (options.name.empty() || HasEmbeddedNul(options.name)) {
    state_.TryTransition(SessionPhase::kClosed);
    return Status::Argument("mailslot name is empty or contains a NUL character",
                            "NtCreateMailslotFile");
  }
  HANDLE raw = INVALID_HANDLE_VALUE;
  Status status;
  const NtApi& nt = NtApi::Get();
  if (nt.has_mailslot_create()) {
    status = nt.CreateMailslot(options.name, options.max_message_size, &raw);  // 183: name taken
  } else {
    // No ntdll export (not seen anywhere, but cheap to survive): the documented call, whose
    // handle then decides the mode below.
    raw = ::CreateMailslotW(AsWide(options.name), options.max_message_size, 0, nullptr);
    if (raw == INVALID_HANDLE_VALUE) status = Status::FromWin32(::GetLastError(), "CreateMailslotW");
  }
  UniqueHandle handle(raw);
  if (status.ok()) status = loop_.Create();
  if (status.ok()) {
    const Status associated = loop_.Associate(handle.get(), kReadKey);
    if (associated.win32 == ERROR_INVALID_PARAMETER) {
      sliced_ = true;  // a synchronous handle: see the top of the file
    } else {
      status = associated;
    }
  }
  if (status.ok()) {
    if (sliced_) {
      sliced_timeout_ms_.store(options.read_timeout_ms, std::memory_order_relaxed);
    } else if (!::SetMailslotInfo(handle.get(), options.read_timeout_ms)) {
      // kernel32 converts milliseconds (and MAILSLOT_WAIT_FOREVER) to the NT form itself.
      status = Status::FromWin32(::GetLastError(), "SetMailslotInfo");
    }
  }
  if (!status.ok()) {
    state_.TryTransition(SessionPhase::kClosed);
    return status;
  }
  io_mailslot_ = handle.get();
  mailslot_.Adopt(std::move(handle));
  batch_ = std::make_unique<core::MessageBatch>();
  state_.TryTransition(SessionPhase::kOpen);
  status = loop_.Start(this);
  if (!status.ok()) {
    state_.TryTransition(SessionPhase::kClosing);
    state_.TryTransition(SessionPhase::kClosed);
    mailslot_.Reset();
  }
  return status;
}

void MailslotServerWin::Read(uint64_t token, uint32_t max_size) {
  // Issued by the I/O thread, like every other read on the handle: Close() then cancels
  // exactly what was issued. After the last batch the request is refused (no callback is
  // left to carry its outcome); the caller settles open tokens when OnStopped arrives.
  if (reads_.Push(ReadRequest{token, max_size})) loop_.Wake();
}

Status MailslotServerWin::Info(core::MailslotInfo* info) {
  if (info == nullptr) return Status::Argument("info is null", "GetMailslotInfo");
  SharedHandle::Lease mailslot = mailslot_.Borrow();
  if (!mailslot) {
    Status closed = Status::FromWin32(ERROR_INVALID_HANDLE, "GetMailslotInfo");
    closed.detail = "the mailslot was closed";
    return closed;
  }
  DWORD max_size = 0, next = 0, count = 0, timeout = 0;
  if (!::GetMailslotInfo(mailslot->get(), &max_size, &next, &count, &timeout)) {
    return Status::FromWin32(::GetLastError(), "GetMailslotInfo");
  }
  if (sliced_) timeout = sliced_timeout_ms_.load(std::memory_order_relaxed);  // not the slice
  *info = core::MailslotInfo{max_size, next, count, timeout};
  return Status::Ok();
}

Status MailslotServerWin::SetReadTimeout(uint32_t read_timeout_ms) {
  SharedHandle::Lease mailslot = mailslot_.Borrow();
  if (!mailslot) {
    Status closed = Status::FromWin32(ERROR_INVALID_HANDLE, "SetMailslotInfo");
    closed.detail = "the mailslot was closed";
    return closed;
  }
  // Applies to reads started from now on, as the mailslot's own timeout does.
  if (sliced_) {
    sliced_timeout_ms_.store(read_timeout_ms, std::memory_order_relaxed);
    return Status::Ok();
  }
  if (!::SetMailslotInfo(mailslot->get(), read_timeout_ms)) {
    return Status::FromWin32(::GetLastError(), "SetMailslotInfo");
  }
  return Status::Ok();
}

void MailslotServerWin::Close() {
  if (loop_.OnLoopThread()) {  // from inside OnBatch/OnStopped: cannot join ourselves
    if (state_.TryTransition(SessionPhase::kClosing)) loop_.Wake();
    return;
  }
  std::lock_guard<std::mutex> lock(close_mu_);
  if (state_.is_closed()) return;
  state_.TryTransition(SessionPhase::kClosing);
  // The I/O thread cancels every pending read, reports queued ones as aborted, waits for
  // every packet, delivers the last batch and OnStopped, and ends; then the handles go.
  loop_.Wake();
  loop_.Join();
  mailslot_.Reset();  // CloseHandle now, or when the last Info()/SetReadTimeout() returns
  loop_.ClosePort();
  io_mailslot_ = nullptr;
  state_.TryTransition(SessionPhase::kClosed);
}

bool MailslotServerWin::OnPackets(const OVERLAPPED_ENTRY* entries, ULONG count,
                                  DWORD* next_wait_ms) {
  for (ULONG i = 0; i < count; ++i) {
    const OVERLAPPED_ENTRY& entry = entries[i];
    if (entry.lpCompletionKey != kReadKey || entry.lpOverlapped == nullptr) continue;
    // Only this thread issues I/O on the mailslot handle, and only with ReadSlots.
    std::unique_ptr<ReadSlot> slot(CONTAINING_RECORD(entry.lpOverlapped, ReadSlot, overlapped));
    --pending_;
    Complete(std::move(slot), entry.dwNumberOfBytesTransferred);
  }
  if (!stopping_ && state_.phase() == SessionPhase::kClosing) {
    stopping_ = true;
    // Pending reads end with STATUS_CANCELLED -> ERROR_OPERATION_ABORTED. Nothing is issued
    // after this point, so nothing escapes the cancel.
    if (pending_ > 0) ::CancelIoEx(io_mailslot_, nullptr);
  }
  const bool finished = stopping_ && pending_ == 0;
  for (const ReadRequest& request : finished ? reads_.CloseAndTakeAll() : reads_.TakeAll()) {
    if (stopping_) {
      Fail(request.token, Status::FromWin32(ERROR_OPERATION_ABORTED, "ReadFile"));
    } else if (sliced_) {
      sliced_reads_.push_back(SlicedRead{request, nullptr, false, {}});
    } else {
      Issue(request);
    }
  }
  if (stopping_) {
    // Sliced reads never outlive a call: those not yet served end as Close() would end them.
    for (SlicedRead& read : sliced_reads_) {
      Fail(read.request.token, Status::FromWin32(ERROR_OPERATION_ABORTED, "ReadFile"));
    }
    sliced_reads_.clear();
  } else if (sliced_ && RunSlices()) {
    *next_wait_ms = 0;  // come back at once (after taking any wake packet) for the next slice
  }
  Flush();
  if (!finished) return true;
  events_->OnStopped(Status::Ok());
  return false;
}

void MailslotServerWin::Issue(const ReadRequest& request) {
  auto slot = std::make_unique<ReadSlot>();
  std::memset(&slot->overlapped, 0, sizeof(slot->overlapped));
  slot->token = request.token;
  slot->size = request.max_size;
  slot->buffer = AllocateReadBuffer(request.max_size);
  if (!slot->buffer) {
    Fail(request.token, OutOfMemory(request.max_size));
    return;
  }
  const BOOL done =
      ::ReadFile(io_mailslot_, slot->buffer.get(), slot->size, nullptr, &slot->overlapped);
  const DWORD win32 = done ? ERROR_SUCCESS : ::GetLastError();
  if (done || win32 == ERROR_IO_PENDING ||
      CompletionLoop::PacketQueuedAfterFailure(slot->overlapped)) {
    // Done at once or later: either way its packet arrives (no skip-on-success mode), and
    // the outcome is built there.
    ++pending_;
    (void)slot.release();
    return;
  }
  // Failed at once, no packet: ERROR_SEM_TIMEOUT with a 0 timeout and an empty mailslot
  // (G23), ERROR_INSUFFICIENT_BUFFER with the message kept (G24)...
  AppendFailure(request.token, Status::FromWin32(win32, "ReadFile"));
}

void MailslotServerWin::Complete(std::unique_ptr<ReadSlot> slot, DWORD bytes) {
  const auto ntstatus = static_cast<uint32_t>(slot->overlapped.Internal);
  if (ntstatus != core::nt::kSuccess) {
    AppendFailure(slot->token,
                  CompletionLoop::CompletionStatus(io_mailslot_, &slot->overlapped, "ReadFile"));
    return;
  }
  if (bytes > slot->size) {
    Fail(slot->token, Status::Protocol("ReadFile completed with " + Num(bytes) + " bytes in a " +
                                           Num(slot->size) + "-byte buffer",
                                       "ReadFile"));
    return;
  }
  BatchWithRoom(bytes)->AppendRead(slot->token, Status::Ok(), slot->buffer.get(), bytes);
}

bool MailslotServerWin::RunSlices() {
  // The first attempt of a call may block for a slice; once one read has completed, the
  // next ones only take what is already there (timeout 0), so completed outcomes are not
  // held back behind a wait.
  bool may_block = true;
  while (!sliced_reads_.empty()) {
    SlicedRead& read = sliced_reads_.front();
    const uint64_t token = read.request.token;
    if (!read.buffer) {
      // Started now: the timeout in force now applies, as it would to a new ReadFile.
      read.buffer = AllocateReadBuffer(read.request.max_size);
      if (!read.buffer) {
        sliced_reads_.pop_front();
        Fail(token, OutOfMemory(read.request.max_size));
        continue;
      }
      const uint32_t timeout = sliced_timeout_ms_.load(std::memory_order_relaxed);
      read.forever = timeout == core::kMailslotWaitForever;
      read.deadline = Clock::now() + std::chrono::milliseconds(read.forever ? 0 : timeout);
    }
    DWORD slice = 0;
    if (may_block) {
      if (read.forever) {
        slice = kSliceMs;
      } else {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              read.deadline - Clock::now())
                              .count();
        slice = left <= 0 ? 0 : static_cast<DWORD>(left < kSliceMs ? left : kSliceMs);
      }
    }
    if (slice != kernel_timeout_ms_) {
      if (!::SetMailslotInfo(io_mailslot_, slice)) {
        sliced_reads_.pop_front();
        Fail(token, Status::FromWin32(::GetLastError(), "SetMailslotInfo"));
        continue;
      }
      kernel_timeout_ms_ = slice;
    }
    DWORD bytes = 0;
    if (::ReadFile(io_mailslot_, read.buffer.get(), read.request.max_size, &bytes, nullptr)) {
      std::unique_ptr<uint8_t[]> buffer = std::move(read.buffer);
      const uint32_t size = read.request.max_size;
      sliced_reads_.pop_front();
      if (bytes > size) {
        Fail(token, Status::Protocol("ReadFile returned " + Num(bytes) + " bytes for a " +
                                         Num(size) + "-byte buffer",
                                     "ReadFile"));
      } else {
        BatchWithRoom(bytes)->AppendRead(token, Status::Ok(), buffer.get(), bytes);
      }
      may_block = false;
      continue;
    }
    const DWORD win32 = ::GetLastError();
    if (win32 == ERROR_SEM_TIMEOUT && (read.forever || Clock::now() < read.deadline)) {
      return true;  // still within the caller's timeout: next slice on the next call
    }
    sliced_reads_.pop_front();
    AppendFailure(token, Status::FromWin32(win32, "ReadFile"));
    may_block = false;
  }
  return false;
}

void MailslotServerWin::Fail(uint64_t token, Status status) {
  BatchWithRoom(0)->AppendRead(token, std::move(status), nullptr, 0);
}

void MailslotServerWin::AppendFailure(uint64_t token, Status status) {
  const uint32_t required = status.win32 == ERROR_INSUFFICIENT_BUFFER ? NextMessageSize() : 0;
  BatchWithRoom(0)->AppendRead(token, std::move(status), nullptr, 0, required);
}

uint32_t MailslotServerWin::NextMessageSize() {
  // The size of the message that did not fit, as GetMailslotInfo sees it now: the message
  // stays queued (Wine's server, and Windows as far as known), but another read issued in
  // the meantime may have taken it, so this is the best available answer, not a promise.
  DWORD next = MAILSLOT_NO_MESSAGE;
  if (!::GetMailslotInfo(io_mailslot_, nullptr, &next, nullptr, nullptr)) return 0;
  return next == MAILSLOT_NO_MESSAGE ? 0 : next;
}

core::MessageBatch* MailslotServerWin::BatchWithRoom(size_t bytes) {
  if (!batch_->FitsPayload(bytes)) Flush();
  return batch_.get();
}

void MailslotServerWin::Flush() {
  if (batch_->empty()) return;
  events_->OnBatch(std::move(batch_));
  batch_ = std::make_unique<core::MessageBatch>();
}

void MailslotServerWin::OnLoopFailed(const Status& status) {
  // Pending overlapped reads can no longer be collected: their ReadSlots stay allocated (they
  // were released to the kernel) because the kernel may still write them.
  stopping_ = true;
  for (const ReadRequest& request : reads_.CloseAndTakeAll()) {
    Fail(request.token, Status::FromWin32(ERROR_OPERATION_ABORTED, "ReadFile"));
  }
  for (SlicedRead& read : sliced_reads_) {
    Fail(read.request.token, Status::FromWin32(ERROR_OPERATION_ABORTED, "ReadFile"));
  }
  sliced_reads_.clear();
  Flush();
  events_->OnStopped(status);
}

}  // namespace
}  // namespace fltport::win

namespace fltport::core {

std::unique_ptr<MailslotServer> MailslotServer::Create(const MailslotOptions& options,
                                                       MailslotEvents* events, Status* status) {
  if (events == nullptr) {
    if (status) *status = Status::Argument("events is null", "NtCreateMailslotFile");
    return nullptr;
  }
  auto server = std::make_unique<win::MailslotServerWin>(events);
  Status opened = server->Open(options);
  if (status) *status = opened;
  if (!opened.ok()) return nullptr;
  return server;
}

Status MailslotWrite(const std::u16string& name, const uint8_t* data, uint32_t length,
                     const std::string& /*sim_runtime_dir: POSIX only*/) {
  if (name.empty() || win::HasEmbeddedNul(name)) {
    return Status::Argument("mailslot name is empty or contains a NUL character", "CreateFileW");
  }
  if (data == nullptr && length != 0) {
    return Status::Argument("data is null but its length is " + win::Num(length), "WriteFile");
  }
  // FILE_SHARE_READ is required by the docs; FILE_SHARE_WRITE lets several writers coexist
  // (spec §10.3). Opened, written and closed per message: a write never waits for a reader.
  win::UniqueHandle client(::CreateFileW(win::AsWide(name), GENERIC_WRITE,
                                         FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                                         OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr));
  if (!client) return Status::FromWin32(::GetLastError(), "CreateFileW");  // 2: no such mailslot
  DWORD written = 0;
  // A 0-byte write is legal and makes a 0-byte message; the pointer must still be valid.
  static const uint8_t kNothing = 0;
  if (!::WriteFile(client.get(), length ? data : &kNothing, length, &written, nullptr)) {
    return Status::FromWin32(::GetLastError(), "WriteFile");
  }
  if (written != length) {
    return Status::Protocol("wrote " + win::Num(written) + " of " + win::Num(length) + " bytes",
                            "WriteFile");
  }
  return Status::Ok();
}

}  // namespace fltport::core
