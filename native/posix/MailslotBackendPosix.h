// core::MailslotServer and core::MailslotWrite over fltsim-host's MAILSLOT streams.
// The server end is one stream with one I/O thread: Read() posts an MS_READ frame (one
// overlapped ReadFile) and its MS_READ_COMPLETE becomes a ReadOutcome; Info() and
// SetReadTimeout() are request/answer exchanges on the same stream, waited for by the
// caller. Completions are ReadFile completions, so statuses map the way kernel32 maps
// them (Status::FromCompletion): STATUS_IO_TIMEOUT -> ERROR_SEM_TIMEOUT (121),
// STATUS_BUFFER_TOO_SMALL -> ERROR_INSUFFICIENT_BUFFER (122), STATUS_CANCELLED -> 995.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "FrameChannel.h"
#include "MailslotBackend.h"
#include "MessageBatch.h"
#include "SessionState.h"
#include "Status.h"
#include "WaiterTable.h"

namespace fltport::posix {

class MailslotBackendPosix final : public core::MailslotServer {
 public:
  static constexpr uint64_t kReadTagBase = 1;
  static constexpr uint64_t kRequestTagBase = uint64_t(1) << 40;
  static constexpr std::chrono::milliseconds kDefaultDrainTimeout{5000};

  // CreateMailslot's milliseconds <-> the NT 100 ns form on the wire (spec §10.2):
  // 0 = immediate, MAILSLOT_WAIT_FOREVER = -1, else -(ms * 10000). Any thread.
  static int64_t NtTimeoutFromMs(uint32_t ms);
  // GetMailslotInfo's direction: -1 and INT64_MAX both mean forever (ReactOS and Wine
  // kernel32 pass one each). False for a positive (absolute) time, which no mailslot has.
  static bool MsFromNtTimeout(int64_t nt, uint32_t* ms);

  // Create(): takes over a stream on which MS_CREATE succeeded.
  MailslotBackendPosix(core::MailslotEvents* events, std::unique_ptr<FltsimStream> stream);
  ~MailslotBackendPosix() override;
  core::Status Start();

  void Read(uint64_t token, uint32_t max_size) override;
  core::Status Info(core::MailslotInfo* info) override;
  core::Status SetReadTimeout(uint32_t read_timeout_ms) override;
  void Close() override;

  core::SessionPhase phase() const { return state_.phase(); }
  // Any thread: how long Close() waits for cancelled reads (takes effect at the next close).
  void set_drain_timeout(std::chrono::milliseconds timeout) { drain_timeout_ms_ = timeout.count(); }

 private:
  struct PendingRead {
    uint64_t token;
    uint32_t max_size;
  };

  // I/O thread.
  void IoThreadMain();
  core::Status OnFrame(Frame& frame);
  core::Status OnReadComplete(Frame& frame);
  void FlushBatch();
  void Finish(const core::Status& status);
  // Caller threads: one request/answer exchange (MS_QUERY, MS_SET).
  // `body` is the request's body; the answer must be of `answer_type`.
  core::Status Exchange(uint16_t type, const std::vector<uint8_t>& body, uint16_t answer_type,
                        Frame* answer);

  core::MailslotEvents* const events_;
  std::unique_ptr<FrameChannel> channel_;
  core::SessionState state_;
  std::atomic<long long> drain_timeout_ms_{kDefaultDrainTimeout.count()};

  std::unique_ptr<core::MessageBatch> batch_;  // I/O thread only
  bool cancel_sent_ = false;                   // I/O thread only
  bool stopped_notified_ = false;              // I/O thread only

  std::mutex reads_mu_;
  bool accepting_reads_ = true;                  // guarded by reads_mu_
  uint64_t next_read_tag_ = kReadTagBase;        // guarded by reads_mu_
  std::map<uint64_t, PendingRead> reads_;        // guarded by reads_mu_
  std::vector<core::ReadOutcome> late_outcomes_;  // guarded by reads_mu_

  WaiterTable requests_{kRequestTagBase};
  std::mutex close_mu_;
  std::atomic<bool> close_requested_{false};
  std::thread io_thread_;
};

}  // namespace fltport::posix
