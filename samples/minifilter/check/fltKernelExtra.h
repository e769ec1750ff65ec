/*
 * fltKernelExtra.h - declarations the sample minifilter needs on top of fltsim's
 * fltKernel.h, for the clang syntax check ONLY (native/cmake/check-driver-syntax.sh).
 *
 * The real driver compiles against the WDK. fltsim's fltKernel.h declares what the
 * simulator implements; this file adds, with the WDK's names, types and signatures:
 *
 *   Part A  what communication.c, testcontrol.c and mailslot.c use and fltsim does not
 *           (yet) declare. fltsim-host compiles those files, so fltsim has to provide
 *           these; the check script's gcc lane lists which ones are still missing.
 *   Part B  what only the WDK build uses: driver.c and operations.c (FLT_REGISTRATION,
 *           FLT_CALLBACK_DATA, contexts, names, ECPs, registry...) and the WDK branches of
 *           the shared files (security descriptors built with Rtl* ACL routines, WOW64).
 *
 * The syntax check type-checks the WDK build: its wrapper includes fltsim's header, then
 * #undef FLTSIM, then this file, so #ifdef FLTSIM branches stay out exactly as with the
 * real WDK. The fltsim branches are checked by the gcc lane against fltsim alone.
 *
 * This is a type check, not a layout guarantee: structures here have the WDK's member
 * names and types, not necessarily its exact layout.
 *
 * Every block is guarded. "probe:" markers are read by the check script, which compiles
 * each probe against fltsim's header first and defines FPSX_HAVE_<name> when fltsim
 * already has it, so this file never redefines what fltsim provides and adapts as
 * fltsim's header grows. Macros are guarded with #ifndef directly.
 */
#ifndef FPS_FLTKERNEL_EXTRA_H
#define FPS_FLTKERNEL_EXTRA_H

/* =========================================================================================
 * Part A - needed by the files fltsim-host builds
 * ====================================================================================== */

/* ---- SAL ---- */
#ifndef _In_z_
#define _In_z_
#endif
#ifndef _Out_writes_to_
#define _Out_writes_to_(s, c)
#endif
#ifndef _Inout_updates_
#define _Inout_updates_(s)
#endif
#ifndef _Outptr_result_maybenull_
#define _Outptr_result_maybenull_
#endif

/* ---- structured exception handling ----
 * fltsim maps GetExceptionCode for gcc only; with an MSVC-compatible compiler it is the
 * _exception_code() intrinsic, as in the WDK's <excpt.h>. */
#if defined(_MSC_VER) && !defined(GetExceptionCode)
unsigned long __cdecl _exception_code(void);
#define GetExceptionCode() ((NTSTATUS)_exception_code())
#endif

/* ---- memory ---- */
/* memcpy/memset only implement the two macros below here: not-a-gap for fltsim. */
#if !defined(FPSX_HAVE_memcpy) /* probe: expr memcpy (not-a-gap) */
void *memcpy(void *Destination, const void *Source, SIZE_T Length);
#endif
#if !defined(FPSX_HAVE_memset) /* probe: expr memset (not-a-gap) */
void *memset(void *Destination, int Fill, SIZE_T Length);
#endif
#ifndef RtlCopyMemory
#define RtlCopyMemory(Destination, Source, Length) memcpy((Destination), (Source), (Length))
#endif
#ifndef RtlZeroMemory
#define RtlZeroMemory(Destination, Length) memset((Destination), 0, (Length))
#endif
#ifndef RTL_NUMBER_OF
#define RTL_NUMBER_OF(A) (sizeof(A) / sizeof((A)[0]))
#endif
#ifndef IS_ALIGNED
#define IS_ALIGNED(_pointer, _alignment) ((((ULONG_PTR)(_pointer)) & ((_alignment) - 1)) == 0)
#endif
#ifndef CONTAINING_RECORD
#define CONTAINING_RECORD(address, type, field) \
  ((type *)((PCHAR)(address) - (ULONG_PTR)(&((type *)0)->field)))
#endif

/* ---- basic types ---- */
#if !defined(FPSX_HAVE_LONG64) /* probe: type LONG64 */
typedef LONGLONG LONG64, *PLONG64;
#endif
#if !defined(FPSX_HAVE_PCCH) /* probe: type PCCH */
typedef const CHAR *PCCH;
#endif
#if !defined(FPSX_HAVE_PSID) /* probe: type PSID */
typedef PVOID PSID;
#endif

/* ---- status values ---- */
#ifndef STATUS_DEVICE_BUSY
#define STATUS_DEVICE_BUSY ((NTSTATUS)0x80000011L)
#endif
#ifndef STATUS_REVISION_MISMATCH
#define STATUS_REVISION_MISMATCH ((NTSTATUS)0xC0000059L)
#endif
#ifndef STATUS_INVALID_SID
#define STATUS_INVALID_SID ((NTSTATUS)0xC0000078L)
#endif
#ifndef STATUS_INVALID_NETWORK_RESPONSE
#define STATUS_INVALID_NETWORK_RESPONSE ((NTSTATUS)0xC00000C3L)
#endif
#ifndef STATUS_VIRUS_INFECTED
#define STATUS_VIRUS_INFECTED ((NTSTATUS)0xC0000906L)
#endif

/* ---- access rights ---- */
#ifndef FILE_WRITE_EA
#define FILE_WRITE_EA 0x0010
#endif
#ifndef FILE_APPEND_DATA
#define FILE_APPEND_DATA 0x0004
#endif
#ifndef FILE_WRITE_ATTRIBUTES
#define FILE_WRITE_ATTRIBUTES 0x0100
#endif
#ifndef STANDARD_RIGHTS_WRITE
#define STANDARD_RIGHTS_WRITE READ_CONTROL
#endif
#ifndef FILE_GENERIC_WRITE
#define FILE_GENERIC_WRITE \
  (STANDARD_RIGHTS_WRITE | FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES | FILE_WRITE_EA | \
   FILE_APPEND_DATA | SYNCHRONIZE)
#endif
#ifndef THREAD_ALL_ACCESS
#define THREAD_ALL_ACCESS (STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0xFFFF)
#endif

/* ---- interlocked (MSVC intrinsics; fltsim would map them to __atomic builtins) ---- */
#if !defined(FPSX_HAVE_InterlockedIncrement) && !defined(InterlockedIncrement) /* probe: expr InterlockedIncrement */
LONG InterlockedIncrement(LONG volatile *Addend);
#endif
#if !defined(FPSX_HAVE_InterlockedDecrement) && !defined(InterlockedDecrement) /* probe: expr InterlockedDecrement */
LONG InterlockedDecrement(LONG volatile *Addend);
#endif
#if !defined(FPSX_HAVE_InterlockedExchange) && !defined(InterlockedExchange) /* probe: expr InterlockedExchange */
LONG InterlockedExchange(LONG volatile *Target, LONG Value);
#endif
#if !defined(FPSX_HAVE_InterlockedIncrement64) && !defined(InterlockedIncrement64) /* probe: expr InterlockedIncrement64 */
LONG64 InterlockedIncrement64(LONG64 volatile *Addend);
#endif
#if !defined(FPSX_HAVE_InterlockedExchange64) && !defined(InterlockedExchange64) /* probe: expr InterlockedExchange64 */
LONG64 InterlockedExchange64(LONG64 volatile *Target, LONG64 Value);
#endif
#if !defined(FPSX_HAVE_InterlockedCompareExchange64) && !defined(InterlockedCompareExchange64) /* probe: expr InterlockedCompareExchange64 */
LONG64 InterlockedCompareExchange64(LONG64 volatile *Destination, LONG64 Exchange, LONG64 Comperand);
#endif

/* ---- doubly linked lists ---- */
#if !defined(FPSX_HAVE_LIST_ENTRY) /* probe: type LIST_ENTRY */
typedef struct _LIST_ENTRY {
  struct _LIST_ENTRY *Flink;
  struct _LIST_ENTRY *Blink;
} LIST_ENTRY, *PLIST_ENTRY;
#endif
#if !defined(FPSX_HAVE_InitializeListHead) && !defined(InitializeListHead) /* probe: expr InitializeListHead */
static __inline VOID InitializeListHead(PLIST_ENTRY ListHead) {
  ListHead->Flink = ListHead->Blink = ListHead;
}
static __inline BOOLEAN IsListEmpty(const LIST_ENTRY *ListHead) {
  return (BOOLEAN)(ListHead->Flink == ListHead);
}
static __inline BOOLEAN RemoveEntryList(PLIST_ENTRY Entry) {
  PLIST_ENTRY Next = Entry->Flink;
  PLIST_ENTRY Prev = Entry->Blink;
  Prev->Flink = Next;
  Next->Blink = Prev;
  return (BOOLEAN)(Next == Prev);
}
static __inline VOID InsertTailList(PLIST_ENTRY ListHead, PLIST_ENTRY Entry) {
  PLIST_ENTRY Last = ListHead->Blink;
  Entry->Flink = ListHead;
  Entry->Blink = Last;
  Last->Flink = Entry;
  ListHead->Blink = Entry;
}
#endif

/* ---- objects and processes ---- */
#if !defined(FPSX_HAVE_ObfReferenceObject) && !defined(ObReferenceObject) /* probe: expr ObfReferenceObject */
NTKERNELAPI LONG_PTR ObfReferenceObject(_In_ PVOID Object);
#endif
#ifndef ObReferenceObject
#define ObReferenceObject(o) ObfReferenceObject(o)
#endif

/* ---- system threads ---- */
#if !defined(FPSX_HAVE_KSTART_ROUTINE) /* probe: type KSTART_ROUTINE */
typedef VOID KSTART_ROUTINE(_In_ PVOID StartContext);
typedef KSTART_ROUTINE *PKSTART_ROUTINE;
#endif
#if !defined(FPSX_HAVE_CLIENT_ID) /* probe: type CLIENT_ID */
typedef struct _CLIENT_ID {
  HANDLE UniqueProcess;
  HANDLE UniqueThread;
} CLIENT_ID, *PCLIENT_ID;
#endif
#if !defined(FPSX_HAVE_PsCreateSystemThread) /* probe: expr PsCreateSystemThread */
NTKERNELAPI NTSTATUS NTAPI PsCreateSystemThread(_Out_ PHANDLE ThreadHandle, _In_ ULONG DesiredAccess,
                                                _In_opt_ POBJECT_ATTRIBUTES ObjectAttributes,
                                                _In_opt_ HANDLE ProcessHandle,
                                                _Out_opt_ PCLIENT_ID ClientId,
                                                _In_ PKSTART_ROUTINE StartRoutine,
                                                _In_opt_ PVOID StartContext);
#endif
#if !defined(FPSX_HAVE_PsTerminateSystemThread) /* probe: expr PsTerminateSystemThread */
NTKERNELAPI NTSTATUS NTAPI PsTerminateSystemThread(_In_ NTSTATUS ExitStatus);
#endif
#if !defined(FPSX_HAVE_ZwWaitForSingleObject) /* probe: expr ZwWaitForSingleObject */
NTSYSAPI NTSTATUS NTAPI ZwWaitForSingleObject(_In_ HANDLE Handle, _In_ BOOLEAN Alertable,
                                              _In_opt_ PLARGE_INTEGER Timeout);
#endif

/* ---- strings ---- */
#if !defined(FPSX_HAVE_RtlUTF8ToUnicodeN) /* probe: expr RtlUTF8ToUnicodeN */
NTSYSAPI NTSTATUS NTAPI RtlUTF8ToUnicodeN(_Out_writes_bytes_to_opt_(Max, *Actual) PWSTR UnicodeStringDestination,
                                          _In_ ULONG UnicodeStringMaxByteCount,
                                          _Out_ PULONG UnicodeStringActualByteCount,
                                          _In_reads_bytes_(Count) PCCH UTF8StringSource,
                                          _In_ ULONG UTF8StringByteCount);
#endif

/* =========================================================================================
 * Part B - kernel only: driver.c and operations.c
 * (left out with FPSX_SHARED_ONLY: the check script's gcc lane proves that Part A alone is
 * enough for the files fltsim-host builds)
 * ====================================================================================== */
#if !defined(FPSX_SHARED_ONLY)

/* ---- security: SIDs, ACLs, absolute security descriptors (communication.c, WDK branch;
 *      its FLTSIM branch uses fltsim's uid/gid extensions instead) ---- */
#if !defined(FPSX_HAVE_SID_IDENTIFIER_AUTHORITY) /* probe: type SID_IDENTIFIER_AUTHORITY */
typedef struct _SID_IDENTIFIER_AUTHORITY {
  UCHAR Value[6];
} SID_IDENTIFIER_AUTHORITY, *PSID_IDENTIFIER_AUTHORITY;
#endif
#ifndef SECURITY_NT_AUTHORITY
#define SECURITY_NT_AUTHORITY {0, 0, 0, 0, 0, 5}
#endif
#ifndef SECURITY_LOCAL_SYSTEM_RID
#define SECURITY_LOCAL_SYSTEM_RID (0x00000012L)
#endif
#ifndef SID_MAX_SUB_AUTHORITIES
#define SID_MAX_SUB_AUTHORITIES (15)
#endif
#ifndef ACL_REVISION
#define ACL_REVISION (2)
#endif
#ifndef SECURITY_DESCRIPTOR_REVISION
#define SECURITY_DESCRIPTOR_REVISION (1)
#endif
#if !defined(FPSX_HAVE_ACL) /* probe: type ACL */
struct _ACL {
  UCHAR AclRevision;
  UCHAR Sbz1;
  USHORT AclSize;
  USHORT AceCount;
  USHORT Sbz2;
};
typedef struct _ACL ACL;
#endif
#if !defined(FPSX_HAVE_ACE_HEADER) /* probe: type ACE_HEADER */
typedef struct _ACE_HEADER {
  UCHAR AceType;
  UCHAR AceFlags;
  USHORT AceSize;
} ACE_HEADER, *PACE_HEADER;
#endif
#if !defined(FPSX_HAVE_ACCESS_ALLOWED_ACE) /* probe: type ACCESS_ALLOWED_ACE */
typedef struct _ACCESS_ALLOWED_ACE {
  ACE_HEADER Header;
  ACCESS_MASK Mask;
  ULONG SidStart;
} ACCESS_ALLOWED_ACE, *PACCESS_ALLOWED_ACE;
#endif
#if !defined(FPSX_HAVE_SECURITY_DESCRIPTOR) /* probe: type SECURITY_DESCRIPTOR */
typedef USHORT SECURITY_DESCRIPTOR_CONTROL;
typedef struct _SECURITY_DESCRIPTOR {
  UCHAR Revision;
  UCHAR Sbz1;
  SECURITY_DESCRIPTOR_CONTROL Control;
  PSID Owner;
  PSID Group;
  PACL Sacl;
  PACL Dacl;
} SECURITY_DESCRIPTOR;
#endif
#if !defined(FPSX_HAVE_RtlCreateSecurityDescriptor) /* probe: expr RtlCreateSecurityDescriptor */
NTSYSAPI NTSTATUS NTAPI RtlCreateSecurityDescriptor(_Out_ PSECURITY_DESCRIPTOR SecurityDescriptor,
                                                    _In_ ULONG Revision);
#endif
#if !defined(FPSX_HAVE_RtlGetDaclSecurityDescriptor) /* probe: expr RtlGetDaclSecurityDescriptor */
NTSYSAPI NTSTATUS NTAPI RtlGetDaclSecurityDescriptor(_In_ PSECURITY_DESCRIPTOR SecurityDescriptor,
                                                     _Out_ PBOOLEAN DaclPresent,
                                                     _Outptr_result_maybenull_ PACL *Dacl,
                                                     _Out_ PBOOLEAN DaclDefaulted);
#endif
#if !defined(FPSX_HAVE_RtlCreateAcl) /* probe: expr RtlCreateAcl */
NTSYSAPI NTSTATUS NTAPI RtlCreateAcl(_Out_ PACL Acl, _In_ ULONG AclLength, _In_ ULONG AclRevision);
#endif
#if !defined(FPSX_HAVE_RtlGetAce) /* probe: expr RtlGetAce */
NTSYSAPI NTSTATUS NTAPI RtlGetAce(_In_ PACL Acl, _In_ ULONG AceIndex, _Outptr_ PVOID *Ace);
#endif
#if !defined(FPSX_HAVE_RtlAddAce) /* probe: expr RtlAddAce */
NTSYSAPI NTSTATUS NTAPI RtlAddAce(_Inout_ PACL Acl, _In_ ULONG AceRevision, _In_ ULONG StartingAceIndex,
                                  _In_reads_bytes_(AceListLength) PVOID AceList,
                                  _In_ ULONG AceListLength);
#endif
#if !defined(FPSX_HAVE_RtlAddAccessAllowedAce) /* probe: expr RtlAddAccessAllowedAce */
NTSYSAPI NTSTATUS NTAPI RtlAddAccessAllowedAce(_Inout_ PACL Acl, _In_ ULONG AceRevision,
                                               _In_ ACCESS_MASK AccessMask, _In_ PSID Sid);
#endif
#if !defined(FPSX_HAVE_RtlValidSid) /* probe: expr RtlValidSid */
NTSYSAPI BOOLEAN NTAPI RtlValidSid(_In_ PSID Sid);
#endif
#if !defined(FPSX_HAVE_RtlLengthSid) /* probe: expr RtlLengthSid */
NTSYSAPI ULONG NTAPI RtlLengthSid(_In_ PSID Sid);
#endif
#if !defined(FPSX_HAVE_RtlCopySid) /* probe: expr RtlCopySid */
NTSYSAPI NTSTATUS NTAPI RtlCopySid(_In_ ULONG DestinationSidLength, _Out_ PSID DestinationSid,
                                   _In_ PSID SourceSid);
#endif
#if !defined(FPSX_HAVE_RtlInitializeSid) /* probe: expr RtlInitializeSid */
NTSYSAPI NTSTATUS NTAPI RtlInitializeSid(_Out_ PSID Sid, _In_ PSID_IDENTIFIER_AUTHORITY IdentifierAuthority,
                                         _In_ UCHAR SubAuthorityCount);
#endif
#if !defined(FPSX_HAVE_RtlSubAuthoritySid) /* probe: expr RtlSubAuthoritySid */
NTSYSAPI PULONG NTAPI RtlSubAuthoritySid(_In_ PSID Sid, _In_ ULONG SubAuthority);
#endif
#if !defined(FPSX_HAVE_RtlLengthRequiredSid) /* probe: expr RtlLengthRequiredSid */
NTSYSAPI ULONG NTAPI RtlLengthRequiredSid(_In_ ULONG SubAuthorityCount);
#endif

/* ---- WOW64 (communication.c under _WIN64: the Windows builds, and a Windows build of
 *      fltsim-host, where fltsim declares it) ---- */
#if !defined(FPSX_HAVE_PIRP) /* probe: type PIRP */
typedef struct _IRP *PIRP;
#endif
#if !defined(FPSX_HAVE_IoIs32bitProcess) /* probe: expr IoIs32bitProcess */
NTKERNELAPI BOOLEAN IoIs32bitProcess(_In_opt_ PIRP Irp);
#endif


#ifndef _Flt_CompletionContext_Outptr_
#define _Flt_CompletionContext_Outptr_
#endif
#ifndef _In_reads_opt_
#define _In_reads_opt_(s)
#endif
#ifndef FlagOn
#define FlagOn(_F, _SF) ((_F) & (_SF))
#endif

#if !defined(FPSX_HAVE_GUID) /* probe: type GUID */
typedef struct _GUID {
  ULONG Data1;
  USHORT Data2;
  USHORT Data3;
  UCHAR Data4[8];
} GUID;
#endif
#if !defined(FPSX_HAVE_LPCGUID) /* probe: type LPCGUID */
typedef const GUID *LPCGUID;
#endif
#if !defined(FPSX_HAVE_DEVICE_TYPE) /* probe: type DEVICE_TYPE */
typedef ULONG DEVICE_TYPE;
#endif

#ifndef STATUS_REPARSE
#define STATUS_REPARSE ((NTSTATUS)0x00000104L)
#endif
#ifndef STATUS_END_OF_FILE
#define STATUS_END_OF_FILE ((NTSTATUS)0xC0000011L)
#endif
#ifndef STATUS_INVALID_SECURITY_DESCR
#define STATUS_INVALID_SECURITY_DESCR ((NTSTATUS)0xC0000079L)
#endif
#ifndef STATUS_FLT_CONTEXT_ALREADY_DEFINED
#define STATUS_FLT_CONTEXT_ALREADY_DEFINED ((NTSTATUS)0xC01C0002L)
#endif
#ifndef STATUS_FLT_DO_NOT_ATTACH
#define STATUS_FLT_DO_NOT_ATTACH ((NTSTATUS)0xC01C000FL)
#endif

#ifndef FILE_DEVICE_DISK_FILE_SYSTEM
#define FILE_DEVICE_DISK_FILE_SYSTEM 0x00000008
#endif
#ifndef FILE_REMOVABLE_MEDIA
#define FILE_REMOVABLE_MEDIA 0x00000001
#endif
#ifndef FILE_REMOTE_DEVICE
#define FILE_REMOTE_DEVICE 0x00000010
#endif
#ifndef FILE_DIRECTORY_FILE
#define FILE_DIRECTORY_FILE 0x00000001
#endif
#ifndef FILE_NON_DIRECTORY_FILE
#define FILE_NON_DIRECTORY_FILE 0x00000040
#endif
#ifndef FILE_OPEN
#define FILE_OPEN 0x00000001
#endif
#ifndef FILE_ATTRIBUTE_NORMAL
#define FILE_ATTRIBUTE_NORMAL 0x00000080
#endif
#ifndef FILE_SHARE_READ
#define FILE_SHARE_READ 0x00000001
#define FILE_SHARE_WRITE 0x00000002
#define FILE_SHARE_DELETE 0x00000004
#endif
#ifndef FILE_READ_ATTRIBUTES
#define FILE_READ_ATTRIBUTES 0x0080
#endif
#ifndef IO_IGNORE_SHARE_ACCESS_CHECK
#define IO_IGNORE_SHARE_ACCESS_CHECK 0x0800
#endif
#ifndef FO_VOLUME_OPEN
#define FO_VOLUME_OPEN 0x00400000
#endif
#ifndef SL_OPEN_PAGING_FILE
#define SL_OPEN_PAGING_FILE 0x02
#endif
#ifndef SL_OPEN_TARGET_DIRECTORY
#define SL_OPEN_TARGET_DIRECTORY 0x04
#endif
#ifndef IRP_PAGING_IO
#define IRP_PAGING_IO 0x00000002
#endif
#ifndef FSRTL_CACHE_TOP_LEVEL_IRP
#define FSRTL_CACHE_TOP_LEVEL_IRP ((LONG_PTR)2)
#endif

/* ---- objects ---- */
#if !defined(FPSX_HAVE_FILE_OBJECT) /* probe: type FILE_OBJECT */
struct _FILE_OBJECT {
  SHORT Type;
  SHORT Size;
  PVOID DeviceObject;
  PVOID Vpb;
  PVOID FsContext;
  PVOID FsContext2;
  PVOID SectionObjectPointer;
  PVOID PrivateCacheMap;
  NTSTATUS FinalStatus;
  struct _FILE_OBJECT *RelatedFileObject;
  BOOLEAN LockOperation;
  BOOLEAN DeletePending;
  BOOLEAN ReadAccess;
  BOOLEAN WriteAccess;
  BOOLEAN DeleteAccess;
  BOOLEAN SharedRead;
  BOOLEAN SharedWrite;
  BOOLEAN SharedDelete;
  ULONG Flags;
  UNICODE_STRING FileName;
  LARGE_INTEGER CurrentByteOffset;
};
typedef struct _FILE_OBJECT FILE_OBJECT;
#endif
#if !defined(FPSX_HAVE_PDRIVER_OBJECT) /* probe: type PDRIVER_OBJECT */
typedef struct _DRIVER_OBJECT *PDRIVER_OBJECT;
#endif
#if !defined(FPSX_HAVE_DRIVER_INITIALIZE) /* probe: type DRIVER_INITIALIZE */
typedef NTSTATUS DRIVER_INITIALIZE(_In_ PDRIVER_OBJECT DriverObject, _In_ PUNICODE_STRING RegistryPath);
#endif
#if !defined(FPSX_HAVE_PMDL) /* probe: type PMDL */
typedef struct _MDL *PMDL;
#endif
#if !defined(FPSX_HAVE_PECP_LIST) /* probe: type PECP_LIST */
typedef struct _ECP_LIST *PECP_LIST;
#endif
#if !defined(FPSX_HAVE_PFLT_VOLUME) /* probe: type PFLT_VOLUME */
typedef struct _FLT_VOLUME *PFLT_VOLUME;
#endif
#if !defined(FPSX_HAVE_PFLT_CONTEXT) /* probe: type PFLT_CONTEXT */
typedef PVOID PFLT_CONTEXT;
#endif

/* ---- driver runtime, registry, routines ---- */
#ifndef DrvRtPoolNxOptIn
#define DrvRtPoolNxOptIn 0x00000001
#endif
#if !defined(FPSX_HAVE_ExInitializeDriverRuntime) /* probe: expr ExInitializeDriverRuntime */
VOID ExInitializeDriverRuntime(_In_ ULONG RuntimeFlags);
#endif
#if !defined(FPSX_HAVE_MmGetSystemRoutineAddress) /* probe: expr MmGetSystemRoutineAddress */
NTKERNELAPI PVOID MmGetSystemRoutineAddress(_In_ PUNICODE_STRING SystemRoutineName);
#endif
#if !defined(FPSX_HAVE_DRIVER_REGKEY_TYPE) /* probe: type DRIVER_REGKEY_TYPE */
typedef enum _DRIVER_REGKEY_TYPE {
  DriverRegKeyParameters,
  DriverRegKeyPersistentState,
  DriverRegKeySharedPersistentState
} DRIVER_REGKEY_TYPE, *PDRIVER_REGKEY_TYPE;
#endif
#ifndef KEY_READ
#define KEY_READ 0x00020019L
#endif
#ifndef REG_SZ
#define REG_SZ 1
#define REG_DWORD 4
#define REG_MULTI_SZ 7
#endif
#if !defined(FPSX_HAVE_KEY_VALUE_PARTIAL_INFORMATION) /* probe: type KEY_VALUE_PARTIAL_INFORMATION */
typedef enum _KEY_VALUE_INFORMATION_CLASS {
  KeyValueBasicInformation,
  KeyValueFullInformation,
  KeyValuePartialInformation
} KEY_VALUE_INFORMATION_CLASS;
typedef struct _KEY_VALUE_PARTIAL_INFORMATION {
  ULONG TitleIndex;
  ULONG Type;
  ULONG DataLength;
  UCHAR Data[1];
} KEY_VALUE_PARTIAL_INFORMATION, *PKEY_VALUE_PARTIAL_INFORMATION;
#endif
#if !defined(FPSX_HAVE_ZwOpenKey) /* probe: expr ZwOpenKey */
NTSYSAPI NTSTATUS NTAPI ZwOpenKey(_Out_ PHANDLE KeyHandle, _In_ ACCESS_MASK DesiredAccess,
                                  _In_ POBJECT_ATTRIBUTES ObjectAttributes);
#endif
#if !defined(FPSX_HAVE_ZwQueryValueKey) /* probe: expr ZwQueryValueKey */
NTSYSAPI NTSTATUS NTAPI ZwQueryValueKey(_In_ HANDLE KeyHandle, _In_ PUNICODE_STRING ValueName,
                                        _In_ KEY_VALUE_INFORMATION_CLASS KeyValueInformationClass,
                                        _Out_writes_bytes_to_opt_(Length, *ResultLength) PVOID KeyValueInformation,
                                        _In_ ULONG Length, _Out_ PULONG ResultLength);
#endif

/* ---- run-down protection, work items, MDLs, threads ---- */
#ifndef FASTCALL
#if defined(_M_IX86) || defined(__i386__)
#define FASTCALL __fastcall
#else
#define FASTCALL
#endif
#endif
#if !defined(FPSX_HAVE_EX_RUNDOWN_REF) /* probe: type EX_RUNDOWN_REF */
typedef struct _EX_RUNDOWN_REF {
  union {
    ULONG_PTR Count;
    PVOID Ptr;
  };
} EX_RUNDOWN_REF, *PEX_RUNDOWN_REF;
#endif
#if !defined(FPSX_HAVE_ExInitializeRundownProtection) /* probe: expr ExInitializeRundownProtection */
NTKERNELAPI VOID FASTCALL ExInitializeRundownProtection(_Out_ PEX_RUNDOWN_REF RunRef);
NTKERNELAPI BOOLEAN FASTCALL ExAcquireRundownProtection(_Inout_ PEX_RUNDOWN_REF RunRef);
NTKERNELAPI VOID FASTCALL ExReleaseRundownProtection(_Inout_ PEX_RUNDOWN_REF RunRef);
NTKERNELAPI VOID FASTCALL ExWaitForRundownProtectionRelease(_Inout_ PEX_RUNDOWN_REF RunRef);
#endif
#if !defined(FPSX_HAVE_WORK_QUEUE_TYPE) /* probe: type WORK_QUEUE_TYPE */
typedef enum _WORK_QUEUE_TYPE {
  CriticalWorkQueue,
  DelayedWorkQueue,
  HyperCriticalWorkQueue
} WORK_QUEUE_TYPE;
#endif
#if !defined(FPSX_HAVE_PFLT_GENERIC_WORKITEM) /* probe: type PFLT_GENERIC_WORKITEM */
typedef struct _FLT_GENERIC_WORKITEM *PFLT_GENERIC_WORKITEM;
typedef VOID(FLTAPI *PFLT_GENERIC_WORKITEM_ROUTINE)(_In_ PFLT_GENERIC_WORKITEM FltWorkItem,
                                                   _In_ PVOID FltObject, _In_opt_ PVOID Context);
PFLT_GENERIC_WORKITEM FLTAPI FltAllocateGenericWorkItem(VOID);
VOID FLTAPI FltFreeGenericWorkItem(_In_ PFLT_GENERIC_WORKITEM FltWorkItem);
NTSTATUS FLTAPI FltQueueGenericWorkItem(_In_ PFLT_GENERIC_WORKITEM FltWorkItem, _In_ PVOID FltObject,
                                        _In_ PFLT_GENERIC_WORKITEM_ROUTINE WorkerRoutine,
                                        _In_ WORK_QUEUE_TYPE QueueType, _In_opt_ PVOID Context);
#endif
#ifndef NormalPagePriority
#define NormalPagePriority 16
#endif
#ifndef MdlMappingNoExecute
#define MdlMappingNoExecute 0x40000000
#endif
#if !defined(FPSX_HAVE_MmGetSystemAddressForMdlSafe) && !defined(MmGetSystemAddressForMdlSafe) /* probe: expr MmGetSystemAddressForMdlSafe */
PVOID MmGetSystemAddressForMdlSafe(_Inout_ PMDL Mdl, _In_ ULONG Priority);
#endif
#if !defined(FPSX_HAVE_IoGetTopLevelIrp) /* probe: expr IoGetTopLevelIrp */
NTKERNELAPI PIRP IoGetTopLevelIrp(VOID);
#endif
#if !defined(FPSX_HAVE_PsGetThreadId) /* probe: expr PsGetThreadId */
NTKERNELAPI HANDLE PsGetThreadId(_In_ PETHREAD Thread);
#endif

/* ---- Filter Manager: registration ---- */
#ifndef IRP_MJ_CREATE
#define IRP_MJ_CREATE 0x00
#define IRP_MJ_WRITE 0x04
#define IRP_MJ_CLEANUP 0x12
#endif
#ifndef IRP_MJ_OPERATION_END
#define IRP_MJ_OPERATION_END ((UCHAR)0x80)
#endif
#ifndef FLT_REGISTRATION_VERSION
#define FLT_REGISTRATION_VERSION 0x0203
#endif
#ifndef FLT_INSTANCE_CONTEXT
#define FLT_VOLUME_CONTEXT 0x0001
#define FLT_INSTANCE_CONTEXT 0x0002
#define FLT_FILE_CONTEXT 0x0004
#define FLT_STREAM_CONTEXT 0x0008
#define FLT_STREAMHANDLE_CONTEXT 0x0010
#define FLT_TRANSACTION_CONTEXT 0x0020
#define FLT_CONTEXT_END 0xffff
#endif
#ifndef FLTFL_POST_OPERATION_DRAINING
#define FLTFL_POST_OPERATION_DRAINING 0x00000001
#endif
#ifndef FLTFL_CALLBACK_DATA_FAST_IO_OPERATION
#define FLTFL_CALLBACK_DATA_FAST_IO_OPERATION 0x00000002
#endif
#ifndef FLT_IS_FASTIO_OPERATION
#define FLT_IS_FASTIO_OPERATION(Data) FlagOn((Data)->Flags, FLTFL_CALLBACK_DATA_FAST_IO_OPERATION)
#endif
#ifndef FLTFL_IO_OPERATION_DO_NOT_UPDATE_BYTE_OFFSET
#define FLTFL_IO_OPERATION_DO_NOT_UPDATE_BYTE_OFFSET 0x00000002
#endif
#ifndef FLT_FILE_NAME_NORMALIZED
#define FLT_FILE_NAME_NORMALIZED 0x01
#endif
#ifndef FLT_FILE_NAME_QUERY_DEFAULT
#define FLT_FILE_NAME_QUERY_DEFAULT 0x0100
#endif

/* Probed by FLT_RELATED_OBJECTS, not FLT_CALLBACK_DATA: fltsim forward-declares the latter
 * (an incomplete type passes a typedef probe) but provides none of the callback-side types. */
#if !defined(FPSX_HAVE_FLT_RELATED_OBJECTS) /* probe: type FLT_RELATED_OBJECTS */
typedef USHORT FLT_CONTEXT_TYPE;
typedef USHORT FLT_CONTEXT_REGISTRATION_FLAGS;
typedef ULONG FLT_OPERATION_REGISTRATION_FLAGS;
typedef ULONG FLT_REGISTRATION_FLAGS;
typedef ULONG FLT_INSTANCE_SETUP_FLAGS;
typedef ULONG FLT_INSTANCE_QUERY_TEARDOWN_FLAGS;
typedef ULONG FLT_INSTANCE_TEARDOWN_FLAGS;
typedef ULONG FLT_POST_OPERATION_FLAGS;
typedef ULONG FLT_FILE_NAME_OPTIONS;
typedef USHORT FLT_FILE_NAME_PARSED_FLAGS;

typedef enum _FLT_FILESYSTEM_TYPE {
  FLT_FSTYPE_UNKNOWN,
  FLT_FSTYPE_RAW,
  FLT_FSTYPE_NTFS,
  FLT_FSTYPE_FAT,
  FLT_FSTYPE_REFS = 26
} FLT_FILESYSTEM_TYPE;

typedef enum _FLT_PREOP_CALLBACK_STATUS {
  FLT_PREOP_SUCCESS_WITH_CALLBACK,
  FLT_PREOP_SUCCESS_NO_CALLBACK,
  FLT_PREOP_PENDING,
  FLT_PREOP_DISALLOW_FASTIO,
  FLT_PREOP_COMPLETE,
  FLT_PREOP_SYNCHRONIZE,
  FLT_PREOP_DISALLOW_FSFILTER_IO
} FLT_PREOP_CALLBACK_STATUS;

typedef enum _FLT_POSTOP_CALLBACK_STATUS {
  FLT_POSTOP_FINISHED_PROCESSING,
  FLT_POSTOP_MORE_PROCESSING_REQUIRED,
  FLT_POSTOP_DISALLOW_FSFILTER_IO
} FLT_POSTOP_CALLBACK_STATUS;

typedef enum _FLT_SET_CONTEXT_OPERATION {
  FLT_SET_CONTEXT_REPLACE_IF_EXISTS,
  FLT_SET_CONTEXT_KEEP_IF_EXISTS
} FLT_SET_CONTEXT_OPERATION;

typedef union _FLT_PARAMETERS {
  struct {
    PVOID SecurityContext;
    ULONG Options;
    USHORT FileAttributes;
    USHORT ShareAccess;
    ULONG EaLength;
    PVOID EaBuffer;
    LARGE_INTEGER AllocationSize;
  } Create;
  struct {
    ULONG Length;
    ULONG Key;
    LARGE_INTEGER ByteOffset;
    PVOID WriteBuffer;
    PMDL MdlAddress;
  } Write;
  struct {
    PVOID Argument1;
    PVOID Argument2;
    PVOID Argument3;
    PVOID Argument4;
    PVOID Argument5;
    LARGE_INTEGER Argument6;
  } Others;
} FLT_PARAMETERS, *PFLT_PARAMETERS;

typedef struct _FLT_IO_PARAMETER_BLOCK {
  ULONG IrpFlags;
  UCHAR MajorFunction;
  UCHAR MinorFunction;
  UCHAR OperationFlags;
  UCHAR Reserved;
  PFILE_OBJECT TargetFileObject;
  PFLT_INSTANCE TargetInstance;
  FLT_PARAMETERS Parameters;
} FLT_IO_PARAMETER_BLOCK, *PFLT_IO_PARAMETER_BLOCK;

/*
 * The WDK's IO_STATUS_BLOCK has an anonymous union (Data->IoStatus.Status). fltsim's names
 * it (u.Status); FLT_CALLBACK_DATA here uses the WDK shape so driver code reads as on
 * Windows.
 */
typedef struct _FPSX_IO_STATUS_BLOCK {
  union {
    NTSTATUS Status;
    PVOID Pointer;
  };
  ULONG_PTR Information;
} FPSX_IO_STATUS_BLOCK;

typedef struct _FLT_CALLBACK_DATA {
  ULONG Flags;
  PETHREAD Thread;
  PFLT_IO_PARAMETER_BLOCK Iopb;
  FPSX_IO_STATUS_BLOCK IoStatus;
  PVOID TagData;
  PVOID QueueLinks[2];
  PVOID QueueContext[2];
  KPROCESSOR_MODE RequestorMode;
} FLT_CALLBACK_DATA, *PFLT_CALLBACK_DATA;

typedef struct _FLT_RELATED_OBJECTS {
  USHORT Size;
  USHORT TransactionContext;
  PFLT_FILTER Filter;
  PFLT_VOLUME Volume;
  PFLT_INSTANCE Instance;
  PFILE_OBJECT FileObject;
  PVOID Transaction;
} FLT_RELATED_OBJECTS, *PFLT_RELATED_OBJECTS;
typedef const FLT_RELATED_OBJECTS *PCFLT_RELATED_OBJECTS;

typedef FLT_PREOP_CALLBACK_STATUS(FLTAPI *PFLT_PRE_OPERATION_CALLBACK)(
    _Inout_ PFLT_CALLBACK_DATA Data, _In_ PCFLT_RELATED_OBJECTS FltObjects,
    _Outptr_result_maybenull_ PVOID *CompletionContext);
typedef FLT_POSTOP_CALLBACK_STATUS(FLTAPI *PFLT_POST_OPERATION_CALLBACK)(
    _Inout_ PFLT_CALLBACK_DATA Data, _In_ PCFLT_RELATED_OBJECTS FltObjects,
    _In_opt_ PVOID CompletionContext, _In_ FLT_POST_OPERATION_FLAGS Flags);
typedef NTSTATUS(FLTAPI *PFLT_INSTANCE_SETUP_CALLBACK)(_In_ PCFLT_RELATED_OBJECTS FltObjects,
                                                      _In_ FLT_INSTANCE_SETUP_FLAGS Flags,
                                                      _In_ DEVICE_TYPE VolumeDeviceType,
                                                      _In_ FLT_FILESYSTEM_TYPE VolumeFilesystemType);
typedef NTSTATUS(FLTAPI *PFLT_INSTANCE_QUERY_TEARDOWN_CALLBACK)(
    _In_ PCFLT_RELATED_OBJECTS FltObjects, _In_ FLT_INSTANCE_QUERY_TEARDOWN_FLAGS Flags);
typedef VOID(FLTAPI *PFLT_INSTANCE_TEARDOWN_CALLBACK)(_In_ PCFLT_RELATED_OBJECTS FltObjects,
                                                     _In_ FLT_INSTANCE_TEARDOWN_FLAGS Reason);
typedef VOID(FLTAPI *PFLT_CONTEXT_CLEANUP_CALLBACK)(_In_ PFLT_CONTEXT Context,
                                                   _In_ FLT_CONTEXT_TYPE ContextType);

typedef struct _FLT_OPERATION_REGISTRATION {
  UCHAR MajorFunction;
  FLT_OPERATION_REGISTRATION_FLAGS Flags;
  PFLT_PRE_OPERATION_CALLBACK PreOperation;
  PFLT_POST_OPERATION_CALLBACK PostOperation;
  PVOID Reserved1;
} FLT_OPERATION_REGISTRATION, *PFLT_OPERATION_REGISTRATION;

typedef struct _FLT_CONTEXT_REGISTRATION {
  FLT_CONTEXT_TYPE ContextType;
  FLT_CONTEXT_REGISTRATION_FLAGS Flags;
  PFLT_CONTEXT_CLEANUP_CALLBACK ContextCleanupCallback;
  SIZE_T Size;
  ULONG PoolTag;
  PVOID ContextAllocateCallback;
  PVOID ContextFreeCallback;
  PVOID Reserved1;
} FLT_CONTEXT_REGISTRATION, *PFLT_CONTEXT_REGISTRATION;

typedef struct _FLT_REGISTRATION {
  USHORT Size;
  USHORT Version;
  FLT_REGISTRATION_FLAGS Flags;
  const FLT_CONTEXT_REGISTRATION *ContextRegistration;
  const FLT_OPERATION_REGISTRATION *OperationRegistration;
  PFLT_FILTER_UNLOAD_CALLBACK FilterUnloadCallback;
  PFLT_INSTANCE_SETUP_CALLBACK InstanceSetupCallback;
  PFLT_INSTANCE_QUERY_TEARDOWN_CALLBACK InstanceQueryTeardownCallback;
  PFLT_INSTANCE_TEARDOWN_CALLBACK InstanceTeardownStartCallback;
  PFLT_INSTANCE_TEARDOWN_CALLBACK InstanceTeardownCompleteCallback;
  PVOID GenerateFileNameCallback;
  PVOID NormalizeNameComponentCallback;
  PVOID NormalizeContextCleanupCallback;
  PVOID TransactionNotificationCallback;
  PVOID NormalizeNameComponentExCallback;
  PVOID SectionNotificationCallback;
} FLT_REGISTRATION, *PFLT_REGISTRATION;

typedef struct _FLT_FILE_NAME_INFORMATION {
  USHORT Size;
  FLT_FILE_NAME_PARSED_FLAGS NamesParsed;
  FLT_FILE_NAME_OPTIONS Format;
  UNICODE_STRING Name;
  UNICODE_STRING Volume;
  UNICODE_STRING Share;
  UNICODE_STRING Extension;
  UNICODE_STRING Stream;
  UNICODE_STRING FinalComponent;
  UNICODE_STRING ParentDir;
} FLT_FILE_NAME_INFORMATION, *PFLT_FILE_NAME_INFORMATION;

typedef struct _FLT_VOLUME_PROPERTIES {
  DEVICE_TYPE DeviceType;
  ULONG DeviceCharacteristics;
  ULONG DeviceObjectFlags;
  ULONG AlignmentRequirement;
  USHORT SectorSize;
  USHORT Flags;
  UNICODE_STRING FileSystemDriverName;
  UNICODE_STRING FileSystemDeviceName;
  UNICODE_STRING RealDeviceName;
} FLT_VOLUME_PROPERTIES, *PFLT_VOLUME_PROPERTIES;

NTSTATUS FLTAPI FltRegisterFilter(_In_ PDRIVER_OBJECT Driver, _In_ const FLT_REGISTRATION *Registration,
                                  _Outptr_ PFLT_FILTER *RetFilter);
NTSTATUS FLTAPI FltStartFiltering(_In_ PFLT_FILTER Filter);
ULONG FLTAPI FltGetRequestorProcessId(_In_ PFLT_CALLBACK_DATA CallbackData);
NTSTATUS FLTAPI FltIsDirectory(_In_ PFILE_OBJECT FileObject, _In_ PFLT_INSTANCE Instance,
                               _Out_ PBOOLEAN IsDirectory);
VOID FLTAPI FltCancelFileOpen(_In_ PFLT_INSTANCE Instance, _In_ PFILE_OBJECT FileObject);
NTSTATUS FLTAPI FltGetFileNameInformation(_In_ PFLT_CALLBACK_DATA CallbackData,
                                          _In_ FLT_FILE_NAME_OPTIONS NameOptions,
                                          _Outptr_ PFLT_FILE_NAME_INFORMATION *FileNameInformation);
NTSTATUS FLTAPI FltParseFileNameInformation(_Inout_ PFLT_FILE_NAME_INFORMATION FileNameInformation);
VOID FLTAPI FltReleaseFileNameInformation(_In_ PFLT_FILE_NAME_INFORMATION FileNameInformation);
NTSTATUS FLTAPI FltGetVolumeProperties(_In_ PFLT_VOLUME Volume,
                                       _Out_writes_bytes_to_opt_(Length, *LengthReturned) PFLT_VOLUME_PROPERTIES VolumeProperties,
                                       _In_ ULONG VolumeInformationLength, _Out_ PULONG LengthReturned);
PVOID FLTAPI FltAllocatePoolAlignedWithTag(_In_ PFLT_INSTANCE Instance, _In_ POOL_TYPE PoolType,
                                           _In_ SIZE_T NumberOfBytes, _In_ ULONG Tag);
VOID FLTAPI FltFreePoolAlignedWithTag(_In_ PFLT_INSTANCE Instance, _In_ PVOID Buffer, _In_ ULONG Tag);

NTSTATUS FLTAPI FltAllocateContext(_In_ PFLT_FILTER Filter, _In_ FLT_CONTEXT_TYPE ContextType,
                                   _In_ SIZE_T ContextSize, _In_ POOL_TYPE PoolType,
                                   _Outptr_ PFLT_CONTEXT *ReturnedContext);
NTSTATUS FLTAPI FltSetInstanceContext(_In_ PFLT_INSTANCE Instance, _In_ FLT_SET_CONTEXT_OPERATION Operation,
                                      _In_ PFLT_CONTEXT NewContext, _Outptr_opt_ PFLT_CONTEXT *OldContext);
NTSTATUS FLTAPI FltGetInstanceContext(_In_ PFLT_INSTANCE Instance, _Outptr_ PFLT_CONTEXT *Context);
NTSTATUS FLTAPI FltSetStreamContext(_In_ PFLT_INSTANCE Instance, _In_ PFILE_OBJECT FileObject,
                                    _In_ FLT_SET_CONTEXT_OPERATION Operation, _In_ PFLT_CONTEXT NewContext,
                                    _Outptr_opt_ PFLT_CONTEXT *OldContext);
NTSTATUS FLTAPI FltGetStreamContext(_In_ PFLT_INSTANCE Instance, _In_ PFILE_OBJECT FileObject,
                                    _Outptr_ PFLT_CONTEXT *Context);
VOID FLTAPI FltReferenceContext(_In_ PFLT_CONTEXT Context);
VOID FLTAPI FltReleaseContext(_In_ PFLT_CONTEXT Context);

/* Extra create parameters. */
NTSTATUS FLTAPI FltGetEcpListFromCallbackData(_In_ PFLT_FILTER Filter, _In_ PFLT_CALLBACK_DATA CallbackData,
                                              _Outptr_result_maybenull_ PECP_LIST *EcpList);
NTSTATUS FLTAPI FltFindExtraCreateParameter(_In_ PFLT_FILTER Filter, _In_ PECP_LIST EcpList,
                                            _In_ LPCGUID EcpType, _Outptr_opt_ PVOID *EcpContext,
                                            _Out_opt_ ULONG *EcpContextSize);
BOOLEAN FLTAPI FltIsEcpFromUserMode(_In_ PFLT_FILTER Filter, _In_ PVOID EcpContext);
NTSTATUS FLTAPI FltAllocateExtraCreateParameterList(_In_ PFLT_FILTER Filter, _In_ ULONG Flags,
                                                    _Outptr_ PECP_LIST *EcpList);
NTSTATUS FLTAPI FltAllocateExtraCreateParameter(_In_ PFLT_FILTER Filter, _In_ LPCGUID EcpType,
                                                _In_ ULONG SizeOfContext, _In_ ULONG Flags,
                                                _In_opt_ PVOID CleanupCallback, _In_ ULONG PoolTag,
                                                _Outptr_ PVOID *EcpContext);
NTSTATUS FLTAPI FltInsertExtraCreateParameter(_In_ PFLT_FILTER Filter, _Inout_ PECP_LIST EcpList,
                                              _Inout_ PVOID EcpContext);
VOID FLTAPI FltFreeExtraCreateParameter(_In_ PFLT_FILTER Filter, _In_ PVOID EcpContext);
VOID FLTAPI FltFreeExtraCreateParameterList(_In_ PFLT_FILTER Filter, _In_ PECP_LIST EcpList);
#endif /* FLT_RELATED_OBJECTS */

#if !defined(FPSX_HAVE_IO_DRIVER_CREATE_CONTEXT) /* probe: type IO_DRIVER_CREATE_CONTEXT */
struct _IO_DRIVER_CREATE_CONTEXT {
  SHORT Size;
  PECP_LIST ExtraCreateParameter;
  PVOID DeviceObjectHint;
  PVOID TxnParameters;
  PVOID SiloContext;
};
typedef struct _IO_DRIVER_CREATE_CONTEXT IO_DRIVER_CREATE_CONTEXT;
VOID IoInitializeDriverCreateContext(_Out_ PIO_DRIVER_CREATE_CONTEXT DriverContext);
#endif

#if !defined(FPSX_HAVE_FltCreateFileEx2) /* probe: expr FltCreateFileEx2 */
NTSTATUS FLTAPI FltCreateFileEx2(_In_ PFLT_FILTER Filter, _In_opt_ PFLT_INSTANCE Instance,
                                 _Out_ PHANDLE FileHandle, _Outptr_opt_ PFILE_OBJECT *FileObject,
                                 _In_ ACCESS_MASK DesiredAccess, _In_ POBJECT_ATTRIBUTES ObjectAttributes,
                                 _Out_ PIO_STATUS_BLOCK IoStatusBlock, _In_opt_ PLARGE_INTEGER AllocationSize,
                                 _In_ ULONG FileAttributes, _In_ ULONG ShareAccess,
                                 _In_ ULONG CreateDisposition, _In_ ULONG CreateOptions,
                                 _In_reads_bytes_opt_(EaLength) PVOID EaBuffer, _In_ ULONG EaLength,
                                 _In_ ULONG Flags, _In_opt_ PIO_DRIVER_CREATE_CONTEXT DriverContext);
#endif

/* File information classes beyond fltsim's mailslot ones (an enum cannot be extended). */
#ifndef FileStandardInformation
#define FileStandardInformation ((FILE_INFORMATION_CLASS)5)
#endif
#ifndef FileIdInformation
#define FileIdInformation ((FILE_INFORMATION_CLASS)59)
#endif
#if !defined(FPSX_HAVE_FILE_ID_INFORMATION) /* probe: type FILE_ID_INFORMATION */
typedef struct _FILE_ID_128 {
  UCHAR Identifier[16];
} FILE_ID_128, *PFILE_ID_128;
typedef struct _FILE_ID_INFORMATION {
  ULONGLONG VolumeSerialNumber;
  FILE_ID_128 FileId;
} FILE_ID_INFORMATION, *PFILE_ID_INFORMATION;
#endif
#if !defined(FPSX_HAVE_FILE_STANDARD_INFORMATION) /* probe: type FILE_STANDARD_INFORMATION */
typedef struct _FILE_STANDARD_INFORMATION {
  LARGE_INTEGER AllocationSize;
  LARGE_INTEGER EndOfFile;
  ULONG NumberOfLinks;
  BOOLEAN DeletePending;
  BOOLEAN Directory;
} FILE_STANDARD_INFORMATION, *PFILE_STANDARD_INFORMATION;
#endif
#if !defined(FPSX_HAVE_FltQueryInformationFile) /* probe: expr FltQueryInformationFile */
NTSTATUS FLTAPI FltQueryInformationFile(_In_ PFLT_INSTANCE Instance, _In_ PFILE_OBJECT FileObject,
                                        _Out_writes_bytes_to_(Length, *LengthReturned) PVOID FileInformation,
                                        _In_ ULONG Length, _In_ FILE_INFORMATION_CLASS FileInformationClass,
                                        _Out_opt_ PULONG LengthReturned);
#endif

#endif /* !FPSX_SHARED_ONLY */

#endif /* FPS_FLTKERNEL_EXTRA_H */
