/*++

Module Name:

    fltport_sample.h

Abstract:

    The wire contract between the fltport sample minifilter and user mode.

    This is the ONE definition of every byte that crosses the sample's communication ports
    and its mailslot. The driver (WDK), the fltsim host (Linux, fltsim's fltKernel.h), user
    programs (windows.h, mingw-w64) and fltport's TypeScript codecs all follow it; a test
    compares the TypeScript layout with what a C compiler says about this file.

    Layout rules (why the structures look the way they do):

    - Fixed-width fields only. No pointers, HANDLEs, SIZE_T or ULONG_PTR: those change size
      between 32-bit (WOW64) and 64-bit processes (spec G14).
    - No implicit padding anywhere. Every 8-byte field sits at an offset that is a multiple
      of 8 and every structure's size is a multiple of 8, so MSVC x86/x64/ARM64, clang,
      gcc (including i386 System V, which aligns 64-bit integers to 4 inside structures)
      and the TypeScript layout engine all agree without #pragma pack. The static asserts
      at the end of this file check every offset and size.
    - Little-endian, as on every platform Windows runs on.
    - Strings are UTF-16LE (WCHAR), counted in BYTES by an explicit length field, never
      NUL-terminated on the wire.

    Every message starts with FPS_MESSAGE_HEADER (the "envelope"). A receiver rejects a
    message whose Magic, Version, Type or Size is not what it expects for that channel,
    before it looks at anything else.

    What the Filter Manager adds around these structures (spec port-semantics.md §3, §4):
    FilterGetMessage delivers FILTER_MESSAGE_HEADER (16 bytes) followed by one of the
    driver-to-user messages below; FilterReplyMessage sends FILTER_REPLY_HEADER (16 bytes)
    followed by the reply structure, and the driver receives only the part after those
    16 bytes. Compute reply sizes as FPS_FILTER_REPLY_HEADER_SIZE + sizeof(reply), never as
    sizeof(a composite structure) (spec §4.2).

    Include order: this header needs the Windows base types (ULONG, USHORT, UCHAR,
    LONGLONG, ULONGLONG, LONG, WCHAR). Include <fltKernel.h> (WDK or fltsim), <ntdef.h> or
    <windows.h> first. A tool with none of those may define FPS_WIRE_DEFINE_BASE_TYPES to
    get them from <stdint.h> (WCHAR becomes uint16_t).

Environment:

    Kernel mode and user mode, C and C++.

--*/

#ifndef FLTPORT_SAMPLE_H
#define FLTPORT_SAMPLE_H

#if defined(FPS_WIRE_DEFINE_BASE_TYPES)
#include <stdint.h>
typedef uint8_t UCHAR;
typedef uint16_t USHORT;
typedef uint16_t WCHAR;
typedef int32_t LONG;
typedef uint32_t ULONG;
typedef int64_t LONGLONG;
typedef uint64_t ULONGLONG;
#endif

#if defined(__cplusplus) || !defined(FIELD_OFFSET)
#include <stddef.h>     //  offsetof, for the layout checks at the end
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* -----------------------------------------------------------------------------------------
 *  Names
 * -------------------------------------------------------------------------------------- */

//
//  Server ports created by the driver (FltCreateCommunicationPort). A user program passes
//  these to FilterConnectCommunicationPort with an FPS_CONNECT_CONTEXT.
//
#define FPS_SCAN_PORT_NAME      L"\\FltportSampleScan"
#define FPS_CONTROL_PORT_NAME   L"\\FltportSampleControl"

//
//  Test ports (FPS_TEST_CONTROL builds) must have names that start with this prefix, so a
//  test can never create or squat another driver's port name.
//
#define FPS_TEST_PORT_PREFIX    L"\\FltportSampleTest"

//
//  The mailslot the driver reads notes from. User mode opens the Win32 name with
//  CreateFile(GENERIC_WRITE, FILE_SHARE_READ, OPEN_EXISTING) and writes one note per
//  WriteFile (spec §10).
//
#define FPS_MAILSLOT_NT_NAME    L"\\Device\\Mailslot\\fltport\\sample"
#define FPS_MAILSLOT_WIN32_NAME L"\\\\.\\mailslot\\fltport\\sample"

/* -----------------------------------------------------------------------------------------
 *  Protocol constants
 * -------------------------------------------------------------------------------------- */

//
//  One protocol version for every message, the connection context included. A receiver
//  accepts exactly this version: a new field or a changed meaning bumps it. (Counters and
//  reserved fields were sized up front so that adding a counter does not.)
//
#define FPS_PROTOCOL_VERSION    1

#define FPS_MESSAGE_MAGIC       0x4D535046u     //  "FPSM" in memory (little-endian)
#define FPS_CONNECT_MAGIC       0x43535046u     //  "FPSC"

//
//  What the Filter Manager puts in front of messages and replies (FILTER_MESSAGE_HEADER,
//  FILTER_REPLY_HEADER): both are 16 bytes in 32- and 64-bit processes (spec §3.2).
//
#define FPS_FILTER_MESSAGE_HEADER_SIZE  16
#define FPS_FILTER_REPLY_HEADER_SIZE    16

#define FPS_MAX_PATH            512     //  WCHARs in FPS_SCAN_REQUEST.Path
#define FPS_SCAN_BYTES          1024    //  bytes of file content in FPS_SCAN_REQUEST
#define FPS_NOTIFY_TEXT_CHARS   256     //  WCHARs in FPS_NOTIFY.Text

#define FPS_MAX_SCANNER_CONNECTIONS 4   //  MaxConnections of the scan port
#define FPS_MAX_CONTROL_CONNECTIONS 2   //  MaxConnections of the control port

//
//  Driver-side scan timeout (FltSendMessage in the I/O path): default and bounds, in ms.
//  The I/O path never waits without a bound (spec §6.6).
//
#define FPS_DEFAULT_SCAN_TIMEOUT_MS 3000
#define FPS_MIN_SCAN_TIMEOUT_MS     100
#define FPS_MAX_SCAN_TIMEOUT_MS     60000

//
//  Mailslot limits: the largest note (MaximumMessageSize of the mailslot) and the quota.
//
#define FPS_MAILSLOT_MAX_NOTE       512
#define FPS_MAILSLOT_QUOTA          8192

/* -----------------------------------------------------------------------------------------
 *  The envelope
 * -------------------------------------------------------------------------------------- */

typedef enum _FPS_MESSAGE_TYPE {

    FpsMsgScanRequest   = 1,    //  driver -> user, scan port, reply FPS_SCAN_REPLY expected
    FpsMsgScanReply     = 2,    //  user -> driver, the payload of FilterReplyMessage
    FpsMsgNotify        = 3,    //  driver -> user, scan port, one-way (ReplyLength 0)
    FpsMsgTestPayload   = 4,    //  driver -> user, sent by a test run (FPS_TEST_CONTROL)
    FpsMsgControl       = 16,   //  user -> driver, FilterSendMessage input
    FpsMsgControlResult = 17    //  driver -> user, FilterSendMessage output

} FPS_MESSAGE_TYPE;

typedef struct _FPS_MESSAGE_HEADER {

    ULONG Magic;            //  FPS_MESSAGE_MAGIC
    USHORT Version;         //  FPS_PROTOCOL_VERSION
    USHORT Type;            //  FPS_MESSAGE_TYPE
    ULONG Size;             //  bytes of the whole message, this header included

    //
    //  Driver -> user: counts per connection, from 1. Every message the driver attempts on
    //  a connection takes the next number, so a gap tells the receiver that a message was
    //  given up before it could be delivered (it timed out with no FilterGetMessage
    //  pending: there is no kernel-side buffer, spec §0.1). Messages with an envelope are
    //  numbered; raw test payloads are not. User -> driver: chosen by the sender; the
    //  driver copies it into the matching result. A scan reply must carry the Sequence of
    //  the request it answers.
    //
    ULONG Sequence;

    LONGLONG Timestamp;     //  sender's clock: 100 ns units since 1601-01-01 UTC

} FPS_MESSAGE_HEADER, *PFPS_MESSAGE_HEADER;

//
//  An expression, not a do/while(0) block: MSVC /W4 (C4127) may flag the constant condition.
//
#define FPS_INIT_HEADER(_h, _type, _size, _seq, _time)     \
    ((_h)->Magic = FPS_MESSAGE_MAGIC,                       \
     (_h)->Version = FPS_PROTOCOL_VERSION,                  \
     (_h)->Type = (USHORT)(_type),                          \
     (_h)->Size = (ULONG)(_size),                           \
     (_h)->Sequence = (ULONG)(_seq),                        \
     (_h)->Timestamp = (LONGLONG)(_time))

//
//  TRUE when the envelope is this protocol's and says it is a _type message of exactly
//  _size bytes. _size must also be the number of bytes actually received: check that first.
//
#define FPS_HEADER_IS(_h, _type, _size)                     \
    ((_h)->Magic == FPS_MESSAGE_MAGIC &&                    \
     (_h)->Version == FPS_PROTOCOL_VERSION &&               \
     (_h)->Type == (USHORT)(_type) &&                       \
     (_h)->Size == (ULONG)(_size))

/* -----------------------------------------------------------------------------------------
 *  Connection context (FilterConnectCommunicationPort lpContext)
 * -------------------------------------------------------------------------------------- */

typedef enum _FPS_ROLE {

    FpsRoleScanner = 1,     //  scan port: receives SCAN_REQUEST and NOTIFY, replies verdicts
    FpsRoleControl = 2,     //  control port: sends FPS_CONTROL commands
    FpsRoleTest    = 3      //  test ports only (FPS_TEST_CONTROL builds)

} FPS_ROLE;

//
//  FpsConnectNoNotify: this scanner connection wants no NOTIFY messages (a test that counts
//  messages, or a pure verdict worker).
//
#define FPS_CONNECTF_NO_NOTIFY  0x00000001u
#define FPS_CONNECTF_VALID      (FPS_CONNECTF_NO_NOTIFY)

typedef struct _FPS_CONNECT_CONTEXT {

    ULONG Magic;            //  FPS_CONNECT_MAGIC
    USHORT Version;         //  FPS_PROTOCOL_VERSION
    USHORT Role;            //  FPS_ROLE
    ULONG Flags;            //  FPS_CONNECTF_*; unknown bits are rejected
    ULONG Reserved;         //  0

} FPS_CONNECT_CONTEXT, *PFPS_CONNECT_CONTEXT;

//
//  What ConnectNotify returns for a context it refuses. FilterConnectCommunicationPort
//  returns the HRESULT in the right-hand column (translation: spec §1.3). The scan and
//  control ports check in this order - the version right after the magic, so that a
//  client of a newer protocol (whose flags or roles this driver may not know) is told
//  "revision mismatch", not "invalid parameter":
//
//    driver unloading                    STATUS_FLT_DELETING_OBJECT    -> 0x801F000B
//    no context, or size != 16           STATUS_INVALID_PARAMETER_3    -> 0x80070057
//    wrong Magic                         STATUS_INVALID_PARAMETER_3    -> 0x80070057
//    Version != FPS_PROTOCOL_VERSION     STATUS_REVISION_MISMATCH      -> 0x8007051A
//    unknown Flags bits, Reserved != 0,
//      unknown Role                      STATUS_INVALID_PARAMETER_3    -> 0x80070057
//    Role not served by this port        STATUS_NOT_SUPPORTED          -> 0x80070032
//    out of memory                       STATUS_INSUFFICIENT_RESOURCES -> 0x800705AA
//    driver's connection table full      STATUS_CONNECTION_COUNT_LIMIT -> 0x800704D4
//
//  The port's own MaxConnections is enforced by the Filter Manager before ConnectNotify
//  runs (same 0x800704D4). GET_STATS reports the last rejection status, and the
//  ConnectRejected counter, so a test can tell the INVALID_PARAMETER_3 cases apart only
//  by what it sent.
//

/* -----------------------------------------------------------------------------------------
 *  SCAN_REQUEST / SCAN_REPLY (scan port)
 * -------------------------------------------------------------------------------------- */

typedef enum _FPS_OPERATION {

    FpsOpCreate  = 1,       //  post-create: the first bytes of a file that was just opened
    FpsOpWrite   = 2,       //  pre-write: the first bytes of the data being written
    FpsOpCleanup = 3,       //  pre-cleanup of a file written through this stream
    FpsOpRescan  = 4        //  a "rescan" mailslot note (or a simulator-made request)

} FPS_OPERATION;

#define FPS_SCANF_PATH_TRUNCATED    0x0001  //  the name did not fit in Path
#define FPS_SCANF_MORE_CONTENT      0x0002  //  the file or write has more than Content holds
#define FPS_SCANF_ASYNC             0x0004  //  sent from a worker after the I/O went on: the
                                            //  verdict is recorded, it cannot be enforced
#define FPS_SCANF_NO_FILE_ID        0x0008  //  VolumeSerialNumber/FileId could not be read

typedef struct _FPS_SCAN_REQUEST {

    FPS_MESSAGE_HEADER Header;          //  Type FpsMsgScanRequest, Size sizeof(FPS_SCAN_REQUEST)

    ULONGLONG VolumeSerialNumber;       //  FILE_ID_INFORMATION: together with FileId the
    UCHAR FileId[16];                   //  file's identity on this machine
    LONGLONG Offset;                    //  FpsOpWrite: byte offset of the write; else 0
    ULONG ProcessId;                    //  process that issued the I/O
    ULONG ThreadId;                     //  thread that issued the I/O (0 if unknown)
    USHORT Operation;                   //  FPS_OPERATION
    USHORT Flags;                       //  FPS_SCANF_*
    ULONG ContentLength;                //  valid bytes in Content (<= FPS_SCAN_BYTES)
    ULONG PathLength;                   //  valid BYTES in Path (even, <= sizeof(Path))
    ULONG Reserved;                     //  0
    WCHAR Path[FPS_MAX_PATH];           //  normalized name, e.g. \Device\HarddiskVolume3\x.txt
    UCHAR Content[FPS_SCAN_BYTES];

} FPS_SCAN_REQUEST, *PFPS_SCAN_REQUEST;

typedef enum _FPS_VERDICT {

    FpsVerdictAllow = 1,
    FpsVerdictBlock = 2

} FPS_VERDICT;

//
//  The reply payload. The driver calls FltSendMessage with *ReplyLength =
//  sizeof(FPS_SCAN_REPLY), so the service replies with exactly
//  FPS_FILTER_REPLY_HEADER_SIZE + sizeof(FPS_SCAN_REPLY) = 48 bytes and
//  FILTER_REPLY_HEADER.Status = 0. Anything else is "no verdict" for the driver:
//  a shorter or longer payload, a non-zero Status (it becomes FltSendMessage's return
//  value), a bad envelope, a Sequence other than the request's, or a Verdict other than
//  allow/block.
//
typedef struct _FPS_SCAN_REPLY {

    FPS_MESSAGE_HEADER Header;  //  Type FpsMsgScanReply, Size 32, Sequence = the request's
    ULONG Verdict;              //  FPS_VERDICT
    ULONG Reason;               //  service-defined reason code, 0 = none; logged and counted

} FPS_SCAN_REPLY, *PFPS_SCAN_REPLY;

#define FPS_SCAN_REPLY_BUFFER_SIZE  (FPS_FILTER_REPLY_HEADER_SIZE + 32)

//
//  Smallest FilterGetMessage buffer that can hold every message the scan port sends
//  outside test runs.
//
#define FPS_SCAN_GET_BUFFER_SIZE    (FPS_FILTER_MESSAGE_HEADER_SIZE + 2128)

/* -----------------------------------------------------------------------------------------
 *  NOTIFY (scan port, one-way)
 *
 *  Sent to every scanner connection that did not ask for FPS_CONNECTF_NO_NOTIFY, each with
 *  a short timeout and no reply. Best effort: a connection without a pending
 *  FilterGetMessage when the timeout expires misses it (counted in NotifyDropped; the
 *  receiver sees a gap in Sequence).
 * -------------------------------------------------------------------------------------- */

typedef enum _FPS_EVENT {

    //
    //  A mailslot note was handled. Detail = FPS_NOTE_VERB (0 if the verb was not
    //  recognized); Status = STATUS_SUCCESS or why it was refused or failed;
    //  Text = the note as received (decoded as UTF-8, truncated to fit).
    //
    FpsEventNoteResult = 1,

    //
    //  The policy changed (by a note or by FpsCmdSetPolicy). Detail = the new FPS_MODE,
    //  Status = 0, Text = "mode=<audit|block> timeout=<ms>".
    //
    FpsEventPolicyChanged = 2

} FPS_EVENT;

typedef enum _FPS_NOTE_VERB {

    FpsNoteUnknown    = 0,
    FpsNotePing       = 1,  //  "ping" or "ping <token>": only the NOTIFY answer
    FpsNoteSetMode    = 2,  //  "set-mode audit" | "set-mode block"
    FpsNoteSetTimeout = 3,  //  "set-timeout <ms>", FPS_MIN_SCAN_TIMEOUT_MS..FPS_MAX_SCAN_TIMEOUT_MS
    FpsNoteRescan     = 4   //  "rescan <path>": X:\..., \??\X:\... or \Device\...

} FPS_NOTE_VERB;

typedef struct _FPS_NOTIFY {

    FPS_MESSAGE_HEADER Header;          //  Type FpsMsgNotify, Size sizeof(FPS_NOTIFY)
    ULONG Event;                        //  FPS_EVENT
    LONG Status;                        //  NTSTATUS
    ULONG Detail;                       //  event-specific
    ULONG TextLength;                   //  valid BYTES in Text
    WCHAR Text[FPS_NOTIFY_TEXT_CHARS];

} FPS_NOTIFY, *PFPS_NOTIFY;

/* -----------------------------------------------------------------------------------------
 *  CONTROL (FilterSendMessage -> MessageNotify)
 *
 *  Input:  FPS_CONTROL_HEADER (Header.Type FpsMsgControl, Header.Size = the input length)
 *          followed by the command's parameters; the input length must be exactly the size
 *          of the command's parameter structure.
 *  Output: FPS_CONTROL_HEADER (Header.Type FpsMsgControlResult, same Command, Sequence
 *          copied from the request) followed by the command's result; lpBytesReturned is
 *          the size written. Buffers must be 8-byte aligned (4 in a 32-bit process),
 *          else STATUS_DATATYPE_MISALIGNMENT (0x800703E6).
 *
 *  Statuses returned by MessageNotify (FilterSendMessage's HRESULT per spec §1.3):
 *    bad envelope, wrong input size, bad parameter     STATUS_INVALID_PARAMETER   0x80070057
 *    misaligned buffer                                 STATUS_DATATYPE_MISALIGNMENT 0x800703E6
 *    output buffer too small                           STATUS_BUFFER_TOO_SMALL    0x8007007A
 *    unknown command                                   STATUS_INVALID_DEVICE_REQUEST 0x80070001
 *    test command in a build without FPS_TEST_CONTROL  STATUS_NOT_SUPPORTED       0x80070032
 *    command not allowed on the scan port              STATUS_ACCESS_DENIED       0x80070005
 *    no such connection / run / port                   STATUS_NOT_FOUND           0x80070490
 *    run still busy (RELEASE_RUN)                      STATUS_DEVICE_BUSY         0x800700AA
 *    a user buffer faulted                             the exception code, e.g.
 *                                                      STATUS_ACCESS_VIOLATION    0x800703E6
 * -------------------------------------------------------------------------------------- */

typedef enum _FPS_COMMAND {

    FpsCmdGetStats          = 1,    //  control and scan ports
    FpsCmdSetPolicy         = 2,    //  control port

    //
    //  Test-control surface: compiled in only when the driver is built with
    //  FPS_TEST_CONTROL (Debug and TestControl configurations, never Release).
    //
    FpsCmdTestSend          = 0x101,
    FpsCmdTestGetResults    = 0x102,
    FpsCmdTestCancelRun     = 0x103,
    FpsCmdTestReleaseRun    = 0x104,
    FpsCmdTestListConnections = 0x105,
    FpsCmdTestCloseClient   = 0x106,
    FpsCmdTestScanPort      = 0x107,
    FpsCmdTestCreatePort    = 0x108,
    FpsCmdTestClosePort     = 0x109,
    FpsCmdTestResetStats    = 0x10A

} FPS_COMMAND;

typedef struct _FPS_CONTROL_HEADER {

    FPS_MESSAGE_HEADER Header;
    ULONG Command;              //  FPS_COMMAND
    ULONG Reserved;             //  0

} FPS_CONTROL_HEADER, *PFPS_CONTROL_HEADER;

/* ---- GET_STATS --------------------------------------------------------------------- */

typedef enum _FPS_MODE {

    FpsModeAudit = 0,           //  verdicts are counted and logged, never enforced (default)
    FpsModeBlock = 1            //  a BLOCK verdict fails the open or the write

} FPS_MODE;

#define FPS_FEATURE_TEST_CONTROL    0x00000001u //  built with FPS_TEST_CONTROL
#define FPS_FEATURE_MAILSLOT        0x00000002u //  the mailslot reader is running
#define FPS_FEATURE_SCAN_PORT_OPEN  0x00000004u //  the scan server port exists right now

typedef enum _FPS_COUNTER {

    FpsCounterScanRequests = 0,         //  SCAN_REQUESTs handed to FltSendMessage
    FpsCounterVerdictAllow,
    FpsCounterVerdictBlock,
    FpsCounterNoVerdictTimeout,         //  STATUS_TIMEOUT (a success code, spec G1)
    FpsCounterNoVerdictDisconnected,    //  STATUS_PORT_DISCONNECTED
    FpsCounterNoVerdictBadReply,        //  wrong size/envelope/sequence/verdict, overflow
    FpsCounterNoVerdictError,           //  any other status (reply Status != 0 included)
    FpsCounterNoScanner,                //  nothing to send to
    FpsCounterSkippedServiceProcess,    //  I/O of a connected scanner's own process (spec §6.6)
    FpsCounterEnforcedBlocks,           //  opens cancelled / writes failed in block mode
    FpsCounterAsyncScans,               //  sent from a worker (FPS_SCANF_ASYNC)
    FpsCounterAsyncDropped,             //  not queued: too many in flight, or unloading
    FpsCounterNotifySent,
    FpsCounterNotifyDropped,
    FpsCounterConnectAccepted,
    FpsCounterConnectRejected,
    FpsCounterDisconnects,
    FpsCounterControlMessages,
    FpsCounterControlRejected,
    FpsCounterMailslotNotes,
    FpsCounterMailslotNotesRejected,
    FpsCounterMailslotReadErrors,
    FpsCounterTestMessagesSent,
    FpsCounterUsed                      //  number of counters defined so far

} FPS_COUNTER;

#define FPS_COUNTER_SLOTS   32          //  fixed on the wire; unused slots are 0

typedef struct _FPS_STATS {

    ULONG ProtocolVersion;
    ULONG Features;                     //  FPS_FEATURE_*
    ULONG Mode;                         //  FPS_MODE
    ULONG ScanTimeoutMs;
    ULONG ScannerConnections;
    ULONG ControlConnections;
    ULONG TestConnections;
    LONG LastConnectRejectStatus;       //  NTSTATUS, 0 if none yet
    ULONGLONG Counters[FPS_COUNTER_SLOTS];  //  indexed by FPS_COUNTER

} FPS_STATS, *PFPS_STATS;

typedef struct _FPS_CMD_GET_STATS_RESULT {

    FPS_CONTROL_HEADER Control;
    FPS_STATS Stats;

} FPS_CMD_GET_STATS_RESULT, *PFPS_CMD_GET_STATS_RESULT;

/* ---- SET_POLICY -------------------------------------------------------------------- */

#define FPS_MODE_UNCHANGED      0xFFFFFFFFu
#define FPS_TIMEOUT_UNCHANGED   0u

typedef struct _FPS_CMD_SET_POLICY {

    FPS_CONTROL_HEADER Control;
    ULONG Mode;                 //  FPS_MODE or FPS_MODE_UNCHANGED
    ULONG ScanTimeoutMs;        //  FPS_MIN_SCAN_TIMEOUT_MS..FPS_MAX_SCAN_TIMEOUT_MS, or 0

} FPS_CMD_SET_POLICY, *PFPS_CMD_SET_POLICY;

typedef struct _FPS_CMD_POLICY_RESULT {

    FPS_CONTROL_HEADER Control;
    ULONG Mode;                 //  in force after the command
    ULONG ScanTimeoutMs;

} FPS_CMD_POLICY_RESULT, *PFPS_CMD_POLICY_RESULT;

/* -----------------------------------------------------------------------------------------
 *  Test-control surface (FPS_TEST_CONTROL builds)
 *
 *  Lets a contract suite drive the kernel side of every case in spec §9.3 against the real
 *  Filter Manager: the driver calls FltSendMessage / FltCloseClientPort /
 *  FltCreateCommunicationPort / FltCloseCommunicationPort exactly as asked and records
 *  what they returned. The structures are compiled in every build (so one set of codecs
 *  serves both); the commands are refused with STATUS_NOT_SUPPORTED without
 *  FPS_TEST_CONTROL.
 * -------------------------------------------------------------------------------------- */

#define FPS_TEST_MAX_MESSAGES       100000  //  messages per run
#define FPS_TEST_MAX_SENDERS        16      //  concurrent sender threads per run
#define FPS_TEST_MAX_PAYLOAD        (1024 * 1024)   //  SenderBufferLength
#define FPS_TEST_MAX_REPLY          (1024 * 1024)   //  *ReplyLength
#define FPS_TEST_MAX_RUN_BYTES      (8 * 1024 * 1024)   //  Concurrency * (payload + reply)
#define FPS_TEST_MAX_RECORDS        1024    //  outcomes kept per run (the first ones)
#define FPS_TEST_MAX_RUNS           8       //  runs kept at once (release finished ones)
#define FPS_TEST_MAX_PORTS          8
#define FPS_TEST_MAX_WAIT_MS        60000   //  longest wait in GET_RESULTS
#define FPS_TEST_MAX_DELAY_MS       60000   //  IntervalMs / StartDelayMs bound
#define FPS_TEST_REPLY_SNAPSHOT     16      //  reply bytes recorded per outcome
#define FPS_TEST_PORT_NAME_CHARS    64
#define FPS_MAX_SID_BYTES           68      //  SECURITY_MAX_SID_SIZE
#define FPS_INVALID_INDEX           0xFFFFFFFFu

//
//  Which connection a command addresses.
//
typedef enum _FPS_TARGET_KIND {

    FpsTargetLatestScanner = 0,     //  the scanner connection that connected last
    FpsTargetScannerIndex  = 1,     //  Target = index among scanner connections, 0 = oldest
    FpsTargetConnectionId  = 2      //  Target = ConnectionId (FPS_CONNECTION_INFO), any port

} FPS_TARGET_KIND;

//
//  How the Timeout argument of FltSendMessage is built (spec §6.2). Every case a test
//  needs is representable, including the two the docs and the kernel disagree on.
//
typedef enum _FPS_TIMEOUT_MODE {

    FpsTimeoutRelative = 0,     //  -(TimeoutMs * 10000): relative, the normal case
    FpsTimeoutInfinite = 1,     //  Timeout == NULL: wait forever
    FpsTimeoutZero     = 2,     //  pointer to 0 (docs: infinite; kernel waits: poll)
    FpsTimeoutAbsolute = 3      //  KeQuerySystemTime() + TimeoutMs * 10000, positive

} FPS_TIMEOUT_MODE;

#define FPS_TESTF_NO_REPLY      0x00000001u //  ReplyBuffer = NULL, ReplyLength = NULL
#define FPS_TESTF_RAW_PAYLOAD   0x00000002u //  payload is the pattern only, no envelope
#define FPS_TESTF_VALID         (FPS_TESTF_NO_REPLY | FPS_TESTF_RAW_PAYLOAD)

//
//  FpsCmdTestSend: start a run of MessageCount FltSendMessage calls to one connection,
//  issued by Concurrency system threads. Returns at once with the run's summary (RunId);
//  outcomes are read with FpsCmdTestGetResults.
//
//  Payload of each message, PayloadSize bytes: unless FPS_TESTF_RAW_PAYLOAD, an
//  FPS_MESSAGE_HEADER (Type FpsMsgTestPayload, Size = PayloadSize, Sequence = the driver's
//  next sequence number) when PayloadSize >= 24; then byte i (offset from the start of the
//  payload) = (UCHAR)(i & 0xFF) up to the end. With RAW the pattern starts at byte 0.
//
//  Example, spec §9.3 #1/#2: PayloadSize 1032, ReplyCapacity 1, TimeoutMode Relative,
//  TimeoutMs 1000, MessageCount 1, Concurrency 1 -> the user's FilterGetMessage sees
//  ReplyLength 17 and 1048 bytes; the outcome records STATUS_SUCCESS and ReplyLength 1.
//
typedef struct _FPS_CMD_TEST_SEND {

    FPS_CONTROL_HEADER Control;
    ULONG TargetKind;           //  FPS_TARGET_KIND
    ULONG Target;
    ULONG MessageCount;         //  1..FPS_TEST_MAX_MESSAGES
    ULONG PayloadSize;          //  0..FPS_TEST_MAX_PAYLOAD
    ULONG ReplyCapacity;        //  *ReplyLength on input, 0..FPS_TEST_MAX_REPLY (ignored
                                //  with FPS_TESTF_NO_REPLY)
    ULONG TimeoutMode;          //  FPS_TIMEOUT_MODE
    ULONG TimeoutMs;            //  for Relative and Absolute
    ULONG Concurrency;          //  1..FPS_TEST_MAX_SENDERS
    ULONG Flags;                //  FPS_TESTF_*
    ULONG IntervalMs;           //  pause between two messages of one sender
    ULONG StartDelayMs;         //  pause before each sender's first message
    ULONG Reserved;             //  0

} FPS_CMD_TEST_SEND, *PFPS_CMD_TEST_SEND;

typedef enum _FPS_RUN_STATE {

    FpsRunRunning   = 1,
    FpsRunDone      = 2,        //  every message has an outcome
    FpsRunCancelled = 3         //  done, but stopped early by CANCEL_RUN or unload

} FPS_RUN_STATE;

typedef struct _FPS_TEST_RUN_SUMMARY {

    ULONG RunId;
    ULONG State;                //  FPS_RUN_STATE
    ULONG ConnectionId;         //  the target, resolved when the run started
    ULONG MessageCount;         //  requested
    ULONG Started;              //  FltSendMessage calls begun
    ULONG Completed;            //  outcomes recorded
    ULONG CountSuccess;         //  STATUS_SUCCESS
    ULONG CountTimeout;         //  STATUS_TIMEOUT
    ULONG CountDisconnected;    //  STATUS_PORT_DISCONNECTED
    ULONG CountOverflow;        //  STATUS_BUFFER_OVERFLOW
    ULONG CountOther;           //  anything else (see the outcome records)
    ULONG RecordCount;          //  outcome records kept: min(MessageCount, FPS_TEST_MAX_RECORDS)
    LONGLONG StartTime;         //  100 ns since 1601 UTC
    LONGLONG EndTime;           //  0 while running

} FPS_TEST_RUN_SUMMARY, *PFPS_TEST_RUN_SUMMARY;

#define FPS_OUTCOMEF_NOT_SENT   0x00000001u //  the connection was already closed by the
                                            //  driver: FltSendMessage was not called and
                                            //  Status is STATUS_PORT_DISCONNECTED

typedef struct _FPS_TEST_OUTCOME {

    ULONG Index;                //  message index, 0..MessageCount-1
    LONG Status;                //  what FltSendMessage returned
    ULONG ReplyLength;          //  *ReplyLength after the call (0 with FPS_TESTF_NO_REPLY)
    ULONG Sequence;             //  envelope Sequence of the message (0 with RAW)
    ULONG SenderIndex;          //  which of the Concurrency threads sent it
    ULONG Flags;                //  FPS_OUTCOMEF_*
    LONGLONG StartTime;         //  when FltSendMessage was called
    LONGLONG Elapsed;           //  how long it took, 100 ns units
    UCHAR ReplyBytes[FPS_TEST_REPLY_SNAPSHOT];  //  first bytes of the reply buffer (zeros
                                                //  beyond ReplyLength)

} FPS_TEST_OUTCOME, *PFPS_TEST_OUTCOME;

typedef struct _FPS_CMD_TEST_RUN_RESULT {       //  result of TEST_SEND, CANCEL_RUN

    FPS_CONTROL_HEADER Control;
    FPS_TEST_RUN_SUMMARY Summary;

} FPS_CMD_TEST_RUN_RESULT, *PFPS_CMD_TEST_RUN_RESULT;

//
//  FpsCmdTestGetResults: wait up to WaitMs for the run to finish (0 = do not wait), then
//  return its summary and up to MaxRecords outcome records starting at FirstRecord, as
//  many as fit in the output buffer. State tells whether the wait ended with the run done.
//
typedef struct _FPS_CMD_TEST_GET_RESULTS {

    FPS_CONTROL_HEADER Control;
    ULONG RunId;
    ULONG WaitMs;               //  0..FPS_TEST_MAX_WAIT_MS
    ULONG FirstRecord;
    ULONG MaxRecords;

} FPS_CMD_TEST_GET_RESULTS, *PFPS_CMD_TEST_GET_RESULTS;

typedef struct _FPS_CMD_TEST_RESULTS {

    FPS_CONTROL_HEADER Control;
    FPS_TEST_RUN_SUMMARY Summary;
    ULONG FirstRecord;
    ULONG ReturnedRecords;
    //  FPS_TEST_OUTCOME Records[ReturnedRecords] follow

} FPS_CMD_TEST_RESULTS, *PFPS_CMD_TEST_RESULTS;

//
//  FpsCmdTestCancelRun: no new FltSendMessage calls are started; calls already waiting
//  finish by themselves (reply, timeout, or disconnect). FpsCmdTestReleaseRun: forget a
//  finished run (STATUS_DEVICE_BUSY while it runs).
//
typedef struct _FPS_CMD_TEST_RUN_ID {

    FPS_CONTROL_HEADER Control;
    ULONG RunId;
    ULONG Reserved;

} FPS_CMD_TEST_RUN_ID, *PFPS_CMD_TEST_RUN_ID;

/* ---- LIST_CONNECTIONS -------------------------------------------------------------- */

#define FPS_PORT_ID_SCAN        1u
#define FPS_PORT_ID_CONTROL     2u
#define FPS_PORT_ID_FIRST_TEST  16u

typedef struct _FPS_CONNECTION_INFO {

    ULONG ConnectionId;         //  driver-assigned, never reused while loaded
    ULONG PortId;               //  FPS_PORT_ID_* or a test port's id
    USHORT Role;                //  FPS_ROLE; every connection to a test port is FpsRoleTest
    USHORT Reserved;
    ULONG ProcessId;            //  the process that connected (recorded in ConnectNotify)
    ULONG Flags;                //  FPS_CONNECT_CONTEXT.Flags
    ULONG ContextSize;          //  SizeOfContext as received
    ULONG ContextHash;          //  FNV-1a (32-bit) of the context bytes, 0x811C9DC5 if none
    ULONG ScannerIndex;         //  index among scanners (0 = oldest), or FPS_INVALID_INDEX
    LONGLONG ConnectTime;       //  100 ns since 1601 UTC
    ULONGLONG MessagesSent;     //  FltSendMessage calls the driver made on it

} FPS_CONNECTION_INFO, *PFPS_CONNECTION_INFO;

typedef struct _FPS_CMD_CONNECTION_LIST {

    FPS_CONTROL_HEADER Control;
    ULONG TotalConnections;     //  how many exist
    ULONG ReturnedConnections;  //  how many fit in the output buffer and follow
    //  FPS_CONNECTION_INFO Connections[ReturnedConnections] follow, oldest first

} FPS_CMD_CONNECTION_LIST, *PFPS_CMD_CONNECTION_LIST;

/* ---- CLOSE_CLIENT ------------------------------------------------------------------ */

//
//  FltCloseClientPort on the addressed connection (driver-initiated disconnect, spec §7.3,
//  §9.3 #8). The result's Value is the ConnectionId that was closed.
//
typedef struct _FPS_CMD_TEST_TARGET {

    FPS_CONTROL_HEADER Control;
    ULONG TargetKind;           //  FPS_TARGET_KIND
    ULONG Target;

} FPS_CMD_TEST_TARGET, *PFPS_CMD_TEST_TARGET;

typedef struct _FPS_CMD_VALUE_RESULT {  //  generic two-value result

    FPS_CONTROL_HEADER Control;
    ULONG Value;
    ULONG Value2;

} FPS_CMD_VALUE_RESULT, *PFPS_CMD_VALUE_RESULT;

/* ---- SCAN_PORT --------------------------------------------------------------------- */

typedef enum _FPS_PORT_ACTION {

    FpsPortClose  = 1,          //  FltCloseCommunicationPort: new connects fail (0x80070002),
                                //  existing connections stay (spec §7.3)
    FpsPortOpen   = 2,          //  FltCreateCommunicationPort again (its status is returned)
    FpsPortReopen = 3           //  close, then open

} FPS_PORT_ACTION;

typedef struct _FPS_CMD_TEST_SCAN_PORT {    //  result: FPS_CMD_VALUE_RESULT, Value = 1 if
                                            //  the scan port is open afterwards
    FPS_CONTROL_HEADER Control;
    ULONG Action;               //  FPS_PORT_ACTION
    ULONG Reserved;

} FPS_CMD_TEST_SCAN_PORT, *PFPS_CMD_TEST_SCAN_PORT;

/* ---- CREATE_PORT / CLOSE_PORT ------------------------------------------------------ */

typedef enum _FPS_SECURITY_MODE {

    FpsSecurityDefault   = 0,   //  what the scan port uses: SYSTEM + Administrators, plus the
                                //  configured AllowedGroupSid (connect only) if any
    FpsSecurityAdminOnly = 1,   //  FltBuildDefaultSecurityDescriptor alone
    FpsSecurityWithGroup = 2,   //  AdminOnly + FLT_PORT_CONNECT for Sid (or, with
                                //  SidLength 0, the configured AllowedGroupSid)
    FpsSecuritySystemOnly = 3   //  LocalSystem only: an elevated test gets 0x80070005

} FPS_SECURITY_MODE;

#define FPS_TPORTF_NO_MESSAGE_NOTIFY    0x00000001u //  MessageNotify = NULL at creation
#define FPS_TPORTF_VALIDATE_CONTEXT     0x00000002u //  ConnectNotify applies the scan-port
                                                    //  context rules (any role accepted)
#define FPS_TPORTF_VALID                (FPS_TPORTF_NO_MESSAGE_NOTIFY | FPS_TPORTF_VALIDATE_CONTEXT)

//
//  FpsCmdTestCreatePort: FltCreateCommunicationPort with these arguments. MaxConnections is
//  passed as given (0 or negative shows the Filter Manager's own check); the command fails
//  with whatever FltCreateCommunicationPort returned.
//
//  Behaviour of the port: ConnectNotify returns ConnectStatus when it is non-zero
//  (spec §9.3 #10), else validates the context if FPS_TPORTF_VALIDATE_CONTEXT, else accepts
//  any context and records its size and hash. MessageNotify (unless
//  FPS_TPORTF_NO_MESSAGE_NOTIFY) copies min(input, output) bytes of the input to the output,
//  sets the returned length to that, and returns MessageStatus.
//
typedef struct _FPS_CMD_TEST_CREATE_PORT {

    FPS_CONTROL_HEADER Control;
    LONG MaxConnections;
    ULONG SecurityMode;         //  FPS_SECURITY_MODE
    ULONG Flags;                //  FPS_TPORTF_*
    LONG ConnectStatus;         //  NTSTATUS for ConnectNotify to return, 0 = decide normally
    LONG MessageStatus;         //  NTSTATUS for MessageNotify to return
    ULONG NameLength;           //  BYTES in Name; the name starts with FPS_TEST_PORT_PREFIX
    ULONG SidLength;            //  BYTES in Sid (FpsSecurityWithGroup), 0 = configured group
    ULONG Reserved;
    WCHAR Name[FPS_TEST_PORT_NAME_CHARS];
    UCHAR Sid[72];              //  a binary SID, at most FPS_MAX_SID_BYTES used

} FPS_CMD_TEST_CREATE_PORT, *PFPS_CMD_TEST_CREATE_PORT;

//
//  Result of CREATE_PORT: FPS_CMD_VALUE_RESULT, Value = PortId.
//  FpsCmdTestClosePort: FltCloseCommunicationPort(PortId); with FPS_TPORT_CLOSE_CLIENTS also
//  FltCloseClientPort on each of its connections. Result: Value = connections closed.
//
#define FPS_TPORT_CLOSE_CLIENTS     0x00000001u

typedef struct _FPS_CMD_TEST_CLOSE_PORT {

    FPS_CONTROL_HEADER Control;
    ULONG PortId;
    ULONG Flags;                //  FPS_TPORT_CLOSE_CLIENTS

} FPS_CMD_TEST_CLOSE_PORT, *PFPS_CMD_TEST_CLOSE_PORT;

//
//  FpsCmdTestResetStats takes a bare FPS_CONTROL_HEADER and returns FPS_CMD_GET_STATS_RESULT
//  with the counters as they were just before the reset.
//

/* -----------------------------------------------------------------------------------------
 *  Layout checks (compile-time, in every compiler that includes this file)
 * -------------------------------------------------------------------------------------- */

#if defined(__cplusplus)
#define FPS_STATIC_ASSERT(e) static_assert((e), #e)
#elif defined(C_ASSERT)
#define FPS_STATIC_ASSERT(e) C_ASSERT(e)
#else
#define FPS_STATIC_ASSERT(e) _Static_assert((e), #e)
#endif

#if defined(FIELD_OFFSET) && !defined(__cplusplus)
#define FPS_OFFSETOF(t, f) FIELD_OFFSET(t, f)
#else
#define FPS_OFFSETOF(t, f) offsetof(t, f)
#endif

FPS_STATIC_ASSERT(sizeof(WCHAR) == 2);

FPS_STATIC_ASSERT(sizeof(FPS_MESSAGE_HEADER) == 24);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_MESSAGE_HEADER, Version) == 4);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_MESSAGE_HEADER, Type) == 6);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_MESSAGE_HEADER, Size) == 8);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_MESSAGE_HEADER, Sequence) == 12);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_MESSAGE_HEADER, Timestamp) == 16);

FPS_STATIC_ASSERT(sizeof(FPS_CONNECT_CONTEXT) == 16);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_CONNECT_CONTEXT, Role) == 6);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_CONNECT_CONTEXT, Flags) == 8);

FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_SCAN_REQUEST, VolumeSerialNumber) == 24);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_SCAN_REQUEST, FileId) == 32);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_SCAN_REQUEST, Offset) == 48);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_SCAN_REQUEST, ProcessId) == 56);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_SCAN_REQUEST, ThreadId) == 60);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_SCAN_REQUEST, Operation) == 64);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_SCAN_REQUEST, Flags) == 66);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_SCAN_REQUEST, ContentLength) == 68);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_SCAN_REQUEST, PathLength) == 72);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_SCAN_REQUEST, Path) == 80);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_SCAN_REQUEST, Content) == 80 + 2 * FPS_MAX_PATH);
FPS_STATIC_ASSERT(sizeof(FPS_SCAN_REQUEST) == 2128);
FPS_STATIC_ASSERT(FPS_SCAN_GET_BUFFER_SIZE ==
                  FPS_FILTER_MESSAGE_HEADER_SIZE + sizeof(FPS_SCAN_REQUEST));

FPS_STATIC_ASSERT(sizeof(FPS_SCAN_REPLY) == 32);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_SCAN_REPLY, Verdict) == 24);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_SCAN_REPLY, Reason) == 28);
FPS_STATIC_ASSERT(FPS_SCAN_REPLY_BUFFER_SIZE ==
                  FPS_FILTER_REPLY_HEADER_SIZE + sizeof(FPS_SCAN_REPLY));

FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_NOTIFY, Event) == 24);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_NOTIFY, Status) == 28);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_NOTIFY, Detail) == 32);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_NOTIFY, TextLength) == 36);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_NOTIFY, Text) == 40);
FPS_STATIC_ASSERT(sizeof(FPS_NOTIFY) == 552);

FPS_STATIC_ASSERT(sizeof(FPS_CONTROL_HEADER) == 32);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_CONTROL_HEADER, Command) == 24);

FPS_STATIC_ASSERT(FpsCounterUsed <= FPS_COUNTER_SLOTS);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_STATS, LastConnectRejectStatus) == 28);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_STATS, Counters) == 32);
FPS_STATIC_ASSERT(sizeof(FPS_STATS) == 32 + 8 * FPS_COUNTER_SLOTS);
FPS_STATIC_ASSERT(sizeof(FPS_CMD_GET_STATS_RESULT) == 32 + 288);

FPS_STATIC_ASSERT(sizeof(FPS_CMD_SET_POLICY) == 40);
FPS_STATIC_ASSERT(sizeof(FPS_CMD_POLICY_RESULT) == 40);

FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_CMD_TEST_SEND, TargetKind) == 32);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_CMD_TEST_SEND, PayloadSize) == 44);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_CMD_TEST_SEND, TimeoutMode) == 52);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_CMD_TEST_SEND, Flags) == 64);
FPS_STATIC_ASSERT(sizeof(FPS_CMD_TEST_SEND) == 80);

FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_TEST_RUN_SUMMARY, RecordCount) == 44);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_TEST_RUN_SUMMARY, StartTime) == 48);
FPS_STATIC_ASSERT(sizeof(FPS_TEST_RUN_SUMMARY) == 64);

FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_TEST_OUTCOME, StartTime) == 24);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_TEST_OUTCOME, Elapsed) == 32);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_TEST_OUTCOME, ReplyBytes) == 40);
FPS_STATIC_ASSERT(sizeof(FPS_TEST_OUTCOME) == 56);

FPS_STATIC_ASSERT(sizeof(FPS_CMD_TEST_RUN_RESULT) == 96);
FPS_STATIC_ASSERT(sizeof(FPS_CMD_TEST_GET_RESULTS) == 48);
FPS_STATIC_ASSERT(sizeof(FPS_CMD_TEST_RESULTS) == 104);
FPS_STATIC_ASSERT(sizeof(FPS_CMD_TEST_RUN_ID) == 40);

FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_CONNECTION_INFO, ProcessId) == 12);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_CONNECTION_INFO, ConnectTime) == 32);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_CONNECTION_INFO, MessagesSent) == 40);
FPS_STATIC_ASSERT(sizeof(FPS_CONNECTION_INFO) == 48);
FPS_STATIC_ASSERT(sizeof(FPS_CMD_CONNECTION_LIST) == 40);

FPS_STATIC_ASSERT(sizeof(FPS_CMD_TEST_TARGET) == 40);
FPS_STATIC_ASSERT(sizeof(FPS_CMD_VALUE_RESULT) == 40);
FPS_STATIC_ASSERT(sizeof(FPS_CMD_TEST_SCAN_PORT) == 40);

FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_CMD_TEST_CREATE_PORT, NameLength) == 52);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_CMD_TEST_CREATE_PORT, Name) == 64);
FPS_STATIC_ASSERT(FPS_OFFSETOF(FPS_CMD_TEST_CREATE_PORT, Sid) == 64 + 2 * FPS_TEST_PORT_NAME_CHARS);
FPS_STATIC_ASSERT(sizeof(FPS_CMD_TEST_CREATE_PORT) == 264);
FPS_STATIC_ASSERT(sizeof(FPS_CMD_TEST_CLOSE_PORT) == 40);

#ifdef __cplusplus
}
#endif

#endif  // FLTPORT_SAMPLE_H
