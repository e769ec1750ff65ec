// The C functions of fltKernel.h for ports, security descriptors, processes and mailslots,
// forwarding to the SimKernel that owns the filter. Each function validates its arguments
// the way the kernel would (a driver bug becomes a status and a log line, not a crash of the
// host). Threads: whatever thread the driver calls from.
#include <fltKernel.h>

#include <atomic>
#include <cstring>
#include <memory>

#include "CurrentProcess.h"
#include "HandleTable.h"
#include "KernelSupport.h"
#include "Log.h"
#include "MailslotEngine.h"
#include "ObjectName.h"
#include "PortEngine.h"
#include "SecurityPolicy.h"
#include "SimKernel.h"

using fltport::fltsim::CurrentProcessId;
using fltport::fltsim::Filter;
using fltport::fltsim::HandleTable;
using fltport::fltsim::KernelObject;
using fltport::fltsim::LogLevel;
using fltport::fltsim::LogWrite;
using fltport::fltsim::Mailslot;
using fltport::fltsim::ObjectType;
using fltport::fltsim::SecurityPolicy;
using fltport::fltsim::SimKernel;

namespace {

constexpr NTSTATUS kStatusInfoLengthMismatch = static_cast<NTSTATUS>(0xC0000004);
constexpr NTSTATUS kStatusInvalidInfoClass = static_cast<NTSTATUS>(0xC0000003);

std::shared_ptr<Filter> FilterOf(PFLT_FILTER filter) {
  return SimKernel::FilterFromHandle(reinterpret_cast<uintptr_t>(filter));
}

// A UNICODE_STRING the driver passed: Length even, within MaximumLength, Buffer present.
bool ReadUnicodeString(const UNICODE_STRING* s, std::u16string* out) {
  if (s == nullptr) return false;
  if (s->Length % 2 != 0 || (s->Length > 0 && s->Buffer == nullptr)) return false;
  out->assign(reinterpret_cast<const char16_t*>(s->Buffer), s->Length / 2);
  return true;
}

// A kernel mailslot server: its HANDLE and (optionally) its referenced FILE_OBJECT each hold
// one reference; the server closes when both are gone (ZwClose + ObDereferenceObject).
struct KernelMailslotState {
  SimKernel* kernel = nullptr;
  std::shared_ptr<Mailslot> slot;
  std::atomic<int> references{0};
};

struct KernelMailslotRef : KernelObject {
  KernelMailslotRef(ObjectType type, std::shared_ptr<KernelMailslotState> s)
      : KernelObject(type), state(std::move(s)) {}
  std::shared_ptr<KernelMailslotState> state;
  // For the FILE_OBJECT: ObReferenceObject / ObDereferenceObject count on it; the object
  // (and its hold on the mailslot) goes when the count reaches zero.
  std::atomic<int> object_references{1};
};

void ReleaseMailslotReference(const std::shared_ptr<KernelMailslotState>& state) {
  if (state->references.fetch_sub(1) == 1) state->kernel->mailslots().CloseServer(*state->slot);
}

std::shared_ptr<KernelMailslotState> MailslotFromHandle(HANDLE handle) {
  auto ref = HandleTable::Global().LookupAs<KernelMailslotRef>(reinterpret_cast<uintptr_t>(handle),
                                                               ObjectType::kMailslotHandle);
  return ref ? ref->state : nullptr;
}

std::shared_ptr<KernelMailslotState> MailslotFromFileObject(PFILE_OBJECT file_object) {
  auto ref = HandleTable::Global().LookupAs<KernelMailslotRef>(
      reinterpret_cast<uintptr_t>(file_object), ObjectType::kMailslotFileObject);
  return ref ? ref->state : nullptr;
}

NTSTATUS ReadMailslot(const std::shared_ptr<KernelMailslotState>& state, PVOID buffer,
                      ULONG length, ULONG* information) {
  if (buffer == nullptr && length > 0) return STATUS_INVALID_PARAMETER;
  uint32_t info = 0;
  uint32_t status = state->kernel->mailslots().KernelRead(*state->slot, buffer, length, &info);
  // On failure Windows reports no bytes; the size a too-small read needed is what
  // ZwQueryInformationFile(FileMailslotQueryInformation) tells.
  *information = NT_SUCCESS(static_cast<NTSTATUS>(status)) ? info : 0;
  return static_cast<NTSTATUS>(status);
}

}  // namespace

extern "C" {

// ---- Strings -------------------------------------------------------------------------------

VOID NTAPI RtlInitUnicodeString(PUNICODE_STRING DestinationString, PCWSTR SourceString) {
  size_t n = 0;
  if (SourceString != nullptr) {
    while (SourceString[n] != 0) ++n;
  }
  // USHORT byte counts: like Windows, longer strings are cut at the largest even length.
  size_t bytes = n * 2;
  if (bytes > 0xFFFC) bytes = 0xFFFC;
  DestinationString->Length = static_cast<USHORT>(bytes);
  DestinationString->MaximumLength = SourceString ? static_cast<USHORT>(bytes + 2) : 0;
  DestinationString->Buffer = const_cast<PWCH>(SourceString);
}

BOOLEAN NTAPI RtlEqualUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2,
                                    BOOLEAN CaseInSensitive) {
  std::u16string a, b;
  if (!ReadUnicodeString(String1, &a) || !ReadUnicodeString(String2, &b)) return FALSE;
  if (CaseInSensitive) {
    a = fltport::fltsim::FoldName(a);
    b = fltport::fltsim::FoldName(b);
  }
  return a == b ? TRUE : FALSE;
}

// ---- Security descriptors ------------------------------------------------------------------

NTSTATUS FLTAPI FltBuildDefaultSecurityDescriptor(PSECURITY_DESCRIPTOR* SecurityDescriptor,
                                                  ACCESS_MASK DesiredAccess) {
  if (SecurityDescriptor == nullptr) return STATUS_INVALID_PARAMETER;
  *SecurityDescriptor = fltport::fltsim::NewSecurityDescriptor(DesiredAccess);
  return STATUS_SUCCESS;
}

VOID FLTAPI FltFreeSecurityDescriptor(PSECURITY_DESCRIPTOR SecurityDescriptor) {
  if (!fltport::fltsim::FreeSecurityDescriptor(SecurityDescriptor)) {
    LogWrite(LogLevel::kError, "DRIVER BUG: FltFreeSecurityDescriptor(%p): not a live descriptor",
             SecurityDescriptor);
  }
}

NTSTATUS NTAPI RtlSetDaclSecurityDescriptor(PSECURITY_DESCRIPTOR SecurityDescriptor,
                                            BOOLEAN DaclPresent, PACL Dacl, BOOLEAN DaclDefaulted) {
  (void)DaclDefaulted;
  if (DaclPresent && Dacl != nullptr) return STATUS_NOT_IMPLEMENTED;
  bool ok = fltport::fltsim::UpdateSecurityDescriptor(
      SecurityDescriptor, [](SecurityPolicy* p, uint32_t) { p->null_dacl = true; }, 0);
  return ok ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
}

NTSTATUS FltsimSecurityDescriptorAllowUid(PSECURITY_DESCRIPTOR SecurityDescriptor, ULONG Uid) {
  bool ok = fltport::fltsim::UpdateSecurityDescriptor(
      SecurityDescriptor, [](SecurityPolicy* p, uint32_t uid) { p->uids.push_back(uid); }, Uid);
  return ok ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
}

NTSTATUS FltsimSecurityDescriptorAllowGid(PSECURITY_DESCRIPTOR SecurityDescriptor, ULONG Gid) {
  bool ok = fltport::fltsim::UpdateSecurityDescriptor(
      SecurityDescriptor, [](SecurityPolicy* p, uint32_t gid) { p->gids.push_back(gid); }, Gid);
  return ok ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
}

// ---- Filter ----------------------------------------------------------------------------------

VOID FLTAPI FltUnregisterFilter(PFLT_FILTER Filter) {
  auto filter = FilterOf(Filter);
  if (!filter) {
    LogWrite(LogLevel::kError, "DRIVER BUG: FltUnregisterFilter(%p): not a filter", (void*)Filter);
    return;
  }
  filter->kernel->ports().UnregisterFilter(filter);
}

VOID FltsimSetFilterUnloadCallback(PFLT_FILTER Filter,
                                   PFLT_FILTER_UNLOAD_CALLBACK FilterUnloadCallback) {
  auto filter = FilterOf(Filter);
  if (!filter) return;
  filter->kernel->ports().SetUnloadCallback(*filter, FilterUnloadCallback);
}

ULONG64 FltsimGetConnectionId(PFLT_PORT ClientPort) {
  SimKernel* kernel = SimKernel::Current();
  if (kernel == nullptr || ClientPort == nullptr) return 0;
  return kernel->ports().ConnectionIdOf(reinterpret_cast<uintptr_t>(ClientPort));
}

VOID FltsimEmitEvent(PCSTR Line) {
  SimKernel* kernel = SimKernel::Current();
  if (kernel == nullptr || Line == nullptr) return;
  kernel->EmitEvent(fltport::fltsim::EventCategory::kDriver, Line);
}

// ---- Communication ports ---------------------------------------------------------------------

NTSTATUS FLTAPI FltCreateCommunicationPort(PFLT_FILTER Filter, PFLT_PORT* ServerPort,
                                           POBJECT_ATTRIBUTES ObjectAttributes,
                                           PVOID ServerPortCookie,
                                           PFLT_CONNECT_NOTIFY ConnectNotifyCallback,
                                           PFLT_DISCONNECT_NOTIFY DisconnectNotifyCallback,
                                           PFLT_MESSAGE_NOTIFY MessageNotifyCallback,
                                           LONG MaxConnections) {
  auto filter = FilterOf(Filter);
  if (!filter || ServerPort == nullptr || ObjectAttributes == nullptr) return STATUS_INVALID_PARAMETER;
  *ServerPort = nullptr;
  std::u16string name;
  bool has_name = ReadUnicodeString(ObjectAttributes->ObjectName, &name);
  if (ObjectAttributes->ObjectName != nullptr && !has_name) return STATUS_OBJECT_NAME_INVALID;
  uintptr_t port = 0;
  uint32_t status = filter->kernel->ports().CreateCommunicationPort(
      filter, &name, has_name, ObjectAttributes->Attributes, ObjectAttributes->SecurityDescriptor,
      ServerPortCookie, ConnectNotifyCallback, DisconnectNotifyCallback, MessageNotifyCallback,
      MaxConnections, &port);
  *ServerPort = reinterpret_cast<PFLT_PORT>(port);
  return static_cast<NTSTATUS>(status);
}

VOID FLTAPI FltCloseCommunicationPort(PFLT_PORT ServerPort) {
  auto port = HandleTable::Global().LookupAs<fltport::fltsim::ServerPort>(
      reinterpret_cast<uintptr_t>(ServerPort), ObjectType::kServerPort);
  if (!port) {
    LogWrite(LogLevel::kError, "DRIVER BUG: FltCloseCommunicationPort(%p): not an open server port",
             (void*)ServerPort);
    return;
  }
  port->filter->kernel->ports().CloseCommunicationPort(reinterpret_cast<uintptr_t>(ServerPort));
}

VOID FLTAPI FltCloseClientPort(PFLT_FILTER Filter, PFLT_PORT* ClientPort) {
  auto filter = FilterOf(Filter);
  if (!filter || ClientPort == nullptr) {
    LogWrite(LogLevel::kError, "DRIVER BUG: FltCloseClientPort(%p, %p): bad arguments", (void*)Filter,
             (void*)ClientPort);
    return;
  }
  filter->kernel->ports().CloseClientPort(filter, ClientPort);
}

NTSTATUS FLTAPI FltSendMessage(PFLT_FILTER Filter, PFLT_PORT* ClientPort, PVOID SenderBuffer,
                               ULONG SenderBufferLength, PVOID ReplyBuffer, PULONG ReplyLength,
                               PLARGE_INTEGER Timeout) {
  auto filter = FilterOf(Filter);
  if (!filter || ClientPort == nullptr) return STATUS_INVALID_PARAMETER;
  const int64_t* timeout = Timeout ? &Timeout->QuadPart : nullptr;
  return static_cast<NTSTATUS>(filter->kernel->ports().SendMessage(
      filter, ClientPort, SenderBuffer, SenderBufferLength, ReplyBuffer, ReplyLength, timeout));
}

// ---- Processes -------------------------------------------------------------------------------

PEPROCESS NTAPI PsGetCurrentProcess(VOID) {
  return reinterpret_cast<PEPROCESS>(fltport::fltsim::ProcessHandleFor(CurrentProcessId()));
}

HANDLE NTAPI PsGetCurrentProcessId(VOID) {
  return reinterpret_cast<HANDLE>(static_cast<uintptr_t>(CurrentProcessId()));
}

HANDLE NTAPI PsGetProcessId(PEPROCESS Process) {
  uint32_t pid = 0;
  if (!fltport::fltsim::ProcessIdFromHandle(reinterpret_cast<uintptr_t>(Process), &pid)) {
    LogWrite(LogLevel::kError, "DRIVER BUG: PsGetProcessId(%p): not a process", (void*)Process);
    return nullptr;
  }
  return reinterpret_cast<HANDLE>(static_cast<uintptr_t>(pid));
}

BOOLEAN IoIs32bitProcess(PIRP Irp) {
  (void)Irp;
  return FALSE;  // no WOW64 callers (fltKernel.h)
}

LONG_PTR ObfReferenceObject(PVOID Object) {
  uintptr_t h = reinterpret_cast<uintptr_t>(Object);
  uint32_t pid;
  if (fltport::fltsim::ProcessIdFromHandle(h, &pid)) return 1;  // processes outlive the driver here
  auto ref = HandleTable::Global().LookupAs<KernelMailslotRef>(h, ObjectType::kMailslotFileObject);
  if (!ref) {
    LogWrite(LogLevel::kError, "DRIVER BUG: ObReferenceObject(%p): not an object fltsim gave out", Object);
    return 0;
  }
  return ++ref->object_references;
}

LONG_PTR ObfDereferenceObject(PVOID Object) {
  uintptr_t h = reinterpret_cast<uintptr_t>(Object);
  uint32_t pid;
  if (fltport::fltsim::ProcessIdFromHandle(h, &pid)) return 1;  // processes outlive the driver here
  auto ref = HandleTable::Global().LookupAs<KernelMailslotRef>(h, ObjectType::kMailslotFileObject);
  if (!ref) {
    LogWrite(LogLevel::kError, "DRIVER BUG: ObDereferenceObject(%p): no reference held", Object);
    return 0;
  }
  int left = --ref->object_references;
  if (left == 0) {
    HandleTable::Global().Remove(h, ObjectType::kMailslotFileObject);
    ReleaseMailslotReference(ref->state);
  }
  return left;
}

// ---- Mailslots -------------------------------------------------------------------------------

NTSTATUS FLTAPI FltCreateMailslotFile(PFLT_FILTER Filter, PFLT_INSTANCE Instance,
                                      PHANDLE FileHandle, PFILE_OBJECT* FileObject,
                                      ULONG DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                                      PIO_STATUS_BLOCK IoStatusBlock, ULONG CreateOptions,
                                      ULONG MailslotQuota, ULONG MaximumMessageSize,
                                      PLARGE_INTEGER ReadTimeout,
                                      PIO_DRIVER_CREATE_CONTEXT DriverContext) {
  (void)Instance;
  (void)DesiredAccess;
  (void)CreateOptions;  // every kernel mailslot handle is synchronous on fltsim
  (void)DriverContext;
  auto filter = FilterOf(Filter);
  if (!filter || FileHandle == nullptr || IoStatusBlock == nullptr) return STATUS_INVALID_PARAMETER;
  *FileHandle = nullptr;
  if (FileObject != nullptr) *FileObject = nullptr;
  std::u16string name;
  NTSTATUS status;
  if (ObjectAttributes == nullptr || !ReadUnicodeString(ObjectAttributes->ObjectName, &name)) {
    status = STATUS_OBJECT_PATH_SYNTAX_BAD;  // spec §10.2: empty name without a root
  } else if (filter->unloading) {
    status = STATUS_FLT_DELETING_OBJECT;
  } else {
    std::shared_ptr<Mailslot> slot;
    int64_t timeout = ReadTimeout ? ReadTimeout->QuadPart : -1;
    status = static_cast<NTSTATUS>(filter->kernel->mailslots().Create(
        name, MaximumMessageSize, MailslotQuota, timeout, true, &slot));
    if (NT_SUCCESS(status)) {
      auto state = std::make_shared<KernelMailslotState>();
      state->kernel = filter->kernel;
      state->slot = slot;
      state->references = FileObject != nullptr ? 2 : 1;
      *FileHandle = reinterpret_cast<HANDLE>(HandleTable::Global().Insert(
          std::make_shared<KernelMailslotRef>(ObjectType::kMailslotHandle, state)));
      if (FileObject != nullptr) {
        *FileObject = reinterpret_cast<PFILE_OBJECT>(HandleTable::Global().Insert(
            std::make_shared<KernelMailslotRef>(ObjectType::kMailslotFileObject, state)));
      }
    }
  }
  IoStatusBlock->u.Status = status;
  IoStatusBlock->Information = NT_SUCCESS(status) ? FILE_CREATED : 0;
  return status;
}

NTSTATUS NTAPI ZwReadFile(HANDLE FileHandle, HANDLE Event, PIO_APC_ROUTINE ApcRoutine,
                          PVOID ApcContext, PIO_STATUS_BLOCK IoStatusBlock, PVOID Buffer,
                          ULONG Length, PLARGE_INTEGER ByteOffset, PULONG Key) {
  (void)ApcContext;
  (void)ByteOffset;
  (void)Key;
  if (IoStatusBlock == nullptr) return STATUS_INVALID_PARAMETER;
  if (Event != nullptr || ApcRoutine != nullptr) {
    LogWrite(LogLevel::kWarn, "ZwReadFile: asynchronous reads (Event/ApcRoutine) are not simulated");
    return STATUS_NOT_SUPPORTED;
  }
  auto state = MailslotFromHandle(FileHandle);
  if (!state) return STATUS_INVALID_HANDLE;
  ULONG information = 0;
  NTSTATUS status = ReadMailslot(state, Buffer, Length, &information);
  IoStatusBlock->u.Status = status;
  IoStatusBlock->Information = information;
  return status;
}

NTSTATUS FLTAPI FltReadFile(PFLT_INSTANCE InitiatingInstance, PFILE_OBJECT FileObject,
                            PLARGE_INTEGER ByteOffset, ULONG Length, PVOID Buffer,
                            FLT_IO_OPERATION_FLAGS Flags, PULONG BytesRead,
                            PFLT_COMPLETED_ASYNC_IO_CALLBACK CallbackRoutine,
                            PVOID CallbackContext) {
  (void)InitiatingInstance;
  (void)ByteOffset;
  (void)Flags;
  (void)CallbackContext;
  if (BytesRead != nullptr) *BytesRead = 0;
  if (CallbackRoutine != nullptr) {
    LogWrite(LogLevel::kWarn, "FltReadFile: asynchronous reads (CallbackRoutine) are not simulated");
    return STATUS_NOT_SUPPORTED;
  }
  auto state = MailslotFromFileObject(FileObject);
  if (!state) return STATUS_INVALID_HANDLE;
  ULONG information = 0;
  NTSTATUS status = ReadMailslot(state, Buffer, Length, &information);
  if (BytesRead != nullptr) *BytesRead = information;
  return status;
}

NTSTATUS NTAPI ZwQueryInformationFile(HANDLE FileHandle, PIO_STATUS_BLOCK IoStatusBlock,
                                      PVOID FileInformation, ULONG Length,
                                      FILE_INFORMATION_CLASS FileInformationClass) {
  if (IoStatusBlock == nullptr || FileInformation == nullptr) return STATUS_INVALID_PARAMETER;
  auto state = MailslotFromHandle(FileHandle);
  if (!state) return STATUS_INVALID_HANDLE;
  if (FileInformationClass != FileMailslotQueryInformation) return kStatusInvalidInfoClass;
  if (Length < sizeof(FILE_MAILSLOT_QUERY_INFORMATION)) return kStatusInfoLengthMismatch;
  fltport::fltsim::MailslotInfo info = state->kernel->mailslots().Query(*state->slot);
  auto* out = static_cast<FILE_MAILSLOT_QUERY_INFORMATION*>(FileInformation);
  out->MaximumMessageSize = info.max_message_size;
  out->MailslotQuota = info.quota;
  out->NextMessageSize = info.next_size;
  out->MessagesAvailable = info.count;
  out->ReadTimeout.QuadPart = info.read_timeout;
  IoStatusBlock->u.Status = STATUS_SUCCESS;
  IoStatusBlock->Information = sizeof(FILE_MAILSLOT_QUERY_INFORMATION);
  return STATUS_SUCCESS;
}

NTSTATUS NTAPI ZwSetInformationFile(HANDLE FileHandle, PIO_STATUS_BLOCK IoStatusBlock,
                                    PVOID FileInformation, ULONG Length,
                                    FILE_INFORMATION_CLASS FileInformationClass) {
  if (IoStatusBlock == nullptr || FileInformation == nullptr) return STATUS_INVALID_PARAMETER;
  auto state = MailslotFromHandle(FileHandle);
  if (!state) return STATUS_INVALID_HANDLE;
  if (FileInformationClass != FileMailslotSetInformation) return kStatusInvalidInfoClass;
  if (Length < sizeof(FILE_MAILSLOT_SET_INFORMATION)) return kStatusInfoLengthMismatch;
  const auto* in = static_cast<const FILE_MAILSLOT_SET_INFORMATION*>(FileInformation);
  // A NULL ReadTimeout pointer means "wait forever", as for NtCreateMailslotFile.
  state->kernel->mailslots().SetReadTimeout(*state->slot, in->ReadTimeout ? in->ReadTimeout->QuadPart : -1);
  IoStatusBlock->u.Status = STATUS_SUCCESS;
  IoStatusBlock->Information = 0;
  return STATUS_SUCCESS;
}

NTSTATUS NTAPI ZwClose(HANDLE Handle) {
  if (fltport::fltsim::CloseThreadHandle(reinterpret_cast<uintptr_t>(Handle))) return STATUS_SUCCESS;
  auto ref = std::static_pointer_cast<KernelMailslotRef>(
      HandleTable::Global().Remove(reinterpret_cast<uintptr_t>(Handle), ObjectType::kMailslotHandle));
  if (!ref) {
    LogWrite(LogLevel::kError, "DRIVER BUG: ZwClose(%p): not a handle fltsim gave out", Handle);
    return STATUS_INVALID_HANDLE;
  }
  ReleaseMailslotReference(ref->state);
  return STATUS_SUCCESS;
}

NTSTATUS FLTAPI FltClose(HANDLE FileHandle) { return ZwClose(FileHandle); }

}  // extern "C"
