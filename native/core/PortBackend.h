// The communication-port backend: declared once here, defined once per OS
// (native/win/PortBackendWin.cc over fltlib.dll + a completion port; native/posix/
// PortBackendPosix.cc over fltsim-host's socket). native/napi only ever sees this interface.
//
// Contract shared by both definitions:
// - Connect() opens the connection (FilterConnectCommunicationPort), starts one I/O thread,
//   and arms `concurrency` receives (FilterGetMessage) of `initial_buffer_size` bytes each.
// - The I/O thread collects completions into a MessageBatch and hands it to
//   PortEvents::OnBatch, one call per wake-up (never one call per message when several
//   completed together).
// - Flow control (the kernel's, spec/DESIGN "Flow control"): a completed receive is re-armed
//   only while fewer than `high_water_mark` delivered messages are unconsumed by JS
//   (ReceiveWindow). JS reports consumption with Consumed(n). When JS falls behind, no
//   receive is pending and the driver's FltSendMessage waits or times out: Node never
//   buffers more than (concurrency + high_water_mark) messages.
// - A receive completing with STATUS_BUFFER_TOO_SMALL: the required size is in the
//   completion; re-post that slot with a buffer of that size (rounded up) if it is
//   <= max_message_size, else report a ReceiveFault with the size and re-post at the old
//   size (the message stays with its sender, which times out: the kernel keeps it, spec §3.4).
// - A batch that carries only successful reply outcomes may linger up to
//   `outcome_linger_ms` and go out with the next batch (BatchLinger.h); anything else — a
//   message, a fault, a failed outcome, a send's outcome, the stop — is handed over in the
//   wake-up that produced it.
// - Stop: when the driver disconnects (a receive completes with STATUS_PORT_DISCONNECTED,
//   or a re-arm fails with it) the backend stops re-arming, lets every pending receive
//   complete, and calls OnStopped(reason) once. Close() from any thread: cancel every
//   pending receive (CancelIoEx / FLTSIM_CANCEL all), drain every completion, join the
//   I/O thread, close the handle; OnStopped has run exactly once before Close() returns.
//   No receive buffer is freed while the kernel may still write into it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "BatchLinger.h"
#include "MessageBatch.h"
#include "Status.h"

namespace fltport::core {

struct PortOptions {
  std::u16string name;           // "\\FltportSample" — the full object-manager name
  uint32_t flags = 0;            // dwOptions (FLT_PORT_FLAG_SYNC_HANDLE is rejected: we need overlapped I/O)
  std::vector<uint8_t> context;  // lpContext/wSizeOfContext; empty = NULL/0
  uint32_t concurrency = 16;     // outstanding FilterGetMessage calls (1..1024)
  uint32_t initial_buffer_size = 4096;  // per receive, FILTER_MESSAGE_HEADER included
  uint32_t max_message_size = 65536;    // largest receive buffer the backend will grow to
  uint32_t high_water_mark = 64;        // unconsumed delivered messages before re-arming stops
  std::string sim_runtime_dir;   // POSIX only: fltsim runtime directory ("" = default)
  // How long a batch carrying only successful reply outcomes may wait for company before it
  // goes to JS (BatchLinger.h); 0 = at once. Not a JS option: tests set it.
  uint32_t outcome_linger_ms = BatchLinger::kDefault.count();
};

// How a session ended; passed to OnStopped.
enum class StopReason : uint8_t {
  kClosed,        // Close() was called
  kDisconnected,  // the driver closed the client port, closed the server, or unloaded
  kFailed,        // an unexpected I/O or protocol failure (see the Status)
};

class PortEvents {
 public:
  virtual ~PortEvents() = default;
  // I/O thread. Ownership of the batch passes to the callee. Never called with an empty batch.
  virtual void OnBatch(std::unique_ptr<MessageBatch> batch) = 0;
  // I/O thread, exactly once, after the last OnBatch.
  virtual void OnStopped(StopReason reason, const Status& status) = 0;
};

class PortBackend {
 public:
  virtual ~PortBackend() = default;

  // Any thread except an I/O thread (may block briefly while connecting; ConnectNotify runs
  // during it). On failure returns nullptr and sets *status; `events` is never called then.
  // `events` must outlive the backend.
  static std::unique_ptr<PortBackend> Connect(const PortOptions& options, PortEvents* events,
                                              Status* status);

  // Any thread; never blocks on the kernel. Sends FILTER_REPLY_HEADER{status, message_id}
  // + payload (16 + payload_len bytes, built here: callers never size replies). Ok: the
  // reply was taken, and its outcome (S_OK, 0x801F0020 no waiter, 0x800700EA overflow,
  // 0x80070006 disconnected, ...) arrives as a ReplyOutcome with `token` in a later batch,
  // before OnStopped. Not ok: nothing was taken and no outcome will come — 0x80070006 once
  // the session has stopped taking replies (its last batch is out), so the caller settles
  // the reply itself with that status.
  virtual Status Reply(uint64_t token, uint64_t message_id, int32_t status, const uint8_t* payload,
                       size_t payload_len) = 0;

  // A worker thread (never the JS thread): FilterSendMessage. Blocks while the driver's
  // MessageNotify runs. `in`/`out` may be null with length 0 (NULL buffers). Success and
  // warning statuses (STATUS_BUFFER_OVERFLOW) report *bytes_returned; errors leave it 0
  // (spec §5.2). The C++ bench client and native tests call it.
  virtual Status Send(const uint8_t* in, uint32_t in_len, uint8_t* out, uint32_t out_cap,
                      uint32_t* bytes_returned) = 0;

  // Any thread; never blocks on the kernel: FilterSendMessage without a waiting caller. `in`
  // is copied before this returns (null = a NULL lpInBuffer, then in_len is 0); the backend
  // owns an output buffer of `out_cap` bytes (`out_null`: a NULL lpOutBuffer, then out_cap
  // is 0). Ok: the send started, and its outcome arrives as a ReadOutcome with `token` in a
  // later batch: the status as Send() would return it and, on success, the bytes returned
  // (<= out_cap); a failure — a warning such as STATUS_BUFFER_OVERFLOW included — carries no
  // bytes (the caller fails on any of them). Every send started before the session ends is
  // answered in a batch before OnStopped: those still at the driver get 0x80070006. Not ok:
  // nothing started and no outcome will come; the Status says why (arguments, or the session
  // no longer accepts sends: 0x80070006 as FilterSendMessage returns it on a dead port).
  virtual Status SendAsync(uint64_t token, const uint8_t* in, uint32_t in_len, uint32_t out_cap,
                           bool out_null) = 0;

  // JS thread: JS consumed `count` delivered messages; the I/O thread may re-arm receives.
  virtual void Consumed(uint32_t count) = 0;

  // Any thread; idempotent; see the contract above.
  virtual void Close() = 0;
};

}  // namespace fltport::core
