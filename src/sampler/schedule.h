/* schedule.h - when to take the next sample: absolute deadlines.
 *
 * Sample k of a recording is due at start + k * period + offset_k, with
 * offset_0 = 0 (a recording samples at once) and the others drawn
 * uniformly from [0, period) when jitter is on (every
 * deadline stays in its own period's slot, so a recording of D seconds
 * has D x rate deadlines exactly, and a program whose loop takes a
 * near-multiple of the period is still sampled at every phase of it).
 *
 * A caller that wakes up late takes the missed deadlines back to back
 * ("catch up"), as long as they are at most `backlog` late; deadlines
 * later than that are dropped and counted in `missed`, so taken + missed
 * is the number of deadlines that have passed.  A bounded backlog keeps a
 * long stall (the machine suspended, a stopped sampler) from turning into
 * a burst of samples of one moment.
 *
 * The clock is the caller's (monotonic nanoseconds passed in), so the
 * arithmetic is unit-tested with an injected clock (tests/c).
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_SAMPLER_SCHEDULE_H
#define PYPROF_SAMPLER_SCHEDULE_H

#include <stdint.h>

/* The backlog pyprof record and top use: 4 periods, at least 20 ms. */
#define PYPROF_SCHEDULE_MIN_BACKLOG_NS 20000000

typedef struct {
    int64_t start_ns;       /* deadline 0: the first sample */
    int64_t period_ns;      /* >= 1 */
    int64_t backlog_ns;     /* how late a deadline may still be taken */
    uint64_t tick;          /* the index of the next deadline */
    int64_t due_ns;         /* deadline `tick`: when it is due */
    uint64_t missed;        /* deadlines dropped for being too late */
    uint64_t random;        /* xorshift64* state; 0 = no jitter */
    int64_t end_ns;         /* 0, or the recording's time limit: a
                               sample ending after it drops no deadline
                               past it (see pyprof_schedule_next) */
} pyprof_schedule_t;

/* A schedule of `period_ns` from `start_ns`; jitter from `seed` unless it
 * is 0.  The backlog is max(4 periods, PYPROF_SCHEDULE_MIN_BACKLOG_NS). */
void pyprof_schedule_init(pyprof_schedule_t *schedule, int64_t start_ns,
                          int64_t period_ns, uint64_t seed);

/* Call after each sample, `now_ns` being the time it ended: drops the
 * deadlines too late to take (adding them to `missed`) and returns the
 * next one, which is <= now_ns when the caller is behind (sample at
 * once, without sleeping). */
int64_t pyprof_schedule_next(pyprof_schedule_t *schedule, int64_t now_ns);

/* The deadlines due by `end_ns`: every one before `tick` (each taken or
 * counted missed), deadline `tick` itself when it is not later than
 * end_ns, and every later one whose whole period slot ended by end_ns
 * (a recording cut by its time limit while it was catching up was due
 * them too).  Deadline 0 is start_ns (the sample a recording starts
 * with), so a recording that ends with the sample of deadline k is due
 * k + 1 rounds, and one cut at a time limit D x rate. */
uint64_t pyprof_schedule_due(const pyprof_schedule_t *schedule,
                             int64_t end_ns);

/* At the end of a recording: pyprof_schedule_due(end_ns), the deadlines
 * after `tick` it counts being added to `missed` (never reached). */
uint64_t pyprof_schedule_finish(pyprof_schedule_t *schedule, int64_t end_ns);

#endif
