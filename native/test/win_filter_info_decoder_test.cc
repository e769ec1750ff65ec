// FilterInfoDecoder (native/win): the Filter Manager's enumeration buffers, well-formed and
// hostile. The decoder has no OS headers, so these run on Linux (ctest) as well as under Wine
// (native/win/run-wine-tests.sh). Buffers are laid out by hand at the documented offsets —
// the same offsets FilterManagementWin.cc checks against the SDK declarations at compile time.
#include <cstdint>
#include <string>
#include <vector>

#include "FilterInfoDecoder.h"
#include "TestHarness.h"

using fltport::core::FilterInfo;
using fltport::core::InstanceInfo;
using fltport::core::Status;
using fltport::core::StatusOrigin;
using fltport::core::VolumeInfo;
using fltport::test::ExpectEq;
using fltport::test::ExpectTrue;
using D = fltport::win::FilterInfoDecoder;

namespace {

// A little-endian buffer being laid out: fixed fields by offset, strings appended.
class Layout {
 public:
  explicit Layout(size_t fixed) : bytes_(fixed, 0) {}
  Layout& U16(size_t at, uint16_t v) {
    Grow(at + 2);
    bytes_[at] = static_cast<uint8_t>(v);
    bytes_[at + 1] = static_cast<uint8_t>(v >> 8);
    return *this;
  }
  Layout& U32(size_t at, uint32_t v) {
    U16(at, static_cast<uint16_t>(v));
    return U16(at + 2, static_cast<uint16_t>(v >> 16));
  }
  // Appends `s` as UTF-16LE and stores its byte length and offset at the given fields.
  Layout& String(size_t length_field, size_t offset_field, const std::u16string& s) {
    const size_t at = bytes_.size();
    for (char16_t c : s) {
      bytes_.push_back(static_cast<uint8_t>(c));
      bytes_.push_back(static_cast<uint8_t>(c >> 8));
    }
    U16(length_field, static_cast<uint16_t>(s.size() * 2));
    return U16(offset_field, static_cast<uint16_t>(at));
  }
  Layout& Pad(size_t multiple) {
    while (bytes_.size() % multiple) bytes_.push_back(0);
    return *this;
  }
  size_t size() const { return bytes_.size(); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  void Grow(size_t n) {
    if (bytes_.size() < n) bytes_.resize(n, 0);
  }
  std::vector<uint8_t> bytes_;
};

std::vector<uint8_t> Chain(std::vector<Layout> entries) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i < entries.size(); ++i) {
    entries[i].Pad(8);
    if (i + 1 < entries.size()) entries[i].U32(0, static_cast<uint32_t>(entries[i].size()));
    out.insert(out.end(), entries[i].bytes().begin(), entries[i].bytes().end());
  }
  return out;
}

Layout MiniFilter(const std::u16string& name, const std::u16string& altitude, uint32_t frame,
                  uint32_t instances) {
  Layout l(D::Filter::kMiniFixedSize);
  l.U32(D::Filter::kFlags, D::kIsMinifilter)
      .U32(D::Filter::kMiniFrameId, frame)
      .U32(D::Filter::kMiniNumberOfInstances, instances)
      .String(D::Filter::kMiniNameLength, D::Filter::kMiniNameOffset, name)
      .String(D::Filter::kMiniAltitudeLength, D::Filter::kMiniAltitudeOffset, altitude);
  return l;
}

void TestFiltersBothVariants() {
  Layout legacy(D::Filter::kLegacyFixedSize);
  legacy.U32(D::Filter::kFlags, D::kIsLegacyFilter)
      .String(D::Filter::kLegacyNameLength, D::Filter::kLegacyNameOffset, u"LegacyFs")
      .String(D::Filter::kLegacyAltitudeLength, D::Filter::kLegacyAltitudeOffset, u"");
  const auto buffer = Chain({MiniFilter(u"fltport_sample", u"385100", 0, 3), legacy});
  std::vector<FilterInfo> out;
  const Status s = D::DecodeFilters(buffer.data(), buffer.size(), &out);
  ExpectTrue(s.ok(), "decodes");
  ExpectEq(out.size(), size_t{2}, "two entries");
  if (out.size() != 2) return;
  ExpectTrue(out[0].name == u"fltport_sample", "minifilter name");
  ExpectTrue(out[0].altitude == u"385100", "altitude");
  ExpectEq(out[0].instance_count, 3u, "instances");
  ExpectEq(out[0].frame_id, 0u, "frame");
  ExpectEq(out[0].legacy, false, "minifilter");
  ExpectTrue(out[1].name == u"LegacyFs", "legacy name");
  ExpectTrue(out[1].altitude.empty(), "legacy altitude empty");
  ExpectEq(out[1].legacy, true, "legacy");
}

void TestFilterStringOverrunsEntry() {
  Layout l = MiniFilter(u"abc", u"1", 1, 1);
  l.U16(D::Filter::kMiniNameLength, 400);  // far past the end
  std::vector<FilterInfo> out;
  const Status s = D::DecodeFilters(l.bytes().data(), l.size(), &out);
  ExpectEq(s.origin, StatusOrigin::kProtocol, "rejected");
  ExpectTrue(s.detail.find("FilterName") != std::string::npos, "names the field: " + s.detail);
  ExpectTrue(out.empty(), "nothing appended");
}

void TestStringBoundedByNextEntryNotBuffer() {
  // The first entry's name claims bytes that belong to the second entry.
  Layout first = MiniFilter(u"a", u"1", 0, 0);
  Layout second = MiniFilter(u"second", u"2", 0, 0);
  first.Pad(8);
  const size_t first_size = first.size();
  first.U16(D::Filter::kMiniNameLength, static_cast<uint16_t>(first_size));  // even, too long
  auto buffer = Chain({first, second});
  std::vector<FilterInfo> out;
  const Status s = D::DecodeFilters(buffer.data(), buffer.size(), &out);
  ExpectEq(s.origin, StatusOrigin::kProtocol, "a name may not spill into the next entry");
  ExpectTrue(out.empty(), "nothing appended");
}

void TestOddLengthAndUnknownFlags() {
  Layout odd = MiniFilter(u"abc", u"1", 0, 0);
  odd.U16(D::Filter::kMiniNameLength, 5);
  std::vector<FilterInfo> out;
  ExpectEq(D::DecodeFilters(odd.bytes().data(), odd.size(), &out).origin, StatusOrigin::kProtocol,
           "odd UTF-16 byte length");
  Layout flags = MiniFilter(u"abc", u"1", 0, 0);
  flags.U32(D::Filter::kFlags, 0x10);
  const Status s = D::DecodeFilters(flags.bytes().data(), flags.size(), &out);
  ExpectEq(s.origin, StatusOrigin::kProtocol, "neither variant");
  ExpectTrue(s.detail.find("0x00000010") != std::string::npos, "flags in hex: " + s.detail);
}

void TestTruncatedAndBadChains() {
  std::vector<FilterInfo> out;
  const auto good = Chain({MiniFilter(u"abc", u"1", 0, 0)});
  // Every truncation of a valid single entry is rejected, never read past.
  for (size_t n = 0; n < D::Filter::kMiniFixedSize; ++n) {
    ExpectEq(D::DecodeFilters(good.data(), n, &out).origin, StatusOrigin::kProtocol,
             "truncated to " + std::to_string(n));
  }
  ExpectTrue(out.empty(), "nothing appended from truncations");
  // NextEntryOffset pointing at itself, into the header, or past the end.
  for (uint32_t next : {1u, 4u, 7u, static_cast<uint32_t>(good.size()), 0xFFFFFFF0u}) {
    auto bad = good;
    bad[0] = static_cast<uint8_t>(next);
    bad[1] = static_cast<uint8_t>(next >> 8);
    bad[2] = static_cast<uint8_t>(next >> 16);
    bad[3] = static_cast<uint8_t>(next >> 24);
    ExpectEq(D::DecodeFilters(bad.data(), bad.size(), &out).origin, StatusOrigin::kProtocol,
             "NextEntryOffset " + std::to_string(next));
  }
  ExpectTrue(out.empty(), "nothing appended from bad chains");
  ExpectEq(D::DecodeFilters(nullptr, 0, &out).origin, StatusOrigin::kProtocol, "empty buffer");
}

void TestInstances() {
  Layout l(D::Instance::kMiniFixedSize + 4);  // + SupportedFeatures (Windows 8+)
  l.U32(D::Instance::kFlags, D::kIsMinifilter)
      .U32(D::Instance::kMiniFrameId, 0)
      .U32(D::Instance::kMiniVolumeFileSystemType, 2)  // FLT_FSTYPE_NTFS
      .String(D::Instance::kMiniInstanceNameLength, D::Instance::kMiniInstanceNameOffset,
              u"fltport_sample Instance")
      .String(D::Instance::kMiniAltitudeLength, D::Instance::kMiniAltitudeOffset, u"385100")
      .String(D::Instance::kMiniVolumeNameLength, D::Instance::kMiniVolumeNameOffset,
              u"\\Device\\HarddiskVolume3")
      .String(D::Instance::kMiniFilterNameLength, D::Instance::kMiniFilterNameOffset,
              u"fltport_sample");
  Layout legacy(D::Instance::kLegacyFixedSize);
  legacy.U32(D::Instance::kFlags, D::kIsLegacyFilter)
      .String(D::Instance::kLegacyAltitudeLength, D::Instance::kLegacyAltitudeOffset, u"")
      .String(D::Instance::kLegacyVolumeNameLength, D::Instance::kLegacyVolumeNameOffset, u"\\V")
      .String(D::Instance::kLegacyFilterNameLength, D::Instance::kLegacyFilterNameOffset, u"L");
  const auto buffer = Chain({l, legacy});
  std::vector<InstanceInfo> out;
  ExpectTrue(D::DecodeInstances(buffer.data(), buffer.size(), &out).ok(), "decodes");
  ExpectEq(out.size(), size_t{2}, "two entries");
  if (out.size() != 2) return;
  ExpectTrue(out[0].name == u"fltport_sample Instance", "instance name");
  ExpectTrue(out[0].altitude == u"385100", "altitude");
  ExpectTrue(out[0].volume_name == u"\\Device\\HarddiskVolume3", "volume");
  ExpectTrue(out[0].filter_name == u"fltport_sample", "filter");
  ExpectEq(out[0].volume_type, 2u, "NTFS");
  ExpectEq(out[0].detach_allowed, false, "not reported by Windows");
  ExpectTrue(out[1].name.empty() && out[1].filter_name == u"L", "legacy variant");
  // The MiniFilter variant's fixed part is 36 bytes: 35 is refused.
  Layout short_entry(D::Instance::kMiniFixedSize - 1);
  short_entry.U32(D::Instance::kFlags, D::kIsMinifilter);
  ExpectEq(D::DecodeInstances(short_entry.bytes().data(), short_entry.size(), &out).origin,
           StatusOrigin::kProtocol, "short MiniFilter entry");
  ExpectEq(out.size(), size_t{2}, "nothing more appended");
}

void TestVolumes() {
  auto volume = [](const std::u16string& name, uint32_t fs) {
    Layout l(D::Volume::kName);
    l.U32(D::Volume::kFrameId, 0).U32(D::Volume::kFileSystemType, fs);
    l.U16(D::Volume::kNameLength, static_cast<uint16_t>(name.size() * 2));
    for (char16_t c : name) {
      const size_t at = l.size();
      l.U16(at, c);
    }
    return l;
  };
  const auto buffer = Chain({volume(u"\\Device\\HarddiskVolume3", 2), volume(u"\\Device\\Mup", 13)});
  std::vector<VolumeInfo> out;
  ExpectTrue(D::DecodeVolumes(buffer.data(), buffer.size(), &out).ok(), "decodes");
  ExpectEq(out.size(), size_t{2}, "two volumes");
  if (out.size() == 2) {
    ExpectTrue(out[0].name == u"\\Device\\HarddiskVolume3", "first name");
    ExpectEq(out[0].filesystem_type, 2u, "NTFS");
    ExpectTrue(out[1].name == u"\\Device\\Mup", "second name");
    ExpectEq(out[1].filesystem_type, 13u, "MUP");
    ExpectTrue(out[0].dos_name.empty(), "DOS names are FilterGetDosName's job");
  }
  Layout lying = volume(u"\\Device\\X", 2);
  lying.U16(D::Volume::kNameLength, 1000);
  ExpectEq(D::DecodeVolumes(lying.bytes().data(), lying.size(), &out).origin,
           StatusOrigin::kProtocol, "name length past the buffer");
  ExpectEq(out.size(), size_t{2}, "nothing more appended");
}

}  // namespace

int main(int argc, char** argv) {
  return fltport::test::Main(argc, argv,
                             {
                                 {"filters.both_variants", &TestFiltersBothVariants},
                                 {"filters.string_overruns_entry", &TestFilterStringOverrunsEntry},
                                 {"filters.string_bounded_by_next_entry",
                                  &TestStringBoundedByNextEntryNotBuffer},
                                 {"filters.odd_length_and_unknown_flags",
                                  &TestOddLengthAndUnknownFlags},
                                 {"filters.truncated_and_bad_chains", &TestTruncatedAndBadChains},
                                 {"instances.decode_and_reject", &TestInstances},
                                 {"volumes.decode_and_reject", &TestVolumes},
                             });
}
