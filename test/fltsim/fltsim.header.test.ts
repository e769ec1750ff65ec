// native/fltsim/include/fltKernel.h must compile the way a driver's communication code uses
// it, with the three compilers the project uses for C: gcc (fltsim on Linux), clang with the
// msvc target (the driver engineer's type check against the same declarations), and
// mingw-w64 (the Wine lane's Windows build of fltsim). The driver below is the WDK idiom:
// default descriptor, port with three callbacks, FltSendMessage with a relative timeout,
// __try/__except around user buffers, pool tags, a kernel mailslot.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const include = join(root, 'native', 'fltsim', 'include');
const dir = mkdtempSync(join(tmpdir(), 'fltsim-header-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DRIVER = String.raw`
#include <fltKernel.h>

#define FPS_TAG 'tsPF'

typedef struct _FPS_NOTIFICATION {
  ULONG BytesToScan;
  ULONG Reserved;
  UCHAR Contents[1024];
} FPS_NOTIFICATION, *PFPS_NOTIFICATION;

typedef struct _FPS_REPLY {
  BOOLEAN SafeToOpen;
} FPS_REPLY;

_Static_assert(sizeof(ULONG) == 4, "ULONG is 32-bit");
_Static_assert(sizeof(WCHAR) == 2, "WCHAR is 16-bit");
_Static_assert(sizeof(LARGE_INTEGER) == 8, "LARGE_INTEGER");
_Static_assert(sizeof(NTSTATUS) == 4, "NTSTATUS");
_Static_assert(FIELD_OFFSET(UNICODE_STRING, Buffer) == sizeof(void*), "UNICODE_STRING layout");
_Static_assert(sizeof(FILE_MAILSLOT_QUERY_INFORMATION) == 24, "FILE_MAILSLOT_QUERY_INFORMATION");
_Static_assert(FLT_PORT_ALL_ACCESS == 0x001F0001, "FLT_PORT_ALL_ACCESS");
_Static_assert(STATUS_FLT_NO_WAITER_FOR_REPLY == (NTSTATUS)0xC01C0020L, "status values");

static PFLT_FILTER gFilter;
static PFLT_PORT gServerPort;
static PFLT_PORT gClientPort;
static PEPROCESS gUserProcess;
static EX_PUSH_LOCK gLock;

static NTSTATUS FLTAPI FpspConnect(_In_ PFLT_PORT ClientPort, _In_opt_ PVOID ServerPortCookie,
                                   _In_reads_bytes_opt_(SizeOfContext) PVOID ConnectionContext,
                                   _In_ ULONG SizeOfContext, _Outptr_result_maybenull_ PVOID *ConnectionCookie) {
  UNREFERENCED_PARAMETER(ServerPortCookie);
  UNREFERENCED_PARAMETER(ConnectionContext);
  UNREFERENCED_PARAMETER(SizeOfContext);
  PAGED_CODE();
  FltAcquirePushLockExclusive(&gLock);
  gClientPort = ClientPort;
  gUserProcess = PsGetCurrentProcess();
  FltReleasePushLock(&gLock);
  *ConnectionCookie = NULL;
  DbgPrint("connected: pid %p\n", PsGetProcessId(gUserProcess));
  return STATUS_SUCCESS;
}

static VOID FLTAPI FpspDisconnect(_In_opt_ PVOID ConnectionCookie) {
  UNREFERENCED_PARAMETER(ConnectionCookie);
  FltCloseClientPort(gFilter, &gClientPort);
}

static NTSTATUS FLTAPI FpspMessage(_In_opt_ PVOID PortCookie, _In_reads_bytes_opt_(InputBufferLength) PVOID InputBuffer,
                                   _In_ ULONG InputBufferLength,
                                   _Out_writes_bytes_to_opt_(OutputBufferLength, *ReturnOutputBufferLength) PVOID OutputBuffer,
                                   _In_ ULONG OutputBufferLength, _Out_ PULONG ReturnOutputBufferLength) {
  NTSTATUS status = STATUS_SUCCESS;
  ULONG command = 0;
  UNREFERENCED_PARAMETER(PortCookie);
  *ReturnOutputBufferLength = 0;
  if (InputBuffer == NULL || InputBufferLength < sizeof(ULONG)) return STATUS_INVALID_PARAMETER;
  __try {
    command = *(ULONG *)InputBuffer;
  } __except (EXCEPTION_EXECUTE_HANDLER) {
    return GetExceptionCode();
  }
  if (OutputBuffer != NULL && OutputBufferLength >= sizeof(ULONG)) {
    __try {
      *(ULONG *)OutputBuffer = command + 1;
      *ReturnOutputBufferLength = sizeof(ULONG);
    } __except (EXCEPTION_EXECUTE_HANDLER) {
      status = GetExceptionCode();
    }
  }
  return status;
}

NTSTATUS FpsScan(_In_reads_bytes_(Length) const UCHAR *Data, _In_ ULONG Length, _Out_ BOOLEAN *SafeToOpen) {
  PFPS_NOTIFICATION notification;
  FPS_REPLY reply;
  ULONG replyLength = sizeof(reply);
  LARGE_INTEGER timeout;
  NTSTATUS status;
  *SafeToOpen = TRUE;
  if (gClientPort == NULL) return STATUS_SUCCESS;
  notification = (PFPS_NOTIFICATION)ExAllocatePoolZero(NonPagedPoolNx, sizeof(*notification), FPS_TAG);
  if (notification == NULL) return STATUS_INSUFFICIENT_RESOURCES;
  notification->BytesToScan = Length < 1024 ? Length : 1024;
  RtlCopyMemoryCompat(notification->Contents, Data, notification->BytesToScan);
  timeout.QuadPart = -(LONGLONG)30000 * 10000;
  status = FltSendMessage(gFilter, &gClientPort, notification, sizeof(*notification), &reply, &replyLength, &timeout);
  if (status == STATUS_SUCCESS) *SafeToOpen = reply.SafeToOpen;
  ExFreePoolWithTag(notification, FPS_TAG);
  return status == STATUS_TIMEOUT ? STATUS_IO_TIMEOUT : status;
}

NTSTATUS FpsReadNote(_In_ HANDLE Mailslot, _Out_writes_bytes_(Size) PVOID Buffer, _In_ ULONG Size, _Out_ PULONG Read) {
  IO_STATUS_BLOCK iosb;
  NTSTATUS status = ZwReadFile(Mailslot, NULL, NULL, NULL, &iosb, Buffer, Size, NULL, NULL);
  *Read = NT_SUCCESS(status) ? (ULONG)iosb.Information : 0;
  return status;
}

NTSTATUS FpsCreateMailslot(_Out_ PHANDLE Handle, _Out_ PFILE_OBJECT *Object) {
  UNICODE_STRING name = RTL_CONSTANT_STRING(L"\\Device\\Mailslot\\fltport_notes");
  OBJECT_ATTRIBUTES oa;
  IO_STATUS_BLOCK iosb;
  LARGE_INTEGER forever;
  forever.QuadPart = -1;
  InitializeObjectAttributes(&oa, &name, OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, NULL, NULL);
  return FltCreateMailslotFile(gFilter, NULL, Handle, Object, GENERIC_READ | SYNCHRONIZE, &oa, &iosb,
                               FILE_SYNCHRONOUS_IO_NONALERT, 0, 0, &forever, NULL);
}

NTSTATUS FpsCreatePort(VOID) {
  PSECURITY_DESCRIPTOR sd;
  OBJECT_ATTRIBUTES oa;
  UNICODE_STRING name;
  LARGE_INTEGER now;
  NTSTATUS status;
  KeQuerySystemTime(&now);
  FltInitializePushLock(&gLock);
  RtlInitUnicodeString(&name, L"\\FltportSample");
  status = FltBuildDefaultSecurityDescriptor(&sd, FLT_PORT_ALL_ACCESS);
  if (!NT_SUCCESS(status)) return status;
#ifdef FLTSIM
  FltsimSecurityDescriptorAllowUid(sd, 65534);
#endif
  InitializeObjectAttributes(&oa, &name, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, sd);
  status = FltCreateCommunicationPort(gFilter, &gServerPort, &oa, NULL, FpspConnect, FpspDisconnect, FpspMessage, 1);
  FltFreeSecurityDescriptor(sd);
  return status;
}

static NTSTATUS FLTAPI FpsUnload(_In_ FLT_FILTER_UNLOAD_FLAGS Flags) {
  UNREFERENCED_PARAMETER(Flags);
  FltCloseCommunicationPort(gServerPort);
  FltUnregisterFilter(gFilter);
  FltDeletePushLock(&gLock);
  return STATUS_SUCCESS;
}

#ifdef FLTSIM
NTSTATUS FltsimDriverEntry(_In_ PFLT_FILTER Filter) {
  gFilter = Filter;
  FltsimSetFilterUnloadCallback(Filter, FpsUnload);
  return FpsCreatePort();
}
#endif
`.replace('RtlCopyMemoryCompat', 'memcpy_compat');

// memcpy without <string.h> (freestanding on the msvc target): a tiny loop the driver owns.
const PRELUDE = `static void memcpy_compat(void *d, const void *s, unsigned long n) {
  unsigned char *dd = (unsigned char *)d; const unsigned char *ss = (const unsigned char *)s;
  while (n--) *dd++ = *ss++;
}
`;

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function have(tool: string): boolean {
  return spawnSync(tool, ['--version'], { encoding: 'utf8' }).status === 0;
}

function compile(tool: string, args: string[]): { status: number | null; output: string } {
  const r = spawnSync(tool, args, { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const source = write('driver.c', DRIVER.replace('#include <fltKernel.h>\n', `#include <fltKernel.h>\n${PRELUDE}`));

describe('fltKernel.h compiles a WDK-style communication.c', () => {
  it.runIf(have('gcc'))('gcc -std=c11 -fshort-wchar -Wall -Wextra -Werror (fltsim on Linux)', () => {
    const r = compile('gcc', ['-std=c11', '-fshort-wchar', '-Wall', '-Wextra', '-Werror', '-Wno-multichar', '-I', include, '-c', source, '-o', join(dir, 'driver.o')]);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it.runIf(have('gcc'))('gcc without -fshort-wchar is refused with the reason', () => {
    const r = compile('gcc', ['-std=c11', '-I', include, '-fsyntax-only', source]);
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('compile driver sources with -fshort-wchar');
  });

  it.runIf(have('clang'))('clang --target=x86_64-pc-windows-msvc -fsyntax-only (real __try/__except)', () => {
    const r = compile('clang', [
      '--target=x86_64-pc-windows-msvc', '-fsyntax-only', '-ffreestanding', '-Wall', '-Werror',
      '-Wno-multichar', '-Wno-unknown-pragmas', '-I', include, source,
    ]);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it.runIf(have('x86_64-w64-mingw32-gcc'))('x86_64-w64-mingw32-gcc -std=c11 -Wall -Werror (the Wine lane)', () => {
    const r = compile('x86_64-w64-mingw32-gcc', ['-std=c11', '-Wall', '-Wextra', '-Werror', '-Wno-multichar', '-I', include, '-c', source, '-o', join(dir, 'driver.obj')]);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it.runIf(have('g++'))('C++ translation units can include it next to the standard library', () => {
    const cpp = write('user.cc', '#include <fltKernel.h>\n#include <string>\n#include <mutex>\nint main() { std::string s; std::mutex m; try { s = "x"; } catch (...) {} return NT_SUCCESS(STATUS_TIMEOUT) ? 0 : 1; }\n');
    const r = compile('g++', ['-std=c++17', '-Wall', '-Werror', '-I', include, '-fsyntax-only', cpp]);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });
});
