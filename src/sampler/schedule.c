/* schedule.c - absolute sampling deadlines with a bounded catch-up. */
#include "schedule.h"

/* xorshift64*: the jitter of the deadlines (no need for more). */
static uint64_t
next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * UINT64_C(2685821657736338717);
}

void
pyprof_schedule_init(pyprof_schedule_t *schedule, int64_t start_ns,
                     int64_t period_ns, uint64_t seed)
{
    if (period_ns < 1) {
        period_ns = 1;
    }
    schedule->start_ns = start_ns;
    schedule->period_ns = period_ns;
    schedule->backlog_ns = period_ns > PYPROF_SCHEDULE_MIN_BACKLOG_NS / 4
                               ? 4 * period_ns
                               : PYPROF_SCHEDULE_MIN_BACKLOG_NS;
    schedule->tick = 0;
    schedule->due_ns = start_ns;
    schedule->missed = 0;
    schedule->random = seed;
    schedule->end_ns = 0;
}

/* The deadline of tick `tick`: inside its own period. */
static int64_t
deadline(pyprof_schedule_t *schedule, uint64_t tick)
{
    int64_t at = schedule->start_ns + (int64_t)tick * schedule->period_ns;
    if (schedule->random != 0) {
        at += (int64_t)(next_random(&schedule->random)
                        % (uint64_t)schedule->period_ns);
    }
    return at;
}

int64_t
pyprof_schedule_next(pyprof_schedule_t *schedule, int64_t now_ns)
{
    schedule->tick++;
    if (schedule->end_ns > 0 && now_ns > schedule->end_ns) {
        /* a stall across the time limit: the deadlines after the limit
         * were never part of the recording, so none is counted missed */
        now_ns = schedule->end_ns;
    }
    /* The first tick whose slot [k, k + 1) periods holds now - backlog:
     * every deadline before it is more than the backlog late. */
    int64_t oldest = now_ns - schedule->backlog_ns - schedule->start_ns;
    if (oldest > 0) {
        uint64_t first = (uint64_t)(oldest / schedule->period_ns);
        if (first > schedule->tick) {
            schedule->missed += first - schedule->tick;
            schedule->tick = first;
        }
    }
    schedule->due_ns = deadline(schedule, schedule->tick);
    return schedule->due_ns;
}

/* Deadlines `tick` and before that are due by end_ns. */
static uint64_t
passed(const pyprof_schedule_t *schedule, int64_t end_ns)
{
    return schedule->tick + (schedule->due_ns <= end_ns ? 1 : 0);
}

uint64_t
pyprof_schedule_due(const pyprof_schedule_t *schedule, int64_t end_ns)
{
    uint64_t due = passed(schedule, end_ns);
    if (end_ns > schedule->start_ns) {
        /* slots [k, k + 1) periods that ended by end_ns */
        uint64_t slots =
            (uint64_t)((end_ns - schedule->start_ns) / schedule->period_ns);
        if (slots > due) {
            due = slots;
        }
    }
    return due;
}

uint64_t
pyprof_schedule_finish(pyprof_schedule_t *schedule, int64_t end_ns)
{
    uint64_t due = pyprof_schedule_due(schedule, end_ns);
    schedule->missed += due - passed(schedule, end_ns);
    return due;
}
