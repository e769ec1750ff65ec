// Status and the §1.3 translation as the backends use it: every row of the spec's table
// through both entry points (a synchronous Filter* call -> FromNtStatus; an overlapped or
// Win32 completion -> FromCompletion), plus the other factories' invariants.
#include <cerrno>
#include <cstdint>
#include <string>

#include "Status.h"
#include "StatusTable.h"
#include "core_test_check.h"

using fltport::core::Status;
using fltport::core::StatusOrigin;

namespace {

struct Row {
  uint32_t ntstatus;
  uint32_t win32;
  uint32_t hresult;  // what fltlib returns
};

// spec/port-semantics.md §1.3, copied row by row (value, Win32 error, HRESULT from fltlib).
constexpr Row kSpecRows[] = {
    {0x00000102, 258, 0x80070102},  // STATUS_TIMEOUT: fltlib's WAIT_TIMEOUT special case
    {0x00000103, 997, 0x800703E5},  {0x80000002, 998, 0x800703E6},
    {0x80000005, 234, 0x800700EA},  {0x8000001A, 259, 0x80070103},
    {0xC0000008, 6, 0x80070006},    {0xC000000D, 87, 0x80070057},
    {0xC00000EF, 87, 0x80070057},   {0xC00000FA, 87, 0x80070057},
    {0xC0000010, 1, 0x80070001},    {0xC0000022, 5, 0x80070005},
    {0xC0000023, 122, 0x8007007A},  {0xC0000033, 123, 0x8007007B},
    {0xC0000034, 2, 0x80070002},    {0xC0000035, 183, 0x800700B7},
    {0xC0000037, 6, 0x80070006},    {0xC000004B, 5, 0x80070005},
    {0xC0000061, 1314, 0x80070522}, {0xC0000095, 534, 0x80070216},
    {0xC000009A, 1450, 0x800705AA}, {0xC00000B5, 121, 0x80070079},
    {0xC00000BB, 50, 0x80070032},   {0xC0000120, 995, 0x800703E3},
    {0xC0000236, 1225, 0x800704C9}, {0xC0000246, 1236, 0x800704D4},
};

}  // namespace

TEST(fltlib_hresults_for_every_spec_row) {
  for (const Row& r : kSpecRows) {
    Status s = Status::FromNtStatus(r.ntstatus, "FilterSendMessage");
    CHECK(!s.ok());
    CHECK_EQ(s.origin, StatusOrigin::kNtStatus);
    CHECK(s.has_ntstatus);
    CHECK_EQ(s.ntstatus, r.ntstatus);
    CHECK_EQ(s.hresult, r.hresult);
    CHECK_EQ(s.syscall, std::string("FilterSendMessage"));
  }
}

TEST(completions_go_through_the_win32_error) {
  for (const Row& r : kSpecRows) {
    Status s = Status::FromCompletion(r.ntstatus, "ReadFile");
    CHECK_EQ(s.origin, StatusOrigin::kWin32);
    CHECK_EQ(s.ntstatus, r.ntstatus);
    if (r.ntstatus == 0x00000102) {
      // kernel32 does not special-case STATUS_TIMEOUT: ERROR_TIMEOUT (1460).
      CHECK_EQ(s.win32, 1460u);
      CHECK_EQ(s.hresult, 0x800705B4u);
    } else {
      CHECK_EQ(s.win32, r.win32);
      CHECK_EQ(s.hresult, 0x80070000u | r.win32);
    }
  }
  // The mailslot reads of spec §10.3.
  CHECK_EQ(Status::FromCompletion(0xC00000B5, "ReadFile").win32, 121u);  // ERROR_SEM_TIMEOUT
  CHECK_EQ(Status::FromCompletion(0xC0000023, "ReadFile").win32, 122u);
  CHECK_EQ(Status::FromCompletion(0xC0000035, "CreateMailslotW").win32, 183u);
}

TEST(filter_manager_facility_becomes_0x1F) {
  CHECK_EQ(Status::FromNtStatus(0xC01C0020, "FilterReplyMessage").hresult, 0x801F0020u);
  CHECK_EQ(Status::FromNtStatus(0xC01C000B, "FilterConnectCommunicationPort").hresult,
           0x801F000Bu);
  CHECK_EQ(Status::FromNtStatus(0x801C0001, "FilterGetMessage").hresult, 0x8007007Au);
  // A facility-0x1C status missing from the table still converts by rule.
  CHECK_EQ(Status::FromNtStatus(0xC01C0017, "FilterAttach").hresult, 0x801F0017u);
}

TEST(other_facilities_are_e_fail_and_unknown_codes_are_mr_mid_not_found) {
  CHECK_EQ(Status::FromNtStatus(0xC0070005, "x").hresult, 0x80004005u);  // facility 7
  CHECK_EQ(Status::FromNtStatus(0xC0000999, "x").hresult, 0x8007013Du);  // 317
  CHECK_EQ(Status::FromNtStatus(0xC0000999, "x").win32, 317u);
}

TEST(success_is_ok_with_no_origin) {
  CHECK(Status::FromNtStatus(0, "x").ok());
  CHECK(Status::FromCompletion(0, "x").ok());
  CHECK(Status::FromWin32(0, "x").ok());
  CHECK(Status::FromHresult(0, "x").ok());
  CHECK(Status::Ok().ok());
  CHECK_EQ(Status::FromNtStatus(0, "x").hresult, 0u);
}

TEST(win32_hresult_errno_protocol_argument_factories) {
  Status w = Status::FromWin32(6, "GetMailslotInfo");
  CHECK_EQ(w.origin, StatusOrigin::kWin32);
  CHECK_EQ(w.hresult, 0x80070006u);
  CHECK(!w.has_ntstatus);

  Status h = Status::FromHresult(0x800704D4, "FilterConnectCommunicationPort");
  CHECK_EQ(h.origin, StatusOrigin::kHresult);
  CHECK_EQ(h.win32, 1236u);
  CHECK_EQ(Status::FromHresult(0x801F0020, "x").win32, 0u);  // not a Win32-facility HRESULT

  Status e = Status::FromErrno(ECONNREFUSED, "connect", "no fltsim-host at /x");
  CHECK(!e.ok());
  CHECK_EQ(e.origin, StatusOrigin::kErrno);
  CHECK_EQ(e.sys_errno, ECONNREFUSED);
  CHECK_EQ(e.hresult, 0x80004005u);
  CHECK_EQ(e.detail, std::string("no fltsim-host at /x"));

  Status p = Status::Protocol("bad frame");
  CHECK_EQ(p.origin, StatusOrigin::kProtocol);
  CHECK_EQ(p.hresult, 0x80004005u);

  Status a = Status::Argument("too big", "FilterSendMessage");
  CHECK_EQ(a.origin, StatusOrigin::kArgument);
  CHECK_EQ(a.hresult, 0x80070057u);
}

TEST_MAIN("core_status_test")
