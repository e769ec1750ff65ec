#include "FrameBuilder.h"

namespace fltport::posix {

FrameBuilder::FrameBuilder(uint16_t type, uint64_t tag) {
  bytes_.reserve(64);
  U32(0);  // Length, patched by Finish()
  U16(type);
  U16(0);  // Flags: reserved, must be 0
  U64(tag);
}

FrameBuilder& FrameBuilder::U16(uint16_t v) {
  bytes_.push_back(static_cast<uint8_t>(v));
  bytes_.push_back(static_cast<uint8_t>(v >> 8));
  return *this;
}

FrameBuilder& FrameBuilder::U32(uint32_t v) {
  for (int i = 0; i < 4; ++i) bytes_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  return *this;
}

FrameBuilder& FrameBuilder::U64(uint64_t v) {
  for (int i = 0; i < 8; ++i) bytes_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  return *this;
}

FrameBuilder& FrameBuilder::Bytes(const uint8_t* data, size_t length) {
  if (length) bytes_.insert(bytes_.end(), data, data + length);
  return *this;
}

FrameBuilder& FrameBuilder::Utf16(const std::u16string& text) {
  for (char16_t c : text) U16(static_cast<uint16_t>(c));
  return *this;
}

std::vector<uint8_t> FrameBuilder::Finish() {
  const auto length = static_cast<uint32_t>(bytes_.size());
  for (int i = 0; i < 4; ++i) bytes_[i] = static_cast<uint8_t>(length >> (8 * i));
  return std::move(bytes_);
}

}  // namespace fltport::posix
