#include "MessageBatch.h"

#include <cstring>
#include <string>

namespace fltport::core {
namespace {
constexpr size_t kHeaderSize = 16;  // FILTER_MESSAGE_HEADER, identical on every Windows ABI

uint32_t ReadU32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t ReadU64(const uint8_t* p) { return uint64_t(ReadU32(p)) | uint64_t(ReadU32(p + 4)) << 32; }
}  // namespace

uint32_t MessageBatch::AppendBytes(const uint8_t* data, size_t length) {
  const auto offset = static_cast<uint32_t>(bytes_.size());
  // Keep every payload 8-aligned inside the batch so JS DataViews on u64 fields stay aligned.
  const size_t padded = (length + 7) & ~size_t(7);
  bytes_.resize(bytes_.size() + padded);
  if (length) std::memcpy(bytes_.data() + offset, data, length);
  return offset;
}

bool MessageBatch::AppendMessage(const uint8_t* message, size_t total) {
  if (total < kHeaderSize || !FitsPayload(total - kHeaderSize)) return false;
  MessageRecord rec;
  rec.reply_length = ReadU32(message);
  rec.message_id = ReadU64(message + 8);
  rec.length = static_cast<uint32_t>(total - kHeaderSize);
  rec.offset = AppendBytes(message + kHeaderSize, rec.length);
  messages_.push_back(rec);
  return true;
}

void MessageBatch::AppendRead(uint64_t token, Status status, const uint8_t* data, size_t length,
                              uint32_t required_size) {
  ReadOutcome out{token, std::move(status), 0, 0, required_size};
  if (out.status.ok() && !FitsPayload(length)) {
    out.status = Status::Protocol("read of " + std::to_string(length) + " bytes exceeds one batch",
                                  "ReadFile");
  }
  if (out.status.ok()) {
    out.length = static_cast<uint32_t>(length);
    out.offset = AppendBytes(data, length);
  }
  reads_.push_back(std::move(out));
}

}  // namespace fltport::core
