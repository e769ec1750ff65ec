#include "FrameReader.h"

#include <cstring>

#include "fltsim/wire.h"

namespace fltport::posix {
namespace {

constexpr size_t kHeaderSize = sizeof(FLTSIM_FRAME_HEADER);

uint32_t LoadU32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint16_t LoadU16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }

}  // namespace

uint16_t Frame::U16(size_t offset) const { return LoadU16(body.data() + offset); }
uint32_t Frame::U32(size_t offset) const { return LoadU32(body.data() + offset); }
uint64_t Frame::U64(size_t offset) const {
  return uint64_t(LoadU32(body.data() + offset)) | uint64_t(LoadU32(body.data() + offset + 4)) << 32;
}

FrameReader::FrameReader(uint32_t max_frame)
    : max_frame_(max_frame == 0 || max_frame > FLTSIM_MAX_FRAME ? FLTSIM_MAX_FRAME : max_frame) {}

bool FrameReader::BodyRule(uint16_t type, size_t* fixed, bool* variable) {
  switch (type) {
    case FLTSIM_HELLO:
      *fixed = sizeof(FLTSIM_HELLO_BODY), *variable = false;
      return true;
    case FLTSIM_HELLO_RESULT:
    case FLTSIM_CONNECT_RESULT:
    case FLTSIM_REPLY_RESULT:
    case FLTSIM_MS_OPEN_RESULT:
    case FLTSIM_MS_SET_RESULT:
      *fixed = sizeof(FLTSIM_STATUS_BODY), *variable = false;
      return true;
    case FLTSIM_CONNECT:
      *fixed = sizeof(FLTSIM_CONNECT_BODY), *variable = true;
      return true;
    case FLTSIM_GET:
    case FLTSIM_MS_READ:
      *fixed = sizeof(FLTSIM_GET_BODY), *variable = false;
      return true;
    case FLTSIM_GET_COMPLETE:
    case FLTSIM_SEND_RESULT:
    case FLTSIM_MS_READ_COMPLETE:
      *fixed = sizeof(FLTSIM_COMPLETION_BODY), *variable = true;
      return true;
    case FLTSIM_MS_WRITE_RESULT:
      *fixed = sizeof(FLTSIM_COMPLETION_BODY), *variable = false;
      return true;
    case FLTSIM_CANCEL:
      *fixed = sizeof(FLTSIM_CANCEL_BODY), *variable = false;
      return true;
    case FLTSIM_REPLY:
    case FLTSIM_MS_WRITE:
    case FLTSIM_CONTROL:
    case FLTSIM_CONTROL_RESULT:
    case FLTSIM_CONTROL_EVENT:
      *fixed = 0, *variable = true;
      return true;
    case FLTSIM_SEND:
      *fixed = sizeof(FLTSIM_SEND_BODY), *variable = true;
      return true;
    case FLTSIM_MS_CREATE:
      *fixed = sizeof(FLTSIM_MS_CREATE_BODY), *variable = true;
      return true;
    case FLTSIM_MS_OPEN:
      *fixed = sizeof(FLTSIM_MS_OPEN_BODY), *variable = true;
      return true;
    case FLTSIM_MS_QUERY:
      *fixed = 0, *variable = false;
      return true;
    case FLTSIM_MS_QUERY_RESULT:
      *fixed = sizeof(FLTSIM_MS_INFO_BODY), *variable = false;
      return true;
    case FLTSIM_MS_SET:
      *fixed = sizeof(FLTSIM_MS_SET_BODY), *variable = false;
      return true;
    default:
      return false;
  }
}

std::string FrameReader::CheckBody(uint16_t type, const std::vector<uint8_t>& body) {
  size_t fixed = 0;
  bool variable = false;
  if (!BodyRule(type, &fixed, &variable)) return "unknown frame type " + std::to_string(type);
  if (body.size() < fixed) {
    return "frame type " + std::to_string(type) + " body of " + std::to_string(body.size()) +
           " bytes is shorter than its fixed part (" + std::to_string(fixed) + ")";
  }
  if (!variable && body.size() != fixed) {
    return "frame type " + std::to_string(type) + " body of " + std::to_string(body.size()) +
           " bytes, expected exactly " + std::to_string(fixed);
  }
  // Types whose variable part is described by counts inside the fixed part: the counts
  // must add up to the body exactly, or every later offset would be garbage.
  size_t declared = fixed;
  switch (type) {
    case FLTSIM_CONNECT:
      declared += size_t(LoadU16(body.data() + 4)) + LoadU16(body.data() + 6);
      if (LoadU16(body.data() + 4) % 2) return "odd UTF-16 name byte count in CONNECT";
      break;
    case FLTSIM_MS_CREATE:
      declared += LoadU16(body.data() + 16);
      if (LoadU16(body.data() + 16) % 2) return "odd UTF-16 name byte count in MS_CREATE";
      break;
    case FLTSIM_MS_OPEN:
      declared += LoadU16(body.data());
      if (LoadU16(body.data()) % 2) return "odd UTF-16 name byte count in MS_OPEN";
      break;
    default:
      return {};
  }
  if (declared != body.size()) {
    return "frame type " + std::to_string(type) + " declares " + std::to_string(declared) +
           " bytes but carries " + std::to_string(body.size());
  }
  return {};
}

void FrameReader::Feed(const uint8_t* data, size_t length) {
  if (failed() || length == 0) return;
  // Compact before growing so a long-lived stream does not keep consumed bytes around.
  if (start_ > 0 && start_ == buffer_.size()) {
    buffer_.clear();
    start_ = 0;
  } else if (start_ > 65536 && start_ * 2 > buffer_.size()) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(start_));
    start_ = 0;
  }
  buffer_.insert(buffer_.end(), data, data + length);
}

core::Status FrameReader::Next(Frame* out, bool* have) {
  *have = false;
  if (failed()) return failure_;
  const size_t avail = buffer_.size() - start_;
  if (avail < kHeaderSize) return core::Status::Ok();
  const uint8_t* p = buffer_.data() + start_;
  const uint32_t length = LoadU32(p);
  const uint16_t type = LoadU16(p + 4);
  // Judge the header as soon as it is here: an absurd Length must not make us wait for (or
  // buffer) bytes that will never be a frame.
  if (length < kHeaderSize || length > max_frame_) {
    failure_ = core::Status::Protocol("frame Length " + std::to_string(length) +
                                      " outside [16, " + std::to_string(max_frame_) + "]");
    return failure_;
  }
  size_t fixed = 0;
  bool variable = false;
  if (!BodyRule(type, &fixed, &variable)) {
    failure_ = core::Status::Protocol("unknown frame type " + std::to_string(type));
    return failure_;
  }
  if (avail < length) return core::Status::Ok();

  out->type = type;
  out->flags = LoadU16(p + 6);
  out->tag = uint64_t(LoadU32(p + 8)) | uint64_t(LoadU32(p + 12)) << 32;
  out->body.assign(p + kHeaderSize, p + length);
  start_ += length;
  std::string why = CheckBody(type, out->body);
  if (!why.empty()) {
    failure_ = core::Status::Protocol(why);
    return failure_;
  }
  *have = true;
  return core::Status::Ok();
}

}  // namespace fltport::posix
