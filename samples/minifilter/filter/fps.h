/*++

Module Name:

    fps.h

Abstract:

    Declarations shared by the sample minifilter's source files.

    The files split along one line: what can run in user space under fltsim and what
    cannot.

      communication.c  ports, connections, security descriptors, sending scan requests and
                       notifications, control commands            (WDK and fltsim)
      testcontrol.c    the FPS_TEST_CONTROL command surface        (WDK and fltsim)
      mailslot.c       the note mailslot and its reader thread     (WDK and fltsim)
      fltsimentry.c    FltsimDriverEntry: the driver entry under fltsim (fltsim only)
      operations.c     I/O callbacks, contexts, reading files      (WDK only)
      driver.c         DriverEntry, registration, registry, unload (WDK only)

    This header may therefore use only what fltsim's fltKernel.h provides: no
    FLT_CALLBACK_DATA, no FLT_REGISTRATION. Operation callbacks are declared in
    operations.h.

Environment:

    Kernel mode (and fltsim user space for the files named above).

--*/

#ifndef FPS_H
#define FPS_H

#include <fltKernel.h>
#include "fltport_sample.h"

/* -----------------------------------------------------------------------------------------
 *  Pool tags. Defined once, here. Shown reversed by pool tools ('cSpF' appears as FpSc).
 * -------------------------------------------------------------------------------------- */

#define FPS_TAG_CONNECTION      'cSpF'  //  FPS_CONNECTION
#define FPS_TAG_MESSAGE         'mSpF'  //  scan requests and notifications being sent
#define FPS_TAG_SECURITY        'sSpF'  //  security descriptors built for ports/mailslot
#define FPS_TAG_CONTROL         'kSpF'  //  control command results on their way out
#define FPS_TAG_TEST            'tSpF'  //  test runs, their buffers and test ports
#define FPS_TAG_MAILSLOT        'lSpF'  //  the mailslot read buffer
#define FPS_TAG_SETTINGS        'gSpF'  //  settings read from the registry
#define FPS_TAG_CONTEXT_NAME    'nSpF'  //  names kept in stream contexts
#define FPS_TAG_READ            'rSpF'  //  aligned buffers for non-cached reads
#define FPS_TAG_WORK            'wSpF'  //  asynchronous scan work items
#define FPS_TAG_ECP             'eSpF'  //  rescan extra create parameter

/* -----------------------------------------------------------------------------------------
 *  Diagnostics
 * -------------------------------------------------------------------------------------- */

//
//  DbgPrintEx is filtered by the debugger's component mask: enable with
//  "ed nt!Kd_IHVDRIVER_Mask 0xF" (or the Debug Print Filter registry key).
//
#define FpsTrace(_level, ...) \
    DbgPrintEx(DPFLTR_IHVDRIVER_ID, (_level), "fltport_sample: " __VA_ARGS__)

#define FPS_MIN(_a, _b) (((_a) < (_b)) ? (_a) : (_b))

//
//  Converts milliseconds to a relative NT timeout (negative 100 ns units).
//
#define FPS_RELATIVE_MS(_ms) (-((LONGLONG)(_ms) * 10000))

/* -----------------------------------------------------------------------------------------
 *  Settings handed to the communication and mailslot code at load.
 *  driver.c fills them from the registry (Parameters key); fltsim-host fills them itself.
 * -------------------------------------------------------------------------------------- */

//
//  "rescan <path>" note handler: scans the file named by an NT path and returns the
//  outcome as an NTSTATUS (operations.c provides it in the real driver). Runs on the
//  mailslot thread at PASSIVE_LEVEL.
//
typedef
NTSTATUS
FPS_RESCAN_ROUTINE (
    _In_ PCUNICODE_STRING NtPath
    );
typedef FPS_RESCAN_ROUTINE *PFPS_RESCAN_ROUTINE;

typedef struct _FPS_SETTINGS {

    ULONG Mode;                         //  FPS_MODE at load
    ULONG ScanTimeoutMs;                //  FPS_MIN_SCAN_TIMEOUT_MS..FPS_MAX_SCAN_TIMEOUT_MS

    //
    //  Optional group (or user) SID granted FLT_PORT_CONNECT on the scan and control ports
    //  and write access to the mailslot, in addition to SYSTEM and Administrators. Copied by
    //  FpsCommInitialize; NULL = none.
    //
    PSID AllowedGroupSid;

    BOOLEAN EnableMailslot;

    PFPS_RESCAN_ROUTINE RescanRoutine;  //  optional: without it "rescan" notes are refused

} FPS_SETTINGS, *PFPS_SETTINGS;

typedef const FPS_SETTINGS *PCFPS_SETTINGS;

/* -----------------------------------------------------------------------------------------
 *  communication.c
 * -------------------------------------------------------------------------------------- */

//
//  Lifetime, in this order:
//
//    FpsCommInitialize   DriverEntry, after FltRegisterFilter and before FltStartFiltering.
//                        Creates the scan and control ports. Even when it fails, the two
//                        calls below must follow (a client may already have connected).
//    FpsCommShutdown     FilterUnload, BEFORE FltUnregisterFilter: closes every server
//                        port, stops test runs, closes every client port (which releases
//                        any FltSendMessage waiting on it) and refuses new work.
//    FpsCommFinalize     FilterUnload, AFTER FltUnregisterFilter, when no callback can run
//                        any more: deletes the locks.
//
//  Shutdown and Finalize are separate because FltUnregisterFilter may still call
//  DisconnectNotify and operation callbacks may still call FpsSendScanRequest until it
//  returns: both need the connection lock to exist.
//
NTSTATUS
FpsCommInitialize (
    _In_ PFLT_FILTER Filter,
    _In_ PCFPS_SETTINGS Settings
    );

VOID
FpsCommShutdown (
    VOID
    );

VOID
FpsCommFinalize (
    VOID
    );

typedef enum _FPS_SCAN_OUTCOME {

    FpsOutcomeVerdict = 0,          //  Verdict and Reason are valid
    FpsOutcomeNoScanner,            //  no scanner connection
    FpsOutcomeTimeout,              //  STATUS_TIMEOUT: no verdict in time
    FpsOutcomeDisconnected,         //  STATUS_PORT_DISCONNECTED: the service went away
    FpsOutcomeBadReply,             //  a reply that does not follow the wire contract
    FpsOutcomeError                 //  any other status from FltSendMessage

} FPS_SCAN_OUTCOME;

typedef struct _FPS_SCAN_RESULT {

    FPS_SCAN_OUTCOME Outcome;
    ULONG Verdict;                  //  FPS_VERDICT when Outcome == FpsOutcomeVerdict
    ULONG Reason;
    NTSTATUS SendStatus;            //  what FltSendMessage returned
    ULONG ConnectionId;             //  who was asked (0 if nobody)

} FPS_SCAN_RESULT, *PFPS_SCAN_RESULT;

//
//  Sends Request (body filled by the caller; the envelope is written here) to one scanner
//  connection, round robin, waits at most the configured scan timeout for the verdict and
//  classifies the outcome. IRQL <= APC_LEVEL, and the caller must be allowed to block for
//  that long: never call it with locks held or from paging I/O.
//
VOID
FpsSendScanRequest (
    _Inout_ PFPS_SCAN_REQUEST Request,
    _Out_ PFPS_SCAN_RESULT Result
    );

//
//  One NTSTATUS for an outcome (used by "rescan" notes): STATUS_SUCCESS (allow),
//  STATUS_VIRUS_INFECTED (block), STATUS_TIMEOUT, STATUS_PORT_DISCONNECTED (no scanner or
//  it went away), STATUS_INVALID_NETWORK_RESPONSE (bad reply), else FltSendMessage's status.
//
NTSTATUS
FpsCommOutcomeToStatus (
    _In_ PFPS_SCAN_RESULT Result
    );

//
//  TRUE if ProcessId holds a scanner connection: its own file I/O must not be sent to it
//  synchronously (it would wait for itself, spec §6.6).
//
BOOLEAN
FpsCommIsServiceProcess (
    _In_ HANDLE ProcessId
    );

//
//  Cheap check used first in every operation callback.
//
BOOLEAN
FpsCommHasScanners (
    VOID
    );

ULONG
FpsCommGetMode (
    VOID
    );

//
//  Changes mode and/or scan timeout (FPS_MODE_UNCHANGED / FPS_TIMEOUT_UNCHANGED leave one
//  as is), validating both, and tells the scanners with a PolicyChanged NOTIFY.
//  PASSIVE_LEVEL.
//
NTSTATUS
FpsCommSetPolicy (
    _In_ ULONG Mode,
    _In_ ULONG ScanTimeoutMs
    );

//
//  Best-effort one-way FPS_NOTIFY to every scanner connection that accepts them.
//  PASSIVE_LEVEL; blocks at most FPS_NOTIFY_TIMEOUT_MS per connection.
//
#define FPS_NOTIFY_TIMEOUT_MS 100

VOID
FpsCommNotify (
    _In_ ULONG Event,
    _In_ NTSTATUS Status,
    _In_ ULONG Detail,
    _In_reads_opt_(TextChars) PCWSTR Text,
    _In_ ULONG TextChars
    );

VOID
FpsCommCount (
    _In_ FPS_COUNTER Counter
    );

VOID
FpsCommSetMailslotRunning (
    _In_ BOOLEAN Running
    );

//
//  Builds a security descriptor for a port or the mailslot. Never a NULL DACL:
//    FpsSecurityAdminOnly   FltBuildDefaultSecurityDescriptor(AdminAccess): SYSTEM and
//                           Administrators only.
//    FpsSecurityDefault     the above plus GroupAccess for the configured AllowedGroupSid,
//                           when there is one.
//    FpsSecurityWithGroup   the above plus GroupAccess for GroupSid (or the configured one;
//                           STATUS_INVALID_PARAMETER if neither exists).
//    FpsSecuritySystemOnly  AdminAccess for LocalSystem only.
//  Free with FpsCommFreeSecurityDescriptor. PASSIVE_LEVEL.
//
//  Under fltsim, principals are Unix users and groups: see the FLTSIM branch in
//  communication.c for how a SID maps to one.
//
NTSTATUS
FpsCommBuildSecurityDescriptor (
    _In_ ULONG Mode,
    _In_ ACCESS_MASK AdminAccess,
    _In_ ACCESS_MASK GroupAccess,
    _In_opt_ PSID GroupSid,
    _Outptr_ PSECURITY_DESCRIPTOR *SecurityDescriptor
    );

VOID
FpsCommFreeSecurityDescriptor (
    _In_ PSECURITY_DESCRIPTOR SecurityDescriptor
    );

//
//  Length of a well-formed SID that fits in BufferLength bytes, else 0.
//
ULONG
FpsCommSidLength (
    _In_reads_bytes_(BufferLength) PSID Sid,
    _In_ ULONG BufferLength
    );

/* -----------------------------------------------------------------------------------------
 *  Connections (communication.c), also used by testcontrol.c
 * -------------------------------------------------------------------------------------- */

//
//  One FilterConnectCommunicationPort on any of the driver's ports.
//
//  Lifetime: created by ConnectNotify with one reference owned by the connection list.
//  Whoever takes it off the list (DisconnectNotify, a driver-initiated close, or unload)
//  closes the client port and drops that reference. Everyone else who uses it (a scan
//  request in flight, a test run) holds a reference of their own, so ClientPort - whose
//  ADDRESS is what FltSendMessage needs (spec G16) - outlives every send on it.
//
//  The connection cookie the Filter Manager hands back to DisconnectNotify and
//  MessageNotify is the ConnectionId, not this pointer: it is looked up in the list, so a
//  second DisconnectNotify after a driver-initiated FltCloseClientPort (whether that happens
//  is not documented, spec §7.2) finds nothing and does nothing.
//
typedef struct _FPS_CONNECTION {

    LIST_ENTRY Link;                //  FpsComm.Connections, under the connection lock
    volatile LONG RefCount;
    BOOLEAN OnList;                 //  under the connection lock

    ULONG ConnectionId;
    ULONG PortId;                   //  FPS_PORT_ID_* or a test port id
    USHORT Role;                    //  FPS_ROLE
    ULONG Flags;                    //  FPS_CONNECTF_*

    PFLT_PORT ClientPort;           //  NULLed by FltCloseClientPort

    PEPROCESS Process;              //  referenced: keeps ProcessId from being reused
    HANDLE ProcessId;

    ULONG ContextSize;
    ULONG ContextHash;
    LONGLONG ConnectTime;

    volatile LONG Sequence;         //  last envelope Sequence used on this connection
    volatile LONG64 MessagesSent;

    NTSTATUS TestMessageStatus;     //  test ports: what MessageNotify returns

} FPS_CONNECTION, *PFPS_CONNECTION;

#define FPS_MAX_TRACKED_CONNECTIONS 64

//
//  Validates an FPS_CONNECT_CONTEXT (see the table in fltport_sample.h) and copies it out.
//
NTSTATUS
FpsCommValidateContext (
    _In_reads_bytes_opt_(SizeOfContext) PVOID ConnectionContext,
    _In_ ULONG SizeOfContext,
    _Out_ PFPS_CONNECT_CONTEXT Context
    );

//
//  The body of every ConnectNotify once the port has decided to accept: records the
//  connection (and the connecting process, which is the current one inside ConnectNotify)
//  and returns the cookie for the Filter Manager.
//
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
    );

VOID
FpsCommRecordConnectReject (
    _In_ NTSTATUS Status
    );

//
//  The DisconnectNotify of every port.
//
VOID
FLTAPI
FpsCommDisconnectNotify (
    _In_opt_ PVOID ConnectionCookie
    );

_Must_inspect_result_
PFPS_CONNECTION
FpsCommReferenceConnectionById (
    _In_ ULONG ConnectionId
    );

//
//  Resolves an FPS_TARGET_KIND/Target pair; STATUS_NOT_FOUND if it names nothing.
//
NTSTATUS
FpsCommReferenceTarget (
    _In_ ULONG TargetKind,
    _In_ ULONG Target,
    _Outptr_ PFPS_CONNECTION *Connection
    );

VOID
FpsCommDereferenceConnection (
    _In_ PFPS_CONNECTION Connection
    );

ULONG
FpsCommNextSequence (
    _In_ PFPS_CONNECTION Connection
    );

//
//  FltSendMessage on the connection, through the address of its ClientPort. If the driver
//  has already closed the connection, does not call FltSendMessage: sets *NotSent and
//  returns STATUS_PORT_DISCONNECTED.
//
NTSTATUS
FpsCommSendOnConnection (
    _In_ PFPS_CONNECTION Connection,
    _In_reads_bytes_(Length) PVOID Buffer,
    _In_ ULONG Length,
    _Out_writes_bytes_opt_(*ReplyLength) PVOID Reply,
    _Inout_opt_ PULONG ReplyLength,
    _In_opt_ PLARGE_INTEGER Timeout,
    _Out_opt_ PBOOLEAN NotSent
    );

//
//  Driver-initiated disconnect: takes the connection off the list and calls
//  FltCloseClientPort. STATUS_NOT_FOUND if it was already off the list.
//
NTSTATUS
FpsCommCloseConnection (
    _In_ PFPS_CONNECTION Connection
    );

//
//  Closes every connection made through PortId; returns how many.
//
ULONG
FpsCommClosePortConnections (
    _In_ ULONG PortId
    );

VOID
FpsCommListConnections (
    _Out_writes_to_(Capacity, *Returned) PFPS_CONNECTION_INFO Info,
    _In_ ULONG Capacity,
    _Out_ PULONG Total,
    _Out_ PULONG Returned
    );

VOID
FpsCommSnapshotStats (
    _Out_ PFPS_STATS Stats,
    _In_ BOOLEAN Reset
    );

//
//  FpsPortClose / FpsPortOpen / FpsPortReopen on the scan server port.
//
NTSTATUS
FpsCommScanPortAction (
    _In_ ULONG Action,
    _Out_ PBOOLEAN IsOpen
    );

PFLT_FILTER
FpsCommFilter (
    VOID
    );

//
//  Copies a finished control result to the caller's output buffer: fills the result
//  envelope (Type FpsMsgControlResult, Size, the request's Command and Sequence) and
//  copies Size bytes inside __try. STATUS_BUFFER_TOO_SMALL if they do not fit.
//
NTSTATUS
FpsCommCompleteControl (
    _In_ const FPS_CONTROL_HEADER *Request,
    _Inout_updates_bytes_(Size) PFPS_CONTROL_HEADER Result,
    _In_ ULONG Size,
    _Out_writes_bytes_to_opt_(OutputBufferLength, *ReturnOutputBufferLength) PVOID OutputBuffer,
    _In_ ULONG OutputBufferLength,
    _Out_ PULONG ReturnOutputBufferLength
    );

//
//  Alignment a caller's buffers must have: 8, or 4 for a 32-bit process on a 64-bit
//  system (the minispy rule). Only meaningful inside MessageNotify (caller's context).
//
ULONG
FpsCommUserBufferAlignment (
    VOID
    );

/* -----------------------------------------------------------------------------------------
 *  testcontrol.c (FPS_TEST_CONTROL builds)
 * -------------------------------------------------------------------------------------- */

#if defined(FPS_TEST_CONTROL)

VOID
FpsTestInitialize (
    VOID
    );

//
//  First half of unload, before client ports are closed: refuse new runs and ports, stop
//  every run from starting more messages, close the test server ports.
//
VOID
FpsTestCancelAll (
    VOID
    );

//
//  After every client port is closed (so no sender can still be waiting): wait for each
//  run's senders to finish and free the runs.
//
VOID
FpsTestShutdown (
    VOID
    );

VOID
FpsTestFinalize (
    VOID
    );

//
//  Handles an FpsCmdTest* command from a control connection. Input is a kernel copy of
//  exactly InputLength bytes; OutputBuffer is the caller's raw buffer.
//
NTSTATUS
FpsTestDispatch (
    _In_ PFPS_CONNECTION Caller,
    _In_reads_bytes_(InputLength) PFPS_CONTROL_HEADER Input,
    _In_ ULONG InputLength,
    _Out_writes_bytes_to_opt_(OutputBufferLength, *ReturnOutputBufferLength) PVOID OutputBuffer,
    _In_ ULONG OutputBufferLength,
    _Out_ PULONG ReturnOutputBufferLength
    );

#endif

/* -----------------------------------------------------------------------------------------
 *  mailslot.c
 * -------------------------------------------------------------------------------------- */

//
//  Creates FPS_MAILSLOT_NT_NAME and starts the thread that reads notes from it.
//  Call after FpsCommInitialize (notes change the policy and answer with NOTIFY).
//
NTSTATUS
FpsMailslotInitialize (
    _In_ PFLT_FILTER Filter,
    _In_ PCFPS_SETTINGS Settings
    );

//
//  Stops and joins the reader thread, then closes the mailslot. Call first in unload:
//  a note being handled may still send notifications or open a file to rescan it.
//
VOID
FpsMailslotShutdown (
    VOID
    );

#endif  // FPS_H
