/*++

Module Name:

    fltsimentry.c

Abstract:

    The sample's driver entry when it runs inside fltsim-host instead of Windows.

    fltsim-host links one driver and calls its FltsimDriverEntry with a filter it has
    already created (what FltRegisterFilter returns on Windows). This file does what
    DriverEntry and FpsUnload do in driver.c, minus everything that needs a file system:
    no registry, no operation callbacks, no instances. What remains is the part of the
    driver the contract suite talks to - the scan and control ports, the test-control
    surface and the mailslot - running the very code the Windows build runs.

    Differences from the Windows driver, all deliberate:

    - Settings are the defaults (audit, FPS_DEFAULT_SCAN_TIMEOUT_MS, no extra group). Tests
      change the policy with SET_POLICY or "set-mode"/"set-timeout" notes, and exercise
      group access with test ports (FpsSecurityWithGroup and a Unix-group SID
      S-1-22-2-<gid>, see communication.c).
    - "rescan <path>" has no file to open: the request carries the path with no content
      (FPS_SCANF_NO_FILE_ID), so a test still sees the whole round trip: note, scan request
      to a scanner, verdict, NOTIFY with the outcome.

    Compiled only in the fltsim build (fltsim's fltKernel.h defines FLTSIM); empty for the
    WDK, and not part of fltport_sample.vcxproj.

Environment:

    fltsim-host (user space), host main thread for entry, control thread for unload.

--*/

#include "fps.h"

#if defined(FLTSIM)

static PFLT_FILTER FpsSimFilter;

static
NTSTATUS
FLTAPI
FpspSimUnload (
    _In_ FLT_FILTER_UNLOAD_FLAGS Flags
    );

static
NTSTATUS
FpspSimRescan (
    _In_ PCUNICODE_STRING NtPath
    );

NTSTATUS
FltsimDriverEntry (
    _In_ PFLT_FILTER Filter
    )
{
    NTSTATUS status;
    FPS_SETTINGS settings;

    RtlZeroMemory( &settings, sizeof( settings ) );
    settings.Mode = FpsModeAudit;
    settings.ScanTimeoutMs = FPS_DEFAULT_SCAN_TIMEOUT_MS;
    settings.AllowedGroupSid = NULL;
    settings.EnableMailslot = TRUE;
    settings.RescanRoutine = FpspSimRescan;

    FpsSimFilter = Filter;

    status = FpsCommInitialize( Filter, &settings );

    if (!NT_SUCCESS( status )) {

        //
        //  Owed even after a failure (see FpsCommInitialize): the host exits next.
        //
        FpsCommShutdown();
        FltUnregisterFilter( Filter );
        FpsCommFinalize();
        return status;
    }

    FltsimSetFilterUnloadCallback( Filter, FpspSimUnload );

    //
    //  As on Windows, the driver runs without the mailslot if it cannot be created.
    //
    status = FpsMailslotInitialize( Filter, &settings );

    if (!NT_SUCCESS( status )) {

        FpsTrace( DPFLTR_WARNING_LEVEL, "running without the mailslot (0x%08X)\n", (ULONG)status );
    }

    return STATUS_SUCCESS;
}

static
NTSTATUS
FLTAPI
FpspSimUnload (
    _In_ FLT_FILTER_UNLOAD_FLAGS Flags
    )
/*++

Routine Description:

    FpsUnload's order without the parts that need a file system (driver.c explains it).

--*/
{
    UNREFERENCED_PARAMETER( Flags );

    FpsMailslotShutdown();
    FpsCommShutdown();
    FltUnregisterFilter( FpsSimFilter );
    FpsCommFinalize();

    return STATUS_SUCCESS;
}

static
NTSTATUS
FpspSimRescan (
    _In_ PCUNICODE_STRING NtPath
    )
{
    PFPS_SCAN_REQUEST request;
    FPS_SCAN_RESULT result;
    ULONG pathBytes;

    request = ExAllocatePoolZero( NonPagedPoolNx, sizeof( FPS_SCAN_REQUEST ), FPS_TAG_MESSAGE );

    if (request == NULL) {

        return STATUS_INSUFFICIENT_RESOURCES;
    }

    request->Operation = FpsOpRescan;
    request->Flags = FPS_SCANF_NO_FILE_ID;
    request->ProcessId = (ULONG)(ULONG_PTR)PsGetCurrentProcessId();

    pathBytes = FPS_MIN( (ULONG)NtPath->Length, (ULONG)sizeof( request->Path ) );
    RtlCopyMemory( request->Path, NtPath->Buffer, pathBytes );
    request->PathLength = pathBytes;

    if (pathBytes < NtPath->Length) {

        request->Flags = (USHORT)(request->Flags | FPS_SCANF_PATH_TRUNCATED);
    }

    FpsSendScanRequest( request, &result );

    ExFreePoolWithTag( request, FPS_TAG_MESSAGE );

    return FpsCommOutcomeToStatus( &result );
}

#else

//
//  WDK build: nothing here. (A translation unit must declare something.)
//
typedef int FPS_FLTSIM_ENTRY_NOT_BUILT;

#endif  // FLTSIM
