// fltlib.dll for the Wine lane: a test-only Filter Manager user library that talks to the
// Windows build of fltsim-host instead of FltMgr. It is never shipped: the Wine runner puts
// it next to the Windows fltport.node inside the test tree, where the loader finds it before
// Wine's own fltlib.dll (which only has a FilterConnectCommunicationPort returning E_NOTIMPL).
//
// The communication-port functions do what real fltlib does (spec §1.2, after ReactOS's
// reimplementation): open a handle on the message device, then NtDeviceIoControlFile with
// FLT_CTL_GET/REPLY/SEND_MESSAGE, the OVERLAPPED serving as the IO_STATUS_BLOCK and as the
// APC context, so Wine's I/O manager completes FilterGetMessage through the caller's
// completion port with the NTSTATUS in Internal and the byte count in InternalHigh, and
// CancelIoEx reaches the driver. The device belongs to fltsim-host (FltMgrMsgDevice.cc);
// FltMgrMsg.h is the contract. Every status the device returns is translated by core's
// table, the same §1.3 translation native/posix applies. docs/wine-lane.md lists where this
// differs from real fltlib and why it does not matter for what the lane tests.
//
// Filter management (FilterLoad, FilterFindFirst, ...) is in fltlib_management.cc.
#include <windows.h>
#include <winternl.h>

#include <fltuser.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "FltMgrMsg.h"
#include "FltlibCommon.h"
#include "StatusTable.h"

namespace fltport::fltsim::fltlib {

using fltport::core::HresultFromNtStatus;
namespace nt = fltport::core::nt;

// Spec §1.3. core's table knows the statuses the spec names; rule 5 for any other status of
// facility 0 is HRESULT_FROM_WIN32(RtlNtStatusToDosError(status)), and ntdll has the whole
// table (STATUS_REVISION_MISMATCH -> 1306, which core would answer with 317).
HRESULT FromStatus(NTSTATUS status) {
  const auto value = static_cast<uint32_t>(status);
  const bool facility_zero = ((value >> 16) & 0x0FFF) == 0;
  if (value != 0 && facility_zero && value != nt::kTimeout && fltport::core::NtStatusName(value) == nullptr) {
    return static_cast<HRESULT>(fltport::core::HresultFromWin32(RtlNtStatusToDosError(status)));
  }
  return static_cast<HRESULT>(HresultFromNtStatus(value));
}

// The instance fltsim-host serves (FltMgrMsg.h). Empty when the variable is malformed.
std::string Instance() {
  char value[FLTSIM_MAX_INSTANCE_CHARS + 2];
  const DWORD n = GetEnvironmentVariableA(FLTSIM_RUNTIME_DIR_ENV, value, sizeof value);
  if (n == 0) return FLTSIM_DEFAULT_INSTANCE;
  if (n >= sizeof value || !FltsimValidInstance(value)) return std::string();
  return value;
}

}  // namespace fltport::fltsim::fltlib

namespace {

using fltport::fltsim::fltlib::FromStatus;
using fltport::fltsim::fltlib::Instance;

namespace nt = fltport::core::nt;

constexpr HRESULT kIoPending = static_cast<HRESULT>(0x800703E5);  // HRESULT_FROM_WIN32(ERROR_IO_PENDING)
constexpr ULONG kSyncHandleFlag = 0x00000001;                        // FLT_PORT_FLAG_SYNC_HANDLE

// A synchronous request: real fltlib passes a local IO_STATUS_BLOCK and, if the IOCTL pends,
// waits on the file handle. The device may pend where FltMgr would not (connect and
// FilterSendMessage run the driver's callback on a host thread, not inline), and several
// threads waiting on one handle could take each other's wake-ups, so the wait is on a
// private event instead; no APC context either way, so no completion packet is queued.
NTSTATUS SyncIoctl(HANDLE port, ULONG code, const void* in, ULONG in_size, void* out, ULONG out_size,
                   ULONG_PTR* information) {
  HANDLE event = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  if (event == nullptr) return static_cast<NTSTATUS>(nt::kInsufficientResources);
  IO_STATUS_BLOCK io{};
  NTSTATUS status = NtDeviceIoControlFile(port, event, nullptr, nullptr, &io, code,
                                          const_cast<void*>(in), in_size, out, out_size);
  if (status == static_cast<NTSTATUS>(nt::kPending)) {
    WaitForSingleObject(event, INFINITE);
    status = io.Status;
  }
  CloseHandle(event);
  if (information != nullptr) *information = io.Information;
  return status;
}

}  // namespace

extern "C" {

HRESULT WINAPI FilterConnectCommunicationPort(LPCWSTR lpPortName, DWORD dwOptions, LPCVOID lpContext,
                                              WORD wSizeOfContext,
                                              LPSECURITY_ATTRIBUTES lpSecurityAttributes,
                                              HANDLE* hPort) {
  if (hPort == nullptr) return E_INVALIDARG;
  *hPort = INVALID_HANDLE_VALUE;  // spec §2.1: set first thing
  if (lpPortName == nullptr || (lpContext == nullptr && wSizeOfContext != 0)) return E_INVALIDARG;
  // The context travels in an EA on Windows: at most 0xFFE8 bytes (spec §2.1).
  if (wSizeOfContext > FLTSIM_MAX_CONTEXT) return FromStatus(static_cast<NTSTATUS>(nt::kIntegerOverflow));
  const size_t name_bytes = wcslen(lpPortName) * sizeof(WCHAR);
  if (name_bytes > FLTSIM_MAX_NAME_BYTES) return E_INVALIDARG;

  const std::string instance = Instance();
  if (instance.empty()) return FromStatus(static_cast<NTSTATUS>(nt::kObjectNameInvalid));
  std::wstring device = reinterpret_cast<const wchar_t*>(FLTSIM_MSG_DOS_PREFIX);
  device.append(instance.begin(), instance.end());
  UNICODE_STRING device_name;
  device_name.Buffer = &device[0];
  device_name.Length = static_cast<USHORT>(device.size() * sizeof(WCHAR));
  device_name.MaximumLength = device_name.Length;
  OBJECT_ATTRIBUTES attributes;
  ULONG object_flags = OBJ_CASE_INSENSITIVE;
  if (lpSecurityAttributes != nullptr && lpSecurityAttributes->bInheritHandle) object_flags |= OBJ_INHERIT;
  InitializeObjectAttributes(&attributes, &device_name, object_flags, nullptr,
                             lpSecurityAttributes ? lpSecurityAttributes->lpSecurityDescriptor : nullptr);
  IO_STATUS_BLOCK io{};
  HANDLE handle = nullptr;
  // Real fltlib: FILE_READ_DATA | FILE_WRITE_DATA | SYNCHRONIZE, FILE_OPEN_IF, and
  // FILE_SYNCHRONOUS_IO_NONALERT only for FLT_PORT_FLAG_SYNC_HANDLE (spec §1.2).
  NTSTATUS status = NtCreateFile(&handle, FILE_READ_DATA | FILE_WRITE_DATA | SYNCHRONIZE, &attributes, &io,
                                 nullptr, 0, FILE_SHARE_READ | FILE_SHARE_WRITE, FILE_OPEN_IF,
                                 (dwOptions & kSyncHandleFlag) ? FILE_SYNCHRONOUS_IO_NONALERT : 0, nullptr, 0);
  if (status != 0) {
    // No fltsim-host serving this instance: the Filter Manager itself is missing. Windows has
    // no equivalent (FltMgr is always there); report it as the port not being found.
    if (status == static_cast<NTSTATUS>(nt::kObjectPathSyntaxBad)) status = static_cast<NTSTATUS>(nt::kObjectNameNotFound);
    return FromStatus(status);
  }

  // wire.h CONNECT body: what the EA carries on Windows.
  std::vector<uint8_t> body(sizeof(FLTSIM_CONNECT_BODY) + name_bytes + wSizeOfContext);
  FLTSIM_CONNECT_BODY header{};
  header.Options = dwOptions;
  header.NameBytes = static_cast<uint16_t>(name_bytes);
  header.ContextBytes = wSizeOfContext;
  std::memcpy(body.data(), &header, sizeof header);
  std::memcpy(body.data() + sizeof header, lpPortName, name_bytes);
  if (wSizeOfContext) std::memcpy(body.data() + sizeof header + name_bytes, lpContext, wSizeOfContext);
  status = SyncIoctl(handle, FLTSIM_CTL_CONNECT, body.data(), static_cast<ULONG>(body.size()), nullptr, 0, nullptr);
  if (status != 0) {
    CloseHandle(handle);
    return FromStatus(status);
  }
  *hPort = handle;
  return S_OK;
}

HRESULT WINAPI FilterGetMessage(HANDLE hPort, PFILTER_MESSAGE_HEADER lpMessageBuffer, DWORD dwMessageBufferSize,
                                LPOVERLAPPED lpOverlapped) {
  if (lpOverlapped == nullptr) {
    return FromStatus(SyncIoctl(hPort, FLTSIM_FLT_CTL_GET_MESSAGE, nullptr, 0, lpMessageBuffer,
                                dwMessageBufferSize, nullptr));
  }
  // As kernel32 and fltlib do: the OVERLAPPED is the IO_STATUS_BLOCK; a set low bit in hEvent
  // means "no completion packet" (the APC context stays NULL).
  HANDLE event = lpOverlapped->hEvent;
  void* apc_context = (reinterpret_cast<ULONG_PTR>(event) & 1) ? nullptr : lpOverlapped;
  event = reinterpret_cast<HANDLE>(reinterpret_cast<ULONG_PTR>(event) & ~static_cast<ULONG_PTR>(1));
  lpOverlapped->Internal = static_cast<ULONG_PTR>(nt::kPending);
  const NTSTATUS status = NtDeviceIoControlFile(
      hPort, event, nullptr, apc_context, reinterpret_cast<PIO_STATUS_BLOCK>(lpOverlapped),
      FLTSIM_FLT_CTL_GET_MESSAGE, nullptr, 0, lpMessageBuffer, dwMessageBufferSize);
  if (status == static_cast<NTSTATUS>(nt::kPending)) return kIoPending;
  return FromStatus(status);
}

HRESULT WINAPI FilterReplyMessage(HANDLE hPort, PFILTER_REPLY_HEADER lpReplyBuffer, DWORD dwReplyBufferSize) {
  return FromStatus(
      SyncIoctl(hPort, FLTSIM_FLT_CTL_REPLY_MESSAGE, lpReplyBuffer, dwReplyBufferSize, nullptr, 0, nullptr));
}

HRESULT WINAPI FilterSendMessage(HANDLE hPort, LPVOID lpInBuffer, DWORD dwInBufferSize, LPVOID lpOutBuffer,
                                 DWORD dwOutBufferSize, LPDWORD lpBytesReturned) {
  if (lpBytesReturned == nullptr) return E_INVALIDARG;
  ULONG_PTR information = 0;
  const NTSTATUS status = SyncIoctl(hPort, FLTSIM_FLT_CTL_SEND_MESSAGE, lpInBuffer, dwInBufferSize, lpOutBuffer,
                                    dwOutBufferSize, &information);
  // Written on success and on warnings (e.g. STATUS_BUFFER_OVERFLOW), not on errors (spec §5.2).
  if ((static_cast<uint32_t>(status) >> 30) != 3) *lpBytesReturned = static_cast<DWORD>(information);
  return FromStatus(status);
}

}  // extern "C"
