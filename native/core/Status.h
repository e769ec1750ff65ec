// The outcome of a native operation, with its origin kept: the HRESULT a Windows caller would
// see, the NTSTATUS when the kernel (or fltsim) produced one, the Win32 error for overlapped
// completions, errno for POSIX transport failures, and the name of the call that failed.
// native/napi turns a failed Status into one of the JS error classes (lib/errors.ts).
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "StatusTable.h"

namespace fltport::core {

enum class StatusOrigin : uint8_t {
  kNone,      // success
  kNtStatus,  // a kernel/fltsim status; hresult derived per spec §1.3
  kWin32,     // GetLastError() / an overlapped completion
  kHresult,   // returned as an HRESULT by a Filter* function
  kErrno,     // POSIX transport (socket to fltsim-host)
  kProtocol,  // a malformed or unexpected frame, a broken invariant
  kArgument,  // rejected by native argument checks (TS should have caught it)
};

struct Status {
  StatusOrigin origin = StatusOrigin::kNone;
  uint32_t hresult = 0;   // always set when origin is kNtStatus, kWin32, kHresult, kArgument
  uint32_t ntstatus = 0;  // meaningful when has_ntstatus
  bool has_ntstatus = false;
  uint32_t win32 = 0;     // meaningful when origin is kWin32 (or derived from ntstatus)
  int sys_errno = 0;      // meaningful when origin is kErrno
  std::string syscall;    // "FilterConnectCommunicationPort", "connect", ...
  std::string detail;     // extra context for the message; never the only information

  bool ok() const { return origin == StatusOrigin::kNone; }

  static Status Ok() { return Status{}; }

  // A status returned by a synchronous Filter* call, translated the way fltlib.dll does.
  static Status FromNtStatus(uint32_t ntstatus, std::string syscall) {
    Status s;
    if (ntstatus == 0) return s;
    s.origin = StatusOrigin::kNtStatus;
    s.ntstatus = ntstatus;
    s.has_ntstatus = true;
    s.win32 = Win32FromNtStatus(ntstatus);
    s.hresult = HresultFromNtStatus(ntstatus);
    s.syscall = std::move(syscall);
    return s;
  }

  // An overlapped completion: kernel32 maps OVERLAPPED.Internal with RtlNtStatusToDosError
  // and callers see HRESULT_FROM_WIN32(GetLastError()) (spec §1.3, last paragraph).
  static Status FromCompletion(uint32_t ntstatus, std::string syscall) {
    Status s;
    if (ntstatus == 0) return s;
    s.origin = StatusOrigin::kWin32;
    s.ntstatus = ntstatus;
    s.has_ntstatus = true;
    s.win32 = Win32FromNtStatus(ntstatus);
    s.hresult = HresultFromWin32(s.win32);
    s.syscall = std::move(syscall);
    return s;
  }

  static Status FromWin32(uint32_t win32, std::string syscall) {
    Status s;
    if (win32 == 0) return s;
    s.origin = StatusOrigin::kWin32;
    s.win32 = win32;
    s.hresult = HresultFromWin32(win32);
    s.syscall = std::move(syscall);
    return s;
  }

  static Status FromHresult(uint32_t hresult, std::string syscall) {
    Status s;
    if (hresult == 0) return s;
    s.origin = StatusOrigin::kHresult;
    s.hresult = hresult;
    if ((hresult & 0xFFFF0000u) == 0x80070000u) s.win32 = hresult & 0xFFFFu;
    s.syscall = std::move(syscall);
    return s;
  }

  static Status FromErrno(int err, std::string syscall, std::string detail = {}) {
    Status s;
    s.origin = StatusOrigin::kErrno;
    s.sys_errno = err;
    s.hresult = hr::kFail;
    s.syscall = std::move(syscall);
    s.detail = std::move(detail);
    return s;
  }

  static Status Protocol(std::string detail, std::string syscall = {}) {
    Status s;
    s.origin = StatusOrigin::kProtocol;
    s.hresult = hr::kFail;
    s.syscall = std::move(syscall);
    s.detail = std::move(detail);
    return s;
  }

  static Status Argument(std::string detail, std::string syscall = {}) {
    Status s;
    s.origin = StatusOrigin::kArgument;
    s.hresult = hr::kInvalidArg;
    s.syscall = std::move(syscall);
    s.detail = std::move(detail);
    return s;
  }
};

}  // namespace fltport::core
