#include "MailslotEngine.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include "ControlText.h"
#include "EventSink.h"
#include "Log.h"
#include "ObjectName.h"
#include "SimKernel.h"
#include "StatusTable.h"
#include "fltsim/wire.h"

namespace fltport::fltsim {

// A driver thread blocked in ZwReadFile; lives on its stack while queued.
struct KernelReadWait {
  uint8_t* buffer = nullptr;
  uint32_t size = 0;
  bool done = false;
  uint32_t status = 0;
  uint32_t information = 0;
};

namespace {

namespace nt = core::nt;

// A message must fit in one MS_READ_COMPLETE frame (header + completion body + bytes).
constexpr uint32_t kMaxMessage =
    FLTSIM_MAX_FRAME - sizeof(FLTSIM_FRAME_HEADER) - sizeof(FLTSIM_COMPLETION_BODY);
// fltsim safety limit on unread bytes per mailslot (Windows bounds it by MailslotQuota, whose
// exhaustion behaviour is UNCONFIRMED): writes beyond fail with STATUS_INSUFFICIENT_RESOURCES.
constexpr uint64_t kMaxQueuedBytes = 64ull * 1024 * 1024;

// ReadTimeout in NT form (spec §10.2): 0 = immediate, -1 and INT64_MAX = forever (ReactOS and
// Wine spell MAILSLOT_WAIT_FOREVER differently), other negative = relative, positive = absolute.
Deadline ReadDeadline(int64_t timeout) {
  if (timeout == -1 || timeout == INT64_MAX) return Deadline::Infinite();
  if (timeout == 0) return Deadline::Now();
  return Deadline::FromNtTimeout(&timeout, true);
}

}  // namespace

MailslotEngine::MailslotEngine(SimKernel* kernel) : kernel_(kernel) {
  timer_ = std::thread([this] { TimerMain(); });
}

MailslotEngine::~MailslotEngine() { Shutdown(); }

uint32_t MailslotEngine::Create(const std::u16string& name, uint32_t max_message_size,
                                uint32_t quota, int64_t read_timeout, bool kernel_owned,
                                std::shared_ptr<Mailslot>* out) {
  out->reset();
  std::u16string key;
  uint32_t status = ParseMailslotName(name, &key);
  if (status != nt::kSuccess) {
    // Win32 CreateMailslot reports every malformed name as ERROR_INVALID_NAME (spec §10.3);
    // the NT call distinguishes a relative name (spec §10.2).
    if (!kernel_owned || status == nt::kObjectNameNotFound) status = nt::kObjectNameInvalid;
    return status;
  }
  auto slot = std::make_shared<Mailslot>();
  slot->name = name;
  slot->key = key;
  slot->kernel_owned = kernel_owned;
  slot->max_message_size = max_message_size;
  slot->quota = quota;
  slot->read_timeout = read_timeout;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return nt::kFltDeletingObject;
    if (namespace_.count(key) != 0) return nt::kObjectNameCollision;
    slot->id = next_id_++;
    namespace_.emplace(key, slot);
  }
  kernel_->EmitEvent(EventCategory::kMailslot, LineBuilder("ms-created")
                                                   .Add("ms", slot->id)
                                                   .Add("name", Utf16ToUtf8(name))
                                                   .Add("kernel", kernel_owned ? 1 : 0)
                                                   .str());
  *out = std::move(slot);
  return nt::kSuccess;
}

uint32_t MailslotEngine::Open(const std::u16string& name, std::shared_ptr<Mailslot>* out) {
  out->reset();
  std::u16string key;
  uint32_t status = ParseMailslotName(name, &key);
  if (status != nt::kSuccess) {
    return status == nt::kObjectPathSyntaxBad ? nt::kObjectNameInvalid : status;
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = namespace_.find(key);
  if (it == namespace_.end()) return nt::kObjectNameNotFound;
  *out = it->second;
  return nt::kSuccess;
}

uint32_t MailslotEngine::Write(Mailslot& slot, const uint8_t* data, uint32_t size) {
  SimOptions opts = kernel_->options().Get();
  if (size > kMaxMessage) return nt::kInsufficientResources;
  Completions done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!slot.alive) return opts.ms_write_after_close_status;
    if (slot.max_message_size != 0 && size > slot.max_message_size) {
      return opts.ms_oversize_write_status;
    }
    if (slot.queued_bytes + size > kMaxQueuedBytes) return nt::kInsufficientResources;
    slot.messages.emplace_back(data, data + size);  // zero-length messages are legal
    slot.queued_bytes += size;
    ServeLocked(slot, &done);
  }
  Deliver(&done);
  return nt::kSuccess;
}

void MailslotEngine::PostRead(Mailslot& slot, uint64_t tag, uint32_t size,
                              std::shared_ptr<MailslotSink> sink) {
  SimOptions opts = kernel_->options().Get();
  Completions done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    MailslotReadRequest request;
    request.tag = tag;
    request.size = size;
    request.sink = std::move(sink);
    bool duplicate = std::any_of(slot.reads.begin(), slot.reads.end(),
                                 [&](const MailslotReadRequest& r) { return r.sink && r.tag == tag; });
    if (!slot.alive) {
      FinishLocked(request, nt::kInvalidHandle, 0, {}, &done);
    } else if (duplicate) {
      FinishLocked(request, nt::kInvalidParameter, 0, {}, &done);
    } else if (slot.reads.size() >= opts.max_pending_requests) {
      FinishLocked(request, nt::kInsufficientResources, 0, {}, &done);
    } else if (!slot.messages.empty()) {
      // Pending reads are served as soon as a message arrives, so none is ahead of this one.
      CompleteFromHeadLocked(slot, request, &done);
    } else if (slot.read_timeout == 0) {
      // Timeout 0 on an empty mailslot is an error return, ERROR_SEM_TIMEOUT (spec G23).
      FinishLocked(request, nt::kIoTimeout, 0, {}, &done);
    } else {
      request.deadline = ReadDeadline(slot.read_timeout);
      slot.reads.push_back(std::move(request));
      timer_cv_.notify_all();
    }
  }
  Deliver(&done);
}

uint32_t MailslotEngine::KernelRead(Mailslot& slot, void* buffer, uint32_t size,
                                    uint32_t* information) {
  *information = 0;
  KernelReadWait wait;
  wait.buffer = static_cast<uint8_t*>(buffer);
  wait.size = size;
  Completions done;  // stays empty: kernel reads complete in place
  std::unique_lock<std::mutex> lock(mu_);
  if (!slot.alive) return nt::kInvalidHandle;
  MailslotReadRequest request;
  request.size = size;
  request.kernel = &wait;
  request.deadline = ReadDeadline(slot.read_timeout);
  if (!slot.messages.empty()) {
    CompleteFromHeadLocked(slot, request, &done);
  } else if (slot.read_timeout == 0) {
    return nt::kIoTimeout;
  } else {
    slot.reads.push_back(request);
    while (!wait.done) {
      if (request.deadline.Expired()) {
        slot.reads.erase(std::remove_if(slot.reads.begin(), slot.reads.end(),
                                        [&](const MailslotReadRequest& r) { return r.kernel == &wait; }),
                         slot.reads.end());
        return nt::kIoTimeout;
      }
      if (request.deadline.infinite()) {
        readers_cv_.wait(lock);
      } else {
        readers_cv_.wait_until(lock, request.deadline.at());
      }
    }
  }
  *information = wait.information;
  return wait.status;
}

void MailslotEngine::Cancel(Mailslot& slot, uint64_t tag, bool all_tags) {
  Completions done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = slot.reads.begin(); it != slot.reads.end();) {
      if (it->sink && (all_tags || it->tag == tag)) {
        FinishLocked(*it, nt::kCancelled, 0, {}, &done);
        it = slot.reads.erase(it);
      } else {
        ++it;
      }
    }
  }
  Deliver(&done);
}

MailslotInfo MailslotEngine::Query(Mailslot& slot) {
  std::lock_guard<std::mutex> lock(mu_);
  return InfoLocked(slot);
}

void MailslotEngine::SetReadTimeout(Mailslot& slot, int64_t read_timeout) {
  std::lock_guard<std::mutex> lock(mu_);
  // Applies to reads issued from now on; pending reads keep the deadline they started with.
  slot.read_timeout = read_timeout;
}

void MailslotEngine::CloseServer(Mailslot& slot) {
  Completions done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!slot.alive) return;
    slot.alive = false;
    auto it = namespace_.find(slot.key);
    if (it != namespace_.end() && it->second.get() == &slot) namespace_.erase(it);
    slot.messages.clear();  // unread messages die with the server (spec §10.3 "Lifetime")
    slot.queued_bytes = 0;
    for (auto& request : slot.reads) FinishLocked(request, nt::kCancelled, 0, {}, &done);
    slot.reads.clear();
  }
  Deliver(&done);
  kernel_->EmitEvent(EventCategory::kMailslot, LineBuilder("ms-closed")
                                                   .Add("ms", slot.id)
                                                   .Add("name", Utf16ToUtf8(slot.name))
                                                   .str());
}

std::vector<MailslotInfo> MailslotEngine::List() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<MailslotInfo> out;
  for (const auto& [key, slot] : namespace_) out.push_back(InfoLocked(*slot));
  return out;
}

void MailslotEngine::Shutdown() {
  std::vector<std::shared_ptr<Mailslot>> slots;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !timer_.joinable()) return;
    stopping_ = true;
    for (const auto& [key, slot] : namespace_) slots.push_back(slot);
    timer_cv_.notify_all();
  }
  for (const auto& slot : slots) CloseServer(*slot);
  if (timer_.joinable()) timer_.join();
}

void MailslotEngine::ServeLocked(Mailslot& slot, Completions* done) {
  while (!slot.messages.empty() && !slot.reads.empty()) {
    MailslotReadRequest request = std::move(slot.reads.front());
    slot.reads.pop_front();
    CompleteFromHeadLocked(slot, request, done);
  }
}

void MailslotEngine::CompleteFromHeadLocked(Mailslot& slot, MailslotReadRequest& request,
                                            Completions* done) {
  std::vector<uint8_t>& head = slot.messages.front();
  const uint32_t length = static_cast<uint32_t>(head.size());
  if (length <= request.size) {
    std::vector<uint8_t> bytes = std::move(head);
    slot.messages.pop_front();
    slot.queued_bytes -= length;
    FinishLocked(request, nt::kSuccess, length, std::move(bytes), done);
    return;
  }
  if (kernel_->options().Get().ms_small_read == MailslotSmallRead::kKeep) {
    // Wine's behaviour (spec §10.3): fail and keep the message. Information carries the size
    // it needs, a fltsim convenience (Windows reports 0 and callers ask GetMailslotInfo).
    FinishLocked(request, nt::kBufferTooSmall, length, {}, done);
    return;
  }
  // ReactOS msfs: copy what fits, drop the rest of the message.
  std::vector<uint8_t> bytes(head.begin(), head.begin() + request.size);
  slot.messages.pop_front();
  slot.queued_bytes -= length;
  FinishLocked(request, nt::kSuccess, request.size, std::move(bytes), done);
}

void MailslotEngine::FinishLocked(MailslotReadRequest& request, uint32_t status,
                                  uint32_t information, std::vector<uint8_t> bytes,
                                  Completions* done) {
  if (request.kernel != nullptr) {
    KernelReadWait* wait = request.kernel;
    if (!bytes.empty()) std::memcpy(wait->buffer, bytes.data(), bytes.size());
    wait->status = status;
    wait->information = information;
    wait->done = true;
    readers_cv_.notify_all();
    return;
  }
  done->push_back(ReadCompletion{request.sink, request.tag, status, information, std::move(bytes)});
}

MailslotInfo MailslotEngine::InfoLocked(const Mailslot& slot) const {
  MailslotInfo info;
  info.id = slot.id;
  info.name = Utf16ToUtf8(slot.name);
  info.kernel_owned = slot.kernel_owned;
  info.alive = slot.alive;
  info.max_message_size = slot.max_message_size;
  info.quota = slot.quota;
  info.next_size = slot.messages.empty() ? 0xFFFFFFFFu : static_cast<uint32_t>(slot.messages.front().size());
  info.count = static_cast<uint32_t>(slot.messages.size());
  info.read_timeout = slot.read_timeout;
  info.pending_reads = slot.reads.size();
  return info;
}

void MailslotEngine::Deliver(Completions* done) {
  for (ReadCompletion& c : *done) {
    if (c.sink) c.sink->OnReadComplete(c.tag, c.status, c.information, std::move(c.bytes));
  }
  done->clear();
}

void MailslotEngine::TimerMain() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    Deadline earliest = Deadline::Infinite();
    Completions done;
    for (auto& [key, slot] : namespace_) {
      for (auto it = slot->reads.begin(); it != slot->reads.end();) {
        if (it->sink && it->deadline.Expired()) {
          FinishLocked(*it, nt::kIoTimeout, 0, {}, &done);
          it = slot->reads.erase(it);
          continue;
        }
        if (it->sink && !it->deadline.infinite() &&
            (earliest.infinite() || it->deadline.at() < earliest.at())) {
          earliest = it->deadline;
        }
        ++it;
      }
    }
    if (!done.empty()) {
      lock.unlock();
      Deliver(&done);
      lock.lock();
      continue;
    }
    if (earliest.infinite()) {
      timer_cv_.wait(lock);
    } else {
      timer_cv_.wait_until(lock, earliest.at());
    }
  }
}

}  // namespace fltport::fltsim
