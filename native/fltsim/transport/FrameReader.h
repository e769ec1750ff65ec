// Splits a byte stream into fltsim frames and checks what can be checked without knowing the
// stream's state (wire.h "Validation rule"): Length within [16, FLTSIM_MAX_FRAME] and
// Flags == 0. It never buffers more than one frame plus one read's worth of bytes. Used by
// one thread at a time (the I/O thread of its stream).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fltsim/wire.h"

namespace fltport::fltsim {

class FrameReader {
 public:
  enum class Result { kFrame, kNeedMore, kMalformed };

  void Append(const uint8_t* data, size_t size);
  // kFrame: *header and *body (Length - 16 bytes) hold the next frame. kMalformed: *why says
  // what is wrong; the stream must be dropped (its framing is lost).
  Result Next(FLTSIM_FRAME_HEADER* header, std::vector<uint8_t>* body, std::string* why);
  size_t buffered() const { return buffer_.size() - offset_; }

 private:
  std::vector<uint8_t> buffer_;
  size_t offset_ = 0;
};

// Little-endian field access for frame bodies (wire.h: all integers are little-endian).
inline uint16_t WireLe16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline uint32_t WireLe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}
inline uint64_t WireLe64(const uint8_t* p) {
  return static_cast<uint64_t>(WireLe32(p)) | (static_cast<uint64_t>(WireLe32(p + 4)) << 32);
}
inline void WirePut16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
inline void WirePut32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void WirePut64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

// A whole frame: header followed by the parts.
std::vector<uint8_t> BuildFrame(uint16_t type, uint64_t tag, const void* part1, size_t size1,
                                const void* part2 = nullptr, size_t size2 = 0);

}  // namespace fltport::fltsim
