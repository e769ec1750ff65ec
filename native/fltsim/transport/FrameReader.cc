#include "FrameReader.h"

#include <cstring>

namespace fltport::fltsim {

void FrameReader::Append(const uint8_t* data, size_t size) {
  // Compact before growing so a long-lived stream does not keep consumed bytes around.
  if (offset_ > 0 && offset_ == buffer_.size()) {
    buffer_.clear();
    offset_ = 0;
  } else if (offset_ > 65536 && offset_ * 2 > buffer_.size()) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<ptrdiff_t>(offset_));
    offset_ = 0;
  }
  buffer_.insert(buffer_.end(), data, data + size);
}

FrameReader::Result FrameReader::Next(FLTSIM_FRAME_HEADER* header, std::vector<uint8_t>* body,
                                      std::string* why) {
  const size_t available = buffer_.size() - offset_;
  if (available < sizeof(FLTSIM_FRAME_HEADER)) return Result::kNeedMore;
  const uint8_t* p = buffer_.data() + offset_;
  FLTSIM_FRAME_HEADER h;
  h.Length = WireLe32(p);
  h.Type = WireLe16(p + 4);
  h.Flags = WireLe16(p + 6);
  h.Tag = WireLe64(p + 8);
  // Checked before waiting for the body, so a bogus Length never makes us buffer 4 GiB.
  if (h.Length < sizeof(FLTSIM_FRAME_HEADER)) {
    *why = "frame Length " + std::to_string(h.Length) + " is smaller than the 16-byte header";
    return Result::kMalformed;
  }
  if (h.Length > FLTSIM_MAX_FRAME) {
    *why = "frame Length " + std::to_string(h.Length) + " exceeds FLTSIM_MAX_FRAME";
    return Result::kMalformed;
  }
  if (h.Flags != 0) {
    *why = "frame Flags " + std::to_string(h.Flags) + " is not 0";
    return Result::kMalformed;
  }
  if (available < h.Length) return Result::kNeedMore;
  body->assign(p + sizeof(FLTSIM_FRAME_HEADER), p + h.Length);
  offset_ += h.Length;
  *header = h;
  return Result::kFrame;
}

std::vector<uint8_t> BuildFrame(uint16_t type, uint64_t tag, const void* part1, size_t size1,
                                const void* part2, size_t size2) {
  const size_t total = sizeof(FLTSIM_FRAME_HEADER) + size1 + size2;
  std::vector<uint8_t> frame(total);
  WirePut32(frame.data(), static_cast<uint32_t>(total));
  WirePut16(frame.data() + 4, type);
  WirePut16(frame.data() + 6, 0);
  WirePut64(frame.data() + 8, tag);
  if (size1 > 0) std::memcpy(frame.data() + sizeof(FLTSIM_FRAME_HEADER), part1, size1);
  if (size2 > 0) std::memcpy(frame.data() + sizeof(FLTSIM_FRAME_HEADER) + size1, part2, size2);
  return frame;
}

}  // namespace fltport::fltsim
