/*
 * The contract between the Wine lane's test fltlib.dll and the Windows build of fltsim-host:
 * a device object that fltsim-host creates in Wine's kernel namespace (through Wine's
 * ntoskrnl.exe, as a driver would) and that the DLL opens and drives with the same
 * NtDeviceIoControlFile calls real fltlib.dll makes on \FileSystem\Filters\FltMgrMsg
 * (spec §1.2). Wine's own I/O manager then does what Windows' does for the caller: the
 * OVERLAPPED is the IO_STATUS_BLOCK, completions reach the completion port the caller
 * associated with the handle, CancelIoEx reaches the driver's cancel routine, CloseHandle
 * reaches IRP_MJ_CLOSE. docs/wine-lane.md has the design and every known difference.
 *
 * Plain C, no OS headers: included by the DLL (C++ with <windows.h>), by the kernel-side C
 * file (with the DDK headers) and by the host's C++ transport.
 */
#pragma once

#include <stdint.h>

#include "fltsim/wire.h"

/* Device names. Instance = the value of FLTSIM_RUNTIME_DIR_ENV (wire.h: under Wine it names
 * the instance, not a directory), "default" when unset. The DLL opens
 * FLTSIM_MSG_DOS_PREFIX + instance; the host creates FLTSIM_MSG_DEVICE_PREFIX + instance and
 * links the DOS name to it. Real fltlib opens \Global??\FltMgrMsg: one per machine. */
#define FLTSIM_MSG_DEVICE_PREFIX u"\\Device\\FltMgrMsg-fltsim-"
#define FLTSIM_MSG_DOS_PREFIX u"\\??\\FltMgrMsg-fltsim-"
#define FLTSIM_MSG_DRIVER_PREFIX u"\\Driver\\fltsim-"
#define FLTSIM_DEFAULT_INSTANCE "default"
/* An instance name is 1..64 of [A-Za-z0-9._-]: it becomes part of object and pipe names. */
#define FLTSIM_MAX_INSTANCE_CHARS 64

/* CTL_CODE(DeviceType, Function, Method, Access) without <winioctl.h>. */
#define FLTSIM_CTL_CODE(type, function, method, access) \
  (((uint32_t)(type) << 16) | ((uint32_t)(access) << 14) | ((uint32_t)(function) << 2) | (uint32_t)(method))

/* The control codes of real fltlib (spec §1.2): FILE_DEVICE_DISK_FILE_SYSTEM (8),
 * METHOD_NEITHER (3); FILE_WRITE_ACCESS (2) or FILE_READ_ACCESS (1). */
#define FLTSIM_FLT_CTL_SEND_MESSAGE FLTSIM_CTL_CODE(8, 6, 3, 2)  /* 0x0008801B */
#define FLTSIM_FLT_CTL_GET_MESSAGE FLTSIM_CTL_CODE(8, 7, 3, 1)   /* 0x0008401F */
#define FLTSIM_FLT_CTL_REPLY_MESSAGE FLTSIM_CTL_CODE(8, 8, 3, 2) /* 0x00088023 */

/* Not in real fltlib: the connect request. Real fltlib passes the port name and context in an
 * extended attribute of NtCreateFile ("FLTPORT", spec §1.2); Wine's I/O manager does not hand
 * EAs to drivers (IRP_MJ_CREATE arrives with EaLength 0), so the DLL opens the device and then
 * sends this synchronous IOCTL, whose input is a wire.h CONNECT body
 * (FLTSIM_CONNECT_BODY + UTF-16LE name + context). METHOD_BUFFERED (0), FILE_ANY_ACCESS (0),
 * a function number in the vendor range (>= 0x800). */
#define FLTSIM_CTL_CONNECT FLTSIM_CTL_CODE(8, 0x801, 0, 0) /* 0x00082004 */

FLTSIM_STATIC_ASSERT(FLTSIM_FLT_CTL_SEND_MESSAGE == 0x0008801Bu, "FLT_CTL_SEND_MESSAGE");
FLTSIM_STATIC_ASSERT(FLTSIM_FLT_CTL_GET_MESSAGE == 0x0008401Fu, "FLT_CTL_GET_MESSAGE");
FLTSIM_STATIC_ASSERT(FLTSIM_FLT_CTL_REPLY_MESSAGE == 0x00088023u, "FLT_CTL_REPLY_MESSAGE");

/* 1 if `s` is a usable instance name (see above). */
static inline int FltsimValidInstance(const char* s) {
  int n = 0;
  if (s == 0) return 0;
  for (; s[n] != '\0'; ++n) {
    const char c = s[n];
    const int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '.' || c == '_' || c == '-';
    if (!ok || n >= FLTSIM_MAX_INSTANCE_CHARS) return 0;
  }
  return n > 0;
}
