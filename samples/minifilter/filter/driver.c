/*++

Module Name:

    driver.c

Abstract:

    Entry and exit of the fltport sample minifilter: reads its settings from the service's
    Parameters key, registers with the Filter Manager, brings up the communication ports,
    the I/O callbacks and the note mailslot, and takes all of it down again in the one
    order that cannot hang or leave a thread running in an unloaded image.

    Registry values (under the service key's Parameters subkey; the INF writes defaults):

      Mode             REG_DWORD     0 = audit (default), 1 = block
      ScanTimeoutMs    REG_DWORD     FPS_MIN_SCAN_TIMEOUT_MS..FPS_MAX_SCAN_TIMEOUT_MS,
                                     default FPS_DEFAULT_SCAN_TIMEOUT_MS
      AllowedGroupSid  REG_SZ        e.g. S-1-5-32-545: a group whose members may connect
                                     to the ports and write notes without being
                                     administrators. Absent = SYSTEM and Administrators
                                     only. A malformed value fails the load.
      Extensions       REG_MULTI_SZ  extensions to scan, without the dot; "*" = all files.
                                     Absent = "txt".
      EnableMailslot   REG_DWORD     1 (default) or 0

Environment:

    Kernel mode, PASSIVE_LEVEL.

--*/

#include "operations.h"

DRIVER_INITIALIZE DriverEntry;

#define FPS_MAX_EXTENSIONS          64
#define FPS_MAX_EXTENSION_CHARS     32
#define FPS_MAX_REGISTRY_VALUE      (64 * 1024)

typedef struct _FPS_DRIVER_GLOBALS {

    PFLT_FILTER Filter;
    FPS_SETTINGS Settings;          //  Settings.AllowedGroupSid: FPS_TAG_SETTINGS

} FPS_DRIVER_GLOBALS;

static FPS_DRIVER_GLOBALS FpsDriver;

typedef
NTSTATUS
(*PFN_IO_OPEN_DRIVER_REGISTRY_KEY) (
    _In_ PDRIVER_OBJECT DriverObject,
    _In_ DRIVER_REGKEY_TYPE RegKeyType,
    _In_ ACCESS_MASK DesiredAccess,
    _In_ ULONG Flags,
    _Out_ PHANDLE DriverRegKey
    );

static
NTSTATUS
FLTAPI
FpsUnload (
    _In_ FLT_FILTER_UNLOAD_FLAGS Flags
    );

static
NTSTATUS
FpspReadParameters (
    _In_ PDRIVER_OBJECT DriverObject,
    _In_ PUNICODE_STRING RegistryPath,
    _Outptr_result_maybenull_ PUNICODE_STRING *Extensions,
    _Out_ PULONG ExtensionCount
    );

static
VOID
FpspFreeExtensions (
    _In_opt_ PUNICODE_STRING Extensions,
    _In_ ULONG ExtensionCount
    );

#ifdef ALLOC_PRAGMA
#pragma alloc_text(INIT, DriverEntry)
#pragma alloc_text(INIT, FpspReadParameters)
#pragma alloc_text(PAGE, FpsUnload)
#pragma alloc_text(PAGE, FpspFreeExtensions)
#endif

/* -----------------------------------------------------------------------------------------
 *  Registration
 * -------------------------------------------------------------------------------------- */

static const FLT_OPERATION_REGISTRATION FpsCallbacks[] = {

    { IRP_MJ_CREATE,    0, FpsPreCreate,  FpsPostCreate },
    { IRP_MJ_WRITE,     0, FpsPreWrite,   NULL },
    { IRP_MJ_CLEANUP,   0, FpsPreCleanup, NULL },
    { IRP_MJ_OPERATION_END }
};

static const FLT_CONTEXT_REGISTRATION FpsContexts[] = {

    { FLT_INSTANCE_CONTEXT, 0, NULL,                    sizeof( FPS_INSTANCE_CONTEXT ), FPS_TAG_INSTANCE_CONTEXT },
    { FLT_STREAM_CONTEXT,   0, FpsStreamContextCleanup, sizeof( FPS_STREAM_CONTEXT ),   FPS_TAG_STREAM_CONTEXT },
    { FLT_CONTEXT_END }
};

static const FLT_REGISTRATION FpsRegistration = {

    sizeof( FLT_REGISTRATION ),         //  Size
    FLT_REGISTRATION_VERSION,           //  Version
    0,                                  //  Flags: service stop / fltmc unload allowed
    FpsContexts,                        //  ContextRegistration
    FpsCallbacks,                       //  OperationRegistration
    FpsUnload,                          //  FilterUnloadCallback
    FpsInstanceSetup,                   //  InstanceSetupCallback
    FpsInstanceQueryTeardown,           //  InstanceQueryTeardownCallback
    NULL,                               //  InstanceTeardownStartCallback
    NULL,                               //  InstanceTeardownCompleteCallback
    NULL,                               //  GenerateFileNameCallback
    NULL,                               //  NormalizeNameComponentCallback
    NULL                                //  NormalizeContextCleanupCallback
};

/* -----------------------------------------------------------------------------------------
 *  Settings
 * -------------------------------------------------------------------------------------- */

static
NTSTATUS
FpspOpenParametersKey (
    _In_ PDRIVER_OBJECT DriverObject,
    _In_ PUNICODE_STRING RegistryPath,
    _Out_ PHANDLE Key
    )
/*++

Routine Description:

    Opens the service's Parameters key. IoOpenDriverRegistryKey is the documented way for
    a driver package that follows driver isolation rules; it is looked up at run time
    because older Windows 10 releases do not export it, and the classic path under the
    service key is used there (as Microsoft's scanner sample does).

--*/
{
    NTSTATUS status;
    UNICODE_STRING routineName;
    UNICODE_STRING subkey;
    PFN_IO_OPEN_DRIVER_REGISTRY_KEY openDriverRegistryKey;
    OBJECT_ATTRIBUTES oa;
    HANDLE serviceKey = NULL;

    *Key = NULL;

    RtlInitUnicodeString( &routineName, L"IoOpenDriverRegistryKey" );
    openDriverRegistryKey = (PFN_IO_OPEN_DRIVER_REGISTRY_KEY)MmGetSystemRoutineAddress( &routineName );

    if (openDriverRegistryKey != NULL) {

        return openDriverRegistryKey( DriverObject, DriverRegKeyParameters, KEY_READ, 0, Key );
    }

    InitializeObjectAttributes( &oa, RegistryPath, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, NULL, NULL );

    status = ZwOpenKey( &serviceKey, KEY_READ, &oa );

    if (!NT_SUCCESS( status )) {

        return status;
    }

    RtlInitUnicodeString( &subkey, L"Parameters" );
    InitializeObjectAttributes( &oa, &subkey, OBJ_CASE_INSENSITIVE | OBJ_KERNEL_HANDLE, serviceKey, NULL );

    status = ZwOpenKey( Key, KEY_READ, &oa );

    ZwClose( serviceKey );

    return status;
}

static
NTSTATUS
FpspQueryValue (
    _In_ HANDLE Key,
    _In_z_ PCWSTR Name,
    _In_ ULONG Type,
    _Outptr_ PKEY_VALUE_PARTIAL_INFORMATION *Value
    )
/*++

Routine Description:

    Reads a value of the given type into a new paged buffer (FPS_TAG_SETTINGS).
    STATUS_OBJECT_NAME_NOT_FOUND if it does not exist, STATUS_OBJECT_TYPE_MISMATCH if it
    has another type.

--*/
{
    NTSTATUS status;
    UNICODE_STRING name;
    ULONG length = 0;
    PKEY_VALUE_PARTIAL_INFORMATION value;

    *Value = NULL;

    RtlInitUnicodeString( &name, Name );

    status = ZwQueryValueKey( Key, &name, KeyValuePartialInformation, NULL, 0, &length );

    if (status != STATUS_BUFFER_TOO_SMALL && status != STATUS_BUFFER_OVERFLOW) {

        return NT_SUCCESS( status ) ? STATUS_UNSUCCESSFUL : status;
    }

    if (length > FPS_MAX_REGISTRY_VALUE) {

        return STATUS_INVALID_PARAMETER;
    }

    value = ExAllocatePoolZero( PagedPool, length, FPS_TAG_SETTINGS );

    if (value == NULL) {

        return STATUS_INSUFFICIENT_RESOURCES;
    }

    status = ZwQueryValueKey( Key, &name, KeyValuePartialInformation, value, length, &length );

    if (NT_SUCCESS( status ) && value->Type != Type) {

        status = STATUS_OBJECT_TYPE_MISMATCH;
    }

    if (!NT_SUCCESS( status )) {

        ExFreePoolWithTag( value, FPS_TAG_SETTINGS );
        return status;
    }

    *Value = value;
    return STATUS_SUCCESS;
}

static
VOID
FpspReadDword (
    _In_ HANDLE Key,
    _In_z_ PCWSTR Name,
    _Inout_ PULONG Value
    )
{
    PKEY_VALUE_PARTIAL_INFORMATION value;

    if (NT_SUCCESS( FpspQueryValue( Key, Name, REG_DWORD, &value ) )) {

        if (value->DataLength == sizeof( ULONG )) {

            RtlCopyMemory( Value, value->Data, sizeof( ULONG ) );
        }

        ExFreePoolWithTag( value, FPS_TAG_SETTINGS );
    }
}

static
BOOLEAN
FpspParseDecimal (
    _In_reads_(Chars) PCWCH Text,
    _In_ ULONG Chars,
    _Inout_ PULONG Position,
    _In_ ULONGLONG Maximum,
    _Out_ PULONGLONG Value
    )
{
    ULONGLONG value = 0;
    ULONG start = *Position;

    while (*Position < Chars && Text[*Position] >= L'0' && Text[*Position] <= L'9') {

        value = value * 10 + (ULONG)(Text[*Position] - L'0');

        if (value > Maximum) {

            return FALSE;
        }

        *Position += 1;
    }

    *Value = value;
    return (BOOLEAN)(*Position > start);
}

static
NTSTATUS
FpspParseSidString (
    _In_reads_(Chars) PCWCH Text,
    _In_ ULONG Chars,
    _Outptr_ PSID *Sid
    )
/*++

Routine Description:

    Parses "S-1-<authority>-<sub>[-<sub>...]" (decimal, 1 to 15 sub-authorities) into a
    new SID. The kernel has no exported string-to-SID conversion, and this is the only form
    the sample accepts: well-known aliases such as "BU" are not.

--*/
{
    ULONG position = 0;
    ULONGLONG number;
    ULONGLONG authority;
    ULONG subAuthorities[SID_MAX_SUB_AUTHORITIES];
    UCHAR count = 0;
    SID_IDENTIFIER_AUTHORITY identifierAuthority;
    PSID sid;
    ULONG i;
    NTSTATUS status;

    *Sid = NULL;

    if (Chars < 4 ||
        (Text[0] != L'S' && Text[0] != L's') || Text[1] != L'-' || Text[2] != L'1' || Text[3] != L'-') {

        return STATUS_INVALID_SID;
    }

    position = 4;

    if (!FpspParseDecimal( Text, Chars, &position, 0xFFFFFFFFFFFFull, &authority )) {

        return STATUS_INVALID_SID;
    }

    while (position < Chars) {

        if (Text[position] != L'-' || count == SID_MAX_SUB_AUTHORITIES) {

            return STATUS_INVALID_SID;
        }

        position += 1;

        if (!FpspParseDecimal( Text, Chars, &position, 0xFFFFFFFFull, &number )) {

            return STATUS_INVALID_SID;
        }

        subAuthorities[count] = (ULONG)number;
        count += 1;
    }

    if (count == 0) {

        return STATUS_INVALID_SID;
    }

    for (i = 0; i < 6; i += 1) {

        identifierAuthority.Value[i] = (UCHAR)(authority >> (8 * (5 - i)));
    }

    sid = ExAllocatePoolZero( PagedPool, RtlLengthRequiredSid( count ), FPS_TAG_SETTINGS );

    if (sid == NULL) {

        return STATUS_INSUFFICIENT_RESOURCES;
    }

    status = RtlInitializeSid( sid, &identifierAuthority, count );

    if (!NT_SUCCESS( status )) {

        ExFreePoolWithTag( sid, FPS_TAG_SETTINGS );
        return status;
    }

    for (i = 0; i < count; i += 1) {

        *RtlSubAuthoritySid( sid, i ) = subAuthorities[i];
    }

    *Sid = sid;
    return STATUS_SUCCESS;
}

static
NTSTATUS
FpspParseExtensions (
    _In_ PKEY_VALUE_PARTIAL_INFORMATION Value,
    _Outptr_result_maybenull_ PUNICODE_STRING *Extensions,
    _Out_ PULONG ExtensionCount
    )
/*++

Routine Description:

    Turns a REG_MULTI_SZ into an array of strings. The data is not trusted to be properly
    terminated: only DataLength bytes are read. A leading dot is dropped (".txt" and "txt"
    are the same); empty entries and entries longer than FPS_MAX_EXTENSION_CHARS are
    ignored.

--*/
{
    PCWCH chars = (PCWCH)Value->Data;
    ULONG total = Value->DataLength / (ULONG)sizeof( WCHAR );
    ULONG start = 0;
    ULONG end;
    ULONG count = 0;
    PUNICODE_STRING extensions;

    *Extensions = NULL;
    *ExtensionCount = 0;

    extensions = ExAllocatePoolZero( PagedPool,
                                     FPS_MAX_EXTENSIONS * sizeof( UNICODE_STRING ),
                                     FPS_TAG_SETTINGS );

    if (extensions == NULL) {

        return STATUS_INSUFFICIENT_RESOURCES;
    }

    while (start < total && count < FPS_MAX_EXTENSIONS) {

        for (end = start; end < total && chars[end] != L'\0'; end += 1) {
        }

        if (end > start && chars[start] == L'.') {

            start += 1;
        }

        if (end > start && end - start <= FPS_MAX_EXTENSION_CHARS) {

            extensions[count].Buffer = ExAllocatePoolZero( PagedPool,
                                                           (end - start) * sizeof( WCHAR ),
                                                           FPS_TAG_SETTINGS );

            if (extensions[count].Buffer == NULL) {

                FpspFreeExtensions( extensions, count );
                return STATUS_INSUFFICIENT_RESOURCES;
            }

            RtlCopyMemory( extensions[count].Buffer, &chars[start], (end - start) * sizeof( WCHAR ) );
            extensions[count].Length = (USHORT)((end - start) * sizeof( WCHAR ));
            extensions[count].MaximumLength = extensions[count].Length;
            count += 1;
        }

        start = end + 1;
    }

    *Extensions = extensions;
    *ExtensionCount = count;
    return STATUS_SUCCESS;
}

static
NTSTATUS
FpspDefaultExtensions (
    _Outptr_ PUNICODE_STRING *Extensions,
    _Out_ PULONG ExtensionCount
    )
/*++

Routine Description:

    The list used when the registry has none: "txt" only. Deliberately small: a filter
    that scans every file open on the machine by default makes a poor sample.

--*/
{
    static const WCHAR txt[] = { L't', L'x', L't' };
    PUNICODE_STRING extensions;

    *Extensions = NULL;
    *ExtensionCount = 0;

    extensions = ExAllocatePoolZero( PagedPool, sizeof( UNICODE_STRING ), FPS_TAG_SETTINGS );

    if (extensions == NULL) {

        return STATUS_INSUFFICIENT_RESOURCES;
    }

    extensions[0].Buffer = ExAllocatePoolZero( PagedPool, sizeof( txt ), FPS_TAG_SETTINGS );

    if (extensions[0].Buffer == NULL) {

        ExFreePoolWithTag( extensions, FPS_TAG_SETTINGS );
        return STATUS_INSUFFICIENT_RESOURCES;
    }

    RtlCopyMemory( extensions[0].Buffer, txt, sizeof( txt ) );
    extensions[0].Length = sizeof( txt );
    extensions[0].MaximumLength = sizeof( txt );

    *Extensions = extensions;
    *ExtensionCount = 1;
    return STATUS_SUCCESS;
}

static
VOID
FpspFreeExtensions (
    _In_opt_ PUNICODE_STRING Extensions,
    _In_ ULONG ExtensionCount
    )
{
    ULONG i;

    PAGED_CODE();

    if (Extensions == NULL) {

        return;
    }

    for (i = 0; i < ExtensionCount; i += 1) {

        if (Extensions[i].Buffer != NULL) {

            ExFreePoolWithTag( Extensions[i].Buffer, FPS_TAG_SETTINGS );
        }
    }

    ExFreePoolWithTag( Extensions, FPS_TAG_SETTINGS );
}

static
NTSTATUS
FpspReadParameters (
    _In_ PDRIVER_OBJECT DriverObject,
    _In_ PUNICODE_STRING RegistryPath,
    _Outptr_result_maybenull_ PUNICODE_STRING *Extensions,
    _Out_ PULONG ExtensionCount
    )
/*++

Routine Description:

    Fills FpsDriver.Settings and the extension list from the registry. A missing key or
    value means the default; a group SID that is present but malformed fails the load, so
    the mistake shows up in "fltmc load" instead of as a service that cannot connect.

--*/
{
    NTSTATUS status;
    HANDLE key = NULL;
    PKEY_VALUE_PARTIAL_INFORMATION value = NULL;
    ULONG enableMailslot = 1;
    ULONG chars;

    *Extensions = NULL;
    *ExtensionCount = 0;

    status = FpspOpenParametersKey( DriverObject, RegistryPath, &key );

    if (!NT_SUCCESS( status )) {

        FpsTrace( DPFLTR_WARNING_LEVEL, "no Parameters key (0x%08X): defaults\n", (ULONG)status );
        return FpspDefaultExtensions( Extensions, ExtensionCount );
    }

    FpspReadDword( key, L"Mode", &FpsDriver.Settings.Mode );
    FpspReadDword( key, L"ScanTimeoutMs", &FpsDriver.Settings.ScanTimeoutMs );
    FpspReadDword( key, L"EnableMailslot", &enableMailslot );
    FpsDriver.Settings.EnableMailslot = (BOOLEAN)(enableMailslot != 0);

    status = FpspQueryValue( key, L"AllowedGroupSid", REG_SZ, &value );

    if (NT_SUCCESS( status )) {

        //
        //  REG_SZ data normally ends with a NUL that is not part of the string.
        //
        chars = value->DataLength / (ULONG)sizeof( WCHAR );

        while (chars > 0 && ((PCWCH)value->Data)[chars - 1] == L'\0') {

            chars -= 1;
        }

        status = (chars == 0) ? STATUS_SUCCESS :
                 FpspParseSidString( (PCWCH)value->Data, chars, &FpsDriver.Settings.AllowedGroupSid );

        ExFreePoolWithTag( value, FPS_TAG_SETTINGS );
        value = NULL;

        if (!NT_SUCCESS( status )) {

            FpsTrace( DPFLTR_ERROR_LEVEL, "AllowedGroupSid is malformed (0x%08X)\n", (ULONG)status );
            goto Cleanup;
        }

    } else if (status != STATUS_OBJECT_NAME_NOT_FOUND) {

        //
        //  Present but unreadable or of the wrong type: same rule as malformed.
        //
        goto Cleanup;
    }

    status = FpspQueryValue( key, L"Extensions", REG_MULTI_SZ, &value );

    if (NT_SUCCESS( status )) {

        status = FpspParseExtensions( value, Extensions, ExtensionCount );
        ExFreePoolWithTag( value, FPS_TAG_SETTINGS );

    } else {

        status = FpspDefaultExtensions( Extensions, ExtensionCount );
    }

Cleanup:

    ZwClose( key );
    return status;
}

/* -----------------------------------------------------------------------------------------
 *  Load and unload
 * -------------------------------------------------------------------------------------- */

NTSTATUS
DriverEntry (
    _In_ PDRIVER_OBJECT DriverObject,
    _In_ PUNICODE_STRING RegistryPath
    )
/*++

Routine Description:

    Order: settings, FltRegisterFilter, the I/O side, the ports, FltStartFiltering, then
    the mailslot (its "rescan" notes need filtering to have started). The mailslot is a
    convenience: if it cannot be created (its name is taken, say) the driver runs without
    it and GET_STATS says so.

--*/
{
    NTSTATUS status;
    PUNICODE_STRING extensions = NULL;
    ULONG extensionCount = 0;
    BOOLEAN opsInitialized = FALSE;
    BOOLEAN commInitialized = FALSE;

    //
    //  With POOL_NX_OPTIN=1, makes NonPagedPool requests (e.g. inside WDK inline helpers)
    //  non-executable. The driver's own allocations ask for NonPagedPoolNx explicitly.
    //
    ExInitializeDriverRuntime( DrvRtPoolNxOptIn );

    RtlZeroMemory( &FpsDriver, sizeof( FpsDriver ) );
    FpsDriver.Settings.Mode = FpsModeAudit;
    FpsDriver.Settings.ScanTimeoutMs = FPS_DEFAULT_SCAN_TIMEOUT_MS;
    FpsDriver.Settings.EnableMailslot = TRUE;
    FpsDriver.Settings.RescanRoutine = FpsOpsRescanPath;

    status = FpspReadParameters( DriverObject, RegistryPath, &extensions, &extensionCount );

    if (!NT_SUCCESS( status )) {

        goto Failed;
    }

    status = FltRegisterFilter( DriverObject, &FpsRegistration, &FpsDriver.Filter );

    if (!NT_SUCCESS( status )) {

        FpsDriver.Filter = NULL;
        goto Failed;
    }

    status = FpsOpsInitialize( FpsDriver.Filter, extensions, extensionCount );

    if (!NT_SUCCESS( status )) {

        goto Failed;
    }

    opsInitialized = TRUE;
    extensions = NULL;          //  owned by operations.c now

    //
    //  Shutdown and Finalize are owed even if this fails (see FpsCommInitialize).
    //
    status = FpsCommInitialize( FpsDriver.Filter, &FpsDriver.Settings );
    commInitialized = TRUE;

    if (!NT_SUCCESS( status )) {

        goto Failed;
    }

    status = FltStartFiltering( FpsDriver.Filter );

    if (!NT_SUCCESS( status )) {

        goto Failed;
    }

    if (FpsDriver.Settings.EnableMailslot) {

        NTSTATUS mailslotStatus = FpsMailslotInitialize( FpsDriver.Filter, &FpsDriver.Settings );

        if (!NT_SUCCESS( mailslotStatus )) {

            FpsTrace( DPFLTR_WARNING_LEVEL, "running without the mailslot (0x%08X)\n",
                      (ULONG)mailslotStatus );
        }
    }

    return STATUS_SUCCESS;

Failed:

    if (commInitialized) {

        FpsCommShutdown();
    }

    if (opsInitialized) {

        FpsOpsShutdown();
    }

    if (FpsDriver.Filter != NULL) {

        FltUnregisterFilter( FpsDriver.Filter );
    }

    if (commInitialized) {

        FpsCommFinalize();
    }

    if (opsInitialized) {

        FpsOpsFinalize();
    }

    FpspFreeExtensions( extensions, extensionCount );

    if (FpsDriver.Settings.AllowedGroupSid != NULL) {

        ExFreePoolWithTag( FpsDriver.Settings.AllowedGroupSid, FPS_TAG_SETTINGS );
    }

    return status;
}

static
NTSTATUS
FLTAPI
FpsUnload (
    _In_ FLT_FILTER_UNLOAD_FLAGS Flags
    )
/*++

Routine Description:

    Unload order, and why:

    1. Mailslot: its thread may be sending a notification or opening a file for a rescan;
       both need the ports and the filter. Joined, then the mailslot is closed.
    2. Communication, first half: close the server ports BEFORE FltUnregisterFilter (spec
       §7.3), then every client port, which releases any FltSendMessage waiting in an I/O
       path or a test run; test sender threads are joined.
    3. Operations: wait for queued paging-write scans (they find no scanner now).
    4. FltUnregisterFilter: no callback runs after it returns.
    5. Free what callbacks used until then: the connection lock, the extension list, the
       settings.

    Optional unloads (fltmc unload, service stop) are not refused: a connected service
    sees its port disconnect (ERROR_INVALID_HANDLE, spec G5) and can reconnect later.

--*/
{
    UNREFERENCED_PARAMETER( Flags );

    PAGED_CODE();

    FpsMailslotShutdown();
    FpsCommShutdown();
    FpsOpsShutdown();

    FltUnregisterFilter( FpsDriver.Filter );

    FpsCommFinalize();
    FpsOpsFinalize();

    if (FpsDriver.Settings.AllowedGroupSid != NULL) {

        ExFreePoolWithTag( FpsDriver.Settings.AllowedGroupSid, FPS_TAG_SETTINGS );
        FpsDriver.Settings.AllowedGroupSid = NULL;
    }

    return STATUS_SUCCESS;
}
