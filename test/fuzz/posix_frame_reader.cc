// Fuzz target: native/posix/FrameReader, the first code that sees the bytes fltsim-host sends
// to a client. Input: one byte of settings, then the stream.
//   settings bits 0-5: chunk size - 1 (the stream arrives that many bytes per Feed)
//   settings bits 6-7: max_frame (0 = FLTSIM_MAX_FRAME, 64, 4096, 65536)
// Checks: every frame handed out obeys wire.h (CheckBody, the Length bound); how the bytes
// were split never changes what comes out; a failed reader stays failed.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "FrameReader.h"
#include "fltsim/wire.h"

namespace {

using fltport::posix::Frame;
using fltport::posix::FrameReader;

struct Outcome {
  std::vector<Frame> frames;
  bool failed = false;
};

Outcome Read(const uint8_t* data, size_t size, size_t chunk, uint32_t max_frame) {
  FrameReader reader(max_frame);
  Outcome out;
  for (size_t at = 0; at < size && !out.failed; at += chunk) {
    reader.Feed(data + at, size - at < chunk ? size - at : chunk);
    for (;;) {
      Frame f;
      bool have = false;
      if (!reader.Next(&f, &have).ok()) {
        out.failed = true;
        if (!reader.failed()) __builtin_trap();
        bool again = true;
        if (reader.Next(&f, &again).ok() || again) __builtin_trap();  // failed stays failed
        break;
      }
      if (!have) break;
      if (!FrameReader::CheckBody(f.type, f.body).empty()) __builtin_trap();
      const uint32_t limit = max_frame == 0 ? FLTSIM_MAX_FRAME : max_frame;
      if (f.body.size() + sizeof(FLTSIM_FRAME_HEADER) > limit) __builtin_trap();
      out.frames.push_back(std::move(f));
    }
  }
  return out;
}

bool Same(const Frame& a, const Frame& b) {
  return a.type == b.type && a.flags == b.flags && a.tag == b.tag && a.body == b.body;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const uint32_t kMaxFrames[] = {0, 64, 4096, 65536};
  const size_t chunk = (data[0] & 0x3F) + 1;
  const uint32_t max_frame = kMaxFrames[data[0] >> 6];
  const Outcome split = Read(data + 1, size - 1, chunk, max_frame);
  const Outcome whole = Read(data + 1, size - 1, size, max_frame);
  // Split or whole, the same frames come out; a stream that fails does so either way (the
  // split reader may stop earlier only by not having the failing frame's bytes yet, and it
  // never does: each Feed is followed by draining every whole frame).
  if (split.failed != whole.failed || split.frames.size() != whole.frames.size()) __builtin_trap();
  for (size_t i = 0; i < split.frames.size(); ++i) {
    if (!Same(split.frames[i], whole.frames[i])) __builtin_trap();
  }
  return 0;
}
