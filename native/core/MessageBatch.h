// What a backend's I/O thread hands to JS in one thread-safe-function call: every message,
// reply outcome and per-message error completed since the last hand-off. Payload bytes of
// all messages live in one contiguous buffer (one allocation per batch, not per message);
// N-API exposes it as one ArrayBuffer and JS takes views into it.
//
// Threads: built on the backend's I/O thread, then moved (never shared) to the JS thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "Status.h"

namespace fltport::core {

// A message the kernel (or fltsim) delivered through FilterGetMessage.
struct MessageRecord {
  uint64_t message_id;    // FILTER_MESSAGE_HEADER.MessageId
  uint32_t reply_length;  // FILTER_MESSAGE_HEADER.ReplyLength (0 = no reply expected; else cap + 16)
  uint32_t offset;        // of the payload (the bytes after the 16-byte header) in bytes()
  uint32_t length;        // payload length
};

// The outcome of a Reply() (FilterReplyMessage), matched to the JS promise by token.
struct ReplyOutcome {
  uint64_t token;
  Status status;
};

// A completed one-shot request that reads bytes back: a mailslot ReadFile, or the output
// buffer of an asynchronous FilterSendMessage (PortBackend::SendAsync). Its bytes are at
// [offset, offset+length) in bytes(); on failure length is 0 and status says why (e.g.
// ERROR_SEM_TIMEOUT, or the driver's status for a send).
struct ReadOutcome {
  uint64_t token;
  Status status;
  uint32_t offset;
  uint32_t length;
  uint32_t required_size;  // for ERROR_INSUFFICIENT_BUFFER: the size of the waiting message
};

// A receive that could not yield a message: e.g. a message larger than maxMessageSize
// (its required size is known, the message itself is not), or a transport fault that did
// not end the session.
struct ReceiveFault {
  uint32_t required_size;  // 16 + payload length the kernel reported, or 0
  Status status;
};

class MessageBatch {
 public:
  // I/O thread. `message` points at a FILTER_MESSAGE_HEADER followed by its payload;
  // `total` is the byte count the completion reported (16 + payload).
  // Returns false (and appends nothing) if total < 16, or if the payload would not fit
  // (see Fits): the caller reports a ReceiveFault.
  bool AppendMessage(const uint8_t* message, size_t total);
  void AppendReply(uint64_t token, Status status) {
    if (!status.ok()) ++failed_replies_;
    replies_.push_back({token, std::move(status)});
  }
  // I/O thread: a one-shot read or send completed with `length` bytes at `data` (or failed). A
  // successful read whose bytes would not fit (see Fits) is recorded as a kProtocol failure
  // rather than with a truncated offset.
  void AppendRead(uint64_t token, Status status, const uint8_t* data, size_t length,
                  uint32_t required_size = 0);
  void AppendFault(uint32_t required_size, Status status) {
    faults_.push_back({required_size, std::move(status)});
  }

  // Whether `length` more payload bytes can be added. Offsets and lengths cross to JS as
  // u32, so one batch holds at most kMaxBytes; a backend that gets close flushes the batch
  // early (a pathological case: 1024 receives of 4 MiB each).
  static constexpr size_t kMaxBytes = size_t(1) << 31;
  bool Fits(size_t length) const { return length <= kMaxBytes && bytes_.size() <= kMaxBytes - length; }
  // Whether a payload of `length` bytes can be appended, with the padding that keeps the
  // next payload 8-aligned (AppendMessage, AppendRead). `length` is checked on its own first:
  // near SIZE_MAX, length + 7 wraps to a small number that would fit.
  bool FitsPayload(size_t length) const { return length <= kMaxBytes && Fits(length + 7); }

  bool empty() const {
    return messages_.empty() && replies_.empty() && reads_.empty() && faults_.empty();
  }
  size_t message_count() const { return messages_.size(); }
  // Whether all the batch carries is reply outcomes that succeeded (see BatchLinger).
  bool only_successful_replies() const {
    return !replies_.empty() && failed_replies_ == 0 && messages_.empty() && reads_.empty() &&
           faults_.empty();
  }

  const std::vector<MessageRecord>& messages() const { return messages_; }
  const std::vector<ReplyOutcome>& replies() const { return replies_; }
  const std::vector<ReadOutcome>& reads() const { return reads_; }
  const std::vector<ReceiveFault>& faults() const { return faults_; }
  // The payload bytes; N-API takes ownership of this vector's storage for the ArrayBuffer.
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<MessageRecord> messages_;
  std::vector<ReplyOutcome> replies_;
  std::vector<ReadOutcome> reads_;
  std::vector<ReceiveFault> faults_;
  std::vector<uint8_t> bytes_;
  size_t failed_replies_ = 0;

  uint32_t AppendBytes(const uint8_t* data, size_t length);
};

}  // namespace fltport::core
