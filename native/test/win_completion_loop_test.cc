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

namespace {

using fltport::core::Status;
using fltport::win::CompletionLoop;

int g_failures = 0;
int g_checks = 0;

#define CHECK(cond)                                                   \
  do {                                                                \
    ++g_checks;                                                       \
    if (!(cond)) {                                                    \
      ++g_failures;                                                   \
      std::printf("  FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                 \
  } while (0)

#define CHECK_EQ(a, b)                                                                 \
  do {                                                                                 \
    ++g_checks;                                                                        \
    const auto va = (a);                                                               \
    const auto vb = (b);                                                               \
    if (!(va == vb)) {                                                                 \
      ++g_failures;                                                                    \
      std::printf("  FAILED %s:%d: %s == %s (0x%llx vs 0x%llx)\n", __FILE__, __LINE__, \
                  #a, #b, (unsigned long long)va, (unsigned long long)vb);             \
    }                                                                                  \
  } while (0)

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
    CHECK(server != INVALID_HANDLE_VALUE);
    CHECK(client != INVALID_HANDLE_VALUE);
  }
  ~Pipe() {
    if (client != INVALID_HANDLE_VALUE) CloseHandle(client);
    if (server != INVALID_HANDLE_VALUE) CloseHandle(server);
  }
  void Write(const std::string& m) {
    DWORD n = 0;
    CHECK(WriteFile(client, m.data(), static_cast<DWORD>(m.size()), &n, nullptr));
    CHECK_EQ(n, static_cast<DWORD>(m.size()));
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
        CHECK(Issue(server, &r));
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
      CHECK(CancelIoEx(server, nullptr));  // the two reads still pending
    }
    sh.cv.notify_all();
    return outstanding > 0;  // end once every read has completed
  });

  CompletionLoop loop;
  CHECK(loop.Create().ok());
  CHECK(loop.Associate(pipe.server, kPipeKey).ok());
  CHECK(loop.Start(&handler).ok());
  CHECK(sh.WaitFor([&] { return outstanding == 6; }));
  for (int i = 0; i < 4; ++i) pipe.Write("message " + std::to_string(i));
  Sleep(100);  // let the I/O manager queue all four packets
  {
    std::lock_guard<std::mutex> lock(sh.mu);
    release = true;
  }
  sh.cv.notify_all();
  loop.Join();
  loop.ClosePort();
  CHECK(!handler.failed);
  CHECK(counts.size() >= 2);
  if (counts.size() >= 2) CHECK_EQ(counts[1], 4u);  // one call, four packets
  CHECK_EQ(got.size(), 4u);
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == "message " + std::to_string(i));
  CHECK_EQ(cancelled.size(), 2u);
  for (const Status& s : cancelled) {
    CHECK_EQ(s.ntstatus, 0xC0000120u);  // STATUS_CANCELLED, read from OVERLAPPED.Internal
    CHECK_EQ(s.win32, 995u);            // ERROR_OPERATION_ABORTED, kernel32's mapping
    CHECK_EQ(s.hresult, 0x800703E3u);
    CHECK(s.syscall == "ReadFile");
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
  CHECK(loop.Create().ok());
  CHECK(loop.Associate(pipe.server, kPipeKey).ok());
  CHECK(loop.Start(&handler).ok());
  CHECK(sh.WaitFor([&] { return done; }));
  loop.Join();
  CHECK(!immediate);
  CHECK_EQ(immediate_error, static_cast<DWORD>(ERROR_MORE_DATA));
  CHECK(queued_predicted);
  CHECK_EQ(internal, 0x80000005ull);  // STATUS_BUFFER_OVERFLOW, a warning
  CHECK_EQ(bytes, 64u);
  // An error status (not a warning) predicts no packet.
  OVERLAPPED error_status{};
  error_status.Internal = 0xC0000120;
  CHECK(!CompletionLoop::PacketQueuedAfterFailure(error_status));
  OVERLAPPED never_started{};
  never_started.Internal = 0x103;  // STATUS_PENDING: rejected before a request existed
  CHECK(!CompletionLoop::PacketQueuedAfterFailure(never_started));
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
      CHECK(Issue(server, &read));
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
  CHECK(loop.Create().ok());
  CHECK(loop.Associate(pipe.server, kPipeKey).ok());
  CHECK(loop.Start(&handler).ok());
  CHECK(sh.WaitFor([&] { return issued; }));
  Sleep(50);
  CloseHandle(pipe.client);  // the pending read fails: STATUS_PIPE_BROKEN
  pipe.client = INVALID_HANDLE_VALUE;
  CHECK(sh.WaitFor([&] { return done; }));
  loop.Join();
  CHECK_EQ(status.ntstatus, 0xC000014Bu);  // STATUS_PIPE_BROKEN: not in core's table
  CHECK_EQ(status.win32, 109u);            // ERROR_BROKEN_PIPE, from GetOverlappedResult
  CHECK_EQ(status.hresult, 0x8007006Du);
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
  CHECK(loop.Create().ok());
  CHECK(loop.Start(&handler).ok());
  CHECK(sh.WaitFor([&] { return phase == 1; }));
  std::thread t1([&] { for (int i = 0; i < 500; ++i) loop.Wake(); });
  std::thread t2([&] { for (int i = 0; i < 500; ++i) loop.Wake(); });
  t1.join();
  t2.join();
  {
    std::lock_guard<std::mutex> lock(sh.mu);
    go = true;
  }
  sh.cv.notify_all();
  CHECK(sh.WaitFor([&] { return phase == 3; }));
  loop.Join();
  loop.Wake();  // after the thread ended: harmless
  loop.ClosePort();
  loop.Wake();  // after the port closed: nothing is posted
  CHECK_EQ(wakes_seen, 1);
  CHECK_EQ(timeouts, 2);
  CHECK(!handler.failed);
}

}  // namespace

int main() {
  std::setvbuf(stdout, nullptr, _IONBF, 0);
  TestBatchingAndDrain();
  TestWarningStillQueuesPacket();
  TestStatusBeyondTheTable();
  TestWakeCoalescingAndBoundedWait();
  std::printf("win_completion_loop_test: %d checks, %d failed -> %s\n", g_checks, g_failures,
              g_failures ? "FAIL" : "PASS");
  return g_failures ? 1 : 0;
}
