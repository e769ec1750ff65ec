// core::PortBackend on Windows: fltlib.dll's communication-port client over one private
// I/O completion port (spec §8.3). Compiled with mingw-w64 and linked against its
// libfltlib.a; not yet run on Windows, and under Wine only as far as Wine's own fltlib.dll
// goes (FilterConnectCommunicationPort returns E_NOTIMPL there). docs/windows-backend.md
// has the thread model and the shutdown order.
//
// Threads:
// - the caller of Connect() opens the handle, creates the completion port and starts the
//   I/O thread;
// - the I/O thread (CompletionLoop) issues every FilterGetMessage and every
//   FilterReplyMessage, turns each wake-up into one MessageBatch, and is the only thread
//   that touches the receive slots, the ReceiveWindow's arming side and the batch;
// - any thread may call Reply() (queued to the I/O thread), Consumed() (JS thread), Close();
// - Send() runs FilterSendMessage on the worker thread that calls it;
// - SendAsync() (any thread) runs it on the Windows thread pool, whose callback posts the
//   finished request to the completion port: the I/O thread folds it into its batch.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "BatchLinger.h"
#include "CompletionLoop.h"
#include "FltUserCompat.h"
#include "HandoffQueue.h"
#include "MessageBatch.h"
#include "PortBackend.h"
#include "ReceiveWindow.h"
#include "SessionState.h"
#include "SharedHandle.h"
#include "Status.h"
#include "UniqueHandle.h"
#include "WideString.h"

namespace fltport::win {
namespace {

using core::SessionPhase;
using core::Status;

constexpr ULONG_PTR kReceiveKey = 1;  // packets of FilterGetMessage on our port handle
constexpr ULONG_PTR kSendKey = 2;     // SendAsync's finished requests, posted by the pool
constexpr char kSendCall[] = "FilterSendMessage";
constexpr uint32_t kHeaderSize = sizeof(FILTER_MESSAGE_HEADER);
constexpr uint32_t kMaxConcurrency = 1024;  // PortOptions' documented range; System Informer's cap
constexpr uint32_t kMaxBufferSize = 1u << 30;  // keeps the 8-byte rounding below free of overflow
constexpr uint32_t kMaxContextSize = 0xFFFF;   // wSizeOfContext is a WORD

uint32_t RoundUp8(uint32_t n) { return (n + 7u) & ~7u; }

std::string Num(uint64_t n) { return std::to_string(n); }

// One outstanding FilterGetMessage: its OVERLAPPED and the buffer the kernel fills, as in
// the scanner sample. The OVERLAPPED comes first so that a completion packet's
// lpOverlapped leads back to the slot (CONTAINING_RECORD). Buffers are 8-aligned:
// FILTER_MESSAGE_HEADER holds a ULONGLONG.
struct ReceiveSlot {
  OVERLAPPED overlapped;
  uint32_t size;                      // bytes in `storage`, header included
  std::unique_ptr<uint64_t[]> storage;

  uint8_t* data() { return reinterpret_cast<uint8_t*>(storage.get()); }
};

// Allocation sized by the caller or the driver: never let it throw (or abort, in builds
// without exceptions) on the I/O thread.
std::unique_ptr<uint64_t[]> AllocateWords(uint32_t bytes) {
  return std::unique_ptr<uint64_t[]>(new (std::nothrow) uint64_t[RoundUp8(bytes) / 8 + 1]);
}

// A Reply() waiting for the I/O thread: FILTER_REPLY_HEADER + payload already laid out.
struct PendingReply {
  uint64_t token = 0;
  uint32_t size = 0;                   // 16 + payload length
  std::unique_ptr<uint64_t[]> buffer;  // 8-aligned (spec §4.3: XP probes replies at 4)
  Status error;                        // set when the reply could not even be built
};

// Send() and SendAsync(): the rule both apply before any I/O.
Status CheckSendBuffers(bool in_null, uint32_t in_len, bool out_null, uint32_t out_cap) {
  if ((in_null && in_len != 0) || (out_null && out_cap != 0)) {
    return Status::Argument("a null buffer with a non-zero length", kSendCall);
  }
  return Status::Ok();
}

// What a send on a closed port, or a reply after the port stopped, returns.
Status PortClosed(const char* call = kSendCall, const char* why = "the port was closed") {
  Status closed = Status::FromWin32(ERROR_INVALID_HANDLE, call);
  closed.detail = why;
  return closed;
}

// Send() and SendAsync(), on the thread that runs the call: FilterSendMessage, which runs the
// driver's MessageNotify in this thread before returning (spec §5.2).
Status CallFilterSendMessage(HANDLE port, const uint8_t* in, uint32_t in_len, uint8_t* out,
                             uint32_t out_cap, uint32_t* bytes_returned) {
  DWORD returned = 0;
  const HRESULT hr = ::FilterSendMessage(port, in_len ? const_cast<uint8_t*>(in) : nullptr,
                                         in_len, out_cap ? out : nullptr, out_cap, &returned);
  // The count is whatever the driver set in *ReturnOutputBufferLength; a driver bug must not
  // make JS read past the output buffer.
  if (returned > out_cap) {
    return Status::Protocol("the driver returned " + Num(returned) + " bytes for a " +
                                Num(out_cap) + "-byte output buffer",
                            kSendCall);
  }
  *bytes_returned = returned;  // also on warnings such as STATUS_BUFFER_OVERFLOW
  return Status::FromHresult(static_cast<uint32_t>(hr), kSendCall);
}

class AsyncSends;

// One SendAsync: copies of the buffers, a lease that keeps hPort open while the driver runs,
// and the outcome. Owned by its pool callback while the call runs, then by the completion
// packet the callback posts (the I/O thread frees it), or freed by the callback itself when
// the session ended first.
struct AsyncSend {
  uint64_t token = 0;
  SharedHandle::Lease port;
  std::unique_ptr<uint64_t[]> in;   // 8-aligned, like the receive buffers; null when empty
  uint32_t in_len = 0;
  std::unique_ptr<uint64_t[]> out;  // null for a NULL (or empty) lpOutBuffer
  uint32_t out_cap = 0;
  std::shared_ptr<AsyncSends> owner;
  Status status;          // written by the pool callback
  uint32_t returned = 0;  // written by the pool callback
  bool finished = false;  // guarded by the owner's mutex: the callback returned

  const uint8_t* out_bytes() const { return reinterpret_cast<const uint8_t*>(out.get()); }
};

// The SendAsync requests of one session not yet folded into a batch. Shared by the backend
// and every request (std::shared_ptr), so that a FilterSendMessage that returns after the
// session ended touches neither the backend nor a closed completion port: nothing waits for a
// driver's MessageNotify, as with Send() (SharedHandle).
class AsyncSends {
 public:
  explicit AsyncSends(HANDLE io_port) : io_port_(io_port) {}

  // Any thread, before the request is submitted: false once Close() ran.
  bool Add(AsyncSend* send) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return false;
    tracked_.insert(send);
    return true;
  }
  // Any thread: the request could not be submitted after all; the caller still owns it.
  void Remove(AsyncSend* send) {
    std::lock_guard<std::mutex> lock(mu_);
    tracked_.erase(send);
  }
  // Pool thread, once FilterSendMessage returned: post the request to the I/O thread, or free
  // it when the session ended while the driver ran.
  void Finish(AsyncSend* send) {
    std::unique_ptr<AsyncSend> late;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) {
        late.reset(send);  // Close() already answered it; freed outside the lock
      } else {
        send->finished = true;
        // A failed post leaves it tracked and finished: Close() folds it, so it is late but
        // never lost.
        ::PostQueuedCompletionStatus(io_port_, 0, kSendKey, reinterpret_cast<OVERLAPPED*>(send));
      }
    }
  }
  // I/O thread: a posted request came out of the completion port.
  std::unique_ptr<AsyncSend> Take(OVERLAPPED* packet) {
    auto* send = reinterpret_cast<AsyncSend*>(packet);
    std::lock_guard<std::mutex> lock(mu_);
    tracked_.erase(send);
    return std::unique_ptr<AsyncSend>(send);
  }
  // I/O thread, as it builds its last batch (or its loop failed): refuse further requests;
  // hand back those finished but never dequeued (their packets will not be read) and the
  // tokens of those still at the driver (their callbacks free them).
  void Close(std::vector<std::unique_ptr<AsyncSend>>* finished, std::vector<uint64_t>* running) {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    for (AsyncSend* send : tracked_) {
      if (send->finished) {
        finished->emplace_back(send);
      } else {
        running->push_back(send->token);
      }
    }
    tracked_.clear();
  }

 private:
  std::mutex mu_;
  // Open until Close(), which the I/O thread runs before it ends; the completion port is
  // closed only after that (PortBackendWin::Close joins first).
  const HANDLE io_port_;
  bool closed_ = false;                       // guarded by mu_
  std::unordered_set<AsyncSend*> tracked_;    // guarded by mu_
};

// Pool thread (TrySubmitThreadpoolCallback).
void CALLBACK RunAsyncSend(PTP_CALLBACK_INSTANCE instance, void* context) {
  auto* send = static_cast<AsyncSend*>(context);
  // A driver may hold the call as long as it likes: let the pool add threads meanwhile.
  ::CallbackMayRunLong(instance);
  uint8_t* out = send->out ? reinterpret_cast<uint8_t*>(send->out.get()) : nullptr;
  send->status = CallFilterSendMessage(send->port->get(), reinterpret_cast<uint8_t*>(send->in.get()),
                                       send->in_len, out, send->out_cap, &send->returned);
  send->port.reset();  // hPort may close now, if Close() dropped the backend's reference
  // Finish may free `send`, and with it a share of the table: keep one while it runs.
  std::shared_ptr<AsyncSends> owner = send->owner;
  owner->Finish(send);
}

class PortBackendWin final : public core::PortBackend, private CompletionLoop::Handler {
 public:
  PortBackendWin(const core::PortOptions& options, core::PortEvents* events)
      : events_(events),
        max_message_size_(options.max_message_size),
        window_(options.concurrency, options.high_water_mark),
        linger_(std::chrono::milliseconds(options.outcome_linger_ms)) {}
  // Any thread but the I/O thread.
  ~PortBackendWin() override { Close(); }

  // Caller of Connect(). On failure nothing runs and `events_` is never called.
  Status Open(const core::PortOptions& options);

  Status Reply(uint64_t token, uint64_t message_id, int32_t status, const uint8_t* payload,
               size_t payload_len) override;
  Status Send(const uint8_t* in, uint32_t in_len, uint8_t* out, uint32_t out_cap,
              uint32_t* bytes_returned) override;
  Status SendAsync(uint64_t token, const uint8_t* in, uint32_t in_len, uint32_t out_cap,
                   bool out_null) override;
  void Consumed(uint32_t count) override;
  void Close() override;

 private:
  // CompletionLoop::Handler, I/O thread.
  bool OnPackets(const OVERLAPPED_ENTRY* entries, ULONG count, DWORD* next_wait_ms) override;
  void OnLoopFailed(const Status& status) override;

  // I/O thread.
  void HandleReceive(ReceiveSlot* slot, DWORD bytes);
  void HandleTooSmall(ReceiveSlot* slot, const Status& status, DWORD required);
  void ArmIdleSlots();
  bool Arm(ReceiveSlot* slot);
  void ExecuteReplies(std::vector<PendingReply> replies);
  void FoldSend(std::unique_ptr<AsyncSend> send);
  void SettleSends();
  void BeginStop(core::StopReason reason, Status status);
  void Fault(uint32_t required_size, Status status);
  core::MessageBatch* BatchWithRoom(size_t bytes);
  void Flush();

  core::PortEvents* const events_;
  const uint32_t max_message_size_;
  core::SessionState state_;
  core::ReceiveWindow window_;  // arming side: I/O thread; Consumed(): JS thread
  CompletionLoop loop_;
  SharedHandle port_;           // Send()'s borrowed handle; Close() drops it
  HANDLE io_port_ = nullptr;    // the same handle for the I/O thread, which ends before Close() drops it
  HandoffQueue<PendingReply> replies_;
  std::shared_ptr<AsyncSends> sends_;  // created with the completion port

  // I/O thread only (and Close(), after the I/O thread ended).
  std::vector<std::unique_ptr<ReceiveSlot>> slots_;
  std::vector<ReceiveSlot*> idle_;
  std::unique_ptr<core::MessageBatch> batch_;
  core::BatchLinger linger_;
  bool stopping_ = false;
  core::StopReason stop_reason_ = core::StopReason::kClosed;
  Status stop_status_;
  uint32_t failures_in_a_row_ = 0;
  bool kernel_may_own_slots_ = false;  // the loop died with receives pending: never free them

  std::mutex close_mu_;  // serializes Close() callers: a second one waits for the first
};

Status PortBackendWin::Open(const core::PortOptions& options) {
  static constexpr char kConnect[] = "FilterConnectCommunicationPort";
  Status status;
  if (options.flags & FLT_PORT_FLAG_SYNC_HANDLE) {
    status = Status::Argument(
        "FLT_PORT_FLAG_SYNC_HANDLE makes a synchronous handle; fltport needs the asynchronous "
        "one for overlapped FilterGetMessage on a completion port (spec §8.2)",
        kConnect);
  } else if (options.name.empty() || HasEmbeddedNul(options.name)) {
    status = Status::Argument("port name is empty or contains a NUL character", kConnect);
  } else if (options.context.size() > kMaxContextSize) {
    status = Status::Argument("context is " + Num(options.context.size()) +
                                  " bytes; wSizeOfContext is a WORD (at most 65535)",
                              kConnect);
  } else if (options.concurrency < 1 || options.concurrency > kMaxConcurrency) {
    status = Status::Argument("concurrency must be 1..1024, got " + Num(options.concurrency));
  } else if (options.initial_buffer_size < kHeaderSize ||
             options.max_message_size < options.initial_buffer_size ||
             options.max_message_size > kMaxBufferSize) {
    status = Status::Argument("need 16 <= initialBufferSize <= maxMessageSize <= 2^30, got " +
                              Num(options.initial_buffer_size) + " and " +
                              Num(options.max_message_size));
  }
  if (!status.ok()) {
    state_.TryTransition(SessionPhase::kClosed);
    return status;
  }

  // dwOptions 0: the asynchronous handle. lpSecurityAttributes NULL: not inheritable, so a
  // child process cannot keep the connection (and a MaxConnections slot) alive (G13).
  HANDLE raw = INVALID_HANDLE_VALUE;
  const HRESULT hr = ::FilterConnectCommunicationPort(
      AsWide(options.name), options.flags,
      options.context.empty() ? nullptr : options.context.data(),
      static_cast<WORD>(options.context.size()), nullptr, &raw);
  UniqueHandle handle(SUCCEEDED(hr) ? raw : nullptr);
  if (FAILED(hr)) {
    status = Status::FromHresult(static_cast<uint32_t>(hr), kConnect);
  } else if (!handle) {
    status = Status::Protocol("succeeded without a handle", kConnect);
  }
  // One private completion port (libuv's cannot be shared: a handle has one port for life).
  // No FILE_SKIP_COMPLETION_PORT_ON_SUCCESS: a FilterGetMessage that returns S_OK still
  // queues its packet, so every receive completes on the same path. No
  // FILE_SKIP_SET_EVENT_ON_HANDLE either: fltlib's synchronous FilterSendMessage waits on
  // the file handle if its IOCTL ever pends (spec §1.2).
  if (status.ok()) status = loop_.Create();
  if (status.ok()) status = loop_.Associate(handle.get(), kReceiveKey);
  if (status.ok()) {
    const uint32_t size = RoundUp8(options.initial_buffer_size);
    slots_.reserve(options.concurrency);
    idle_.reserve(options.concurrency);
    for (uint32_t i = 0; i < options.concurrency && status.ok(); ++i) {
      auto slot = std::make_unique<ReceiveSlot>();
      std::memset(&slot->overlapped, 0, sizeof(slot->overlapped));
      slot->size = size;
      slot->storage = AllocateWords(size);
      if (!slot->storage) {
        status = Status::FromHresult(core::hr::kOutOfMemory, "FilterGetMessage");
        status.detail = "receive buffers: " + Num(options.concurrency) + " x " + Num(size);
        break;
      }
      idle_.push_back(slot.get());
      slots_.push_back(std::move(slot));
    }
  }
  if (!status.ok()) {
    state_.TryTransition(SessionPhase::kClosed);
    return status;  // the handle closes here; nothing was armed, no thread runs
  }
  io_port_ = handle.get();
  port_.Adopt(std::move(handle));
  sends_ = std::make_shared<AsyncSends>(loop_.port());
  batch_ = std::make_unique<core::MessageBatch>();
  state_.TryTransition(SessionPhase::kOpen);
  // The I/O thread arms the first receives itself (OnPackets with no packets): arming stays
  // on one thread, so Close() never races a FilterGetMessage it would fail to cancel.
  status = loop_.Start(this);
  if (!status.ok()) {
    state_.TryTransition(SessionPhase::kClosing);
    state_.TryTransition(SessionPhase::kClosed);
    port_.Reset();
  }
  return status;
}

Status PortBackendWin::Reply(uint64_t token, uint64_t message_id, int32_t status,
                             const uint8_t* payload, size_t payload_len) {
  PendingReply reply;
  reply.token = token;
  if (payload == nullptr && payload_len != 0) {
    reply.error = Status::Argument("reply payload is null but its length is " + Num(payload_len),
                                   "FilterReplyMessage");
  } else if (payload_len > kMaxBufferSize) {
    reply.error = Status::Argument("reply payload of " + Num(payload_len) + " bytes",
                                   "FilterReplyMessage");
  } else {
    // Sized as 16 + payload exactly, never sizeof(a struct): tail padding would overflow
    // the driver's reply buffer (spec §4.2).
    reply.size = kHeaderSize + static_cast<uint32_t>(payload_len);
    reply.buffer = AllocateWords(reply.size);
    if (!reply.buffer) {
      reply.error = Status::FromHresult(core::hr::kOutOfMemory, "FilterReplyMessage");
    } else {
      auto* header = reinterpret_cast<FILTER_REPLY_HEADER*>(reply.buffer.get());
      std::memset(header, 0, sizeof(*header));  // the 4 padding bytes go to the kernel too
      header->Status = status;
      header->MessageId = message_id;
      if (payload_len) std::memcpy(header + 1, payload, payload_len);
    }
  }
  // FilterReplyMessage never pends, so it could run right here; it runs on the I/O thread
  // instead, which keeps the JS thread out of the kernel, lets outcomes join the batch being
  // built without another hand-off, and needs no handle lease for replies. A reply pushed
  // after the session's last batch is refused: there is no callback left to carry its
  // outcome, so the caller settles it with what it is told here.
  if (!replies_.Push(std::move(reply))) {
    return PortClosed("FilterReplyMessage", "the port stopped before the reply");
  }
  loop_.Wake();
  return Status::Ok();
}

Status PortBackendWin::Send(const uint8_t* in, uint32_t in_len, uint8_t* out, uint32_t out_cap,
                            uint32_t* bytes_returned) {
  if (bytes_returned == nullptr) return Status::Argument("bytes_returned is null", kSendCall);
  *bytes_returned = 0;
  Status status = CheckSendBuffers(in == nullptr, in_len, out == nullptr, out_cap);
  if (!status.ok()) return status;
  SharedHandle::Lease port = port_.Borrow();
  if (!port) return PortClosed();
  return CallFilterSendMessage(port->get(), in, in_len, out, out_cap, bytes_returned);
}

Status PortBackendWin::SendAsync(uint64_t token, const uint8_t* in, uint32_t in_len,
                                 uint32_t out_cap, bool out_null) {
  Status status = CheckSendBuffers(in == nullptr, in_len, out_null, out_cap);
  if (status.ok() && (in_len > kMaxBufferSize || out_cap > kMaxBufferSize)) {
    status = Status::Argument("FilterSendMessage buffers above 2^30 bytes", kSendCall);
  }
  if (!status.ok()) return status;
  SharedHandle::Lease port = port_.Borrow();
  if (!port) return PortClosed();
  auto send = std::make_unique<AsyncSend>();
  send->token = token;
  send->port = std::move(port);
  send->in_len = in_len;
  send->out_cap = out_cap;
  send->owner = sends_;
  if (in_len) send->in = AllocateWords(in_len);
  if (out_cap) send->out = AllocateWords(out_cap);
  if ((in_len && !send->in) || (out_cap && !send->out)) {
    return Status::FromHresult(core::hr::kOutOfMemory, kSendCall);
  }
  if (in_len) std::memcpy(send->in.get(), in, in_len);  // JS may change its buffer meanwhile
  if (state_.phase() != SessionPhase::kOpen || !sends_->Add(send.get())) {
    // The session's last batch is built or being built: no outcome could reach the caller.
    status = Status::FromHresult(core::hr::kInvalidHandle, kSendCall);
    status.detail = "the session has ended";
    return status;
  }
  if (!::TrySubmitThreadpoolCallback(&RunAsyncSend, send.get(), nullptr)) {
    status = Status::FromWin32(::GetLastError(), "TrySubmitThreadpoolCallback");
    sends_->Remove(send.get());
    return status;
  }
  (void)send.release();  // RunAsyncSend owns it now
  return Status::Ok();
}

void PortBackendWin::Consumed(uint32_t count) {
  if (window_.Consumed(count)) loop_.Wake();
}

void PortBackendWin::Close() {
  if (loop_.OnLoopThread()) {
    // Called from inside OnBatch/OnStopped: the I/O thread cannot wait for itself. Ask it to
    // stop; the owner's Close() (or the destructor) joins it.
    if (state_.TryTransition(SessionPhase::kClosing)) loop_.Wake();
    return;
  }
  std::lock_guard<std::mutex> lock(close_mu_);
  if (state_.is_closed()) return;
  // open -> closing, or disconnected -> closing; already closing if a callback asked.
  state_.TryTransition(SessionPhase::kClosing);
  // The I/O thread sees `closing`, cancels every pending receive (CancelIoEx), sends the
  // replies still queued, waits for every receive to complete, delivers the last batch and
  // OnStopped, and ends. Only then are the handles closed and the buffers freed (G12).
  loop_.Wake();
  loop_.Join();
  // The I/O thread closed sends_ as it ended: a SendAsync still at the driver was answered
  // 0x80070006 and will post nothing. CloseHandle(hPort) now, or when the last Send() or
  // SendAsync() in flight returns (their leases).
  port_.Reset();
  loop_.ClosePort();  // CloseHandle(completion port)
  io_port_ = nullptr;
  if (kernel_may_own_slots_) {
    for (auto& slot : slots_) (void)slot.release();  // leaked on purpose, see OnLoopFailed
  }
  slots_.clear();
  idle_.clear();
  state_.TryTransition(SessionPhase::kClosed);
}

bool PortBackendWin::OnPackets(const OVERLAPPED_ENTRY* entries, ULONG count,
                               DWORD* next_wait_ms) {
  for (ULONG i = 0; i < count; ++i) {
    const OVERLAPPED_ENTRY& entry = entries[i];
    if (entry.lpOverlapped == nullptr) continue;
    if (entry.lpCompletionKey == kSendKey) {
      FoldSend(sends_->Take(entry.lpOverlapped));
    } else if (entry.lpCompletionKey == kReceiveKey) {
      // Only this thread issues overlapped I/O on the port handle, and only with slots.
      auto* slot = CONTAINING_RECORD(entry.lpOverlapped, ReceiveSlot, overlapped);
      HandleReceive(slot, entry.dwNumberOfBytesTransferred);
    }
  }
  if (!stopping_ && state_.phase() == SessionPhase::kClosing) {
    BeginStop(core::StopReason::kClosed, Status::Ok());
  }
  // Replies before re-arming: a reply releases a kernel sender, which may then send again.
  ExecuteReplies(replies_.TakeAll());
  if (!stopping_) ArmIdleSlots();

  const bool finished = stopping_ && window_.armed() == 0;
  if (finished) {
    ExecuteReplies(replies_.CloseAndTakeAll());
    SettleSends();
  }
  // Everything this wake-up produced, in one OnBatch; successful reply outcomes alone wait a
  // little for company (BatchLinger), bounded by the next wait, unless the session is ending.
  const auto now = core::BatchLinger::Clock::now();
  if (finished || linger_.FlushNow(*batch_, now)) {
    Flush();
  } else if (linger_.holding()) {
    *next_wait_ms = static_cast<DWORD>(linger_.WaitMs(-1, now));
  }
  if (!finished) return true;
  events_->OnStopped(stop_reason_, stop_status_);
  return false;
}

void PortBackendWin::HandleReceive(ReceiveSlot* slot, DWORD bytes) {
  static constexpr char kGet[] = "FilterGetMessage";
  const auto ntstatus = static_cast<uint32_t>(slot->overlapped.Internal);
  bool delivered = false;
  bool failed = false;
  if (ntstatus == core::nt::kSuccess) {
    // 16 <= bytes <= buffer size, or the count is not to be believed (and not to be used to
    // copy out of the buffer).
    if (bytes < kHeaderSize || bytes > slot->size) {
      Fault(0, Status::Protocol("FilterGetMessage completed with " + Num(bytes) +
                                    " bytes in a " + Num(slot->size) + "-byte buffer",
                                kGet));
      failed = true;
    } else {
      delivered = BatchWithRoom(bytes)->AppendMessage(slot->data(), bytes);
      if (!delivered) Fault(bytes, Status::Protocol("message does not fit in a batch", kGet));
    }
  } else {
    const Status status = CompletionLoop::CompletionStatus(io_port_, &slot->overlapped, kGet);
    switch (status.win32) {
      case ERROR_INSUFFICIENT_BUFFER:  // STATUS_BUFFER_TOO_SMALL / STATUS_FLT_BUFFER_TOO_SMALL
        HandleTooSmall(slot, status, bytes);
        break;
      case ERROR_OPERATION_ABORTED:  // STATUS_CANCELLED: our CancelIoEx while stopping
        break;
      case ERROR_INVALID_HANDLE:  // STATUS_PORT_DISCONNECTED (G5)
        BeginStop(core::StopReason::kDisconnected, status);
        break;
      default:
        Fault(0, status);
        failed = true;
        break;
    }
  }
  window_.Completed(delivered);
  idle_.push_back(slot);
  // A receive that keeps failing at once would spin this thread and flood JS with faults;
  // after two rounds of every slot failing in a row the session is declared failed.
  failures_in_a_row_ = failed ? failures_in_a_row_ + 1 : 0;
  if (failures_in_a_row_ > 2 * slots_.size()) {
    BeginStop(core::StopReason::kFailed, Status::Protocol("every receive keeps failing", kGet));
  }
}

void PortBackendWin::HandleTooSmall(ReceiveSlot* slot, const Status& status, DWORD required) {
  // The kernel keeps the message for a larger request (spec §3.4) and reported the size it
  // needs (16 + payload) as the byte count.
  if (required > slot->size && required <= max_message_size_) {
    const uint32_t size = RoundUp8(required);
    std::unique_ptr<uint64_t[]> grown = AllocateWords(size);
    if (grown) {
      slot->storage = std::move(grown);  // not pending: nobody else references the old one
      slot->size = size;
      return;  // re-armed at the new size with the others
    }
    Status oom = Status::FromHresult(core::hr::kOutOfMemory, "FilterGetMessage");
    oom.detail = "growing a receive buffer to " + Num(size) + " bytes";
    Fault(required, oom);
    return;
  }
  Status fault = status;
  fault.detail = required <= slot->size
                     ? "the kernel asked for " + Num(required) + " bytes, no more than the " +
                           Num(slot->size) + "-byte buffer it rejected"
                     : "a message of " + Num(required) + " bytes (header included) exceeds " +
                           "maxMessageSize " + Num(max_message_size_);
  // Re-armed at the old size: the message stays with its sender until that times out.
  Fault(required, std::move(fault));
}

void PortBackendWin::ArmIdleSlots() {
  while (!idle_.empty() && window_.MayArm()) {
    ReceiveSlot* slot = idle_.back();
    idle_.pop_back();
    if (!Arm(slot)) break;
  }
}

bool PortBackendWin::Arm(ReceiveSlot* slot) {
  std::memset(&slot->overlapped, 0, sizeof(slot->overlapped));
  const HRESULT hr = ::FilterGetMessage(io_port_, reinterpret_cast<FILTER_MESSAGE_HEADER*>(slot->data()),
                                        slot->size, &slot->overlapped);
  // Overlapped FilterGetMessage reports "queued" as the failure HRESULT 0x800703E5 (G4).
  // S_OK means it completed at once; its packet is queued all the same.
  if (static_cast<uint32_t>(hr) == core::hr::kIoPending || hr == S_OK ||
      CompletionLoop::PacketQueuedAfterFailure(slot->overlapped)) {
    window_.Armed();
    return true;
  }
  idle_.push_back(slot);
  const Status status = Status::FromHresult(static_cast<uint32_t>(hr), "FilterGetMessage");
  BeginStop(static_cast<uint32_t>(hr) == core::hr::kInvalidHandle ? core::StopReason::kDisconnected
                                                                  : core::StopReason::kFailed,
            status);
  return false;
}

void PortBackendWin::ExecuteReplies(std::vector<PendingReply> replies) {
  for (PendingReply& reply : replies) {
    if (!reply.error.ok()) {
      BatchWithRoom(0)->AppendReply(reply.token, std::move(reply.error));
      continue;
    }
    const HRESULT hr = ::FilterReplyMessage(
        io_port_, reinterpret_cast<FILTER_REPLY_HEADER*>(reply.buffer.get()), reply.size);
    BatchWithRoom(0)->AppendReply(
        reply.token, Status::FromHresult(static_cast<uint32_t>(hr), "FilterReplyMessage"));
  }
}

void PortBackendWin::FoldSend(std::unique_ptr<AsyncSend> send) {
  // A failure, a warning included, carries no bytes (PortBackend.h): AppendRead drops them.
  const uint32_t bytes = send->status.ok() ? send->returned : 0;
  BatchWithRoom(bytes)->AppendRead(send->token, std::move(send->status), send->out_bytes(), bytes);
}

// The session's last batch: every SendAsync is answered in it. Sends are not drained (a
// driver's MessageNotify may take any time); those still at the driver fail as
// FilterSendMessage does on a dead port.
void PortBackendWin::SettleSends() {
  std::vector<std::unique_ptr<AsyncSend>> finished;
  std::vector<uint64_t> running;
  sends_->Close(&finished, &running);
  for (auto& send : finished) FoldSend(std::move(send));
  for (uint64_t token : running) {
    Status status = Status::FromHresult(core::hr::kInvalidHandle, kSendCall);
    status.detail = "the session ended while the driver ran this send";
    BatchWithRoom(0)->AppendRead(token, std::move(status), nullptr, 0);
  }
}

void PortBackendWin::BeginStop(core::StopReason reason, Status status) {
  if (stopping_) return;  // the first reason is the one reported
  stopping_ = true;
  stop_reason_ = reason;
  stop_status_ = std::move(status);
  if (reason == core::StopReason::kDisconnected) state_.TryTransition(SessionPhase::kDisconnected);
  window_.Stop();
  // Every receive still pending ends with STATUS_CANCELLED (or its own status if it was
  // completing anyway). This thread is the only one that arms receives and it will arm no
  // more, so nothing can slip in after the cancel.
  if (window_.armed() > 0) ::CancelIoEx(io_port_, nullptr);
}

void PortBackendWin::Fault(uint32_t required_size, Status status) {
  BatchWithRoom(0)->AppendFault(required_size, std::move(status));
}

core::MessageBatch* PortBackendWin::BatchWithRoom(size_t bytes) {
  if (!batch_->FitsPayload(bytes)) Flush();
  return batch_.get();
}

void PortBackendWin::Flush() {
  if (batch_->empty()) return;
  linger_.Flushed();
  events_->OnBatch(std::move(batch_));
  batch_ = std::make_unique<core::MessageBatch>();
}

void PortBackendWin::OnLoopFailed(const Status& status) {
  // Completions can no longer be collected: a pending receive's buffer may be written at
  // any time, so Close() leaks the slots rather than freeing them.
  kernel_may_own_slots_ = window_.armed() > 0;
  if (!stopping_) BeginStop(core::StopReason::kFailed, status);
  ExecuteReplies(replies_.CloseAndTakeAll());
  SettleSends();
  Flush();
  events_->OnStopped(stop_reason_, stop_status_);
}

}  // namespace
}  // namespace fltport::win

namespace fltport::core {

std::unique_ptr<PortBackend> PortBackend::Connect(const PortOptions& options, PortEvents* events,
                                                  Status* status) {
  if (events == nullptr) {
    if (status) *status = Status::Argument("events is null", "FilterConnectCommunicationPort");
    return nullptr;
  }
  auto backend = std::make_unique<win::PortBackendWin>(options, events);
  Status opened = backend->Open(options);
  if (status) *status = opened;
  if (!opened.ok()) return nullptr;
  return backend;
}

}  // namespace fltport::core
