// The Windows port backend (native/win/PortBackendWin.cc) against the Wine lane's test
// fltlib.dll and fltsim's test driver (docs/wine-lane.md): what native/napi relies on from
// PortBackend::SendAsync — FilterSendMessage on the Windows thread pool, its outcome posted to
// the completion port and folded into a batch, every send answered before OnStopped whichever
// way the session ends, and Close() never waiting for a driver's MessageNotify.
//
// Runs under Wine only, next to the test fltlib.dll, with fltsim-host.exe serving
// $FLTSIM_RUNTIME_DIR; built and run by native/cmake/run-wine-lane.sh.
#include <windows.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "PortBackend.h"
#include "RecordingPortEvents.h"
#include "TestHarness.h"
#include "WineControl.h"

namespace {

using fltport::core::PortBackend;
using fltport::core::PortOptions;
using fltport::core::Status;
using fltport::core::StopReason;
using fltport::test::Bytes;
using fltport::test::Control;
using fltport::test::ExpectEq;
using fltport::test::ExpectTrue;
using fltport::test::Field;
using fltport::test::RecordingPortEvents;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kInvalidHandle = 0x80070006;  // what a send on a dead port returns

long long MsSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// A port on the test driver (port.create with `options`) and the backend connected to it.
struct Session {
  RecordingPortEvents events;
  std::unique_ptr<PortBackend> port;
  std::string conn;  // the driver's connection id

  explicit Session(const std::string& options) {
    static int counter = 0;
    const std::string name =
        "\\WineBackend" + std::to_string(GetCurrentProcessId()) + "x" + std::to_string(++counter);
    ExpectEq(Control::Get().Call("port.create name=" + name + " " + options).rfind("ok", 0), size_t{0},
             "port.create answered ok");
    PortOptions o;
    o.name.assign(name.begin(), name.end());
    o.concurrency = 2;
    Status status;
    port = PortBackend::Connect(o, &events, &status);
    ExpectTrue(port != nullptr, "connected: " + status.syscall + " " + std::to_string(status.hresult));
    conn = Field(Control::Get().WaitEvent("td-connect", {"port=" + name}), "conn");
  }
  bool ok() const { return port != nullptr && !conn.empty(); }
};

const RecordingPortEvents::Read* FindRead(const std::vector<RecordingPortEvents::Read>& reads, uint64_t token) {
  for (const auto& r : reads) {
    if (r.token == token) return &r;
  }
  return nullptr;
}

// Four sends to a MessageNotify that sleeps 1 s, then echoes: SendAsync returns at once, the
// pool runs them side by side, and each echo comes back in a batch under its own token.
void TestSendAsyncRunsOnThePoolAndAnswersInABatch() {
  Session s("notify=block:1000");
  if (!ExpectTrue(s.ok(), "session")) return;
  const auto start = Clock::now();
  for (uint64_t token = 1; token <= 4; ++token) {
    Bytes in(8, static_cast<uint8_t>(token));
    in[0] = 0xA0;
    ExpectTrue(s.port->SendAsync(token, in.data(), static_cast<uint32_t>(in.size()), 6, false).ok(),
               "started");
    in.assign(8, 0);  // copied before SendAsync returned
  }
  ExpectTrue(MsSince(start) < 500, "SendAsync did not wait for the driver");
  ExpectTrue(s.events.WaitReads(4, 10000), "four outcomes");
  ExpectTrue(MsSince(start) < 3000, "run side by side: " + std::to_string(MsSince(start)) + " ms for 4 x 1 s");
  const auto reads = s.events.Reads();
  for (uint64_t token = 1; token <= 4; ++token) {
    const auto* r = FindRead(reads, token);
    if (!ExpectTrue(r != nullptr, "outcome for token " + std::to_string(token))) continue;
    ExpectTrue(r->status.ok(), "S_OK");
    const Bytes want = {0xA0, uint8_t(token), uint8_t(token), uint8_t(token), uint8_t(token), uint8_t(token)};
    ExpectTrue(r->bytes == want, "min(input, output) bytes of its own input");
  }
  ExpectEq(reads.size(), size_t{4}, "one outcome each");
  // NULL buffers both ways.
  ExpectTrue(s.port->SendAsync(5, nullptr, 0, 0, true).ok(), "NULL buffers started");
  ExpectTrue(s.events.WaitReads(5, 5000), "its outcome");
  const auto* r = FindRead(s.events.Reads(), 5);
  ExpectTrue(r != nullptr && r->status.ok() && r->bytes.empty(), "S_OK, nothing returned");
  // The blocking Send shares the call and its checks.
  uint8_t out[4] = {};
  uint32_t returned = 0;
  const uint8_t in[3] = {7, 8, 9};
  ExpectTrue(s.port->Send(in, 3, out, 4, &returned).ok(), "Send");
  ExpectEq(returned, uint32_t{3}, "Send's count");
  ExpectEq(s.port->SendAsync(6, nullptr, 4, 0, true).origin, fltport::core::StatusOrigin::kArgument,
           "a NULL input with a length");
  s.port->Close();
  ExpectEq(s.events.Reads().size(), size_t{5}, "nothing for the refused send");
  ExpectEq(s.events.contract_violations(), 0, "callback contract");
}

// The driver's status comes back as FilterSendMessage returns it, with no bytes.
void TestSendAsyncReportsTheDriverStatus() {
  Session s("notify=status:0x8000001A");  // STATUS_NO_MORE_ENTRIES
  if (!ExpectTrue(s.ok(), "session")) return;
  const uint8_t in[8] = {};
  ExpectTrue(s.port->SendAsync(1, in, sizeof in, 8, false).ok(), "started");
  ExpectTrue(s.events.WaitReads(1, 5000), "outcome");
  const auto reads = s.events.Reads();
  if (ExpectEq(reads.size(), size_t{1}, "one")) {
    ExpectEq(reads[0].status.hresult, 0x80070103u, "ERROR_NO_MORE_ITEMS");
    ExpectEq(reads[0].status.syscall, std::string("FilterSendMessage"), "syscall");
    ExpectTrue(reads[0].bytes.empty(), "no bytes");
  }
  s.port->Close();
}

// Close() with two sends still in a MessageNotify that sleeps 3 s: it returns without waiting
// for them, both are answered 0x80070006 in a batch before OnStopped, a send after it is
// refused, and the calls that return later free their requests without touching the backend.
void TestCloseAnswersSendsStillAtTheDriver() {
  auto s = std::make_unique<Session>("notify=block:3000");
  if (!ExpectTrue(s->ok(), "session")) return;
  ExpectTrue(s->port->SendAsync(1, nullptr, 0, 4, false).ok(), "first started");
  ExpectTrue(s->port->SendAsync(2, nullptr, 0, 4, false).ok(), "second started");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // both at the driver
  const auto start = Clock::now();
  s->port->Close();
  ExpectTrue(MsSince(start) < 2000, "Close did not wait for MessageNotify: " + std::to_string(MsSince(start)) + " ms");
  ExpectEq(s->events.stopped(), 1, "stopped");
  ExpectEq(s->events.reason(), StopReason::kClosed, "closed");
  const auto reads = s->events.Reads();
  ExpectEq(reads.size(), size_t{2}, "both answered");
  for (const auto& r : reads) {
    ExpectEq(r.status.hresult, kInvalidHandle, "0x80070006");
    ExpectEq(r.status.syscall, std::string("FilterSendMessage"), "syscall");
  }
  ExpectEq(s->events.contract_violations(), 0, "answered before OnStopped");
  const Status late = s->port->SendAsync(3, nullptr, 0, 0, true);
  ExpectEq(late.hresult, kInvalidHandle, "refused after close");
  ExpectEq(late.win32, uint32_t{6}, "ERROR_INVALID_HANDLE, as Send() after close");
  // Destroy the backend while the driver still runs both calls; they return into a closed
  // table and free themselves.
  s.reset();
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  Session again("");
  if (!ExpectTrue(again.ok(), "a new session after the late returns")) return;
  const uint8_t in[2] = {4, 2};
  ExpectTrue(again.port->SendAsync(1, in, 2, 2, false).ok(), "started");
  ExpectTrue(again.events.WaitReads(1, 5000), "answered");
  again.port->Close();
}

// The driver closes the connection while a send sleeps in its MessageNotify: the session stops
// as disconnected and the send is answered 0x80070006 before OnStopped; later sends are refused.
void TestDisconnectAnswersSendsStillAtTheDriver() {
  Session s("notify=block:2000");
  if (!ExpectTrue(s.ok(), "session")) return;
  ExpectTrue(s.port->SendAsync(7, nullptr, 0, 4, false).ok(), "started");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ExpectEq(Control::Get().Call("conn.close conn=" + s.conn).rfind("ok", 0), size_t{0}, "conn.close");
  ExpectTrue(s.events.WaitStopped(5000), "stopped");
  ExpectEq(s.events.reason(), StopReason::kDisconnected, "disconnected");
  const auto reads = s.events.Reads();
  ExpectTrue(reads.size() == 1 && reads[0].token == 7 && reads[0].status.hresult == kInvalidHandle,
             "answered 0x80070006");
  ExpectEq(s.events.contract_violations(), 0, "before OnStopped");
  const Status late = s.port->SendAsync(8, nullptr, 0, 0, true);
  ExpectEq(late.hresult, kInvalidHandle, "refused after the stop");
  s.port->Close();
  ExpectEq(s.events.Reads().size(), size_t{1}, "exactly one outcome");
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));  // the call returns, frees itself
}

}  // namespace

int main(int argc, char** argv) {
  if (!Control::Get().ok()) return 1;
  return fltport::test::Main(
      argc, argv,
      {
          {"port_backend.send_async_runs_on_the_pool_and_answers_in_a_batch", &TestSendAsyncRunsOnThePoolAndAnswersInABatch},
          {"port_backend.send_async_reports_the_driver_status", &TestSendAsyncReportsTheDriverStatus},
          {"port_backend.close_answers_sends_still_at_the_driver", &TestCloseAnswersSendsStillAtTheDriver},
          {"port_backend.disconnect_answers_sends_still_at_the_driver", &TestDisconnectAnswersSendsStillAtTheDriver},
      });
}
