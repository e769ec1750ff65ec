/*++

Module Name:

    testcontrol.c

Abstract:

    The test-control surface (FpsCmdTest* commands on the control port), compiled only
    when FPS_TEST_CONTROL is defined: Debug and TestControl configurations, never Release.

    It exists so that one contract suite can run against fltsim, the Wine lane and the
    real Filter Manager. Most port behaviours can only be provoked from the kernel side -
    "send 1032 bytes with a reply capacity of 1 and a 1 s timeout", "close this client port
    while a sender waits", "create a port without MessageNotify" - so the driver offers
    exactly those calls, made as asked, and records what the Filter Manager returned.

    Runs. FpsCmdTestSend starts a run: Concurrency dedicated system threads call
    FltSendMessage MessageCount times in total on one connection, each call built as the
    command says (payload size, reply capacity or no reply, timeout mode). Dedicated threads
    rather than system work items: a test may ask for calls that wait forever, and blocking
    the system's shared worker threads for that long could stall unrelated drivers. The
    outcome of each call (status, *ReplyLength, first reply bytes, timing) is kept for the
    first FPS_TEST_MAX_RECORDS messages and counted for all of them.

    Test ports. FpsCmdTestCreatePort creates a server port with a name under
    FPS_TEST_PORT_PREFIX and the requested MaxConnections, security descriptor and
    callbacks; its connections join the driver's connection list (role FpsRoleTest) and
    can be targeted by runs and closed like any other.

    Locks: TestLock protects the run and port tables and is never held across a call into
    the Filter Manager. TestPortLock serializes creating and closing test server ports and
    is never taken by a port callback.

Environment:

    Kernel mode (and fltsim user space), PASSIVE_LEVEL.

--*/

#include "fps.h"

#if defined(FPS_TEST_CONTROL)

typedef struct _FPS_TEST_RUN FPS_TEST_RUN, *PFPS_TEST_RUN;

typedef struct _FPS_TEST_SENDER {

    PFPS_TEST_RUN Run;
    ULONG Index;
    HANDLE Thread;              //  kernel handle, joined before the run is freed
    PUCHAR Payload;             //  PayloadSize bytes (at least 1)
    PUCHAR Reply;               //  ReplyCapacity bytes (at least 1), NULL with NO_REPLY

} FPS_TEST_SENDER, *PFPS_TEST_SENDER;

struct _FPS_TEST_RUN {

    volatile LONG RefCount;     //  the table's, plus one per command using it
    ULONG RunId;
    volatile LONG State;        //  FPS_RUN_STATE
    volatile LONG CancelRequested;

    PFPS_CONNECTION Connection; //  referenced for the life of the run
    FPS_CMD_TEST_SEND Params;   //  a copy of the command

    volatile LONG NextIndex;
    volatile LONG Started;
    volatile LONG Completed;
    volatile LONG CountSuccess;
    volatile LONG CountTimeout;
    volatile LONG CountDisconnected;
    volatile LONG CountOverflow;
    volatile LONG CountOther;

    //
    //  Starts at 1 for the thread that creates the senders and is dropped once all of them
    //  are created, so the run cannot be declared done while threads are still being
    //  started.
    //
    volatile LONG ActiveSenders;

    LONGLONG StartTime;
    volatile LONGLONG EndTime;

    KEVENT DoneEvent;           //  notification: set when ActiveSenders reaches 0
    KEVENT CancelEvent;         //  notification: wakes senders sleeping between messages

    ULONG SenderCount;
    FPS_TEST_SENDER Senders[FPS_TEST_MAX_SENDERS];

    ULONG RecordCapacity;
    PFPS_TEST_OUTCOME Records;  //  paged, RecordCapacity entries
};

#define FPS_OUTCOMEF_DONE 0x80000000u   //  internal: the record has been filled

typedef struct _FPS_TEST_PORT {

    BOOLEAN InUse;
    BOOLEAN Closing;            //  ConnectNotify refuses new connections
    ULONG PortId;
    PFLT_PORT ServerPort;
    ULONG Flags;                //  FPS_TPORTF_*
    NTSTATUS ConnectStatus;
    NTSTATUS MessageStatus;

} FPS_TEST_PORT, *PFPS_TEST_PORT;

typedef struct _FPS_TEST_GLOBALS {

    EX_PUSH_LOCK TestLock;
    EX_PUSH_LOCK TestPortLock;
    volatile LONG Unloading;
    volatile LONG NextRunId;
    ULONG NextPortId;
    PFPS_TEST_RUN Runs[FPS_TEST_MAX_RUNS];
    FPS_TEST_PORT Ports[FPS_TEST_MAX_PORTS];

} FPS_TEST_GLOBALS;

static FPS_TEST_GLOBALS FpsTest;

static KSTART_ROUTINE FpspTestSenderThread;

static
NTSTATUS
FLTAPI
FpspTestPortConnect (
    _In_ PFLT_PORT ClientPort,
    _In_opt_ PVOID ServerPortCookie,
    _In_reads_bytes_opt_(SizeOfContext) PVOID ConnectionContext,
    _In_ ULONG SizeOfContext,
    _Outptr_result_maybenull_ PVOID *ConnectionCookie
    );

static
NTSTATUS
FLTAPI
FpspTestPortMessage (
    _In_opt_ PVOID PortCookie,
    _In_reads_bytes_opt_(InputBufferLength) PVOID InputBuffer,
    _In_ ULONG InputBufferLength,
    _Out_writes_bytes_to_opt_(OutputBufferLength, *ReturnOutputBufferLength) PVOID OutputBuffer,
    _In_ ULONG OutputBufferLength,
    _Out_ PULONG ReturnOutputBufferLength
    );

#ifdef ALLOC_PRAGMA
#pragma alloc_text(PAGE, FpsTestInitialize)
#pragma alloc_text(PAGE, FpsTestCancelAll)
#pragma alloc_text(PAGE, FpsTestShutdown)
#pragma alloc_text(PAGE, FpsTestFinalize)
#pragma alloc_text(PAGE, FpsTestDispatch)
#pragma alloc_text(PAGE, FpspTestSenderThread)
#pragma alloc_text(PAGE, FpspTestPortConnect)
#pragma alloc_text(PAGE, FpspTestPortMessage)
#endif

/* -----------------------------------------------------------------------------------------
 *  Helpers
 * -------------------------------------------------------------------------------------- */

static
LONGLONG
FpspTestNow (
    VOID
    )
{
    LARGE_INTEGER now;

    KeQuerySystemTime( &now );
    return now.QuadPart;
}

static
VOID
FpspTestFreeRun (
    _In_ PFPS_TEST_RUN Run
    )
/*++

Routine Description:

    Frees a run whose senders have all finished. Joins each sender thread first: a sender
    signals DoneEvent and then still executes a few instructions of this driver before it
    terminates, so the thread object - not the event - says when its code is no longer in
    use.

--*/
{
    ULONG i;

    for (i = 0; i < Run->SenderCount; i += 1) {

        if (Run->Senders[i].Thread != NULL) {

            (VOID)ZwWaitForSingleObject( Run->Senders[i].Thread, FALSE, NULL );
            ZwClose( Run->Senders[i].Thread );
        }

        if (Run->Senders[i].Payload != NULL) {

            ExFreePoolWithTag( Run->Senders[i].Payload, FPS_TAG_TEST );
        }

        if (Run->Senders[i].Reply != NULL) {

            ExFreePoolWithTag( Run->Senders[i].Reply, FPS_TAG_TEST );
        }
    }

    if (Run->Records != NULL) {

        ExFreePoolWithTag( Run->Records, FPS_TAG_TEST );
    }

    if (Run->Connection != NULL) {

        FpsCommDereferenceConnection( Run->Connection );
    }

    ExFreePoolWithTag( Run, FPS_TAG_TEST );
}

static
VOID
FpspTestDereferenceRun (
    _In_ PFPS_TEST_RUN Run
    )
{
    if (InterlockedDecrement( &Run->RefCount ) == 0) {

        FpspTestFreeRun( Run );
    }
}

static
PFPS_TEST_RUN
FpspTestReferenceRun (
    _In_ ULONG RunId
    )
{
    PFPS_TEST_RUN run = NULL;
    ULONG i;

    FltAcquirePushLockShared( &FpsTest.TestLock );

    for (i = 0; i < FPS_TEST_MAX_RUNS; i += 1) {

        if (FpsTest.Runs[i] != NULL && FpsTest.Runs[i]->RunId == RunId) {

            run = FpsTest.Runs[i];
            InterlockedIncrement( &run->RefCount );
            break;
        }
    }

    FltReleasePushLock( &FpsTest.TestLock );

    return run;
}

static
VOID
FpspTestSummarize (
    _In_ PFPS_TEST_RUN Run,
    _Out_ PFPS_TEST_RUN_SUMMARY Summary
    )
{
    RtlZeroMemory( Summary, sizeof( *Summary ) );

    Summary->RunId = Run->RunId;
    Summary->State = (ULONG)Run->State;
    Summary->ConnectionId = Run->Connection->ConnectionId;
    Summary->MessageCount = Run->Params.MessageCount;
    Summary->Started = (ULONG)Run->Started;
    Summary->Completed = (ULONG)Run->Completed;
    Summary->CountSuccess = (ULONG)Run->CountSuccess;
    Summary->CountTimeout = (ULONG)Run->CountTimeout;
    Summary->CountDisconnected = (ULONG)Run->CountDisconnected;
    Summary->CountOverflow = (ULONG)Run->CountOverflow;
    Summary->CountOther = (ULONG)Run->CountOther;
    Summary->RecordCount = Run->RecordCapacity;
    Summary->StartTime = Run->StartTime;
    Summary->EndTime = Run->EndTime;
}

static
VOID
FpspTestSenderExit (
    _In_ PFPS_TEST_RUN Run
    )
/*++

Routine Description:

    Called once by each sender as it finishes, and once by the run's creator: the last one
    marks the run finished and wakes anyone waiting for it.

--*/
{
    if (InterlockedDecrement( &Run->ActiveSenders ) == 0) {

        Run->EndTime = FpspTestNow();
        InterlockedExchange( &Run->State,
                             ((ULONG)Run->Completed == Run->Params.MessageCount) ?
                                 FpsRunDone : FpsRunCancelled );
        KeSetEvent( &Run->DoneEvent, IO_NO_INCREMENT, FALSE );
    }
}

static
BOOLEAN
FpspTestPause (
    _In_ PFPS_TEST_RUN Run,
    _In_ ULONG Milliseconds
    )
/*++

Routine Description:

    Sleeps for the interval unless the run is cancelled first. Returns FALSE if cancelled.

--*/
{
    LARGE_INTEGER timeout;

    if (Milliseconds == 0) {

        return !Run->CancelRequested;
    }

    timeout.QuadPart = FPS_RELATIVE_MS( Milliseconds );
    (VOID)KeWaitForSingleObject( &Run->CancelEvent, Executive, KernelMode, FALSE, &timeout );

    return !Run->CancelRequested;
}

/* -----------------------------------------------------------------------------------------
 *  Sender threads
 * -------------------------------------------------------------------------------------- */

static
VOID
FpspTestSenderThread (
    _In_ PVOID StartContext
    )
/*++

Routine Description:

    One sender of a run. Takes message indexes from the shared counter until none are
    left or the run is cancelled, and makes one FltSendMessage call per index exactly as
    the command described.

--*/
{
    PFPS_TEST_SENDER sender = (PFPS_TEST_SENDER)StartContext;
    PFPS_TEST_RUN run = sender->Run;
    const FPS_CMD_TEST_SEND *params = &run->Params;
    BOOLEAN noReply = (BOOLEAN)((params->Flags & FPS_TESTF_NO_REPLY) != 0);
    BOOLEAN envelope = (BOOLEAN)((params->Flags & FPS_TESTF_RAW_PAYLOAD) == 0 &&
                                 params->PayloadSize >= sizeof( FPS_MESSAGE_HEADER ));
    BOOLEAN first = TRUE;
    LONG index;
    ULONG sequence;
    ULONG replyLength;
    LARGE_INTEGER timeout;
    PLARGE_INTEGER timeoutPointer;
    LONGLONG start;
    LONGLONG elapsed;
    NTSTATUS status;
    BOOLEAN notSent;
    PFPS_TEST_OUTCOME record;

    PAGED_CODE();

    if (!FpspTestPause( run, params->StartDelayMs )) {

        goto Exit;
    }

    for (;;) {

        if (run->CancelRequested) {

            break;
        }

        index = InterlockedIncrement( &run->NextIndex ) - 1;

        if ((ULONG)index >= params->MessageCount) {

            break;
        }

        if (!first && !FpspTestPause( run, params->IntervalMs )) {

            break;
        }

        first = FALSE;

        sequence = 0;

        if (envelope) {

            sequence = FpsCommNextSequence( run->Connection );

            FPS_INIT_HEADER( (PFPS_MESSAGE_HEADER)sender->Payload,
                             FpsMsgTestPayload,
                             params->PayloadSize,
                             sequence,
                             FpspTestNow() );
        }

        replyLength = params->ReplyCapacity;

        if (!noReply) {

            //
            //  Only the part that is recorded needs clearing: it shows zeros where the
            //  Filter Manager wrote nothing.
            //
            RtlZeroMemory( sender->Reply, FPS_MIN( params->ReplyCapacity, FPS_TEST_REPLY_SNAPSHOT ) );
        }

        switch (params->TimeoutMode) {

            case FpsTimeoutInfinite:
                timeoutPointer = NULL;
                break;

            case FpsTimeoutZero:
                timeout.QuadPart = 0;
                timeoutPointer = &timeout;
                break;

            case FpsTimeoutAbsolute:
                timeout.QuadPart = FpspTestNow() + (LONGLONG)params->TimeoutMs * 10000;
                timeoutPointer = &timeout;
                break;

            default:
                timeout.QuadPart = FPS_RELATIVE_MS( params->TimeoutMs );
                timeoutPointer = &timeout;
                break;
        }

        InterlockedIncrement( &run->Started );
        FpsCommCount( FpsCounterTestMessagesSent );

        start = FpspTestNow();

        status = FpsCommSendOnConnection( run->Connection,
                                          sender->Payload,
                                          params->PayloadSize,
                                          noReply ? NULL : sender->Reply,
                                          noReply ? NULL : &replyLength,
                                          timeoutPointer,
                                          &notSent );

        elapsed = FpspTestNow() - start;

        if (status == STATUS_SUCCESS) {

            InterlockedIncrement( &run->CountSuccess );

        } else if (status == STATUS_TIMEOUT) {

            InterlockedIncrement( &run->CountTimeout );

        } else if (status == STATUS_PORT_DISCONNECTED) {

            InterlockedIncrement( &run->CountDisconnected );

        } else if (status == STATUS_BUFFER_OVERFLOW) {

            InterlockedIncrement( &run->CountOverflow );

        } else {

            InterlockedIncrement( &run->CountOther );
        }

        if ((ULONG)index < run->RecordCapacity) {

            record = &run->Records[index];
            record->Index = (ULONG)index;
            record->Status = status;
            record->ReplyLength = noReply ? 0 : replyLength;
            record->Sequence = sequence;
            record->SenderIndex = sender->Index;
            record->StartTime = start;
            record->Elapsed = elapsed;

            if (!noReply) {

                RtlCopyMemory( record->ReplyBytes,
                               sender->Reply,
                               FPS_MIN( params->ReplyCapacity, FPS_TEST_REPLY_SNAPSHOT ) );
            }

            //
            //  Published last, with a full barrier, so a reader that sees DONE sees the rest.
            //
            InterlockedExchange( (volatile LONG *)&record->Flags,
                                 (LONG)(FPS_OUTCOMEF_DONE | (notSent ? FPS_OUTCOMEF_NOT_SENT : 0)) );
        }

        InterlockedIncrement( &run->Completed );
    }

Exit:

    FpspTestSenderExit( run );
    PsTerminateSystemThread( STATUS_SUCCESS );
}

/* -----------------------------------------------------------------------------------------
 *  Commands
 * -------------------------------------------------------------------------------------- */

static
NTSTATUS
FpspTestValidateSend (
    _In_ const FPS_CMD_TEST_SEND *Params
    )
{
    ULONGLONG bytes;
    ULONG senders;

    if (Params->MessageCount == 0 || Params->MessageCount > FPS_TEST_MAX_MESSAGES ||
        Params->PayloadSize > FPS_TEST_MAX_PAYLOAD ||
        Params->TimeoutMode > FpsTimeoutAbsolute ||
        Params->Concurrency == 0 || Params->Concurrency > FPS_TEST_MAX_SENDERS ||
        (Params->Flags & ~FPS_TESTF_VALID) != 0 ||
        Params->IntervalMs > FPS_TEST_MAX_DELAY_MS ||
        Params->StartDelayMs > FPS_TEST_MAX_DELAY_MS ||
        Params->Reserved != 0) {

        return STATUS_INVALID_PARAMETER;
    }

    if ((Params->Flags & FPS_TESTF_NO_REPLY) == 0 && Params->ReplyCapacity > FPS_TEST_MAX_REPLY) {

        return STATUS_INVALID_PARAMETER;
    }

    senders = FPS_MIN( Params->Concurrency, Params->MessageCount );
    bytes = (ULONGLONG)senders * ((ULONGLONG)Params->PayloadSize +
                                  (((Params->Flags & FPS_TESTF_NO_REPLY) != 0) ? 0 : Params->ReplyCapacity));

    if (bytes > FPS_TEST_MAX_RUN_BYTES) {

        return STATUS_INVALID_PARAMETER;
    }

    return STATUS_SUCCESS;
}

static
NTSTATUS
FpspTestStartRun (
    _In_ const FPS_CMD_TEST_SEND *Params,
    _Outptr_ PFPS_TEST_RUN *Run
    )
/*++

Routine Description:

    Allocates a run, enters it in the table and starts its sender threads. On success the
    caller holds one reference (besides the table's).

    Buffers that FltSendMessage reads from or copies into are non-paged: the Filter
    Manager copies the payload into the receiver's buffer and the reply into ours, and we
    do not want that to depend on which thread does the copy at what IRQL.

--*/
{
    NTSTATUS status;
    PFPS_TEST_RUN run;
    PFPS_TEST_SENDER sender;
    OBJECT_ATTRIBUTES oa;
    ULONG i;
    ULONG slot = FPS_TEST_MAX_RUNS;

    *Run = NULL;

    status = FpspTestValidateSend( Params );

    if (!NT_SUCCESS( status )) {

        return status;
    }

    run = ExAllocatePoolZero( NonPagedPoolNx, sizeof( FPS_TEST_RUN ), FPS_TAG_TEST );

    if (run == NULL) {

        return STATUS_INSUFFICIENT_RESOURCES;
    }

    run->RefCount = 2;          //  the table's and the caller's
    run->State = FpsRunRunning;
    run->ActiveSenders = 1;     //  the creator's, dropped below
    RtlCopyMemory( &run->Params, Params, sizeof( run->Params ) );
    KeInitializeEvent( &run->DoneEvent, NotificationEvent, FALSE );
    KeInitializeEvent( &run->CancelEvent, NotificationEvent, FALSE );

    status = FpsCommReferenceTarget( Params->TargetKind, Params->Target, &run->Connection );

    if (!NT_SUCCESS( status )) {

        goto Failed;
    }

    run->RecordCapacity = FPS_MIN( Params->MessageCount, FPS_TEST_MAX_RECORDS );
    run->Records = ExAllocatePoolZero( PagedPool,
                                       (SIZE_T)run->RecordCapacity * sizeof( FPS_TEST_OUTCOME ),
                                       FPS_TAG_TEST );

    if (run->Records == NULL) {

        status = STATUS_INSUFFICIENT_RESOURCES;
        goto Failed;
    }

    run->SenderCount = FPS_MIN( Params->Concurrency, Params->MessageCount );

    for (i = 0; i < run->SenderCount; i += 1) {

        ULONG b;

        sender = &run->Senders[i];
        sender->Run = run;
        sender->Index = i;

        //
        //  A zero-length message still gets a valid buffer pointer.
        //
        sender->Payload = ExAllocatePoolZero( NonPagedPoolNx,
                                              Params->PayloadSize != 0 ? Params->PayloadSize : 1,
                                              FPS_TAG_TEST );

        if (sender->Payload == NULL) {

            status = STATUS_INSUFFICIENT_RESOURCES;
            goto Failed;
        }

        for (b = 0; b < Params->PayloadSize; b += 1) {

            sender->Payload[b] = (UCHAR)(b & 0xFF);
        }

        if ((Params->Flags & FPS_TESTF_NO_REPLY) == 0) {

            sender->Reply = ExAllocatePoolZero( NonPagedPoolNx,
                                                Params->ReplyCapacity != 0 ? Params->ReplyCapacity : 1,
                                                FPS_TAG_TEST );

            if (sender->Reply == NULL) {

                status = STATUS_INSUFFICIENT_RESOURCES;
                goto Failed;
            }
        }
    }

    FltAcquirePushLockExclusive( &FpsTest.TestLock );

    if (FpsTest.Unloading) {

        status = STATUS_FLT_DELETING_OBJECT;

    } else {

        for (i = 0; i < FPS_TEST_MAX_RUNS; i += 1) {

            if (FpsTest.Runs[i] == NULL) {

                slot = i;
                break;
            }
        }

        if (slot == FPS_TEST_MAX_RUNS) {

            //
            //  Release finished runs first.
            //
            status = STATUS_DEVICE_BUSY;

        } else {

            run->RunId = (ULONG)InterlockedIncrement( &FpsTest.NextRunId );
            run->StartTime = FpspTestNow();
            FpsTest.Runs[slot] = run;
        }
    }

    FltReleasePushLock( &FpsTest.TestLock );

    if (slot == FPS_TEST_MAX_RUNS || !NT_SUCCESS( status )) {

        goto Failed;
    }

    //
    //  From here the run is in the table: failures to start a sender end the run early
    //  (it becomes Cancelled) instead of unwinding it.
    //
    InitializeObjectAttributes( &oa, NULL, OBJ_KERNEL_HANDLE, NULL, NULL );

    for (i = 0; i < run->SenderCount; i += 1) {

        InterlockedIncrement( &run->ActiveSenders );

        status = PsCreateSystemThread( &run->Senders[i].Thread,
                                       THREAD_ALL_ACCESS,
                                       &oa,
                                       NULL,
                                       NULL,
                                       FpspTestSenderThread,
                                       &run->Senders[i] );

        if (!NT_SUCCESS( status )) {

            run->Senders[i].Thread = NULL;
            InterlockedExchange( &run->CancelRequested, 1 );
            KeSetEvent( &run->CancelEvent, IO_NO_INCREMENT, FALSE );
            InterlockedDecrement( &run->ActiveSenders );
            FpsTrace( DPFLTR_ERROR_LEVEL, "PsCreateSystemThread failed 0x%08X\n", (ULONG)status );
            break;
        }
    }

    FpspTestSenderExit( run );

    *Run = run;
    return STATUS_SUCCESS;

Failed:

    //
    //  Not in the table and no thread started: free directly.
    //
    FpspTestFreeRun( run );
    return status;
}

static
NTSTATUS
FpspTestGetResults (
    _In_ const FPS_CMD_TEST_GET_RESULTS *Params,
    _Out_writes_bytes_to_opt_(OutputBufferLength, *ReturnOutputBufferLength) PVOID OutputBuffer,
    _In_ ULONG OutputBufferLength,
    _Out_ PULONG ReturnOutputBufferLength
    )
{
    NTSTATUS status;
    PFPS_TEST_RUN run;
    PFPS_CMD_TEST_RESULTS result;
    PFPS_TEST_OUTCOME records;
    LARGE_INTEGER timeout;
    ULONG available;
    ULONG fit;
    ULONG count;
    ULONG size;
    ULONG i;

    if (Params->WaitMs > FPS_TEST_MAX_WAIT_MS) {

        return STATUS_INVALID_PARAMETER;
    }

    if (OutputBuffer == NULL || OutputBufferLength < sizeof( FPS_CMD_TEST_RESULTS )) {

        return STATUS_BUFFER_TOO_SMALL;
    }

    run = FpspTestReferenceRun( Params->RunId );

    if (run == NULL) {

        return STATUS_NOT_FOUND;
    }

    if (Params->WaitMs != 0 && run->State == FpsRunRunning) {

        //
        //  Bounded: this wait runs in the caller's FilterSendMessage. Unload cancels runs
        //  and closes their connections, so it also ends early then.
        //
        timeout.QuadPart = FPS_RELATIVE_MS( Params->WaitMs );
        (VOID)KeWaitForSingleObject( &run->DoneEvent, Executive, KernelMode, FALSE, &timeout );
    }

    available = (Params->FirstRecord < run->RecordCapacity) ?
                run->RecordCapacity - Params->FirstRecord : 0;
    fit = (OutputBufferLength - (ULONG)sizeof( FPS_CMD_TEST_RESULTS )) / (ULONG)sizeof( FPS_TEST_OUTCOME );
    count = FPS_MIN( FPS_MIN( available, fit ), Params->MaxRecords );
    size = (ULONG)sizeof( FPS_CMD_TEST_RESULTS ) + count * (ULONG)sizeof( FPS_TEST_OUTCOME );

    result = ExAllocatePoolZero( PagedPool, size, FPS_TAG_CONTROL );

    if (result == NULL) {

        FpspTestDereferenceRun( run );
        return STATUS_INSUFFICIENT_RESOURCES;
    }

    FpspTestSummarize( run, &result->Summary );
    result->FirstRecord = Params->FirstRecord;
    result->ReturnedRecords = count;

    records = (PFPS_TEST_OUTCOME)(result + 1);

    for (i = 0; i < count; i += 1) {

        PFPS_TEST_OUTCOME source = &run->Records[Params->FirstRecord + i];

        if ((source->Flags & FPS_OUTCOMEF_DONE) != 0) {

            RtlCopyMemory( &records[i], source, sizeof( FPS_TEST_OUTCOME ) );
            records[i].Flags &= ~FPS_OUTCOMEF_DONE;

        } else {

            //
            //  No outcome yet: Index says which message, Status says pending.
            //
            records[i].Index = Params->FirstRecord + i;
            records[i].Status = STATUS_PENDING;
        }
    }

    FpspTestDereferenceRun( run );

    status = FpsCommCompleteControl( &Params->Control,
                                     &result->Control,
                                     size,
                                     OutputBuffer,
                                     OutputBufferLength,
                                     ReturnOutputBufferLength );

    ExFreePoolWithTag( result, FPS_TAG_CONTROL );

    return status;
}

static
NTSTATUS
FpspTestReleaseRun (
    _In_ ULONG RunId
    )
{
    PFPS_TEST_RUN run = NULL;
    NTSTATUS status = STATUS_NOT_FOUND;
    ULONG i;

    FltAcquirePushLockExclusive( &FpsTest.TestLock );

    for (i = 0; i < FPS_TEST_MAX_RUNS; i += 1) {

        if (FpsTest.Runs[i] != NULL && FpsTest.Runs[i]->RunId == RunId) {

            if (FpsTest.Runs[i]->State == FpsRunRunning) {

                status = STATUS_DEVICE_BUSY;

            } else {

                run = FpsTest.Runs[i];
                FpsTest.Runs[i] = NULL;
                status = STATUS_SUCCESS;
            }

            break;
        }
    }

    FltReleasePushLock( &FpsTest.TestLock );

    if (run != NULL) {

        FpspTestDereferenceRun( run );
    }

    return status;
}

static
NTSTATUS
FpspTestValidatePortName (
    _In_ const FPS_CMD_TEST_CREATE_PORT *Params,
    _Out_ PUNICODE_STRING Name
    )
/*++

Routine Description:

    A test port's name must be FPS_TEST_PORT_PREFIX followed by at least one character and
    no backslash or NUL: a test can create ports only in its own corner of the namespace,
    never squat another driver's port.

--*/
{
    UNICODE_STRING prefix;
    ULONG chars;
    ULONG prefixChars;
    ULONG i;

    RtlInitUnicodeString( &prefix, FPS_TEST_PORT_PREFIX );
    prefixChars = prefix.Length / (ULONG)sizeof( WCHAR );

    if ((Params->NameLength % sizeof( WCHAR )) != 0 ||
        Params->NameLength > sizeof( Params->Name )) {

        return STATUS_INVALID_PARAMETER;
    }

    chars = Params->NameLength / (ULONG)sizeof( WCHAR );

    if (chars <= prefixChars) {

        return STATUS_OBJECT_NAME_INVALID;
    }

    for (i = 0; i < prefixChars; i += 1) {

        if (Params->Name[i] != prefix.Buffer[i]) {

            return STATUS_OBJECT_NAME_INVALID;
        }
    }

    for (i = prefixChars; i < chars; i += 1) {

        if (Params->Name[i] == L'\\' || Params->Name[i] == 0) {

            return STATUS_OBJECT_NAME_INVALID;
        }
    }

    Name->Buffer = (PWCH)Params->Name;
    Name->Length = (USHORT)Params->NameLength;
    Name->MaximumLength = (USHORT)Params->NameLength;

    return STATUS_SUCCESS;
}

static
NTSTATUS
FpspTestCreatePort (
    _In_ const FPS_CMD_TEST_CREATE_PORT *Params,
    _Out_ PULONG PortId
    )
{
    NTSTATUS status;
    UNICODE_STRING name;
    OBJECT_ATTRIBUTES oa;
    PSECURITY_DESCRIPTOR sd = NULL;
    PSID sid = NULL;
    PFLT_PORT serverPort = NULL;
    PFPS_TEST_PORT port = NULL;
    ULONG i;

    *PortId = 0;

    if ((Params->Flags & ~FPS_TPORTF_VALID) != 0 ||
        Params->SecurityMode > FpsSecuritySystemOnly ||
        Params->SidLength > FPS_MAX_SID_BYTES ||
        Params->Reserved != 0) {

        return STATUS_INVALID_PARAMETER;
    }

    status = FpspTestValidatePortName( Params, &name );

    if (!NT_SUCCESS( status )) {

        return status;
    }

    if (Params->SidLength != 0) {

        sid = (PSID)Params->Sid;

        if (FpsCommSidLength( sid, Params->SidLength ) != Params->SidLength) {

            return STATUS_INVALID_SID;
        }
    }

    status = FpsCommBuildSecurityDescriptor( Params->SecurityMode,
                                             FLT_PORT_ALL_ACCESS,
                                             FLT_PORT_CONNECT,
                                             sid,
                                             &sd );

    if (!NT_SUCCESS( status )) {

        return status;
    }

    FltAcquirePushLockExclusive( &FpsTest.TestPortLock );

    //
    //  Reserve a slot, fully configured, before the port exists: a client may connect the
    //  moment FltCreateCommunicationPort has created it.
    //
    FltAcquirePushLockExclusive( &FpsTest.TestLock );

    if (FpsTest.Unloading) {

        status = STATUS_FLT_DELETING_OBJECT;

    } else {

        status = STATUS_DEVICE_BUSY;

        for (i = 0; i < FPS_TEST_MAX_PORTS; i += 1) {

            if (!FpsTest.Ports[i].InUse) {

                port = &FpsTest.Ports[i];
                RtlZeroMemory( port, sizeof( *port ) );
                port->InUse = TRUE;
                port->PortId = FpsTest.NextPortId;
                port->Flags = Params->Flags;
                port->ConnectStatus = Params->ConnectStatus;
                port->MessageStatus = Params->MessageStatus;
                FpsTest.NextPortId += 1;
                status = STATUS_SUCCESS;
                break;
            }
        }
    }

    FltReleasePushLock( &FpsTest.TestLock );

    if (NT_SUCCESS( status )) {

        InitializeObjectAttributes( &oa,
                                    &name,
                                    OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE,
                                    NULL,
                                    sd );

        //
        //  MaxConnections goes through unchanged, so a test sees what the Filter Manager
        //  does with 0 or a negative value (spec §7.1).
        //
        status = FltCreateCommunicationPort( FpsCommFilter(),
                                             &serverPort,
                                             &oa,
                                             (PVOID)(ULONG_PTR)port->PortId,
                                             FpspTestPortConnect,
                                             FpsCommDisconnectNotify,
                                             ((Params->Flags & FPS_TPORTF_NO_MESSAGE_NOTIFY) != 0) ?
                                                 NULL : FpspTestPortMessage,
                                             Params->MaxConnections );

        FltAcquirePushLockExclusive( &FpsTest.TestLock );

        if (NT_SUCCESS( status )) {

            port->ServerPort = serverPort;
            *PortId = port->PortId;

        } else {

            port->InUse = FALSE;
        }

        FltReleasePushLock( &FpsTest.TestLock );
    }

    FltReleasePushLock( &FpsTest.TestPortLock );

    FpsCommFreeSecurityDescriptor( sd );

    return status;
}

static
NTSTATUS
FpspTestClosePort (
    _In_ ULONG PortId,
    _In_ BOOLEAN CloseClients,
    _Out_ PULONG ClientsClosed
    )
{
    PFLT_PORT serverPort = NULL;
    PFPS_TEST_PORT port = NULL;
    ULONG i;

    *ClientsClosed = 0;

    FltAcquirePushLockExclusive( &FpsTest.TestPortLock );

    FltAcquirePushLockExclusive( &FpsTest.TestLock );

    for (i = 0; i < FPS_TEST_MAX_PORTS; i += 1) {

        if (FpsTest.Ports[i].InUse && !FpsTest.Ports[i].Closing &&
            FpsTest.Ports[i].PortId == PortId) {

            port = &FpsTest.Ports[i];
            port->Closing = TRUE;
            serverPort = port->ServerPort;
            port->ServerPort = NULL;
            break;
        }
    }

    FltReleasePushLock( &FpsTest.TestLock );

    if (port != NULL) {

        if (serverPort != NULL) {

            FltCloseCommunicationPort( serverPort );
        }

        if (CloseClients) {

            *ClientsClosed = FpsCommClosePortConnections( PortId );
        }

        FltAcquirePushLockExclusive( &FpsTest.TestLock );
        port->InUse = FALSE;
        port->Closing = FALSE;
        FltReleasePushLock( &FpsTest.TestLock );
    }

    FltReleasePushLock( &FpsTest.TestPortLock );

    return (port != NULL) ? STATUS_SUCCESS : STATUS_NOT_FOUND;
}

/* -----------------------------------------------------------------------------------------
 *  Test port callbacks
 * -------------------------------------------------------------------------------------- */

static
NTSTATUS
FLTAPI
FpspTestPortConnect (
    _In_ PFLT_PORT ClientPort,
    _In_opt_ PVOID ServerPortCookie,
    _In_reads_bytes_opt_(SizeOfContext) PVOID ConnectionContext,
    _In_ ULONG SizeOfContext,
    _Outptr_result_maybenull_ PVOID *ConnectionCookie
    )
/*++

Routine Description:

    ConnectNotify of test ports: refuse with the configured status, or validate the
    context like the scan port, or accept any context (its size and hash are recorded so a
    test can check what arrived, e.g. a 65 511-byte context, spec §2.1).

--*/
{
    NTSTATUS status = STATUS_OBJECT_NAME_NOT_FOUND;
    ULONG portId = (ULONG)(ULONG_PTR)ServerPortCookie;
    FPS_CONNECT_CONTEXT context;
    ULONG flags = 0;
    NTSTATUS connectStatus = STATUS_SUCCESS;
    NTSTATUS messageStatus = STATUS_SUCCESS;
    ULONG contextFlags = 0;
    ULONG i;

    PAGED_CODE();

    *ConnectionCookie = NULL;

    FltAcquirePushLockShared( &FpsTest.TestLock );

    for (i = 0; i < FPS_TEST_MAX_PORTS; i += 1) {

        if (FpsTest.Ports[i].InUse && !FpsTest.Ports[i].Closing &&
            FpsTest.Ports[i].PortId == portId) {

            flags = FpsTest.Ports[i].Flags;
            connectStatus = FpsTest.Ports[i].ConnectStatus;
            messageStatus = FpsTest.Ports[i].MessageStatus;
            status = STATUS_SUCCESS;
            break;
        }
    }

    FltReleasePushLock( &FpsTest.TestLock );

    if (NT_SUCCESS( status ) && !NT_SUCCESS( connectStatus )) {

        status = connectStatus;
    }

    if (NT_SUCCESS( status ) && (flags & FPS_TPORTF_VALIDATE_CONTEXT) != 0) {

        status = FpsCommValidateContext( ConnectionContext, SizeOfContext, &context );
        contextFlags = context.Flags;
    }

    if (NT_SUCCESS( status )) {

        status = FpsCommAcceptConnection( ClientPort,
                                          portId,
                                          FpsRoleTest,
                                          contextFlags,
                                          ConnectionContext,
                                          SizeOfContext,
                                          messageStatus,
                                          ConnectionCookie );

        if (NT_SUCCESS( status ) && connectStatus != STATUS_SUCCESS) {

            //
            //  A success code other than STATUS_SUCCESS (e.g. STATUS_TIMEOUT): the
            //  connection is recorded - so DisconnectNotify can close it - and the code is
            //  returned as asked; the Filter Manager decides what it means.
            //
            status = connectStatus;
        }
    }

    if (!NT_SUCCESS( status )) {

        FpsCommRecordConnectReject( status );
    }

    return status;
}

static
NTSTATUS
FLTAPI
FpspTestPortMessage (
    _In_opt_ PVOID PortCookie,
    _In_reads_bytes_opt_(InputBufferLength) PVOID InputBuffer,
    _In_ ULONG InputBufferLength,
    _Out_writes_bytes_to_opt_(OutputBufferLength, *ReturnOutputBufferLength) PVOID OutputBuffer,
    _In_ ULONG OutputBufferLength,
    _Out_ PULONG ReturnOutputBufferLength
    )
/*++

Routine Description:

    MessageNotify of test ports: echoes min(input, output) bytes and returns the configured
    status, so a test can observe FilterSendMessage's byte count and status translation
    (spec §5.2). Byte copies only, so no alignment is required here, unlike the control
    port. Both buffers are the caller's user addresses, hence the __try.

--*/
{
    NTSTATUS status;
    PFPS_CONNECTION connection;
    ULONG length;

    PAGED_CODE();

    *ReturnOutputBufferLength = 0;

    connection = FpsCommReferenceConnectionById( (ULONG)(ULONG_PTR)PortCookie );

    if (connection == NULL) {

        return STATUS_PORT_DISCONNECTED;
    }

    status = connection->TestMessageStatus;
    length = 0;

    if (InputBuffer != NULL && OutputBuffer != NULL) {

        length = FPS_MIN( InputBufferLength, OutputBufferLength );
    }

    if (length != 0) {

        __try {

            RtlCopyMemory( OutputBuffer, InputBuffer, length );

        } __except (EXCEPTION_EXECUTE_HANDLER) {

            status = GetExceptionCode();
            length = 0;
        }
    }

    *ReturnOutputBufferLength = length;

    FpsCommDereferenceConnection( connection );

    return status;
}

/* -----------------------------------------------------------------------------------------
 *  Entry points
 * -------------------------------------------------------------------------------------- */

VOID
FpsTestInitialize (
    VOID
    )
{
    PAGED_CODE();

    RtlZeroMemory( &FpsTest, sizeof( FpsTest ) );
    FltInitializePushLock( &FpsTest.TestLock );
    FltInitializePushLock( &FpsTest.TestPortLock );
    FpsTest.NextPortId = FPS_PORT_ID_FIRST_TEST;
}

VOID
FpsTestCancelAll (
    VOID
    )
/*++

Routine Description:

    First step of unload for the test surface: refuse new runs and ports, stop every run
    from starting more messages, and close the test server ports (their client ports are
    closed with all the others right after this).

    A CREATE_PORT racing with this either reserved its slot before Unloading was set - and
    then the slot is in the snapshot below, and closing it waits on TestPortLock until
    the port exists - or sees Unloading and creates nothing.

--*/
{
    ULONG portIds[FPS_TEST_MAX_PORTS];
    ULONG portCount = 0;
    ULONG closed;
    ULONG i;

    PAGED_CODE();

    FltAcquirePushLockExclusive( &FpsTest.TestLock );

    InterlockedExchange( &FpsTest.Unloading, 1 );

    for (i = 0; i < FPS_TEST_MAX_RUNS; i += 1) {

        if (FpsTest.Runs[i] != NULL) {

            InterlockedExchange( &FpsTest.Runs[i]->CancelRequested, 1 );
            KeSetEvent( &FpsTest.Runs[i]->CancelEvent, IO_NO_INCREMENT, FALSE );
        }
    }

    for (i = 0; i < FPS_TEST_MAX_PORTS; i += 1) {

        if (FpsTest.Ports[i].InUse) {

            portIds[portCount] = FpsTest.Ports[i].PortId;
            portCount += 1;
        }
    }

    FltReleasePushLock( &FpsTest.TestLock );

    for (i = 0; i < portCount; i += 1) {

        (VOID)FpspTestClosePort( portIds[i], FALSE, &closed );
    }
}

VOID
FpsTestShutdown (
    VOID
    )
/*++

Routine Description:

    Called after every client port has been closed: each sender's FltSendMessage has
    returned or is about to, so waiting for the runs to finish is bounded.

--*/
{
    PFPS_TEST_RUN run;
    ULONG i;

    PAGED_CODE();

    for (i = 0; i < FPS_TEST_MAX_RUNS; i += 1) {

        FltAcquirePushLockExclusive( &FpsTest.TestLock );
        run = FpsTest.Runs[i];
        FpsTest.Runs[i] = NULL;
        FltReleasePushLock( &FpsTest.TestLock );

        if (run != NULL) {

            (VOID)KeWaitForSingleObject( &run->DoneEvent, Executive, KernelMode, FALSE, NULL );
            FpspTestDereferenceRun( run );
        }
    }
}

VOID
FpsTestFinalize (
    VOID
    )
{
    PAGED_CODE();

    FltDeletePushLock( &FpsTest.TestPortLock );
    FltDeletePushLock( &FpsTest.TestLock );
}

static
BOOLEAN
FpspTestIsRunIdCommand (
    _In_reads_bytes_(InputLength) PFPS_CONTROL_HEADER Input,
    _In_ ULONG InputLength
    )
/*++

Routine Description:

    Whether a CANCEL_RUN or RELEASE_RUN request has exactly the FPS_CMD_TEST_RUN_ID layout
    (its size, and Reserved zero).

--*/
{
    return (BOOLEAN)(InputLength == sizeof( FPS_CMD_TEST_RUN_ID ) &&
                     ((const FPS_CMD_TEST_RUN_ID *)Input)->Reserved == 0);
}

NTSTATUS
FpsTestDispatch (
    _In_ PFPS_CONNECTION Caller,
    _In_reads_bytes_(InputLength) PFPS_CONTROL_HEADER Input,
    _In_ ULONG InputLength,
    _Out_writes_bytes_to_opt_(OutputBufferLength, *ReturnOutputBufferLength) PVOID OutputBuffer,
    _In_ ULONG OutputBufferLength,
    _Out_ PULONG ReturnOutputBufferLength
    )
/*++

Routine Description:

    Runs one test command. The caller (the control port's MessageNotify) has checked the
    envelope, the caller's role and the buffers' alignment, and captured the input; each
    command checks that the input has exactly its size.

--*/
{
    NTSTATUS status;
    PFPS_TEST_RUN run;
    FPS_CMD_TEST_RUN_RESULT runResult;
    FPS_CMD_VALUE_RESULT valueResult;
    FPS_CMD_GET_STATS_RESULT statsResult;
    PFPS_CMD_CONNECTION_LIST list;
    PFPS_CONNECTION connection;
    BOOLEAN isOpen;
    ULONG capacity;
    ULONG total;
    ULONG returned;
    ULONG size;

    PAGED_CODE();

    *ReturnOutputBufferLength = 0;

    RtlZeroMemory( &valueResult, sizeof( valueResult ) );

    switch (Input->Command) {

        case FpsCmdTestSend:

            if (InputLength != sizeof( FPS_CMD_TEST_SEND )) {

                return STATUS_INVALID_PARAMETER;
            }

            status = FpspTestStartRun( (const FPS_CMD_TEST_SEND *)Input, &run );

            if (!NT_SUCCESS( status )) {

                return status;
            }

            RtlZeroMemory( &runResult, sizeof( runResult ) );
            FpspTestSummarize( run, &runResult.Summary );
            FpspTestDereferenceRun( run );

            return FpsCommCompleteControl( Input, &runResult.Control, sizeof( runResult ),
                                           OutputBuffer, OutputBufferLength,
                                           ReturnOutputBufferLength );

        case FpsCmdTestGetResults:

            if (InputLength != sizeof( FPS_CMD_TEST_GET_RESULTS )) {

                return STATUS_INVALID_PARAMETER;
            }

            return FpspTestGetResults( (const FPS_CMD_TEST_GET_RESULTS *)Input,
                                       OutputBuffer, OutputBufferLength,
                                       ReturnOutputBufferLength );

        case FpsCmdTestCancelRun:

            if (!FpspTestIsRunIdCommand( Input, InputLength )) {

                return STATUS_INVALID_PARAMETER;
            }

            run = FpspTestReferenceRun( ((const FPS_CMD_TEST_RUN_ID *)Input)->RunId );

            if (run == NULL) {

                return STATUS_NOT_FOUND;
            }

            InterlockedExchange( &run->CancelRequested, 1 );
            KeSetEvent( &run->CancelEvent, IO_NO_INCREMENT, FALSE );

            RtlZeroMemory( &runResult, sizeof( runResult ) );
            FpspTestSummarize( run, &runResult.Summary );
            FpspTestDereferenceRun( run );

            return FpsCommCompleteControl( Input, &runResult.Control, sizeof( runResult ),
                                           OutputBuffer, OutputBufferLength,
                                           ReturnOutputBufferLength );

        case FpsCmdTestReleaseRun:

            if (!FpspTestIsRunIdCommand( Input, InputLength )) {

                return STATUS_INVALID_PARAMETER;
            }

            status = FpspTestReleaseRun( ((const FPS_CMD_TEST_RUN_ID *)Input)->RunId );

            if (!NT_SUCCESS( status )) {

                return status;
            }

            valueResult.Value = ((const FPS_CMD_TEST_RUN_ID *)Input)->RunId;
            break;

        case FpsCmdTestListConnections:

            if (InputLength != sizeof( FPS_CONTROL_HEADER )) {

                return STATUS_INVALID_PARAMETER;
            }

            if (OutputBuffer == NULL || OutputBufferLength < sizeof( FPS_CMD_CONNECTION_LIST )) {

                return STATUS_BUFFER_TOO_SMALL;
            }

            capacity = (OutputBufferLength - (ULONG)sizeof( FPS_CMD_CONNECTION_LIST )) /
                       (ULONG)sizeof( FPS_CONNECTION_INFO );
            capacity = FPS_MIN( capacity, FPS_MAX_TRACKED_CONNECTIONS );

            list = ExAllocatePoolZero( PagedPool,
                                       sizeof( FPS_CMD_CONNECTION_LIST ) +
                                           capacity * sizeof( FPS_CONNECTION_INFO ),
                                       FPS_TAG_CONTROL );

            if (list == NULL) {

                return STATUS_INSUFFICIENT_RESOURCES;
            }

            FpsCommListConnections( (PFPS_CONNECTION_INFO)(list + 1), capacity, &total, &returned );
            list->TotalConnections = total;
            list->ReturnedConnections = returned;
            size = (ULONG)sizeof( FPS_CMD_CONNECTION_LIST ) + returned * (ULONG)sizeof( FPS_CONNECTION_INFO );

            status = FpsCommCompleteControl( Input, &list->Control, size,
                                             OutputBuffer, OutputBufferLength,
                                             ReturnOutputBufferLength );

            ExFreePoolWithTag( list, FPS_TAG_CONTROL );
            return status;

        case FpsCmdTestCloseClient:

            if (InputLength != sizeof( FPS_CMD_TEST_TARGET )) {

                return STATUS_INVALID_PARAMETER;
            }

            status = FpsCommReferenceTarget( ((const FPS_CMD_TEST_TARGET *)Input)->TargetKind,
                                             ((const FPS_CMD_TEST_TARGET *)Input)->Target,
                                             &connection );

            if (!NT_SUCCESS( status )) {

                return status;
            }

            //
            //  Not the caller's own connection: this runs inside that connection's
            //  MessageNotify, and whether FltCloseClientPort waits for the port's callbacks
            //  to return is not documented.
            //
            if (connection == Caller) {

                FpsCommDereferenceConnection( connection );
                return STATUS_INVALID_PARAMETER;
            }

            valueResult.Value = connection->ConnectionId;
            status = FpsCommCloseConnection( connection );
            FpsCommDereferenceConnection( connection );

            if (!NT_SUCCESS( status )) {

                return status;
            }

            break;

        case FpsCmdTestScanPort:

            if (InputLength != sizeof( FPS_CMD_TEST_SCAN_PORT ) ||
                ((const FPS_CMD_TEST_SCAN_PORT *)Input)->Reserved != 0 ||
                ((const FPS_CMD_TEST_SCAN_PORT *)Input)->Action < FpsPortClose ||
                ((const FPS_CMD_TEST_SCAN_PORT *)Input)->Action > FpsPortReopen) {

                return STATUS_INVALID_PARAMETER;
            }

            status = FpsCommScanPortAction( ((const FPS_CMD_TEST_SCAN_PORT *)Input)->Action,
                                            &isOpen );

            if (!NT_SUCCESS( status )) {

                return status;
            }

            valueResult.Value = isOpen ? 1 : 0;
            break;

        case FpsCmdTestCreatePort:

            if (InputLength != sizeof( FPS_CMD_TEST_CREATE_PORT )) {

                return STATUS_INVALID_PARAMETER;
            }

            status = FpspTestCreatePort( (const FPS_CMD_TEST_CREATE_PORT *)Input,
                                         &valueResult.Value );

            if (!NT_SUCCESS( status )) {

                return status;
            }

            break;

        case FpsCmdTestClosePort:

            if (InputLength != sizeof( FPS_CMD_TEST_CLOSE_PORT ) ||
                (((const FPS_CMD_TEST_CLOSE_PORT *)Input)->Flags & ~FPS_TPORT_CLOSE_CLIENTS) != 0) {

                return STATUS_INVALID_PARAMETER;
            }

            status = FpspTestClosePort( ((const FPS_CMD_TEST_CLOSE_PORT *)Input)->PortId,
                                        (BOOLEAN)((((const FPS_CMD_TEST_CLOSE_PORT *)Input)->Flags &
                                                   FPS_TPORT_CLOSE_CLIENTS) != 0),
                                        &valueResult.Value );

            if (!NT_SUCCESS( status )) {

                return status;
            }

            break;

        case FpsCmdTestResetStats:

            if (InputLength != sizeof( FPS_CONTROL_HEADER )) {

                return STATUS_INVALID_PARAMETER;
            }

            RtlZeroMemory( &statsResult, sizeof( statsResult ) );
            FpsCommSnapshotStats( &statsResult.Stats, TRUE );

            return FpsCommCompleteControl( Input, &statsResult.Control, sizeof( statsResult ),
                                           OutputBuffer, OutputBufferLength,
                                           ReturnOutputBufferLength );

        default:

            return STATUS_INVALID_DEVICE_REQUEST;
    }

    return FpsCommCompleteControl( Input, &valueResult.Control, sizeof( valueResult ),
                                   OutputBuffer, OutputBufferLength,
                                   ReturnOutputBufferLength );
}

#else

//
//  Release builds: nothing here. (A translation unit must declare something.)
//
typedef int FPS_TEST_CONTROL_NOT_BUILT;

#endif  // FPS_TEST_CONTROL
