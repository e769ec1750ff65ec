#include "MessageBatch.h"

#include <cstring>

namespace fltport::core {
namespace {
constexpr size_t kHeaderSize = 16;  // FILTER_MESSAGE_HEADER, identical on every Windows ABI

uint32_t ReadU32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t ReadU64(const uint8_t* p) { return uint64_t(ReadU32(p)) | uint64_t(ReadU32(p + 4)) << 32; }
}  // namespace

bool MessageBatch::AppendMessage(const uint8_t* message, size_t total) {
  if (total < kHeaderSize) return false;
  const size_t length = total - kHeaderSize;
  MessageRecord rec;
  rec.reply_length = ReadU32(message);
  rec.message_id = ReadU64(message + 8);
  rec.offset = static_cast<uint32_t>(bytes_.size());
  rec.length = static_cast<uint32_t>(length);
  // Keep every payload 8-aligned inside the batch so JS DataViews on u64 fields stay aligned.
  const size_t padded = (length + 7) & ~size_t(7);
  bytes_.resize(bytes_.size() + padded);
  if (length) std::memcpy(bytes_.data() + rec.offset, message + kHeaderSize, length);
  messages_.push_back(rec);
  return true;
}

}  // namespace fltport::core
