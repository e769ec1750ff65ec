/*
 * Kernel half of the Wine lane's FltMgrMsg device (see FltMgrMsgKernel.h). Built into the
 * Windows fltsim-host.exe, which imports Wine's ntoskrnl.exe: the driver object lives in
 * fltsim-host's own process, and Wine's server routes the IRPs of every process that opens
 * the device to it, exactly as it does for the drivers winedevice.exe hosts.
 */
#include <ddk/wdm.h>
#include <string.h>

#include "FltMgrMsgKernel.h"

/* ntoskrnl.exe, through pointers (FltMgrMsgKernel.h says why). IoCreateDriver is not in the
 * DDK headers: it creates a driver object without an image (Windows and Wine export it). */
static struct {
  NTSTATUS(NTAPI* IoCreateDriver)(PUNICODE_STRING driver_name, PDRIVER_INITIALIZE init);
  NTSTATUS(NTAPI* IoCreateDevice)(PDRIVER_OBJECT, ULONG, PUNICODE_STRING, DEVICE_TYPE, ULONG, BOOLEAN,
                                  PDEVICE_OBJECT*);
  VOID(NTAPI* IoDeleteDevice)(PDEVICE_OBJECT);
  NTSTATUS(NTAPI* IoCreateSymbolicLink)(PUNICODE_STRING, PUNICODE_STRING);
  NTSTATUS(NTAPI* IoDeleteSymbolicLink)(PUNICODE_STRING);
  VOID(FASTCALL* IofCompleteRequest)(PIRP, CCHAR);
  VOID(NTAPI* IoReleaseCancelSpinLock)(KIRQL);
  HANDLE(NTAPI* PsGetCurrentProcessId)(void);
} k;

static FLTSIM_KDEV_CALLBACKS g_callbacks;
static UNICODE_STRING g_device_name;
static UNICODE_STRING g_link_name;
static PDEVICE_OBJECT g_device;
static NTSTATUS g_init_status;

static void InitName(PUNICODE_STRING s, const uint16_t* text) {
  size_t n = 0;
  while (text[n] != 0) ++n;
  s->Buffer = (PWSTR)text;
  s->Length = (USHORT)(n * sizeof(WCHAR));
  s->MaximumLength = s->Length;
}

static void Complete(PIRP irp) { k.IofCompleteRequest(irp, IO_NO_INCREMENT); }

static PFILE_OBJECT FileOf(PIRP irp) {
  PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
  return sp->FileObject != NULL ? sp->FileObject : irp->Tail.Overlay.OriginalFileObject;
}

static VOID NTAPI KdevCancel(PDEVICE_OBJECT device, PIRP irp) {
  (void)device;
  /* Called with the cancel spin lock held; the callback takes its own locks. */
  k.IoReleaseCancelSpinLock(irp->CancelIrql);
  g_callbacks.cancel(g_callbacks.context, irp);
}

static NTSTATUS CompleteNow(PIRP irp, NTSTATUS status) {
  irp->IoStatus.Status = status;
  irp->IoStatus.Information = 0;
  Complete(irp);
  return status;
}

static NTSTATUS NTAPI KdevDispatch(PDEVICE_OBJECT device, PIRP irp) {
  PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
  (void)device;
  switch (sp->MajorFunction) {
    case IRP_MJ_CREATE: {
      const uint32_t pid = (uint32_t)(ULONG_PTR)k.PsGetCurrentProcessId();
      return CompleteNow(irp, (NTSTATUS)g_callbacks.create(g_callbacks.context, FileOf(irp), pid));
    }
    case IRP_MJ_CLEANUP:
      return CompleteNow(irp, STATUS_SUCCESS);
    case IRP_MJ_CLOSE:
      g_callbacks.close(g_callbacks.context, FileOf(irp));
      return CompleteNow(irp, STATUS_SUCCESS);
    case IRP_MJ_DEVICE_CONTROL: {
      const ULONG code = sp->Parameters.DeviceIoControl.IoControlCode;
      const ULONG in_size = sp->Parameters.DeviceIoControl.InputBufferLength;
      const ULONG out_size = sp->Parameters.DeviceIoControl.OutputBufferLength;
      /* Wine's ntoskrnl hands drivers copies of the caller's buffers for every method. */
      const void* in = (code & 3) == METHOD_NEITHER ? sp->Parameters.DeviceIoControl.Type3InputBuffer
                                                    : irp->AssociatedIrp.SystemBuffer;
      if (in == NULL && in_size != 0) return CompleteNow(irp, STATUS_INVALID_PARAMETER);
      return (NTSTATUS)g_callbacks.ioctl(g_callbacks.context, FileOf(irp), irp, code, in, in_size,
                                         out_size);
    }
    default:
      return CompleteNow(irp, STATUS_INVALID_DEVICE_REQUEST);
  }
}

static NTSTATUS NTAPI KdevInit(PDRIVER_OBJECT driver, PUNICODE_STRING registry_path) {
  ULONG i;
  (void)registry_path;
  for (i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; ++i) driver->MajorFunction[i] = KdevDispatch;
  /* Not exclusive: every user handle is its own file object, like FltMgrMsg's. */
  g_init_status = k.IoCreateDevice(driver, 0, &g_device_name, FILE_DEVICE_UNKNOWN, 0, FALSE, &g_device);
  if (!NT_SUCCESS(g_init_status)) return g_init_status;
  g_init_status = k.IoCreateSymbolicLink(&g_link_name, &g_device_name);
  if (!NT_SUCCESS(g_init_status)) {
    k.IoDeleteDevice(g_device);
    g_device = NULL;
    return g_init_status;
  }
  /* Buffers are copied by Wine whatever the flags say; DO_DIRECT_IO would ask for MDLs. */
  g_device->Flags &= ~DO_DEVICE_INITIALIZING;
  return STATUS_SUCCESS;
}

#define FLTSIM_RESOLVE(name) (*(void**)&k.name = resolve(#name)) != NULL

uint32_t FltsimKdevCreate(FLTSIM_KDEV_RESOLVE resolve, const uint16_t* driver_name,
                          const uint16_t* device_name, const uint16_t* link_name,
                          const FLTSIM_KDEV_CALLBACKS* callbacks) {
  UNICODE_STRING driver;
  NTSTATUS status;
  if (g_device != NULL || callbacks == NULL || resolve == NULL) return (uint32_t)STATUS_INVALID_PARAMETER;
  if (!(FLTSIM_RESOLVE(IoCreateDriver) && FLTSIM_RESOLVE(IoCreateDevice) && FLTSIM_RESOLVE(IoDeleteDevice) &&
        FLTSIM_RESOLVE(IoCreateSymbolicLink) && FLTSIM_RESOLVE(IoDeleteSymbolicLink) &&
        FLTSIM_RESOLVE(IofCompleteRequest) && FLTSIM_RESOLVE(IoReleaseCancelSpinLock) &&
        FLTSIM_RESOLVE(PsGetCurrentProcessId))) {
    return (uint32_t)STATUS_PROCEDURE_NOT_FOUND;
  }
  g_callbacks = *callbacks;
  InitName(&driver, driver_name);
  InitName(&g_device_name, device_name);
  InitName(&g_link_name, link_name);
  g_init_status = STATUS_UNSUCCESSFUL;
  status = k.IoCreateDriver(&driver, KdevInit);
  if (NT_SUCCESS(status)) status = g_init_status;
  return (uint32_t)status;
}

void FltsimKdevDelete(void) {
  if (g_device == NULL) return;
  k.IoDeleteSymbolicLink(&g_link_name);
  k.IoDeleteDevice(g_device);
  g_device = NULL;
}

void FltsimKdevComplete(void* irp_ptr, uint32_t status, uint64_t information, const void* data,
                        uint32_t size) {
  PIRP irp = (PIRP)irp_ptr;
  PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
  if (data != NULL && size != 0 && sp->MajorFunction == IRP_MJ_DEVICE_CONTROL) {
    const ULONG code = sp->Parameters.DeviceIoControl.IoControlCode;
    const ULONG capacity = sp->Parameters.DeviceIoControl.OutputBufferLength;
    void* out = (code & 3) == METHOD_NEITHER ? irp->UserBuffer : irp->AssociatedIrp.SystemBuffer;
    if (out != NULL) memcpy(out, data, size < capacity ? size : capacity);
  }
  irp->IoStatus.Status = (NTSTATUS)status;
  irp->IoStatus.Information = (ULONG_PTR)information;
  Complete(irp);
}

int FltsimKdevPend(void* irp_ptr) {
  PIRP irp = (PIRP)irp_ptr;
  IoMarkIrpPending(irp);
  IoSetCancelRoutine(irp, KdevCancel);
  /* Cancelled before the routine was armed: if we can take it back, nobody will call it. */
  if (irp->Cancel && IoSetCancelRoutine(irp, NULL) != NULL) return 1;
  return 0;
}

int FltsimKdevDisarm(void* irp_ptr) {
  return IoSetCancelRoutine((PIRP)irp_ptr, NULL) != NULL ? 1 : 0;
}
