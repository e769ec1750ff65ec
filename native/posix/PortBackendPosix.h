// core::PortBackend over fltsim-host (the Linux face of native/core/PortBackend.h).
// One PORT stream per connection; one I/O thread per connection that polls the stream and
// a wake pipe, keeps `concurrency` GET frames armed as the ReceiveWindow allows, and turns
// every completion read in one wake-up into one MessageBatch.
//
// Stop rules (docs/native.md has the full story):
// - driver disconnect: a GET completes with STATUS_PORT_DISCONNECTED -> stop re-arming,
//   wait for every pending GET and REPLY to complete, final batch, OnStopped(kDisconnected).
// - Close(): CANCEL all -> drain GETs and REPLYs (bounded by drain_timeout) -> final batch
//   -> OnStopped(kClosed) unless it already ran -> I/O thread exits -> socket down.
// - transport failure or malformed frame: everything pending settles at once
//   (GETs abandoned, REPLYs and SENDs fail with 0x80070006), OnStopped(kFailed, why).
// SENDs are never drained (a driver's MessageNotify may take any time): whichever way the
// session ends, those still unanswered fail with 0x80070006 (SendAsync's in the final batch).
// OnStopped is the last callback. A Reply() or SendAsync() that starts after the session
// stopped accepting gets no outcome from here (there is no callback left to carry it): it
// returns 0x80070006 instead, and the caller settles it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "BatchLinger.h"
#include "FrameChannel.h"
#include "FrameReader.h"
#include "MessageBatch.h"
#include "PortBackend.h"
#include "ReceiveWindow.h"
#include "SessionState.h"
#include "Status.h"
#include "WaiterTable.h"

namespace fltport::posix {

class PortBackendPosix final : public core::PortBackend {
 public:
  // Tag spaces, kept apart so that a host answering with the wrong tag is named precisely.
  static constexpr uint64_t kGetTagBase = 1;  // + slot index
  static constexpr uint64_t kReplyTagBase = uint64_t(1) << 40;
  static constexpr uint64_t kSendTagBase = uint64_t(2) << 40;       // Send(): WaiterTable
  static constexpr uint64_t kAsyncSendTagBase = uint64_t(3) << 40;  // SendAsync()
  static constexpr std::chrono::milliseconds kDefaultDrainTimeout{5000};

  // Caller of Connect(): takes over a stream on which CONNECT succeeded.
  PortBackendPosix(const core::PortOptions& options, core::PortEvents* events,
                   std::unique_ptr<FltsimStream> stream);
  // Any thread but the I/O thread: Close().
  ~PortBackendPosix() override;

  // Caller of Connect(): wake pipe, I/O thread, first GETs. On failure nothing was started.
  core::Status Start();

  core::Status Reply(uint64_t token, uint64_t message_id, int32_t status, const uint8_t* payload,
                     size_t payload_len) override;
  core::Status Send(const uint8_t* in, uint32_t in_len, uint8_t* out, uint32_t out_cap,
                    uint32_t* bytes_returned) override;
  core::Status SendAsync(uint64_t token, const uint8_t* in, uint32_t in_len, uint32_t out_cap,
                         bool out_null) override;
  void Consumed(uint32_t count) override;
  void Close() override;

  // Any thread.
  core::SessionPhase phase() const { return state_.phase(); }
  // Any thread: how long a close or disconnect waits for pending GETs and REPLYs before
  // giving up on them (takes effect at the next cancel/disconnect).
  void set_drain_timeout(std::chrono::milliseconds timeout) { drain_timeout_ms_ = timeout.count(); }

 private:
  struct Slot {
    uint32_t size = 0;     // FilterGetMessage buffer size, FILTER_MESSAGE_HEADER included
    bool pending = false;  // a GET with this slot's tag is at the host
  };
  enum class Ending { kNone, kDrained, kFailed, kHardClose };
  // A request whose outcome goes out in a batch by token: a REPLY (-> REPLY_RESULT) or an
  // asynchronous SEND (-> SEND_RESULT).
  struct Owed {
    uint64_t token;
    bool send;         // SendAsync, else Reply
    uint32_t out_cap;  // SendAsync: the output buffer's size
  };
  struct LateOutcome {  // made up without the host: the session ended, or the frame never left
    Owed owed;
    core::Status status;
  };

  // Any thread; never blocks on the host. Registers `owed` under a fresh tag and writes the
  // frame `build(tag)` returns; or, when `invalid` is not ok, answers it with that in the next
  // batch. False, with nothing registered, once the session no longer accepts requests.
  template <typename Build>
  bool Submit(const Owed& owed, core::Status invalid, Build&& build);

  // I/O thread.
  void IoThreadMain();
  void ArmWhatWeMay();
  bool PostGet(size_t slot);
  core::Status OnFrame(Frame& frame);
  core::Status OnGetComplete(Frame& frame);
  core::Status OnReplyResult(Frame& frame);
  core::Status OnSendResult(Frame& frame);
  core::Status OnAsyncSendResult(Frame& frame);
  // force: hand the batch over now, even one that could linger.
  void FlushBatch(bool force);
  void Finish(core::StopReason reason, const core::Status& status);
  bool DrainDone();
  size_t RepliesOwedLocked() const;

  const core::PortOptions options_;
  core::PortEvents* const events_;
  std::unique_ptr<FrameChannel> channel_;
  core::SessionState state_;
  core::ReceiveWindow window_;
  std::atomic<long long> drain_timeout_ms_{kDefaultDrainTimeout.count()};

  // I/O thread only.
  std::vector<Slot> slots_;
  std::unique_ptr<core::MessageBatch> batch_;
  core::BatchLinger linger_;
  bool disconnected_ = false;
  core::Status disconnect_status_;
  bool cancel_sent_ = false;
  bool stopped_notified_ = false;

  // Replies and asynchronous sends in flight (tag -> what is owed), and outcomes made up
  // without the host. Both go out in the next batch. Finish() answers everything owed and
  // from then on nothing is accepted.
  std::mutex owed_mu_;
  bool accepting_ = true;                        // guarded by owed_mu_
  uint64_t next_reply_tag_ = kReplyTagBase;      // guarded by owed_mu_
  uint64_t next_send_tag_ = kAsyncSendTagBase;   // guarded by owed_mu_
  std::map<uint64_t, Owed> owed_;                // guarded by owed_mu_
  std::vector<LateOutcome> late_outcomes_;       // guarded by owed_mu_

  WaiterTable sends_{kSendTagBase};  // Send(): callers blocked on their tag

  std::mutex close_mu_;  // serializes Close() callers: the second waits for the first
  std::atomic<bool> close_requested_{false};
  std::thread io_thread_;
};

}  // namespace fltport::posix
