/*
 * workload.c - a synthetic file-system workload for the sample driver under fltsim.
 *
 * fltsim has no file system, so nothing opens or writes files for the sample's operation
 * callbacks to scan. This generator stands in for them: it builds FPS_SCAN_REQUESTs as
 * FpsPostCreate / FpsPreWrite would (operation, normalized path, first bytes of content,
 * offset, process) and hands them to the driver's own FpsSendScanRequest, so every request
 * goes through the sample's real send path: round robin over scanners, the scan timeout,
 * reply validation, verdict counters. Linked into fltsim-host-sample only (CMakeLists.txt).
 *
 * Event i is a pure function of (seed, i): a run's mix does not depend on thread timing, so
 * a test can assert exact verdict counts for a seed.
 *
 * Kinds (what the content or path carries): clean text, clean binary, the EICAR test string,
 * an encoded PowerShell command line, an AWS-style access key id, and a double-extension
 * executable name (path only).
 */
#include "fps.h"

#if defined(FLTSIM)

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "workload.h"

#define FPSX_MAX_THREADS 16

static struct {
    pthread_mutex_t Lock;
    int Running;            /* threads still working */
    int Stop;
    FPSX_WORKLOAD_PARAMS Params;
    volatile LONG64 Next;
    struct timespec Start;
    pthread_t Threads[FPSX_MAX_THREADS];
    int ThreadCount;
    FPSX_WORKLOAD_COUNTS Counts;
} FpsxWl = { .Lock = PTHREAD_MUTEX_INITIALIZER };

static const char FpsxEicar[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

static const char *const FpsxWords[] = {
    "quarterly", "report", "invoice", "meeting", "notes", "budget", "draft", "customer",
    "shipping", "review", "the", "and", "with", "for", "project", "status", "update", "total",
};
static const char *const FpsxDirs[] = {
    "\\Users\\alice\\Documents", "\\Users\\bob\\Downloads", "\\Users\\alice\\AppData\\Local\\Temp",
    "\\Projects\\fltport\\build", "\\Shared\\Finance", "\\Windows\\Temp",
};
static const char *const FpsxNames[] = { "report", "invoice", "setup", "notes", "data", "photo", "backup", "readme" };
static const char *const FpsxExts[] = { "txt", "docx", "pdf", "csv", "log", "json", "xml", "dll" };

/* splitmix64: a small, good, seedable generator. */
static ULONG64 FpsxMix(ULONG64 *state) {
    ULONG64 z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static ULONG FpsxBelow(ULONG64 *state, ULONG n) { return (ULONG)(FpsxMix(state) % n); }

static void FpsxPutPath(PFPS_SCAN_REQUEST r, const char *ascii) {
    ULONG i, n = (ULONG)strlen(ascii);
    if (n > FPS_MAX_PATH) n = FPS_MAX_PATH;
    for (i = 0; i < n; i++) r->Path[i] = (WCHAR)(unsigned char)ascii[i];
    r->PathLength = n * (ULONG)sizeof(WCHAR);
}

static ULONG FpsxPutText(UCHAR *out, ULONG room, ULONG64 *state, ULONG words) {
    ULONG used = 0, i;
    for (i = 0; i < words; i++) {
        const char *w = FpsxWords[FpsxBelow(state, (ULONG)RTL_NUMBER_OF(FpsxWords))];
        ULONG n = (ULONG)strlen(w);
        if (used + n + 1 > room) break;
        memcpy(out + used, w, n);
        used += n;
        out[used++] = (UCHAR)((i % 12 == 11) ? '\n' : ' ');
    }
    return used;
}

static ULONG FpsxPutString(UCHAR *out, ULONG used, ULONG room, const char *s) {
    ULONG n = (ULONG)strlen(s);
    if (used + n > room) used = room > n ? room - n : 0;
    memcpy(out + used, s, n > room ? room : n);
    return used + (n > room ? room : n);
}

FPSX_KIND FpsxWorkloadEvent(unsigned long long seed, unsigned long long index, void *request) {
    PFPS_SCAN_REQUEST r = (PFPS_SCAN_REQUEST)request;
    ULONG64 st = seed * 0x100000001B3ull ^ (index + 1) * 0x9E3779B97F4A7C15ull;
    ULONG pick = FpsxBelow(&st, 1000);
    FPSX_KIND kind;
    char path[256];
    ULONG used = 0;
    const char *dir = FpsxDirs[FpsxBelow(&st, (ULONG)RTL_NUMBER_OF(FpsxDirs))];
    const char *name = FpsxNames[FpsxBelow(&st, (ULONG)RTL_NUMBER_OF(FpsxNames))];
    const char *ext = FpsxExts[FpsxBelow(&st, (ULONG)RTL_NUMBER_OF(FpsxExts))];
    ULONG number = FpsxBelow(&st, 10000);

    /* 80 % clean (70 text, 10 binary), 5 % EICAR, 5 % PowerShell, 5 % key, 5 % double ext. */
    kind = pick < 700 ? FpsxKindCleanText
         : pick < 800 ? FpsxKindCleanBinary
         : pick < 850 ? FpsxKindEicar
         : pick < 900 ? FpsxKindPowerShell
         : pick < 950 ? FpsxKindAccessKey
         : FpsxKindDoubleExtension;

    RtlZeroMemory(r, sizeof(*r));
    r->Operation = (USHORT)(FpsxBelow(&st, 100) < 65 ? FpsOpCreate : FpsOpWrite);
    r->Offset = r->Operation == FpsOpWrite ? (LONGLONG)FpsxBelow(&st, 256) * 4096 : 0;
    r->ProcessId = 1000 + FpsxBelow(&st, 64);
    r->ThreadId = 2000 + FpsxBelow(&st, 512);
    r->VolumeSerialNumber = 0x5A3C00F1ull;
    r->Flags = 0;
    {
        ULONG64 id = FpsxMix(&st);
        memcpy(r->FileId, &id, sizeof(id));
    }

    if (kind == FpsxKindDoubleExtension) {
        snprintf(path, sizeof(path), "\\Device\\HarddiskVolume3%s\\%s-%04lu.pdf.exe", dir, name, (unsigned long)number);
    } else {
        snprintf(path, sizeof(path), "\\Device\\HarddiskVolume3%s\\%s-%04lu.%s", dir, name, (unsigned long)number, ext);
    }
    FpsxPutPath(r, path);

    switch (kind) {
    case FpsxKindCleanBinary: {
        ULONG n = 256 + FpsxBelow(&st, FPS_SCAN_BYTES - 256), i;
        r->Content[0] = 'M'; r->Content[1] = 'Z';
        for (i = 2; i < n; i++) {
            /* bytes, but never letters, so no pattern can match by accident */
            UCHAR b = (UCHAR)FpsxMix(&st);
            r->Content[i] = (b >= 'A' && b <= 'z') ? (UCHAR)(b & 0x1F) : b;
        }
        used = n;
        break;
    }
    case FpsxKindEicar:
        used = FpsxPutString(r->Content, FpsxBelow(&st, 2) ? FpsxPutText(r->Content, 400, &st, 40) : 0, FPS_SCAN_BYTES, FpsxEicar);
        break;
    case FpsxKindPowerShell: {
        char line[160];
        snprintf(line, sizeof(line), "\r\npowershell.exe -NoP -W Hidden -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBi%04lu\r\n", (unsigned long)number);
        used = FpsxPutText(r->Content, 600, &st, 50);
        used = FpsxPutString(r->Content, used, FPS_SCAN_BYTES, line);
        break;
    }
    case FpsxKindAccessKey: {
        char line[96];
        static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        char key[17];
        ULONG i;
        for (i = 0; i < 16; i++) key[i] = alnum[FpsxBelow(&st, 32)];
        key[16] = 0;
        snprintf(line, sizeof(line), "\n[default]\naws_access_key_id = AKIA%s\n", key);
        used = FpsxPutText(r->Content, 500, &st, 30);
        used = FpsxPutString(r->Content, used, FPS_SCAN_BYTES, line);
        break;
    }
    default:
        used = FpsxPutText(r->Content, FPS_SCAN_BYTES, &st, 20 + FpsxBelow(&st, 150));
        break;
    }
    r->ContentLength = used;
    return kind;
}

static double FpsxSince(const struct timespec *t0) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

static void *FpsxWorker(void *arg) {
    PFPS_SCAN_REQUEST request = (PFPS_SCAN_REQUEST)ExAllocatePoolZero(NonPagedPoolNx, sizeof(FPS_SCAN_REQUEST), FPS_TAG_MESSAGE);
    (void)arg;
    if (request == NULL) goto done;
    for (;;) {
        FPS_SCAN_RESULT result;
        FPSX_KIND kind;
        LONG64 i;
        if (__atomic_load_n(&FpsxWl.Stop, __ATOMIC_ACQUIRE)) break;
        i = __atomic_fetch_add(&FpsxWl.Next, 1, __ATOMIC_SEQ_CST);
        if (FpsxWl.Params.Count != 0 && (ULONG64)i >= FpsxWl.Params.Count) break;
        if (FpsxWl.Params.Rate != 0) {
            /* Paced: event i is due at start + i / rate. */
            double due = (double)i / (double)FpsxWl.Params.Rate;
            while (!__atomic_load_n(&FpsxWl.Stop, __ATOMIC_ACQUIRE)) {
                double wait = due - FpsxSince(&FpsxWl.Start);
                struct timespec ts;
                if (wait <= 0) break;
                if (wait > 0.05) wait = 0.05;
                ts.tv_sec = 0;
                ts.tv_nsec = (long)(wait * 1e9);
                nanosleep(&ts, NULL);
            }
            if (__atomic_load_n(&FpsxWl.Stop, __ATOMIC_ACQUIRE)) break;
        }
        kind = FpsxWorkloadEvent(FpsxWl.Params.Seed, (ULONG64)i, request);
        FpsSendScanRequest(request, &result);
        pthread_mutex_lock(&FpsxWl.Lock);
        FpsxWl.Counts.Sent += 1;
        FpsxWl.Counts.Kinds[kind] += 1;
        switch (result.Outcome) {
        case FpsOutcomeVerdict:
            if (result.Verdict == FpsVerdictBlock) {
                FpsxWl.Counts.Block += 1;
                FpsxWl.Counts.BlockedKinds[kind] += 1;
            } else {
                FpsxWl.Counts.Allow += 1;
            }
            break;
        case FpsOutcomeNoScanner: FpsxWl.Counts.NoScanner += 1; break;
        case FpsOutcomeTimeout: FpsxWl.Counts.Timeout += 1; break;
        case FpsOutcomeDisconnected: FpsxWl.Counts.Disconnected += 1; break;
        case FpsOutcomeBadReply: FpsxWl.Counts.BadReply += 1; break;
        default: FpsxWl.Counts.Error += 1; break;
        }
        pthread_mutex_unlock(&FpsxWl.Lock);
    }
    ExFreePoolWithTag(request, FPS_TAG_MESSAGE);
done:
    pthread_mutex_lock(&FpsxWl.Lock);
    FpsxWl.Running -= 1;
    pthread_mutex_unlock(&FpsxWl.Lock);
    return NULL;
}

/* Joins the threads of a finished or stopped run (callers hold no lock). */
static void FpsxJoin(void) {
    int i, n;
    pthread_mutex_lock(&FpsxWl.Lock);
    n = FpsxWl.ThreadCount;
    FpsxWl.ThreadCount = 0;
    pthread_mutex_unlock(&FpsxWl.Lock);
    for (i = 0; i < n; i++) pthread_join(FpsxWl.Threads[i], NULL);
}

int FpsxWorkloadStart(const FPSX_WORKLOAD_PARAMS *params) {
    int i;
    if (params->Concurrency < 1 || params->Concurrency > FPSX_MAX_THREADS) return STATUS_INVALID_PARAMETER;
    pthread_mutex_lock(&FpsxWl.Lock);
    if (FpsxWl.Running > 0) {
        pthread_mutex_unlock(&FpsxWl.Lock);
        return STATUS_DEVICE_BUSY;
    }
    pthread_mutex_unlock(&FpsxWl.Lock);
    FpsxJoin();
    pthread_mutex_lock(&FpsxWl.Lock);
    FpsxWl.Params = *params;
    FpsxWl.Next = 0;
    FpsxWl.Stop = 0;
    memset(&FpsxWl.Counts, 0, sizeof(FpsxWl.Counts));
    clock_gettime(CLOCK_MONOTONIC, &FpsxWl.Start);
    for (i = 0; i < (int)params->Concurrency; i++) {
        if (pthread_create(&FpsxWl.Threads[i], NULL, FpsxWorker, NULL) != 0) break;
        FpsxWl.ThreadCount += 1;
        FpsxWl.Running += 1;
    }
    pthread_mutex_unlock(&FpsxWl.Lock);
    return i == 0 ? STATUS_INSUFFICIENT_RESOURCES : STATUS_SUCCESS;
}

void FpsxWorkloadStop(void) {
    __atomic_store_n(&FpsxWl.Stop, 1, __ATOMIC_RELEASE);
    FpsxJoin();
}

int FpsxWorkloadStatus(unsigned waitMs, FPSX_WORKLOAD_COUNTS *counts, double *seconds) {
    int running;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        pthread_mutex_lock(&FpsxWl.Lock);
        running = FpsxWl.Running;
        *counts = FpsxWl.Counts;
        pthread_mutex_unlock(&FpsxWl.Lock);
        if (running == 0 || FpsxSince(&t0) * 1000.0 >= waitMs) break;
        {
            struct timespec ts = { 0, 10 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    }
    *seconds = FpsxSince(&FpsxWl.Start);
    if (running == 0) FpsxJoin();
    return running;
}

#endif /* FLTSIM */
