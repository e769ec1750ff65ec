#include "NtApi.h"

#include <winternl.h>

#include "WideString.h"

namespace fltport::win {
namespace {

template <typename Fn>
Fn Resolve(HMODULE module, const char* name) {
  if (module == nullptr) return nullptr;
  // FARPROC -> the real signature: the documented way to call what GetProcAddress returns.
  return reinterpret_cast<Fn>(reinterpret_cast<void*>(::GetProcAddress(module, name)));
}

}  // namespace

const NtApi& NtApi::Get() {
  static const NtApi api;  // thread-safe initialization (C++11 magic statics)
  return api;
}

NtApi::NtApi() {
  HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
  create_mailslot_ = Resolve<CreateMailslotFn>(ntdll, "NtCreateMailslotFile");
  dos_to_nt_path_ = Resolve<DosToNtPathFn>(ntdll, "RtlDosPathNameToNtPathName_U");
  free_string_ = Resolve<FreeStringFn>(ntdll, "RtlFreeUnicodeString");
  status_to_dos_error_ = Resolve<StatusToDosErrorFn>(ntdll, "RtlNtStatusToDosError");
}

uint32_t NtApi::Win32FromNtStatus(uint32_t ntstatus) const {
  if (status_to_dos_error_ != nullptr) {
    return status_to_dos_error_(static_cast<LONG>(ntstatus));
  }
  return core::Win32FromNtStatus(ntstatus);
}

core::Status NtApi::StatusFromNtStatus(uint32_t ntstatus, const char* syscall) const {
  // Reported the way the Win32 call it stands in for would be: origin win32 (GetLastError),
  // HRESULT_FROM_WIN32, with the NTSTATUS kept.
  core::Status status = core::Status::FromCompletion(ntstatus, syscall);
  if (!status.ok()) {
    status.win32 = Win32FromNtStatus(ntstatus);
    status.hresult = core::HresultFromWin32(status.win32);
  }
  return status;
}

core::Status NtApi::CreateMailslot(const std::u16string& dos_name, uint32_t max_message_size,
                                   HANDLE* handle) const {
  static constexpr char kCreate[] = "NtCreateMailslotFile";
  *handle = INVALID_HANDLE_VALUE;
  if (!has_mailslot_create()) {
    return core::Status::Protocol("ntdll.dll lacks NtCreateMailslotFile", kCreate);
  }
  UNICODE_STRING nt_name{};
  if (!dos_to_nt_path_(AsWide(dos_name), &nt_name, nullptr, nullptr)) {
    return core::Status::FromWin32(ERROR_PATH_NOT_FOUND, kCreate);  // as kernel32 reports it
  }
  OBJECT_ATTRIBUTES attributes;
  // Not OBJ_INHERIT: a child process must not keep the mailslot alive. Default security.
  InitializeObjectAttributes(&attributes, &nt_name, OBJ_CASE_INSENSITIVE, nullptr, nullptr);
  IO_STATUS_BLOCK io{};
  LARGE_INTEGER timeout;
  timeout.QuadPart = 0;
  HANDLE created = nullptr;
  // CreateOptions 0: no FILE_SYNCHRONOUS_IO_*, so the handle takes overlapped reads and a
  // completion port. Access: what CreateMailslotW requests (GENERIC_READ | SYNCHRONIZE, plus
  // WRITE_DAC as ReactOS's copy of kernel32 has it). MailslotQuota 0 = automatic.
  const LONG nt = create_mailslot_(&created, GENERIC_READ | SYNCHRONIZE | WRITE_DAC, &attributes,
                                   &io, 0, 0, max_message_size, &timeout);
  free_string_(&nt_name);
  if (nt != 0) return StatusFromNtStatus(static_cast<uint32_t>(nt), kCreate);
  *handle = created;
  return core::Status::Ok();
}

}  // namespace fltport::win
