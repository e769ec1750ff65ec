// native/win/CompletionLoop under Wine, driven with overlapped reads on a message-mode named
// pipe (which Wine implements with real asynchronous I/O, unlike its mailslots). This is the
// loop the port backend runs on: until the Wine lane brings a test fltlib.dll, it is the
// evidence that the loop's mechanics — batching of one wake-up, wake coalescing, bounded
// waits, CancelIoEx drain, Status from OVERLAPPED.Internal, the "warning status still queues
// a packet" rule — behave as designed on a Windows I/O model. Cross-compiled with mingw-w64,
// run by native/win/run-wine-tests.sh.
//
// Threads: main() drives; the handlers run on the loop thread and talk back through a mutex.
#include <windows.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "CompletionLoop.h"
#include "Status.h"
#include "TestHarness.h"

namespace {

using fltport::core::Status;
using fltport::win::CompletionLoop;

using fltport::test::ExpectEq;
using fltport::test::ExpectTrue;

constexpr ULONG_PTR kPipeKey = 7;

struct Read {
  OVERLAPPED overlapped;
  char buffer[64];
};

// A message-mode pipe whose server end is read with overlapped I/O.
struct Pipe {
  HANDLE server = INVALID_HANDLE_VALUE;
  HANDLE client = INVALID_HANDLE_VALUE;

  explicit Pipe(const char* leaf) {
    const std::string s = "\\\\.\\pipe\\fltport-loop-test-" + std::to_string(GetCurrentProcessId()) +
                          "-" + leaf;
    const std::wstring name(s.begin(), s.end());
    server = CreateNamedPipeW(name.c_str(), PIPE_ACCESS_INBOUND | FILE_FLAG_OVERLAPPED,
                              PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT, 1, 4096, 4096,
                              0, nullptr);
    client = CreateFileW(name.c_str(), GENERIC_WRITE, 0, nullptr, OPEN_EXISTING, 0, nullptr);
    ExpectTrue(server != INVALID_HANDLE_VALUE, "server != INVALID_HANDLE_VALUE");
    ExpectTrue(client != INVALID_HANDLE_VALUE, "client != INVALID_HANDLE_VALUE");
  }
  ~Pipe() {
    if (client != INVALID_HANDLE_VALUE) CloseHandle(client);
    if (server != INVALID_HANDLE_VALUE) CloseHandle(server);
  }
  void Write(const std::string& m) {
    DWORD n = 0;
    ExpectTrue(WriteFile(client, m.data(), static_cast<DWORD>(m.size()), &n, nullptr), "WriteFile(client, m.data(), static_cast<DWORD>(m.size()), &n, nullptr)");
    ExpectEq(n, static_cast<DWORD>(m.size()), "n");
  }
};

bool Issue(HANDLE h, Read* r) {
  std::memset(&r->overlapped, 0, sizeof(r->overlapped));
  const BOOL done = ReadFile(h, r->buffer, sizeof(r->buffer), nullptr, &r->overlapped);
  return done || GetLastError() == ERROR_IO_PENDING;
}

// A handler scripted per test; every call is counted.
class Scripted : public CompletionLoop::Handler {
 public:
  using Fn = std::function<bool(const OVERLAPPED_ENTRY*, ULONG, DWORD*)>;
  explicit Scripted(Fn fn) : fn_(std::move(fn)) {}
  bool OnPackets(const OVERLAPPED_ENTRY* e, ULONG n, DWORD* wait) override {
    calls.fetch_add(1);
    return fn_(e, n, wait);
  }
  void OnLoopFailed(const Status& status) override {
    failed = true;
    std::printf("  loop failed: win32 %u\n", status.win32);
  }
  std::atomic<int> calls{0};
  bool failed = false;

 private:
  Fn fn_;
};

// Condition shared between the loop thread and main().
struct Shared {
  std::mutex mu;
  std::condition_variable cv;
  template <typename P>
  bool WaitFor(P pred, int ms = 5000) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::milliseconds(ms), pred);
  }
};

void TestBatchingAndDrain() {
  std::printf("case: one wake-up delivers every queued packet; CancelIoEx drains the rest\n");
  Pipe pipe("batch");
  Shared sh;
  Read reads[6];
  bool release = false;       // main() -> loop: the first call may return
  int outstanding = 0;        // loop thread
  std::vector<ULONG> counts;  // packets per call after the first
  std::vector<std::string> got;
  std::vector<Status> cancelled;
  bool cancel_sent = false;
  HANDLE server = pipe.server;

  Scripted handler([&](const OVERLAPPED_ENTRY* e, ULONG n, DWORD*) {
    std::unique_lock<std::mutex> lock(sh.mu);
    if (counts.empty() && n == 0 && outstanding == 0) {
      for (Read& r : reads) {
        ExpectTrue(Issue(server, &r), "Issue(server, &r)");
        ++outstanding;
      }
      sh.cv.notify_all();
      // Hold the loop until main() has written 4 messages: their packets are then all queued
      // before the next GetQueuedCompletionStatusEx, which must return them together.
      sh.cv.wait(lock, [&] { return release; });
      counts.push_back(0);
      return true;
    }
    counts.push_back(n);
    for (ULONG i = 0; i < n; ++i) {
      if (e[i].lpCompletionKey != kPipeKey) continue;
      Read* r = CONTAINING_RECORD(e[i].lpOverlapped, Read, overlapped);
      --outstanding;
      if (r->overlapped.Internal == 0) {
        got.emplace_back(r->buffer, e[i].dwNumberOfBytesTransferred);
      } else {
        cancelled.push_back(CompletionLoop::CompletionStatus(server, &r->overlapped, "ReadFile"));
      }
    }
    if (got.size() == 4 && !cancel_sent) {
      cancel_sent = true;
      ExpectTrue(CancelIoEx(server, nullptr), "CancelIoEx(server, nullptr)");  // the two reads still pending
    }
    sh.cv.notify_all();
    return outstanding > 0;  // end once every read has completed
  });

  CompletionLoop loop;
  ExpectTrue(loop.Create().ok(), "loop.Create().ok()");
  ExpectTrue(loop.Associate(pipe.server, kPipeKey).ok(), "loop.Associate(pipe.server, kPipeKey).ok()");
  ExpectTrue(loop.Start(&handler).ok(), "loop.Start(&handler).ok()");
  ExpectTrue(sh.WaitFor([&] { return outstanding == 6; }), "sh.WaitFor([&] { return outstanding == 6; })");
  for (int i = 0; i < 4; ++i) pipe.Write("message " + std::to_string(i));
  Sleep(100);  // let the I/O manager queue all four packets
  {
    std::lock_guard<std::mutex> lock(sh.mu);
    release = true;
  }
  sh.cv.notify_all();
  loop.Join();
  loop.ClosePort();
  ExpectTrue(!handler.failed, "!handler.failed");
  ExpectTrue(counts.size() >= 2, "counts.size() >= 2");
  if (counts.size() >= 2) ExpectEq(counts[1], 4u, "counts[1]");  // one call, four packets
  ExpectEq(got.size(), 4u, "got.size()");
  for (size_t i = 0; i < got.size(); ++i) ExpectTrue(got[i] == "message " + std::to_string(i), "got[i] == \"message \" + std::to_string(i)");
  ExpectEq(cancelled.size(), 2u, "cancelled.size()");
  for (const Status& s : cancelled) {
    ExpectEq(s.ntstatus, 0xC0000120u, "s.ntstatus");  // STATUS_CANCELLED, read from OVERLAPPED.Internal
    ExpectEq(s.win32, 995u, "s.win32");            // ERROR_OPERATION_ABORTED, kernel32's mapping
    ExpectEq(s.hresult, 0x800703E3u, "s.hresult");
    ExpectTrue(s.syscall == "ReadFile", "s.syscall == \"ReadFile\"");
  }
  std::printf("  packets per call: ");
  for (ULONG c : counts) std::printf("%lu ", c);
  std::printf("\n");
}

void TestWarningStillQueuesPacket() {
  std::printf("case: ERROR_MORE_DATA at once still queues a packet (PacketQueuedAfterFailure)\n");
  Pipe pipe("warning");
  pipe.Write(std::string(100, 'w'));  // longer than a 64-byte read
  Shared sh;
  Read read;
  bool issued = false, done = false;
  BOOL immediate = TRUE;
  DWORD immediate_error = 0;
  bool queued_predicted = false;
  uint64_t internal = 0;
  DWORD bytes = 0;
  HANDLE server = pipe.server;
  Scripted handler([&](const OVERLAPPED_ENTRY* e, ULONG n, DWORD*) {
    std::lock_guard<std::mutex> lock(sh.mu);
    if (!issued) {
      issued = true;
      std::memset(&read.overlapped, 0, sizeof(read.overlapped));
      immediate = ReadFile(server, read.buffer, sizeof(read.buffer), nullptr, &read.overlapped);
      immediate_error = immediate ? 0 : GetLastError();
      queued_predicted = CompletionLoop::PacketQueuedAfterFailure(read.overlapped);
      return true;
    }
    for (ULONG i = 0; i < n; ++i) {
      if (e[i].lpOverlapped == &read.overlapped) {
        done = true;
        internal = read.overlapped.Internal;
        bytes = e[i].dwNumberOfBytesTransferred;
      }
    }
    sh.cv.notify_all();
    return !done;
  });
  CompletionLoop loop;
  ExpectTrue(loop.Create().ok(), "loop.Create().ok()");
  ExpectTrue(loop.Associate(pipe.server, kPipeKey).ok(), "loop.Associate(pipe.server, kPipeKey).ok()");
  ExpectTrue(loop.Start(&handler).ok(), "loop.Start(&handler).ok()");
  ExpectTrue(sh.WaitFor([&] { return done; }), "sh.WaitFor([&] { return done; })");
  loop.Join();
  ExpectTrue(!immediate, "!immediate");
  ExpectEq(immediate_error, static_cast<DWORD>(ERROR_MORE_DATA), "immediate_error");
  ExpectTrue(queued_predicted, "queued_predicted");
  ExpectEq(internal, 0x80000005ull, "internal");  // STATUS_BUFFER_OVERFLOW, a warning
  ExpectEq(bytes, 64u, "bytes");
  // An error status (not a warning) predicts no packet.
  OVERLAPPED error_status{};
  error_status.Internal = 0xC0000120;
  ExpectTrue(!CompletionLoop::PacketQueuedAfterFailure(error_status), "!CompletionLoop::PacketQueuedAfterFailure(error_status)");
  OVERLAPPED never_started{};
  never_started.Internal = 0x103;  // STATUS_PENDING: rejected before a request existed
  ExpectTrue(!CompletionLoop::PacketQueuedAfterFailure(never_started), "!CompletionLoop::PacketQueuedAfterFailure(never_started)");
}

void TestStatusBeyondTheTable() {
  std::printf("case: a status core's table lacks gets kernel32's Win32 mapping\n");
  Pipe pipe("broken");
  Shared sh;
  Read read;
  bool issued = false, done = false;
  Status status;
  HANDLE server = pipe.server;
  Scripted handler([&](const OVERLAPPED_ENTRY* e, ULONG n, DWORD*) {
    std::lock_guard<std::mutex> lock(sh.mu);
    if (!issued) {
      issued = true;
      ExpectTrue(Issue(server, &read), "Issue(server, &read)");
      sh.cv.notify_all();
      return true;
    }
    for (ULONG i = 0; i < n; ++i) {
      if (e[i].lpOverlapped == &read.overlapped) {
        done = true;
        status = CompletionLoop::CompletionStatus(server, &read.overlapped, "ReadFile");
      }
    }
    sh.cv.notify_all();
    return !done;
  });
  CompletionLoop loop;
  ExpectTrue(loop.Create().ok(), "loop.Create().ok()");
  ExpectTrue(loop.Associate(pipe.server, kPipeKey).ok(), "loop.Associate(pipe.server, kPipeKey).ok()");
  ExpectTrue(loop.Start(&handler).ok(), "loop.Start(&handler).ok()");
  ExpectTrue(sh.WaitFor([&] { return issued; }), "sh.WaitFor([&] { return issued; })");
  Sleep(50);
  CloseHandle(pipe.client);  // the pending read fails: STATUS_PIPE_BROKEN
  pipe.client = INVALID_HANDLE_VALUE;
  ExpectTrue(sh.WaitFor([&] { return done; }), "sh.WaitFor([&] { return done; })");
  loop.Join();
  ExpectEq(status.ntstatus, 0xC000014Bu, "status.ntstatus");  // STATUS_PIPE_BROKEN: not in core's table
  ExpectEq(status.win32, 109u, "status.win32");            // ERROR_BROKEN_PIPE, from GetOverlappedResult
  ExpectEq(status.hresult, 0x8007006Du, "status.hresult");
}

void TestWakeCoalescingAndBoundedWait() {
  std::printf("case: many Wake() calls -> one packet; a bounded wait calls back with none\n");
  Shared sh;
  int phase = 0;
  int wakes_seen = 0;
  int timeouts = 0;
  bool go = false;
  Scripted handler([&](const OVERLAPPED_ENTRY* e, ULONG n, DWORD* wait) {
    std::unique_lock<std::mutex> lock(sh.mu);
    for (ULONG i = 0; i < n; ++i) {
      if (e[i].lpCompletionKey == CompletionLoop::kWakeKey) ++wakes_seen;
    }
    if (phase == 0) {  // first call: hold the loop while main() wakes it 1000 times
      phase = 1;
      sh.cv.notify_all();
      sh.cv.wait(lock, [&] { return go; });
      return true;
    }
    if (phase == 1) {  // the coalesced wake arrived; now ask for two 20 ms timeouts
      phase = 2;
      *wait = 20;
      sh.cv.notify_all();
      return true;
    }
    if (n == 0) ++timeouts;
    if (timeouts < 2) {
      *wait = 20;
      return true;
    }
    phase = 3;
    sh.cv.notify_all();
    return false;
  });
  CompletionLoop loop;
  ExpectTrue(loop.Create().ok(), "loop.Create().ok()");
  ExpectTrue(loop.Start(&handler).ok(), "loop.Start(&handler).ok()");
  ExpectTrue(sh.WaitFor([&] { return phase == 1; }), "sh.WaitFor([&] { return phase == 1; })");
  std::thread t1([&] { for (int i = 0; i < 500; ++i) loop.Wake(); });
  std::thread t2([&] { for (int i = 0; i < 500; ++i) loop.Wake(); });
  t1.join();
  t2.join();
  {
    std::lock_guard<std::mutex> lock(sh.mu);
    go = true;
  }
  sh.cv.notify_all();
  ExpectTrue(sh.WaitFor([&] { return phase == 3; }), "sh.WaitFor([&] { return phase == 3; })");
  loop.Join();
  loop.Wake();  // after the thread ended: harmless
  loop.ClosePort();
  loop.Wake();  // after the port closed: nothing is posted
  ExpectEq(wakes_seen, 1, "wakes_seen");
  ExpectEq(timeouts, 2, "timeouts");
  ExpectTrue(!handler.failed, "!handler.failed");
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IONBF, 0);
  return fltport::test::Main(
      argc, argv,
      {
          {"loop.batching_and_cancel_drain", &TestBatchingAndDrain},
          {"loop.warning_still_queues_packet", &TestWarningStillQueuesPacket},
          {"loop.status_beyond_the_table", &TestStatusBeyondTheTable},
          {"loop.wake_coalescing_and_bounded_wait", &TestWakeCoalescingAndBoundedWait},
      });
}
