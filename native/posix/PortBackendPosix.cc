#include "PortBackendPosix.h"

#include <errno.h>
#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <system_error>

#include "FltsimStream.h"
#include "FrameBuilder.h"
#include "fltsim/wire.h"

namespace fltport::posix {
namespace {

using core::Status;
using Clock = std::chrono::steady_clock;

constexpr const char* kConnectCall = "FilterConnectCommunicationPort";
constexpr uint32_t kSyncHandleFlag = 0x00000001;  // FLT_PORT_FLAG_SYNC_HANDLE
constexpr uint32_t kMaxConcurrency = 1024;
constexpr uint32_t kMessageHeaderSize = 16;  // FILTER_MESSAGE_HEADER / FILTER_REPLY_HEADER
// A receive's bytes travel in one GET_COMPLETE frame: frame header + completion body.
constexpr uint32_t kMaxReceiveBuffer =
    FLTSIM_MAX_FRAME - sizeof(FLTSIM_FRAME_HEADER) - sizeof(FLTSIM_COMPLETION_BODY);
constexpr int kHelloTimeoutMs = 10000;
// ConnectNotify runs inside the connect (spec §2.2 step 6); a driver may do real work there.
constexpr int kConnectTimeoutMs = 30000;
constexpr uint64_t kConnectTag = 1;
constexpr const char* kReplyCall = "FilterReplyMessage";
constexpr const char* kSendCall = "FilterSendMessage";

Status PortDisconnected(const char* call) {
  return Status::FromNtStatus(core::nt::kPortDisconnected, call);
}

// Send() and SendAsync(): what fltsim can carry (a SEND and its SEND_RESULT are one frame
// each), and no NULL buffer with a length.
Status CheckSendBuffers(const uint8_t* in, uint32_t in_len, uint32_t out_cap, bool out_null) {
  if ((in == nullptr && in_len != 0) || (out_null && out_cap != 0)) {
    return Status::Argument("a null buffer with a non-zero length", kSendCall);
  }
  const size_t fixed = sizeof(FLTSIM_FRAME_HEADER) + sizeof(FLTSIM_SEND_BODY);
  if (in_len > FLTSIM_MAX_FRAME - fixed || out_cap > FLTSIM_MAX_FRAME - fixed) {
    return Status::Argument("FilterSendMessage buffers larger than fltsim can carry", kSendCall);
  }
  return Status::Ok();
}

// Send() and SendAsync(): the SEND frame; NULL buffers travel as flags (spec §5.2).
std::vector<uint8_t> SendFrame(uint64_t tag, const uint8_t* in, uint32_t in_len, uint32_t out_cap,
                               bool out_null) {
  const uint32_t flags = (in ? 0u : FLTSIM_SEND_IN_NULL) | (out_null ? FLTSIM_SEND_OUT_NULL : 0u);
  return FrameBuilder(FLTSIM_SEND, tag).U32(out_cap).U32(flags).Bytes(in, in_len).Finish();
}

// The SEND_RESULT protocol errors, whichever send the tag belongs to.
Status NoPendingSend(uint64_t tag) {
  return Status::Protocol("SEND_RESULT for tag " + std::to_string(tag) +
                          ", which has no pending send");
}
Status MoreThanTheOutputBuffer(uint32_t information) {
  return Status::Protocol("SEND_RESULT returns " + std::to_string(information) +
                          " bytes, more than the output buffer holds");
}

Status ValidateOptions(const core::PortOptions& o) {
  if (o.flags & kSyncHandleFlag) {
    return Status::Argument("FLT_PORT_FLAG_SYNC_HANDLE is not supported: receives are overlapped",
                            kConnectCall);
  }
  if (o.concurrency < 1 || o.concurrency > kMaxConcurrency) {
    return Status::Argument("concurrency must be 1..1024, got " + std::to_string(o.concurrency),
                            kConnectCall);
  }
  if (o.initial_buffer_size < kMessageHeaderSize) {
    return Status::Argument("initial buffer size must be at least 16 (FILTER_MESSAGE_HEADER)",
                            kConnectCall);
  }
  if (o.max_message_size < o.initial_buffer_size || o.max_message_size > kMaxReceiveBuffer) {
    return Status::Argument("max message size must be between the initial buffer size and " +
                                std::to_string(kMaxReceiveBuffer),
                            kConnectCall);
  }
  if (o.high_water_mark < 1) return Status::Argument("high water mark must be >= 1", kConnectCall);
  if (o.name.size() * 2 > FLTSIM_MAX_NAME_BYTES) {
    return Status::Argument("port name longer than a UNICODE_STRING can hold", kConnectCall);
  }
  // fltlib carries the context in an EA: from 0xFFE8 bytes on it fails before any I/O with
  // STATUS_INTEGER_OVERFLOW (spec §2.1), i.e. 0x80070216.
  if (o.context.size() > FLTSIM_MAX_CONTEXT) {
    Status s = Status::FromNtStatus(core::nt::kIntegerOverflow, kConnectCall);
    s.detail = "context of " + std::to_string(o.context.size()) + " bytes exceeds 65511";
    return s;
  }
  return Status::Ok();
}

// Caller's thread: HELLO(PORT) + CONNECT, then the CONNECT_RESULT decides.
std::unique_ptr<FltsimStream> OpenPortStream(const core::PortOptions& o, Status* status) {
  std::unique_ptr<FltsimStream> stream =
      FltsimStream::Open(o.sim_runtime_dir, FLTSIM_KIND_PORT, kHelloTimeoutMs, status);
  if (!stream) return nullptr;
  auto connect = FrameBuilder(FLTSIM_CONNECT, kConnectTag)
                     .U32(o.flags)
                     .U16(static_cast<uint16_t>(o.name.size() * 2))
                     .U16(static_cast<uint16_t>(o.context.size()))
                     .Utf16(o.name)
                     .Bytes(o.context.data(), o.context.size())
                     .Finish();
  Status s = stream->WriteAll(connect, kConnectTimeoutMs);
  Frame answer;
  if (s.ok()) s = stream->ReadFrame(&answer, kConnectTimeoutMs);
  if (s.ok() && (answer.type != FLTSIM_CONNECT_RESULT || answer.tag != kConnectTag)) {
    s = Status::Protocol("expected CONNECT_RESULT, got frame type " +
                             std::to_string(answer.type) + " tag " + std::to_string(answer.tag),
                         kConnectCall);
  }
  if (s.ok()) s = Status::FromNtStatus(answer.U32(0), kConnectCall);
  if (!s.ok()) {
    if (s.origin == core::StatusOrigin::kErrno && s.syscall != "connect") {
      s.detail += " (during " + std::string(kConnectCall) + ")";
    }
    *status = std::move(s);
    return nullptr;
  }
  return stream;
}

uint32_t RoundUp8(uint32_t v) { return v > 0xFFFFFFF8u ? v : (v + 7) & ~7u; }

}  // namespace

// ---------------------------------------------------------------------------------------

PortBackendPosix::PortBackendPosix(const core::PortOptions& options, core::PortEvents* events,
                                   std::unique_ptr<FltsimStream> stream)
    : options_(options),
      events_(events),
      channel_(std::make_unique<FrameChannel>(std::move(stream))),
      window_(options.concurrency, options.high_water_mark),
      linger_(std::chrono::milliseconds(options.outcome_linger_ms)) {}

PortBackendPosix::~PortBackendPosix() {
  Close();
  // Only reachable when the owner destroys us from our own I/O thread (inside a callback),
  // which the contract forbids; detaching at least does not terminate the process.
  if (io_thread_.joinable()) io_thread_.detach();
}

Status PortBackendPosix::Start() {
  Status s = channel_->Open();
  if (!s.ok()) return s;
  slots_.assign(options_.concurrency, Slot{options_.initial_buffer_size, false});
  batch_ = std::make_unique<core::MessageBatch>();
  s = state_.Transition(core::SessionPhase::kOpen);
  if (!s.ok()) return s;
  try {
    io_thread_ = std::thread(&PortBackendPosix::IoThreadMain, this);
  } catch (const std::system_error& e) {
    state_.TryTransition(core::SessionPhase::kDisconnected);
    return Status::FromErrno(e.code().value(), "pthread_create", "port I/O thread");
  }
  return Status::Ok();
}

// Any thread (Reply, SendAsync); FrameChannel::Send writes without waiting.
template <typename Build>
bool PortBackendPosix::Submit(const Owed& owed, Status invalid, Build&& build) {
  uint64_t tag = 0;
  {
    std::lock_guard<std::mutex> lock(owed_mu_);
    if (!accepting_) return false;
    if (!invalid.ok()) {
      late_outcomes_.push_back({owed, std::move(invalid)});
    } else {
      tag = owed.send ? next_send_tag_++ : next_reply_tag_++;
      owed_.emplace(tag, owed);
    }
  }
  if (tag == 0) {
    channel_->Wake();  // the outcome goes out with the next batch
    return true;
  }
  if (channel_->Send(build(tag))) return true;
  // The stream is down. Unless Finish() already answered this tag, answer it now.
  {
    std::lock_guard<std::mutex> lock(owed_mu_);
    if (owed_.erase(tag) == 0) return true;
    late_outcomes_.push_back({owed, PortDisconnected(owed.send ? kSendCall : kReplyCall)});
  }
  channel_->Wake();
  return true;
}

// Any thread; never blocks on the host.
Status PortBackendPosix::Reply(uint64_t token, uint64_t message_id, int32_t status,
                               const uint8_t* payload, size_t payload_len) {
  Status invalid;
  if (sizeof(FLTSIM_FRAME_HEADER) + kMessageHeaderSize + payload_len > FLTSIM_MAX_FRAME) {
    invalid = Status::Argument("reply payload of " + std::to_string(payload_len) +
                                   " bytes exceeds what fltsim can carry",
                               kReplyCall);
  }
  // Refused once stopped: the caller settles it (see the header). FILTER_REPLY_HEADER is
  // built here, never sized by the caller: 16 + payload exactly (spec §4.2, the scanner
  // sample's padding trap).
  const bool taken = Submit({token, false, 0}, std::move(invalid), [&](uint64_t tag) {
    return FrameBuilder(FLTSIM_REPLY, tag)
        .U32(static_cast<uint32_t>(status))
        .U32(0)
        .U64(message_id)
        .Bytes(payload, payload_len)
        .Finish();
  });
  if (taken) return Status::Ok();
  Status refused = PortDisconnected(kReplyCall);
  refused.detail = "the port stopped before the reply";
  return refused;
}

// A worker thread: blocks until SEND_RESULT or the end of the session.
Status PortBackendPosix::Send(const uint8_t* in, uint32_t in_len, uint8_t* out, uint32_t out_cap,
                              uint32_t* bytes_returned) {
  *bytes_returned = 0;
  Status s = CheckSendBuffers(in, in_len, out_cap, out == nullptr);
  if (!s.ok()) return s;
  if (state_.phase() != core::SessionPhase::kOpen) return PortDisconnected(kSendCall);
  const uint64_t tag = sends_.Register(&s, sizeof(FLTSIM_COMPLETION_BODY) + size_t(out_cap));
  if (tag == 0) return s;
  if (!channel_->Send(SendFrame(tag, in, in_len, out_cap, out == nullptr))) {
    sends_.Abandon(tag);
    return PortDisconnected(kSendCall);
  }
  Frame answer;
  s = sends_.Wait(tag, &answer);
  if (!s.ok()) return s;
  // The I/O thread checked Information == the bytes that follow <= out_cap. Success and
  // warning statuses report the count (STATUS_BUFFER_OVERFLOW does); errors leave it 0
  // (spec §5.2).
  const uint32_t nt = answer.U32(0);
  const uint32_t returned = (nt >> 30) != 3 ? answer.U32(4) : 0;
  if (out && returned) std::copy_n(answer.data(8), returned, out);
  *bytes_returned = returned;
  return Status::FromNtStatus(nt, kSendCall);
}

// Any thread; never blocks on the host: the SEND frame is written now (or queued for the
// I/O thread) and its SEND_RESULT becomes a ReadOutcome in a batch.
Status PortBackendPosix::SendAsync(uint64_t token, const uint8_t* in, uint32_t in_len,
                                   uint32_t out_cap, bool out_null) {
  Status s = CheckSendBuffers(in, in_len, out_cap, out_null);
  if (!s.ok()) return s;
  const bool started =
      state_.phase() == core::SessionPhase::kOpen &&
      Submit({token, true, out_cap}, Status::Ok(),
             [&](uint64_t tag) { return SendFrame(tag, in, in_len, out_cap, out_null); });
  return started ? Status::Ok() : PortDisconnected(kSendCall);
}

// JS thread.
void PortBackendPosix::Consumed(uint32_t count) {
  if (window_.Consumed(count)) channel_->Wake();
}

// Any thread but the I/O thread (from the I/O thread it only requests the close).
void PortBackendPosix::Close() {
  if (io_thread_.joinable() && std::this_thread::get_id() == io_thread_.get_id()) {
    close_requested_.store(true, std::memory_order_release);
    channel_->Wake();
    return;
  }
  std::lock_guard<std::mutex> lock(close_mu_);
  if (state_.is_closed()) return;
  if (!state_.TryTransition(core::SessionPhase::kClosing)) {
    // Still connecting: Start() failed or never ran; nothing was started.
    state_.TryTransition(core::SessionPhase::kClosed);
    return;
  }
  close_requested_.store(true, std::memory_order_release);
  channel_->Wake();
  if (io_thread_.joinable()) io_thread_.join();
  // Only now: the I/O thread has drained (or given up on) every GET, so nothing can still
  // arrive for a slot, and the host sees our end of stream = CloseHandle.
  channel_->Shutdown();
  sends_.FailAll(PortDisconnected(kSendCall));
  state_.TryTransition(core::SessionPhase::kClosed);
}

// ---------------------------------------------------------------------------------------
// I/O thread

void PortBackendPosix::IoThreadMain() {
#ifdef __linux__
  pthread_setname_np(pthread_self(), "fltport-port");
#endif
  ArmWhatWeMay();
  Ending ending = Ending::kNone;
  Status failure;
  Clock::time_point deadline = Clock::time_point::max();
  while (ending == Ending::kNone) {
    if (close_requested_.load(std::memory_order_acquire) && !cancel_sent_) {
      cancel_sent_ = true;
      window_.Stop();
      deadline = std::min(deadline, Clock::now() + std::chrono::milliseconds(drain_timeout_ms_.load()));
      // CancelIoEx(hPort, NULL): every pending GET completes with STATUS_CANCELLED.
      channel_->Send(FrameBuilder(FLTSIM_CANCEL, 0).U64(FLTSIM_CANCEL_ALL).Finish());
    }
    if ((cancel_sent_ || disconnected_) && DrainDone()) {
      ending = Ending::kDrained;
      break;
    }
    int timeout_ms = -1;
    if (deadline != Clock::time_point::max()) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) {
        ending = Ending::kHardClose;
        break;
      }
      timeout_ms = static_cast<int>(std::min<long long>(left + 1, 60000));
    }
    timeout_ms = linger_.WaitMs(timeout_ms, Clock::now());
    Status s = channel_->Poll(timeout_ms, [this](Frame& f) { return OnFrame(f); });
    // Everything one wake-up produced, in one OnBatch; successful reply outcomes alone wait
    // a little for company (BatchLinger).
    FlushBatch(/*force=*/false);
    if (!s.ok()) {
      ending = Ending::kFailed;
      failure = std::move(s);
      break;
    }
    if (disconnected_ && deadline == Clock::time_point::max()) {
      deadline = Clock::now() + std::chrono::milliseconds(drain_timeout_ms_.load());
    }
    ArmWhatWeMay();
  }

  if (ending == Ending::kHardClose) {
    std::lock_guard<std::mutex> lock(owed_mu_);
    std::fprintf(stderr,
                 "fltport: port at %s: %u receive(s) and %zu reply(ies) still pending %lld ms "
                 "after cancel/disconnect; ending the session without them\n",
                 channel_->path().c_str(), window_.armed(), RepliesOwedLocked(),
                 drain_timeout_ms_.load());
  }
  const bool closing = close_requested_.load(std::memory_order_acquire);
  if (ending == Ending::kFailed && (closing || disconnected_)) {
    std::fprintf(stderr, "fltport: port at %s: stream failed while %s: %s %s\n",
                 channel_->path().c_str(), closing ? "closing" : "draining a disconnect",
                 failure.syscall.c_str(), failure.detail.c_str());
  }
  if (disconnected_) {
    Finish(core::StopReason::kDisconnected, disconnect_status_);
  } else if (closing) {
    Finish(core::StopReason::kClosed, Status::Ok());
  } else {
    Finish(core::StopReason::kFailed, failure);
  }
}

bool PortBackendPosix::DrainDone() {
  if (window_.armed() != 0) return false;
  std::lock_guard<std::mutex> lock(owed_mu_);
  return RepliesOwedLocked() == 0;
}

// Any thread, owed_mu_ held. Sends are not drained: see the header.
size_t PortBackendPosix::RepliesOwedLocked() const {
  return static_cast<size_t>(
      std::count_if(owed_.begin(), owed_.end(), [](const auto& entry) { return !entry.second.send; }));
}

void PortBackendPosix::ArmWhatWeMay() {
  for (size_t i = 0; i < slots_.size() && window_.MayArm(); ++i) {
    if (!slots_[i].pending && !PostGet(i)) return;
  }
}

bool PortBackendPosix::PostGet(size_t slot) {
  auto frame =
      FrameBuilder(FLTSIM_GET, kGetTagBase + slot).U32(slots_[slot].size).U32(0).Finish();
  // false: the stream is down; the next Poll reports why.
  if (!channel_->Send(std::move(frame))) return false;
  slots_[slot].pending = true;
  window_.Armed();
  return true;
}

Status PortBackendPosix::OnFrame(Frame& frame) {
  switch (frame.type) {
    case FLTSIM_GET_COMPLETE:
      return OnGetComplete(frame);
    case FLTSIM_REPLY_RESULT:
      return OnReplyResult(frame);
    case FLTSIM_SEND_RESULT:
      return OnSendResult(frame);
    default:
      return Status::Protocol("unexpected frame type " + std::to_string(frame.type) +
                              " on a port stream");
  }
}

Status PortBackendPosix::OnGetComplete(Frame& frame) {
  const uint64_t index = frame.tag - kGetTagBase;
  if (frame.tag < kGetTagBase || index >= slots_.size() || !slots_[index].pending) {
    return Status::Protocol("GET_COMPLETE for tag " + std::to_string(frame.tag) +
                            ", which has no pending receive");
  }
  Slot& slot = slots_[index];
  const uint32_t nt = frame.U32(0);
  const uint32_t information = frame.U32(4);
  const size_t carried = frame.size() - sizeof(FLTSIM_COMPLETION_BODY);
  if (nt != core::nt::kSuccess && carried != 0) {
    return Status::Protocol("GET_COMPLETE with status " + std::to_string(nt) + " carries " +
                            std::to_string(carried) + " bytes");
  }
  slot.pending = false;
  switch (nt) {
    case core::nt::kSuccess: {
      if (carried != information) {
        return Status::Protocol("GET_COMPLETE Information " + std::to_string(information) +
                                " but " + std::to_string(carried) + " bytes follow");
      }
      if (information > slot.size) {
        return Status::Protocol("GET_COMPLETE wrote " + std::to_string(information) +
                                " bytes into a " + std::to_string(slot.size) + "-byte buffer");
      }
      if (!batch_->FitsPayload(information)) FlushBatch(/*force=*/true);
      const bool delivered = batch_->AppendMessage(frame.data(8), information);
      if (!delivered) {
        batch_->AppendFault(0, Status::Protocol("receive completed with " +
                                                    std::to_string(information) +
                                                    " bytes, less than FILTER_MESSAGE_HEADER",
                                                "FilterGetMessage"));
      }
      window_.Completed(delivered);
      break;
    }
    case core::nt::kBufferTooSmall:
      window_.Completed(false);
      if (information <= slot.size) {
        return Status::Protocol("BUFFER_TOO_SMALL asks for " + std::to_string(information) +
                                " bytes from a " + std::to_string(slot.size) + "-byte buffer");
      }
      if (information <= options_.max_message_size) {
        // Re-post bigger: the sender is still waiting for a large-enough request (§3.4).
        slot.size = std::min(RoundUp8(information), options_.max_message_size);
      } else {
        // Too big for us: report it and re-post at the old size; the message stays with
        // its sender, which times out (PortBackend.h).
        batch_->AppendFault(information,
                            Status::FromCompletion(core::nt::kBufferTooSmall, "FilterGetMessage"));
      }
      break;
    case core::nt::kCancelled:
      window_.Completed(false);
      break;
    case core::nt::kPortDisconnected:
      window_.Completed(false);
      window_.Stop();
      if (!disconnected_) {
        disconnected_ = true;
        disconnect_status_ = Status::FromCompletion(nt, "FilterGetMessage");
        state_.TryTransition(core::SessionPhase::kDisconnected);
      }
      break;
    default:
      window_.Completed(false);
      batch_->AppendFault(0, Status::FromCompletion(nt, "FilterGetMessage"));
      break;
  }
  ArmWhatWeMay();
  return Status::Ok();
}

Status PortBackendPosix::OnReplyResult(Frame& frame) {
  uint64_t token = 0;
  {
    std::lock_guard<std::mutex> lock(owed_mu_);
    auto it = owed_.find(frame.tag);
    if (it == owed_.end() || it->second.send) {
      return Status::Protocol("REPLY_RESULT for tag " + std::to_string(frame.tag) +
                              ", which has no pending reply");
    }
    token = it->second.token;
    owed_.erase(it);
  }
  batch_->AppendReply(token, Status::FromNtStatus(frame.U32(0), kReplyCall));
  return Status::Ok();
}

Status PortBackendPosix::OnSendResult(Frame& frame) {
  const uint32_t information = frame.U32(4);
  const size_t carried = frame.size() - sizeof(FLTSIM_COMPLETION_BODY);
  if (carried != information) {
    return Status::Protocol("SEND_RESULT Information " + std::to_string(information) + " but " +
                            std::to_string(carried) + " bytes follow");
  }
  if (frame.tag >= kAsyncSendTagBase) return OnAsyncSendResult(frame);
  const uint64_t tag = frame.tag;
  switch (sends_.Complete(tag, std::move(frame))) {
    case WaiterTable::Delivery::kDelivered:
      return Status::Ok();
    case WaiterTable::Delivery::kUnknownTag:
      return NoPendingSend(tag);
    case WaiterTable::Delivery::kTooLong:
      return MoreThanTheOutputBuffer(information);
  }
  return Status::Ok();
}

// OnSendResult checked Information == the bytes that follow.
Status PortBackendPosix::OnAsyncSendResult(Frame& frame) {
  const uint32_t information = frame.U32(4);
  uint64_t token = 0;
  {
    std::lock_guard<std::mutex> lock(owed_mu_);
    auto it = owed_.find(frame.tag);
    if (it == owed_.end() || !it->second.send) return NoPendingSend(frame.tag);
    // Still owed: the failed session's Finish() answers it.
    if (information > it->second.out_cap) return MoreThanTheOutputBuffer(information);
    token = it->second.token;
    owed_.erase(it);
  }
  if (!batch_->FitsPayload(information)) FlushBatch(/*force=*/true);
  // A failure (a warning included) carries no bytes: AppendRead drops them.
  batch_->AppendRead(token, Status::FromNtStatus(frame.U32(0), kSendCall), frame.data(8),
                     information);
  return Status::Ok();
}

void PortBackendPosix::FlushBatch(bool force) {
  {
    std::lock_guard<std::mutex> lock(owed_mu_);
    for (auto& late : late_outcomes_) {
      if (late.owed.send) {
        batch_->AppendRead(late.owed.token, std::move(late.status), nullptr, 0);
      } else {
        batch_->AppendReply(late.owed.token, std::move(late.status));
      }
    }
    late_outcomes_.clear();
  }
  if (batch_->empty()) return;
  if (!force && !linger_.FlushNow(*batch_, Clock::now())) return;
  linger_.Flushed();
  events_->OnBatch(std::move(batch_));
  batch_ = std::make_unique<core::MessageBatch>();
}

void PortBackendPosix::Finish(core::StopReason reason, const Status& status) {
  window_.Stop();
  {
    // From here on Reply() and SendAsync() are refused: everything accepted so far is
    // answered in the final batch below, before OnStopped.
    std::lock_guard<std::mutex> lock(owed_mu_);
    accepting_ = false;
    for (const auto& [tag, owed] : owed_) {
      late_outcomes_.push_back({owed, PortDisconnected(owed.send ? kSendCall : kReplyCall)});
    }
    owed_.clear();
  }
  sends_.FailAll(PortDisconnected(kSendCall));
  if (reason != core::StopReason::kClosed) state_.TryTransition(core::SessionPhase::kDisconnected);
  // A broken stream is dropped at once (wire.h), not when the owner gets round to Close():
  // the host then sees the handle close and runs DisconnectNotify.
  if (reason == core::StopReason::kFailed) channel_->Shutdown();
  FlushBatch(/*force=*/true);
  if (!stopped_notified_) {
    stopped_notified_ = true;
    events_->OnStopped(reason, status);
  }
}

}  // namespace fltport::posix

namespace fltport::core {

// Caller's thread (a worker: the connect waits for ConnectNotify).
std::unique_ptr<PortBackend> PortBackend::Connect(const PortOptions& options, PortEvents* events,
                                                  Status* status) {
  if (!events) {
    *status = Status::Argument("no event sink", "FilterConnectCommunicationPort");
    return nullptr;
  }
  *status = posix::ValidateOptions(options);
  if (!status->ok()) return nullptr;
  std::unique_ptr<posix::FltsimStream> stream = posix::OpenPortStream(options, status);
  if (!stream) return nullptr;
  auto backend = std::make_unique<posix::PortBackendPosix>(options, events, std::move(stream));
  *status = backend->Start();
  if (!status->ok()) return nullptr;
  return backend;
}

}  // namespace fltport::core
