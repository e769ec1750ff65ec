/*++

Module Name:

    communication.c

Abstract:

    The sample's user/kernel communication: the scan and control server ports, the
    connection list, the ports' security descriptors, sending scan requests and
    notifications, and the control commands that every build supports (GET_STATS,
    SET_POLICY). The FPS_TEST_CONTROL commands are in testcontrol.c.

    This file is compiled twice: by the WDK into the driver, and by fltsim-host against
    fltsim's fltKernel.h, so that the simulator runs this very code. It therefore knows
    nothing about I/O callbacks, and everything it needs from the driver arrives in
    FPS_SETTINGS.

    Rules this file follows, each for a reason given in spec/port-semantics.md:

    - FltSendMessage always gets the ADDRESS of the connection's ClientPort, the same
      variable FltCloseClientPort sets to NULL (G16).
    - Only STATUS_SUCCESS from FltSendMessage means "the service answered": STATUS_TIMEOUT
      is a success code (G1) and means "no verdict". STATUS_PORT_DISCONNECTED is a normal
      event (the service exited) and is counted, not logged as an error.
    - Every wait is bounded: scan requests use the configured scan timeout, notifications
      FPS_NOTIFY_TIMEOUT_MS (G10).
    - Server ports are closed before FltUnregisterFilter (§7.3).
    - User buffers passed to MessageNotify are raw user addresses: lengths and alignment
      are checked first, and they are touched only inside __try/__except (§5.3).
    - No lock of ours is held while calling into the Filter Manager, so a Filter Manager
      callback that needs the same lock can never deadlock against us.

Environment:

    Kernel mode, PASSIVE_LEVEL unless stated otherwise.

--*/

#include "fps.h"

/* -----------------------------------------------------------------------------------------
 *  Globals
 * -------------------------------------------------------------------------------------- */

typedef struct _FPS_COMM_GLOBALS {

    PFLT_FILTER Filter;

    //
    //  Protects Connections, the role counts and Unloading. Held only for list walks and
    //  updates, never across a call into the Filter Manager.
    //
    EX_PUSH_LOCK ConnectionLock;

    //
    //  Serializes creating and closing the scan and control server ports. Never taken by a
    //  port callback, so it may be held across FltCreateCommunicationPort and
    //  FltCloseCommunicationPort.
    //
    EX_PUSH_LOCK PortLock;

    LIST_ENTRY Connections;         //  FPS_CONNECTION.Link, oldest first
    ULONG ConnectionCount;
    volatile LONG ScannerCount;     //  also read without the lock (FpsCommHasScanners)
    ULONG ControlCount;
    ULONG TestCount;
    volatile LONG Unloading;

    PFLT_PORT ScanServerPort;       //  under PortLock
    PFLT_PORT ControlServerPort;    //  under PortLock

    volatile LONG NextConnectionId;
    volatile LONG RoundRobin;

    volatile LONG Mode;             //  FPS_MODE
    volatile LONG ScanTimeoutMs;
    volatile LONG MailslotRunning;
    volatile LONG LastConnectRejectStatus;

    BOOLEAN HasGroupSid;
    UCHAR GroupSid[FPS_MAX_SID_BYTES];  //  copy of FPS_SETTINGS.AllowedGroupSid

    volatile LONG64 Counters[FPS_COUNTER_SLOTS];

} FPS_COMM_GLOBALS;

static FPS_COMM_GLOBALS FpsComm;

//
//  Every input a control command can have, so that MessageNotify can capture any of them
//  into one kernel buffer before looking at it.
//
typedef union _FPS_CONTROL_INPUT {

    FPS_CONTROL_HEADER Header;
    FPS_CMD_SET_POLICY SetPolicy;
    FPS_CMD_TEST_SEND TestSend;
    FPS_CMD_TEST_GET_RESULTS GetResults;
    FPS_CMD_TEST_RUN_ID RunId;
    FPS_CMD_TEST_TARGET Target;
    FPS_CMD_TEST_SCAN_PORT ScanPort;
    FPS_CMD_TEST_CREATE_PORT CreatePort;
    FPS_CMD_TEST_CLOSE_PORT ClosePort;

} FPS_CONTROL_INPUT;

#define FPS_NOTIFY_MAX_TARGETS 16

/* -----------------------------------------------------------------------------------------
 *  Prototypes
 * -------------------------------------------------------------------------------------- */

static
NTSTATUS
FLTAPI
FpspConnectNotify (
    _In_ PFLT_PORT ClientPort,
    _In_opt_ PVOID ServerPortCookie,
    _In_reads_bytes_opt_(SizeOfContext) PVOID ConnectionContext,
    _In_ ULONG SizeOfContext,
    _Outptr_result_maybenull_ PVOID *ConnectionCookie
    );

static
NTSTATUS
FLTAPI
FpspMessageNotify (
    _In_opt_ PVOID PortCookie,
    _In_reads_bytes_opt_(InputBufferLength) PVOID InputBuffer,
    _In_ ULONG InputBufferLength,
    _Out_writes_bytes_to_opt_(OutputBufferLength, *ReturnOutputBufferLength) PVOID OutputBuffer,
    _In_ ULONG OutputBufferLength,
    _Out_ PULONG ReturnOutputBufferLength
    );

static
NTSTATUS
FpspCreateServerPort (
    _In_ ULONG PortId,
    _Outptr_ PFLT_PORT *ServerPort
    );

static
PFPS_CONNECTION
FpspDetachConnection (
    _In_opt_ PFPS_CONNECTION Connection,
    _In_ ULONG ConnectionId
    );

static
VOID
FpspCloseAllConnections (
    VOID
    );

static
PFPS_CONNECTION
FpspReferenceNextScanner (
    VOID
    );

static
ULONG
FpspAppendAscii (
    _Inout_updates_(Capacity) PWCHAR Buffer,
    _In_ ULONG Capacity,
    _In_ ULONG Used,
    _In_z_ PCSTR Text
    );

static
ULONG
FpspAppendDecimal (
    _Inout_updates_(Capacity) PWCHAR Buffer,
    _In_ ULONG Capacity,
    _In_ ULONG Used,
    _In_ ULONG Value
    );

#ifdef ALLOC_PRAGMA
#pragma alloc_text(PAGE, FpsCommInitialize)
#pragma alloc_text(PAGE, FpsCommShutdown)
#pragma alloc_text(PAGE, FpsCommFinalize)
#pragma alloc_text(PAGE, FpsCommSetPolicy)
#pragma alloc_text(PAGE, FpsCommNotify)
#pragma alloc_text(PAGE, FpsCommBuildSecurityDescriptor)
#pragma alloc_text(PAGE, FpsCommValidateContext)
#pragma alloc_text(PAGE, FpsCommAcceptConnection)
#pragma alloc_text(PAGE, FpsCommDisconnectNotify)
#pragma alloc_text(PAGE, FpsCommCloseConnection)
#pragma alloc_text(PAGE, FpsCommClosePortConnections)
#pragma alloc_text(PAGE, FpsCommScanPortAction)
#pragma alloc_text(PAGE, FpsCommCompleteControl)
#pragma alloc_text(PAGE, FpspConnectNotify)
#pragma alloc_text(PAGE, FpspMessageNotify)
#pragma alloc_text(PAGE, FpspCreateServerPort)
#pragma alloc_text(PAGE, FpspCloseAllConnections)
#endif

/* -----------------------------------------------------------------------------------------
 *  Small helpers
 * -------------------------------------------------------------------------------------- */

static
LONGLONG
FpspNow (
    VOID
    )
{
    LARGE_INTEGER now;

    KeQuerySystemTime( &now );
    return now.QuadPart;
}

static
ULONG
FpspFnv1a (
    _In_reads_bytes_opt_(Length) const UCHAR *Bytes,
    _In_ ULONG Length
    )
/*++

Routine Description:

    32-bit FNV-1a of the bytes. Test ports record it for each connection context so a test
    can check that a context of any size arrived intact without the driver keeping it.

--*/
{
    ULONG hash = 0x811C9DC5u;
    ULONG i;

    for (i = 0; i < Length && Bytes != NULL; i += 1) {

        hash ^= Bytes[i];
        hash *= 0x01000193u;
    }

    return hash;
}

PFLT_FILTER
FpsCommFilter (
    VOID
    )
{
    return FpsComm.Filter;
}

VOID
FpsCommCount (
    _In_ FPS_COUNTER Counter
    )
{
    if ((ULONG)Counter < FPS_COUNTER_SLOTS) {

        InterlockedIncrement64( &FpsComm.Counters[Counter] );
    }
}

VOID
FpsCommSetMailslotRunning (
    _In_ BOOLEAN Running
    )
{
    InterlockedExchange( &FpsComm.MailslotRunning, Running ? 1 : 0 );
}

BOOLEAN
FpsCommHasScanners (
    VOID
    )
{
    return (BOOLEAN)(FpsComm.ScannerCount > 0);
}

ULONG
FpsCommGetMode (
    VOID
    )
{
    return (ULONG)FpsComm.Mode;
}

ULONG
FpsCommUserBufferAlignment (
    VOID
    )
/*++

Routine Description:

    The alignment MessageNotify requires of a caller's buffers. The Filter Manager does not
    check alignment (it probes, but a try/except does not catch alignment faults on every
    architecture), so the receiver must. As in Microsoft's minispy sample, a 32-bit process
    on a 64-bit system only has to align to 4, everything else to the pointer size.

--*/
{
#if defined(_WIN64)
    if (IoIs32bitProcess( NULL )) {

        return sizeof( ULONG );
    }
#endif

    return sizeof( PVOID );
}

/* -----------------------------------------------------------------------------------------
 *  Initialization and shutdown
 * -------------------------------------------------------------------------------------- */

NTSTATUS
FpsCommInitialize (
    _In_ PFLT_FILTER Filter,
    _In_ PCFPS_SETTINGS Settings
    )
/*++

Routine Description:

    Sets up the connection list and policy and creates the scan and control ports.

    Whatever it returns, the caller must call FpsCommShutdown before FltUnregisterFilter and
    FpsCommFinalize after it: if the control port fails, the scan port already existed and a
    client may have connected to it, and FltUnregisterFilter will call DisconnectNotify for
    that connection, which needs the lock. The locks are set up first, so both calls work
    on a half-initialized state.

Arguments:

    Filter - the filter the ports belong to.

    Settings - load-time settings. AllowedGroupSid, if given, must be a valid SID: an
        invalid one fails the load rather than silently leaving the service unable to
        connect.

Return Value:

    STATUS_SUCCESS or the first failure.

--*/
{
    NTSTATUS status = STATUS_SUCCESS;
    ULONG sidLength;

    PAGED_CODE();

    RtlZeroMemory( &FpsComm, sizeof( FpsComm ) );

    FpsComm.Filter = Filter;
    InitializeListHead( &FpsComm.Connections );
    FltInitializePushLock( &FpsComm.ConnectionLock );
    FltInitializePushLock( &FpsComm.PortLock );

#if defined(FPS_TEST_CONTROL)
    FpsTestInitialize();
#endif

    FpsComm.Mode = (Settings->Mode == FpsModeBlock) ? FpsModeBlock : FpsModeAudit;

    if (Settings->ScanTimeoutMs >= FPS_MIN_SCAN_TIMEOUT_MS &&
        Settings->ScanTimeoutMs <= FPS_MAX_SCAN_TIMEOUT_MS) {

        FpsComm.ScanTimeoutMs = (LONG)Settings->ScanTimeoutMs;

    } else {

        FpsComm.ScanTimeoutMs = FPS_DEFAULT_SCAN_TIMEOUT_MS;
    }

    if (Settings->AllowedGroupSid != NULL) {

        sidLength = FpsCommSidLength( Settings->AllowedGroupSid, sizeof( FpsComm.GroupSid ) );

        if (sidLength == 0) {

            FpsTrace( DPFLTR_ERROR_LEVEL, "AllowedGroupSid is not a valid SID\n" );
            status = STATUS_INVALID_SID;
            goto Cleanup;
        }

        RtlCopyMemory( FpsComm.GroupSid, Settings->AllowedGroupSid, sidLength );
        FpsComm.HasGroupSid = TRUE;
    }

    status = FpspCreateServerPort( FPS_PORT_ID_SCAN, &FpsComm.ScanServerPort );

    if (!NT_SUCCESS( status )) {

        goto Cleanup;
    }

    status = FpspCreateServerPort( FPS_PORT_ID_CONTROL, &FpsComm.ControlServerPort );

Cleanup:

    return status;
}

VOID
FpsCommShutdown (
    VOID
    )
/*++

Routine Description:

    First half of unload, called BEFORE FltUnregisterFilter.

    1. Refuse new connections and sends (Unloading).
    2. Close the server ports: their names disappear and FltUnregisterFilter will not wait
       for them (spec §7.3).
    3. Stop test runs from starting more messages.
    4. Close every client port. Any FltSendMessage waiting on one - a scan request in the
       I/O path, a notification, a test sender - returns STATUS_PORT_DISCONNECTED now
       instead of at the end of its timeout.
    5. Wait for the test senders to exit.

    Operation callbacks keep running until FltUnregisterFilter returns; they find no
    scanner and let the I/O through.

--*/
{
    PAGED_CODE();

    FltAcquirePushLockExclusive( &FpsComm.ConnectionLock );
    InterlockedExchange( &FpsComm.Unloading, 1 );
    FltReleasePushLock( &FpsComm.ConnectionLock );

    FltAcquirePushLockExclusive( &FpsComm.PortLock );

    if (FpsComm.ScanServerPort != NULL) {

        FltCloseCommunicationPort( FpsComm.ScanServerPort );
        FpsComm.ScanServerPort = NULL;
    }

    if (FpsComm.ControlServerPort != NULL) {

        FltCloseCommunicationPort( FpsComm.ControlServerPort );
        FpsComm.ControlServerPort = NULL;
    }

    FltReleasePushLock( &FpsComm.PortLock );

#if defined(FPS_TEST_CONTROL)
    FpsTestCancelAll();
#endif

    FpspCloseAllConnections();

#if defined(FPS_TEST_CONTROL)
    FpsTestShutdown();
#endif
}

VOID
FpsCommFinalize (
    VOID
    )
/*++

Routine Description:

    Second half of unload, called AFTER FltUnregisterFilter: no port callback or operation
    callback can run any more, so the locks can go.

--*/
{
    PAGED_CODE();

    FLT_ASSERT( IsListEmpty( &FpsComm.Connections ) );

#if defined(FPS_TEST_CONTROL)
    FpsTestFinalize();
#endif

    FltDeletePushLock( &FpsComm.PortLock );
    FltDeletePushLock( &FpsComm.ConnectionLock );
}

/* -----------------------------------------------------------------------------------------
 *  Security descriptors
 * -------------------------------------------------------------------------------------- */

ULONG
FpsCommSidLength (
    _In_reads_bytes_(BufferLength) PSID Sid,
    _In_ ULONG BufferLength
    )
/*++

Routine Description:

    Returns the length of a well-formed SID that fits in BufferLength bytes, or 0. Reads
    nothing beyond BufferLength: the header (8 bytes) first, then the sub-authorities the
    header announces.

--*/
{
    ULONG length;

    if (Sid == NULL || BufferLength < 8) {

        return 0;
    }

#if defined(FLTSIM)
    //
    //  fltsim declares no Rtl SID routines: read the binary form directly
    //  (Revision, SubAuthorityCount, IdentifierAuthority[6], SubAuthority[]).
    //
    if (((const UCHAR *)Sid)[0] != 1 || ((const UCHAR *)Sid)[1] > 15) {

        return 0;
    }

    length = 8 + 4 * (ULONG)((const UCHAR *)Sid)[1];
#else
    if (!RtlValidSid( Sid )) {

        return 0;
    }

    length = RtlLengthSid( Sid );
#endif

    return (length <= BufferLength) ? length : 0;
}

//
//  The principal a security mode adds to the default descriptor, if any: the same rule for
//  the WDK and fltsim builders below.
//
static
NTSTATUS
FpspSecurityExtraSid (
    _In_ ULONG Mode,
    _In_opt_ PSID GroupSid,
    _Outptr_result_maybenull_ PSID *ExtraSid
    )
{
    PSID configured = FpsComm.HasGroupSid ? (PSID)FpsComm.GroupSid : NULL;

    *ExtraSid = NULL;

    switch (Mode) {

        case FpsSecurityAdminOnly:
        case FpsSecuritySystemOnly:
            return STATUS_SUCCESS;

        case FpsSecurityDefault:
            *ExtraSid = configured;
            return STATUS_SUCCESS;

        case FpsSecurityWithGroup:
            *ExtraSid = (GroupSid != NULL) ? GroupSid : configured;
            return (*ExtraSid != NULL) ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;

        default:
            return STATUS_INVALID_PARAMETER;
    }
}

#if defined(FLTSIM)

//
//  fltsim models principals as Unix users and groups (<fltsim/extensions.h>): its default
//  descriptor stands for SYSTEM + Administrators (uid 0 and the simulator's own uid), and
//  one more principal is added as a uid or a gid. A SID names one when it is a Unix user
//  or group SID, S-1-22-1-<uid> or S-1-22-2-<gid> (the form Samba uses). Other SIDs have no
//  counterpart there and are refused with STATUS_NOT_SUPPORTED, as is
//  FpsSecuritySystemOnly (fltsim cannot take the simulator's own uid out).
//

static
NTSTATUS
FpspSimulatedPrincipal (
    _In_ PSID Sid,
    _Out_ PBOOLEAN IsGroup,
    _Out_ PULONG Id
    )
{
    const UCHAR *bytes = (const UCHAR *)Sid;
    ULONG kind;

    *IsGroup = FALSE;
    *Id = 0;

    //
    //  Two sub-authorities, identifier authority 0-0-0-0-0-22.
    //
    if (FpsCommSidLength( Sid, 16 ) != 16 ||
        bytes[2] != 0 || bytes[3] != 0 || bytes[4] != 0 ||
        bytes[5] != 0 || bytes[6] != 0 || bytes[7] != 22) {

        return STATUS_NOT_SUPPORTED;
    }

    RtlCopyMemory( &kind, bytes + 8, sizeof( ULONG ) );
    RtlCopyMemory( Id, bytes + 12, sizeof( ULONG ) );

    if (kind != 1 && kind != 2) {

        return STATUS_NOT_SUPPORTED;
    }

    *IsGroup = (BOOLEAN)(kind == 2);
    return STATUS_SUCCESS;
}

NTSTATUS
FpsCommBuildSecurityDescriptor (
    _In_ ULONG Mode,
    _In_ ACCESS_MASK AdminAccess,
    _In_ ACCESS_MASK GroupAccess,
    _In_opt_ PSID GroupSid,
    _Outptr_ PSECURITY_DESCRIPTOR *SecurityDescriptor
    )
/*++

Routine Description:

    fltsim version of the builder below: same modes, same "never a NULL DACL" rule, with
    fltsim's principals. GroupAccess is not modelled by fltsim (a listed principal may
    connect); it is accepted for the same signature.

--*/
{
    NTSTATUS status;
    PSECURITY_DESCRIPTOR sd = NULL;
    PSID extraSid = NULL;
    BOOLEAN isGroup;
    ULONG id;

    UNREFERENCED_PARAMETER( GroupAccess );

    *SecurityDescriptor = NULL;

    status = FpspSecurityExtraSid( Mode, GroupSid, &extraSid );

    if (!NT_SUCCESS( status )) {

        return status;
    }

    if (Mode == FpsSecuritySystemOnly) {

        return STATUS_NOT_SUPPORTED;
    }

    status = FltBuildDefaultSecurityDescriptor( &sd, AdminAccess );

    if (!NT_SUCCESS( status )) {

        return status;
    }

    if (extraSid != NULL) {

        status = FpspSimulatedPrincipal( extraSid, &isGroup, &id );

        if (NT_SUCCESS( status )) {

            status = isGroup ? FltsimSecurityDescriptorAllowGid( sd, id ) :
                               FltsimSecurityDescriptorAllowUid( sd, id );
        }

        if (!NT_SUCCESS( status )) {

            FltFreeSecurityDescriptor( sd );
            return status;
        }
    }

    *SecurityDescriptor = sd;
    return STATUS_SUCCESS;
}

VOID
FpsCommFreeSecurityDescriptor (
    _In_ PSECURITY_DESCRIPTOR SecurityDescriptor
    )
{
    FltFreeSecurityDescriptor( SecurityDescriptor );
}

#else   // WDK

NTSTATUS
FpsCommBuildSecurityDescriptor (
    _In_ ULONG Mode,
    _In_ ACCESS_MASK AdminAccess,
    _In_ ACCESS_MASK GroupAccess,
    _In_opt_ PSID GroupSid,
    _Outptr_ PSECURITY_DESCRIPTOR *SecurityDescriptor
    )
/*++

Routine Description:

    Builds the security descriptor for a port or the mailslot.

    The starting point is FltBuildDefaultSecurityDescriptor: a DACL that grants AdminAccess
    to LocalSystem and BUILTIN\Administrators only. A service that should not have to run
    elevated is admitted by adding ONE access-allowed ACE for a group it belongs to, with
    only the access it needs (FLT_PORT_CONNECT for a port). The widely copied alternative,
    RtlSetDaclSecurityDescriptor(sd, TRUE, NULL, FALSE), is a NULL DACL: every process on
    the machine could connect, take the connection slots, read file names and content, and
    answer verdicts (spec §7.4). This function never produces one: a default descriptor
    without a DACL is treated as an error.

    The result is one pool block: an absolute SECURITY_DESCRIPTOR followed by its ACL.

Arguments:

    Mode - FPS_SECURITY_MODE.

    AdminAccess - access for SYSTEM and Administrators (FLT_PORT_ALL_ACCESS for ports).

    GroupAccess - access for the extra group (FLT_PORT_CONNECT for ports).

    GroupSid - FpsSecurityWithGroup only: the group to add instead of the configured one.

    SecurityDescriptor - receives the descriptor; free with FpsCommFreeSecurityDescriptor.

Return Value:

    STATUS_SUCCESS, STATUS_INVALID_PARAMETER (unknown mode, or WithGroup without any group),
    STATUS_INVALID_SECURITY_DESCR (the default descriptor had no DACL), or an allocation or
    Rtl* failure.

--*/
{
    NTSTATUS status;
    PSECURITY_DESCRIPTOR defaultSd = NULL;
    PACL defaultDacl = NULL;
    BOOLEAN daclPresent = FALSE;
    BOOLEAN daclDefaulted = FALSE;
    PSID extraSid = NULL;
    ULONG aclSize;
    ULONG i;
    PVOID ace;
    PUCHAR block = NULL;
    PSECURITY_DESCRIPTOR sd;
    PACL acl;
    UCHAR systemSidBuffer[FPS_MAX_SID_BYTES];
    SID_IDENTIFIER_AUTHORITY ntAuthority = SECURITY_NT_AUTHORITY;

    PAGED_CODE();

    *SecurityDescriptor = NULL;

    status = FpspSecurityExtraSid( Mode, GroupSid, &extraSid );

    if (!NT_SUCCESS( status )) {

        return status;
    }

    aclSize = sizeof( ACL );

    if (Mode == FpsSecuritySystemOnly) {

        //
        //  S-1-5-18. Built here rather than taken from SeExports so that the same code
        //  runs under fltsim.
        //
        status = RtlInitializeSid( (PSID)systemSidBuffer, &ntAuthority, 1 );

        if (!NT_SUCCESS( status )) {

            return status;
        }

        *RtlSubAuthoritySid( (PSID)systemSidBuffer, 0 ) = SECURITY_LOCAL_SYSTEM_RID;
        aclSize += (ULONG)(FIELD_OFFSET( ACCESS_ALLOWED_ACE, SidStart ) +
                           RtlLengthSid( (PSID)systemSidBuffer ));

    } else {

        status = FltBuildDefaultSecurityDescriptor( &defaultSd, AdminAccess );

        if (!NT_SUCCESS( status )) {

            return status;
        }

        status = RtlGetDaclSecurityDescriptor( defaultSd,
                                               &daclPresent,
                                               &defaultDacl,
                                               &daclDefaulted );

        if (!NT_SUCCESS( status )) {

            goto Cleanup;
        }

        if (!daclPresent || defaultDacl == NULL) {

            //
            //  Copying this would hand out a NULL DACL. Refuse.
            //
            status = STATUS_INVALID_SECURITY_DESCR;
            goto Cleanup;
        }

        for (i = 0; i < defaultDacl->AceCount; i += 1) {

            status = RtlGetAce( defaultDacl, i, &ace );

            if (!NT_SUCCESS( status )) {

                goto Cleanup;
            }

            aclSize += ((PACE_HEADER)ace)->AceSize;
        }

        if (extraSid != NULL) {

            aclSize += (ULONG)(FIELD_OFFSET( ACCESS_ALLOWED_ACE, SidStart ) +
                               RtlLengthSid( extraSid ));
        }
    }

    //
    //  ACL sizes are USHORTs and ACEs must stay DWORD-aligned.
    //
    aclSize = (aclSize + (ULONG)sizeof( ULONG ) - 1) & ~((ULONG)sizeof( ULONG ) - 1);

    if (aclSize > 0xFFFC) {

        status = STATUS_INVALID_PARAMETER;
        goto Cleanup;
    }

    block = ExAllocatePoolZero( PagedPool,
                                sizeof( SECURITY_DESCRIPTOR ) + aclSize,
                                FPS_TAG_SECURITY );

    if (block == NULL) {

        status = STATUS_INSUFFICIENT_RESOURCES;
        goto Cleanup;
    }

    sd = (PSECURITY_DESCRIPTOR)block;
    acl = (PACL)(block + sizeof( SECURITY_DESCRIPTOR ));

    status = RtlCreateSecurityDescriptor( sd, SECURITY_DESCRIPTOR_REVISION );

    if (!NT_SUCCESS( status )) {

        goto Cleanup;
    }

    status = RtlCreateAcl( acl, aclSize, ACL_REVISION );

    if (!NT_SUCCESS( status )) {

        goto Cleanup;
    }

    if (Mode == FpsSecuritySystemOnly) {

        status = RtlAddAccessAllowedAce( acl, ACL_REVISION, AdminAccess, (PSID)systemSidBuffer );

        if (!NT_SUCCESS( status )) {

            goto Cleanup;
        }

    } else {

        //
        //  Keep the default ACEs as they are (their order included), then add ours.
        //
        for (i = 0; i < defaultDacl->AceCount; i += 1) {

            status = RtlGetAce( defaultDacl, i, &ace );

            if (NT_SUCCESS( status )) {

                status = RtlAddAce( acl,
                                    ACL_REVISION,
                                    0xFFFFFFFF,     //  MAXULONG: append
                                    ace,
                                    ((PACE_HEADER)ace)->AceSize );
            }

            if (!NT_SUCCESS( status )) {

                goto Cleanup;
            }
        }

        if (extraSid != NULL) {

            status = RtlAddAccessAllowedAce( acl, ACL_REVISION, GroupAccess, extraSid );

            if (!NT_SUCCESS( status )) {

                goto Cleanup;
            }
        }
    }

    status = RtlSetDaclSecurityDescriptor( sd, TRUE, acl, FALSE );

    if (NT_SUCCESS( status )) {

        *SecurityDescriptor = sd;
        block = NULL;
    }

Cleanup:

    if (block != NULL) {

        ExFreePoolWithTag( block, FPS_TAG_SECURITY );
    }

    if (defaultSd != NULL) {

        FltFreeSecurityDescriptor( defaultSd );
    }

    return status;
}

VOID
FpsCommFreeSecurityDescriptor (
    _In_ PSECURITY_DESCRIPTOR SecurityDescriptor
    )
{
    ExFreePoolWithTag( SecurityDescriptor, FPS_TAG_SECURITY );
}

#endif  // FLTSIM

static
NTSTATUS
FpspCreateServerPort (
    _In_ ULONG PortId,
    _Outptr_ PFLT_PORT *ServerPort
    )
/*++

Routine Description:

    Creates the scan or the control server port. Both allow SYSTEM, Administrators and the
    configured group (connect only). The port id travels as the server port cookie, so
    ConnectNotify knows which port is being connected to without a pointer that could
    outlive its object.

--*/
{
    NTSTATUS status;
    PSECURITY_DESCRIPTOR sd;
    OBJECT_ATTRIBUTES oa;
    UNICODE_STRING name;
    LONG maxConnections;

    PAGED_CODE();

    *ServerPort = NULL;

    if (PortId == FPS_PORT_ID_SCAN) {

        RtlInitUnicodeString( &name, FPS_SCAN_PORT_NAME );
        maxConnections = FPS_MAX_SCANNER_CONNECTIONS;

    } else {

        RtlInitUnicodeString( &name, FPS_CONTROL_PORT_NAME );
        maxConnections = FPS_MAX_CONTROL_CONNECTIONS;
    }

    status = FpsCommBuildSecurityDescriptor( FpsSecurityDefault,
                                             FLT_PORT_ALL_ACCESS,
                                             FLT_PORT_CONNECT,
                                             NULL,
                                             &sd );

    if (!NT_SUCCESS( status )) {

        return status;
    }

    //
    //  OBJ_KERNEL_HANDLE is required: the server port handle must not be usable from the
    //  process that happens to be current (spec §7.1).
    //
    InitializeObjectAttributes( &oa,
                                &name,
                                OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
                                NULL,
                                sd );

    status = FltCreateCommunicationPort( FpsComm.Filter,
                                         ServerPort,
                                         &oa,
                                         (PVOID)(ULONG_PTR)PortId,
                                         FpspConnectNotify,
                                         FpsCommDisconnectNotify,
                                         FpspMessageNotify,
                                         maxConnections );

    //
    //  The port keeps its own copy of the descriptor.
    //
    FpsCommFreeSecurityDescriptor( sd );

    if (!NT_SUCCESS( status )) {

        FpsTrace( DPFLTR_ERROR_LEVEL, "FltCreateCommunicationPort for port %u failed 0x%08X\n",
                  PortId, (ULONG)status );
        *ServerPort = NULL;
    }

    return status;
}

NTSTATUS
FpsCommScanPortAction (
    _In_ ULONG Action,
    _Out_ PBOOLEAN IsOpen
    )
/*++

Routine Description:

    Closes and/or re-creates the scan server port (test control). Closing it only removes
    the name: connections made through it stay (spec §7.3).

--*/
{
    NTSTATUS status = STATUS_SUCCESS;

    PAGED_CODE();

    FltAcquirePushLockExclusive( &FpsComm.PortLock );

    if (FpsComm.Unloading) {

        status = STATUS_FLT_DELETING_OBJECT;

    } else {

        if ((Action == FpsPortClose || Action == FpsPortReopen) &&
            FpsComm.ScanServerPort != NULL) {

            FltCloseCommunicationPort( FpsComm.ScanServerPort );
            FpsComm.ScanServerPort = NULL;
        }

        if ((Action == FpsPortOpen || Action == FpsPortReopen) &&
            FpsComm.ScanServerPort == NULL) {

            status = FpspCreateServerPort( FPS_PORT_ID_SCAN, &FpsComm.ScanServerPort );
        }
    }

    *IsOpen = (BOOLEAN)(FpsComm.ScanServerPort != NULL);

    FltReleasePushLock( &FpsComm.PortLock );

    return status;
}

/* -----------------------------------------------------------------------------------------
 *  Connections
 * -------------------------------------------------------------------------------------- */

VOID
FpsCommRecordConnectReject (
    _In_ NTSTATUS Status
    )
{
    FpsCommCount( FpsCounterConnectRejected );
    InterlockedExchange( &FpsComm.LastConnectRejectStatus, Status );
}

NTSTATUS
FpsCommValidateContext (
    _In_reads_bytes_opt_(SizeOfContext) PVOID ConnectionContext,
    _In_ ULONG SizeOfContext,
    _Out_ PFPS_CONNECT_CONTEXT Context
    )
/*++

Routine Description:

    Checks a connection context against the wire contract. The order matters for the
    statuses a client sees: the version is checked right after the magic, so that a client
    of a newer protocol (which may use flags or roles this driver does not know) is told
    "revision mismatch" and not "invalid parameter".

    ConnectionContext is the Filter Manager's kernel copy of the caller's bytes, valid for
    the duration of ConnectNotify (spec §2.2); it is copied before being read.

--*/
{
    PAGED_CODE();

    RtlZeroMemory( Context, sizeof( *Context ) );

    if (FpsComm.Unloading) {

        return STATUS_FLT_DELETING_OBJECT;
    }

    if (ConnectionContext == NULL || SizeOfContext != sizeof( FPS_CONNECT_CONTEXT )) {

        return STATUS_INVALID_PARAMETER_3;
    }

    RtlCopyMemory( Context, ConnectionContext, sizeof( FPS_CONNECT_CONTEXT ) );

    if (Context->Magic != FPS_CONNECT_MAGIC) {

        return STATUS_INVALID_PARAMETER_3;
    }

    if (Context->Version != FPS_PROTOCOL_VERSION) {

        return STATUS_REVISION_MISMATCH;
    }

    if ((Context->Flags & ~FPS_CONNECTF_VALID) != 0 ||
        Context->Reserved != 0 ||
        (Context->Role != FpsRoleScanner &&
         Context->Role != FpsRoleControl &&
         Context->Role != FpsRoleTest)) {

        return STATUS_INVALID_PARAMETER_3;
    }

    return STATUS_SUCCESS;
}

NTSTATUS
FpsCommAcceptConnection (
    _In_ PFLT_PORT ClientPort,
    _In_ ULONG PortId,
    _In_ USHORT Role,
    _In_ ULONG Flags,
    _In_reads_bytes_opt_(SizeOfContext) PVOID ConnectionContext,
    _In_ ULONG SizeOfContext,
    _In_ NTSTATUS TestMessageStatus,
    _Outptr_ PVOID *ConnectionCookie
    )
/*++

Routine Description:

    Records a connection a port has decided to accept. Runs inside ConnectNotify, i.e. in
    the context of the connecting thread, so the current process is the client: it is
    referenced so that its process id cannot be reused by another process while the
    connection exists (FpsCommIsServiceProcess compares ids).

    The connection is allocated from non-paged pool because the Filter Manager reads
    ClientPort through the pointer we give FltSendMessage while holding its own lock.

--*/
{
    NTSTATUS status = STATUS_SUCCESS;
    PFPS_CONNECTION connection;

    PAGED_CODE();

    *ConnectionCookie = NULL;

    connection = ExAllocatePoolZero( NonPagedPoolNx, sizeof( FPS_CONNECTION ), FPS_TAG_CONNECTION );

    if (connection == NULL) {

        return STATUS_INSUFFICIENT_RESOURCES;
    }

    connection->RefCount = 1;       //  owned by the list
    connection->PortId = PortId;
    connection->Role = Role;
    connection->Flags = Flags;
    connection->ClientPort = ClientPort;
    connection->Process = PsGetCurrentProcess();
    ObReferenceObject( connection->Process );
    connection->ProcessId = PsGetCurrentProcessId();
    connection->ContextSize = SizeOfContext;
    connection->ContextHash = FpspFnv1a( (const UCHAR *)ConnectionContext,
                                         ConnectionContext != NULL ? SizeOfContext : 0 );
    connection->ConnectTime = FpspNow();
    connection->TestMessageStatus = TestMessageStatus;

    FltAcquirePushLockExclusive( &FpsComm.ConnectionLock );

    if (FpsComm.Unloading) {

        status = STATUS_FLT_DELETING_OBJECT;

    } else if (FpsComm.ConnectionCount >= FPS_MAX_TRACKED_CONNECTIONS) {

        //
        //  Each port has its own MaxConnections, enforced by the Filter Manager; this
        //  bounds the total across ports (test ports, a reopened scan port) so that kernel
        //  memory stays bounded whatever a client does.
        //
        status = STATUS_CONNECTION_COUNT_LIMIT;

    } else {

        connection->ConnectionId = (ULONG)InterlockedIncrement( &FpsComm.NextConnectionId );
        InsertTailList( &FpsComm.Connections, &connection->Link );
        connection->OnList = TRUE;
        FpsComm.ConnectionCount += 1;

        if (Role == FpsRoleScanner) {

            InterlockedIncrement( &FpsComm.ScannerCount );

        } else if (Role == FpsRoleControl) {

            FpsComm.ControlCount += 1;

        } else {

            FpsComm.TestCount += 1;
        }
    }

    FltReleasePushLock( &FpsComm.ConnectionLock );

    if (!NT_SUCCESS( status )) {

        ObDereferenceObject( connection->Process );
        ExFreePoolWithTag( connection, FPS_TAG_CONNECTION );
        return status;
    }

    FpsCommCount( FpsCounterConnectAccepted );

    FpsTrace( DPFLTR_INFO_LEVEL, "connection %u on port %u role %u from pid %p\n",
              connection->ConnectionId, PortId, (ULONG)Role, connection->ProcessId );

    //
    //  The id, not the pointer: see FPS_CONNECTION in fps.h.
    //
    *ConnectionCookie = (PVOID)(ULONG_PTR)connection->ConnectionId;

    return STATUS_SUCCESS;
}

static
NTSTATUS
FLTAPI
FpspConnectNotify (
    _In_ PFLT_PORT ClientPort,
    _In_opt_ PVOID ServerPortCookie,
    _In_reads_bytes_opt_(SizeOfContext) PVOID ConnectionContext,
    _In_ ULONG SizeOfContext,
    _Outptr_result_maybenull_ PVOID *ConnectionCookie
    )
/*++

Routine Description:

    ConnectNotify of the scan and control ports. A scanner must connect to the scan port
    and a controller to the control port; anything else is refused with the statuses
    documented in fltport_sample.h, which FilterConnectCommunicationPort returns as
    HRESULTs (spec §1.3, §2.3).

--*/
{
    NTSTATUS status;
    FPS_CONNECT_CONTEXT context;
    ULONG portId = (ULONG)(ULONG_PTR)ServerPortCookie;
    USHORT expectedRole;

    PAGED_CODE();

    *ConnectionCookie = NULL;

    status = FpsCommValidateContext( ConnectionContext, SizeOfContext, &context );

    if (NT_SUCCESS( status )) {

        expectedRole = (portId == FPS_PORT_ID_SCAN) ? FpsRoleScanner : FpsRoleControl;

        if (context.Role != expectedRole) {

            status = STATUS_NOT_SUPPORTED;
        }
    }

    if (NT_SUCCESS( status )) {

        status = FpsCommAcceptConnection( ClientPort,
                                          portId,
                                          context.Role,
                                          context.Flags,
                                          ConnectionContext,
                                          SizeOfContext,
                                          STATUS_SUCCESS,
                                          ConnectionCookie );
    }

    if (!NT_SUCCESS( status )) {

        FpsCommRecordConnectReject( status );
        FpsTrace( DPFLTR_WARNING_LEVEL, "refused a connection to port %u: 0x%08X\n",
                  portId, (ULONG)status );
    }

    return status;
}

static
PFPS_CONNECTION
FpspDetachConnection (
    _In_opt_ PFPS_CONNECTION Connection,
    _In_ ULONG ConnectionId
    )
/*++

Routine Description:

    Takes a connection off the list (by pointer, or by id when Connection is NULL). The
    caller inherits the list's reference and must close the client port and dereference.
    Returns NULL if it was not on the list: someone else is closing it or has closed it.

--*/
{
    PLIST_ENTRY link;
    PFPS_CONNECTION found = NULL;
    PFPS_CONNECTION candidate;

    FltAcquirePushLockExclusive( &FpsComm.ConnectionLock );

    for (link = FpsComm.Connections.Flink;
         link != &FpsComm.Connections;
         link = link->Flink) {

        candidate = CONTAINING_RECORD( link, FPS_CONNECTION, Link );

        if ((Connection != NULL && candidate == Connection) ||
            (Connection == NULL && candidate->ConnectionId == ConnectionId)) {

            found = candidate;
            break;
        }
    }

    if (found != NULL) {

        RemoveEntryList( &found->Link );
        found->OnList = FALSE;
        FpsComm.ConnectionCount -= 1;

        if (found->Role == FpsRoleScanner) {

            InterlockedDecrement( &FpsComm.ScannerCount );

        } else if (found->Role == FpsRoleControl) {

            FpsComm.ControlCount -= 1;

        } else {

            FpsComm.TestCount -= 1;
        }
    }

    FltReleasePushLock( &FpsComm.ConnectionLock );

    return found;
}

VOID
FLTAPI
FpsCommDisconnectNotify (
    _In_opt_ PVOID ConnectionCookie
    )
/*++

Routine Description:

    DisconnectNotify of every port: the user closed its last handle to the connection, or
    the filter is unloading. Close our client port handle - through the shared variable, so
    a FltSendMessage racing with us sees NULL or a closed port, never a stale handle - and
    drop the list's reference. The Filter Manager frees the connection slot after this
    returns (spec §7.2).

--*/
{
    PFPS_CONNECTION connection;

    PAGED_CODE();

    if (ConnectionCookie == NULL) {

        return;
    }

    connection = FpspDetachConnection( NULL, (ULONG)(ULONG_PTR)ConnectionCookie );

    if (connection == NULL) {

        //
        //  Already closed by the driver (test control or unload).
        //
        return;
    }

    FpsTrace( DPFLTR_INFO_LEVEL, "connection %u disconnected\n", connection->ConnectionId );

    FltCloseClientPort( FpsComm.Filter, &connection->ClientPort );
    FpsCommCount( FpsCounterDisconnects );
    FpsCommDereferenceConnection( connection );
}

NTSTATUS
FpsCommCloseConnection (
    _In_ PFPS_CONNECTION Connection
    )
{
    PFPS_CONNECTION detached;

    PAGED_CODE();

    detached = FpspDetachConnection( Connection, 0 );

    if (detached == NULL) {

        return STATUS_NOT_FOUND;
    }

    FltCloseClientPort( FpsComm.Filter, &detached->ClientPort );
    FpsCommCount( FpsCounterDisconnects );
    FpsCommDereferenceConnection( detached );

    return STATUS_SUCCESS;
}

ULONG
FpsCommClosePortConnections (
    _In_ ULONG PortId
    )
{
    PLIST_ENTRY link;
    PFPS_CONNECTION connection;
    ULONG closed = 0;

    PAGED_CODE();

    for (;;) {

        connection = NULL;

        FltAcquirePushLockShared( &FpsComm.ConnectionLock );

        for (link = FpsComm.Connections.Flink;
             link != &FpsComm.Connections;
             link = link->Flink) {

            if (CONTAINING_RECORD( link, FPS_CONNECTION, Link )->PortId == PortId) {

                connection = CONTAINING_RECORD( link, FPS_CONNECTION, Link );
                InterlockedIncrement( &connection->RefCount );
                break;
            }
        }

        FltReleasePushLock( &FpsComm.ConnectionLock );

        if (connection == NULL) {

            break;
        }

        if (NT_SUCCESS( FpsCommCloseConnection( connection ) )) {

            closed += 1;
        }

        FpsCommDereferenceConnection( connection );
    }

    return closed;
}

static
VOID
FpspCloseAllConnections (
    VOID
    )
/*++

Routine Description:

    Closes every connection, in two passes: scanner and test connections first, control
    connections last. A control client may be inside MessageNotify waiting for a test run
    (GET_RESULTS with WaitMs); that run's senders return only once their connection is
    closed, so closing the control connection first could make unload wait for the whole
    WaitMs.

--*/
{
    PLIST_ENTRY link;
    PFPS_CONNECTION connection;
    ULONG pass;

    PAGED_CODE();

    for (pass = 0; pass < 2; pass += 1) {

        for (;;) {

            connection = NULL;

            FltAcquirePushLockExclusive( &FpsComm.ConnectionLock );

            for (link = FpsComm.Connections.Flink;
                 link != &FpsComm.Connections;
                 link = link->Flink) {

                if (pass == 1 || CONTAINING_RECORD( link, FPS_CONNECTION, Link )->Role != FpsRoleControl) {

                    connection = CONTAINING_RECORD( link, FPS_CONNECTION, Link );
                    InterlockedIncrement( &connection->RefCount );
                    break;
                }
            }

            FltReleasePushLock( &FpsComm.ConnectionLock );

            if (connection == NULL) {

                break;
            }

            (VOID)FpsCommCloseConnection( connection );
            FpsCommDereferenceConnection( connection );
        }
    }
}

_Must_inspect_result_
PFPS_CONNECTION
FpsCommReferenceConnectionById (
    _In_ ULONG ConnectionId
    )
{
    PLIST_ENTRY link;
    PFPS_CONNECTION connection;
    PFPS_CONNECTION found = NULL;

    FltAcquirePushLockShared( &FpsComm.ConnectionLock );

    for (link = FpsComm.Connections.Flink;
         link != &FpsComm.Connections;
         link = link->Flink) {

        connection = CONTAINING_RECORD( link, FPS_CONNECTION, Link );

        if (connection->ConnectionId == ConnectionId) {

            InterlockedIncrement( &connection->RefCount );
            found = connection;
            break;
        }
    }

    FltReleasePushLock( &FpsComm.ConnectionLock );

    return found;
}

NTSTATUS
FpsCommReferenceTarget (
    _In_ ULONG TargetKind,
    _In_ ULONG Target,
    _Outptr_ PFPS_CONNECTION *Connection
    )
{
    PLIST_ENTRY link;
    PFPS_CONNECTION connection;
    PFPS_CONNECTION found = NULL;
    ULONG scannerIndex = 0;

    *Connection = NULL;

    if (TargetKind == FpsTargetConnectionId) {

        *Connection = FpsCommReferenceConnectionById( Target );
        return (*Connection != NULL) ? STATUS_SUCCESS : STATUS_NOT_FOUND;
    }

    if (TargetKind != FpsTargetLatestScanner && TargetKind != FpsTargetScannerIndex) {

        return STATUS_INVALID_PARAMETER;
    }

    FltAcquirePushLockShared( &FpsComm.ConnectionLock );

    for (link = FpsComm.Connections.Flink;
         link != &FpsComm.Connections;
         link = link->Flink) {

        connection = CONTAINING_RECORD( link, FPS_CONNECTION, Link );

        if (connection->Role != FpsRoleScanner) {

            continue;
        }

        if (TargetKind == FpsTargetLatestScanner) {

            found = connection;     //  the list is in connect order: keep the last

        } else if (scannerIndex == Target) {

            found = connection;
            break;
        }

        scannerIndex += 1;
    }

    if (found != NULL) {

        InterlockedIncrement( &found->RefCount );
    }

    FltReleasePushLock( &FpsComm.ConnectionLock );

    *Connection = found;
    return (found != NULL) ? STATUS_SUCCESS : STATUS_NOT_FOUND;
}

VOID
FpsCommDereferenceConnection (
    _In_ PFPS_CONNECTION Connection
    )
/*++

Routine Description:

    Drops a reference; the last one frees the connection. By then it is off the list and
    its client port closed, so no FltSendMessage can be using &Connection->ClientPort.
    IRQL <= APC_LEVEL.

--*/
{
    if (InterlockedDecrement( &Connection->RefCount ) == 0) {

        FLT_ASSERT( !Connection->OnList );
        FLT_ASSERT( Connection->ClientPort == NULL );

        ObDereferenceObject( Connection->Process );
        ExFreePoolWithTag( Connection, FPS_TAG_CONNECTION );
    }
}

ULONG
FpsCommNextSequence (
    _In_ PFPS_CONNECTION Connection
    )
{
    return (ULONG)InterlockedIncrement( &Connection->Sequence );
}

BOOLEAN
FpsCommIsServiceProcess (
    _In_ HANDLE ProcessId
    )
{
    PLIST_ENTRY link;
    PFPS_CONNECTION connection;
    BOOLEAN found = FALSE;

    if (FpsComm.ScannerCount == 0) {

        return FALSE;
    }

    FltAcquirePushLockShared( &FpsComm.ConnectionLock );

    for (link = FpsComm.Connections.Flink;
         link != &FpsComm.Connections;
         link = link->Flink) {

        connection = CONTAINING_RECORD( link, FPS_CONNECTION, Link );

        if (connection->Role == FpsRoleScanner && connection->ProcessId == ProcessId) {

            found = TRUE;
            break;
        }
    }

    FltReleasePushLock( &FpsComm.ConnectionLock );

    return found;
}

VOID
FpsCommListConnections (
    _Out_writes_to_(Capacity, *Returned) PFPS_CONNECTION_INFO Info,
    _In_ ULONG Capacity,
    _Out_ PULONG Total,
    _Out_ PULONG Returned
    )
{
    PLIST_ENTRY link;
    PFPS_CONNECTION connection;
    ULONG total = 0;
    ULONG returned = 0;
    ULONG scannerIndex = 0;

    FltAcquirePushLockShared( &FpsComm.ConnectionLock );

    for (link = FpsComm.Connections.Flink;
         link != &FpsComm.Connections;
         link = link->Flink) {

        connection = CONTAINING_RECORD( link, FPS_CONNECTION, Link );

        if (returned < Capacity) {

            RtlZeroMemory( &Info[returned], sizeof( FPS_CONNECTION_INFO ) );
            Info[returned].ConnectionId = connection->ConnectionId;
            Info[returned].PortId = connection->PortId;
            Info[returned].Role = connection->Role;
            Info[returned].ProcessId = (ULONG)(ULONG_PTR)connection->ProcessId;
            Info[returned].Flags = connection->Flags;
            Info[returned].ContextSize = connection->ContextSize;
            Info[returned].ContextHash = connection->ContextHash;
            Info[returned].ScannerIndex = (connection->Role == FpsRoleScanner) ?
                                          scannerIndex : FPS_INVALID_INDEX;
            Info[returned].ConnectTime = connection->ConnectTime;
            Info[returned].MessagesSent =
                (ULONGLONG)InterlockedCompareExchange64( &connection->MessagesSent, 0, 0 );
            returned += 1;
        }

        if (connection->Role == FpsRoleScanner) {

            scannerIndex += 1;
        }

        total += 1;
    }

    FltReleasePushLock( &FpsComm.ConnectionLock );

    *Total = total;
    *Returned = returned;
}

/* -----------------------------------------------------------------------------------------
 *  Sending
 * -------------------------------------------------------------------------------------- */

NTSTATUS
FpsCommSendOnConnection (
    _In_ PFPS_CONNECTION Connection,
    _In_reads_bytes_(Length) PVOID Buffer,
    _In_ ULONG Length,
    _Out_writes_bytes_opt_(*ReplyLength) PVOID Reply,
    _Inout_opt_ PULONG ReplyLength,
    _In_opt_ PLARGE_INTEGER Timeout,
    _Out_opt_ PBOOLEAN NotSent
    )
/*++

Routine Description:

    The one place this driver calls FltSendMessage.

    The Filter Manager reads *ClientPort under its filter-wide port lock, and
    FltCloseClientPort sets the same variable to NULL under that lock (spec §6.1, G16): so
    this passes &Connection->ClientPort, never a copy. What FltSendMessage does with a
    variable that is already NULL is not documented (spec §6.4), so a connection the driver
    has closed is not sent to at all; the remaining race (closed between the check and the
    call) is the Filter Manager's to resolve, as the scanner sample notes.

--*/
{
    if (NotSent != NULL) {

        *NotSent = FALSE;
    }

    if (*(PFLT_PORT volatile *)&Connection->ClientPort == NULL) {

        if (NotSent != NULL) {

            *NotSent = TRUE;
        }

        return STATUS_PORT_DISCONNECTED;
    }

    InterlockedIncrement64( &Connection->MessagesSent );

    return FltSendMessage( FpsComm.Filter,
                           &Connection->ClientPort,
                           Buffer,
                           Length,
                           Reply,
                           ReplyLength,
                           Timeout );
}

static
PFPS_CONNECTION
FpspReferenceNextScanner (
    VOID
    )
/*++

Routine Description:

    Picks the scanner connection for the next request, round robin over the scanner
    connections in connect order. Several scanners (MaxConnections > 1) let a service use
    several processes; messages are per connection, there is no broadcast (spec G19).

--*/
{
    PLIST_ENTRY link;
    PFPS_CONNECTION connection;
    PFPS_CONNECTION found = NULL;
    ULONG count;
    ULONG pick;

    FltAcquirePushLockShared( &FpsComm.ConnectionLock );

    count = (ULONG)FpsComm.ScannerCount;

    if (count != 0) {

        pick = (ULONG)InterlockedIncrement( &FpsComm.RoundRobin ) % count;

        for (link = FpsComm.Connections.Flink;
             link != &FpsComm.Connections;
             link = link->Flink) {

            connection = CONTAINING_RECORD( link, FPS_CONNECTION, Link );

            if (connection->Role != FpsRoleScanner) {

                continue;
            }

            if (pick == 0) {

                InterlockedIncrement( &connection->RefCount );
                found = connection;
                break;
            }

            pick -= 1;
        }
    }

    FltReleasePushLock( &FpsComm.ConnectionLock );

    return found;
}

VOID
FpsSendScanRequest (
    _Inout_ PFPS_SCAN_REQUEST Request,
    _Out_ PFPS_SCAN_RESULT Result
    )
/*++

Routine Description:

    Asks one scanner for a verdict and classifies what happened.

    The wait is bounded by the scan timeout: FltSendMessage here runs in some application's
    file open or write, and a hung or paused service must cost that application at most
    the timeout, not hang it (spec §6.6, G10). The relative timeout may apply per phase
    (delivery, then reply) rather than in total (spec §6.2, G18), so the worst case is about
    twice the configured value.

    Outcomes:
      STATUS_SUCCESS + a reply that follows the contract  -> the verdict
      STATUS_SUCCESS + anything else                       -> bad reply (no verdict)
      STATUS_TIMEOUT (a success code!)                     -> no verdict
      STATUS_PORT_DISCONNECTED                             -> no verdict, silently: the
                                                              service exited or is restarting
      STATUS_BUFFER_OVERFLOW (reply longer than 32 bytes)  -> bad reply
      anything else (incl. a non-zero reply Status)        -> error (no verdict)

    The caller decides what "no verdict" means; the sample lets the I/O through, as the
    scanner sample does: failing closed would stop the service's own executable from
    loading when the service is not running.

--*/
{
    NTSTATUS status;
    PFPS_CONNECTION connection;
    FPS_SCAN_REPLY reply;
    ULONG replyLength;
    LARGE_INTEGER timeout;
    BOOLEAN notSent;

    NT_ASSERT( KeGetCurrentIrql() <= APC_LEVEL );

    RtlZeroMemory( Result, sizeof( *Result ) );
    Result->Outcome = FpsOutcomeNoScanner;

    connection = FpspReferenceNextScanner();

    if (connection == NULL) {

        FpsCommCount( FpsCounterNoScanner );
        return;
    }

    FPS_INIT_HEADER( &Request->Header,
                     FpsMsgScanRequest,
                     sizeof( FPS_SCAN_REQUEST ),
                     FpsCommNextSequence( connection ),
                     FpspNow() );

    RtlZeroMemory( &reply, sizeof( reply ) );
    replyLength = sizeof( reply );
    timeout.QuadPart = FPS_RELATIVE_MS( FpsComm.ScanTimeoutMs );

    FpsCommCount( FpsCounterScanRequests );

    //
    //  The reply buffer is on this thread's stack, like avscan's: the thread waits in
    //  kernel mode, so its stack stays resident while the Filter Manager copies into it.
    //
    status = FpsCommSendOnConnection( connection,
                                      Request,
                                      sizeof( FPS_SCAN_REQUEST ),
                                      &reply,
                                      &replyLength,
                                      &timeout,
                                      &notSent );

    Result->SendStatus = status;
    Result->ConnectionId = connection->ConnectionId;

    if (status == STATUS_SUCCESS) {

        if (replyLength == sizeof( FPS_SCAN_REPLY ) &&
            FPS_HEADER_IS( &reply.Header, FpsMsgScanReply, sizeof( FPS_SCAN_REPLY ) ) &&
            reply.Header.Sequence == Request->Header.Sequence &&
            (reply.Verdict == FpsVerdictAllow || reply.Verdict == FpsVerdictBlock)) {

            Result->Outcome = FpsOutcomeVerdict;
            Result->Verdict = reply.Verdict;
            Result->Reason = reply.Reason;
            FpsCommCount( reply.Verdict == FpsVerdictAllow ? FpsCounterVerdictAllow :
                                                             FpsCounterVerdictBlock );

        } else {

            Result->Outcome = FpsOutcomeBadReply;
            FpsCommCount( FpsCounterNoVerdictBadReply );
            FpsTrace( DPFLTR_WARNING_LEVEL, "connection %u sent a malformed reply (%u bytes)\n",
                      connection->ConnectionId, replyLength );
        }

    } else if (status == STATUS_TIMEOUT) {

        Result->Outcome = FpsOutcomeTimeout;
        FpsCommCount( FpsCounterNoVerdictTimeout );

    } else if (status == STATUS_PORT_DISCONNECTED) {

        Result->Outcome = FpsOutcomeDisconnected;
        FpsCommCount( FpsCounterNoVerdictDisconnected );

    } else if (status == STATUS_BUFFER_OVERFLOW) {

        Result->Outcome = FpsOutcomeBadReply;
        FpsCommCount( FpsCounterNoVerdictBadReply );

    } else {

        Result->Outcome = FpsOutcomeError;
        FpsCommCount( FpsCounterNoVerdictError );
        FpsTrace( DPFLTR_WARNING_LEVEL, "FltSendMessage to connection %u returned 0x%08X\n",
                  connection->ConnectionId, (ULONG)status );
    }

    FpsCommDereferenceConnection( connection );
}

NTSTATUS
FpsCommOutcomeToStatus (
    _In_ PFPS_SCAN_RESULT Result
    )
/*++

Routine Description:

    One NTSTATUS for a scan outcome, as a "rescan" note reports it in its NOTIFY.

--*/
{
    switch (Result->Outcome) {

        case FpsOutcomeVerdict:
            return (Result->Verdict == FpsVerdictBlock) ? STATUS_VIRUS_INFECTED : STATUS_SUCCESS;

        case FpsOutcomeNoScanner:
        case FpsOutcomeDisconnected:
            return STATUS_PORT_DISCONNECTED;

        case FpsOutcomeTimeout:
            return STATUS_TIMEOUT;

        case FpsOutcomeBadReply:
            return STATUS_INVALID_NETWORK_RESPONSE;

        default:
            return Result->SendStatus;
    }
}

VOID
FpsCommNotify (
    _In_ ULONG Event,
    _In_ NTSTATUS Status,
    _In_ ULONG Detail,
    _In_reads_opt_(TextChars) PCWSTR Text,
    _In_ ULONG TextChars
    )
/*++

Routine Description:

    Sends an FPS_NOTIFY to each scanner connection that accepts notifications, one at a
    time, without a reply and with a short timeout. There is no kernel-side queue (spec
    §0.1): a connection that has no FilterGetMessage pending within the timeout misses the
    notification, which is counted; its Sequence numbers show the gap.

--*/
{
    PFPS_NOTIFY notify;
    PFPS_CONNECTION targets[FPS_NOTIFY_MAX_TARGETS];
    ULONG targetCount = 0;
    PLIST_ENTRY link;
    PFPS_CONNECTION connection;
    LARGE_INTEGER timeout;
    NTSTATUS status;
    ULONG i;

    PAGED_CODE();

    if (!FpsCommHasScanners()) {

        return;
    }

    notify = ExAllocatePoolZero( NonPagedPoolNx, sizeof( FPS_NOTIFY ), FPS_TAG_MESSAGE );

    if (notify == NULL) {

        FpsCommCount( FpsCounterNotifyDropped );
        return;
    }

    notify->Event = Event;
    notify->Status = Status;
    notify->Detail = Detail;

    if (Text != NULL) {

        TextChars = FPS_MIN( TextChars, FPS_NOTIFY_TEXT_CHARS );
        RtlCopyMemory( notify->Text, Text, TextChars * sizeof( WCHAR ) );
        notify->TextLength = TextChars * (ULONG)sizeof( WCHAR );
    }

    FltAcquirePushLockShared( &FpsComm.ConnectionLock );

    for (link = FpsComm.Connections.Flink;
         link != &FpsComm.Connections && targetCount < FPS_NOTIFY_MAX_TARGETS;
         link = link->Flink) {

        connection = CONTAINING_RECORD( link, FPS_CONNECTION, Link );

        if (connection->Role == FpsRoleScanner &&
            (connection->Flags & FPS_CONNECTF_NO_NOTIFY) == 0) {

            InterlockedIncrement( &connection->RefCount );
            targets[targetCount] = connection;
            targetCount += 1;
        }
    }

    FltReleasePushLock( &FpsComm.ConnectionLock );

    for (i = 0; i < targetCount; i += 1) {

        FPS_INIT_HEADER( &notify->Header,
                         FpsMsgNotify,
                         sizeof( FPS_NOTIFY ),
                         FpsCommNextSequence( targets[i] ),
                         FpspNow() );

        timeout.QuadPart = FPS_RELATIVE_MS( FPS_NOTIFY_TIMEOUT_MS );

        status = FpsCommSendOnConnection( targets[i],
                                          notify,
                                          sizeof( FPS_NOTIFY ),
                                          NULL,
                                          NULL,
                                          &timeout,
                                          NULL );

        FpsCommCount( status == STATUS_SUCCESS ? FpsCounterNotifySent : FpsCounterNotifyDropped );
        FpsCommDereferenceConnection( targets[i] );
    }

    ExFreePoolWithTag( notify, FPS_TAG_MESSAGE );
}

/* -----------------------------------------------------------------------------------------
 *  Policy and statistics
 * -------------------------------------------------------------------------------------- */

static
ULONG
FpspAppendAscii (
    _Inout_updates_(Capacity) PWCHAR Buffer,
    _In_ ULONG Capacity,
    _In_ ULONG Used,
    _In_z_ PCSTR Text
    )
{
    while (*Text != '\0' && Used < Capacity) {

        Buffer[Used] = (WCHAR)(UCHAR)*Text;
        Used += 1;
        Text += 1;
    }

    return Used;
}

static
ULONG
FpspAppendDecimal (
    _Inout_updates_(Capacity) PWCHAR Buffer,
    _In_ ULONG Capacity,
    _In_ ULONG Used,
    _In_ ULONG Value
    )
{
    CHAR digits[11];
    ULONG count = 0;

    do {

        digits[count] = (CHAR)('0' + (Value % 10));
        count += 1;
        Value /= 10;

    } while (Value != 0 && count < sizeof( digits ));

    while (count > 0 && Used < Capacity) {

        count -= 1;
        Buffer[Used] = (WCHAR)digits[count];
        Used += 1;
    }

    return Used;
}

NTSTATUS
FpsCommSetPolicy (
    _In_ ULONG Mode,
    _In_ ULONG ScanTimeoutMs
    )
{
    WCHAR text[48];
    ULONG used;
    ULONG mode;

    PAGED_CODE();

    if (Mode != FPS_MODE_UNCHANGED && Mode != FpsModeAudit && Mode != FpsModeBlock) {

        return STATUS_INVALID_PARAMETER;
    }

    if (ScanTimeoutMs != FPS_TIMEOUT_UNCHANGED &&
        (ScanTimeoutMs < FPS_MIN_SCAN_TIMEOUT_MS || ScanTimeoutMs > FPS_MAX_SCAN_TIMEOUT_MS)) {

        return STATUS_INVALID_PARAMETER;
    }

    if (Mode == FPS_MODE_UNCHANGED && ScanTimeoutMs == FPS_TIMEOUT_UNCHANGED) {

        return STATUS_SUCCESS;
    }

    if (Mode != FPS_MODE_UNCHANGED) {

        InterlockedExchange( &FpsComm.Mode, (LONG)Mode );
    }

    if (ScanTimeoutMs != FPS_TIMEOUT_UNCHANGED) {

        InterlockedExchange( &FpsComm.ScanTimeoutMs, (LONG)ScanTimeoutMs );
    }

    mode = (ULONG)FpsComm.Mode;

    used = FpspAppendAscii( text, RTL_NUMBER_OF( text ), 0,
                            mode == FpsModeBlock ? "mode=block timeout=" : "mode=audit timeout=" );
    used = FpspAppendDecimal( text, RTL_NUMBER_OF( text ), used, (ULONG)FpsComm.ScanTimeoutMs );

    FpsTrace( DPFLTR_INFO_LEVEL, "policy: mode %u, scan timeout %d ms\n",
              mode, FpsComm.ScanTimeoutMs );

    FpsCommNotify( FpsEventPolicyChanged, STATUS_SUCCESS, mode, text, used );

    return STATUS_SUCCESS;
}

VOID
FpsCommSnapshotStats (
    _Out_ PFPS_STATS Stats,
    _In_ BOOLEAN Reset
    )
{
    ULONG i;

    RtlZeroMemory( Stats, sizeof( *Stats ) );

    Stats->ProtocolVersion = FPS_PROTOCOL_VERSION;

#if defined(FPS_TEST_CONTROL)
    Stats->Features |= FPS_FEATURE_TEST_CONTROL;
#endif

    if (FpsComm.MailslotRunning) {

        Stats->Features |= FPS_FEATURE_MAILSLOT;
    }

    //
    //  Read without PortLock: a snapshot, which a concurrent SCAN_PORT command may change
    //  right after anyway.
    //
    if (*(PFLT_PORT volatile *)&FpsComm.ScanServerPort != NULL) {

        Stats->Features |= FPS_FEATURE_SCAN_PORT_OPEN;
    }

    Stats->Mode = (ULONG)FpsComm.Mode;
    Stats->ScanTimeoutMs = (ULONG)FpsComm.ScanTimeoutMs;
    Stats->LastConnectRejectStatus = FpsComm.LastConnectRejectStatus;

    FltAcquirePushLockShared( &FpsComm.ConnectionLock );
    Stats->ScannerConnections = (ULONG)FpsComm.ScannerCount;
    Stats->ControlConnections = FpsComm.ControlCount;
    Stats->TestConnections = FpsComm.TestCount;
    FltReleasePushLock( &FpsComm.ConnectionLock );

    for (i = 0; i < FPS_COUNTER_SLOTS; i += 1) {

        //
        //  Interlocked reads: a plain 64-bit read is not atomic on 32-bit x86.
        //
        Stats->Counters[i] = (ULONGLONG)(Reset ?
            InterlockedExchange64( &FpsComm.Counters[i], 0 ) :
            InterlockedCompareExchange64( &FpsComm.Counters[i], 0, 0 ));
    }
}

/* -----------------------------------------------------------------------------------------
 *  Control commands (FilterSendMessage)
 * -------------------------------------------------------------------------------------- */

NTSTATUS
FpsCommCompleteControl (
    _In_ const FPS_CONTROL_HEADER *Request,
    _Inout_updates_bytes_(Size) PFPS_CONTROL_HEADER Result,
    _In_ ULONG Size,
    _Out_writes_bytes_to_opt_(OutputBufferLength, *ReturnOutputBufferLength) PVOID OutputBuffer,
    _In_ ULONG OutputBufferLength,
    _Out_ PULONG ReturnOutputBufferLength
    )
{
    NTSTATUS status = STATUS_SUCCESS;

    PAGED_CODE();

    *ReturnOutputBufferLength = 0;

    if (OutputBuffer == NULL || OutputBufferLength < Size) {

        return STATUS_BUFFER_TOO_SMALL;
    }

    FPS_INIT_HEADER( &Result->Header,
                     FpsMsgControlResult,
                     Size,
                     Request->Header.Sequence,
                     FpspNow() );
    Result->Command = Request->Command;
    Result->Reserved = 0;

    //
    //  OutputBuffer is the caller's user-mode address (METHOD_NEITHER): it can be freed or
    //  protected by another thread of the caller at any moment.
    //
    __try {

        RtlCopyMemory( OutputBuffer, Result, Size );

    } __except (EXCEPTION_EXECUTE_HANDLER) {

        status = GetExceptionCode();
    }

    if (NT_SUCCESS( status )) {

        *ReturnOutputBufferLength = Size;
    }

    return status;
}

static
NTSTATUS
FLTAPI
FpspMessageNotify (
    _In_opt_ PVOID PortCookie,
    _In_reads_bytes_opt_(InputBufferLength) PVOID InputBuffer,
    _In_ ULONG InputBufferLength,
    _Out_writes_bytes_to_opt_(OutputBufferLength, *ReturnOutputBufferLength) PVOID OutputBuffer,
    _In_ ULONG OutputBufferLength,
    _Out_ PULONG ReturnOutputBufferLength
    )
/*++

Routine Description:

    MessageNotify of the scan and control ports: runs in the caller's thread, in the
    caller's process, with the caller's raw buffers (spec §5.2).

    Order of checks: the connection still exists; buffer alignment (the minispy rule);
    input length within what any command can take; then the input is captured into a
    kernel buffer inside __try, and only that copy is looked at: the caller could change
    its buffer while we read it. The output is written once, at the end, inside __try.

Return Value:

    The command's status; see the table in fltport_sample.h.

--*/
{
    NTSTATUS status = STATUS_SUCCESS;
    PFPS_CONNECTION connection;
    FPS_CONTROL_INPUT input;
    ULONG alignment;
    FPS_CMD_GET_STATS_RESULT statsResult;
    FPS_CMD_POLICY_RESULT policyResult;

    PAGED_CODE();

    *ReturnOutputBufferLength = 0;

    FpsCommCount( FpsCounterControlMessages );

    connection = FpsCommReferenceConnectionById( (ULONG)(ULONG_PTR)PortCookie );

    if (connection == NULL) {

        //
        //  The driver closed this connection (test control or unload) and the Filter
        //  Manager has not noticed yet.
        //
        FpsCommCount( FpsCounterControlRejected );
        return STATUS_PORT_DISCONNECTED;
    }

    alignment = FpsCommUserBufferAlignment();

    if ((InputBuffer != NULL && !IS_ALIGNED( InputBuffer, alignment )) ||
        (OutputBuffer != NULL && !IS_ALIGNED( OutputBuffer, alignment ))) {

        status = STATUS_DATATYPE_MISALIGNMENT;
        goto Cleanup;
    }

    if (InputBuffer == NULL ||
        InputBufferLength < sizeof( FPS_CONTROL_HEADER ) ||
        InputBufferLength > sizeof( FPS_CONTROL_INPUT )) {

        status = STATUS_INVALID_PARAMETER;
        goto Cleanup;
    }

    RtlZeroMemory( &input, sizeof( input ) );

    __try {

        RtlCopyMemory( &input, InputBuffer, InputBufferLength );

    } __except (EXCEPTION_EXECUTE_HANDLER) {

        status = GetExceptionCode();
    }

    if (!NT_SUCCESS( status )) {

        goto Cleanup;
    }

    if (!FPS_HEADER_IS( &input.Header.Header, FpsMsgControl, InputBufferLength ) ||
        input.Header.Reserved != 0) {

        status = STATUS_INVALID_PARAMETER;
        goto Cleanup;
    }

    //
    //  The scan port accepts GET_STATS only: a scanner has no business changing the policy
    //  or driving tests, and the control port can be secured differently.
    //
    if (connection->Role != FpsRoleControl && input.Header.Command != FpsCmdGetStats) {

        status = STATUS_ACCESS_DENIED;
        goto Cleanup;
    }

    switch (input.Header.Command) {

        case FpsCmdGetStats:

            if (InputBufferLength != sizeof( FPS_CONTROL_HEADER )) {

                status = STATUS_INVALID_PARAMETER;
                break;
            }

            RtlZeroMemory( &statsResult, sizeof( statsResult ) );
            FpsCommSnapshotStats( &statsResult.Stats, FALSE );

            status = FpsCommCompleteControl( &input.Header,
                                             &statsResult.Control,
                                             sizeof( statsResult ),
                                             OutputBuffer,
                                             OutputBufferLength,
                                             ReturnOutputBufferLength );
            break;

        case FpsCmdSetPolicy:

            if (InputBufferLength != sizeof( FPS_CMD_SET_POLICY )) {

                status = STATUS_INVALID_PARAMETER;
                break;
            }

            status = FpsCommSetPolicy( input.SetPolicy.Mode, input.SetPolicy.ScanTimeoutMs );

            if (!NT_SUCCESS( status )) {

                break;
            }

            RtlZeroMemory( &policyResult, sizeof( policyResult ) );
            policyResult.Mode = (ULONG)FpsComm.Mode;
            policyResult.ScanTimeoutMs = (ULONG)FpsComm.ScanTimeoutMs;

            status = FpsCommCompleteControl( &input.Header,
                                             &policyResult.Control,
                                             sizeof( policyResult ),
                                             OutputBuffer,
                                             OutputBufferLength,
                                             ReturnOutputBufferLength );
            break;

        case FpsCmdTestSend:
        case FpsCmdTestGetResults:
        case FpsCmdTestCancelRun:
        case FpsCmdTestReleaseRun:
        case FpsCmdTestListConnections:
        case FpsCmdTestCloseClient:
        case FpsCmdTestScanPort:
        case FpsCmdTestCreatePort:
        case FpsCmdTestClosePort:
        case FpsCmdTestResetStats:

#if defined(FPS_TEST_CONTROL)
            status = FpsTestDispatch( connection,
                                      &input.Header,
                                      InputBufferLength,
                                      OutputBuffer,
                                      OutputBufferLength,
                                      ReturnOutputBufferLength );
#else
            //
            //  A distinct status, so a test harness can tell "release build" from "unknown
            //  command".
            //
            status = STATUS_NOT_SUPPORTED;
#endif
            break;

        default:

            status = STATUS_INVALID_DEVICE_REQUEST;
            break;
    }

Cleanup:

    if (!NT_SUCCESS( status )) {

        *ReturnOutputBufferLength = 0;
        FpsCommCount( FpsCounterControlRejected );
    }

    FpsCommDereferenceConnection( connection );

    return status;
}
