/*
 * fltKernel.h (fltsim) - the subset of the WDK's fltKernel.h that fltport's sample minifilter
 * uses for user/kernel communication, implemented in user space by fltsim.
 *
 * The same driver C file compiles against the real WDK and against this header: names, types
 * and signatures follow the WDK. What differs is documented next to it. Rules for driver
 * sources compiled against fltsim:
 *   - C, not C++ (the WDK sample is C). gcc/clang on Linux: compile with -fshort-wchar so that
 *     L"..." literals are 16-bit like on Windows (checked below). mingw-w64 and
 *     clang --target=x86_64-pc-windows-msvc already have a 16-bit wchar_t.
 *   - fltsim-only calls live in <fltsim/extensions.h> (included at the end) and are guarded
 *     with `#ifdef FLTSIM` in shared driver code.
 *   - Opaque kernel objects (PFLT_FILTER, PFLT_PORT, HANDLE, PFILE_OBJECT, PEPROCESS) are
 *     handle values, never dereferenced: using a closed one yields STATUS_INVALID_HANDLE
 *     instead of corrupting the simulator, which is also what Windows does for handles.
 *
 * Threading: every function may be called from any thread unless its comment says otherwise;
 * functions that wait (FltSendMessage, ZwReadFile, FltReadFile, KeWaitForSingleObject) block
 * the calling thread only.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define FLTSIM 1

#if !defined(__cplusplus) && defined(__SIZEOF_WCHAR_T__) && (__SIZEOF_WCHAR_T__ != 2) && \
    !defined(FLTSIM_NO_WCHAR_CHECK)
#error "fltKernel.h (fltsim): compile driver sources with -fshort-wchar so L\"...\" is UTF-16 as on Windows"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------
 * SAL annotations: the WDK's sal.h gives them meaning for static analysis; here they vanish.
 * ------------------------------------------------------------------------------------------ */
#ifndef _In_
#define _In_
#define _In_opt_
#define _Out_
#define _Out_opt_
#define _Inout_
#define _Inout_opt_
#define _Outptr_
#define _Outptr_opt_
#define _Outptr_result_maybenull_
#define _Outptr_result_bytebuffer_(s)
#define _In_reads_(s)
#define _In_reads_opt_(s)
#define _In_reads_bytes_(s)
#define _In_reads_bytes_opt_(s)
#define _Out_writes_(s)
#define _Out_writes_bytes_(s)
#define _Out_writes_bytes_opt_(s)
#define _Out_writes_bytes_to_(s, c)
#define _Out_writes_bytes_to_opt_(s, c)
#define _Inout_updates_bytes_(s)
#define _Must_inspect_result_
#define _Check_return_
#define _Success_(e)
#define _Post_writable_byte_size_(s)
#define _When_(c, a)
#define _IRQL_requires_(i)
#define _IRQL_requires_max_(i)
#define _IRQL_raises_(i)
#define _IRQL_saves_
#define _IRQL_restores_
#define _Requires_lock_held_(l)
#define _Acquires_lock_(l)
#define _Releases_lock_(l)
#define _Function_class_(n)
#define _Dispatch_type_(t)
#define _Use_decl_annotations_
#define _Frees_ptr_(p)
#define _Frees_ptr_opt_
#define _Pre_notnull_
#define _Analysis_assume_(e)
#endif
#ifndef _In_z_
#define _In_z_
#endif
#ifndef _Out_writes_to_
#define _Out_writes_to_(s, c)
#endif
#ifndef _Inout_updates_
#define _Inout_updates_(s)
#endif
#ifndef _Out_writes_bytes_to_opt_
#define _Out_writes_bytes_to_opt_(s, c)
#endif

#ifndef FLTAPI
#if defined(_M_IX86) || defined(__i386__)
#define FLTAPI __stdcall
#else
#define FLTAPI
#endif
#endif
#ifndef NTAPI
#define NTAPI FLTAPI
#endif
#ifndef NTSYSAPI
#define NTSYSAPI
#endif
#ifndef NTKERNELAPI
#define NTKERNELAPI
#endif

/* ------------------------------------------------------------------------------------------
 * Basic types. ULONG is 32-bit everywhere (LLP64 on Windows; uint32_t on LP64 Linux).
 * ------------------------------------------------------------------------------------------ */
#ifndef VOID
#define VOID void
#endif
typedef void *PVOID;
typedef char CHAR, *PCHAR;
typedef const char *PCSTR, *PCCH;
typedef unsigned char UCHAR, *PUCHAR;
typedef UCHAR BOOLEAN, *PBOOLEAN;
typedef int16_t SHORT, *PSHORT;
typedef uint16_t USHORT, *PUSHORT;
typedef int32_t LONG, *PLONG;
typedef uint32_t ULONG, *PULONG;
typedef int64_t LONGLONG, *PLONGLONG;
typedef int64_t LONG64, *PLONG64;
typedef uint64_t ULONGLONG, *PULONGLONG;
typedef uint64_t ULONG64, *PULONG64;
typedef uintptr_t ULONG_PTR, *PULONG_PTR;
typedef intptr_t LONG_PTR, *PLONG_PTR;
typedef size_t SIZE_T, *PSIZE_T;
typedef uint16_t WCHAR, *PWCHAR, *PWCH, *PWSTR;
typedef const uint16_t *PCWSTR, *PCWCH;
typedef LONG NTSTATUS, *PNTSTATUS;
typedef PVOID HANDLE, *PHANDLE;
typedef ULONG ACCESS_MASK, *PACCESS_MASK;
typedef PVOID PSECURITY_DESCRIPTOR;
typedef PVOID PSID;
typedef struct _ACL *PACL;
typedef UCHAR KIRQL, *PKIRQL;
typedef ULONG_PTR KSPIN_LOCK, *PKSPIN_LOCK;

#ifndef TRUE
#define TRUE 1
#define FALSE 0
#endif
#ifndef NULL
#define NULL ((void *)0)
#endif

typedef union _LARGE_INTEGER {
  struct {
    ULONG LowPart;
    LONG HighPart;
  } u;
  LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef struct _UNICODE_STRING {
  USHORT Length;        /* bytes, no terminator */
  USHORT MaximumLength; /* bytes */
  PWCH Buffer;
} UNICODE_STRING, *PUNICODE_STRING;
typedef const UNICODE_STRING *PCUNICODE_STRING;

typedef struct _OBJECT_ATTRIBUTES {
  ULONG Length;
  HANDLE RootDirectory;
  PUNICODE_STRING ObjectName;
  ULONG Attributes;
  PVOID SecurityDescriptor;
  PVOID SecurityQualityOfService;
} OBJECT_ATTRIBUTES, *POBJECT_ATTRIBUTES;

#define OBJ_INHERIT 0x00000002L
#define OBJ_PERMANENT 0x00000010L
#define OBJ_EXCLUSIVE 0x00000020L
#define OBJ_CASE_INSENSITIVE 0x00000040L
#define OBJ_OPENIF 0x00000080L
#define OBJ_KERNEL_HANDLE 0x00000200L

#define InitializeObjectAttributes(p, n, a, r, s) \
  do {                                            \
    (p)->Length = sizeof(OBJECT_ATTRIBUTES);      \
    (p)->RootDirectory = (r);                     \
    (p)->Attributes = (a);                        \
    (p)->ObjectName = (n);                        \
    (p)->SecurityDescriptor = (s);                \
    (p)->SecurityQualityOfService = NULL;         \
  } while (0)

typedef struct _IO_STATUS_BLOCK {
  union {
    NTSTATUS Status;
    PVOID Pointer;
  } u;
  ULONG_PTR Information;
} IO_STATUS_BLOCK, *PIO_STATUS_BLOCK;

/* Opaque objects. */
typedef struct _FLT_FILTER *PFLT_FILTER;
typedef struct _FLT_PORT *PFLT_PORT;
typedef struct _FLT_INSTANCE *PFLT_INSTANCE;
typedef struct _FILE_OBJECT *PFILE_OBJECT;
typedef struct _EPROCESS *PEPROCESS;
typedef struct _KTHREAD *PKTHREAD, *PETHREAD;
typedef struct _IO_DRIVER_CREATE_CONTEXT *PIO_DRIVER_CREATE_CONTEXT;
typedef struct _FLT_CALLBACK_DATA FLT_CALLBACK_DATA, *PFLT_CALLBACK_DATA;

#define UNREFERENCED_PARAMETER(P) ((void)(P))
#ifndef FIELD_OFFSET
#define FIELD_OFFSET(type, field) ((LONG)offsetof(type, field))
#endif
#ifndef ARGUMENT_PRESENT
#define ARGUMENT_PRESENT(p) ((p) != NULL)
#endif
#define PAGED_CODE() ((void)0)
#define MAX_PATH 260
#ifndef RTL_NUMBER_OF
#define RTL_NUMBER_OF(A) (sizeof(A) / sizeof((A)[0]))
#endif
#ifndef IS_ALIGNED
#define IS_ALIGNED(_pointer, _alignment) ((((ULONG_PTR)(_pointer)) & ((_alignment) - 1)) == 0)
#endif
#ifndef CONTAINING_RECORD
#define CONTAINING_RECORD(address, type, field) ((type *)((PCHAR)(address) - (ULONG_PTR)(&((type *)0)->field)))
#endif

/* memcpy/memset/memmove/memcmp: from the C library where there is one; declared here for the
 * freestanding msvc-target syntax check, as the WDK's CRT headers would. */
#if defined(__cplusplus)
}
#include <cstring>
extern "C" {
#elif defined(__has_include)
#if __has_include(<string.h>)
#include <string.h>
#define FLTSIM_HAVE_STRING_H 1
#endif
#endif
#if !defined(__cplusplus) && !defined(FLTSIM_HAVE_STRING_H)
void *memcpy(void *Destination, const void *Source, size_t Length);
void *memmove(void *Destination, const void *Source, size_t Length);
void *memset(void *Destination, int Fill, size_t Length);
int memcmp(const void *A, const void *B, size_t Length);
#endif
#define RtlCopyMemory(Destination, Source, Length) memcpy((Destination), (Source), (Length))
#define RtlMoveMemory(Destination, Source, Length) memmove((Destination), (Source), (Length))
#define RtlFillMemory(Destination, Length, Fill) memset((Destination), (Fill), (Length))
#define RtlZeroMemory(Destination, Length) memset((Destination), 0, (Length))
#define RtlEqualMemory(A, B, Length) (!memcmp((A), (B), (Length)))

/* ------------------------------------------------------------------------------------------
 * Status values (ntstatus.h values; the ones spec/port-semantics.md names).
 * ------------------------------------------------------------------------------------------ */
#define NT_SUCCESS(Status) (((NTSTATUS)(Status)) >= 0)
#define NT_INFORMATION(Status) ((((ULONG)(Status)) >> 30) == 1)
#define NT_WARNING(Status) ((((ULONG)(Status)) >> 30) == 2)
#define NT_ERROR(Status) ((((ULONG)(Status)) >> 30) == 3)

#define STATUS_SUCCESS ((NTSTATUS)0x00000000L)
#define STATUS_TIMEOUT ((NTSTATUS)0x00000102L)
#define STATUS_PENDING ((NTSTATUS)0x00000103L)
#define STATUS_DATATYPE_MISALIGNMENT ((NTSTATUS)0x80000002L)
#define STATUS_SOME_NOT_MAPPED ((NTSTATUS)0x00000107L)
#define STATUS_BUFFER_OVERFLOW ((NTSTATUS)0x80000005L)
#define STATUS_DEVICE_BUSY ((NTSTATUS)0x80000011L)
#define STATUS_NO_MORE_ENTRIES ((NTSTATUS)0x8000001AL)
#define STATUS_UNSUCCESSFUL ((NTSTATUS)0xC0000001L)
#define STATUS_NOT_IMPLEMENTED ((NTSTATUS)0xC0000002L)
#define STATUS_ACCESS_VIOLATION ((NTSTATUS)0xC0000005L)
#define STATUS_INVALID_HANDLE ((NTSTATUS)0xC0000008L)
#define STATUS_INVALID_PARAMETER ((NTSTATUS)0xC000000DL)
#define STATUS_INVALID_DEVICE_REQUEST ((NTSTATUS)0xC0000010L)
#define STATUS_NO_MEMORY ((NTSTATUS)0xC0000017L)
#define STATUS_ACCESS_DENIED ((NTSTATUS)0xC0000022L)
#define STATUS_BUFFER_TOO_SMALL ((NTSTATUS)0xC0000023L)
#define STATUS_OBJECT_TYPE_MISMATCH ((NTSTATUS)0xC0000024L)
#define STATUS_OBJECT_NAME_INVALID ((NTSTATUS)0xC0000033L)
#define STATUS_OBJECT_NAME_NOT_FOUND ((NTSTATUS)0xC0000034L)
#define STATUS_OBJECT_NAME_COLLISION ((NTSTATUS)0xC0000035L)
#define STATUS_PORT_DISCONNECTED ((NTSTATUS)0xC0000037L)
#define STATUS_OBJECT_PATH_SYNTAX_BAD ((NTSTATUS)0xC000003BL)
#define STATUS_THREAD_IS_TERMINATING ((NTSTATUS)0xC000004BL)
#define STATUS_REVISION_MISMATCH ((NTSTATUS)0xC0000059L)
#define STATUS_PRIVILEGE_NOT_HELD ((NTSTATUS)0xC0000061L)
#define STATUS_INVALID_SID ((NTSTATUS)0xC0000078L)
#define STATUS_INTEGER_OVERFLOW ((NTSTATUS)0xC0000095L)
#define STATUS_INSUFFICIENT_RESOURCES ((NTSTATUS)0xC000009AL)
#define STATUS_IO_TIMEOUT ((NTSTATUS)0xC00000B5L)
#define STATUS_NOT_SUPPORTED ((NTSTATUS)0xC00000BBL)
#define STATUS_INVALID_NETWORK_RESPONSE ((NTSTATUS)0xC00000C3L)
#define STATUS_INVALID_PARAMETER_1 ((NTSTATUS)0xC00000EFL)
#define STATUS_INVALID_PARAMETER_2 ((NTSTATUS)0xC00000F0L)
#define STATUS_INVALID_PARAMETER_3 ((NTSTATUS)0xC00000F1L)
#define STATUS_INVALID_PARAMETER_4 ((NTSTATUS)0xC00000F2L)
#define STATUS_INVALID_PARAMETER_5 ((NTSTATUS)0xC00000F3L)
#define STATUS_INVALID_PARAMETER_6 ((NTSTATUS)0xC00000F4L)
#define STATUS_INVALID_PARAMETER_7 ((NTSTATUS)0xC00000F5L)
#define STATUS_INVALID_PARAMETER_8 ((NTSTATUS)0xC00000F6L)
#define STATUS_IMAGE_ALREADY_LOADED ((NTSTATUS)0xC000010EL)
#define STATUS_CANCELLED ((NTSTATUS)0xC0000120L)
#define STATUS_NOT_FOUND ((NTSTATUS)0xC0000225L)
#define STATUS_CONNECTION_REFUSED ((NTSTATUS)0xC0000236L)
#define STATUS_CONNECTION_COUNT_LIMIT ((NTSTATUS)0xC0000246L)
#define STATUS_VIRUS_INFECTED ((NTSTATUS)0xC0000906L)
#define STATUS_FLT_BUFFER_TOO_SMALL ((NTSTATUS)0x801C0001L)
#define STATUS_FLT_DO_NOT_DETACH ((NTSTATUS)0xC01C0010L)
#define STATUS_FLT_DELETING_OBJECT ((NTSTATUS)0xC01C000BL)
#define STATUS_FLT_NO_WAITER_FOR_REPLY ((NTSTATUS)0xC01C0020L)

/* ------------------------------------------------------------------------------------------
 * Access rights (winnt.h / fltKernel.h values).
 * ------------------------------------------------------------------------------------------ */
#define DELETE 0x00010000L
#define READ_CONTROL 0x00020000L
#define WRITE_DAC 0x00040000L
#define WRITE_OWNER 0x00080000L
#define SYNCHRONIZE 0x00100000L
#define STANDARD_RIGHTS_REQUIRED 0x000F0000L
#define STANDARD_RIGHTS_ALL 0x001F0000L
#define GENERIC_READ 0x80000000L
#define GENERIC_WRITE 0x40000000L
#define GENERIC_ALL 0x10000000L
#define STANDARD_RIGHTS_READ READ_CONTROL
#define STANDARD_RIGHTS_WRITE READ_CONTROL
#define FILE_READ_DATA 0x0001
#define FILE_WRITE_DATA 0x0002
#define FILE_APPEND_DATA 0x0004
#define FILE_READ_EA 0x0008
#define FILE_WRITE_EA 0x0010
#define FILE_READ_ATTRIBUTES 0x0080
#define FILE_WRITE_ATTRIBUTES 0x0100
#define FILE_ALL_ACCESS (STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0x1FF)
#define FILE_GENERIC_READ (STANDARD_RIGHTS_READ | FILE_READ_DATA | FILE_READ_ATTRIBUTES | FILE_READ_EA | SYNCHRONIZE)
#define FILE_GENERIC_WRITE \
  (STANDARD_RIGHTS_WRITE | FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES | FILE_WRITE_EA | FILE_APPEND_DATA | SYNCHRONIZE)
#define THREAD_ALL_ACCESS (STANDARD_RIGHTS_REQUIRED | SYNCHRONIZE | 0xFFFF)

#define FLT_PORT_CONNECT 0x0001
#define FLT_PORT_ALL_ACCESS (FLT_PORT_CONNECT | STANDARD_RIGHTS_ALL)

/* CreateOptions for FltCreateMailslotFile. */
#define FILE_WRITE_THROUGH 0x00000002
#define FILE_SYNCHRONOUS_IO_ALERT 0x00000010
#define FILE_SYNCHRONOUS_IO_NONALERT 0x00000020

/* IO_STATUS_BLOCK.Information after a create. */
#define FILE_CREATED 0x00000002
#define FILE_OPENED 0x00000001

/* ------------------------------------------------------------------------------------------
 * Structured exception handling. MSVC and clang (msvc target) have __try/__except natively.
 * gcc has no SEH: fltsim runs the __try body and compiles the __except arm but never runs it.
 * LIMITATION (honest): a fault inside __try on fltsim is a real fault of the host process.
 * fltsim passes the driver only buffers it owns and sized exactly (a copy of the caller's
 * input, an output buffer of OutputBufferLength bytes), so correct bounds checks suffice;
 * the buffer the driver writes past is not a user mapping here.
 * ------------------------------------------------------------------------------------------ */
#if !defined(_MSC_VER) && !defined(__cplusplus) /* C++ TUs: libstdc++ owns the name __try */
#define __try if (1)
#define __except(filter) else if (0 && (filter))
#define __finally if (1)
#define __leave ((void)0) /* only valid as the last statement of a __try body on fltsim */
#define GetExceptionCode() ((NTSTATUS)STATUS_ACCESS_VIOLATION)
#define GetExceptionInformation() ((PVOID)0)
#elif defined(_MSC_VER) && !defined(GetExceptionCode)
/* What the WDK's excpt.h declares: the compiler's intrinsics behind the familiar names. */
unsigned long __cdecl _exception_code(void);
void *__cdecl _exception_info(void);
#define GetExceptionCode _exception_code
#define GetExceptionInformation() ((PVOID)_exception_info())
#endif
#define EXCEPTION_EXECUTE_HANDLER 1
#define EXCEPTION_CONTINUE_SEARCH 0
#define EXCEPTION_CONTINUE_EXECUTION (-1)

/* ------------------------------------------------------------------------------------------
 * Strings.
 * ------------------------------------------------------------------------------------------ */
#define RTL_CONSTANT_STRING(s) \
  { (USHORT)(sizeof(s) - sizeof((s)[0])), (USHORT)sizeof(s), (PWCH)(s) }
#define DECLARE_CONST_UNICODE_STRING(_var, _string) \
  const WCHAR _var##_buffer[] = _string;            \
  const UNICODE_STRING _var = {sizeof(_string) - sizeof(WCHAR), sizeof(_string), (PWCH)_var##_buffer}

NTSYSAPI VOID NTAPI RtlInitUnicodeString(_Out_ PUNICODE_STRING DestinationString,
                                         _In_opt_ PCWSTR SourceString);
/* Case-insensitive when CaseInSensitive (fltsim folds ASCII and Latin-1). */
NTSYSAPI BOOLEAN NTAPI RtlEqualUnicodeString(_In_ PCUNICODE_STRING String1,
                                             _In_ PCUNICODE_STRING String2,
                                             _In_ BOOLEAN CaseInSensitive);

/* ------------------------------------------------------------------------------------------
 * Pool. Allocations carry their tag; freeing with another tag is reported (Windows bugchecks
 * with BAD_POOL_CALLER). fltsim's `pool` control verb lists what is still allocated.
 * ------------------------------------------------------------------------------------------ */
typedef enum _POOL_TYPE {
  NonPagedPool = 0,
  PagedPool = 1,
  NonPagedPoolNx = 512,
} POOL_TYPE;
typedef ULONG64 POOL_FLAGS;
#define POOL_FLAG_UNINITIALIZED 0x0000000000000002ULL
#define POOL_FLAG_NON_PAGED 0x0000000000000040ULL
#define POOL_FLAG_NON_PAGED_EXECUTE 0x0000000000000080ULL
#define POOL_FLAG_PAGED 0x0000000000000100ULL

NTKERNELAPI PVOID NTAPI ExAllocatePoolWithTag(_In_ POOL_TYPE PoolType, _In_ SIZE_T NumberOfBytes,
                                              _In_ ULONG Tag);
/* Zero-filled (the WDK's inline helper of the same name). */
NTKERNELAPI PVOID NTAPI ExAllocatePoolZero(_In_ POOL_TYPE PoolType, _In_ SIZE_T NumberOfBytes,
                                           _In_ ULONG Tag);
/* Zero-filled unless POOL_FLAG_UNINITIALIZED. */
NTKERNELAPI PVOID NTAPI ExAllocatePool2(_In_ POOL_FLAGS Flags, _In_ SIZE_T NumberOfBytes,
                                        _In_ ULONG Tag);
NTKERNELAPI VOID NTAPI ExFreePoolWithTag(_In_ PVOID P, _In_ ULONG Tag);
NTKERNELAPI VOID NTAPI ExFreePool(_In_ PVOID P);

/* ------------------------------------------------------------------------------------------
 * Synchronization the communication code typically needs.
 * KSPIN_LOCK is a real spin lock (IRQL is not modelled: KIRQL values are passed through).
 * FAST_MUTEX and KEVENT hold fltsim's own state in opaque storage of fixed size; call the
 * initializer before use. EX_PUSH_LOCK points to state allocated by FltInitializePushLock and
 * freed by FltDeletePushLock (call it, as the WDK recommends).
 * ------------------------------------------------------------------------------------------ */
#define PASSIVE_LEVEL 0
#define APC_LEVEL 1
#define DISPATCH_LEVEL 2

typedef struct _FAST_MUTEX {
  ULONG64 Opaque[16];
} FAST_MUTEX, *PFAST_MUTEX;

typedef enum _EVENT_TYPE { NotificationEvent, SynchronizationEvent } EVENT_TYPE;
typedef struct _KEVENT {
  ULONG64 Opaque[24];
} KEVENT, *PKEVENT, *PRKEVENT;

typedef ULONG_PTR EX_PUSH_LOCK, *PEX_PUSH_LOCK;

typedef enum _KWAIT_REASON { Executive = 0, UserRequest = 6 } KWAIT_REASON;
typedef CHAR KPROCESSOR_MODE;
#define KernelMode 0
#define UserMode 1
typedef LONG KPRIORITY;
#define IO_NO_INCREMENT 0

NTKERNELAPI VOID NTAPI KeInitializeSpinLock(_Out_ PKSPIN_LOCK SpinLock);
NTKERNELAPI VOID NTAPI KeAcquireSpinLockRaiseToDpc(_Inout_ PKSPIN_LOCK SpinLock, _Out_ PKIRQL OldIrql);
NTKERNELAPI VOID NTAPI KeReleaseSpinLock(_Inout_ PKSPIN_LOCK SpinLock, _In_ KIRQL NewIrql);
#define KeAcquireSpinLock(SpinLock, OldIrql) KeAcquireSpinLockRaiseToDpc((SpinLock), (OldIrql))
NTKERNELAPI KIRQL NTAPI KeGetCurrentIrql(VOID);

NTKERNELAPI VOID NTAPI ExInitializeFastMutex(_Out_ PFAST_MUTEX FastMutex);
NTKERNELAPI VOID NTAPI ExAcquireFastMutex(_Inout_ PFAST_MUTEX FastMutex);
NTKERNELAPI VOID NTAPI ExReleaseFastMutex(_Inout_ PFAST_MUTEX FastMutex);

NTKERNELAPI VOID NTAPI KeInitializeEvent(_Out_ PRKEVENT Event, _In_ EVENT_TYPE Type,
                                         _In_ BOOLEAN State);
NTKERNELAPI LONG NTAPI KeSetEvent(_Inout_ PRKEVENT Event, _In_ KPRIORITY Increment,
                                  _In_ BOOLEAN Wait);
NTKERNELAPI VOID NTAPI KeClearEvent(_Inout_ PRKEVENT Event);
NTKERNELAPI LONG NTAPI KeResetEvent(_Inout_ PRKEVENT Event);
NTKERNELAPI LONG NTAPI KeReadStateEvent(_In_ PRKEVENT Event);
/* Object must be a KEVENT on fltsim. Timeout as for FltSendMessage (NULL = forever,
 * negative = relative, positive = absolute, 0 = poll). STATUS_SUCCESS or STATUS_TIMEOUT. */
NTKERNELAPI NTSTATUS NTAPI KeWaitForSingleObject(_In_ PVOID Object, _In_ KWAIT_REASON WaitReason,
                                                 _In_ KPROCESSOR_MODE WaitMode,
                                                 _In_ BOOLEAN Alertable,
                                                 _In_opt_ PLARGE_INTEGER Timeout);
NTKERNELAPI NTSTATUS NTAPI KeDelayExecutionThread(_In_ KPROCESSOR_MODE WaitMode,
                                                  _In_ BOOLEAN Alertable,
                                                  _In_ PLARGE_INTEGER Interval);

VOID FLTAPI FltInitializePushLock(_Out_ PEX_PUSH_LOCK PushLock);
VOID FLTAPI FltDeletePushLock(_In_ PEX_PUSH_LOCK PushLock);
VOID FLTAPI FltAcquirePushLockExclusive(_Inout_ PEX_PUSH_LOCK PushLock);
VOID FLTAPI FltAcquirePushLockShared(_Inout_ PEX_PUSH_LOCK PushLock);
VOID FLTAPI FltReleasePushLock(_Inout_ PEX_PUSH_LOCK PushLock);
#define KeEnterCriticalRegion() ((void)0)
#define KeLeaveCriticalRegion() ((void)0)

/* ------------------------------------------------------------------------------------------
 * Interlocked operations (MSVC intrinsics in the WDK; __atomic builtins here, which clang
 * also accepts for the msvc target).
 * ------------------------------------------------------------------------------------------ */
static __inline LONG InterlockedIncrement(LONG volatile *Addend) {
  return __atomic_add_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}
static __inline LONG InterlockedDecrement(LONG volatile *Addend) {
  return __atomic_sub_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}
static __inline LONG InterlockedExchange(LONG volatile *Target, LONG Value) {
  return __atomic_exchange_n(Target, Value, __ATOMIC_SEQ_CST);
}
static __inline LONG InterlockedCompareExchange(LONG volatile *Destination, LONG Exchange, LONG Comperand) {
  __atomic_compare_exchange_n(Destination, &Comperand, Exchange, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return Comperand;
}
static __inline LONG InterlockedExchangeAdd(LONG volatile *Addend, LONG Value) {
  return __atomic_fetch_add(Addend, Value, __ATOMIC_SEQ_CST);
}
static __inline LONG64 InterlockedIncrement64(LONG64 volatile *Addend) {
  return __atomic_add_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}
static __inline LONG64 InterlockedDecrement64(LONG64 volatile *Addend) {
  return __atomic_sub_fetch(Addend, 1, __ATOMIC_SEQ_CST);
}
static __inline LONG64 InterlockedExchange64(LONG64 volatile *Target, LONG64 Value) {
  return __atomic_exchange_n(Target, Value, __ATOMIC_SEQ_CST);
}
static __inline LONG64 InterlockedCompareExchange64(LONG64 volatile *Destination, LONG64 Exchange,
                                                   LONG64 Comperand) {
  __atomic_compare_exchange_n(Destination, &Comperand, Exchange, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return Comperand;
}
static __inline PVOID InterlockedExchangePointer(PVOID volatile *Target, PVOID Value) {
  return __atomic_exchange_n(Target, Value, __ATOMIC_SEQ_CST);
}
static __inline PVOID InterlockedCompareExchangePointer(PVOID volatile *Destination, PVOID Exchange,
                                                       PVOID Comperand) {
  __atomic_compare_exchange_n(Destination, &Comperand, Exchange, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return Comperand;
}

/* ------------------------------------------------------------------------------------------
 * Doubly linked lists (the WDK's inline helpers).
 * ------------------------------------------------------------------------------------------ */
typedef struct _LIST_ENTRY {
  struct _LIST_ENTRY *Flink;
  struct _LIST_ENTRY *Blink;
} LIST_ENTRY, *PLIST_ENTRY;

static __inline VOID InitializeListHead(PLIST_ENTRY ListHead) { ListHead->Flink = ListHead->Blink = ListHead; }
static __inline BOOLEAN IsListEmpty(const LIST_ENTRY *ListHead) { return (BOOLEAN)(ListHead->Flink == ListHead); }
static __inline BOOLEAN RemoveEntryList(PLIST_ENTRY Entry) {
  PLIST_ENTRY Next = Entry->Flink;
  PLIST_ENTRY Prev = Entry->Blink;
  Prev->Flink = Next;
  Next->Blink = Prev;
  return (BOOLEAN)(Next == Prev);
}
static __inline PLIST_ENTRY RemoveHeadList(PLIST_ENTRY ListHead) {
  PLIST_ENTRY Entry = ListHead->Flink;
  RemoveEntryList(Entry);
  return Entry;
}
static __inline PLIST_ENTRY RemoveTailList(PLIST_ENTRY ListHead) {
  PLIST_ENTRY Entry = ListHead->Blink;
  RemoveEntryList(Entry);
  return Entry;
}
static __inline VOID InsertTailList(PLIST_ENTRY ListHead, PLIST_ENTRY Entry) {
  PLIST_ENTRY Last = ListHead->Blink;
  Entry->Flink = ListHead;
  Entry->Blink = Last;
  Last->Flink = Entry;
  ListHead->Blink = Entry;
}
static __inline VOID InsertHeadList(PLIST_ENTRY ListHead, PLIST_ENTRY Entry) {
  PLIST_ENTRY First = ListHead->Flink;
  Entry->Flink = First;
  Entry->Blink = ListHead;
  First->Blink = Entry;
  ListHead->Flink = Entry;
}

/* ------------------------------------------------------------------------------------------
 * System threads. PsCreateSystemThread starts a real thread in the System process; its
 * handle is waitable with ZwWaitForSingleObject (signalled when the routine returns or calls
 * PsTerminateSystemThread) and is closed with ZwClose (the thread keeps running, as on
 * Windows). PsTerminateSystemThread is only valid on such a thread.
 * ------------------------------------------------------------------------------------------ */
typedef VOID KSTART_ROUTINE(_In_ PVOID StartContext);
typedef KSTART_ROUTINE *PKSTART_ROUTINE;
typedef struct _CLIENT_ID {
  HANDLE UniqueProcess;
  HANDLE UniqueThread;
} CLIENT_ID, *PCLIENT_ID;

NTKERNELAPI NTSTATUS NTAPI PsCreateSystemThread(_Out_ PHANDLE ThreadHandle, _In_ ULONG DesiredAccess,
                                                _In_opt_ POBJECT_ATTRIBUTES ObjectAttributes,
                                                _In_opt_ HANDLE ProcessHandle, _Out_opt_ PCLIENT_ID ClientId,
                                                _In_ PKSTART_ROUTINE StartRoutine, _In_opt_ PVOID StartContext);
NTKERNELAPI NTSTATUS NTAPI PsTerminateSystemThread(_In_ NTSTATUS ExitStatus);
/* Thread handles from PsCreateSystemThread. Timeout as for KeWaitForSingleObject. */
NTSYSAPI NTSTATUS NTAPI ZwWaitForSingleObject(_In_ HANDLE Handle, _In_ BOOLEAN Alertable,
                                              _In_opt_ PLARGE_INTEGER Timeout);

/* ------------------------------------------------------------------------------------------
 * UTF-8 -> UTF-16. A NULL destination returns the size needed; invalid input is replaced
 * with U+FFFD and reported as STATUS_SOME_NOT_MAPPED; a destination that is too small is
 * filled as far as it goes and reported as STATUS_BUFFER_TOO_SMALL.
 * ------------------------------------------------------------------------------------------ */
NTSYSAPI NTSTATUS NTAPI RtlUTF8ToUnicodeN(_Out_writes_bytes_to_opt_(Max, *Actual) PWSTR UnicodeStringDestination,
                                          _In_ ULONG UnicodeStringMaxByteCount,
                                          _Out_ PULONG UnicodeStringActualByteCount,
                                          _In_reads_bytes_(Count) PCCH UTF8StringSource,
                                          _In_ ULONG UTF8StringByteCount);

/* ------------------------------------------------------------------------------------------
 * Time and processes.
 * ------------------------------------------------------------------------------------------ */
/* 100 ns intervals since 1601-01-01 UTC. */
NTKERNELAPI VOID NTAPI KeQuerySystemTime(_Out_ PLARGE_INTEGER CurrentTime);
/* The "current process": inside ConnectNotify, MessageNotify and a DisconnectNotify caused by
 * the user closing its handle, this is the user process (its pid from the fltsim HELLO);
 * elsewhere it is the System process (pid 4). */
NTKERNELAPI PEPROCESS NTAPI PsGetCurrentProcess(VOID);
NTKERNELAPI HANDLE NTAPI PsGetCurrentProcessId(VOID);
NTKERNELAPI HANDLE NTAPI PsGetProcessId(_In_ PEPROCESS Process);
#define IoGetCurrentProcess PsGetCurrentProcess
/* Whether the request comes from a 32-bit process on 64-bit Windows (a 64-bit driver build
 * asks before reading pointer-sized fields of a user buffer). fltsim's callers never are:
 * Linux clients are native processes, and the Wine lane's prefix is 64-bit only. */
typedef struct _IRP *PIRP;
NTKERNELAPI BOOLEAN IoIs32bitProcess(_In_opt_ PIRP Irp);

/* ObReferenceObject/ObDereferenceObject: the FILE_OBJECT returned by FltCreateMailslotFile is
 * reference counted (the mailslot closes when its handle and every reference are gone).
 * Process objects are not counted on fltsim (they live as long as the simulator). */
NTKERNELAPI LONG_PTR ObfDereferenceObject(_In_ PVOID Object);
NTKERNELAPI LONG_PTR ObfReferenceObject(_In_ PVOID Object);
#define ObDereferenceObject(o) ObfDereferenceObject(o)
#define ObReferenceObject(o) ObfReferenceObject(o)

/* ------------------------------------------------------------------------------------------
 * Diagnostics: DbgPrint output goes to fltsim-host's log (level debug, "driver:" prefix).
 * ------------------------------------------------------------------------------------------ */
#define DPFLTR_IHVDRIVER_ID 77
#define DPFLTR_ERROR_LEVEL 0
#define DPFLTR_WARNING_LEVEL 1
#define DPFLTR_TRACE_LEVEL 2
#define DPFLTR_INFO_LEVEL 3
ULONG DbgPrint(_In_ PCSTR Format, ...);
ULONG DbgPrintEx(_In_ ULONG ComponentId, _In_ ULONG Level, _In_ PCSTR Format, ...);
#define KdPrint(x) DbgPrint x
#define KdPrintEx(x) DbgPrintEx x
#define ASSERT(e) ((void)((e) ? 1 : (DbgPrint("ASSERTION FAILED: %s (%s:%d)\n", #e, __FILE__, __LINE__), 0)))
#define NT_ASSERT(e) ASSERT(e)
#define FLT_ASSERT(e) ASSERT(e)

/* ------------------------------------------------------------------------------------------
 * Filter object. The host creates the filter and hands it to FltsimDriverEntry (see
 * <fltsim/extensions.h>); FltUnregisterFilter is what FltMgr does at unload: every remaining
 * connection gets DisconnectNotify and is closed.
 * ------------------------------------------------------------------------------------------ */
typedef ULONG FLT_FILTER_UNLOAD_FLAGS, *PFLT_FILTER_UNLOAD_FLAGS;
#define FLTFL_FILTER_UNLOAD_MANDATORY 0x00000001
typedef NTSTATUS(FLTAPI *PFLT_FILTER_UNLOAD_CALLBACK)(_In_ FLT_FILTER_UNLOAD_FLAGS Flags);

/* IRQL PASSIVE_LEVEL; call from the unload callback after closing the server ports. */
VOID FLTAPI FltUnregisterFilter(_In_ PFLT_FILTER Filter);

/* ------------------------------------------------------------------------------------------
 * Communication ports (spec §6, §7).
 * ------------------------------------------------------------------------------------------ */
typedef NTSTATUS(FLTAPI *PFLT_CONNECT_NOTIFY)(
    _In_ PFLT_PORT ClientPort, _In_opt_ PVOID ServerPortCookie,
    _In_reads_bytes_opt_(SizeOfContext) PVOID ConnectionContext, _In_ ULONG SizeOfContext,
    _Outptr_result_maybenull_ PVOID *ConnectionPortCookie);

typedef VOID(FLTAPI *PFLT_DISCONNECT_NOTIFY)(_In_opt_ PVOID ConnectionCookie);

typedef NTSTATUS(FLTAPI *PFLT_MESSAGE_NOTIFY)(
    _In_opt_ PVOID PortCookie, _In_reads_bytes_opt_(InputBufferLength) PVOID InputBuffer,
    _In_ ULONG InputBufferLength,
    _Out_writes_bytes_to_opt_(OutputBufferLength, *ReturnOutputBufferLength) PVOID OutputBuffer,
    _In_ ULONG OutputBufferLength, _Out_ PULONG ReturnOutputBufferLength);

/* Allocates a descriptor admitting "SYSTEM and Administrators": on fltsim, uid 0 and the
 * simulator's own uid. Widen it with FltsimSecurityDescriptorAllowUid/Gid or a NULL DACL. */
NTSTATUS FLTAPI FltBuildDefaultSecurityDescriptor(_Outptr_ PSECURITY_DESCRIPTOR *SecurityDescriptor,
                                                  _In_ ACCESS_MASK DesiredAccess);
VOID FLTAPI FltFreeSecurityDescriptor(_In_ PSECURITY_DESCRIPTOR SecurityDescriptor);
/* Only the NULL-DACL form is supported (DaclPresent TRUE with Dacl NULL, or DaclPresent FALSE):
 * every caller is admitted, the pattern spec §7.4 warns about. A non-NULL Dacl returns
 * STATUS_NOT_IMPLEMENTED. */
NTSYSAPI NTSTATUS NTAPI RtlSetDaclSecurityDescriptor(_Inout_ PSECURITY_DESCRIPTOR SecurityDescriptor,
                                                     _In_ BOOLEAN DaclPresent, _In_opt_ PACL Dacl,
                                                     _In_ BOOLEAN DaclDefaulted);

NTSTATUS FLTAPI FltCreateCommunicationPort(
    _In_ PFLT_FILTER Filter, _Outptr_ PFLT_PORT *ServerPort,
    _In_ POBJECT_ATTRIBUTES ObjectAttributes, _In_opt_ PVOID ServerPortCookie,
    _In_ PFLT_CONNECT_NOTIFY ConnectNotifyCallback,
    _In_ PFLT_DISCONNECT_NOTIFY DisconnectNotifyCallback,
    _In_opt_ PFLT_MESSAGE_NOTIFY MessageNotifyCallback, _In_ LONG MaxConnections);

VOID FLTAPI FltCloseCommunicationPort(_In_ PFLT_PORT ServerPort);

/* Sets *ClientPort to NULL under the filter-wide port lock that FltSendMessage reads it under. */
VOID FLTAPI FltCloseClientPort(_In_ PFLT_FILTER Filter, _Inout_ PFLT_PORT *ClientPort);

NTSTATUS FLTAPI FltSendMessage(_In_ PFLT_FILTER Filter, _In_ PFLT_PORT *ClientPort,
                               _In_reads_bytes_(SenderBufferLength) PVOID SenderBuffer,
                               _In_ ULONG SenderBufferLength,
                               _Out_writes_bytes_opt_(*ReplyLength) PVOID ReplyBuffer,
                               _Inout_opt_ PULONG ReplyLength, _In_opt_ PLARGE_INTEGER Timeout);

/* ------------------------------------------------------------------------------------------
 * Mailslots (spec §10). Kernel mailslot handles behave as synchronous handles on fltsim:
 * ZwReadFile/FltReadFile wait per the mailslot's ReadTimeout and return the final status.
 * ------------------------------------------------------------------------------------------ */
typedef enum _FILE_INFORMATION_CLASS {
  FileMailslotQueryInformation = 26,
  FileMailslotSetInformation = 27,
} FILE_INFORMATION_CLASS, *PFILE_INFORMATION_CLASS;

typedef struct _FILE_MAILSLOT_QUERY_INFORMATION {
  ULONG MaximumMessageSize;
  ULONG MailslotQuota;
  ULONG NextMessageSize; /* MAILSLOT_NO_MESSAGE when empty */
  ULONG MessagesAvailable;
  LARGE_INTEGER ReadTimeout;
} FILE_MAILSLOT_QUERY_INFORMATION, *PFILE_MAILSLOT_QUERY_INFORMATION;

typedef struct _FILE_MAILSLOT_SET_INFORMATION {
  PLARGE_INTEGER ReadTimeout;
} FILE_MAILSLOT_SET_INFORMATION, *PFILE_MAILSLOT_SET_INFORMATION;

#define MAILSLOT_NO_MESSAGE ((ULONG)-1)
#define MAILSLOT_WAIT_FOREVER ((ULONG)-1)

typedef VOID(NTAPI *PIO_APC_ROUTINE)(_In_ PVOID ApcContext, _In_ PIO_STATUS_BLOCK IoStatusBlock,
                                     _In_ ULONG Reserved);

/* Windows 8+. Instance and DriverContext are accepted and ignored. ReadTimeout NULL = forever,
 * 0 = immediate, -1 or MAXLONGLONG = forever, other negative = relative, positive = absolute.
 * Names: \Device\Mailslot\x or \??\mailslot\x (same namespace as \\.\mailslot\x). */
NTSTATUS FLTAPI FltCreateMailslotFile(
    _In_ PFLT_FILTER Filter, _In_opt_ PFLT_INSTANCE Instance, _Out_ PHANDLE FileHandle,
    _Outptr_opt_ PFILE_OBJECT *FileObject, _In_ ULONG DesiredAccess,
    _In_ POBJECT_ATTRIBUTES ObjectAttributes, _Out_ PIO_STATUS_BLOCK IoStatusBlock,
    _In_ ULONG CreateOptions, _In_ ULONG MailslotQuota, _In_ ULONG MaximumMessageSize,
    _In_ PLARGE_INTEGER ReadTimeout, _In_opt_ PIO_DRIVER_CREATE_CONTEXT DriverContext);

/* Synchronous on fltsim: Event and ApcRoutine must be NULL (else STATUS_NOT_SUPPORTED).
 * Returns STATUS_SUCCESS (Information = bytes), STATUS_IO_TIMEOUT, STATUS_BUFFER_TOO_SMALL
 * (message kept), STATUS_CANCELLED (mailslot closed while waiting). */
NTSYSAPI NTSTATUS NTAPI ZwReadFile(_In_ HANDLE FileHandle, _In_opt_ HANDLE Event,
                                   _In_opt_ PIO_APC_ROUTINE ApcRoutine, _In_opt_ PVOID ApcContext,
                                   _Out_ PIO_STATUS_BLOCK IoStatusBlock,
                                   _Out_writes_bytes_(Length) PVOID Buffer, _In_ ULONG Length,
                                   _In_opt_ PLARGE_INTEGER ByteOffset, _In_opt_ PULONG Key);

typedef ULONG FLT_IO_OPERATION_FLAGS;
#define FLTFL_IO_OPERATION_NON_CACHED 0x00000001
typedef VOID(FLTAPI *PFLT_COMPLETED_ASYNC_IO_CALLBACK)(_In_ PFLT_CALLBACK_DATA CallbackData,
                                                      _In_ PVOID Context);
/* Synchronous only (CallbackRoutine must be NULL). InitiatingInstance may be NULL on fltsim. */
NTSTATUS FLTAPI FltReadFile(_In_opt_ PFLT_INSTANCE InitiatingInstance, _In_ PFILE_OBJECT FileObject,
                            _In_opt_ PLARGE_INTEGER ByteOffset, _In_ ULONG Length,
                            _Out_writes_bytes_to_(Length, *BytesRead) PVOID Buffer,
                            _In_ FLT_IO_OPERATION_FLAGS Flags, _Out_opt_ PULONG BytesRead,
                            _In_opt_ PFLT_COMPLETED_ASYNC_IO_CALLBACK CallbackRoutine,
                            _In_opt_ PVOID CallbackContext);

/* FileMailslotQueryInformation / FileMailslotSetInformation on a mailslot handle. */
NTSYSAPI NTSTATUS NTAPI ZwQueryInformationFile(_In_ HANDLE FileHandle,
                                               _Out_ PIO_STATUS_BLOCK IoStatusBlock,
                                               _Out_writes_bytes_(Length) PVOID FileInformation,
                                               _In_ ULONG Length,
                                               _In_ FILE_INFORMATION_CLASS FileInformationClass);
NTSYSAPI NTSTATUS NTAPI ZwSetInformationFile(_In_ HANDLE FileHandle,
                                             _Out_ PIO_STATUS_BLOCK IoStatusBlock,
                                             _In_reads_bytes_(Length) PVOID FileInformation,
                                             _In_ ULONG Length,
                                             _In_ FILE_INFORMATION_CLASS FileInformationClass);

NTSYSAPI NTSTATUS NTAPI ZwClose(_In_ HANDLE Handle);
NTSTATUS FLTAPI FltClose(_In_ HANDLE FileHandle);

#ifdef __cplusplus
}
#endif

#include "fltsim/extensions.h"
