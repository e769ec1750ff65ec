/*++

Module Name:

    operations.c

Abstract:

    The sample's I/O callbacks: ask the scanner service for a verdict on a file's first
    bytes when it is opened, on the data being written to it, and again at cleanup if it
    was written; enforce BLOCK verdicts only when the policy says so.

    What is scanned (and why):

      post-create   files whose extension is in the configured list, after the file
                    system opened them (a file can only be read once it is open, as in
                    Microsoft's scanner sample). Verdict BLOCK in block mode:
                    FltCancelFileOpen and STATUS_ACCESS_DENIED.
      pre-write     non-paging writes to watched files: the first FPS_SCAN_BYTES of the
                    data about to be written. Verdict BLOCK in block mode: the write fails
                    with STATUS_ACCESS_DENIED.
      paging write  cannot wait for user mode (it may run at APC_LEVEL, and the service
                    itself may need memory the write is trying to free), so the data is
                    copied and sent from a system work item after the write has gone on:
                    FPS_SCANF_ASYNC, recorded, never enforced. Lazy-writer flushes are
                    skipped: their data was already scanned in the non-paging write that
                    put it in the cache.
      pre-cleanup   files written through any handle since the last scan: the first bytes
                    again. Cleanup cannot be failed, so the verdict is recorded only.

    What is never scanned: directories, volume opens, paging files, and every I/O issued
    by a process that holds a scanner connection - the service's own file I/O would wait
    for a verdict only the service can give (spec §6.6). No verdict (no scanner, timeout,
    disconnect, bad reply) lets the I/O through: failing closed would stop the service's
    own executable from starting.

    Known limits, kept on purpose in a sample: the content is read non-cached from disk, so
    data still in the cache is not seen at create (the write scan covers it); a file
    opened with FILE_OVERWRITE/SUPERSEDE has already been truncated when a BLOCK cancels
    the open.

Environment:

    Kernel mode. WDK only (fltsim does not run I/O callbacks).

--*/

#include "operations.h"

typedef struct _FPS_OPS_GLOBALS {

    PFLT_FILTER Filter;

    PUNICODE_STRING Extensions;
    ULONG ExtensionCount;
    BOOLEAN WatchAll;

    //
    //  Outstanding paging-write scans: each holds run-down protection from the moment it is
    //  queued until its work routine is done, so unload can wait for all of them.
    //
    EX_RUNDOWN_REF AsyncRundown;
    volatile LONG AsyncInFlight;

} FPS_OPS_GLOBALS;

static FPS_OPS_GLOBALS FpsOps;

//
//  Extra create parameter attached by FpsOpsRescanPath to its own open, so that
//  PostCreate knows the open is a rescan request (scan whatever the extension, report
//  FpsOpRescan) and can hand the outcome back.
//
//  {6B0C5AE1-3F9A-4E52-9D1B-7C2F0A4E8D13}
//
static const GUID FpsRescanEcpGuid =
    { 0x6b0c5ae1, 0x3f9a, 0x4e52, { 0x9d, 0x1b, 0x7c, 0x2f, 0x0a, 0x4e, 0x8d, 0x13 } };

typedef struct _FPS_RESCAN_ECP {

    BOOLEAN Scanned;            //  an instance of this filter saw the open and scanned it
    NTSTATUS Status;            //  the outcome, see FpsCommOutcomeToStatus

} FPS_RESCAN_ECP, *PFPS_RESCAN_ECP;

typedef struct _FPS_ASYNC_SCAN {

    PFLT_GENERIC_WORKITEM WorkItem;
    PFPS_STREAM_CONTEXT StreamContext;  //  referenced
    LONGLONG Offset;
    ULONG WriteLength;
    ULONG Captured;
    ULONG ProcessId;
    ULONG ThreadId;
    UCHAR Content[FPS_SCAN_BYTES];

} FPS_ASYNC_SCAN, *PFPS_ASYNC_SCAN;

static
VOID
FLTAPI
FpspAsyncScanWorker (
    _In_ PFLT_GENERIC_WORKITEM WorkItem,
    _In_ PVOID FltObject,
    _In_opt_ PVOID Context
    );

#ifdef ALLOC_PRAGMA
#pragma alloc_text(INIT, FpsOpsInitialize)
#pragma alloc_text(PAGE, FpsOpsShutdown)
#pragma alloc_text(PAGE, FpsOpsFinalize)
#pragma alloc_text(PAGE, FpsOpsRescanPath)
#pragma alloc_text(PAGE, FpsInstanceSetup)
#pragma alloc_text(PAGE, FpsInstanceQueryTeardown)
#pragma alloc_text(PAGE, FpsPreCreate)
#pragma alloc_text(PAGE, FpsPreCleanup)
#pragma alloc_text(PAGE, FpspAsyncScanWorker)
#endif

/* -----------------------------------------------------------------------------------------
 *  Load and unload
 * -------------------------------------------------------------------------------------- */

NTSTATUS
FpsOpsInitialize (
    _In_ PFLT_FILTER Filter,
    _In_reads_opt_(ExtensionCount) PUNICODE_STRING Extensions,
    _In_ ULONG ExtensionCount
    )
{
    ULONG i;

    RtlZeroMemory( &FpsOps, sizeof( FpsOps ) );

    FpsOps.Filter = Filter;
    FpsOps.Extensions = Extensions;
    FpsOps.ExtensionCount = (Extensions != NULL) ? ExtensionCount : 0;

    for (i = 0; i < FpsOps.ExtensionCount; i += 1) {

        if (Extensions[i].Length == sizeof( WCHAR ) && Extensions[i].Buffer[0] == L'*') {

            FpsOps.WatchAll = TRUE;
        }
    }

    ExInitializeRundownProtection( &FpsOps.AsyncRundown );

    return STATUS_SUCCESS;
}

VOID
FpsOpsShutdown (
    VOID
    )
/*++

Routine Description:

    Waits for every queued paging-write scan. Called after FpsCommShutdown, so their
    FpsSendScanRequest finds no scanner and returns at once. New paging writes arriving
    until FltUnregisterFilter returns fail to acquire run-down protection and are only
    counted.

--*/
{
    PAGED_CODE();

    ExWaitForRundownProtectionRelease( &FpsOps.AsyncRundown );
}

VOID
FpsOpsFinalize (
    VOID
    )
{
    ULONG i;

    PAGED_CODE();

    for (i = 0; i < FpsOps.ExtensionCount; i += 1) {

        if (FpsOps.Extensions[i].Buffer != NULL) {

            ExFreePoolWithTag( FpsOps.Extensions[i].Buffer, FPS_TAG_SETTINGS );
        }
    }

    if (FpsOps.Extensions != NULL) {

        ExFreePoolWithTag( FpsOps.Extensions, FPS_TAG_SETTINGS );
    }

    FpsOps.Extensions = NULL;
    FpsOps.ExtensionCount = 0;
}

/* -----------------------------------------------------------------------------------------
 *  Instances
 * -------------------------------------------------------------------------------------- */

NTSTATUS
FLTAPI
FpsInstanceSetup (
    _In_ PCFLT_RELATED_OBJECTS FltObjects,
    _In_ FLT_INSTANCE_SETUP_FLAGS Flags,
    _In_ DEVICE_TYPE VolumeDeviceType,
    _In_ FLT_FILESYSTEM_TYPE VolumeFilesystemType
    )
/*++

Routine Description:

    Attach policy: NTFS and ReFS volumes on fixed local disks only.

    - Network file systems: the file lives on another machine whose own protection
      applies, and waiting for a verdict on top of network latency makes opens slow.
    - Removable media: a device that can vanish with I/O waiting on user mode is asking
      for trouble in a sample; production products usually do scan them.
    - Other file systems (FAT, exFAT, UDF, CDFS...): no stream contexts on some of them,
      and the sample keeps its test matrix small.

    The INF's instance Flags decide whether FltMgr offers automatic attachment; this
    routine decides what is accepted, for automatic and manual (fltmc attach) alike.

    The volume's sector size is kept in an instance context: non-cached reads must be
    sector-aligned and sector-sized.

--*/
{
    NTSTATUS status;
    FLT_VOLUME_PROPERTIES properties;
    ULONG length;
    PFPS_INSTANCE_CONTEXT instanceContext = NULL;

    UNREFERENCED_PARAMETER( Flags );

    PAGED_CODE();

    if (VolumeDeviceType != FILE_DEVICE_DISK_FILE_SYSTEM) {

        return STATUS_FLT_DO_NOT_ATTACH;
    }

    if (VolumeFilesystemType != FLT_FSTYPE_NTFS && VolumeFilesystemType != FLT_FSTYPE_REFS) {

        return STATUS_FLT_DO_NOT_ATTACH;
    }

    //
    //  Only the fixed part is wanted: STATUS_BUFFER_OVERFLOW (names did not fit) is fine.
    //
    status = FltGetVolumeProperties( FltObjects->Volume,
                                     &properties,
                                     sizeof( properties ),
                                     &length );

    if (NT_ERROR( status )) {

        return STATUS_FLT_DO_NOT_ATTACH;
    }

    if (FlagOn( properties.DeviceCharacteristics, FILE_REMOVABLE_MEDIA | FILE_REMOTE_DEVICE )) {

        return STATUS_FLT_DO_NOT_ATTACH;
    }

    status = FltAllocateContext( FltObjects->Filter,
                                 FLT_INSTANCE_CONTEXT,
                                 sizeof( FPS_INSTANCE_CONTEXT ),
                                 NonPagedPoolNx,
                                 (PFLT_CONTEXT *)&instanceContext );

    if (!NT_SUCCESS( status )) {

        return STATUS_FLT_DO_NOT_ATTACH;
    }

    instanceContext->SectorSize = (properties.SectorSize >= 512) ? properties.SectorSize : 512;

    status = FltSetInstanceContext( FltObjects->Instance,
                                    FLT_SET_CONTEXT_KEEP_IF_EXISTS,
                                    instanceContext,
                                    NULL );

    FltReleaseContext( instanceContext );

    return NT_SUCCESS( status ) ? STATUS_SUCCESS : STATUS_FLT_DO_NOT_ATTACH;
}

NTSTATUS
FLTAPI
FpsInstanceQueryTeardown (
    _In_ PCFLT_RELATED_OBJECTS FltObjects,
    _In_ FLT_INSTANCE_QUERY_TEARDOWN_FLAGS Flags
    )
/*++

Routine Description:

    A manual detach (fltmc detach, FilterDetach) is allowed: this is a sample, and tests
    attach and detach it. A product that must not be switched off by an administrator
    command would return STATUS_FLT_DO_NOT_DETACH here.

--*/
{
    UNREFERENCED_PARAMETER( FltObjects );
    UNREFERENCED_PARAMETER( Flags );

    PAGED_CODE();

    return STATUS_SUCCESS;
}

/* -----------------------------------------------------------------------------------------
 *  Helpers
 * -------------------------------------------------------------------------------------- */

static
BOOLEAN
FpspIsWatchedExtension (
    _In_ PCUNICODE_STRING Extension
    )
{
    ULONG i;

    if (FpsOps.WatchAll) {

        return TRUE;
    }

    if (Extension->Length == 0) {

        return FALSE;
    }

    for (i = 0; i < FpsOps.ExtensionCount; i += 1) {

        if (RtlEqualUnicodeString( Extension, &FpsOps.Extensions[i], TRUE )) {

            return TRUE;
        }
    }

    return FALSE;
}

static
PFPS_STREAM_CONTEXT
FpspGetOrCreateStreamContext (
    _In_ PCFLT_RELATED_OBJECTS FltObjects,
    _In_ PCUNICODE_STRING Name
    )
/*++

Routine Description:

    Returns the stream's context (referenced), creating it on first sight. Best effort: on
    failure the file is still scanned at open, only write/cleanup tracking is lost.

--*/
{
    NTSTATUS status;
    PFPS_STREAM_CONTEXT context = NULL;
    PFPS_STREAM_CONTEXT existing = NULL;
    FILE_ID_INFORMATION fileId;

    status = FltGetStreamContext( FltObjects->Instance,
                                  FltObjects->FileObject,
                                  (PFLT_CONTEXT *)&context );

    if (NT_SUCCESS( status )) {

        return context;
    }

    status = FltAllocateContext( FltObjects->Filter,
                                 FLT_STREAM_CONTEXT,
                                 sizeof( FPS_STREAM_CONTEXT ),
                                 NonPagedPoolNx,
                                 (PFLT_CONTEXT *)&context );

    if (!NT_SUCCESS( status )) {

        return NULL;
    }

    RtlZeroMemory( context, sizeof( *context ) );

    //
    //  FileIdInformation (Windows 8+): the 128-bit id ReFS needs; NTFS fills the low half.
    //
    status = FltQueryInformationFile( FltObjects->Instance,
                                      FltObjects->FileObject,
                                      &fileId,
                                      sizeof( fileId ),
                                      FileIdInformation,
                                      NULL );

    if (NT_SUCCESS( status )) {

        context->HaveFileId = TRUE;
        context->VolumeSerialNumber = fileId.VolumeSerialNumber;
        RtlCopyMemory( context->FileId, &fileId.FileId, sizeof( context->FileId ) );
    }

    if (Name->Length != 0) {

        //
        //  Non-paged like the context itself: a context cleanup callback may run at up to
        //  DISPATCH_LEVEL for a non-paged context, and it frees this buffer.
        //
        context->Name.Buffer = ExAllocatePoolZero( NonPagedPoolNx, Name->Length, FPS_TAG_CONTEXT_NAME );

        if (context->Name.Buffer != NULL) {

            RtlCopyMemory( context->Name.Buffer, Name->Buffer, Name->Length );
            context->Name.Length = Name->Length;
            context->Name.MaximumLength = Name->Length;
        }
    }

    status = FltSetStreamContext( FltObjects->Instance,
                                  FltObjects->FileObject,
                                  FLT_SET_CONTEXT_KEEP_IF_EXISTS,
                                  context,
                                  (PFLT_CONTEXT *)&existing );

    if (NT_SUCCESS( status )) {

        //
        //  The stream holds its own reference now; the allocation's is the caller's.
        //
        return context;
    }

    //
    //  Not attached: this frees it (and its name, in FpsStreamContextCleanup). On a lost
    //  race the winner's context comes back referenced.
    //
    FltReleaseContext( context );

    return (status == STATUS_FLT_CONTEXT_ALREADY_DEFINED) ? existing : NULL;
}

static
VOID
FpspFillIdentity (
    _Inout_ PFPS_SCAN_REQUEST Request,
    _In_ USHORT Operation,
    _In_opt_ PFPS_STREAM_CONTEXT StreamContext,
    _In_opt_ PCUNICODE_STRING Name,
    _In_ ULONG ProcessId,
    _In_ ULONG ThreadId
    )
{
    ULONG pathBytes;

    Request->Operation = Operation;
    Request->ProcessId = ProcessId;
    Request->ThreadId = ThreadId;

    if (StreamContext != NULL && StreamContext->HaveFileId) {

        Request->VolumeSerialNumber = StreamContext->VolumeSerialNumber;
        RtlCopyMemory( Request->FileId, StreamContext->FileId, sizeof( Request->FileId ) );

    } else {

        Request->Flags = (USHORT)(Request->Flags | FPS_SCANF_NO_FILE_ID);
    }

    if (Name == NULL && StreamContext != NULL) {

        Name = &StreamContext->Name;
    }

    if (Name != NULL && Name->Buffer != NULL) {

        pathBytes = FPS_MIN( (ULONG)Name->Length, (ULONG)sizeof( Request->Path ) );
        RtlCopyMemory( Request->Path, Name->Buffer, pathBytes );
        Request->PathLength = pathBytes;

        if (pathBytes < Name->Length) {

            Request->Flags = (USHORT)(Request->Flags | FPS_SCANF_PATH_TRUNCATED);
        }
    }
}

static
NTSTATUS
FpspReadHead (
    _In_ PFLT_INSTANCE Instance,
    _In_ PFILE_OBJECT FileObject,
    _Inout_ PFPS_SCAN_REQUEST Request
    )
/*++

Routine Description:

    Reads the first FPS_SCAN_BYTES of the file into Request->Content with a non-cached read
    (sector-aligned buffer and length), as Microsoft's scanner sample does. Non-cached
    because at post-create the file object may have no cache map yet and the caller may
    not have asked for read access; the read is issued below this filter on our instance,
    so it is not scanned again.

--*/
{
    NTSTATUS status;
    PFPS_INSTANCE_CONTEXT instanceContext = NULL;
    ULONG sectorSize = 512;
    ULONG length;
    PVOID buffer;
    ULONG bytesRead = 0;
    LARGE_INTEGER offset;
    FILE_STANDARD_INFORMATION standard;

    if (NT_SUCCESS( FltGetInstanceContext( Instance, (PFLT_CONTEXT *)&instanceContext ) )) {

        sectorSize = instanceContext->SectorSize;
        FltReleaseContext( instanceContext );
    }

    length = ((FPS_SCAN_BYTES + sectorSize - 1) / sectorSize) * sectorSize;

    buffer = FltAllocatePoolAlignedWithTag( Instance, NonPagedPoolNx, length, FPS_TAG_READ );

    if (buffer == NULL) {

        return STATUS_INSUFFICIENT_RESOURCES;
    }

    offset.QuadPart = 0;

    status = FltReadFile( Instance,
                          FileObject,
                          &offset,
                          length,
                          buffer,
                          FLTFL_IO_OPERATION_NON_CACHED | FLTFL_IO_OPERATION_DO_NOT_UPDATE_BYTE_OFFSET,
                          &bytesRead,
                          NULL,
                          NULL );

    if (status == STATUS_END_OF_FILE) {

        status = STATUS_SUCCESS;
        bytesRead = 0;
    }

    if (NT_SUCCESS( status )) {

        Request->ContentLength = FPS_MIN( bytesRead, (ULONG)FPS_SCAN_BYTES );
        RtlCopyMemory( Request->Content, buffer, Request->ContentLength );

        if (NT_SUCCESS( FltQueryInformationFile( Instance,
                                                 FileObject,
                                                 &standard,
                                                 sizeof( standard ),
                                                 FileStandardInformation,
                                                 NULL ) ) &&
            standard.EndOfFile.QuadPart > FPS_SCAN_BYTES) {

            Request->Flags = (USHORT)(Request->Flags | FPS_SCANF_MORE_CONTENT);
        }
    }

    FltFreePoolAlignedWithTag( Instance, buffer, FPS_TAG_READ );

    return status;
}

static
BOOLEAN
FpspMustBlock (
    _In_ PFPS_SCAN_RESULT Result
    )
{
    return (BOOLEAN)(Result->Outcome == FpsOutcomeVerdict &&
                     Result->Verdict == FpsVerdictBlock &&
                     FpsCommGetMode() == FpsModeBlock);
}

static
ULONG
FpspThreadId (
    _In_ PFLT_CALLBACK_DATA Data
    )
{
    return (Data->Thread != NULL) ? (ULONG)(ULONG_PTR)PsGetThreadId( Data->Thread ) : 0;
}

/* -----------------------------------------------------------------------------------------
 *  Create
 * -------------------------------------------------------------------------------------- */

FLT_PREOP_CALLBACK_STATUS
FLTAPI
FpsPreCreate (
    _Inout_ PFLT_CALLBACK_DATA Data,
    _In_ PCFLT_RELATED_OBJECTS FltObjects,
    _Flt_CompletionContext_Outptr_ PVOID *CompletionContext
    )
/*++

Routine Description:

    Decides whether the post-create should scan. Cheap tests first: most creates on a
    busy system are not for us.

--*/
{
    NTSTATUS status;
    PECP_LIST ecpList = NULL;
    PVOID ecpContext = NULL;

    UNREFERENCED_PARAMETER( FltObjects );

    PAGED_CODE();

    *CompletionContext = NULL;

    //
    //  A rescan request made by FpsOpsRescanPath carries our ECP. Only a kernel-mode
    //  component can attach an ECP to a create, and FltIsEcpFromUserMode rules out a user
    //  caller forging one anyway.
    //
    status = FltGetEcpListFromCallbackData( FpsOps.Filter, Data, &ecpList );

    if (NT_SUCCESS( status ) && ecpList != NULL) {

        status = FltFindExtraCreateParameter( FpsOps.Filter,
                                              ecpList,
                                              &FpsRescanEcpGuid,
                                              &ecpContext,
                                              NULL );

        if (NT_SUCCESS( status ) && !FltIsEcpFromUserMode( FpsOps.Filter, ecpContext )) {

            *CompletionContext = ecpContext;
            return FLT_PREOP_SUCCESS_WITH_CALLBACK;
        }
    }

    if (!FpsCommHasScanners()) {

        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }

    if (FlagOn( Data->Iopb->Parameters.Create.Options, FILE_DIRECTORY_FILE ) ||
        FlagOn( Data->Iopb->OperationFlags, SL_OPEN_PAGING_FILE | SL_OPEN_TARGET_DIRECTORY ) ||
        FlagOn( Data->Iopb->TargetFileObject->Flags, FO_VOLUME_OPEN )) {

        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }

    if (FpsCommIsServiceProcess( (HANDLE)(ULONG_PTR)FltGetRequestorProcessId( Data ) )) {

        FpsCommCount( FpsCounterSkippedServiceProcess );
        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }

    return FLT_PREOP_SUCCESS_WITH_CALLBACK;
}

FLT_POSTOP_CALLBACK_STATUS
FLTAPI
FpsPostCreate (
    _Inout_ PFLT_CALLBACK_DATA Data,
    _In_ PCFLT_RELATED_OBJECTS FltObjects,
    _In_opt_ PVOID CompletionContext,
    _In_ FLT_POST_OPERATION_FLAGS Flags
    )
/*++

Routine Description:

    Scans a file that has just been opened. The Filter Manager calls post-create at
    PASSIVE_LEVEL in the thread that issued the create, so waiting for the service (at
    most the scan timeout) is allowed here.

--*/
{
    NTSTATUS status;
    PFPS_RESCAN_ECP rescan = (PFPS_RESCAN_ECP)CompletionContext;
    PFLT_FILE_NAME_INFORMATION nameInfo = NULL;
    PFPS_STREAM_CONTEXT streamContext = NULL;
    PFPS_SCAN_REQUEST request = NULL;
    FPS_SCAN_RESULT result;
    BOOLEAN isDirectory = FALSE;

    if (FlagOn( Flags, FLTFL_POST_OPERATION_DRAINING ) ||
        !NT_SUCCESS( Data->IoStatus.Status ) ||
        Data->IoStatus.Status == STATUS_REPARSE) {

        //
        //  STATUS_REPARSE is a success code: the create is being redirected, there is no
        //  open file (yet) to scan.
        //
        return FLT_POSTOP_FINISHED_PROCESSING;
    }

    status = FltIsDirectory( FltObjects->FileObject, FltObjects->Instance, &isDirectory );

    if (!NT_SUCCESS( status ) || isDirectory) {

        return FLT_POSTOP_FINISHED_PROCESSING;
    }

    status = FltGetFileNameInformation( Data,
                                        FLT_FILE_NAME_NORMALIZED | FLT_FILE_NAME_QUERY_DEFAULT,
                                        &nameInfo );

    if (!NT_SUCCESS( status )) {

        if (rescan != NULL) {

            rescan->Scanned = TRUE;
            rescan->Status = status;
        }

        return FLT_POSTOP_FINISHED_PROCESSING;
    }

    (VOID)FltParseFileNameInformation( nameInfo );

    if (rescan == NULL && !FpspIsWatchedExtension( &nameInfo->Extension )) {

        FltReleaseFileNameInformation( nameInfo );
        return FLT_POSTOP_FINISHED_PROCESSING;
    }

    streamContext = FpspGetOrCreateStreamContext( FltObjects, &nameInfo->Name );

    //
    //  2 KB: too much for a file system filter's share of the kernel stack.
    //
    request = ExAllocatePoolZero( NonPagedPoolNx, sizeof( FPS_SCAN_REQUEST ), FPS_TAG_MESSAGE );

    if (request == NULL) {

        status = STATUS_INSUFFICIENT_RESOURCES;
        goto Cleanup;
    }

    FpspFillIdentity( request,
                      (USHORT)(rescan != NULL ? FpsOpRescan : FpsOpCreate),
                      streamContext,
                      &nameInfo->Name,
                      FltGetRequestorProcessId( Data ),
                      FpspThreadId( Data ) );

    status = FpspReadHead( FltObjects->Instance, FltObjects->FileObject, request );

    if (!NT_SUCCESS( status )) {

        goto Cleanup;
    }

    FpsSendScanRequest( request, &result );
    status = FpsCommOutcomeToStatus( &result );

    if (FpspMustBlock( &result )) {

        //
        //  The file system has opened the file; undo that, then fail the create.
        //
        FltCancelFileOpen( FltObjects->Instance, FltObjects->FileObject );
        Data->IoStatus.Status = STATUS_ACCESS_DENIED;
        Data->IoStatus.Information = 0;
        FpsCommCount( FpsCounterEnforcedBlocks );

    } else if (result.Outcome == FpsOutcomeVerdict && result.Verdict == FpsVerdictBlock) {

        FpsTrace( DPFLTR_INFO_LEVEL, "audit: BLOCK verdict (reason %lu) for %wZ\n",
                  result.Reason, &nameInfo->Name );
    }

Cleanup:

    if (rescan != NULL) {

        rescan->Scanned = TRUE;
        rescan->Status = status;
    }

    if (request != NULL) {

        ExFreePoolWithTag( request, FPS_TAG_MESSAGE );
    }

    if (streamContext != NULL) {

        FltReleaseContext( streamContext );
    }

    FltReleaseFileNameInformation( nameInfo );

    return FLT_POSTOP_FINISHED_PROCESSING;
}

/* -----------------------------------------------------------------------------------------
 *  Write
 * -------------------------------------------------------------------------------------- */

static
VOID
FpspQueueAsyncScan (
    _In_ PFLT_CALLBACK_DATA Data,
    _In_ PFPS_STREAM_CONTEXT StreamContext
    )
/*++

Routine Description:

    Copies the start of a paging write and queues a work item that sends it to the
    scanner later. Runs at <= APC_LEVEL in whatever thread is writing pages out, so it
    allocates non-paged memory, never waits, and gives up (counting it) rather than
    queue without bound.

--*/
{
    PFPS_ASYNC_SCAN scan;
    PVOID buffer;
    ULONG length = Data->Iopb->Parameters.Write.Length;

    if (!ExAcquireRundownProtection( &FpsOps.AsyncRundown )) {

        FpsCommCount( FpsCounterAsyncDropped );
        return;
    }

    if (InterlockedIncrement( &FpsOps.AsyncInFlight ) > FPS_MAX_ASYNC_SCANS) {

        goto Drop;
    }

    //
    //  Paging I/O always comes with an MDL.
    //
    if (Data->Iopb->Parameters.Write.MdlAddress == NULL) {

        goto Drop;
    }

    buffer = MmGetSystemAddressForMdlSafe( Data->Iopb->Parameters.Write.MdlAddress,
                                           NormalPagePriority | MdlMappingNoExecute );

    if (buffer == NULL) {

        goto Drop;
    }

    scan = ExAllocatePoolZero( NonPagedPoolNx, sizeof( FPS_ASYNC_SCAN ), FPS_TAG_WORK );

    if (scan == NULL) {

        goto Drop;
    }

    scan->WorkItem = FltAllocateGenericWorkItem();

    if (scan->WorkItem == NULL) {

        ExFreePoolWithTag( scan, FPS_TAG_WORK );
        goto Drop;
    }

    scan->Captured = FPS_MIN( length, (ULONG)FPS_SCAN_BYTES );
    RtlCopyMemory( scan->Content, buffer, scan->Captured );
    scan->WriteLength = length;
    scan->Offset = Data->Iopb->Parameters.Write.ByteOffset.QuadPart;
    scan->ProcessId = FltGetRequestorProcessId( Data );
    scan->ThreadId = FpspThreadId( Data );

    FltReferenceContext( StreamContext );
    scan->StreamContext = StreamContext;

    if (!NT_SUCCESS( FltQueueGenericWorkItem( scan->WorkItem,
                                              FpsOps.Filter,
                                              FpspAsyncScanWorker,
                                              DelayedWorkQueue,
                                              scan ) )) {

        FltReleaseContext( StreamContext );
        FltFreeGenericWorkItem( scan->WorkItem );
        ExFreePoolWithTag( scan, FPS_TAG_WORK );
        goto Drop;
    }

    return;

Drop:

    InterlockedDecrement( &FpsOps.AsyncInFlight );
    ExReleaseRundownProtection( &FpsOps.AsyncRundown );
    FpsCommCount( FpsCounterAsyncDropped );
}

static
VOID
FLTAPI
FpspAsyncScanWorker (
    _In_ PFLT_GENERIC_WORKITEM WorkItem,
    _In_ PVOID FltObject,
    _In_opt_ PVOID Context
    )
{
    PFPS_ASYNC_SCAN scan = (PFPS_ASYNC_SCAN)Context;
    PFPS_SCAN_REQUEST request;
    FPS_SCAN_RESULT result;

    UNREFERENCED_PARAMETER( FltObject );

    PAGED_CODE();

    request = ExAllocatePoolZero( NonPagedPoolNx, sizeof( FPS_SCAN_REQUEST ), FPS_TAG_MESSAGE );

    if (request != NULL) {

        FpspFillIdentity( request,
                          FpsOpWrite,
                          scan->StreamContext,
                          NULL,
                          scan->ProcessId,
                          scan->ThreadId );

        request->Flags = (USHORT)(request->Flags | FPS_SCANF_ASYNC);
        request->Offset = scan->Offset;
        request->ContentLength = scan->Captured;
        RtlCopyMemory( request->Content, scan->Content, scan->Captured );

        if (scan->WriteLength > scan->Captured) {

            request->Flags = (USHORT)(request->Flags | FPS_SCANF_MORE_CONTENT);
        }

        FpsCommCount( FpsCounterAsyncScans );
        FpsSendScanRequest( request, &result );

        if (result.Outcome == FpsOutcomeVerdict && result.Verdict == FpsVerdictBlock) {

            FpsTrace( DPFLTR_WARNING_LEVEL,
                      "BLOCK verdict for a paging write to %wZ: cannot be enforced\n",
                      &scan->StreamContext->Name );
        }

        ExFreePoolWithTag( request, FPS_TAG_MESSAGE );
    }

    FltReleaseContext( scan->StreamContext );
    FltFreeGenericWorkItem( WorkItem );
    ExFreePoolWithTag( scan, FPS_TAG_WORK );

    InterlockedDecrement( &FpsOps.AsyncInFlight );
    ExReleaseRundownProtection( &FpsOps.AsyncRundown );
}

FLT_PREOP_CALLBACK_STATUS
FLTAPI
FpsPreWrite (
    _Inout_ PFLT_CALLBACK_DATA Data,
    _In_ PCFLT_RELATED_OBJECTS FltObjects,
    _Flt_CompletionContext_Outptr_ PVOID *CompletionContext
    )
/*++

Routine Description:

    Scans the start of the data being written to a watched file. Not pageable: paging
    writes come through here at up to APC_LEVEL.

--*/
{
    NTSTATUS status;
    FLT_PREOP_CALLBACK_STATUS returnStatus = FLT_PREOP_SUCCESS_NO_CALLBACK;
    PFPS_STREAM_CONTEXT streamContext = NULL;
    PFPS_SCAN_REQUEST request = NULL;
    FPS_SCAN_RESULT result;
    ULONG length = Data->Iopb->Parameters.Write.Length;
    PVOID buffer;

    *CompletionContext = NULL;

    if (length == 0 || !FpsCommHasScanners()) {

        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }

    //
    //  Watched files are exactly those that got a stream context at open.
    //
    status = FltGetStreamContext( FltObjects->Instance,
                                  FltObjects->FileObject,
                                  (PFLT_CONTEXT *)&streamContext );

    if (!NT_SUCCESS( status )) {

        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }

    InterlockedExchange( &streamContext->Dirty, 1 );

    if (FLT_IS_FASTIO_OPERATION( Data )) {

        //
        //  Have the I/O manager send an IRP instead, which can wait for the verdict.
        //
        returnStatus = FLT_PREOP_DISALLOW_FASTIO;
        goto Cleanup;
    }

    if (FlagOn( Data->Iopb->IrpFlags, IRP_PAGING_IO ) || KeGetCurrentIrql() != PASSIVE_LEVEL) {

        //
        //  The lazy writer flushes data that was scanned when it was written into the
        //  cache; everything else (mapped-page writer, explicit flushes of mapped views) is
        //  data this filter has never seen.
        //
        if (IoGetTopLevelIrp() != (PIRP)FSRTL_CACHE_TOP_LEVEL_IRP) {

            FpspQueueAsyncScan( Data, streamContext );
        }

        goto Cleanup;
    }

    if (FpsCommIsServiceProcess( (HANDLE)(ULONG_PTR)FltGetRequestorProcessId( Data ) )) {

        FpsCommCount( FpsCounterSkippedServiceProcess );
        goto Cleanup;
    }

    request = ExAllocatePoolZero( NonPagedPoolNx, sizeof( FPS_SCAN_REQUEST ), FPS_TAG_MESSAGE );

    if (request == NULL) {

        goto Cleanup;
    }

    FpspFillIdentity( request,
                      FpsOpWrite,
                      streamContext,
                      NULL,
                      FltGetRequestorProcessId( Data ),
                      FpspThreadId( Data ) );

    request->Offset = Data->Iopb->Parameters.Write.ByteOffset.QuadPart;
    request->ContentLength = FPS_MIN( length, (ULONG)FPS_SCAN_BYTES );

    if (length > FPS_SCAN_BYTES) {

        request->Flags = (USHORT)(request->Flags | FPS_SCANF_MORE_CONTENT);
    }

    if (Data->Iopb->Parameters.Write.MdlAddress != NULL) {

        buffer = MmGetSystemAddressForMdlSafe( Data->Iopb->Parameters.Write.MdlAddress,
                                               NormalPagePriority | MdlMappingNoExecute );

        if (buffer == NULL) {

            //
            //  Out of system PTEs: let the write go on unscanned rather than fail it.
            //
            goto Cleanup;
        }

        RtlCopyMemory( request->Content, buffer, request->ContentLength );

    } else {

        //
        //  A raw user buffer: this thread is the requestor, so the address is valid in
        //  this context, but its pages may be gone or protected. Copy under __try.
        //
        __try {

            RtlCopyMemory( request->Content,
                           Data->Iopb->Parameters.Write.WriteBuffer,
                           request->ContentLength );

        } __except (EXCEPTION_EXECUTE_HANDLER) {

            Data->IoStatus.Status = GetExceptionCode();
            Data->IoStatus.Information = 0;
            returnStatus = FLT_PREOP_COMPLETE;
        }

        if (returnStatus == FLT_PREOP_COMPLETE) {

            goto Cleanup;
        }
    }

    FpsSendScanRequest( request, &result );

    if (FpspMustBlock( &result )) {

        Data->IoStatus.Status = STATUS_ACCESS_DENIED;
        Data->IoStatus.Information = 0;
        returnStatus = FLT_PREOP_COMPLETE;
        FpsCommCount( FpsCounterEnforcedBlocks );
    }

Cleanup:

    if (request != NULL) {

        ExFreePoolWithTag( request, FPS_TAG_MESSAGE );
    }

    FltReleaseContext( streamContext );

    return returnStatus;
}

/* -----------------------------------------------------------------------------------------
 *  Cleanup
 * -------------------------------------------------------------------------------------- */

FLT_PREOP_CALLBACK_STATUS
FLTAPI
FpsPreCleanup (
    _Inout_ PFLT_CALLBACK_DATA Data,
    _In_ PCFLT_RELATED_OBJECTS FltObjects,
    _Flt_CompletionContext_Outptr_ PVOID *CompletionContext
    )
/*++

Routine Description:

    Last handle of a file object is closing: if the file was written since the last scan,
    scan its start once more. The verdict cannot fail a cleanup; it is recorded.

--*/
{
    NTSTATUS status;
    PFPS_STREAM_CONTEXT streamContext = NULL;
    PFPS_SCAN_REQUEST request;
    FPS_SCAN_RESULT result;

    PAGED_CODE();

    *CompletionContext = NULL;

    if (!FpsCommHasScanners()) {

        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }

    status = FltGetStreamContext( FltObjects->Instance,
                                  FltObjects->FileObject,
                                  (PFLT_CONTEXT *)&streamContext );

    if (!NT_SUCCESS( status )) {

        return FLT_PREOP_SUCCESS_NO_CALLBACK;
    }

    //
    //  The service's own cleanup is not scanned, and leaves the file dirty for the next one.
    //
    if (FpsCommIsServiceProcess( (HANDLE)(ULONG_PTR)FltGetRequestorProcessId( Data ) )) {

        FpsCommCount( FpsCounterSkippedServiceProcess );

    } else if (InterlockedExchange( &streamContext->Dirty, 0 ) != 0) {

        request = ExAllocatePoolZero( NonPagedPoolNx, sizeof( FPS_SCAN_REQUEST ), FPS_TAG_MESSAGE );

        if (request != NULL) {

            FpspFillIdentity( request,
                              FpsOpCleanup,
                              streamContext,
                              NULL,
                              FltGetRequestorProcessId( Data ),
                              FpspThreadId( Data ) );

            if (NT_SUCCESS( FpspReadHead( FltObjects->Instance, FltObjects->FileObject, request ) )) {

                FpsSendScanRequest( request, &result );

                if (result.Outcome == FpsOutcomeVerdict && result.Verdict == FpsVerdictBlock) {

                    FpsTrace( DPFLTR_INFO_LEVEL, "BLOCK verdict at cleanup of %wZ (recorded)\n",
                              &streamContext->Name );
                }
            }

            ExFreePoolWithTag( request, FPS_TAG_MESSAGE );
        }
    }

    FltReleaseContext( streamContext );

    return FLT_PREOP_SUCCESS_NO_CALLBACK;
}

VOID
FLTAPI
FpsStreamContextCleanup (
    _In_ PFLT_CONTEXT Context,
    _In_ FLT_CONTEXT_TYPE ContextType
    )
/*++

Routine Description:

    Frees what the stream context points to. Not pageable: for a context allocated from
    non-paged pool the Filter Manager may call this at up to DISPATCH_LEVEL.

--*/
{
    PFPS_STREAM_CONTEXT streamContext = (PFPS_STREAM_CONTEXT)Context;

    UNREFERENCED_PARAMETER( ContextType );

    if (streamContext->Name.Buffer != NULL) {

        ExFreePoolWithTag( streamContext->Name.Buffer, FPS_TAG_CONTEXT_NAME );
        streamContext->Name.Buffer = NULL;
    }
}

/* -----------------------------------------------------------------------------------------
 *  Rescan (mailslot note)
 * -------------------------------------------------------------------------------------- */

NTSTATUS
FpsOpsRescanPath (
    _In_ PCUNICODE_STRING NtPath
    )
/*++

Routine Description:

    Scans a file on request by opening it: the open goes through the whole stack (Instance
    NULL), our PostCreate recognizes it by the ECP, scans it as FpsOpRescan whatever its
    extension, and writes the outcome into the ECP.

    The open asks for FILE_READ_ATTRIBUTES only and shares everything, so it disturbs
    nobody (the content is read non-cached below this filter). It is a kernel-mode open, so
    no access check applies: whoever may write to the mailslot can have ANY file scanned.
    The mailslot's security descriptor is what limits that to SYSTEM, Administrators and
    the configured group; the content goes to the scanner service, not to the note's
    writer, who only learns the outcome.

Return Value:

    The outcome (see FpsCommOutcomeToStatus), STATUS_NOT_FOUND if no instance of this filter
    saw the open (the volume is not attached), or the open's failure.

--*/
{
    NTSTATUS status;
    PECP_LIST ecpList = NULL;
    PFPS_RESCAN_ECP ecp = NULL;
    IO_DRIVER_CREATE_CONTEXT driverContext;
    OBJECT_ATTRIBUTES oa;
    IO_STATUS_BLOCK iosb;
    HANDLE handle = NULL;

    PAGED_CODE();

    if (!FpsCommHasScanners()) {

        return STATUS_PORT_DISCONNECTED;
    }

    status = FltAllocateExtraCreateParameterList( FpsOps.Filter, 0, &ecpList );

    if (!NT_SUCCESS( status )) {

        return status;
    }

    status = FltAllocateExtraCreateParameter( FpsOps.Filter,
                                              &FpsRescanEcpGuid,
                                              sizeof( FPS_RESCAN_ECP ),
                                              0,
                                              NULL,
                                              FPS_TAG_ECP,
                                              (PVOID *)&ecp );

    if (!NT_SUCCESS( status )) {

        goto Cleanup;
    }

    RtlZeroMemory( ecp, sizeof( *ecp ) );
    ecp->Status = STATUS_NOT_FOUND;

    status = FltInsertExtraCreateParameter( FpsOps.Filter, ecpList, ecp );

    if (!NT_SUCCESS( status )) {

        FltFreeExtraCreateParameter( FpsOps.Filter, ecp );
        goto Cleanup;
    }

    IoInitializeDriverCreateContext( &driverContext );
    driverContext.ExtraCreateParameter = ecpList;

    InitializeObjectAttributes( &oa,
                                (PUNICODE_STRING)NtPath,
                                OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE,
                                NULL,
                                NULL );

    status = FltCreateFileEx2( FpsOps.Filter,
                               NULL,
                               &handle,
                               NULL,
                               FILE_READ_ATTRIBUTES | SYNCHRONIZE,
                               &oa,
                               &iosb,
                               NULL,
                               FILE_ATTRIBUTE_NORMAL,
                               FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                               FILE_OPEN,
                               FILE_NON_DIRECTORY_FILE | FILE_SYNCHRONOUS_IO_NONALERT,
                               NULL,
                               0,
                               IO_IGNORE_SHARE_ACCESS_CHECK,
                               &driverContext );

    if (NT_SUCCESS( status )) {

        FltClose( handle );
    }

    //
    //  In block mode a BLOCK verdict cancels our own open (STATUS_ACCESS_DENIED); the ECP
    //  still says what the scanner answered, which is what the note's writer asked.
    //
    if (ecp->Scanned) {

        status = ecp->Status;

    } else if (NT_SUCCESS( status )) {

        status = STATUS_NOT_FOUND;
    }

Cleanup:

    //
    //  Frees the ECP too.
    //
    FltFreeExtraCreateParameterList( FpsOps.Filter, ecpList );

    return status;
}
