// The one place native/win includes the Windows SDK's Filter Manager user-mode headers, and
// fills the gaps of mingw-w64's copies. The SDK's definitions always win: each fallback is
// guarded, so MSVC with the Windows SDK compiles none of them.
//
// What mingw-w64 (Debian 12, mingw-w64 10) lacks, checked against its fltuser.h and
// fltuserstructures.h:
// - FLT_PORT_FLAG_SYNC_HANDLE (SDK: fltUser.h under FLT_MGR_WINBLUE, Windows 8.1+).
// Everything else native/win uses is declared there (FILTER_AGGREGATE_STANDARD_INFORMATION,
// INSTANCE_AGGREGATE_STANDARD_INFORMATION and FILTER_VOLUME_STANDARD_INFORMATION need
// NTDDI_VERSION >= NTDDI_VISTA, the mingw-w64 default being Windows 10). FilterInfoDecoder
// decodes those structures from documented byte offsets; FilterManagementWin.cc checks the
// offsets against these declarations at compile time.
#pragma once

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
// fltuser.h uses HRESULT, HANDLE, LPOVERLAPPED... without including anything itself.
#include <windows.h>
#include <fltuser.h>

#if !defined(_WIN32_WINNT) || _WIN32_WINNT < 0x0600
#error "native/win needs _WIN32_WINNT >= 0x0600 (Vista): CancelIoEx, GetQueuedCompletionStatusEx, FilterAggregateStandardInformation"
#endif

#ifndef FLT_PORT_FLAG_SYNC_HANDLE
// fltUser.h (Windows SDK): "the port handle is synchronous" (Windows 8.1+).
#define FLT_PORT_FLAG_SYNC_HANDLE 0x00000001
#endif

// The headers' layout is the protocol (spec §3.2, gotcha G15): a 12-byte header would shift
// every payload. Checked here so that every translation unit using fltlib re-checks it.
static_assert(sizeof(FILTER_MESSAGE_HEADER) == 16, "FILTER_MESSAGE_HEADER is 16 bytes");
static_assert(sizeof(FILTER_REPLY_HEADER) == 16, "FILTER_REPLY_HEADER is 16 bytes");
static_assert(alignof(FILTER_MESSAGE_HEADER) == 8, "FILTER_MESSAGE_HEADER is 8-aligned");
