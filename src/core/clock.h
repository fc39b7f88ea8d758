/* clock.h - the profiler's notion of time: integer nanoseconds.
 *
 * Every duration inside pyprof is a pyprof_ns_t; seconds appear only when a
 * report or file format asks for them.  The clock is chosen once (wall or
 * per-thread CPU) and read through one inline function so the hot path is a
 * single vDSO call for the wall clock.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_CLOCK_H
#define PYPROF_CLOCK_H

#include <stdint.h>
#include <time.h>

typedef int64_t pyprof_ns_t;

#define PYPROF_NS_PER_SEC INT64_C(1000000000)

/* The current time of clock `id` (CLOCK_MONOTONIC, CLOCK_THREAD_CPUTIME_ID,
 * ...) in nanoseconds. */
static inline pyprof_ns_t
pyprof_clock_read(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (pyprof_ns_t)ts.tv_sec * PYPROF_NS_PER_SEC + ts.tv_nsec;
}

static inline double
pyprof_ns_to_seconds(pyprof_ns_t ns)
{
    return (double)ns / 1e9;
}

#endif
