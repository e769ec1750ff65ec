// The few ntdll.dll functions native/win needs, resolved at run time with GetProcAddress so
// that the addon's import table stays node.exe, FLTLIB.DLL, KERNEL32 and msvcrt (ntdll is
// always loaded; there is no import library for it in the Windows SDK either).
//
// Why ntdll at all: CreateMailslotW gives a handle that may be synchronous (newer Wine
// creates it with FILE_SYNCHRONOUS_IO_NONALERT, and Wine's tests are run against Windows),
// and a synchronous handle cannot be associated with a completion port. NtCreateMailslotFile
// without FILE_SYNCHRONOUS_IO_* is what CreateMailslotW does minus that flag.
#pragma once

#include <cstdint>
#include <string>

#include "FltUserCompat.h"
#include "Status.h"

namespace fltport::win {

class NtApi {
 public:
  // Any thread. Resolved once; a missing export leaves its pointer null.
  static const NtApi& Get();

  bool has_mailslot_create() const {
    return create_mailslot_ != nullptr && dos_to_nt_path_ != nullptr && free_string_ != nullptr;
  }

  // Any thread. The server end of mailslot `dos_name` (\\.\mailslot\...), converted to its NT
  // name exactly as kernel32 does (RtlDosPathNameToNtPathName_U), opened for asynchronous
  // I/O with the access CreateMailslotW asks for. The read timeout is left at 0 (immediate):
  // callers set theirs with SetMailslotInfo, whose ms <-> 100 ns convention is kernel32's own.
  core::Status CreateMailslot(const std::u16string& dos_name, uint32_t max_message_size,
                              HANDLE* handle) const;

  // Any thread. kernel32's translation of an NTSTATUS (what GetLastError() would say after a
  // Win32 call failed with it); core's table when ntdll's is unavailable.
  uint32_t Win32FromNtStatus(uint32_t ntstatus) const;
  // Any thread. A failed NTSTATUS as a Status whose Win32 error and HRESULT are kernel32's.
  core::Status StatusFromNtStatus(uint32_t ntstatus, const char* syscall) const;

 private:
  NtApi();

  using CreateMailslotFn = LONG(NTAPI*)(HANDLE*, ULONG, void* /*OBJECT_ATTRIBUTES*/,
                                        void* /*IO_STATUS_BLOCK*/, ULONG, ULONG, ULONG,
                                        LARGE_INTEGER*);
  using DosToNtPathFn = BOOLEAN(NTAPI*)(const wchar_t*, void* /*UNICODE_STRING*/, const wchar_t**,
                                        void*);
  using FreeStringFn = void(NTAPI*)(void* /*UNICODE_STRING*/);
  using StatusToDosErrorFn = ULONG(NTAPI*)(LONG);

  CreateMailslotFn create_mailslot_ = nullptr;
  DosToNtPathFn dos_to_nt_path_ = nullptr;
  FreeStringFn free_string_ = nullptr;
  StatusToDosErrorFn status_to_dos_error_ = nullptr;
};

}  // namespace fltport::win
