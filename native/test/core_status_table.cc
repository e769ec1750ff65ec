// native/core/StatusTable against spec/port-semantics.md §1.3: the HRESULT every fltlib call
// reports for a kernel status, and the Win32 code an overlapped completion reports. These
// numbers are what users match on, so each spec row is asserted by value.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <string>

#include "StatusTable.h"
#include "TestHarness.h"

namespace {

using fltport::core::HresultFromNtStatus;
using fltport::core::HresultFromWin32;
using fltport::core::NtStatusEntry;
using fltport::core::NtStatusName;
using fltport::core::NtStatusTable;
using fltport::core::Win32FromNtStatus;
using fltport::test::ExpectEq;
using fltport::test::ExpectTrue;

struct Row {
  uint32_t ntstatus;
  uint32_t win32;
  uint32_t hresult;
  const char* name;
};

// Spec §1.3, "Table of codes that matter for this spec", every row, in the spec's order.
// STATUS_TIMEOUT's Win32 column is RtlNtStatusToDosError's ERROR_TIMEOUT (1460); fltlib
// special-cases the HRESULT to WAIT_TIMEOUT. The two FLT_* error rows have no Win32 mapping
// in Wine's table, so RtlNtStatusToDosError gives ERROR_MR_MID_NOT_FOUND (317).
constexpr Row kSpecRows[] = {
    {0x00000000, 0, 0x00000000, "STATUS_SUCCESS"},
    {0x00000102, 1460, 0x80070102, "STATUS_TIMEOUT"},
    {0x00000103, 997, 0x800703E5, "STATUS_PENDING"},
    {0x80000002, 998, 0x800703E6, "STATUS_DATATYPE_MISALIGNMENT"},
    {0x80000005, 234, 0x800700EA, "STATUS_BUFFER_OVERFLOW"},
    {0x8000001A, 259, 0x80070103, "STATUS_NO_MORE_ENTRIES"},
    {0xC0000008, 6, 0x80070006, "STATUS_INVALID_HANDLE"},
    {0xC000000D, 87, 0x80070057, "STATUS_INVALID_PARAMETER"},
    {0xC0000010, 1, 0x80070001, "STATUS_INVALID_DEVICE_REQUEST"},
    {0xC0000022, 5, 0x80070005, "STATUS_ACCESS_DENIED"},
    {0xC0000023, 122, 0x8007007A, "STATUS_BUFFER_TOO_SMALL"},
    {0xC0000033, 123, 0x8007007B, "STATUS_OBJECT_NAME_INVALID"},
    {0xC0000034, 2, 0x80070002, "STATUS_OBJECT_NAME_NOT_FOUND"},
    {0xC0000035, 183, 0x800700B7, "STATUS_OBJECT_NAME_COLLISION"},
    {0xC0000037, 6, 0x80070006, "STATUS_PORT_DISCONNECTED"},
    {0xC000004B, 5, 0x80070005, "STATUS_THREAD_IS_TERMINATING"},
    {0xC0000061, 1314, 0x80070522, "STATUS_PRIVILEGE_NOT_HELD"},
    {0xC0000095, 534, 0x80070216, "STATUS_INTEGER_OVERFLOW"},
    {0xC000009A, 1450, 0x800705AA, "STATUS_INSUFFICIENT_RESOURCES"},
    {0xC00000B5, 121, 0x80070079, "STATUS_IO_TIMEOUT"},
    {0xC00000BB, 50, 0x80070032, "STATUS_NOT_SUPPORTED"},
    {0xC0000120, 995, 0x800703E3, "STATUS_CANCELLED"},
    {0xC0000236, 1225, 0x800704C9, "STATUS_CONNECTION_REFUSED"},
    {0xC0000246, 1236, 0x800704D4, "STATUS_CONNECTION_COUNT_LIMIT"},
    {0x801C0001, 122, 0x8007007A, "STATUS_FLT_BUFFER_TOO_SMALL"},
    {0xC01C000B, 317, 0x801F000B, "STATUS_FLT_DELETING_OBJECT"},
    {0xC01C0020, 317, 0x801F0020, "STATUS_FLT_NO_WAITER_FOR_REPLY"},
};

std::string Hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

void TestSpecRowsHresult() {
  for (const Row& r : kSpecRows) {
    ExpectEq(HresultFromNtStatus(r.ntstatus), r.hresult, "HresultFromNtStatus(" + Hex(r.ntstatus) + ")");
  }
}

void TestSpecRowsWin32() {
  for (const Row& r : kSpecRows) {
    ExpectEq(Win32FromNtStatus(r.ntstatus), r.win32, "Win32FromNtStatus(" + Hex(r.ntstatus) + ")");
  }
}

void TestSpecRowsNames() {
  for (const Row& r : kSpecRows) {
    ExpectEq(NtStatusName(r.ntstatus), r.name, "NtStatusName(" + Hex(r.ntstatus) + ")");
  }
}

// The rows the issue calls out by number: the ones a user will actually see and search for.
void TestHeadlineTranslations() {
  ExpectEq(HresultFromNtStatus(0xC0000037), 0x80070006u, "port disconnected -> E_HANDLE-like 0x80070006");
  ExpectEq(HresultFromNtStatus(0x00000102), 0x80070102u, "timeout -> WAIT_TIMEOUT, not ERROR_TIMEOUT (1460)");
  ExpectEq(HresultFromNtStatus(0xC01C0020), 0x801F0020u, "no waiter for reply -> facility 0x1F");
  ExpectEq(HresultFromNtStatus(0x801C0001), 0x8007007Au, "FLT buffer too small -> ERROR_INSUFFICIENT_BUFFER");
  ExpectEq(HresultFromNtStatus(0xC0000120), 0x800703E3u, "cancelled -> ERROR_OPERATION_ABORTED");
  ExpectEq(HresultFromNtStatus(0x80000005), 0x800700EAu, "buffer overflow (a warning) still fails: ERROR_MORE_DATA");
}

// Rule 3: any non-zero facility other than FILTER_MANAGER becomes E_FAIL, whatever the
// severity or code (recommended default of the spec; real fltlib is UNCONFIRMED).
void TestOtherFacilitiesAreEFail() {
  constexpr uint32_t kSamples[] = {
      0xC0020001,  // facility 2 (RPC runtime), error
      0x80130001,  // facility 0x13 (debugger), warning
      0x40010001,  // facility 1 (debugger), informational
      0xC00A0001,  // facility 0xA (terminal server)
      0xC0FF0000,  // facility 0xFF
      0xCFFF0001,  // largest facility value
      0xC01D0001,  // facility 0x1D: next to FILTER_MANAGER, must not be treated like it
      0xC01B0020,  // facility 0x1B: same code as NO_WAITER_FOR_REPLY, other facility
  };
  for (uint32_t s : kSamples) {
    ExpectEq(HresultFromNtStatus(s), 0x80004005u, "HresultFromNtStatus(" + Hex(s) + ") is E_FAIL");
  }
}

// Rule 2: every facility-0x1C status other than FLT_BUFFER_TOO_SMALL keeps its code and
// severity bit and moves to facility 0x1F, including ones the table does not name.
void TestFilterManagerFacilityRewrite() {
  ExpectEq(HresultFromNtStatus(0xC01C0001), 0x801F0001u, "error with FLT_BUFFER_TOO_SMALL's code is not special");
  ExpectEq(HresultFromNtStatus(0xC01C0004), 0x801F0004u, "STATUS_FLT_INVALID_CONTEXT (unnamed in table)");
  ExpectEq(HresultFromNtStatus(0x801C0002), 0x801F0002u, "a facility-0x1C warning keeps its severity bit");
  ExpectEq(HresultFromNtStatus(0xC01CFFFF), 0x801FFFFFu, "code bits are kept whole");
  ExpectEq(HresultFromNtStatus(0x401C0001), 0x001F0001u,
           "an informational 0x1C status has no severity bit to keep (FILTER_HRESULT_FROM_FLT_NTSTATUS)");
}

// Rule 5 for statuses outside the table: RtlNtStatusToDosError gives ERROR_MR_MID_NOT_FOUND.
void TestUnknownFacilityZeroStatus() {
  ExpectEq(Win32FromNtStatus(0xC0000999), 317u, "unknown status -> ERROR_MR_MID_NOT_FOUND");
  ExpectEq(HresultFromNtStatus(0xC0000999), 0x8007013Du, "unknown facility-0 status -> HRESULT_FROM_WIN32(317)");
  ExpectEq(NtStatusName(0xC0000999), static_cast<const char*>(nullptr), "unknown status has no name");
  ExpectEq(HresultFromNtStatus(0x00000001), 0x8007013Du, "a non-zero success status still fails (rule 1)");
}

// STATUS_INVALID_PARAMETER_1..12 all read as ERROR_INVALID_PARAMETER / E_INVALIDARG.
void TestInvalidParameterFamily() {
  for (uint32_t s = 0xC00000EF; s <= 0xC00000FA; ++s) {
    ExpectEq(Win32FromNtStatus(s), 87u, "Win32FromNtStatus(" + Hex(s) + ")");
    ExpectEq(HresultFromNtStatus(s), 0x80070057u, "HresultFromNtStatus(" + Hex(s) + ")");
    const char* name = NtStatusName(s);
    ExpectTrue(name != nullptr && std::string(name).rfind("STATUS_INVALID_PARAMETER_", 0) == 0,
               "NtStatusName(" + Hex(s) + ") is STATUS_INVALID_PARAMETER_n");
  }
}

void TestHresultFromWin32() {
  ExpectEq(HresultFromWin32(0), 0u, "ERROR_SUCCESS -> S_OK");
  ExpectEq(HresultFromWin32(995), 0x800703E3u, "ERROR_OPERATION_ABORTED");
  ExpectEq(HresultFromWin32(258), 0x80070102u, "WAIT_TIMEOUT");
  ExpectEq(HresultFromWin32(0x12345), 0x80072345u, "only the low 16 bits of a Win32 code survive");
}

// Lookups use binary search: the table must be strictly ascending, or some rows silently
// stop being found. Also every spec row must be present in the table.
void TestTableIsSortedAndComplete() {
  size_t count = 0;
  const NtStatusEntry* table = NtStatusTable(&count);
  ExpectTrue(table != nullptr, "NtStatusTable returns the table");
  ExpectTrue(count >= std::size(kSpecRows), "table has at least the spec's rows");
  for (size_t i = 1; i < count; ++i) {
    ExpectTrue(table[i - 1].ntstatus < table[i].ntstatus,
               "table strictly ascending at index " + std::to_string(i) + " (" + Hex(table[i].ntstatus) + ")");
  }
  for (size_t i = 0; i < count; ++i) {
    ExpectTrue(table[i].name != nullptr && std::string(table[i].name).rfind("STATUS_", 0) == 0,
               "entry " + Hex(table[i].ntstatus) + " has a STATUS_ name");
    ExpectEq(Win32FromNtStatus(table[i].ntstatus), table[i].win32, "lookup finds entry " + Hex(table[i].ntstatus));
  }
  for (const Row& r : kSpecRows) {
    bool found = false;
    for (size_t i = 0; i < count; ++i) found = found || table[i].ntstatus == r.ntstatus;
    ExpectTrue(found, std::string("spec row ") + r.name + " is in the table");
  }
}

}  // namespace

int main(int argc, char** argv) {
  return fltport::test::Main(argc, argv,
                             {
                                 {"spec_rows_hresult", &TestSpecRowsHresult},
                                 {"spec_rows_win32", &TestSpecRowsWin32},
                                 {"spec_rows_names", &TestSpecRowsNames},
                                 {"headline_translations", &TestHeadlineTranslations},
                                 {"other_facilities_are_e_fail", &TestOtherFacilitiesAreEFail},
                                 {"filter_manager_facility_rewrite", &TestFilterManagerFacilityRewrite},
                                 {"unknown_facility_zero_status", &TestUnknownFacilityZeroStatus},
                                 {"invalid_parameter_family", &TestInvalidParameterFamily},
                                 {"hresult_from_win32", &TestHresultFromWin32},
                                 {"table_sorted_and_complete", &TestTableIsSortedAndComplete},
                             });
}
