// core's filter management on Windows: fltlib.dll's FilterLoad/Unload, FilterFind*,
// FilterInstanceFind*, FilterVolumeFind*, FilterAttach/Detach and FilterGetDosName, with the
// information classes decoded by FilterInfoDecoder. Compiled with mingw-w64 against
// libfltlib.a; not yet run on Windows (Wine's fltlib.dll does not implement these).
//
// Threads: every function runs on the worker thread that calls it (napi async work); each
// call blocks in fltlib for as long as FltMgr takes.
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "FilterInfoDecoder.h"
#include "FilterManagement.h"
#include "FltUserCompat.h"
#include "Status.h"
#include "UniqueHandle.h"
#include "WideString.h"

namespace fltport::win {
namespace {

using core::Status;

// The decoder's documented offsets, checked against the SDK's (or mingw-w64's) declarations.
using D = FilterInfoDecoder;
#define FLTPORT_CHECK_OFFSET(type, field, expected) \
  static_assert(offsetof(type, field) == (expected), #type "." #field " moved")
FLTPORT_CHECK_OFFSET(FILTER_AGGREGATE_STANDARD_INFORMATION, NextEntryOffset, D::Filter::kNextEntryOffset);
FLTPORT_CHECK_OFFSET(FILTER_AGGREGATE_STANDARD_INFORMATION, Flags, D::Filter::kFlags);
FLTPORT_CHECK_OFFSET(FILTER_AGGREGATE_STANDARD_INFORMATION, Type.MiniFilter.FrameID, D::Filter::kMiniFrameId);
FLTPORT_CHECK_OFFSET(FILTER_AGGREGATE_STANDARD_INFORMATION, Type.MiniFilter.NumberOfInstances, D::Filter::kMiniNumberOfInstances);
FLTPORT_CHECK_OFFSET(FILTER_AGGREGATE_STANDARD_INFORMATION, Type.MiniFilter.FilterNameLength, D::Filter::kMiniNameLength);
FLTPORT_CHECK_OFFSET(FILTER_AGGREGATE_STANDARD_INFORMATION, Type.MiniFilter.FilterNameBufferOffset, D::Filter::kMiniNameOffset);
FLTPORT_CHECK_OFFSET(FILTER_AGGREGATE_STANDARD_INFORMATION, Type.MiniFilter.FilterAltitudeLength, D::Filter::kMiniAltitudeLength);
FLTPORT_CHECK_OFFSET(FILTER_AGGREGATE_STANDARD_INFORMATION, Type.MiniFilter.FilterAltitudeBufferOffset, D::Filter::kMiniAltitudeOffset);
FLTPORT_CHECK_OFFSET(FILTER_AGGREGATE_STANDARD_INFORMATION, Type.LegacyFilter.FilterNameLength, D::Filter::kLegacyNameLength);
FLTPORT_CHECK_OFFSET(FILTER_AGGREGATE_STANDARD_INFORMATION, Type.LegacyFilter.FilterNameBufferOffset, D::Filter::kLegacyNameOffset);
FLTPORT_CHECK_OFFSET(FILTER_AGGREGATE_STANDARD_INFORMATION, Type.LegacyFilter.FilterAltitudeLength, D::Filter::kLegacyAltitudeLength);
FLTPORT_CHECK_OFFSET(FILTER_AGGREGATE_STANDARD_INFORMATION, Type.LegacyFilter.FilterAltitudeBufferOffset, D::Filter::kLegacyAltitudeOffset);
static_assert(sizeof(FILTER_AGGREGATE_STANDARD_INFORMATION) == D::Filter::kMiniFixedSize, "size");
FLTPORT_CHECK_OFFSET(INSTANCE_AGGREGATE_STANDARD_INFORMATION, Flags, D::Instance::kFlags);
FLTPORT_CHECK_OFFSET(INSTANCE_AGGREGATE_STANDARD_INFORMATION, Type.MiniFilter.FrameID, D::Instance::kMiniFrameId);
FLTPORT_CHECK_OFFSET(INSTANCE_AGGREGATE_STANDARD_INFORMATION, Type.MiniFilter.VolumeFileSystemType, D::Instance::kMiniVolumeFileSystemType);
FLTPORT_CHECK_OFFSET(INSTANCE_AGGREGATE_STANDARD_INFORMATION, Type.MiniFilter.InstanceNameLength, D::Instance::kMiniInstanceNameLength);
FLTPORT_CHECK_OFFSET(INSTANCE_AGGREGATE_STANDARD_INFORMATION, Type.MiniFilter.InstanceNameBufferOffset, D::Instance::kMiniInstanceNameOffset);
FLTPORT_CHECK_OFFSET(INSTANCE_AGGREGATE_STANDARD_INFORMATION, Type.MiniFilter.AltitudeLength, D::Instance::kMiniAltitudeLength);
FLTPORT_CHECK_OFFSET(INSTANCE_AGGREGATE_STANDARD_INFORMATION, Type.MiniFilter.AltitudeBufferOffset, D::Instance::kMiniAltitudeOffset);
FLTPORT_CHECK_OFFSET(INSTANCE_AGGREGATE_STANDARD_INFORMATION, Type.MiniFilter.VolumeNameLength, D::Instance::kMiniVolumeNameLength);
FLTPORT_CHECK_OFFSET(INSTANCE_AGGREGATE_STANDARD_INFORMATION, Type.MiniFilter.VolumeNameBufferOffset, D::Instance::kMiniVolumeNameOffset);
FLTPORT_CHECK_OFFSET(INSTANCE_AGGREGATE_STANDARD_INFORMATION, Type.MiniFilter.FilterNameLength, D::Instance::kMiniFilterNameLength);
FLTPORT_CHECK_OFFSET(INSTANCE_AGGREGATE_STANDARD_INFORMATION, Type.MiniFilter.FilterNameBufferOffset, D::Instance::kMiniFilterNameOffset);
FLTPORT_CHECK_OFFSET(INSTANCE_AGGREGATE_STANDARD_INFORMATION, Type.LegacyFilter.AltitudeLength, D::Instance::kLegacyAltitudeLength);
FLTPORT_CHECK_OFFSET(INSTANCE_AGGREGATE_STANDARD_INFORMATION, Type.LegacyFilter.AltitudeBufferOffset, D::Instance::kLegacyAltitudeOffset);
FLTPORT_CHECK_OFFSET(INSTANCE_AGGREGATE_STANDARD_INFORMATION, Type.LegacyFilter.VolumeNameLength, D::Instance::kLegacyVolumeNameLength);
FLTPORT_CHECK_OFFSET(INSTANCE_AGGREGATE_STANDARD_INFORMATION, Type.LegacyFilter.VolumeNameBufferOffset, D::Instance::kLegacyVolumeNameOffset);
FLTPORT_CHECK_OFFSET(INSTANCE_AGGREGATE_STANDARD_INFORMATION, Type.LegacyFilter.FilterNameLength, D::Instance::kLegacyFilterNameLength);
FLTPORT_CHECK_OFFSET(INSTANCE_AGGREGATE_STANDARD_INFORMATION, Type.LegacyFilter.FilterNameBufferOffset, D::Instance::kLegacyFilterNameOffset);
FLTPORT_CHECK_OFFSET(FILTER_VOLUME_STANDARD_INFORMATION, Flags, D::Volume::kFlags);
FLTPORT_CHECK_OFFSET(FILTER_VOLUME_STANDARD_INFORMATION, FrameID, D::Volume::kFrameId);
FLTPORT_CHECK_OFFSET(FILTER_VOLUME_STANDARD_INFORMATION, FileSystemType, D::Volume::kFileSystemType);
FLTPORT_CHECK_OFFSET(FILTER_VOLUME_STANDARD_INFORMATION, FilterVolumeNameLength, D::Volume::kNameLength);
FLTPORT_CHECK_OFFSET(FILTER_VOLUME_STANDARD_INFORMATION, FilterVolumeName, D::Volume::kName);
#undef FLTPORT_CHECK_OFFSET
static_assert(FLTFL_ASI_IS_MINIFILTER == D::kIsMinifilter && FLTFL_IASI_IS_MINIFILTER == D::kIsMinifilter,
              "minifilter flag");
static_assert(FLTFL_ASI_IS_LEGACYFILTER == D::kIsLegacyFilter &&
                  FLTFL_IASI_IS_LEGACYFILTER == D::kIsLegacyFilter,
              "legacy flag");

constexpr uint32_t kNoMoreItems = 0x80070103;        // HRESULT_FROM_WIN32(ERROR_NO_MORE_ITEMS)
constexpr uint32_t kInsufficientBuffer = 0x8007007A;  // HRESULT_FROM_WIN32(ERROR_INSUFFICIENT_BUFFER)
constexpr uint32_t kMoreData = 0x800700EA;           // HRESULT_FROM_WIN32(ERROR_MORE_DATA)
constexpr DWORD kInitialBuffer = 4096;
// Entries hold at most a few names of <= 1024 characters: a larger demand is not believed.
constexpr DWORD kMaxBuffer = 1u << 20;
// No system has this many filters, instances or volumes; a find handle that never reports
// ERROR_NO_MORE_ITEMS must not keep a worker thread forever.
constexpr int kMaxEntries = 1 << 16;

std::string Num(uint64_t n) { return std::to_string(n); }

Status CheckName(const std::u16string& name, const char* what, const char* syscall) {
  if (HasEmbeddedNul(name)) {
    return Status::Argument(std::string(what) + " contains a NUL character", syscall);
  }
  return Status::Ok();
}

// An 8-aligned byte buffer for information classes (their ULONG fields want 4).
class InfoBuffer {
 public:
  InfoBuffer() { Resize(kInitialBuffer); }
  void Resize(DWORD bytes) { words_.assign((bytes + 7) / 8, 0); }
  uint8_t* data() { return reinterpret_cast<uint8_t*>(words_.data()); }
  DWORD size() const { return static_cast<DWORD>(words_.size() * 8); }

 private:
  std::vector<uint64_t> words_;
};

// Worker thread. One FindFirst/FindNext enumeration. `call(buffer, size, &returned, first)`
// issues FindFirst (first == true, opening the find handle it owns) or FindNext; `decode`
// takes each returned buffer. A too-small buffer is grown to the size fltlib reports
// (lpBytesReturned) and the same call is retried; ERROR_NO_MORE_ITEMS ends the walk.
template <typename Call, typename Decode>
Status Enumerate(const char* first_name, const char* next_name, Call call, Decode decode) {
  InfoBuffer buffer;
  bool first = true;
  for (int entries = 0; entries < kMaxEntries; ++entries) {
    const char* syscall = first ? first_name : next_name;
    DWORD returned = 0;
    uint32_t hr = 0;
    for (int attempt = 0;; ++attempt) {
      returned = 0;
      hr = static_cast<uint32_t>(call(buffer.data(), buffer.size(), &returned, first));
      if (hr != kInsufficientBuffer && hr != kMoreData) break;
      // Grow to what fltlib asked for, or double when it did not say; a handful of rounds at
      // most (the size it needs cannot keep changing for the same entry).
      const DWORD want = returned > buffer.size() ? returned : buffer.size() * 2;
      if (want > kMaxBuffer || attempt == 8) {
        Status s = Status::FromHresult(hr, syscall);
        s.detail = "wants a " + Num(want) + "-byte buffer";
        return s;
      }
      buffer.Resize(want);
    }
    if (hr == kNoMoreItems) return Status::Ok();
    if (hr != 0) return Status::FromHresult(hr, syscall);
    if (returned > buffer.size()) {
      return Status::Protocol(Num(returned) + " bytes returned in a " + Num(buffer.size()) +
                                  "-byte buffer",
                              syscall);
    }
    Status s = decode(buffer.data(), static_cast<size_t>(returned));
    if (!s.ok()) {
      s.syscall = syscall;
      return s;
    }
    first = false;
  }
  return Status::Protocol("more than " + Num(kMaxEntries) + " entries", next_name);
}

// SeLoadDriverPrivilege enabled in the process token for the lifetime of this object, then
// put back as it was: FilterLoad/FilterUnload need it enabled, not merely present, and an
// addon should not leave a powerful privilege switched on behind the service's back.
// The token is process-wide, so callers hold PrivilegeMutex() around the whole use.
class ScopedLoadDriverPrivilege {
 public:
  static std::mutex& PrivilegeMutex() {
    static std::mutex mu;
    return mu;
  }

  // Worker thread.
  Status Enable() {
    if (!::OpenProcessToken(::GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY,
                            token_.put())) {
      return Status::FromWin32(::GetLastError(), "OpenProcessToken");
    }
    LUID luid;
    if (!::LookupPrivilegeValueW(nullptr, L"SeLoadDriverPrivilege", &luid)) {
      return Status::FromWin32(::GetLastError(), "LookupPrivilegeValueW");
    }
    TOKEN_PRIVILEGES wanted{};
    wanted.PrivilegeCount = 1;
    wanted.Privileges[0].Luid = luid;
    wanted.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED;
    DWORD previous_size = 0;
    if (!::AdjustTokenPrivileges(token_.get(), FALSE, &wanted, sizeof(previous_), &previous_,
                                 &previous_size)) {
      return Status::FromWin32(::GetLastError(), "AdjustTokenPrivileges");
    }
    // AdjustTokenPrivileges "succeeds" when the token does not hold the privilege at all.
    if (::GetLastError() == ERROR_NOT_ALL_ASSIGNED) {
      Status s = Status::FromWin32(ERROR_NOT_ALL_ASSIGNED, "AdjustTokenPrivileges");
      s.detail = "SeLoadDriverPrivilege is not in this process's token (run elevated)";
      return s;
    }
    adjusted_ = true;
    return Status::Ok();
  }

  ~ScopedLoadDriverPrivilege() {
    // PreviousState lists only what the call changed: nothing if it was already enabled.
    if (adjusted_ && previous_.PrivilegeCount != 0) {
      ::AdjustTokenPrivileges(token_.get(), FALSE, &previous_, 0, nullptr, nullptr);
    }
  }

 private:
  UniqueHandle token_;
  TOKEN_PRIVILEGES previous_{};
  bool adjusted_ = false;
};

template <typename Fn>
Status WithLoadDriverPrivilege(const std::u16string& filter, const char* syscall, Fn fn) {
  if (filter.empty()) return Status::Argument("filter name is empty", syscall);
  Status status = CheckName(filter, "filter name", syscall);
  if (!status.ok()) return status;
  std::lock_guard<std::mutex> lock(ScopedLoadDriverPrivilege::PrivilegeMutex());
  ScopedLoadDriverPrivilege privilege;
  status = privilege.Enable();
  if (!status.ok()) return status;
  return Status::FromHresult(static_cast<uint32_t>(fn(AsWide(filter))), syscall);
}

// Worker thread. The DOS name (e.g. "C:") of a volume, or empty when it has none.
Status DosName(const std::u16string& volume, std::u16string* dos) {
  static constexpr char kCall[] = "FilterGetDosName";
  dos->clear();
  // MAX_PATH covers drive letters and mount points alike; the second size is the longest
  // path Windows has. dwDosNameBufferSize counts WCHARs.
  for (DWORD chars : {DWORD{MAX_PATH + 1}, DWORD{32768}}) {
    std::vector<wchar_t> buffer(chars, L'\0');
    const auto hr = static_cast<uint32_t>(
        ::FilterGetDosName(AsWide(volume), buffer.data(), static_cast<DWORD>(buffer.size())));
    if (hr == kInsufficientBuffer) continue;
    if (hr != 0) return Status::FromHresult(hr, kCall);
    *dos = FromWideBuffer(buffer.data(), buffer.size());
    return Status::Ok();
  }
  return Status::FromHresult(kInsufficientBuffer, kCall);
}

}  // namespace
}  // namespace fltport::win

namespace fltport::core {

using win::AsWide;
using win::Enumerate;

Status ListFilters(const ManagementContext& /*ctx: POSIX only*/, std::vector<FilterInfo>* out) {
  if (out == nullptr) return Status::Argument("out is null", "FilterFindFirst");
  std::vector<FilterInfo> found;
  win::UniqueFilterFind find;
  Status status = Enumerate(
      "FilterFindFirst", "FilterFindNext",
      [&](uint8_t* buffer, DWORD size, DWORD* returned, bool first) {
        return first ? ::FilterFindFirst(FilterAggregateStandardInformation, buffer, size,
                                         returned, find.put())
                     : ::FilterFindNext(find.get(), FilterAggregateStandardInformation, buffer,
                                        size, returned);
      },
      [&](const uint8_t* buffer, size_t size) {
        return win::FilterInfoDecoder::DecodeFilters(buffer, size, &found);
      });
  if (status.ok()) *out = std::move(found);
  return status;
}

Status ListInstances(const ManagementContext& /*ctx*/, const std::u16string& filter,
                     std::vector<InstanceInfo>* out) {
  static constexpr char kFirst[] = "FilterInstanceFindFirst";
  if (out == nullptr) return Status::Argument("out is null", kFirst);
  if (filter.empty()) return Status::Argument("filter name is empty", kFirst);
  Status status = win::CheckName(filter, "filter name", kFirst);
  if (!status.ok()) return status;
  std::vector<InstanceInfo> found;
  win::UniqueFilterInstanceFind find;
  // InstanceAggregateStandardInformation rather than InstanceFullInformation: the same names
  // plus the frame and the volume's file-system type that InstanceInfo carries.
  status = Enumerate(
      kFirst, "FilterInstanceFindNext",
      [&](uint8_t* buffer, DWORD size, DWORD* returned, bool first) {
        return first ? ::FilterInstanceFindFirst(AsWide(filter),
                                                 InstanceAggregateStandardInformation, buffer,
                                                 size, returned, find.put())
                     : ::FilterInstanceFindNext(find.get(), InstanceAggregateStandardInformation,
                                                buffer, size, returned);
      },
      [&](const uint8_t* buffer, size_t size) {
        return win::FilterInfoDecoder::DecodeInstances(buffer, size, &found);
      });
  if (status.ok()) *out = std::move(found);
  return status;
}

Status ListVolumes(const ManagementContext& /*ctx*/, std::vector<VolumeInfo>* out) {
  if (out == nullptr) return Status::Argument("out is null", "FilterVolumeFindFirst");
  std::vector<VolumeInfo> found;
  win::UniqueFilterVolumeFind find;
  Status status = Enumerate(
      "FilterVolumeFindFirst", "FilterVolumeFindNext",
      [&](uint8_t* buffer, DWORD size, DWORD* returned, bool first) {
        return first ? ::FilterVolumeFindFirst(FilterVolumeStandardInformation, buffer, size,
                                               returned, find.put())
                     : ::FilterVolumeFindNext(find.get(), FilterVolumeStandardInformation,
                                              buffer, size, returned);
      },
      [&](const uint8_t* buffer, size_t size) {
        return win::FilterInfoDecoder::DecodeVolumes(buffer, size, &found);
      });
  if (!status.ok()) return status;
  for (VolumeInfo& volume : found) {
    // Many volumes have no DOS name (\Device\Mup, named pipes, unmounted volumes): FltMgr
    // answers those with an error, which here means "none", not a failed listing.
    if (!win::DosName(volume.name, &volume.dos_name).ok()) volume.dos_name.clear();
  }
  *out = std::move(found);
  return Status::Ok();
}

Status LoadFilter(const ManagementContext& /*ctx*/, const std::u16string& filter) {
  return win::WithLoadDriverPrivilege(filter, "FilterLoad",
                                      [](const wchar_t* name) { return ::FilterLoad(name); });
}

Status UnloadFilter(const ManagementContext& /*ctx*/, const std::u16string& filter) {
  return win::WithLoadDriverPrivilege(filter, "FilterUnload",
                                      [](const wchar_t* name) { return ::FilterUnload(name); });
}

Status AttachFilter(const ManagementContext& /*ctx*/, const std::u16string& filter,
                    const std::u16string& volume, const std::u16string& instance_name,
                    std::u16string* created_instance) {
  static constexpr char kAttach[] = "FilterAttach";
  if (filter.empty() || volume.empty()) {
    return Status::Argument("filter and volume names are required", kAttach);
  }
  Status status = win::CheckName(filter, "filter name", kAttach);
  if (status.ok()) status = win::CheckName(volume, "volume name", kAttach);
  if (status.ok()) status = win::CheckName(instance_name, "instance name", kAttach);
  if (!status.ok()) return status;
  // INSTANCE_NAME_MAX_CHARS plus the terminator; dwCreatedInstanceNameLength is in bytes.
  wchar_t created[INSTANCE_NAME_MAX_CHARS + 1] = {};
  const auto hr = static_cast<uint32_t>(::FilterAttach(
      AsWide(filter), AsWide(volume), instance_name.empty() ? nullptr : AsWide(instance_name),
      static_cast<DWORD>(sizeof(created)), created));
  if (hr != 0) return Status::FromHresult(hr, kAttach);
  if (created_instance != nullptr) {
    *created_instance = win::FromWideBuffer(created, INSTANCE_NAME_MAX_CHARS + 1);
  }
  return Status::Ok();
}

Status DetachFilter(const ManagementContext& /*ctx*/, const std::u16string& filter,
                    const std::u16string& volume, const std::u16string& instance_name) {
  static constexpr char kDetach[] = "FilterDetach";
  if (filter.empty() || volume.empty()) {
    return Status::Argument("filter and volume names are required", kDetach);
  }
  Status status = win::CheckName(filter, "filter name", kDetach);
  if (status.ok()) status = win::CheckName(volume, "volume name", kDetach);
  if (status.ok()) status = win::CheckName(instance_name, "instance name", kDetach);
  if (!status.ok()) return status;
  return Status::FromHresult(
      static_cast<uint32_t>(::FilterDetach(AsWide(filter), AsWide(volume),
                                           instance_name.empty() ? nullptr
                                                                 : AsWide(instance_name))),
      kDetach);
}

Status GetDosName(const ManagementContext& /*ctx*/, const std::u16string& volume,
                  std::u16string* dos) {
  if (dos == nullptr) return Status::Argument("dos is null", "FilterGetDosName");
  if (volume.empty()) return Status::Argument("volume name is empty", "FilterGetDosName");
  Status status = win::CheckName(volume, "volume name", "FilterGetDosName");
  if (!status.ok()) return status;
  return win::DosName(volume, dos);
}

}  // namespace fltport::core
