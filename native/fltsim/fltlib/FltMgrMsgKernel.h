/*
 * The kernel half of the Wine lane's FltMgrMsg device: the only code that includes the DDK
 * headers (which cannot share a translation unit with <windows.h>). It creates a driver
 * object and a device through Wine's ntoskrnl.exe, turns IRPs into the callbacks below and
 * completes IRPs for the C++ side (FltMgrMsgDevice.cc), which owns every policy decision.
 * IRPs and file objects are opaque pointers here.
 *
 * ntoskrnl.exe's functions are reached through pointers the caller resolves (GetProcAddress),
 * never through an import library: fltsim's engine defines the kernel API the linked driver
 * calls (RtlInitUnicodeString, PsGetCurrentProcessId, ...) under the same names, and those
 * must stay the simulated ones for the driver while this file needs Wine's real ones.
 *
 * Threads: Wine's ntoskrnl calls the dispatch routines and the cancel routine on the thread
 * that runs wine_ntoskrnl_main_loop (the device thread). The completion functions may be called from
 * any thread: each is one server call in Wine.
 */
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct FLTSIM_KDEV_CALLBACKS {
  void* context;
  /* IRP_MJ_CREATE. Returns the NTSTATUS of the open. `pid` is the opening process. */
  uint32_t (*create)(void* context, void* file, uint32_t pid);
  /* IRP_MJ_CLOSE: the last reference to the file object is gone. */
  void (*close)(void* context, void* file);
  /* IRP_MJ_DEVICE_CONTROL. `in` holds `in_size` bytes (a copy: valid during the call only);
   * `out_size` is the caller's output buffer size. Either completes the IRP with
   * FltsimKdevComplete and returns the same status, or calls FltsimKdevPend and returns
   * STATUS_PENDING (0x103). */
  uint32_t (*ioctl)(void* context, void* file, void* irp, uint32_t code, const void* in,
                    uint32_t in_size, uint32_t out_size);
  /* The I/O manager cancels `irp` (CancelIoEx, thread or process exit). Called once, after
   * the cancel routine was claimed; the IRP stays the callee's to complete. */
  void (*cancel)(void* context, void* irp);
} FLTSIM_KDEV_CALLBACKS;

/* Returns the address of ntoskrnl.exe's export `name`, or NULL. */
typedef void* (*FLTSIM_KDEV_RESOLVE)(const char* name);

/* Resolves the ntoskrnl.exe functions this file calls, then creates \Driver\..., the device
 * `device_name` and the symbolic link `link_name` (NT names, NUL-terminated UTF-16). Returns an
 * NTSTATUS: STATUS_PROCEDURE_NOT_FOUND when an export is missing, STATUS_OBJECT_NAME_COLLISION
 * when another process already owns the names. Once. */
uint32_t FltsimKdevCreate(FLTSIM_KDEV_RESOLVE resolve, const uint16_t* driver_name,
                          const uint16_t* device_name, const uint16_t* link_name,
                          const FLTSIM_KDEV_CALLBACKS* callbacks);

/* Removes the link and the device: new opens fail from now on. Once IRPs are no longer served
 * (Wine's wine_ntoskrnl_main_loop returned). */
void FltsimKdevDelete(void);

/* Completes `irp` with `status` and `information`; copies the first `size` bytes of `data`
 * (at most the output buffer's size) into the caller's output buffer. Any thread; once per
 * IRP. For a pended IRP call FltsimKdevDisarm first. */
void FltsimKdevComplete(void* irp, uint32_t status, uint64_t information, const void* data,
                        uint32_t size);

/* In the ioctl callback: marks `irp` pending and arms the cancel routine. Returns 0, or 1 if
 * the IRP had already been cancelled (then the cancel callback will not be called: the
 * caller treats the IRP as cancelled itself). */
int FltsimKdevPend(void* irp);

/* Before completing a pended IRP outside the cancel callback: disarms the cancel routine.
 * Returns 1 when disarmed, 0 when the I/O manager already claimed it (the cancel callback
 * runs or ran for this IRP and must be the one to complete it, or must see that it was). */
int FltsimKdevDisarm(void* irp);

#ifdef __cplusplus
}
#endif
