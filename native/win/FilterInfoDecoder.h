// Decoding of the Filter Manager's enumeration buffers (FilterFindFirst/Next,
// FilterInstanceFindFirst/Next, FilterVolumeFindFirst/Next) into core's structs.
//
// Every offset and length in these buffers comes from the OS and is checked against the
// bytes actually returned before anything is read: a buffer that lies yields a kProtocol
// Status naming the field, never a read outside the buffer. The layouts are the documented
// ones (fltUserStructures.h; only ULONG and USHORT fields, so identical for x86, x64 and
// ARM64); FilterManagementWin.cc checks each offset below against the SDK's declarations at
// compile time. No OS headers here, so this is unit-tested on Linux too
// (native/test/win_filter_info_decoder_test.cc).
//
// Threads: pure functions, any thread (the worker that ran the enumeration).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "FilterManagement.h"
#include "Status.h"

namespace fltport::win {

class FilterInfoDecoder {
 public:
  // FILTER_AGGREGATE_STANDARD_INFORMATION (FilterAggregateStandardInformation). Name and
  // altitude offsets are relative to the start of the entry.
  struct Filter {
    static constexpr size_t kNextEntryOffset = 0;
    static constexpr size_t kFlags = 4;  // FLTFL_ASI_IS_MINIFILTER / FLTFL_ASI_IS_LEGACYFILTER
    static constexpr size_t kMiniFrameId = 12;
    static constexpr size_t kMiniNumberOfInstances = 16;
    static constexpr size_t kMiniNameLength = 20;
    static constexpr size_t kMiniNameOffset = 22;
    static constexpr size_t kMiniAltitudeLength = 24;
    static constexpr size_t kMiniAltitudeOffset = 26;
    static constexpr size_t kMiniFixedSize = 28;
    static constexpr size_t kLegacyNameLength = 12;
    static constexpr size_t kLegacyNameOffset = 14;
    static constexpr size_t kLegacyAltitudeLength = 16;
    static constexpr size_t kLegacyAltitudeOffset = 18;
    static constexpr size_t kLegacyFixedSize = 20;
  };
  // INSTANCE_AGGREGATE_STANDARD_INFORMATION (InstanceAggregateStandardInformation). The
  // trailing SupportedFeatures (Windows 8+) is not read, so Vista/7 buffers decode too.
  struct Instance {
    static constexpr size_t kNextEntryOffset = 0;
    static constexpr size_t kFlags = 4;  // FLTFL_IASI_IS_MINIFILTER / FLTFL_IASI_IS_LEGACYFILTER
    static constexpr size_t kMiniFrameId = 12;
    static constexpr size_t kMiniVolumeFileSystemType = 16;
    static constexpr size_t kMiniInstanceNameLength = 20;
    static constexpr size_t kMiniInstanceNameOffset = 22;
    static constexpr size_t kMiniAltitudeLength = 24;
    static constexpr size_t kMiniAltitudeOffset = 26;
    static constexpr size_t kMiniVolumeNameLength = 28;
    static constexpr size_t kMiniVolumeNameOffset = 30;
    static constexpr size_t kMiniFilterNameLength = 32;
    static constexpr size_t kMiniFilterNameOffset = 34;
    static constexpr size_t kMiniFixedSize = 36;
    static constexpr size_t kLegacyAltitudeLength = 12;
    static constexpr size_t kLegacyAltitudeOffset = 14;
    static constexpr size_t kLegacyVolumeNameLength = 16;
    static constexpr size_t kLegacyVolumeNameOffset = 18;
    static constexpr size_t kLegacyFilterNameLength = 20;
    static constexpr size_t kLegacyFilterNameOffset = 22;
    static constexpr size_t kLegacyFixedSize = 24;
  };
  // FILTER_VOLUME_STANDARD_INFORMATION (FilterVolumeStandardInformation): the name follows
  // its length in the entry itself.
  struct Volume {
    static constexpr size_t kNextEntryOffset = 0;
    static constexpr size_t kFlags = 4;
    static constexpr size_t kFrameId = 8;
    static constexpr size_t kFileSystemType = 12;
    static constexpr size_t kNameLength = 16;
    static constexpr size_t kName = 18;
  };
  static constexpr uint32_t kIsMinifilter = 1;    // FLTFL_ASI_IS_MINIFILTER, FLTFL_IASI_...
  static constexpr uint32_t kIsLegacyFilter = 2;  // FLTFL_ASI_IS_LEGACYFILTER, FLTFL_IASI_...

  // Each appends the entries of one returned buffer (`size` = bytes returned), following
  // NextEntryOffset chains. On a malformed buffer nothing is appended.
  static core::Status DecodeFilters(const uint8_t* buffer, size_t size,
                                    std::vector<core::FilterInfo>* out);
  static core::Status DecodeInstances(const uint8_t* buffer, size_t size,
                                      std::vector<core::InstanceInfo>* out);
  static core::Status DecodeVolumes(const uint8_t* buffer, size_t size,
                                    std::vector<core::VolumeInfo>* out);
};

}  // namespace fltport::win
