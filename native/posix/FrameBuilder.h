// Builds one fltsim wire frame (native/fltsim/include/fltsim/wire.h): the 16-byte
// FLTSIM_FRAME_HEADER, then fields appended little-endian one by one. Fields are written
// byte by byte, never by copying a struct, so the bytes on the wire do not depend on the
// host's endianness or on how this compiler lays out wire.h's structs.
//
// Threads: a builder is used by one thread at a time (whichever thread makes the request).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fltport::posix {

class FrameBuilder {
 public:
  // Any thread. Starts a frame of `type` (FLTSIM_FRAME_TYPE) answering to `tag`.
  FrameBuilder(uint16_t type, uint64_t tag);

  FrameBuilder& U16(uint16_t v);
  FrameBuilder& U32(uint32_t v);
  FrameBuilder& U64(uint64_t v);
  FrameBuilder& I64(int64_t v) { return U64(static_cast<uint64_t>(v)); }
  FrameBuilder& Bytes(const uint8_t* data, size_t length);
  // UTF-16LE code units, no terminator (wire.h: names are never NUL-terminated).
  FrameBuilder& Utf16(const std::u16string& text);

  // Any thread. Writes Length into the header and hands the frame over. The caller must
  // have checked that the frame stays within FLTSIM_MAX_FRAME (Length is a u32 and the
  // host drops any stream that sends a larger frame).
  std::vector<uint8_t> Finish();

  size_t size() const { return bytes_.size(); }

 private:
  std::vector<uint8_t> bytes_;
};

}  // namespace fltport::posix
