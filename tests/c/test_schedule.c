/* test_schedule.c - the sampling deadlines (sampler/schedule.h), on an
 * injected clock.
 *
 * The oracle is arithmetic: a recording of D seconds at rate R has
 * D x R deadlines; every one of them is either taken or counted missed,
 * (or, at the end, still within the backlog), and a sampler woken up a
 * few milliseconds late (what a loaded machine does) still takes at least
 * 99% of them.  Seen failing on the old policy (a deadline more than a
 * period late skipped): 9 of these checks failed.
 */
#include <stdint.h>

#include "check.h"
#include "sampler/schedule.h"

#define MS 1000000LL
#define US 1000LL

typedef struct {
    int64_t taken, missed, expected;
    uint64_t due;       /* pyprof_schedule_due at the end */
    int in_slot;        /* every deadline inside its own period */
    int monotonic;      /* deadlines never go back */
} run_t;

/* A sampler loop over `duration` ns at `period` ns: each sample costs
 * `cost` ns; each sleep wakes up `latency` ns after its deadline, and
 * every `late_every`-th wake-up (0: none) `late` ns after it; a stall of
 * `stall` ns happens once, at 300 ms. */
static run_t
simulate(int64_t period, int64_t duration, int64_t cost, int64_t latency,
         int late_every, int64_t late, int64_t stall, uint64_t seed)
{
    pyprof_schedule_t schedule;
    const int64_t start = 1000 * MS;
    pyprof_schedule_init(&schedule, start, period, seed);
    run_t run = {0, 0, duration / period, 0, 1, 1};
    int64_t now = start, previous = start;
    int sleeps = 0, stalled = 0;
    while (now < start + duration) {
        now += cost;                        /* the sample */
        run.taken++;
        uint64_t tick = schedule.tick + 1;
        int64_t next = pyprof_schedule_next(&schedule, now);
        int64_t slot = start + (int64_t)schedule.tick * period;
        if (schedule.tick == tick && (next < slot || next >= slot + period)) {
            run.in_slot = 0;
        }
        if (next < previous) {
            run.monotonic = 0;
        }
        previous = next;
        if (!stalled && now >= start + 300 * MS) {
            now += stall;
            stalled = 1;
        }
        if (next > now) {                   /* sleep */
            sleeps++;
            now = next + latency
                  + (late_every && sleeps % late_every == 0 ? late : 0);
        }
    }
    run.missed = (int64_t)schedule.missed;
    run.due = pyprof_schedule_due(&schedule, now);
    return run;
}

static void
test_loaded_machine_keeps_the_rate(void)
{
    /* 1 kHz for 2 s, 30 us a sample, woken 3-8 ms late every 10th time */
    for (int64_t late = 3 * MS; late <= 8 * MS; late += 5 * MS) {
        run_t run = simulate(1 * MS, 2000 * MS, 30 * US, 60 * US, 10, late,
                             0, 12345);
        CHECK(run.taken >= run.expected * 99 / 100);
        CHECK(run.taken <= run.expected + 1);
        CHECK(run.taken + run.missed <= run.expected + 1);
        CHECK(run.in_slot && run.monotonic);
    }
    /* 10 kHz, 40 us a sample, woken 1 ms late every 50th time */
    run_t fast = simulate(100 * US, 1000 * MS, 40 * US, 20 * US, 50, 1 * MS,
                          0, 99);
    CHECK(fast.taken >= fast.expected * 99 / 100);
    CHECK(fast.taken <= fast.expected + 1);
}

static void
test_long_stall_is_counted_missed(void)
{
    /* a 200 ms stall at 1 kHz: the 20 ms backlog is caught up, the rest
     * (about 180 deadlines) is missed, and none is lost from the count */
    run_t run = simulate(1 * MS, 1000 * MS, 30 * US, 60 * US, 0, 0,
                         200 * MS, 7);
    CHECK(run.missed >= 178 && run.missed <= 182);
    CHECK(run.taken + run.missed >= run.expected - 1);
    CHECK(run.taken + run.missed <= run.expected + 1);
    CHECK(run.monotonic);
}

static void
test_slow_samples_drop_not_drift(void)
{
    /* each sample takes 1.5 periods: two thirds of the deadlines can be
     * taken; the rest is missed, counted, and the schedule does not drift */
    run_t run = simulate(1 * MS, 1000 * MS, 1500 * US, 10 * US, 0, 0, 0, 3);
    CHECK(run.taken >= 650 && run.taken <= 668);
    /* when the loop ends it is a backlog (20 deadlines) behind */
    CHECK(run.taken + run.missed >= run.expected - 21);
    CHECK(run.taken + run.missed <= run.expected + 1);
}

static void
test_no_jitter_is_the_grid(void)
{
    pyprof_schedule_t schedule;
    pyprof_schedule_init(&schedule, 0, 10 * MS, 0);
    CHECK(pyprof_schedule_next(&schedule, 1 * MS) == 10 * MS);
    CHECK(pyprof_schedule_next(&schedule, 11 * MS) == 20 * MS);
    /* 25 ms late: inside the 4-period backlog, taken at once */
    CHECK(pyprof_schedule_next(&schedule, 55 * MS) == 30 * MS);
    CHECK(schedule.missed == 0);
    /* 100 ms late: the deadlines before now - 40 ms are dropped */
    CHECK(pyprof_schedule_next(&schedule, 140 * MS) == 100 * MS);
    CHECK(schedule.missed == 6);
}

static void
test_due_counts_the_first_round(void)
{
    /* a recording samples at its start (deadline 0), then at 10, 20 ms;
     * the target's exit found by the sample at 20 ms ends it: 3 rounds
     * were due, not floor(20 ms x 100 Hz) = 2 */
    pyprof_schedule_t schedule;
    pyprof_schedule_init(&schedule, 0, 10 * MS, 0);
    CHECK(pyprof_schedule_due(&schedule, 0) == 1);
    CHECK(pyprof_schedule_next(&schedule, 1 * MS) == 10 * MS);
    CHECK(pyprof_schedule_due(&schedule, 9 * MS) == 1);
    CHECK(pyprof_schedule_due(&schedule, 10 * MS) == 2);
    CHECK(pyprof_schedule_next(&schedule, 11 * MS) == 20 * MS);
    CHECK(pyprof_schedule_due(&schedule, 20 * MS + 50 * US) == 3);
    /* cut at 30 ms by a time limit, deadline 3 (at 30 ms) not yet due:
     * 3 rounds, as 30 ms x 100 Hz says */
    CHECK(pyprof_schedule_next(&schedule, 21 * MS) == 30 * MS);
    CHECK(pyprof_schedule_due(&schedule, 30 * MS - 1) == 3);
    /* dropped deadlines were due too: taken + missed */
    CHECK(pyprof_schedule_next(&schedule, 140 * MS) == 100 * MS);
    CHECK(pyprof_schedule_due(&schedule, 140 * MS) == 4 + schedule.missed + 1
                                                       + 3);
    /* ... and 110-130 ms, not reached when a time limit cuts it there */
    CHECK(pyprof_schedule_finish(&schedule, 140 * MS) == 14);
    CHECK(schedule.missed == 6 + 3);
    /* with jitter: every deadline of a run is due by its end */
    run_t run = simulate(1 * MS, 500 * MS, 30 * US, 60 * US, 10, 3 * MS, 0,
                         5);
    CHECK(run.due == (uint64_t)(run.taken + run.missed)
          || run.due == (uint64_t)(run.taken + run.missed + 1));
}

static void
test_stall_across_the_time_limit(void)
{
    /* 1 kHz with a 2 s limit; the sample of 1,990 ms ends at 2,030 ms (a
     * stall, seen at load 13-18 on 2 cores): the recording was due 2,000
     * rounds, not 2,010 (the deadlines after the limit counted missed) */
    pyprof_schedule_t schedule;
    pyprof_schedule_init(&schedule, 0, 1 * MS, 0);
    schedule.end_ns = 2000 * MS;
    int64_t now = 0;
    while (schedule.due_ns < 1990 * MS) {
        now = pyprof_schedule_next(&schedule, now + 30 * US);
    }
    uint64_t taken = schedule.tick + 1;
    pyprof_schedule_next(&schedule, 2030 * MS);
    CHECK(schedule.tick <= 1991);
    CHECK(pyprof_schedule_finish(&schedule, 2000 * MS) == 2000);
    CHECK(taken + schedule.missed <= 2000 && taken + schedule.missed >= 1999);
}

void
test_schedule(void)
{
    test_stall_across_the_time_limit();
    test_loaded_machine_keeps_the_rate();
    test_long_stall_is_counted_missed();
    test_slow_samples_drop_not_drift();
    test_no_jitter_is_the_grid();
    test_due_counts_the_first_round();
}
