#include "MailslotBackendPosix.h"

#include <pthread.h>

#include <cstdio>
#include <limits>
#include <string>
#include <system_error>

#include "FltsimStream.h"
#include "FrameBuilder.h"
#include "fltsim/wire.h"

namespace fltport::posix {
namespace {

using core::Status;
using Clock = std::chrono::steady_clock;

constexpr int kOpenTimeoutMs = 10000;
// Info/SetReadTimeout never wait for messages; the host answers at once or is broken.
constexpr int kRequestTimeoutMs = 10000;
constexpr uint64_t kOpenTag = 1;
constexpr uint64_t kWriteTag = 2;

Status CheckName(const std::u16string& name, const char* call) {
  if (name.size() * 2 > FLTSIM_MAX_NAME_BYTES) {
    return Status::Argument("mailslot name longer than a UNICODE_STRING can hold", call);
  }
  return Status::Ok();
}

// Caller's thread: send `request`, expect one frame of `answer_type` with the same tag.
Status RoundTrip(FltsimStream* stream, const std::vector<uint8_t>& request, uint64_t tag,
                 uint16_t answer_type, Frame* answer, const char* call) {
  Status s = stream->WriteAll(request, kOpenTimeoutMs);
  if (s.ok()) s = stream->ReadFrame(answer, kOpenTimeoutMs);
  if (s.ok() && (answer->type != answer_type || answer->tag != tag)) {
    s = Status::Protocol("expected frame type " + std::to_string(answer_type) + " tag " +
                             std::to_string(tag) + ", got type " + std::to_string(answer->type) +
                             " tag " + std::to_string(answer->tag),
                         call);
  }
  return s;
}

}  // namespace

int64_t MailslotBackendPosix::NtTimeoutFromMs(uint32_t ms) {
  if (ms == core::kMailslotWaitForever) return -1;
  return -static_cast<int64_t>(ms) * 10000;
}

bool MailslotBackendPosix::MsFromNtTimeout(int64_t nt, uint32_t* ms) {
  if (nt == -1 || nt == std::numeric_limits<int64_t>::max()) {
    *ms = core::kMailslotWaitForever;
    return true;
  }
  if (nt > 0) return false;
  // kernel32 divides by -10000; clamp so a huge relative time is not mistaken for "forever".
  const int64_t v = nt / -10000;
  *ms = v >= int64_t(core::kMailslotWaitForever) ? core::kMailslotWaitForever - 1
                                                 : static_cast<uint32_t>(v);
  return true;
}

MailslotBackendPosix::MailslotBackendPosix(core::MailslotEvents* events,
                                           std::unique_ptr<FltsimStream> stream)
    : events_(events), channel_(std::make_unique<FrameChannel>(std::move(stream))) {}

MailslotBackendPosix::~MailslotBackendPosix() {
  Close();
  if (io_thread_.joinable()) io_thread_.detach();  // destroyed from our own callback: see port
}

Status MailslotBackendPosix::Start() {
  Status s = channel_->Open();
  if (!s.ok()) return s;
  batch_ = std::make_unique<core::MessageBatch>();
  s = state_.Transition(core::SessionPhase::kOpen);
  if (!s.ok()) return s;
  try {
    io_thread_ = std::thread(&MailslotBackendPosix::IoThreadMain, this);
  } catch (const std::system_error& e) {
    state_.TryTransition(core::SessionPhase::kDisconnected);
    return Status::FromErrno(e.code().value(), "pthread_create", "mailslot I/O thread");
  }
  return Status::Ok();
}

// Any thread; never blocks.
void MailslotBackendPosix::Read(uint64_t token, uint32_t max_size) {
  if (max_size > FLTSIM_MAX_FRAME - sizeof(FLTSIM_FRAME_HEADER) - sizeof(FLTSIM_COMPLETION_BODY)) {
    std::lock_guard<std::mutex> lock(reads_mu_);
    if (accepting_reads_) {
      late_outcomes_.push_back(
          {token, Status::Argument("read buffer larger than fltsim can carry", "ReadFile"), 0, 0, 0});
    }
    channel_->Wake();
    return;
  }
  uint64_t tag = 0;
  {
    std::lock_guard<std::mutex> lock(reads_mu_);
    if (!accepting_reads_) return;  // stopped: no callback is left to carry an outcome
    if (state_.phase() != core::SessionPhase::kOpen) {
      // Closing: what a ReadFile racing CancelIoEx gets.
      late_outcomes_.push_back(
          {token, Status::FromCompletion(core::nt::kCancelled, "ReadFile"), 0, 0, 0});
    } else {
      tag = next_read_tag_++;
      reads_.emplace(tag, PendingRead{token, max_size});
    }
  }
  if (tag != 0 &&
      channel_->Send(FrameBuilder(FLTSIM_MS_READ, tag).U32(max_size).U32(0).Finish())) {
    return;
  }
  if (tag != 0) {
    std::lock_guard<std::mutex> lock(reads_mu_);
    if (reads_.erase(tag) && accepting_reads_) {
      late_outcomes_.push_back(
          {token, Status::FromCompletion(core::nt::kCancelled, "ReadFile"), 0, 0, 0});
    }
  }
  channel_->Wake();
}

Status MailslotBackendPosix::Exchange(uint16_t type, const std::vector<uint8_t>& body,
                                      uint16_t answer_type, Frame* answer) {
  if (state_.phase() != core::SessionPhase::kOpen) {
    return Status::FromWin32(6, type == FLTSIM_MS_QUERY ? "GetMailslotInfo" : "SetMailslotInfo");
  }
  Status s;
  const uint64_t tag = requests_.Register(&s);
  if (tag == 0) return s;
  if (!channel_->Send(FrameBuilder(type, tag).Bytes(body.data(), body.size()).Finish())) {
    requests_.Abandon(tag);
    return Status::FromWin32(6, type == FLTSIM_MS_QUERY ? "GetMailslotInfo" : "SetMailslotInfo");
  }
  s = requests_.Wait(tag, answer, kRequestTimeoutMs);
  if (s.ok() && answer->type != answer_type) {
    s = Status::Protocol("answer of type " + std::to_string(answer->type) + " to request type " +
                         std::to_string(type));
  }
  return s;
}

// Worker or JS thread.
Status MailslotBackendPosix::Info(core::MailslotInfo* info) {
  Frame answer;
  Status s = Exchange(FLTSIM_MS_QUERY, {}, FLTSIM_MS_QUERY_RESULT, &answer);
  if (!s.ok()) return s;
  s = Status::FromCompletion(answer.U32(0), "GetMailslotInfo");
  if (!s.ok()) return s;
  uint32_t timeout_ms = 0;
  if (!MsFromNtTimeout(answer.I64(24), &timeout_ms)) {
    return Status::Protocol("mailslot read timeout is an absolute time", "GetMailslotInfo");
  }
  info->max_message_size = answer.U32(4);
  info->next_size = answer.U32(12);
  info->count = answer.U32(16);
  info->read_timeout_ms = timeout_ms;
  return Status::Ok();
}

// Worker or JS thread.
Status MailslotBackendPosix::SetReadTimeout(uint32_t read_timeout_ms) {
  std::vector<uint8_t> body(8);
  const auto nt = static_cast<uint64_t>(NtTimeoutFromMs(read_timeout_ms));
  for (int i = 0; i < 8; ++i) body[i] = static_cast<uint8_t>(nt >> (8 * i));
  Frame answer;
  Status s = Exchange(FLTSIM_MS_SET, body, FLTSIM_MS_SET_RESULT, &answer);
  if (!s.ok()) return s;
  return Status::FromCompletion(answer.U32(0), "SetMailslotInfo");
}

// Any thread but the I/O thread (from there it only requests the close).
void MailslotBackendPosix::Close() {
  if (io_thread_.joinable() && std::this_thread::get_id() == io_thread_.get_id()) {
    close_requested_.store(true, std::memory_order_release);
    channel_->Wake();
    return;
  }
  std::lock_guard<std::mutex> lock(close_mu_);
  if (state_.is_closed()) return;
  if (!state_.TryTransition(core::SessionPhase::kClosing)) {
    state_.TryTransition(core::SessionPhase::kClosed);
    return;
  }
  close_requested_.store(true, std::memory_order_release);
  channel_->Wake();
  if (io_thread_.joinable()) io_thread_.join();
  channel_->Shutdown();  // the host closes the mailslot when its last server handle goes
  requests_.FailAll(Status::FromWin32(6, "GetMailslotInfo"));
  state_.TryTransition(core::SessionPhase::kClosed);
}

// ---------------------------------------------------------------------------------------
// I/O thread

void MailslotBackendPosix::IoThreadMain() {
#ifdef __linux__
  pthread_setname_np(pthread_self(), "fltport-mslot");
#endif
  Status failure;
  bool hard = false;
  Clock::time_point deadline = Clock::time_point::max();
  for (;;) {
    if (close_requested_.load(std::memory_order_acquire) && !cancel_sent_) {
      cancel_sent_ = true;
      deadline = Clock::now() + std::chrono::milliseconds(drain_timeout_ms_.load());
      channel_->Send(FrameBuilder(FLTSIM_CANCEL, 0).U64(FLTSIM_CANCEL_ALL).Finish());
    }
    if (cancel_sent_) {
      std::lock_guard<std::mutex> lock(reads_mu_);
      if (reads_.empty()) break;
    }
    int timeout_ms = -1;
    if (cancel_sent_) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) {
        hard = true;
        break;
      }
      timeout_ms = static_cast<int>(left + 1);
    }
    Status s = channel_->Poll(timeout_ms, [this](Frame& f) { return OnFrame(f); });
    FlushBatch();
    if (!s.ok()) {
      failure = std::move(s);
      break;
    }
  }
  if (hard) {
    std::fprintf(stderr,
                 "fltport: mailslot at %s: reads still pending %lld ms after cancel; closing "
                 "without them\n",
                 channel_->path().c_str(), drain_timeout_ms_.load());
  }
  if (!failure.ok() && cancel_sent_) {
    std::fprintf(stderr, "fltport: mailslot at %s: stream failed while closing: %s %s\n",
                 channel_->path().c_str(), failure.syscall.c_str(), failure.detail.c_str());
    failure = Status::Ok();  // the user asked to close, and closed it is
  }
  Finish(failure);
}

Status MailslotBackendPosix::OnFrame(Frame& frame) {
  switch (frame.type) {
    case FLTSIM_MS_READ_COMPLETE:
      return OnReadComplete(frame);
    case FLTSIM_MS_QUERY_RESULT:
    case FLTSIM_MS_SET_RESULT: {
      const uint64_t tag = frame.tag;
      if (requests_.Complete(tag, std::move(frame)) != WaiterTable::Delivery::kDelivered) {
        return Status::Protocol("answer for tag " + std::to_string(tag) +
                                ", which has no pending request");
      }
      return Status::Ok();
    }
    default:
      return Status::Protocol("unexpected frame type " + std::to_string(frame.type) +
                              " on a mailslot stream");
  }
}

Status MailslotBackendPosix::OnReadComplete(Frame& frame) {
  PendingRead read{};
  {
    std::lock_guard<std::mutex> lock(reads_mu_);
    auto it = reads_.find(frame.tag);
    if (it == reads_.end()) {
      return Status::Protocol("MS_READ_COMPLETE for tag " + std::to_string(frame.tag) +
                              ", which has no pending read");
    }
    read = it->second;
  }
  const uint32_t nt = frame.U32(0);
  const uint32_t information = frame.U32(4);
  const size_t carried = frame.size() - sizeof(FLTSIM_COMPLETION_BODY);
  // Validate before forgetting the read: on a protocol error it stays pending and Finish()
  // settles it with the session's failure.
  if (nt == core::nt::kSuccess && (carried != information || information > read.max_size)) {
    return Status::Protocol("MS_READ_COMPLETE with " + std::to_string(carried) +
                            " bytes, Information " + std::to_string(information) + ", for a " +
                            std::to_string(read.max_size) + "-byte buffer");
  }
  if (nt != core::nt::kSuccess && carried != 0) {
    return Status::Protocol("failed MS_READ_COMPLETE carries " + std::to_string(carried) +
                            " bytes");
  }
  {
    std::lock_guard<std::mutex> lock(reads_mu_);
    reads_.erase(frame.tag);
  }
  if (nt == core::nt::kSuccess) {
    if (!batch_->FitsPayload(information)) FlushBatch();
    batch_->AppendRead(read.token, Status::Ok(), frame.data(8), information);
    return Status::Ok();
  }
  // BUFFER_TOO_SMALL: the message stays queued and Information is its size (spec §10.3).
  const uint32_t required = nt == core::nt::kBufferTooSmall ? information : 0;
  batch_->AppendRead(read.token, Status::FromCompletion(nt, "ReadFile"), nullptr, 0, required);
  return Status::Ok();
}

void MailslotBackendPosix::FlushBatch() {
  {
    std::lock_guard<std::mutex> lock(reads_mu_);
    for (auto& o : late_outcomes_) {
      batch_->AppendRead(o.token, std::move(o.status), nullptr, 0, o.required_size);
    }
    late_outcomes_.clear();
  }
  if (batch_->empty()) return;
  events_->OnBatch(std::move(batch_));
  batch_ = std::make_unique<core::MessageBatch>();
}

void MailslotBackendPosix::Finish(const Status& status) {
  {
    std::lock_guard<std::mutex> lock(reads_mu_);
    accepting_reads_ = false;
    // Reads the host never answered (stream failure or hard close): cancelled, as the
    // handle's close would leave them.
    for (const auto& [tag, read] : reads_) {
      late_outcomes_.push_back(
          {read.token,
           status.ok() ? Status::FromCompletion(core::nt::kCancelled, "ReadFile") : status, 0, 0,
           0});
    }
    reads_.clear();
  }
  requests_.FailAll(status.ok() ? Status::FromWin32(6, "GetMailslotInfo") : status);
  if (!close_requested_.load(std::memory_order_acquire)) {
    state_.TryTransition(core::SessionPhase::kDisconnected);
    channel_->Shutdown();  // a broken stream is dropped at once (wire.h)
  }
  FlushBatch();
  if (!stopped_notified_) {
    stopped_notified_ = true;
    events_->OnStopped(status);
  }
}

}  // namespace fltport::posix

namespace fltport::core {

// Any thread but an I/O thread.
std::unique_ptr<MailslotServer> MailslotServer::Create(const MailslotOptions& options,
                                                       MailslotEvents* events, Status* status) {
  if (!events) {
    *status = Status::Argument("no event sink", "CreateMailslotW");
    return nullptr;
  }
  *status = posix::CheckName(options.name, "CreateMailslotW");
  if (!status->ok()) return nullptr;
  std::unique_ptr<posix::FltsimStream> stream = posix::FltsimStream::Open(
      options.sim_runtime_dir, FLTSIM_KIND_MAILSLOT, posix::kOpenTimeoutMs, status);
  if (!stream) return nullptr;
  auto create = posix::FrameBuilder(FLTSIM_MS_CREATE, posix::kOpenTag)
                    .U32(options.max_message_size)
                    .U32(0)  // MailslotQuota: CreateMailslot always passes 0 (automatic)
                    .I64(posix::MailslotBackendPosix::NtTimeoutFromMs(options.read_timeout_ms))
                    .U16(static_cast<uint16_t>(options.name.size() * 2))
                    .U16(0)
                    .U16(0)
                    .U16(0)
                    .Utf16(options.name)
                    .Finish();
  posix::Frame answer;
  *status = posix::RoundTrip(stream.get(), create, posix::kOpenTag, FLTSIM_MS_OPEN_RESULT, &answer,
                             "CreateMailslotW");
  if (status->ok()) *status = Status::FromCompletion(answer.U32(0), "CreateMailslotW");
  if (!status->ok()) return nullptr;
  auto server = std::make_unique<posix::MailslotBackendPosix>(events, std::move(stream));
  *status = server->Start();
  if (!status->ok()) return nullptr;
  return server;
}

// Worker thread: CreateFile + WriteFile + CloseHandle.
Status MailslotWrite(const std::u16string& name, const uint8_t* data, uint32_t length,
                     const std::string& sim_runtime_dir) {
  Status s = posix::CheckName(name, "CreateFileW");
  if (!s.ok()) return s;
  if (length > FLTSIM_MAX_FRAME - sizeof(FLTSIM_FRAME_HEADER)) {
    return Status::Argument("mailslot message larger than fltsim can carry", "WriteFile");
  }
  std::unique_ptr<posix::FltsimStream> stream =
      posix::FltsimStream::Open(sim_runtime_dir, FLTSIM_KIND_MAILSLOT, posix::kOpenTimeoutMs, &s);
  if (!stream) return s;
  auto open = posix::FrameBuilder(FLTSIM_MS_OPEN, posix::kOpenTag)
                  .U16(static_cast<uint16_t>(name.size() * 2))
                  .U16(0)
                  .U16(0)
                  .U16(0)
                  .Utf16(name)
                  .Finish();
  posix::Frame answer;
  s = posix::RoundTrip(stream.get(), open, posix::kOpenTag, FLTSIM_MS_OPEN_RESULT, &answer,
                       "CreateFileW");
  if (s.ok()) s = Status::FromCompletion(answer.U32(0), "CreateFileW");
  if (!s.ok()) return s;
  auto write = posix::FrameBuilder(FLTSIM_MS_WRITE, posix::kWriteTag).Bytes(data, length).Finish();
  s = posix::RoundTrip(stream.get(), write, posix::kWriteTag, FLTSIM_MS_WRITE_RESULT, &answer,
                       "WriteFile");
  if (s.ok()) s = Status::FromCompletion(answer.U32(0), "WriteFile");
  if (s.ok() && answer.U32(4) != length) {
    s = Status::Protocol("mailslot write of " + std::to_string(length) + " bytes reported " +
                             std::to_string(answer.U32(4)) + " written",
                         "WriteFile");
  }
  return s;  // the stream closes here: CloseHandle of the client end
}

}  // namespace fltport::core
