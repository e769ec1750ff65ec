/*++

Module Name:

    operations.h

Abstract:

    The I/O side of the sample (operations.c) as seen by driver.c: the operation and
    instance callbacks, the contexts they use and the load/unload entry points. Kernel only:
    fltsim does not run this code.

Environment:

    Kernel mode.

--*/

#ifndef FPS_OPERATIONS_H
#define FPS_OPERATIONS_H

#include "fps.h"

//
//  Per instance (volume): what non-cached reads need to know.
//
typedef struct _FPS_INSTANCE_CONTEXT {

    ULONG SectorSize;

} FPS_INSTANCE_CONTEXT, *PFPS_INSTANCE_CONTEXT;

//
//  Per stream (file) the driver watches, i.e. whose name matched the extension list when
//  it was opened. Non-paged: the paging-write path looks it up, possibly at APC_LEVEL and
//  while the system is writing pages out because memory is short.
//
typedef struct _FPS_STREAM_CONTEXT {

    volatile LONG Dirty;            //  written since it was last scanned at cleanup

    BOOLEAN HaveFileId;
    ULONGLONG VolumeSerialNumber;
    UCHAR FileId[16];

    //
    //  Normalized name at the time the context was created (non-paged, freed by
    //  FpsStreamContextCleanup). A later rename is not reflected: the name is for reports,
    //  the file id is the identity.
    //
    UNICODE_STRING Name;

} FPS_STREAM_CONTEXT, *PFPS_STREAM_CONTEXT;

#define FPS_TAG_INSTANCE_CONTEXT    'iSpF'
#define FPS_TAG_STREAM_CONTEXT      'xSpF'

//
//  Scanning of paging writes happens in system work items (see operations.c); at most
//  this many are queued or running at once, further ones are counted as dropped.
//
#define FPS_MAX_ASYNC_SCANS 16

//
//  Load: takes ownership of Extensions (an array of ExtensionCount strings allocated with
//  FPS_TAG_SETTINGS, each Buffer too), freed by FpsOpsFinalize. An entry "*" watches every
//  file.
//
NTSTATUS
FpsOpsInitialize (
    _In_ PFLT_FILTER Filter,
    _In_reads_opt_(ExtensionCount) PUNICODE_STRING Extensions,
    _In_ ULONG ExtensionCount
    );

//
//  Unload, before FltUnregisterFilter (after FpsCommShutdown): stops queuing work items and
//  waits for the queued ones.
//
VOID
FpsOpsShutdown (
    VOID
    );

//
//  Unload, after FltUnregisterFilter: frees the extension list.
//
VOID
FpsOpsFinalize (
    VOID
    );

FPS_RESCAN_ROUTINE FpsOpsRescanPath;

//
//  Callbacks registered in driver.c.
//

NTSTATUS
FLTAPI
FpsInstanceSetup (
    _In_ PCFLT_RELATED_OBJECTS FltObjects,
    _In_ FLT_INSTANCE_SETUP_FLAGS Flags,
    _In_ DEVICE_TYPE VolumeDeviceType,
    _In_ FLT_FILESYSTEM_TYPE VolumeFilesystemType
    );

NTSTATUS
FLTAPI
FpsInstanceQueryTeardown (
    _In_ PCFLT_RELATED_OBJECTS FltObjects,
    _In_ FLT_INSTANCE_QUERY_TEARDOWN_FLAGS Flags
    );

FLT_PREOP_CALLBACK_STATUS
FLTAPI
FpsPreCreate (
    _Inout_ PFLT_CALLBACK_DATA Data,
    _In_ PCFLT_RELATED_OBJECTS FltObjects,
    _Flt_CompletionContext_Outptr_ PVOID *CompletionContext
    );

FLT_POSTOP_CALLBACK_STATUS
FLTAPI
FpsPostCreate (
    _Inout_ PFLT_CALLBACK_DATA Data,
    _In_ PCFLT_RELATED_OBJECTS FltObjects,
    _In_opt_ PVOID CompletionContext,
    _In_ FLT_POST_OPERATION_FLAGS Flags
    );

FLT_PREOP_CALLBACK_STATUS
FLTAPI
FpsPreWrite (
    _Inout_ PFLT_CALLBACK_DATA Data,
    _In_ PCFLT_RELATED_OBJECTS FltObjects,
    _Flt_CompletionContext_Outptr_ PVOID *CompletionContext
    );

FLT_PREOP_CALLBACK_STATUS
FLTAPI
FpsPreCleanup (
    _Inout_ PFLT_CALLBACK_DATA Data,
    _In_ PCFLT_RELATED_OBJECTS FltObjects,
    _Flt_CompletionContext_Outptr_ PVOID *CompletionContext
    );

VOID
FLTAPI
FpsStreamContextCleanup (
    _In_ PFLT_CONTEXT Context,
    _In_ FLT_CONTEXT_TYPE ContextType
    );

#endif  // FPS_OPERATIONS_H
