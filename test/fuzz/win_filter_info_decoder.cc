// Fuzz target: native/win/FilterInfoDecoder, which decodes the FILTER_*_INFORMATION buffers
// FilterFindFirst/Next, FilterInstanceFindFirst/Next and FilterVolumeFindFirst/Next return
// (offsets and lengths chosen by the OS). Input: one byte choosing the decoder (0 filters,
// 1 instances, 2 volumes), then the buffer, copied to its own allocation so that ASan sees a
// read one byte past it.
// Checks: no read outside the buffer; a failure appends nothing; success appends at least one
// entry, and no decoded string is longer than the buffer could hold.
#include <cstdint>
#include <memory>
#include <vector>

#include "FilterInfoDecoder.h"

namespace {

using fltport::core::Status;
using fltport::win::FilterInfoDecoder;

template <typename Info, typename Decode, typename Strings>
void Check(const uint8_t* buffer, size_t size, Decode decode, Strings strings) {
  std::vector<Info> out(1);  // something already there: it must stay untouched on failure
  const Status s = decode(buffer, size, &out);
  if (!s.ok()) {
    if (out.size() != 1) __builtin_trap();
    return;
  }
  if (out.size() < 2) __builtin_trap();
  for (size_t i = 1; i < out.size(); ++i) {
    for (const std::u16string* text : strings(out[i])) {
      if (text->size() * 2 > size) __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t which = data[0] % 3;
  const size_t n = size - 1;
  std::unique_ptr<uint8_t[]> buffer(new uint8_t[n == 0 ? 1 : n]);
  for (size_t i = 0; i < n; ++i) buffer[i] = data[1 + i];
  const uint8_t* b = n == 0 ? nullptr : buffer.get();
  using fltport::core::FilterInfo;
  using fltport::core::InstanceInfo;
  using fltport::core::VolumeInfo;
  switch (which) {
    case 0:
      Check<FilterInfo>(b, n, FilterInfoDecoder::DecodeFilters, [](const FilterInfo& f) {
        return std::vector<const std::u16string*>{&f.name, &f.altitude};
      });
      break;
    case 1:
      Check<InstanceInfo>(b, n, FilterInfoDecoder::DecodeInstances, [](const InstanceInfo& f) {
        return std::vector<const std::u16string*>{&f.name, &f.altitude, &f.volume_name,
                                                  &f.filter_name};
      });
      break;
    default:
      Check<VolumeInfo>(b, n, FilterInfoDecoder::DecodeVolumes, [](const VolumeInfo& v) {
        return std::vector<const std::u16string*>{&v.name};
      });
      break;
  }
  return 0;
}
