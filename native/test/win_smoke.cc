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

namespace {

using fltport::core::MessageBatch;
using fltport::core::PortBackend;
using fltport::core::PortEvents;
using fltport::core::PortOptions;
using fltport::core::Status;
using fltport::core::StatusOrigin;
using fltport::core::StopReason;

int g_failures = 0;
int g_checks = 0;

#define CHECK(cond)                                                    \
  do {                                                                 \
    ++g_checks;                                                        \
    if (!(cond)) {                                                     \
      ++g_failures;                                                    \
      std::printf("  FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond);  \
    }                                                                  \
  } while (0)

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

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IONBF, 0);
  const bool wine = UnderWine();
  std::printf("win_smoke: running under %s\n", wine ? "Wine" : "Windows");
  NeverCalled events;
  Status status;

  std::printf("case: FLT_PORT_FLAG_SYNC_HANDLE is refused before fltlib is called\n");
  PortOptions sync = Options();
  sync.flags = 0x1;
  CHECK(PortBackend::Connect(sync, &events, &status) == nullptr);
  Print("sync handle", status);
  CHECK(status.origin == StatusOrigin::kArgument);
  CHECK(status.hresult == 0x80070057u);
  CHECK(status.syscall == "FilterConnectCommunicationPort");

  std::printf("case: native argument checks\n");
  PortOptions bad = Options();
  bad.concurrency = 0;
  CHECK(PortBackend::Connect(bad, &events, &status) == nullptr);
  CHECK(status.origin == StatusOrigin::kArgument);
  bad = Options();
  bad.initial_buffer_size = 8;  // smaller than FILTER_MESSAGE_HEADER
  CHECK(PortBackend::Connect(bad, &events, &status) == nullptr);
  CHECK(status.origin == StatusOrigin::kArgument);
  bad = Options();
  bad.context.assign(70000, 0);  // wSizeOfContext is a WORD
  CHECK(PortBackend::Connect(bad, &events, &status) == nullptr);
  CHECK(status.origin == StatusOrigin::kArgument);
  bad = Options();
  bad.name = std::u16string(u"\\a\0b", 4);
  CHECK(PortBackend::Connect(bad, &events, &status) == nullptr);
  CHECK(status.origin == StatusOrigin::kArgument);

  std::printf("case: FilterConnectCommunicationPort's HRESULT comes back with its origin\n");
  PortOptions options = Options();
  options.context = {1, 2, 3, 4};
  auto port = PortBackend::Connect(options, &events, &status);
  CHECK(port == nullptr);
  Print("connect", status);
  CHECK(status.origin == StatusOrigin::kHresult);
  CHECK(status.syscall == "FilterConnectCommunicationPort");
  if (wine) {
    CHECK(status.hresult == 0x80004001u);  // E_NOTIMPL: Wine's fltlib.dll stub
    CHECK(status.win32 == 0);              // not a FACILITY_WIN32 HRESULT
  } else {
    CHECK(status.hresult == 0x80070002u);  // no port by that name
    CHECK(status.win32 == 2);
  }
  CHECK(events.calls == 0);

  std::printf("win_smoke: %d checks, %d failed -> %s\n", g_checks, g_failures,
              g_failures ? "FAIL" : "PASS");
  return g_failures ? 1 : 0;
}
