// The NTSTATUS -> Win32 -> HRESULT translation of spec §1.3, in one table.
// Used by native/posix and the test fltlib.dll (to report what real fltlib.dll would), by
// native/win (to name statuses read from OVERLAPPED.Internal), and by fltsim's logs.
// lib/errors.ts holds the TypeScript view of the same table; a test compares the two.
// Pure functions, no OS headers: callable from any thread.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fltport::core {

struct NtStatusEntry {
  uint32_t ntstatus;
  uint32_t win32;  // what RtlNtStatusToDosError gives (Wine's table)
  const char* name;
};

// The statuses the spec names, in ascending order of value.
const NtStatusEntry* NtStatusTable(size_t* count);

// RtlNtStatusToDosError for the statuses in the table; ERROR_MR_MID_NOT_FOUND (317) otherwise,
// as Windows does for a status it has no mapping for.
uint32_t Win32FromNtStatus(uint32_t ntstatus);

// fltlib.dll's FilterHResultFromNtStatus (spec §1.3 rules 1-5): what every synchronous
// Filter* call returns for a kernel status. Note STATUS_TIMEOUT -> 0x80070102 and
// facility-0x1C statuses -> facility 0x1F HRESULTs.
uint32_t HresultFromNtStatus(uint32_t ntstatus);

// HRESULT_FROM_WIN32: what a caller builds from GetLastError() after an overlapped
// completion (GetQueuedCompletionStatus / GetOverlappedResult).
constexpr uint32_t HresultFromWin32(uint32_t win32) {
  return win32 == 0 ? 0u : ((win32 & 0xFFFFu) | 0x80070000u);
}

// Symbolic name ("STATUS_PORT_DISCONNECTED") or nullptr when not in the table.
const char* NtStatusName(uint32_t ntstatus);

constexpr bool NtSuccess(uint32_t ntstatus) { return static_cast<int32_t>(ntstatus) >= 0; }

// The values the rest of the native code needs by name.
namespace nt {
constexpr uint32_t kSuccess = 0x00000000;
constexpr uint32_t kTimeout = 0x00000102;
constexpr uint32_t kPending = 0x00000103;
constexpr uint32_t kDatatypeMisalignment = 0x80000002;
constexpr uint32_t kBufferOverflow = 0x80000005;
constexpr uint32_t kNoMoreEntries = 0x8000001A;
constexpr uint32_t kUnsuccessful = 0xC0000001;
constexpr uint32_t kAccessViolation = 0xC0000005;
constexpr uint32_t kInvalidHandle = 0xC0000008;
constexpr uint32_t kInvalidParameter = 0xC000000D;
constexpr uint32_t kInvalidDeviceRequest = 0xC0000010;
constexpr uint32_t kAccessDenied = 0xC0000022;
constexpr uint32_t kBufferTooSmall = 0xC0000023;
constexpr uint32_t kObjectNameInvalid = 0xC0000033;
constexpr uint32_t kObjectNameNotFound = 0xC0000034;
constexpr uint32_t kObjectNameCollision = 0xC0000035;
constexpr uint32_t kPortDisconnected = 0xC0000037;
constexpr uint32_t kObjectPathSyntaxBad = 0xC000003B;
constexpr uint32_t kThreadIsTerminating = 0xC000004B;
constexpr uint32_t kPrivilegeNotHeld = 0xC0000061;
constexpr uint32_t kIntegerOverflow = 0xC0000095;
constexpr uint32_t kInsufficientResources = 0xC000009A;
constexpr uint32_t kIoTimeout = 0xC00000B5;
constexpr uint32_t kNotSupported = 0xC00000BB;
constexpr uint32_t kInvalidParameter1 = 0xC00000EF;
constexpr uint32_t kInvalidParameter12 = 0xC00000FA;
constexpr uint32_t kCancelled = 0xC0000120;
constexpr uint32_t kNotFound = 0xC0000225;
constexpr uint32_t kConnectionRefused = 0xC0000236;
constexpr uint32_t kConnectionCountLimit = 0xC0000246;
constexpr uint32_t kFltBufferTooSmall = 0x801C0001;
constexpr uint32_t kFltDeletingObject = 0xC01C000B;
constexpr uint32_t kFltNoWaiterForReply = 0xC01C0020;
}  // namespace nt

namespace hr {
constexpr uint32_t kOk = 0x00000000;
constexpr uint32_t kFail = 0x80004005;
constexpr uint32_t kOutOfMemory = 0x8007000E;
constexpr uint32_t kInvalidArg = 0x80070057;
constexpr uint32_t kIoPending = 0x800703E5;
constexpr uint32_t kOperationAborted = 0x800703E3;
constexpr uint32_t kInvalidHandle = 0x80070006;
constexpr uint32_t kInsufficientBuffer = 0x8007007A;
constexpr uint32_t kMoreData = 0x800700EA;
constexpr uint32_t kNoWaiterForReply = 0x801F0020;
}  // namespace hr

}  // namespace fltport::core
