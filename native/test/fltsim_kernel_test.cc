// fltKernel.h's support routines as a driver uses them: pool with tags, spin locks, fast
// mutexes, events, push locks, interlocked operations, lists, system threads, strings,
// time, processes, object references and DbgPrint.
#include <atomic>
#include <ctime>
#include <thread>
#include <vector>

#include "../fltsim/engine/CurrentProcess.h"
#include "../fltsim/engine/KernelSupport.h"
#include "../fltsim/engine/Log.h"
#include "fltsim_test.h"

namespace {

using fltport::test::ExpectEq;
using fltport::test::ExpectTrue;
using namespace fltport::fltsim;
using namespace fltport::fltsim::testing;

// A pool tag as the WDK writes it (Tag("Test") = "Test" in memory), without multi-char literals.
constexpr ULONG Tag(const char (&text)[5]) {
  return static_cast<ULONG>(static_cast<uint8_t>(text[0])) | (static_cast<ULONG>(static_cast<uint8_t>(text[1])) << 8) |
         (static_cast<ULONG>(static_cast<uint8_t>(text[2])) << 16) | (static_cast<ULONG>(static_cast<uint8_t>(text[3])) << 24);
}

void TestPool() {
  PoolStats before = GetPoolStats();
  auto* zeroed = static_cast<uint8_t*>(ExAllocatePoolZero(NonPagedPoolNx, 64, Tag("Test")));
  auto* pool2 = static_cast<uint8_t*>(ExAllocatePool2(POOL_FLAG_NON_PAGED, 32, Tag("Test")));
  void* raw = ExAllocatePoolWithTag(PagedPool, 16, Tag("Raww"));
  ExpectTrue(zeroed && pool2 && raw, "allocated");
  ExpectEq(reinterpret_cast<uintptr_t>(zeroed) % 16, uintptr_t{0}, "16-byte aligned");
  bool all_zero = true;
  for (int i = 0; i < 64; ++i) all_zero = all_zero && zeroed[i] == 0;
  for (int i = 0; i < 32; ++i) all_zero = all_zero && pool2[i] == 0;
  ExpectTrue(all_zero, "ExAllocatePoolZero and ExAllocatePool2 zero the memory");
  PoolStats during = GetPoolStats();
  ExpectEq(during.outstanding_allocations - before.outstanding_allocations, uint64_t{3}, "three outstanding");
  ExpectEq(during.outstanding_bytes - before.outstanding_bytes, uint64_t{112}, "bytes");
  ExFreePoolWithTag(zeroed, Tag("Test"));
  ExFreePoolWithTag(pool2, Tag("Wrng"));  // wrong tag: counted, still freed
  ExFreePool(raw);
  ExFreePool(raw);  // double free: refused, counted
  PoolStats after = GetPoolStats();
  ExpectEq(after.outstanding_allocations, before.outstanding_allocations, "all freed");
  ExpectEq(after.tag_mismatches - before.tag_mismatches, uint64_t{1}, "tag mismatch counted");
  ExpectEq(after.bad_frees - before.bad_frees, uint64_t{1}, "double free counted");
  ExpectTrue(ExAllocatePoolWithTag(NonPagedPool, SIZE_MAX - 8, Tag("Big!")) == nullptr, "absurd size fails");

  // A pointer the pool never gave out: refused without reading the bytes before it.
  static uint8_t foreign[8];
  ExFreePool(foreign + 4);
  PoolStats end = GetPoolStats();
  ExpectEq(end.outstanding_allocations, before.outstanding_allocations, "all freed at the end");
  ExpectEq(end.bad_frees - before.bad_frees, uint64_t{2}, "the foreign pointer counted");
}

void TestSpinLockAndFastMutex() {
  KSPIN_LOCK lock;
  KeInitializeSpinLock(&lock);
  FAST_MUTEX mutex;
  ExInitializeFastMutex(&mutex);
  long counter_a = 0;
  long counter_b = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        KIRQL old;
        KeAcquireSpinLock(&lock, &old);
        if (KeGetCurrentIrql() != DISPATCH_LEVEL) counter_a = -1000000;
        ++counter_a;
        KeReleaseSpinLock(&lock, old);
        ExAcquireFastMutex(&mutex);
        ++counter_b;
        ExReleaseFastMutex(&mutex);
      }
    });
  }
  for (auto& t : threads) t.join();
  ExpectEq(counter_a, 80000L, "spin lock excludes");
  ExpectEq(counter_b, 80000L, "fast mutex excludes");
  ExpectEq(static_cast<int>(KeGetCurrentIrql()), PASSIVE_LEVEL, "IRQL restored");
}

void TestEvents() {
  KEVENT sync;
  KeInitializeEvent(&sync, SynchronizationEvent, FALSE);
  LARGE_INTEGER zero;
  zero.QuadPart = 0;
  ExpectEq(S(KeWaitForSingleObject(&sync, Executive, KernelMode, FALSE, &zero)), 0x102u, "not signalled: timeout");
  KeSetEvent(&sync, IO_NO_INCREMENT, FALSE);
  ExpectEq(S(KeWaitForSingleObject(&sync, Executive, KernelMode, FALSE, &zero)), 0u, "signalled");
  ExpectEq(KeReadStateEvent(&sync), 0L, "auto-reset after a wait");
  KEVENT notification;
  KeInitializeEvent(&notification, NotificationEvent, FALSE);
  std::thread setter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    KeSetEvent(&notification, IO_NO_INCREMENT, FALSE);
  });
  ExpectEq(S(KeWaitForSingleObject(&notification, Executive, KernelMode, FALSE, nullptr)), 0u, "woken");
  setter.join();
  ExpectEq(KeReadStateEvent(&notification), 1L, "notification events stay signalled");
  KeClearEvent(&notification);
  LARGE_INTEGER rel;
  rel.QuadPart = -100 * 10000;
  auto start = Clock::now();
  ExpectEq(S(KeWaitForSingleObject(&notification, Executive, KernelMode, FALSE, &rel)), 0x102u, "relative timeout");
  ExpectTrue(MsSince(start) >= 95, "waited");
  ExpectEq(S(KeDelayExecutionThread(KernelMode, FALSE, &rel)), 0u, "delay");
}

void TestPushLocksAndInterlocked() {
  EX_PUSH_LOCK lock;
  FltInitializePushLock(&lock);
  LONG volatile counter = 0;
  LONG64 volatile big = 0;
  std::atomic<int> readers{0};
  std::atomic<int> max_readers{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) {
        InterlockedIncrement(&counter);
        InterlockedIncrement64(&big);
        FltAcquirePushLockShared(&lock);
        int now = ++readers;
        int seen = max_readers.load();
        while (now > seen && !max_readers.compare_exchange_weak(seen, now)) {
        }
        --readers;
        FltReleasePushLock(&lock);
        FltAcquirePushLockExclusive(&lock);
        if (readers.load() != 0) InterlockedExchange(&counter, -1000000);
        FltReleasePushLock(&lock);
      }
    });
  }
  for (auto& t : threads) t.join();
  FltDeletePushLock(&lock);
  ExpectEq(static_cast<LONG>(counter), 20000, "interlocked increments, exclusive excludes readers");
  ExpectEq(static_cast<LONG64>(big), int64_t{20000}, "64-bit");
  ExpectEq(InterlockedCompareExchange64(&big, 7, 20000), int64_t{20000}, "compare-exchange returns the old value");
  ExpectEq(static_cast<LONG64>(big), int64_t{7}, "exchanged");
  ExpectEq(InterlockedCompareExchange64(&big, 9, 1), int64_t{7}, "no exchange when different");
  ExpectEq(InterlockedExchange64(&big, 3), int64_t{7}, "exchange");
  ExpectEq(InterlockedDecrement(&counter), 19999, "decrement");
}

struct Item {
  LIST_ENTRY link;
  int value;
};

void TestLists() {
  LIST_ENTRY head;
  InitializeListHead(&head);
  ExpectTrue(IsListEmpty(&head), "empty");
  Item a{{}, 1}, b{{}, 2}, c{{}, 3};
  InsertTailList(&head, &a.link);
  InsertTailList(&head, &b.link);
  InsertHeadList(&head, &c.link);
  std::vector<int> order;
  for (PLIST_ENTRY e = head.Flink; e != &head; e = e->Flink) order.push_back(CONTAINING_RECORD(e, Item, link)->value);
  ExpectTrue(order == std::vector<int>({3, 1, 2}), "order");
  ExpectEq(CONTAINING_RECORD(RemoveHeadList(&head), Item, link)->value, 3, "remove head");
  ExpectEq(CONTAINING_RECORD(RemoveTailList(&head), Item, link)->value, 2, "remove tail");
  ExpectTrue(RemoveEntryList(&a.link), "last one: list now empty");
  ExpectTrue(IsListEmpty(&head), "empty again");
}

struct ThreadContext {
  std::atomic<int> ran{0};
  bool terminate = false;
  uint64_t pid = 0;
};

VOID ThreadRoutine(PVOID context) {
  auto* ctx = static_cast<ThreadContext*>(context);
  ctx->pid = reinterpret_cast<uintptr_t>(PsGetCurrentProcessId());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ctx->ran = 1;
  if (ctx->terminate) {
    PsTerminateSystemThread(STATUS_SUCCESS);
    ctx->ran = 2;  // never reached
  }
}

void TestSystemThreads() {
  for (bool terminate : {false, true}) {
    ThreadContext ctx;
    ctx.terminate = terminate;
    HANDLE thread = nullptr;
    CLIENT_ID id{};
    ExpectEq(S(PsCreateSystemThread(&thread, THREAD_ALL_ACCESS, nullptr, nullptr, &id, ThreadRoutine, &ctx)), 0u, "created");
    LARGE_INTEGER zero;
    zero.QuadPart = 0;
    ExpectEq(S(ZwWaitForSingleObject(thread, FALSE, &zero)), 0x102u, "still running");
    ExpectEq(S(ZwWaitForSingleObject(thread, FALSE, nullptr)), 0u, "finished");
    ExpectEq(ctx.ran.load(), 1, terminate ? "PsTerminateSystemThread ended it" : "returned");
    ExpectEq(ctx.pid, uint64_t{4}, "runs in the System process");
    ExpectEq(reinterpret_cast<uintptr_t>(id.UniqueProcess), uintptr_t{4}, "CLIENT_ID");
    ExpectEq(S(ZwClose(thread)), 0u, "closed");
    ExpectEq(S(ZwWaitForSingleObject(thread, FALSE, nullptr)), 0xC0000008u, "closed handle");
  }
  ExpectEq(S(PsTerminateSystemThread(STATUS_SUCCESS)), 0xC000000Du, "not a system thread");
}

std::u16string Units(const WCHAR* p, ULONG bytes) { return std::u16string(reinterpret_cast<const char16_t*>(p), bytes / 2); }

void TestUtf8ToUnicode() {
  WCHAR out[8];
  ULONG actual = 0;
  const char* text = "a\xc3\xa9\xf0\x9f\x98\x80";  // a, e-acute, U+1F600
  ExpectEq(S(RtlUTF8ToUnicodeN(nullptr, 0, &actual, text, 7)), 0u, "size query");
  ExpectEq(actual, 8u, "4 UTF-16 units");
  ExpectEq(S(RtlUTF8ToUnicodeN(out, sizeof out, &actual, text, 7)), 0u, "converted");
  ExpectTrue(Units(out, actual) == u"a\u00e9\U0001F600", "content");
  ExpectEq(S(RtlUTF8ToUnicodeN(out, 6, &actual, text, 7)), 0xC0000023u, "too small: no half surrogate pair");
  ExpectEq(actual, 4u, "what fitted");
  ExpectEq(S(RtlUTF8ToUnicodeN(out, sizeof out, &actual, "x\xff", 2)), 0x107u, "STATUS_SOME_NOT_MAPPED");
  ExpectTrue(Units(out, actual) == u"x\uFFFD", "replacement");
  ExpectEq(S(RtlUTF8ToUnicodeN(out, sizeof out, &actual, "\xe2\x82", 2)), 0x107u, "truncated sequence");
  ExpectEq(S(RtlUTF8ToUnicodeN(out, sizeof out, nullptr, "x", 1)), 0xC000000Du, "no ActualByteCount");
}

void TestStringsTimeAndProcesses() {
  UNICODE_STRING a, b, c;
  const char16_t* s1 = u"\\Port";
  const char16_t* s2 = u"\\PORT";
  RtlInitUnicodeString(&a, reinterpret_cast<PCWSTR>(s1));
  RtlInitUnicodeString(&b, reinterpret_cast<PCWSTR>(s2));
  RtlInitUnicodeString(&c, nullptr);
  ExpectEq(static_cast<int>(a.Length), 10, "Length in bytes");
  ExpectEq(static_cast<int>(a.MaximumLength), 12, "MaximumLength includes the terminator");
  ExpectEq(static_cast<int>(c.Length), 0, "NULL source");
  ExpectTrue(RtlEqualUnicodeString(&a, &b, TRUE), "case-insensitive equal");
  ExpectTrue(!RtlEqualUnicodeString(&a, &b, FALSE), "case-sensitive differs");
  LARGE_INTEGER now;
  KeQuerySystemTime(&now);
  int64_t unix_seconds = (now.QuadPart - 116444736000000000LL) / 10000000;
  ExpectTrue(std::llabs(unix_seconds - static_cast<int64_t>(std::time(nullptr))) <= 2, "system time matches time()");
  ExpectEq(reinterpret_cast<uintptr_t>(PsGetCurrentProcessId()), uintptr_t{4}, "System outside callbacks");
  {
    CurrentProcessScope caller(1234);
    PEPROCESS p = PsGetCurrentProcess();
    ExpectEq(reinterpret_cast<uintptr_t>(PsGetProcessId(p)), uintptr_t{1234}, "the caller's process");
    ExpectEq(static_cast<long>(ObReferenceObject(p)), 1L, "processes are not counted");
    ObDereferenceObject(p);
    ExpectTrue(p == PsGetCurrentProcess(), "one object per pid");
  }
}

void TestMailslotObjectReferences() {
  Sim sim;
  std::u16string n = U16("\\Device\\Mailslot\\refs") + u'\0';
  UNICODE_STRING us;
  RtlInitUnicodeString(&us, reinterpret_cast<PCWSTR>(n.c_str()));
  OBJECT_ATTRIBUTES oa;
  InitializeObjectAttributes(&oa, &us, OBJ_KERNEL_HANDLE, nullptr, nullptr);
  HANDLE handle = nullptr;
  PFILE_OBJECT object = nullptr;
  IO_STATUS_BLOCK iosb;
  ExpectEq(S(FltCreateMailslotFile(sim.F, nullptr, &handle, &object, GENERIC_READ, &oa, &iosb, 0, 0, 0, nullptr, nullptr)), 0u, "created");
  ObReferenceObject(object);
  ZwClose(handle);
  ObDereferenceObject(object);
  std::shared_ptr<Mailslot> writer;
  ExpectEq(sim.kernel.mailslots().Open(U16("\\\\.\\mailslot\\refs"), &writer), 0u, "one reference left: open");
  ObDereferenceObject(object);
  ExpectEq(sim.kernel.mailslots().Open(U16("\\\\.\\mailslot\\refs"), &writer), 0xC0000034u, "last reference gone");
}

std::vector<std::string>* g_log_lines = nullptr;

void CaptureLog(LogLevel, const std::string& line, void*) {
  if (g_log_lines) g_log_lines->push_back(line);
}

void TestDbgPrintGoesToTheLog() {
  std::vector<std::string> lines;
  g_log_lines = &lines;
  LogLevel saved = GetLogLevel();
  SetLogLevel(LogLevel::kDebug);
  SetLogHook(CaptureLog, nullptr);
  DbgPrint("value %d\n", 42);
  DbgPrintEx(DPFLTR_IHVDRIVER_ID, DPFLTR_ERROR_LEVEL, "bad %s", "thing");
  ASSERT(1 == 2);
  SetLogHook(nullptr, nullptr);
  SetLogLevel(saved);
  g_log_lines = nullptr;
  ExpectEq(lines.size(), size_t{3}, "three lines");
  if (lines.size() == 3) {
    ExpectEq(lines[0], std::string("driver: value 42"), "DbgPrint without the newline");
    ExpectEq(lines[1], std::string("driver: bad thing"), "DbgPrintEx");
    ExpectTrue(lines[2].find("ASSERTION FAILED: 1 == 2") != std::string::npos, "ASSERT");
  }
}

}  // namespace

int main(int argc, char** argv) {
  return fltport::test::Main(argc, argv,
                             {
                                 {"pool.tags_and_counts", &TestPool},
                                 {"sync.spin_lock_and_fast_mutex", &TestSpinLockAndFastMutex},
                                 {"sync.events", &TestEvents},
                                 {"sync.push_locks_and_interlocked", &TestPushLocksAndInterlocked},
                                 {"lists.doubly_linked", &TestLists},
                                 {"threads.system_threads", &TestSystemThreads},
                                 {"strings.utf8_to_unicode", &TestUtf8ToUnicode},
                                 {"misc.strings_time_processes", &TestStringsTimeAndProcesses},
                                 {"objects.mailslot_references", &TestMailslotObjectReferences},
                                 {"diagnostics.dbgprint", &TestDbgPrintGoesToTheLog},
                             });
}
