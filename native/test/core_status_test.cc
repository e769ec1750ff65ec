// Status, the value every backend returns: what its factories put in each field. The
// NTSTATUS -> HRESULT/Win32 table itself is core_status_table.cc's; this file checks the two
// entry points that use it differently (a synchronous Filter* result vs. an overlapped or
// Win32 completion) and the non-kernel origins.
#include <cerrno>
#include <cstdint>
#include <string>

#include "Status.h"
#include "TestHarness.h"

using fltport::core::Status;
using fltport::core::StatusOrigin;
using fltport::test::ExpectEq;
using fltport::test::ExpectTrue;

namespace {

// A synchronous Filter* call: fltlib's HRESULT, origin kNtStatus, both numbers kept.
void TestFromNtStatusKeepsEveryNumber() {
  Status s = Status::FromNtStatus(0xC0000037, "FilterSendMessage");
  ExpectTrue(!s.ok(), "failure");
  ExpectEq(s.origin, StatusOrigin::kNtStatus, "origin");
  ExpectTrue(s.has_ntstatus, "has_ntstatus");
  ExpectEq(s.ntstatus, 0xC0000037u, "ntstatus");
  ExpectEq(s.win32, 6u, "win32");
  ExpectEq(s.hresult, 0x80070006u, "hresult");
  ExpectEq(s.syscall, std::string("FilterSendMessage"), "syscall");
  // fltlib's special case lives in the HRESULT only.
  Status t = Status::FromNtStatus(0x00000102, "FilterSendMessage");
  ExpectEq(t.hresult, 0x80070102u, "STATUS_TIMEOUT -> WAIT_TIMEOUT HRESULT");
  ExpectEq(t.win32, 1460u, "STATUS_TIMEOUT's RtlNtStatusToDosError value is kept");
}

// An overlapped completion (FilterGetMessage via GQCS, ReadFile, a Win32 API): kernel32
// maps the status to a Win32 error and callers build HRESULT_FROM_WIN32 from it, so
// STATUS_TIMEOUT gives ERROR_TIMEOUT (no fltlib special case) and facility-0x1C statuses
// give HRESULT_FROM_WIN32(317), not the 0x801Fxxxx form.
void TestFromCompletionGoesThroughWin32() {
  struct Row {
    uint32_t nt, win32, hresult;
  };
  const Row rows[] = {
      {0xC0000120, 995, 0x800703E3},  // cancelled receive
      {0xC0000037, 6, 0x80070006},    // disconnected receive
      {0xC0000023, 122, 0x8007007A},  // buffer too small (receive or mailslot read)
      {0xC00000B5, 121, 0x80070079},  // mailslot read timeout: ERROR_SEM_TIMEOUT
      {0xC0000035, 183, 0x800700B7},  // CreateMailslot name collision
      {0xC0000034, 2, 0x80070002},    // CreateFile on a missing mailslot
      {0x00000102, 1460, 0x800705B4},
      {0xC01C0020, 317, 0x8007013D},
  };
  for (const Row& r : rows) {
    Status s = Status::FromCompletion(r.nt, "ReadFile");
    ExpectEq(s.origin, StatusOrigin::kWin32, "origin");
    ExpectTrue(s.has_ntstatus, "has_ntstatus");
    ExpectEq(s.ntstatus, r.nt, "ntstatus");
    ExpectEq(s.win32, r.win32, "win32");
    ExpectEq(s.hresult, r.hresult, "hresult");
  }
}

void TestSuccessIsOkEverywhere() {
  ExpectTrue(Status::FromNtStatus(0, "x").ok(), "FromNtStatus(0)");
  ExpectTrue(Status::FromCompletion(0, "x").ok(), "FromCompletion(0)");
  ExpectTrue(Status::FromWin32(0, "x").ok(), "FromWin32(0)");
  ExpectTrue(Status::FromHresult(0, "x").ok(), "FromHresult(0)");
  ExpectEq(Status::Ok().hresult, 0u, "Ok().hresult");
  ExpectEq(Status::FromNtStatus(0, "x").syscall, std::string(), "success carries no syscall");
}

void TestWin32AndHresultOrigins() {
  Status w = Status::FromWin32(6, "GetMailslotInfo");
  ExpectEq(w.origin, StatusOrigin::kWin32, "origin");
  ExpectEq(w.hresult, 0x80070006u, "hresult");
  ExpectTrue(!w.has_ntstatus, "no ntstatus");

  Status h = Status::FromHresult(0x800704D4, "FilterConnectCommunicationPort");
  ExpectEq(h.origin, StatusOrigin::kHresult, "origin");
  ExpectEq(h.win32, 1236u, "a FACILITY_WIN32 HRESULT exposes its Win32 code");
  ExpectEq(Status::FromHresult(0x801F0020, "x").win32, 0u, "a facility-0x1F HRESULT has none");
}

void TestErrnoProtocolArgumentOrigins() {
  Status e = Status::FromErrno(ECONNREFUSED, "connect", "no fltsim-host at /x");
  ExpectTrue(!e.ok(), "errno is a failure");
  ExpectEq(e.origin, StatusOrigin::kErrno, "origin");
  ExpectEq(e.sys_errno, ECONNREFUSED, "errno");
  ExpectEq(e.hresult, 0x80004005u, "E_FAIL");
  ExpectEq(e.detail, std::string("no fltsim-host at /x"), "detail");

  Status p = Status::Protocol("bad frame", "recv");
  ExpectEq(p.origin, StatusOrigin::kProtocol, "origin");
  ExpectEq(p.hresult, 0x80004005u, "E_FAIL");
  ExpectEq(p.syscall, std::string("recv"), "syscall");

  Status a = Status::Argument("too big", "FilterSendMessage");
  ExpectEq(a.origin, StatusOrigin::kArgument, "origin");
  ExpectEq(a.hresult, 0x80070057u, "E_INVALIDARG");
}

}  // namespace

int main(int argc, char** argv) {
  return fltport::test::Main(argc, argv,
                             {
                                 {"from_nt_status_keeps_every_number", &TestFromNtStatusKeepsEveryNumber},
                                 {"from_completion_goes_through_win32", &TestFromCompletionGoesThroughWin32},
                                 {"success_is_ok_everywhere", &TestSuccessIsOkEverywhere},
                                 {"win32_and_hresult_origins", &TestWin32AndHresultOrigins},
                                 {"errno_protocol_argument_origins", &TestErrnoProtocolArgumentOrigins},
                             });
}
