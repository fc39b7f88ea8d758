/* floorsampler.c - the floor of an out-of-process sampler, for
 * bench/sampling.py (not part of pyprof).
 *
 *   floorsampler PID RATE [NIOV [BYTES [SECONDS]]]
 *
 * At RATE Hz until PID exits (or for SECONDS): one process_vm_readv of NIOV ranges of
 * BYTES / NIOV bytes each (default 1 range of 2048 bytes: about what
 * pyprof record's snapshot of a shallow Python stack holds), then a sleep
 * to the next absolute deadline (clock_nanosleep TIMER_ABSTIME, timer
 * slack 1 ns, as pyprof record sleeps).  The ranges lie in the target's
 * [stack] mapping, below its top, each in a page of its own (when NIOV
 * > 1), so a range costs the kernel what one of a real sampler's costs.
 * Nothing is interpreted: no stack walk, no lookup, no profile.  Prints
 * "floor: N rounds" on stderr at the end; its CPU is the process's own
 * (the caller's wait4 rusage).
 *
 * Built by sampling.py with the system's cc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <time.h>

#define MAX_IOV 64
#define PAGE 4096

/* The end address of the target's [stack] mapping, 0 if none. */
static uint64_t
stack_top(int pid)
{
    char path[64], line[512];
    snprintf(path, sizeof(path), "/proc/%d/maps", pid);
    FILE *maps = fopen(path, "r");
    uint64_t top = 0;
    while (maps != NULL && fgets(line, sizeof(line), maps) != NULL) {
        unsigned long long low, high;
        if (strstr(line, "[stack]") != NULL
            && sscanf(line, "%llx-%llx", &low, &high) == 2) {
            top = high;
        }
    }
    if (maps != NULL) {
        fclose(maps);
    }
    return top;
}

int
main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr,
                "usage: floorsampler PID RATE [NIOV [BYTES [SECONDS]]]\n");
        return 2;
    }
    int pid = atoi(argv[1]);
    double rate = atof(argv[2]);
    int niov = argc > 3 ? atoi(argv[3]) : 1;
    size_t bytes = argc > 4 ? (size_t)atol(argv[4]) : 2048;
    double seconds = argc > 5 ? atof(argv[5]) : 0;
    if (pid <= 0 || rate <= 0 || niov < 1 || niov > MAX_IOV || bytes < 1) {
        fprintf(stderr, "floorsampler: bad arguments\n");
        return 2;
    }
    uint64_t top = stack_top(pid);
    if (top == 0) {
        fprintf(stderr, "floorsampler: no [stack] in /proc/%d/maps\n", pid);
        return 1;
    }
    size_t each = (bytes + (size_t)niov - 1) / (size_t)niov;
    if (each > PAGE - 64) {
        each = PAGE - 64;
    }
    static char buffer[MAX_IOV * PAGE];
    struct iovec local = {buffer, each * (size_t)niov};
    struct iovec remote[MAX_IOV];
    for (int i = 0; i < niov; i++) {
        /* page i + 1 below the top, from its start: mapped while the
         * stack is that deep (a running python's is) */
        remote[i].iov_base = (void *)(uintptr_t)(top - (uint64_t)(i + 2) * PAGE);
        remote[i].iov_len = each;
    }
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    int64_t period = (int64_t)(1e9 / rate);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t next = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    int64_t end = seconds > 0 ? next + (int64_t)(seconds * 1e9) : INT64_MAX;
    long rounds = 0;
    while (next < end) {
        ssize_t got = process_vm_readv(pid, &local, 1, remote,
                                       (unsigned long)niov, 0);
        if (got < 0) {
            if (errno == ESRCH) {
                break;
            }
            fprintf(stderr, "floorsampler: process_vm_readv: %s\n",
                    strerror(errno));
            return 1;
        }
        rounds++;
        next += period;
        struct timespec deadline = {(time_t)(next / 1000000000),
                                    (long)(next % 1000000000)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL);
    }
    fprintf(stderr, "floor: %ld rounds\n", rounds);
    return 0;
}
