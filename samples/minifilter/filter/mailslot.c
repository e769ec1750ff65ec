/*++

Module Name:

    mailslot.c

Abstract:

    A one-way channel from user mode to the driver that needs no connection: the driver
    creates the mailslot FPS_MAILSLOT_NT_NAME (\\.\mailslot\fltport\sample in Win32
    terms) with FltCreateMailslotFile, and any process the mailslot's security descriptor
    admits can write short text notes into it:

        ping [token]
        set-mode audit | set-mode block
        set-timeout <milliseconds>
        rescan <path>               X:\dir\file, \??\X:\dir\file or \Device\...\file

    A dedicated system thread reads one note at a time (a mailslot read returns exactly
    one message, spec §10.3), validates it completely before acting on it, and reports
    every note - accepted or refused - with an FpsEventNoteResult NOTIFY to the scanners.

    Why a mailslot next to the ports: a writer needs no handshake, no connection slot and
    no protocol library; a shell script or an installer can drive the driver. The price is
    that mailslot writers are anonymous: the driver cannot tell who wrote a note. The only
    gate is the mailslot's security descriptor (SYSTEM, Administrators and the configured
    group may write), so every note is treated as untrusted input and a note can only do
    what the control port already allows those callers to do.

    Reading: the mailslot is opened for synchronous I/O and created with a short read
    timeout (FPS_MAILSLOT_POLL_MS). ZwReadFile therefore returns at least that often with
    STATUS_IO_TIMEOUT when nothing was written, and the thread checks its stop flag. Unload
    sets the flag and joins the thread; the mailslot is closed only after the thread has
    exited, so no read is ever outstanding on a closed handle.

    Compiled by the WDK and by fltsim-host (fltsim's fltKernel.h).

Environment:

    Kernel mode, PASSIVE_LEVEL.

--*/

#include "fps.h"

#define FPS_MAILSLOT_POLL_MS            250
#define FPS_MAILSLOT_ERROR_BACKOFF_MS   100
#define FPS_MAILSLOT_MAX_ERRORS         50      //  consecutive read failures before giving up
#define FPS_NOTE_MAX_PING_TOKEN         64

typedef struct _FPS_NOTE {

    FPS_NOTE_VERB Verb;
    const UCHAR *Argument;          //  into the read buffer; NULL if none
    ULONG ArgumentLength;

} FPS_NOTE, *PFPS_NOTE;

typedef struct _FPS_MAILSLOT_GLOBALS {

    PFLT_FILTER Filter;
    HANDLE Mailslot;                //  kernel handle, server (read) end
    HANDLE Thread;                  //  kernel handle of the reader thread
    volatile LONG StopRequested;
    PFPS_RESCAN_ROUTINE RescanRoutine;

    //
    //  Used only by the reader thread.
    //
    UCHAR Note[FPS_MAILSLOT_MAX_NOTE];
    WCHAR Echo[FPS_NOTIFY_TEXT_CHARS];
    WCHAR Path[4 + FPS_MAILSLOT_MAX_NOTE];

} FPS_MAILSLOT_GLOBALS;

static FPS_MAILSLOT_GLOBALS FpsMailslot;

static KSTART_ROUTINE FpspMailslotReader;

#ifdef ALLOC_PRAGMA
#pragma alloc_text(PAGE, FpsMailslotInitialize)
#pragma alloc_text(PAGE, FpsMailslotShutdown)
#pragma alloc_text(PAGE, FpspMailslotReader)
#endif

/* -----------------------------------------------------------------------------------------
 *  Parsing
 * -------------------------------------------------------------------------------------- */

static
BOOLEAN
FpspBytesEqual (
    _In_reads_bytes_(Length) const UCHAR *Bytes,
    _In_ ULONG Length,
    _In_z_ PCSTR Literal
    )
{
    ULONG i;

    for (i = 0; i < Length; i += 1) {

        if (Literal[i] == '\0' || (UCHAR)Literal[i] != Bytes[i]) {

            return FALSE;
        }
    }

    return (BOOLEAN)(Literal[Length] == '\0');
}

static
NTSTATUS
FpspParseNote (
    _In_reads_bytes_(Length) const UCHAR *Note,
    _In_ ULONG Length,
    _Out_ PFPS_NOTE Parsed
    )
/*++

Routine Description:

    Splits a note into verb and argument and checks its shape. Nothing is acted on here.

    Rules: 1..FPS_MAILSLOT_MAX_NOTE bytes; one trailing "\n" or "\r\n" is ignored (so
    `echo ping > \\.\mailslot\fltport\sample` works); no other control character and no
    NUL anywhere; the verb is lower-case ASCII; verb and argument are separated by exactly
    one space; the argument is not empty and does not start or end with a space.

Return Value:

    STATUS_SUCCESS, or STATUS_INVALID_PARAMETER (malformed) / STATUS_NOT_SUPPORTED
    (unknown verb) with Parsed->Verb = FpsNoteUnknown.

--*/
{
    ULONG i;
    ULONG verbLength;

    RtlZeroMemory( Parsed, sizeof( *Parsed ) );

    if (Length > 0 && Note[Length - 1] == '\n') {

        Length -= 1;

        if (Length > 0 && Note[Length - 1] == '\r') {

            Length -= 1;
        }
    }

    if (Length == 0) {

        return STATUS_INVALID_PARAMETER;
    }

    for (i = 0; i < Length; i += 1) {

        if (Note[i] < 0x20 || Note[i] == 0x7F) {

            return STATUS_INVALID_PARAMETER;
        }
    }

    for (verbLength = 0; verbLength < Length && Note[verbLength] != ' '; verbLength += 1) {

        if (!((Note[verbLength] >= 'a' && Note[verbLength] <= 'z') || Note[verbLength] == '-')) {

            return STATUS_INVALID_PARAMETER;
        }
    }

    if (verbLength < Length) {

        Parsed->Argument = Note + verbLength + 1;
        Parsed->ArgumentLength = Length - verbLength - 1;

        if (Parsed->ArgumentLength == 0 ||
            Parsed->Argument[0] == ' ' ||
            Parsed->Argument[Parsed->ArgumentLength - 1] == ' ') {

            return STATUS_INVALID_PARAMETER;
        }
    }

    if (FpspBytesEqual( Note, verbLength, "ping" )) {

        Parsed->Verb = FpsNotePing;

        if (Parsed->ArgumentLength > FPS_NOTE_MAX_PING_TOKEN) {

            return STATUS_INVALID_PARAMETER;
        }

    } else if (FpspBytesEqual( Note, verbLength, "set-mode" )) {

        Parsed->Verb = FpsNoteSetMode;

    } else if (FpspBytesEqual( Note, verbLength, "set-timeout" )) {

        Parsed->Verb = FpsNoteSetTimeout;

    } else if (FpspBytesEqual( Note, verbLength, "rescan" )) {

        Parsed->Verb = FpsNoteRescan;

    } else {

        return STATUS_NOT_SUPPORTED;
    }

    if (Parsed->Verb != FpsNotePing && Parsed->Argument == NULL) {

        return STATUS_INVALID_PARAMETER;
    }

    return STATUS_SUCCESS;
}

static
NTSTATUS
FpspParseMilliseconds (
    _In_reads_bytes_(Length) const UCHAR *Text,
    _In_ ULONG Length,
    _Out_ PULONG Value
    )
{
    ULONG value = 0;
    ULONG i;

    *Value = 0;

    //
    //  Decimal digits only, no sign, no leading zero, at most 5 digits (the maximum is
    //  60000): no overflow is possible and "0x10" or " 100" are refused, not guessed at.
    //
    if (Length == 0 || Length > 5 || (Text[0] == '0' && Length > 1)) {

        return STATUS_INVALID_PARAMETER;
    }

    for (i = 0; i < Length; i += 1) {

        if (Text[i] < '0' || Text[i] > '9') {

            return STATUS_INVALID_PARAMETER;
        }

        value = value * 10 + (ULONG)(Text[i] - '0');
    }

    if (value < FPS_MIN_SCAN_TIMEOUT_MS || value > FPS_MAX_SCAN_TIMEOUT_MS) {

        return STATUS_INVALID_PARAMETER;
    }

    *Value = value;
    return STATUS_SUCCESS;
}

static
NTSTATUS
FpspBuildRescanPath (
    _In_reads_bytes_(Length) const UCHAR *Text,
    _In_ ULONG Length,
    _Out_ PUNICODE_STRING Path
    )
/*++

Routine Description:

    Turns the UTF-8 argument of "rescan" into an NT path in FpsMailslot.Path:
    "X:\..." becomes "\??\X:\...", "\??\..." and "\Device\..." are kept. Relative paths,
    UNC paths and anything that is not valid UTF-8 are refused: the driver must not guess
    which file was meant.

--*/
{
    NTSTATUS status;
    ULONG prefixChars = 0;
    ULONG bytes = 0;
    PWCHAR out = FpsMailslot.Path;
    BOOLEAN driveLetter;

    RtlZeroMemory( Path, sizeof( *Path ) );

    driveLetter = (BOOLEAN)(Length >= 3 &&
                            ((Text[0] >= 'A' && Text[0] <= 'Z') || (Text[0] >= 'a' && Text[0] <= 'z')) &&
                            Text[1] == ':' &&
                            Text[2] == '\\');

    if (driveLetter) {

        out[0] = L'\\';
        out[1] = L'?';
        out[2] = L'?';
        out[3] = L'\\';
        prefixChars = 4;

    } else if (!((Length > 4 && Text[0] == '\\' && Text[1] == '?' && Text[2] == '?' && Text[3] == '\\') ||
                 (Length > 8 && FpspBytesEqual( Text, 8, "\\Device\\" )))) {

        return STATUS_OBJECT_PATH_SYNTAX_BAD;
    }

    status = RtlUTF8ToUnicodeN( out + prefixChars,
                                (ULONG)(sizeof( FpsMailslot.Path ) - prefixChars * sizeof( WCHAR )),
                                &bytes,
                                (PCCH)Text,
                                Length );

    //
    //  STATUS_SOME_NOT_MAPPED is a success code that means "invalid UTF-8 was replaced
    //  with U+FFFD": a path with replaced characters names some other file.
    //
    if (status != STATUS_SUCCESS) {

        return STATUS_OBJECT_NAME_INVALID;
    }

    Path->Buffer = out;
    Path->Length = (USHORT)(prefixChars * sizeof( WCHAR ) + bytes);
    Path->MaximumLength = Path->Length;

    return STATUS_SUCCESS;
}

static
NTSTATUS
FpspApplyNote (
    _In_ PFPS_NOTE Note
    )
{
    NTSTATUS status;
    ULONG milliseconds;
    UNICODE_STRING path;

    switch (Note->Verb) {

        case FpsNotePing:
            return STATUS_SUCCESS;

        case FpsNoteSetMode:
            if (FpspBytesEqual( Note->Argument, Note->ArgumentLength, "audit" )) {

                return FpsCommSetPolicy( FpsModeAudit, FPS_TIMEOUT_UNCHANGED );
            }

            if (FpspBytesEqual( Note->Argument, Note->ArgumentLength, "block" )) {

                return FpsCommSetPolicy( FpsModeBlock, FPS_TIMEOUT_UNCHANGED );
            }

            return STATUS_INVALID_PARAMETER;

        case FpsNoteSetTimeout:
            status = FpspParseMilliseconds( Note->Argument, Note->ArgumentLength, &milliseconds );

            if (!NT_SUCCESS( status )) {

                return status;
            }

            return FpsCommSetPolicy( FPS_MODE_UNCHANGED, milliseconds );

        case FpsNoteRescan:
            if (FpsMailslot.RescanRoutine == NULL) {

                return STATUS_NOT_SUPPORTED;
            }

            status = FpspBuildRescanPath( Note->Argument, Note->ArgumentLength, &path );

            if (!NT_SUCCESS( status )) {

                return status;
            }

            return FpsMailslot.RescanRoutine( &path );

        default:
            return STATUS_NOT_SUPPORTED;
    }
}

static
VOID
FpspHandleNote (
    _In_ ULONG Length
    )
{
    NTSTATUS status;
    NTSTATUS decodeStatus;
    FPS_NOTE note;
    ULONG echoBytes = 0;

    FpsCommCount( FpsCounterMailslotNotes );

    //
    //  The echo in the NOTIFY is for people reading logs: lossy is fine, so replaced
    //  characters (STATUS_SOME_NOT_MAPPED) and truncation (STATUS_BUFFER_TOO_SMALL, which
    //  still reports what was written) are both accepted here.
    //
    decodeStatus = RtlUTF8ToUnicodeN( FpsMailslot.Echo,
                                      sizeof( FpsMailslot.Echo ),
                                      &echoBytes,
                                      (PCCH)FpsMailslot.Note,
                                      Length );

    if (!NT_SUCCESS( decodeStatus ) && decodeStatus != STATUS_BUFFER_TOO_SMALL) {

        echoBytes = 0;
    }

    status = FpspParseNote( FpsMailslot.Note, Length, &note );

    if (NT_SUCCESS( status )) {

        status = FpspApplyNote( &note );
    }

    if (!NT_SUCCESS( status )) {

        FpsCommCount( FpsCounterMailslotNotesRejected );
        FpsTrace( DPFLTR_WARNING_LEVEL, "mailslot note refused: 0x%08X\n", (ULONG)status );
    }

    FpsCommNotify( FpsEventNoteResult,
                   status,
                   (ULONG)note.Verb,
                   FpsMailslot.Echo,
                   echoBytes / (ULONG)sizeof( WCHAR ) );
}

/* -----------------------------------------------------------------------------------------
 *  Reader thread
 * -------------------------------------------------------------------------------------- */

static
VOID
FpspMailslotReader (
    _In_ PVOID StartContext
    )
/*++

Routine Description:

    Reads and handles notes until asked to stop. Every operation in the loop is bounded
    (the read by the mailslot's read timeout, a rescan by the scan timeout, notifications
    by FPS_NOTIFY_TIMEOUT_MS), so FpsMailslotShutdown's join is bounded too.

--*/
{
    NTSTATUS status;
    IO_STATUS_BLOCK iosb;
    LARGE_INTEGER backoff;
    ULONG errors = 0;

    UNREFERENCED_PARAMETER( StartContext );

    PAGED_CODE();

    while (!FpsMailslot.StopRequested) {

        RtlZeroMemory( &iosb, sizeof( iosb ) );

        //
        //  The buffer is as large as the mailslot's MaximumMessageSize, so a message never
        //  fails for want of room (spec G24).
        //
        status = ZwReadFile( FpsMailslot.Mailslot,
                             NULL,
                             NULL,
                             NULL,
                             &iosb,
                             FpsMailslot.Note,
                             sizeof( FpsMailslot.Note ),
                             NULL,
                             NULL );

        if (status == STATUS_IO_TIMEOUT) {

            //
            //  Nothing written during the poll interval: look at the stop flag again.
            //
            continue;
        }

        if (NT_SUCCESS( status )) {

            errors = 0;
            FpspHandleNote( (ULONG)FPS_MIN( iosb.Information, sizeof( FpsMailslot.Note ) ) );
            continue;
        }

        FpsCommCount( FpsCounterMailslotReadErrors );
        FpsTrace( DPFLTR_ERROR_LEVEL, "mailslot read failed 0x%08X\n", (ULONG)status );

        errors += 1;

        if (errors >= FPS_MAILSLOT_MAX_ERRORS) {

            //
            //  Something is persistently wrong with the mailslot; stop rather than spin.
            //  GET_STATS shows the mailslot feature as gone.
            //
            break;
        }

        backoff.QuadPart = FPS_RELATIVE_MS( FPS_MAILSLOT_ERROR_BACKOFF_MS );
        (VOID)KeDelayExecutionThread( KernelMode, FALSE, &backoff );
    }

    FpsCommSetMailslotRunning( FALSE );
    PsTerminateSystemThread( STATUS_SUCCESS );
}

/* -----------------------------------------------------------------------------------------
 *  Initialization and shutdown
 * -------------------------------------------------------------------------------------- */

NTSTATUS
FpsMailslotInitialize (
    _In_ PFLT_FILTER Filter,
    _In_ PCFPS_SETTINGS Settings
    )
/*++

Routine Description:

    Creates the mailslot and starts the reader. On failure nothing is left behind.

    The mailslot gets an explicit security descriptor: SYSTEM and Administrators have full
    access and the configured group may write. Without one it would get a default that
    depends on the creating thread's token, which is not something to leave to chance for
    a channel that can switch the driver into block mode.

--*/
{
    NTSTATUS status;
    PSECURITY_DESCRIPTOR sd = NULL;
    UNICODE_STRING name;
    OBJECT_ATTRIBUTES oa;
    IO_STATUS_BLOCK iosb;
    LARGE_INTEGER readTimeout;

    PAGED_CODE();

    RtlZeroMemory( &FpsMailslot, sizeof( FpsMailslot ) );
    FpsMailslot.Filter = Filter;
    FpsMailslot.RescanRoutine = Settings->RescanRoutine;

    status = FpsCommBuildSecurityDescriptor( FpsSecurityDefault,
                                             FILE_ALL_ACCESS,
                                             FILE_GENERIC_WRITE,
                                             NULL,
                                             &sd );

    if (!NT_SUCCESS( status )) {

        return status;
    }

    RtlInitUnicodeString( &name, FPS_MAILSLOT_NT_NAME );
    InitializeObjectAttributes( &oa, &name, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, sd );

    readTimeout.QuadPart = FPS_RELATIVE_MS( FPS_MAILSLOT_POLL_MS );

    //
    //  Instance NULL: the create goes to the top of the mailslot file system's stack; this
    //  filter does not attach to it. FILE_SYNCHRONOUS_IO_NONALERT (which needs SYNCHRONIZE)
    //  makes ZwReadFile wait for a message or the read timeout and return the final status.
    //
    status = FltCreateMailslotFile( Filter,
                                    NULL,
                                    &FpsMailslot.Mailslot,
                                    NULL,
                                    GENERIC_READ | SYNCHRONIZE,
                                    &oa,
                                    &iosb,
                                    FILE_SYNCHRONOUS_IO_NONALERT,
                                    FPS_MAILSLOT_QUOTA,
                                    FPS_MAILSLOT_MAX_NOTE,
                                    &readTimeout,
                                    NULL );

    FpsCommFreeSecurityDescriptor( sd );

    if (!NT_SUCCESS( status )) {

        //
        //  STATUS_OBJECT_NAME_COLLISION: someone already created a mailslot of that name.
        //
        FpsTrace( DPFLTR_ERROR_LEVEL, "FltCreateMailslotFile failed 0x%08X\n", (ULONG)status );
        FpsMailslot.Mailslot = NULL;
        return status;
    }

    InitializeObjectAttributes( &oa, NULL, OBJ_KERNEL_HANDLE, NULL, NULL );

    status = PsCreateSystemThread( &FpsMailslot.Thread,
                                   THREAD_ALL_ACCESS,
                                   &oa,
                                   NULL,
                                   NULL,
                                   FpspMailslotReader,
                                   NULL );

    if (!NT_SUCCESS( status )) {

        FpsMailslot.Thread = NULL;
        ZwClose( FpsMailslot.Mailslot );
        FpsMailslot.Mailslot = NULL;
        return status;
    }

    FpsCommSetMailslotRunning( TRUE );

    return STATUS_SUCCESS;
}

VOID
FpsMailslotShutdown (
    VOID
    )
/*++

Routine Description:

    Stops the reader, waits for its thread object (not just for the loop to end: the
    driver's code must not be running on that thread when the image unloads), then closes
    the mailslot. Safe to call if FpsMailslotInitialize failed or was never called.

--*/
{
    PAGED_CODE();

    if (FpsMailslot.Thread != NULL) {

        InterlockedExchange( &FpsMailslot.StopRequested, 1 );
        (VOID)ZwWaitForSingleObject( FpsMailslot.Thread, FALSE, NULL );
        ZwClose( FpsMailslot.Thread );
        FpsMailslot.Thread = NULL;
    }

    if (FpsMailslot.Mailslot != NULL) {

        ZwClose( FpsMailslot.Mailslot );
        FpsMailslot.Mailslot = NULL;
    }

    FpsCommSetMailslotRunning( FALSE );
}
