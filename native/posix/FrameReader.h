// Cuts a byte stream from fltsim-host into frames and checks each against wire.h before
// anyone looks inside it: Length within [16, max_frame], a known Type, a body at least as
// long as the type's fixed part, and variable parts that add up to exactly Length. Bytes
// may arrive split anywhere (a header over two reads, ten frames in one read); nothing is
// interpreted until a whole frame is buffered. A frame that breaks a rule yields a
// kProtocol Status and the reader stays failed: the session that owns it must end
// (wire.h: "drops that stream, never the process").
//
// Threads: one reader belongs to one thread (the I/O thread, or the thread doing a
// blocking handshake before the I/O thread exists).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "Status.h"

namespace fltport::posix {

// One validated frame. Accessors read little-endian fields of the body at fixed offsets;
// they are only called at offsets FrameReader has already proven to be inside the body.
struct Frame {
  uint16_t type = 0;
  uint16_t flags = 0;
  uint64_t tag = 0;
  std::vector<uint8_t> body;  // everything after the 16-byte header

  uint16_t U16(size_t offset) const;
  uint32_t U32(size_t offset) const;
  uint64_t U64(size_t offset) const;
  int64_t I64(size_t offset) const { return static_cast<int64_t>(U64(offset)); }
  const uint8_t* data(size_t offset) const { return body.data() + offset; }
  size_t size() const { return body.size(); }
};

class FrameReader {
 public:
  // `max_frame` may be lower than FLTSIM_MAX_FRAME to bound what one stream can make us
  // buffer; it is clamped to FLTSIM_MAX_FRAME.
  explicit FrameReader(uint32_t max_frame = 0);

  // Appends bytes read from the stream.
  void Feed(const uint8_t* data, size_t length);
  // Takes the next whole frame off the buffer. Returns Ok with *have = false when more
  // bytes are needed, Ok with *have = true and *out filled, or a kProtocol Status (and
  // then forever after) when the stream broke a rule of wire.h.
  core::Status Next(Frame* out, bool* have);

  // Bytes buffered but not yet returned as frames (a partial frame at end of stream).
  size_t buffered() const { return buffer_.size() - start_; }
  bool failed() const { return !failure_.ok(); }

  // The fixed body size of `type`, and whether bodies of that type may be longer;
  // false when `type` is not a wire.h frame type. Exposed for the test peer.
  static bool BodyRule(uint16_t type, size_t* fixed, bool* variable);
  // Full check of a frame body against its type (fixed part, declared name/context lengths).
  // Empty string when valid, else why not.
  static std::string CheckBody(uint16_t type, const std::vector<uint8_t>& body);

 private:
  const uint32_t max_frame_;
  std::vector<uint8_t> buffer_;
  size_t start_ = 0;  // first unconsumed byte in buffer_
  core::Status failure_;
};

}  // namespace fltport::posix
