// Link-and-first-call check of the Windows port backend (native/win/PortBackendWin.cc):
// cross-compiled with mingw-w64 against libfltlib.a, run under Wine by
// native/win/run-wine-tests.sh. Wine's own fltlib.dll implements only
// FilterConnectCommunicationPort, returning E_NOTIMPL, so under Wine this proves that the
// backend loads fltlib, calls it with our arguments, and reports its HRESULT with its origin;
// the receive loop itself waits for the Wine lane's test fltlib.dll. On Windows without the
// sample driver the same connect fails with 0x80070002 (no such port).
//
// Threads: main() only; the events must never be called, since every connect fails.
#include <cstdint>
#include <cstdio>
#include <memory>

#include <windows.h>

#include "PortBackend.h"
#include "Status.h"
#include "TestHarness.h"

namespace {

using fltport::core::MessageBatch;
using fltport::core::PortBackend;
using fltport::core::PortEvents;
using fltport::core::PortOptions;
using fltport::core::Status;
using fltport::core::StatusOrigin;
using fltport::core::StopReason;

using fltport::test::ExpectTrue;

class NeverCalled : public PortEvents {
 public:
  void OnBatch(std::unique_ptr<MessageBatch>) override { ++calls; }
  void OnStopped(StopReason, const Status&) override { ++calls; }
  int calls = 0;
};

bool UnderWine() {
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  return ntdll != nullptr && GetProcAddress(ntdll, "wine_get_version") != nullptr;
}

PortOptions Options() {
  PortOptions options;
  options.name = u"\\FltportSmokeNoSuchPort";
  return options;
}

void Print(const char* what, const Status& s) {
  std::printf("  %s: origin %d hresult 0x%08X win32 %u syscall \"%s\" detail \"%s\"\n", what,
              static_cast<int>(s.origin), s.hresult, s.win32, s.syscall.c_str(),
              s.detail.c_str());
}

void TestSyncHandleRefused() {
  NeverCalled events;
  Status status;
  PortOptions sync = Options();
  sync.flags = 0x1;  // FLT_PORT_FLAG_SYNC_HANDLE
  ExpectTrue(PortBackend::Connect(sync, &events, &status) == nullptr, "no backend");
  Print("sync handle", status);
  ExpectTrue(status.origin == StatusOrigin::kArgument, "refused by native checks");
  ExpectTrue(status.hresult == 0x80070057u, "E_INVALIDARG");
  ExpectTrue(status.syscall == "FilterConnectCommunicationPort", "syscall");
  ExpectTrue(events.calls == 0, "events never called");
}

void TestArgumentChecks() {
  NeverCalled events;
  Status status;
  PortOptions bad = Options();
  bad.concurrency = 0;
  ExpectTrue(PortBackend::Connect(bad, &events, &status) == nullptr, "concurrency 0");
  ExpectTrue(status.origin == StatusOrigin::kArgument, "concurrency 0 is an argument error");
  bad = Options();
  bad.concurrency = 1025;
  ExpectTrue(PortBackend::Connect(bad, &events, &status) == nullptr, "concurrency 1025");
  ExpectTrue(status.origin == StatusOrigin::kArgument, "concurrency 1025 is an argument error");
  bad = Options();
  bad.initial_buffer_size = 8;  // smaller than FILTER_MESSAGE_HEADER
  ExpectTrue(PortBackend::Connect(bad, &events, &status) == nullptr, "8-byte buffer");
  ExpectTrue(status.origin == StatusOrigin::kArgument, "8-byte buffer is an argument error");
  bad = Options();
  bad.context.assign(70000, 0);  // wSizeOfContext is a WORD
  ExpectTrue(PortBackend::Connect(bad, &events, &status) == nullptr, "70000-byte context");
  ExpectTrue(status.origin == StatusOrigin::kArgument, "context size is an argument error");
  bad = Options();
  bad.name = std::u16string(u"\\a\0b", 4);
  ExpectTrue(PortBackend::Connect(bad, &events, &status) == nullptr, "NUL in name");
  ExpectTrue(status.origin == StatusOrigin::kArgument, "NUL in name is an argument error");
  ExpectTrue(PortBackend::Connect(Options(), nullptr, &status) == nullptr, "null events");
  ExpectTrue(status.origin == StatusOrigin::kArgument, "null events is an argument error");
  ExpectTrue(events.calls == 0, "events never called");
}

void TestConnectReportsFltlibHresult() {
  const bool wine = UnderWine();
  std::printf("  running under %s\n", wine ? "Wine" : "Windows");
  NeverCalled events;
  Status status;
  PortOptions options = Options();
  options.context = {1, 2, 3, 4};
  auto port = PortBackend::Connect(options, &events, &status);
  ExpectTrue(port == nullptr, "no backend");
  Print("connect", status);
  ExpectTrue(status.origin == StatusOrigin::kHresult, "origin: an HRESULT from fltlib");
  ExpectTrue(status.syscall == "FilterConnectCommunicationPort", "syscall");
  if (wine) {
    ExpectTrue(status.hresult == 0x80004001u, "E_NOTIMPL from Wine's fltlib.dll stub");
    ExpectTrue(status.win32 == 0, "not a FACILITY_WIN32 HRESULT");
  } else {
    ExpectTrue(status.hresult == 0x80070002u, "no port by that name");
    ExpectTrue(status.win32 == 2, "ERROR_FILE_NOT_FOUND");
  }
  ExpectTrue(events.calls == 0, "events never called");
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IONBF, 0);
  return fltport::test::Main(argc, argv,
                             {
                                 {"port.sync_handle_refused", &TestSyncHandleRefused},
                                 {"port.argument_checks", &TestArgumentChecks},
                                 {"port.connect_reports_fltlib_hresult",
                                  &TestConnectReportsFltlibHresult},
                             });
}
