/* clock.c - choosing and calibrating the profiler's clock. */
#include "clock.h"

#include <stdlib.h>
#include <string.h>

#if PYPROF_HAVE_TSC
#include <cpuid.h>

/* CPUID 0x80000007 EDX bit 8: the counter runs at a constant rate in every
 * power state, so ticks map linearly to wall time. */
static int
tsc_is_invariant(void)
{
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(0x80000000u, &eax, &ebx, &ecx, &edx)
        || eax < 0x80000007u) {
        return 0;
    }
    __get_cpuid(0x80000007u, &eax, &ebx, &ecx, &edx);
    return (edx >> 8) & 1u;
}
#endif

void
pyprof_clock_init(pyprof_clock_t *clock, int cpu)
{
    memset(clock, 0, sizeof(*clock));
    clock->id = cpu ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC;
#if PYPROF_HAVE_TSC
    const char *forced = getenv("PYPROF_CLOCK_SOURCE");
    int portable = forced != NULL && strcmp(forced, "clock_gettime") == 0;
    clock->use_tsc = !cpu && !portable && tsc_is_invariant();
#endif
    clock->origin_ns = pyprof_clock_read_ns(CLOCK_MONOTONIC);
    clock->origin_ticks = pyprof_clock_ticks(clock);
}

void
pyprof_clock_init_function(pyprof_clock_t *clock, pyprof_clock_read_fn read,
                           void *ctx, double ns_per_tick)
{
    memset(clock, 0, sizeof(*clock));
    clock->id = CLOCK_MONOTONIC;
    clock->read = read;
    clock->read_ctx = ctx;
    clock->read_ns_per_tick = ns_per_tick;
}

double
pyprof_clock_ns_per_tick(const pyprof_clock_t *clock)
{
    if (clock->read != NULL) {
        return clock->read_ns_per_tick;
    }
    if (!clock->use_tsc) {
        return 1.0;
    }
    pyprof_ns_t ns;
    pyprof_ticks_t ticks;
    do {
        ns = pyprof_clock_read_ns(CLOCK_MONOTONIC);
        ticks = pyprof_clock_ticks(clock);
    } while (ns - clock->origin_ns < 1000000 || ticks == clock->origin_ticks);
    if (ticks <= clock->origin_ticks) {
        return 1.0; /* counter went backwards (migrated VM): no rate */
    }
    return (double)(ns - clock->origin_ns)
           / (double)(ticks - clock->origin_ticks);
}
