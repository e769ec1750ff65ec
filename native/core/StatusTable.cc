#include "StatusTable.h"

#include <algorithm>
#include <iterator>

namespace fltport::core {
namespace {

// Win32 columns are Wine's RtlNtStatusToDosError (spec §1.3 table, source S24).
constexpr NtStatusEntry kTable[] = {
    {0x00000000, 0, "STATUS_SUCCESS"},
    {0x00000102, 1460, "STATUS_TIMEOUT"},  // ERROR_TIMEOUT; fltlib special-cases it to WAIT_TIMEOUT
    {0x00000103, 997, "STATUS_PENDING"},
    {0x80000002, 998, "STATUS_DATATYPE_MISALIGNMENT"},
    {0x80000005, 234, "STATUS_BUFFER_OVERFLOW"},
    {0x8000001A, 259, "STATUS_NO_MORE_ENTRIES"},
    {0x801C0001, 122, "STATUS_FLT_BUFFER_TOO_SMALL"},
    {0xC0000001, 31, "STATUS_UNSUCCESSFUL"},
    {0xC0000005, 998, "STATUS_ACCESS_VIOLATION"},
    {0xC0000008, 6, "STATUS_INVALID_HANDLE"},
    {0xC000000D, 87, "STATUS_INVALID_PARAMETER"},
    {0xC0000010, 1, "STATUS_INVALID_DEVICE_REQUEST"},
    {0xC0000022, 5, "STATUS_ACCESS_DENIED"},
    {0xC0000023, 122, "STATUS_BUFFER_TOO_SMALL"},
    {0xC0000033, 123, "STATUS_OBJECT_NAME_INVALID"},
    {0xC0000034, 2, "STATUS_OBJECT_NAME_NOT_FOUND"},
    {0xC0000035, 183, "STATUS_OBJECT_NAME_COLLISION"},
    {0xC0000037, 6, "STATUS_PORT_DISCONNECTED"},
    {0xC000003B, 161, "STATUS_OBJECT_PATH_SYNTAX_BAD"},
    {0xC000004B, 5, "STATUS_THREAD_IS_TERMINATING"},
    {0xC0000059, 1306, "STATUS_REVISION_MISMATCH"},  // the sample refuses newer context versions
    {0xC0000061, 1314, "STATUS_PRIVILEGE_NOT_HELD"},
    {0xC0000095, 534, "STATUS_INTEGER_OVERFLOW"},
    {0xC000009A, 1450, "STATUS_INSUFFICIENT_RESOURCES"},
    {0xC00000B5, 121, "STATUS_IO_TIMEOUT"},
    {0xC00000BB, 50, "STATUS_NOT_SUPPORTED"},
    {0xC00000EF, 87, "STATUS_INVALID_PARAMETER_1"},
    {0xC00000F0, 87, "STATUS_INVALID_PARAMETER_2"},
    {0xC00000F1, 87, "STATUS_INVALID_PARAMETER_3"},
    {0xC00000F2, 87, "STATUS_INVALID_PARAMETER_4"},
    {0xC00000F3, 87, "STATUS_INVALID_PARAMETER_5"},
    {0xC00000F4, 87, "STATUS_INVALID_PARAMETER_6"},
    {0xC00000F5, 87, "STATUS_INVALID_PARAMETER_7"},
    {0xC00000F6, 87, "STATUS_INVALID_PARAMETER_8"},
    {0xC00000F7, 87, "STATUS_INVALID_PARAMETER_9"},
    {0xC00000F8, 87, "STATUS_INVALID_PARAMETER_10"},
    {0xC00000F9, 87, "STATUS_INVALID_PARAMETER_11"},
    {0xC00000FA, 87, "STATUS_INVALID_PARAMETER_12"},
    {0xC000010E, 1056, "STATUS_IMAGE_ALREADY_LOADED"},  // FilterLoad of a loaded filter
    {0xC0000120, 995, "STATUS_CANCELLED"},
    {0xC0000225, 1168, "STATUS_NOT_FOUND"},
    {0xC0000236, 1225, "STATUS_CONNECTION_REFUSED"},
    {0xC0000246, 1236, "STATUS_CONNECTION_COUNT_LIMIT"},
    {0xC01C000B, 317, "STATUS_FLT_DELETING_OBJECT"},
    {0xC01C0020, 317, "STATUS_FLT_NO_WAITER_FOR_REPLY"},
};

constexpr uint32_t kErrorMrMidNotFound = 317;
constexpr uint32_t kWaitTimeout = 258;
constexpr uint32_t kFacilityFilterManager = 0x1C;

bool Less(const NtStatusEntry& e, uint32_t v) { return e.ntstatus < v; }

const NtStatusEntry* Find(uint32_t ntstatus) {
  auto it = std::lower_bound(std::begin(kTable), std::end(kTable), ntstatus, Less);
  return (it != std::end(kTable) && it->ntstatus == ntstatus) ? it : nullptr;
}

}  // namespace

const NtStatusEntry* NtStatusTable(size_t* count) {
  *count = std::size(kTable);
  return kTable;
}

uint32_t Win32FromNtStatus(uint32_t ntstatus) {
  const NtStatusEntry* e = Find(ntstatus);
  return e ? e->win32 : kErrorMrMidNotFound;
}

uint32_t HresultFromNtStatus(uint32_t ntstatus) {
  if (ntstatus == nt::kSuccess) return hr::kOk;
  const uint32_t facility = (ntstatus >> 16) & 0x0FFF;
  if (facility == kFacilityFilterManager) {
    if (ntstatus == nt::kFltBufferTooSmall) return HresultFromWin32(122);
    return (ntstatus & 0x8000FFFFu) | 0x001F0000u;  // FILTER_HRESULT_FROM_FLT_NTSTATUS
  }
  if (facility != 0) return hr::kFail;
  if (ntstatus == nt::kTimeout) return HresultFromWin32(kWaitTimeout);
  return HresultFromWin32(Win32FromNtStatus(ntstatus));
}

const char* NtStatusName(uint32_t ntstatus) {
  const NtStatusEntry* e = Find(ntstatus);
  return e ? e->name : nullptr;
}

}  // namespace fltport::core
