#include "FilterInfoDecoder.h"

#include <string>
#include <utility>

namespace fltport::win {
namespace {

using core::Status;

uint16_t U16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint32_t U32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

std::string Num(uint64_t n) { return std::to_string(n); }
std::string Hex(uint32_t n) {
  static const char kDigits[] = "0123456789ABCDEF";
  std::string out = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) out += kDigits[(n >> shift) & 0xF];
  return out;
}

// One entry of a NextEntryOffset chain: its bytes are [entry, entry + limit).
struct Entry {
  const uint8_t* data;
  size_t limit;
  size_t offset;      // of the entry in the whole buffer, for messages
  const char* what;   // "FILTER_AGGREGATE_STANDARD_INFORMATION", for messages

  Status Bad(const std::string& why) const {
    return Status::Protocol(std::string(what) + " entry at offset " + Num(offset) + ": " + why);
  }
  // A UTF-16LE string given by a byte length and a byte offset from the entry's start.
  Status String(size_t length_field, size_t offset_field, const char* name,
                std::u16string* out) const {
    return Inline(U16(data + offset_field), U16(data + length_field), name, out);
  }
  Status Inline(size_t at, size_t bytes, const char* name, std::u16string* out) const {
    if (bytes % 2 != 0) return Bad(std::string(name) + " length " + Num(bytes) + " is odd");
    if (bytes == 0) {
      out->clear();
      return Status::Ok();
    }
    if (at > limit || bytes > limit - at) {
      return Bad(std::string(name) + " [" + Num(at) + ", +" + Num(bytes) + ") overruns the " +
                 Num(limit) + "-byte entry");
    }
    out->resize(bytes / 2);
    for (size_t i = 0; i < bytes / 2; ++i) (*out)[i] = static_cast<char16_t>(U16(data + at + 2 * i));
    return Status::Ok();
  }
};

// Walks a NextEntryOffset chain; `decode(entry)` decodes one entry. Every step moves forward
// by at least `min_entry` bytes and stays inside the buffer, so the walk ends.
template <typename Decode>
Status Walk(const uint8_t* buffer, size_t size, size_t min_entry, const char* what,
            Decode decode) {
  if (buffer == nullptr && size != 0) return Status::Protocol(std::string(what) + ": null buffer");
  size_t offset = 0;
  for (;;) {
    const size_t left = size - offset;
    if (left < min_entry) {
      return Status::Protocol(std::string(what) + ": " + Num(left) + " bytes at offset " +
                              Num(offset) + ", an entry needs at least " + Num(min_entry));
    }
    const uint8_t* data = buffer + offset;
    const uint32_t next = U32(data);
    if (next != 0 && (next < min_entry || next >= left)) {
      return Status::Protocol(std::string(what) + " entry at offset " + Num(offset) +
                              ": NextEntryOffset " + Num(next) + " leaves the " + Num(size) +
                              "-byte buffer or overlaps the entry");
    }
    Status status = decode(Entry{data, next != 0 ? next : left, offset, what});
    if (!status.ok() || next == 0) return status;
    offset += next;
  }
}

}  // namespace

Status FilterInfoDecoder::DecodeFilters(const uint8_t* buffer, size_t size,
                                        std::vector<core::FilterInfo>* out) {
  std::vector<core::FilterInfo> found;
  Status status = Walk(buffer, size, 8, "FILTER_AGGREGATE_STANDARD_INFORMATION",
                       [&](const Entry& e) {
    core::FilterInfo info;
    const uint32_t flags = U32(e.data + Filter::kFlags);
    Status s;
    if (flags & kIsMinifilter) {
      if (e.limit < Filter::kMiniFixedSize) return e.Bad("too short for the MiniFilter variant");
      info.frame_id = U32(e.data + Filter::kMiniFrameId);
      info.instance_count = U32(e.data + Filter::kMiniNumberOfInstances);
      s = e.String(Filter::kMiniNameLength, Filter::kMiniNameOffset, "FilterName", &info.name);
      if (s.ok()) {
        s = e.String(Filter::kMiniAltitudeLength, Filter::kMiniAltitudeOffset, "FilterAltitude",
                     &info.altitude);
      }
    } else if (flags & kIsLegacyFilter) {
      if (e.limit < Filter::kLegacyFixedSize) return e.Bad("too short for the LegacyFilter variant");
      info.legacy = true;  // no frame, no instance count: legacy filters are not framed
      s = e.String(Filter::kLegacyNameLength, Filter::kLegacyNameOffset, "FilterName", &info.name);
      if (s.ok()) {
        s = e.String(Filter::kLegacyAltitudeLength, Filter::kLegacyAltitudeOffset,
                     "FilterAltitude", &info.altitude);
      }
    } else {
      return e.Bad("Flags " + Hex(flags) + " names neither a minifilter nor a legacy filter");
    }
    if (s.ok()) found.push_back(std::move(info));
    return s;
  });
  if (status.ok()) out->insert(out->end(), found.begin(), found.end());
  return status;
}

Status FilterInfoDecoder::DecodeInstances(const uint8_t* buffer, size_t size,
                                          std::vector<core::InstanceInfo>* out) {
  std::vector<core::InstanceInfo> found;
  Status status = Walk(buffer, size, 8, "INSTANCE_AGGREGATE_STANDARD_INFORMATION",
                       [&](const Entry& e) {
    core::InstanceInfo info;
    const uint32_t flags = U32(e.data + Instance::kFlags);
    Status s;
    if (flags & kIsMinifilter) {
      if (e.limit < Instance::kMiniFixedSize) return e.Bad("too short for the MiniFilter variant");
      info.frame_id = U32(e.data + Instance::kMiniFrameId);
      info.volume_type = U32(e.data + Instance::kMiniVolumeFileSystemType);
      s = e.String(Instance::kMiniInstanceNameLength, Instance::kMiniInstanceNameOffset,
                   "InstanceName", &info.name);
      if (s.ok()) {
        s = e.String(Instance::kMiniAltitudeLength, Instance::kMiniAltitudeOffset, "Altitude",
                     &info.altitude);
      }
      if (s.ok()) {
        s = e.String(Instance::kMiniVolumeNameLength, Instance::kMiniVolumeNameOffset,
                     "VolumeName", &info.volume_name);
      }
      if (s.ok()) {
        s = e.String(Instance::kMiniFilterNameLength, Instance::kMiniFilterNameOffset,
                     "FilterName", &info.filter_name);
      }
    } else if (flags & kIsLegacyFilter) {
      // Documented as unused for FilterInstanceFind*; decoded rather than trusted not to occur.
      if (e.limit < Instance::kLegacyFixedSize) return e.Bad("too short for the LegacyFilter variant");
      s = e.String(Instance::kLegacyAltitudeLength, Instance::kLegacyAltitudeOffset, "Altitude",
                   &info.altitude);
      if (s.ok()) {
        s = e.String(Instance::kLegacyVolumeNameLength, Instance::kLegacyVolumeNameOffset,
                     "VolumeName", &info.volume_name);
      }
      if (s.ok()) {
        s = e.String(Instance::kLegacyFilterNameLength, Instance::kLegacyFilterNameOffset,
                     "FilterName", &info.filter_name);
      }
    } else {
      return e.Bad("Flags " + Hex(flags) + " names neither a minifilter nor a legacy filter");
    }
    // detach_allowed stays false: no FilterInstance* information class reports it (the
    // driver's InstanceQueryTeardown decides at FilterDetach time).
    if (s.ok()) found.push_back(std::move(info));
    return s;
  });
  if (status.ok()) out->insert(out->end(), found.begin(), found.end());
  return status;
}

Status FilterInfoDecoder::DecodeVolumes(const uint8_t* buffer, size_t size,
                                        std::vector<core::VolumeInfo>* out) {
  std::vector<core::VolumeInfo> found;
  Status status = Walk(buffer, size, Volume::kName, "FILTER_VOLUME_STANDARD_INFORMATION",
                       [&](const Entry& e) {
    core::VolumeInfo info;
    info.frame_id = U32(e.data + Volume::kFrameId);
    info.filesystem_type = U32(e.data + Volume::kFileSystemType);
    Status s = e.Inline(Volume::kName, U16(e.data + Volume::kNameLength), "FilterVolumeName",
                        &info.name);
    if (s.ok()) found.push_back(std::move(info));
    return s;
  });
  if (status.ok()) out->insert(out->end(), found.begin(), found.end());
  return status;
}

}  // namespace fltport::win
