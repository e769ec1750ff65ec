// The kernel-support C functions of fltKernel.h: pool, spin locks, fast mutexes, events,
// push locks, time, IRQL bookkeeping and DbgPrint. Threads: any.
#include "KernelSupport.h"

#include <fltKernel.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <shared_mutex>
#include <thread>
#include <unordered_set>

#include <pthread.h>

#include "CurrentProcess.h"
#include "Deadline.h"
#include "HandleTable.h"
#include "Log.h"

using fltport::fltsim::Deadline;
using fltport::fltsim::LogLevel;
using fltport::fltsim::LogWrite;

namespace {

// ---- Pool ----------------------------------------------------------------------------------
// Each allocation is preceded by a header that records its tag and size; 32 bytes keeps the
// caller's pointer 16-byte aligned as the kernel pool's is on x64. A free looks the pointer up
// among the live allocations before it touches the header: the header of a block freed
// already is the C allocator's memory again, and a foreign pointer may have none. (A stale
// pointer whose address the allocator has handed out again is that new allocation, as it
// would be on Windows without Driver Verifier's special pool.)
constexpr uint64_t kLiveMagic = 0x6C6F6F50'6D697346ull;  // "FsimPool"

struct alignas(16) PoolHeader {
  uint64_t magic;
  uint64_t size;
  uint32_t tag;
  uint32_t reserved[3];
};
static_assert(sizeof(PoolHeader) == 32, "pool header keeps 16-byte alignment");

std::atomic<uint64_t> g_outstanding_allocations{0};
std::atomic<uint64_t> g_outstanding_bytes{0};
std::atomic<uint64_t> g_tag_mismatches{0};
std::atomic<uint64_t> g_bad_frees{0};
std::mutex g_pool_mu;
// Never destroyed: driver threads may still free while the process exits.
auto* const g_live_allocations = new std::unordered_set<const void*>();

void TagText(ULONG tag, char out[5]) {
  for (int i = 0; i < 4; ++i) {
    char c = static_cast<char>((tag >> (8 * i)) & 0xFF);
    out[i] = (c >= 0x20 && c < 0x7F) ? c : '?';
  }
  out[4] = 0;
}

PVOID PoolAllocate(SIZE_T size, ULONG tag, bool zero) {
  if (size > (SIZE_MAX - sizeof(PoolHeader)) || size > (1ull << 40)) return nullptr;
  void* raw = std::malloc(sizeof(PoolHeader) + size);
  if (raw == nullptr) return nullptr;
  auto* header = static_cast<PoolHeader*>(raw);
  header->magic = kLiveMagic;
  header->size = size;
  header->tag = tag;
  PVOID p = header + 1;
  if (zero) std::memset(p, 0, size);
  {
    std::lock_guard<std::mutex> lock(g_pool_mu);
    g_live_allocations->insert(p);
  }
  g_outstanding_allocations.fetch_add(1);
  g_outstanding_bytes.fetch_add(size);
  return p;
}

void PoolFree(PVOID p, bool check_tag, ULONG tag) {
  if (p == nullptr) {
    LogWrite(LogLevel::kError, "DRIVER BUG: ExFreePool(NULL)");
    g_bad_frees.fetch_add(1);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(g_pool_mu);
    if (g_live_allocations->erase(p) == 0) {
      // Freed already, or never ours: leaving it alone is the only safe thing to do.
      LogWrite(LogLevel::kError, "DRIVER BUG: ExFreePool(%p): not a live pool allocation (a double free?)", p);
      g_bad_frees.fetch_add(1);
      return;
    }
  }
  auto* header = static_cast<PoolHeader*>(p) - 1;
  if (header->magic != kLiveMagic) {
    LogWrite(LogLevel::kError, "DRIVER BUG: ExFreePool(%p): the bytes before the allocation were overwritten", p);
  }
  if (check_tag && header->tag != tag) {
    char want[5], got[5];
    TagText(header->tag, want);
    TagText(tag, got);
    LogWrite(LogLevel::kError,
             "DRIVER BUG: ExFreePoolWithTag(%p, '%s'): allocated with tag '%s' (Windows "
             "bugchecks with BAD_POOL_CALLER)",
             p, got, want);
    g_tag_mismatches.fetch_add(1);
  }
  g_outstanding_allocations.fetch_sub(1);
  g_outstanding_bytes.fetch_sub(header->size);
  std::free(header);
}

// ---- IRQL: bookkeeping only, so that KeGetCurrentIrql tells the truth inside a spin lock.
thread_local KIRQL t_irql = PASSIVE_LEVEL;

// ---- Events and fast mutexes live in the caller's opaque storage.
constexpr uint64_t kEventMagic = 0x746E7645'6D697346ull;  // "FsimEvnt"
constexpr uint64_t kMutexMagic = 0x7874754D'6D697346ull;  // "FsimMutx"

struct EventState {
  uint64_t magic;
  std::mutex mu;
  std::condition_variable cv;
  bool signaled;
  bool synchronization;  // auto-reset: a satisfied wait clears it
};
static_assert(sizeof(EventState) <= sizeof(KEVENT), "KEVENT storage too small");
static_assert(alignof(EventState) <= alignof(KEVENT), "KEVENT storage misaligned");

struct FastMutexState {
  uint64_t magic;
  std::mutex mu;
};
static_assert(sizeof(FastMutexState) <= sizeof(FAST_MUTEX), "FAST_MUTEX storage too small");
static_assert(alignof(FastMutexState) <= alignof(FAST_MUTEX), "FAST_MUTEX storage misaligned");

EventState* EventOf(PVOID object) {
  auto* state = reinterpret_cast<EventState*>(object);
  if (state == nullptr || state->magic != kEventMagic) {
    LogWrite(LogLevel::kError, "DRIVER BUG: %p is not a KEVENT initialized with KeInitializeEvent",
             object);
    return nullptr;
  }
  return state;
}

struct PushLockState {
  std::shared_mutex mu;
  std::atomic<bool> exclusive{false};
};

FastMutexState* MutexOf(PFAST_MUTEX m) {
  auto* state = reinterpret_cast<FastMutexState*>(m);
  if (state->magic != kMutexMagic) {
    LogWrite(LogLevel::kError, "DRIVER BUG: FAST_MUTEX %p used before ExInitializeFastMutex", (void*)m);
    std::abort();  // there is no lock to take; continuing would race silently
  }
  return state;
}

// ---- System threads.
struct ThreadObject : fltport::fltsim::KernelObject {
  ThreadObject() : KernelObject(fltport::fltsim::ObjectType::kThread) {}
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  NTSTATUS exit_status = STATUS_SUCCESS;

  void Finish(NTSTATUS status) {
    std::lock_guard<std::mutex> lock(mu);
    if (finished) return;
    exit_status = status;
    finished = true;
    cv.notify_all();
  }
};

thread_local ThreadObject* t_system_thread = nullptr;

// Marks the thread finished however it leaves: return, or PsTerminateSystemThread's
// pthread_exit (whose unwinding runs this destructor on glibc; the call marks it first
// anyway, for pthread implementations that do not unwind).
struct FinishOnExit {
  std::shared_ptr<ThreadObject> thread;
  ~FinishOnExit() { thread->Finish(STATUS_SUCCESS); }
};

// ---- UTF-8 decoding with U+FFFD for every invalid sequence (one per offending byte).
// Returns the code point and advances *i; sets *bad for a replacement.
uint32_t NextCodePoint(const uint8_t* s, size_t n, size_t* i, bool* bad) {
  uint8_t b = s[*i];
  size_t extra;
  uint32_t cp;
  if (b < 0x80) {
    ++*i;
    return b;
  } else if ((b & 0xE0) == 0xC0) {
    extra = 1;
    cp = b & 0x1F;
  } else if ((b & 0xF0) == 0xE0) {
    extra = 2;
    cp = b & 0x0F;
  } else if ((b & 0xF8) == 0xF0) {
    extra = 3;
    cp = b & 0x07;
  } else {
    ++*i;
    *bad = true;
    return 0xFFFD;
  }
  if (*i + extra >= n) {
    ++*i;
    *bad = true;
    return 0xFFFD;
  }
  for (size_t k = 1; k <= extra; ++k) {
    uint8_t c = s[*i + k];
    if ((c & 0xC0) != 0x80) {
      ++*i;
      *bad = true;
      return 0xFFFD;
    }
    cp = (cp << 6) | (c & 0x3F);
  }
  static const uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
  if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++*i;
    *bad = true;
    return 0xFFFD;
  }
  *i += extra + 1;
  return cp;
}

}  // namespace

namespace fltport::fltsim {

bool CloseThreadHandle(uintptr_t handle) {
  // The thread keeps running (closing a thread handle does not stop a thread on Windows);
  // its object lives on in the thread's own reference.
  return HandleTable::Global().Remove(handle, ObjectType::kThread) != nullptr;
}

PoolStats GetPoolStats() {
  PoolStats s;
  s.outstanding_allocations = g_outstanding_allocations.load();
  s.outstanding_bytes = g_outstanding_bytes.load();
  s.tag_mismatches = g_tag_mismatches.load();
  s.bad_frees = g_bad_frees.load();
  return s;
}

}  // namespace fltport::fltsim

extern "C" {

PVOID NTAPI ExAllocatePoolWithTag(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag) {
  (void)PoolType;
  return PoolAllocate(NumberOfBytes, Tag, false);
}

PVOID NTAPI ExAllocatePoolZero(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag) {
  (void)PoolType;
  return PoolAllocate(NumberOfBytes, Tag, true);
}

PVOID NTAPI ExAllocatePool2(POOL_FLAGS Flags, SIZE_T NumberOfBytes, ULONG Tag) {
  return PoolAllocate(NumberOfBytes, Tag, (Flags & POOL_FLAG_UNINITIALIZED) == 0);
}

VOID NTAPI ExFreePoolWithTag(PVOID P, ULONG Tag) { PoolFree(P, true, Tag); }

VOID NTAPI ExFreePool(PVOID P) { PoolFree(P, false, 0); }

// ---- Spin locks ------------------------------------------------------------------------------

VOID NTAPI KeInitializeSpinLock(PKSPIN_LOCK SpinLock) {
  __atomic_store_n(SpinLock, 0, __ATOMIC_RELEASE);
}

VOID NTAPI KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock, PKIRQL OldIrql) {
  *OldIrql = t_irql;
  while (__atomic_exchange_n(SpinLock, 1, __ATOMIC_ACQUIRE) != 0) {
    // User space can be preempted while holding the lock: yield instead of burning the core.
    std::this_thread::yield();
  }
  t_irql = DISPATCH_LEVEL;
}

VOID NTAPI KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql) {
  __atomic_store_n(SpinLock, 0, __ATOMIC_RELEASE);
  t_irql = NewIrql;
}

KIRQL NTAPI KeGetCurrentIrql(VOID) { return t_irql; }

// ---- Fast mutexes ----------------------------------------------------------------------------

VOID NTAPI ExInitializeFastMutex(PFAST_MUTEX FastMutex) {
  auto* state = new (FastMutex) FastMutexState();
  state->magic = kMutexMagic;
}

VOID NTAPI ExAcquireFastMutex(PFAST_MUTEX FastMutex) {
  MutexOf(FastMutex)->mu.lock();
  t_irql = APC_LEVEL;
}

VOID NTAPI ExReleaseFastMutex(PFAST_MUTEX FastMutex) {
  t_irql = PASSIVE_LEVEL;
  MutexOf(FastMutex)->mu.unlock();
}

// ---- Events ----------------------------------------------------------------------------------

VOID NTAPI KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State) {
  auto* state = new (Event) EventState();
  state->magic = kEventMagic;
  state->signaled = State != FALSE;
  state->synchronization = Type == SynchronizationEvent;
}

LONG NTAPI KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait) {
  (void)Increment;
  (void)Wait;
  EventState* state = EventOf(Event);
  if (state == nullptr) return 0;
  std::lock_guard<std::mutex> lock(state->mu);
  LONG previous = state->signaled ? 1 : 0;
  state->signaled = true;
  if (state->synchronization) {
    state->cv.notify_one();
  } else {
    state->cv.notify_all();
  }
  return previous;
}

LONG NTAPI KeResetEvent(PRKEVENT Event) {
  EventState* state = EventOf(Event);
  if (state == nullptr) return 0;
  std::lock_guard<std::mutex> lock(state->mu);
  LONG previous = state->signaled ? 1 : 0;
  state->signaled = false;
  return previous;
}

VOID NTAPI KeClearEvent(PRKEVENT Event) { KeResetEvent(Event); }

LONG NTAPI KeReadStateEvent(PRKEVENT Event) {
  EventState* state = EventOf(Event);
  if (state == nullptr) return 0;
  std::lock_guard<std::mutex> lock(state->mu);
  return state->signaled ? 1 : 0;
}

NTSTATUS NTAPI KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason,
                                     KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                                     PLARGE_INTEGER Timeout) {
  (void)WaitReason;
  (void)WaitMode;
  (void)Alertable;
  EventState* state = EventOf(Object);
  if (state == nullptr) return STATUS_INVALID_PARAMETER;
  const int64_t* timeout = Timeout ? &Timeout->QuadPart : nullptr;
  Deadline deadline = Deadline::FromNtTimeout(timeout, true);  // kernel waits: 0 = poll
  std::unique_lock<std::mutex> lock(state->mu);
  while (!state->signaled) {
    if (deadline.Expired()) return STATUS_TIMEOUT;
    if (deadline.infinite()) {
      state->cv.wait(lock);
    } else {
      state->cv.wait_until(lock, deadline.at());
    }
  }
  if (state->synchronization) state->signaled = false;
  return STATUS_SUCCESS;
}

NTSTATUS NTAPI KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                                      PLARGE_INTEGER Interval) {
  (void)WaitMode;
  (void)Alertable;
  if (Interval == nullptr) return STATUS_INVALID_PARAMETER;
  Deadline deadline = Deadline::FromNtTimeout(&Interval->QuadPart, true);
  if (deadline.infinite()) {
    LogWrite(LogLevel::kError, "DRIVER BUG: KeDelayExecutionThread with an unbounded interval");
    return STATUS_INVALID_PARAMETER;
  }
  std::this_thread::sleep_until(deadline.at());
  return STATUS_SUCCESS;
}

// ---- Push locks ------------------------------------------------------------------------------

VOID FLTAPI FltInitializePushLock(PEX_PUSH_LOCK PushLock) {
  *PushLock = reinterpret_cast<ULONG_PTR>(new PushLockState());
}

VOID FLTAPI FltDeletePushLock(PEX_PUSH_LOCK PushLock) {
  delete reinterpret_cast<PushLockState*>(*PushLock);
  *PushLock = 0;
}

VOID FLTAPI FltAcquirePushLockExclusive(PEX_PUSH_LOCK PushLock) {
  auto* state = reinterpret_cast<PushLockState*>(*PushLock);
  state->mu.lock();
  state->exclusive.store(true);
}

VOID FLTAPI FltAcquirePushLockShared(PEX_PUSH_LOCK PushLock) {
  reinterpret_cast<PushLockState*>(*PushLock)->mu.lock_shared();
}

VOID FLTAPI FltReleasePushLock(PEX_PUSH_LOCK PushLock) {
  // One release call for both modes, as in the WDK. While it is held exclusively nobody
  // holds it shared, so the flag tells which unlock this is.
  auto* state = reinterpret_cast<PushLockState*>(*PushLock);
  if (state->exclusive.load()) {
    state->exclusive.store(false);
    state->mu.unlock();
  } else {
    state->mu.unlock_shared();
  }
}

// ---- System threads -----------------------------------------------------------------------

NTSTATUS NTAPI PsCreateSystemThread(PHANDLE ThreadHandle, ULONG DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                                    HANDLE ProcessHandle, PCLIENT_ID ClientId, PKSTART_ROUTINE StartRoutine,
                                    PVOID StartContext) {
  (void)DesiredAccess;
  (void)ObjectAttributes;
  (void)ProcessHandle;
  if (ThreadHandle == nullptr || StartRoutine == nullptr) return STATUS_INVALID_PARAMETER;
  auto thread = std::make_shared<ThreadObject>();
  uintptr_t handle = fltport::fltsim::HandleTable::Global().Insert(thread);
  try {
    std::thread([thread, StartRoutine, StartContext]() {
      FinishOnExit finish{thread};
      t_system_thread = thread.get();
      fltport::fltsim::CurrentProcessScope system(fltport::fltsim::kSystemProcessId);
      StartRoutine(StartContext);
    }).detach();
  } catch (const std::system_error&) {
    fltport::fltsim::HandleTable::Global().Remove(handle, fltport::fltsim::ObjectType::kThread);
    return STATUS_INSUFFICIENT_RESOURCES;
  }
  if (ClientId != nullptr) {
    ClientId->UniqueProcess = reinterpret_cast<HANDLE>(static_cast<uintptr_t>(fltport::fltsim::kSystemProcessId));
    ClientId->UniqueThread = reinterpret_cast<HANDLE>(handle);
  }
  *ThreadHandle = reinterpret_cast<HANDLE>(handle);
  return STATUS_SUCCESS;
}

NTSTATUS NTAPI PsTerminateSystemThread(NTSTATUS ExitStatus) {
  if (t_system_thread == nullptr) {
    LogWrite(LogLevel::kError, "DRIVER BUG: PsTerminateSystemThread outside a PsCreateSystemThread thread");
    return STATUS_INVALID_PARAMETER;
  }
  t_system_thread->Finish(ExitStatus);
  pthread_exit(nullptr);
}

NTSTATUS NTAPI ZwWaitForSingleObject(HANDLE Handle, BOOLEAN Alertable, PLARGE_INTEGER Timeout) {
  (void)Alertable;
  auto thread = fltport::fltsim::HandleTable::Global().LookupAs<ThreadObject>(
      reinterpret_cast<uintptr_t>(Handle), fltport::fltsim::ObjectType::kThread);
  if (!thread) return STATUS_INVALID_HANDLE;
  Deadline deadline = Deadline::FromNtTimeout(Timeout ? &Timeout->QuadPart : nullptr, true);
  std::unique_lock<std::mutex> lock(thread->mu);
  while (!thread->finished) {
    if (deadline.Expired()) return STATUS_TIMEOUT;
    if (deadline.infinite()) {
      thread->cv.wait(lock);
    } else {
      thread->cv.wait_until(lock, deadline.at());
    }
  }
  return STATUS_SUCCESS;
}

// ---- Strings ---------------------------------------------------------------------------------

NTSTATUS NTAPI RtlUTF8ToUnicodeN(PWSTR UnicodeStringDestination, ULONG UnicodeStringMaxByteCount,
                                 PULONG UnicodeStringActualByteCount, PCCH UTF8StringSource,
                                 ULONG UTF8StringByteCount) {
  if (UnicodeStringActualByteCount == nullptr) return STATUS_INVALID_PARAMETER;
  *UnicodeStringActualByteCount = 0;
  if (UTF8StringSource == nullptr && UTF8StringByteCount != 0) return STATUS_INVALID_PARAMETER;
  const auto* in = reinterpret_cast<const uint8_t*>(UTF8StringSource);
  const size_t capacity = UnicodeStringMaxByteCount / 2;
  size_t units = 0;
  bool bad = false;
  bool cut = false;
  for (size_t i = 0; i < UTF8StringByteCount;) {
    uint32_t cp = NextCodePoint(in, UTF8StringByteCount, &i, &bad);
    const size_t need = cp >= 0x10000 ? 2 : 1;
    if (UnicodeStringDestination != nullptr) {
      if (units + need > capacity) {
        cut = true;
        break;
      }
      if (need == 2) {
        cp -= 0x10000;
        UnicodeStringDestination[units] = static_cast<WCHAR>(0xD800 + (cp >> 10));
        UnicodeStringDestination[units + 1] = static_cast<WCHAR>(0xDC00 + (cp & 0x3FF));
      } else {
        UnicodeStringDestination[units] = static_cast<WCHAR>(cp);
      }
    }
    units += need;
  }
  *UnicodeStringActualByteCount = static_cast<ULONG>(units * 2);
  if (cut) return STATUS_BUFFER_TOO_SMALL;
  return bad ? STATUS_SOME_NOT_MAPPED : STATUS_SUCCESS;
}

// ---- Time and diagnostics --------------------------------------------------------------------

VOID NTAPI KeQuerySystemTime(PLARGE_INTEGER CurrentTime) {
  CurrentTime->QuadPart = fltport::fltsim::SystemTimeNow();
}

static void DriverPrint(LogLevel level, PCSTR format, va_list args) {
  char text[1024];
  vsnprintf(text, sizeof text, format, args);
  size_t n = strlen(text);
  while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r')) text[--n] = 0;
  LogWrite(level, "driver: %s", text);
}

ULONG DbgPrint(PCSTR Format, ...) {
  va_list args;
  va_start(args, Format);
  DriverPrint(LogLevel::kDebug, Format, args);
  va_end(args);
  return STATUS_SUCCESS;
}

ULONG DbgPrintEx(ULONG ComponentId, ULONG Level, PCSTR Format, ...) {
  (void)ComponentId;
  va_list args;
  va_start(args, Format);
  DriverPrint(Level == DPFLTR_ERROR_LEVEL ? LogLevel::kWarn : LogLevel::kDebug, Format, args);
  va_end(args);
  return STATUS_SUCCESS;
}

}  // extern "C"
