// TEST-ONLY: a core::PortEvents that records what a port backend reports (messages, reply
// and one-shot outcomes, faults, the stop) and checks the callback contract as it goes. No
// platform headers: the POSIX tests (posix_test_peer.h) and the Wine test of the Windows
// backend (wine_port_backend_test.cc) both use it.
//
// Threads: called from the backend's I/O thread; read from the test's thread under its mutex.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "MessageBatch.h"
#include "PortBackend.h"
#include "Status.h"

namespace fltport::test {

using Bytes = std::vector<uint8_t>;

// Records what a port backend reports, and checks the callback contract as it goes.
class RecordingPortEvents : public core::PortEvents {
 public:
  void OnBatch(std::unique_ptr<core::MessageBatch> batch) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (batch->empty()) ++contract_violations_;
    if (stopped_ > 0) ++contract_violations_;  // OnBatch after OnStopped
    batches_.push_back(std::move(batch));
    cv_.notify_all();
  }
  void OnStopped(core::StopReason reason, const core::Status& status) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++stopped_;
    reason_ = reason;
    status_ = status;
    cv_.notify_all();
  }

  template <class Pred>
  bool WaitUntil(Pred pred, int timeout_ms = 5000) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return pred(); });
  }
  bool WaitMessages(size_t n, int timeout_ms = 5000) {
    return WaitUntil([&] { return MessageCountLocked() >= n; }, timeout_ms);
  }
  bool WaitReplies(size_t n, int timeout_ms = 5000) {
    return WaitUntil([&] { return ReplyCountLocked() >= n; }, timeout_ms);
  }
  bool WaitReads(size_t n, int timeout_ms = 5000) {
    return WaitUntil([&] { return ReadCountLocked() >= n; }, timeout_ms);
  }
  bool WaitFaults(size_t n, int timeout_ms = 5000) {
    return WaitUntil([&] { return FaultCountLocked() >= n; }, timeout_ms);
  }
  bool WaitStopped(int timeout_ms = 5000) {
    return WaitUntil([&] { return stopped_ > 0; }, timeout_ms);
  }

  struct Message {
    uint64_t id;
    uint32_t reply_length;
    Bytes payload;
  };
  std::vector<Message> Messages() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Message> out;
    for (auto& b : batches_) {
      for (const auto& m : b->messages()) {
        out.push_back({m.message_id, m.reply_length, Slice(*b, m.offset, m.length)});
      }
    }
    return out;
  }
  std::vector<core::ReplyOutcome> Replies() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<core::ReplyOutcome> out;
    for (auto& b : batches_) out.insert(out.end(), b->replies().begin(), b->replies().end());
    return out;
  }
  // One-shot outcomes (SendAsync's), with their bytes copied out of the batch.
  struct Read {
    uint64_t token;
    core::Status status;
    Bytes bytes;
  };
  std::vector<Read> Reads() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Read> out;
    for (auto& b : batches_) {
      for (const auto& r : b->reads()) {
        out.push_back({r.token, r.status, Slice(*b, r.offset, r.length)});
      }
    }
    return out;
  }
  std::vector<core::ReceiveFault> Faults() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<core::ReceiveFault> out;
    for (auto& b : batches_) out.insert(out.end(), b->faults().begin(), b->faults().end());
    return out;
  }
  size_t BatchCount() {
    std::lock_guard<std::mutex> lock(mu_);
    return batches_.size();
  }
  // Offsets of every message in every batch, for the alignment check.
  std::vector<uint32_t> Offsets() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<uint32_t> out;
    for (auto& b : batches_) {
      for (const auto& m : b->messages()) out.push_back(m.offset);
    }
    return out;
  }
  int stopped() {
    std::lock_guard<std::mutex> lock(mu_);
    return stopped_;
  }
  core::StopReason reason() {
    std::lock_guard<std::mutex> lock(mu_);
    return reason_;
  }
  core::Status status() {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }
  int contract_violations() {
    std::lock_guard<std::mutex> lock(mu_);
    return contract_violations_;
  }

 private:
  static Bytes Slice(core::MessageBatch& b, uint32_t offset, uint32_t length) {
    return Bytes(b.bytes().begin() + offset, b.bytes().begin() + offset + length);
  }
  size_t MessageCountLocked() {
    size_t n = 0;
    for (auto& b : batches_) n += b->message_count();
    return n;
  }
  size_t ReplyCountLocked() {
    size_t n = 0;
    for (auto& b : batches_) n += b->replies().size();
    return n;
  }
  size_t ReadCountLocked() {
    size_t n = 0;
    for (auto& b : batches_) n += b->reads().size();
    return n;
  }
  size_t FaultCountLocked() {
    size_t n = 0;
    for (auto& b : batches_) n += b->faults().size();
    return n;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<core::MessageBatch>> batches_;
  int stopped_ = 0;
  core::StopReason reason_ = core::StopReason::kFailed;
  core::Status status_;
  int contract_violations_ = 0;
};

}  // namespace fltport::test
