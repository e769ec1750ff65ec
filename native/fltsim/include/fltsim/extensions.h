/*
 * fltsim extensions to the kernel API: what a driver running inside fltsim-host needs beyond
 * the WDK subset in fltKernel.h. Shared driver code guards their use with `#ifdef FLTSIM`;
 * a WDK build never sees this header.
 */
#pragma once

#ifndef FLTSIM
#error "include <fltKernel.h> (fltsim), not this header directly"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- The driver entry hook ----------------------------------------------------------------
 * fltsim-host links exactly one driver object, which defines FltsimDriverEntry. The host
 * creates the filter (what FltRegisterFilter would return on Windows) and calls this once, on
 * the host's main thread, before it starts listening. A failure status makes the host exit
 * with that status. The driver registers its unload routine with
 * FltsimSetFilterUnloadCallback; the host's `unload` control verb calls it, and then does
 * whatever FltUnregisterFilter would have done if the callback did not call it. */
NTSTATUS FltsimDriverEntry(_In_ PFLT_FILTER Filter);

VOID FltsimSetFilterUnloadCallback(_In_ PFLT_FILTER Filter,
                                   _In_opt_ PFLT_FILTER_UNLOAD_CALLBACK FilterUnloadCallback);

/* ---- Security descriptors ----------------------------------------------------------------
 * The default descriptor stands for "SYSTEM + Administrators" as uid 0 and the host's own
 * uid. These add Linux principals, checked against the connecting peer's credentials
 * (SO_PEERCRED / getpeereid): the peer's uid, or its primary gid. */
NTSTATUS FltsimSecurityDescriptorAllowUid(_Inout_ PSECURITY_DESCRIPTOR SecurityDescriptor,
                                          _In_ ULONG Uid);
NTSTATUS FltsimSecurityDescriptorAllowGid(_Inout_ PSECURITY_DESCRIPTOR SecurityDescriptor,
                                          _In_ ULONG Gid);

/* ---- Introspection for drivers and their test glue -----------------------------------------
 * The simulator's id of the connection behind a client port (the id the control channel
 * and the host's log use), or 0 if ClientPort is not an open client port. */
ULONG64 FltsimGetConnectionId(_In_opt_ PFLT_PORT ClientPort);

/* Sends one "event <Line>" to every control session that watches driver events. Line is
 * UTF-8, one line, already in "key=value" form (see docs/fltsim.md). */
VOID FltsimEmitEvent(_In_ PCSTR Line);

#ifdef __cplusplus
}
#endif
