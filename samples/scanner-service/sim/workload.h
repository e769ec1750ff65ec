/* workload.h - the synthetic workload of workload.c (fltsim-host-sample only). */
#ifndef FPSX_WORKLOAD_H
#define FPSX_WORKLOAD_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    FpsxKindCleanText = 0,
    FpsxKindCleanBinary,
    FpsxKindEicar,
    FpsxKindPowerShell,
    FpsxKindAccessKey,
    FpsxKindDoubleExtension,
    FpsxKindCount
} FPSX_KIND;

typedef struct {
    unsigned long long Count;        /* events in the run; 0 = until stopped */
    unsigned long long Seed;
    unsigned Rate;                   /* events per second; 0 = as fast as the scanners answer */
    unsigned Concurrency;            /* sender threads, 1-16 */
} FPSX_WORKLOAD_PARAMS;

typedef struct {
    unsigned long long Sent, Allow, Block, NoScanner, Timeout, Disconnected, BadReply, Error;
    unsigned long long Kinds[FpsxKindCount];
    unsigned long long BlockedKinds[FpsxKindCount];
} FPSX_WORKLOAD_COUNTS;

/* An NTSTATUS: 0, STATUS_DEVICE_BUSY (a run is going), STATUS_INVALID_PARAMETER. */
int FpsxWorkloadStart(const FPSX_WORKLOAD_PARAMS *params);
/* Event `index` of a run with `seed` into *request (an FPS_SCAN_REQUEST); returns its kind. */
FPSX_KIND FpsxWorkloadEvent(unsigned long long seed, unsigned long long index, void *request);
void FpsxWorkloadStop(void);
/* Waits up to waitMs for the run to end; returns the number of threads still running. */
int FpsxWorkloadStatus(unsigned waitMs, FPSX_WORKLOAD_COUNTS *counts, double *seconds);

#ifdef __cplusplus
}
#endif

#endif
