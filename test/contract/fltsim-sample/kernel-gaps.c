/*
 * kernel-gaps.c - the kernel routines the sample minifilter's shared files
 * (communication.c, testcontrol.c, mailslot.c, fltsimentry.c) call and fltsim's
 * fltKernel.h does not provide yet (check-driver-syntax.sh --allow-fltsim-gaps lists them).
 *
 * The contract suite needs fltsim-host running the SAMPLE driver; until fltsim implements
 * these itself, build-host.mjs links this file into a private host
 * (build/contract/fltsim-host-sample). Declarations come from Part A of
 * samples/minifilter/check/fltKernelExtra.h (force-included after fltsim's header), so the
 * signatures are the WDK's (fltsim's header declares some of them already). When fltsim's
 * objects define one of these (build-host.mjs looks with nm), the definition here is compiled
 * out (FPSX_ENGINE_HAS_<name>).
 *
 * Semantics kept from Windows where the sample depends on them:
 *  - PsCreateSystemThread: a real thread; the handle is waitable (ZwWaitForSingleObject
 *    returns when the thread routine returned or called PsTerminateSystemThread) and must be
 *    closed with ZwClose. Other handles go to fltsim's ZwClose unchanged.
 *  - RtlUTF8ToUnicodeN: STATUS_SOME_NOT_MAPPED when invalid UTF-8 was replaced by U+FFFD,
 *    STATUS_BUFFER_TOO_SMALL when the output was cut (ActualByteCount = bytes written),
 *    a NULL destination returns the size needed.
 */
#include <fltKernel.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#undef ZwClose
NTSYSAPI NTSTATUS NTAPI ZwClose(_In_ HANDLE Handle);

#ifndef STATUS_SOME_NOT_MAPPED
#define STATUS_SOME_NOT_MAPPED ((NTSTATUS)0x00000107L)
#endif

/* ---- interlocked ---------------------------------------------------------------------- */
#if !defined(FPSX_HAVE_InterlockedIncrement) && !defined(FPSX_ENGINE_HAS_InterlockedIncrement) && !defined(InterlockedIncrement)
LONG InterlockedIncrement(LONG volatile *Addend) { return __atomic_add_fetch(Addend, 1, __ATOMIC_SEQ_CST); }
#endif
#if !defined(FPSX_HAVE_InterlockedDecrement) && !defined(FPSX_ENGINE_HAS_InterlockedDecrement) && !defined(InterlockedDecrement)
LONG InterlockedDecrement(LONG volatile *Addend) { return __atomic_sub_fetch(Addend, 1, __ATOMIC_SEQ_CST); }
#endif
#if !defined(FPSX_HAVE_InterlockedExchange) && !defined(FPSX_ENGINE_HAS_InterlockedExchange) && !defined(InterlockedExchange)
LONG InterlockedExchange(LONG volatile *Target, LONG Value) { return __atomic_exchange_n(Target, Value, __ATOMIC_SEQ_CST); }
#endif
#if !defined(FPSX_HAVE_InterlockedIncrement64) && !defined(FPSX_ENGINE_HAS_InterlockedIncrement64) && !defined(InterlockedIncrement64)
LONG64 InterlockedIncrement64(LONG64 volatile *Addend) { return __atomic_add_fetch(Addend, 1, __ATOMIC_SEQ_CST); }
#endif
#if !defined(FPSX_HAVE_InterlockedExchange64) && !defined(FPSX_ENGINE_HAS_InterlockedExchange64) && !defined(InterlockedExchange64)
LONG64 InterlockedExchange64(LONG64 volatile *Target, LONG64 Value) { return __atomic_exchange_n(Target, Value, __ATOMIC_SEQ_CST); }
#endif
#if !defined(FPSX_HAVE_InterlockedCompareExchange64) && !defined(FPSX_ENGINE_HAS_InterlockedCompareExchange64) && !defined(InterlockedCompareExchange64)
LONG64 InterlockedCompareExchange64(LONG64 volatile *Destination, LONG64 Exchange, LONG64 Comperand) {
  __atomic_compare_exchange_n(Destination, &Comperand, Exchange, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return Comperand;
}
#endif

/* ---- objects: only process objects are referenced by the shared files; fltsim does not
 * count references on processes (they outlive the driver), see ObfDereferenceObject. ---- */
#if !defined(FPSX_ENGINE_HAS_ObfReferenceObject)
LONG_PTR ObfReferenceObject(PVOID Object) { return Object != NULL ? 1 : 0; }
#endif

/* ---- system threads ------------------------------------------------------------------- */
#if !defined(FPSX_ENGINE_HAS_PsCreateSystemThread)
typedef struct _FPSX_THREAD {
  ULONG Magic; /* 'FXTH' while the handle is open */
  pthread_t Thread;
  pthread_mutex_t Lock;
  pthread_cond_t Done;
  int Finished;
  PKSTART_ROUTINE Routine;
  PVOID Context;
  struct _FPSX_THREAD *Next;
} FPSX_THREAD;

#define FPSX_THREAD_MAGIC 0x48545846u
static pthread_mutex_t FpsxThreadsLock = PTHREAD_MUTEX_INITIALIZER;
static FPSX_THREAD *FpsxThreads;
static __thread FPSX_THREAD *FpsxSelf;

static void FpsxFinish(FPSX_THREAD *t) {
  pthread_mutex_lock(&t->Lock);
  t->Finished = 1;
  pthread_cond_broadcast(&t->Done);
  pthread_mutex_unlock(&t->Lock);
}

static void *FpsxThreadMain(void *arg) {
  FPSX_THREAD *t = (FPSX_THREAD *)arg;
  FpsxSelf = t;
  t->Routine(t->Context);
  FpsxFinish(t);
  return NULL;
}

static FPSX_THREAD *FpsxFind(HANDLE h) {
  FPSX_THREAD *t;
  pthread_mutex_lock(&FpsxThreadsLock);
  for (t = FpsxThreads; t != NULL && (HANDLE)t != h; t = t->Next) {
  }
  pthread_mutex_unlock(&FpsxThreadsLock);
  return t;
}

NTSTATUS NTAPI PsCreateSystemThread(PHANDLE ThreadHandle, ULONG DesiredAccess, POBJECT_ATTRIBUTES ObjectAttributes,
                                    HANDLE ProcessHandle, PCLIENT_ID ClientId, PKSTART_ROUTINE StartRoutine,
                                    PVOID StartContext) {
  FPSX_THREAD *t;
  (void)DesiredAccess;
  (void)ObjectAttributes;
  (void)ProcessHandle;
  if (ThreadHandle == NULL || StartRoutine == NULL) return STATUS_INVALID_PARAMETER;
  t = (FPSX_THREAD *)calloc(1, sizeof(*t));
  if (t == NULL) return STATUS_INSUFFICIENT_RESOURCES;
  t->Magic = FPSX_THREAD_MAGIC;
  t->Routine = StartRoutine;
  t->Context = StartContext;
  pthread_mutex_init(&t->Lock, NULL);
  pthread_cond_init(&t->Done, NULL);
  pthread_mutex_lock(&FpsxThreadsLock);
  t->Next = FpsxThreads;
  FpsxThreads = t;
  pthread_mutex_unlock(&FpsxThreadsLock);
  if (pthread_create(&t->Thread, NULL, FpsxThreadMain, t) != 0) {
    pthread_mutex_lock(&FpsxThreadsLock);
    FpsxThreads = t->Next;
    pthread_mutex_unlock(&FpsxThreadsLock);
    free(t);
    return STATUS_INSUFFICIENT_RESOURCES;
  }
  if (ClientId != NULL) {
    ClientId->UniqueProcess = (HANDLE)(ULONG_PTR)4;
    ClientId->UniqueThread = (HANDLE)t;
  }
  *ThreadHandle = (HANDLE)t;
  return STATUS_SUCCESS;
}

NTSTATUS NTAPI PsTerminateSystemThread(NTSTATUS ExitStatus) {
  (void)ExitStatus;
  if (FpsxSelf == NULL) return STATUS_INVALID_PARAMETER;
  FpsxFinish(FpsxSelf);
  pthread_exit(NULL);
}

NTSTATUS NTAPI ZwWaitForSingleObject(HANDLE Handle, BOOLEAN Alertable, PLARGE_INTEGER Timeout) {
  FPSX_THREAD *t = FpsxFind(Handle);
  NTSTATUS status = STATUS_SUCCESS;
  (void)Alertable;
  if (t == NULL) return STATUS_INVALID_HANDLE;
  pthread_mutex_lock(&t->Lock);
  if (Timeout == NULL) {
    while (!t->Finished) pthread_cond_wait(&t->Done, &t->Lock);
  } else {
    struct timespec until;
    LONGLONG ns;
    clock_gettime(CLOCK_REALTIME, &until);
    /* Relative (negative) in 100 ns; absolute times are treated as "now + 0" here (the
       shared files only wait with NULL). */
    ns = Timeout->QuadPart < 0 ? -Timeout->QuadPart * 100 : 0;
    until.tv_sec += (time_t)(ns / 1000000000LL);
    until.tv_nsec += (long)(ns % 1000000000LL);
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec += 1;
      until.tv_nsec -= 1000000000L;
    }
    while (!t->Finished) {
      if (pthread_cond_timedwait(&t->Done, &t->Lock, &until) != 0) break;
    }
    if (!t->Finished) status = STATUS_TIMEOUT;
  }
  pthread_mutex_unlock(&t->Lock);
  return status;
}

NTSTATUS NTAPI FpsxSimZwClose(HANDLE Handle) {
  FPSX_THREAD **link;
  FPSX_THREAD *t = NULL;
  pthread_mutex_lock(&FpsxThreadsLock);
  for (link = &FpsxThreads; *link != NULL; link = &(*link)->Next) {
    if ((HANDLE)*link == Handle) {
      t = *link;
      *link = t->Next;
      break;
    }
  }
  pthread_mutex_unlock(&FpsxThreadsLock);
  if (t == NULL) return ZwClose(Handle);
  /* Closing a thread handle does not wait for the thread (as on Windows); detach it, and
     free the record only once the thread is gone. */
  pthread_mutex_lock(&t->Lock);
  if (t->Finished) {
    pthread_mutex_unlock(&t->Lock);
    pthread_join(t->Thread, NULL);
  } else {
    pthread_mutex_unlock(&t->Lock);
    pthread_detach(t->Thread);
    /* Leaked on purpose: a detached, still running thread may still touch it. Only the
       shared files' join-then-close order occurs in practice. */
    return STATUS_SUCCESS;
  }
  t->Magic = 0;
  pthread_mutex_destroy(&t->Lock);
  pthread_cond_destroy(&t->Done);
  free(t);
  return STATUS_SUCCESS;
}
#else
NTSTATUS NTAPI FpsxSimZwClose(HANDLE Handle) { return ZwClose(Handle); }
#endif

/* ---- strings -------------------------------------------------------------------------- */
#if !defined(FPSX_ENGINE_HAS_RtlUTF8ToUnicodeN)
/* One code point from UTF-8 at s[*i] (n bytes); U+FFFD and *bad = 1 for invalid input. */
static ULONG FpsxNextCodePoint(const unsigned char *s, ULONG n, ULONG *i, int *bad) {
  unsigned char c = s[*i];
  ULONG cp, need, k;
  if (c < 0x80) {
    *i += 1;
    return c;
  }
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    cp = c & 0x07;
  } else {
    *i += 1;
    *bad = 1;
    return 0xFFFD;
  }
  for (k = 1; k <= need; k++) {
    if (*i + k >= n || (s[*i + k] & 0xC0) != 0x80) {
      *i += k;
      *bad = 1;
      return 0xFFFD;
    }
    cp = (cp << 6) | (s[*i + k] & 0x3F);
  }
  if ((need == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (need == 3 && (cp < 0x10000 || cp > 0x10FFFF))) {
    *i += need + 1;
    *bad = 1;
    return 0xFFFD;
  }
  *i += need + 1;
  return cp;
}

NTSTATUS NTAPI RtlUTF8ToUnicodeN(PWSTR Destination, ULONG MaxByteCount, PULONG ActualByteCount, PCCH Source,
                                 ULONG SourceByteCount) {
  const unsigned char *s = (const unsigned char *)Source;
  ULONG i = 0, written = 0, units;
  int bad = 0;
  if (ActualByteCount == NULL || (Source == NULL && SourceByteCount != 0)) return STATUS_INVALID_PARAMETER;
  while (i < SourceByteCount) {
    ULONG cp = FpsxNextCodePoint(s, SourceByteCount, &i, &bad);
    units = cp >= 0x10000 ? 2 : 1;
    if (Destination != NULL) {
      if (written + units * sizeof(WCHAR) > MaxByteCount) {
        *ActualByteCount = written;
        return STATUS_BUFFER_TOO_SMALL;
      }
      if (units == 2) {
        cp -= 0x10000;
        Destination[written / sizeof(WCHAR)] = (WCHAR)(0xD800 + (cp >> 10));
        Destination[written / sizeof(WCHAR) + 1] = (WCHAR)(0xDC00 + (cp & 0x3FF));
      } else {
        Destination[written / sizeof(WCHAR)] = (WCHAR)cp;
      }
    }
    written += units * (ULONG)sizeof(WCHAR);
  }
  *ActualByteCount = written;
  return bad ? STATUS_SOME_NOT_MAPPED : STATUS_SUCCESS;
}
#endif
