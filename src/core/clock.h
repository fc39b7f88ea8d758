/* clock.h - the profiler's clocks: raw ticks on the hot path, nanoseconds
 * everywhere else.
 *
 * Hooks run millions of times a second and read the clock twice per call,
 * so the wall clock reads the CPU's time-stamp counter where the counter
 * is invariant (constant rate, never stops) on x86-64: a few cycles,
 * against 20-50 ns for clock_gettime() under a hypervisor.  Ticks are
 * converted to nanoseconds once, at export, with a rate measured against
 * CLOCK_MONOTONIC over the profile's own lifetime.  The CPU clock and
 * machines without an invariant counter use clock_gettime(), whose ticks
 * are nanoseconds.  Setting PYPROF_CLOCK_SOURCE=clock_gettime in the
 * environment forces the portable path.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_CLOCK_H
#define PYPROF_CLOCK_H

#include <stdint.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define PYPROF_HAVE_TSC 1
#else
#define PYPROF_HAVE_TSC 0
#endif

typedef int64_t pyprof_ns_t;     /* nanoseconds */
typedef int64_t pyprof_ticks_t;  /* raw units of a pyprof_clock_t */

#define PYPROF_NS_PER_SEC INT64_C(1000000000)

/* A clock read by a function (cProfile's timer argument): its ticks. */
typedef pyprof_ticks_t (*pyprof_clock_read_fn)(void *ctx);

typedef struct {
    int use_tsc;            /* ticks are time-stamp-counter cycles */
    pyprof_clock_read_fn read;  /* else, when set: ticks come from it */
    void *read_ctx;
    double read_ns_per_tick;    /* ...at this fixed rate */
    clockid_t id;           /* else: ticks are ns of this clock */
    pyprof_ns_t origin_ns;  /* CLOCK_MONOTONIC at init, for calibration */
    pyprof_ticks_t origin_ticks;
} pyprof_clock_t;

/* The current time of clock `id` in nanoseconds. */
static inline pyprof_ns_t
pyprof_clock_read_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (pyprof_ns_t)ts.tv_sec * PYPROF_NS_PER_SEC + ts.tv_nsec;
}

/* Choose the source: `cpu` selects per-thread CPU time, else wall time. */
void pyprof_clock_init(pyprof_clock_t *clock, int cpu);

/* A clock whose ticks `read(ctx)` gives, `ns_per_tick` ns each. */
void pyprof_clock_init_function(pyprof_clock_t *clock,
                                pyprof_clock_read_fn read, void *ctx,
                                double ns_per_tick);

/* The current time in ticks.  Inline: this is on every hook's path. */
static inline pyprof_ticks_t
pyprof_clock_ticks(const pyprof_clock_t *clock)
{
#if PYPROF_HAVE_TSC
    if (clock->use_tsc) {
        return (pyprof_ticks_t)__rdtsc();
    }
#endif
    if (clock->read != NULL) {
        return clock->read(clock->read_ctx);
    }
    return pyprof_clock_read_ns(clock->id);
}

/* Whether pyprof_clock_ticks_straight reads `clock`: it reads the
 * time-stamp counter where the machine has one (so only a clock that uses
 * it qualifies), the clock itself elsewhere.  A hook's common case is
 * compiled for such a clock and taken only when this holds. */
static inline int
pyprof_clock_is_straight(const pyprof_clock_t *clock)
{
#if PYPROF_HAVE_TSC
    return clock->use_tsc;
#else
    (void)clock;
    return 1;
#endif
}

/* pyprof_clock_ticks for a clock pyprof_clock_is_straight accepts, with
 * no test of the source: one rdtsc on x86-64. */
static inline pyprof_ticks_t
pyprof_clock_ticks_straight(const pyprof_clock_t *clock)
{
#if PYPROF_HAVE_TSC
    (void)clock;
    return (pyprof_ticks_t)__rdtsc();
#else
    return pyprof_clock_ticks(clock);
#endif
}

/* Nanoseconds per tick, measured since init (waits up to a millisecond
 * when less time than that has passed, for a precise rate). */
double pyprof_clock_ns_per_tick(const pyprof_clock_t *clock);

static inline double
pyprof_ns_to_seconds(pyprof_ns_t ns)
{
    return (double)ns / 1e9;
}

#endif
