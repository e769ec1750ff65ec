/*
 * What the sample minifilter calls only in a 64-bit Windows build (communication.c under
 * _WIN64; fltKernelExtra.h: "a Windows build of fltsim-host, which would need
 * IoIs32bitProcess too") and fltsim does not provide: linked into the Wine lane's
 * fltsim-host-sample.exe by test/wine/build-sample-host.mjs.
 *
 * IoIs32bitProcess: every caller there is the 64-bit node.exe (the lane's prefix is 64-bit
 * only; Debian's wine64 without wine32 cannot start a 32-bit process), so no request comes
 * from a WOW64 process.
 */
#include <fltKernel.h>

struct _IRP;

BOOLEAN IoIs32bitProcess(struct _IRP* Irp) {
  UNREFERENCED_PARAMETER(Irp);
  return FALSE;
}
