/* rss_sampler.h - a thread that samples a process's RSS at a fixed interval.
 *
 * The `mprof run` and memory_usage() engine.  The thread is a plain
 * pthread that never touches the interpreter (no GIL, no Python API), so
 * sampling costs the profiled program only the few microseconds of a
 * /proc read per interval, on whichever core is free.
 *
 * Samples are kept in memory and, when a stream is given, each is also
 * written at once as an mprof "MEM <MiB> <time>" line (and "CHLD" lines
 * per child process) and flushed: a program that is killed, or runs out
 * of memory, still leaves every sample taken so far in a readable file.
 * Calls of profiled functions reach the same stream as FUNC lines through
 * pyprof_rss_sampler_add_call: the program's thread only queues the numbers,
 * and this thread formats and writes them with its next sample.  Only one
 * thread at a time ever writes the stream.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_RSS_SAMPLER_H
#define PYPROF_RSS_SAMPLER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

typedef struct {
    double timestamp;   /* seconds since the epoch, as time.time() */
    int64_t rss;        /* bytes; with children, the sum over them too */
} pyprof_sample_t;

typedef struct {
    pid_t pid;              /* process to sample; 0 for this one */
    double interval;        /* seconds between samples, > 0 */
    int include_children;   /* add descendants' RSS to each sample */
    FILE *stream;           /* where MEM lines go (not owned), or NULL */
    int child_lines;        /* also a CHLD line per descendant (mprof's
                               --multiprocess) */
} pyprof_rss_sampler_config_t;

typedef struct pyprof_rss_sampler pyprof_rss_sampler_t;

/* Take a first sample and start the thread.  Returns a new sampler (free
 * it with pyprof_rss_sampler_free), or NULL with errno set (no such process,
 * out of memory, no thread). */
pyprof_rss_sampler_t *pyprof_rss_sampler_start(const pyprof_rss_sampler_config_t *cfg);

/* Take one more sample, then stop and join the thread (idempotent). */
void pyprof_rss_sampler_stop(pyprof_rss_sampler_t *sampler);

/* Wait until the sampled process is gone (its RSS can no longer be read)
 * or `timeout` seconds have passed (timeout < 0: no limit).  Returns 1
 * when it is gone, 0 on timeout.  For samplers of another process. */
int pyprof_rss_sampler_wait(pyprof_rss_sampler_t *sampler, double timeout);

/* The samples taken so far (borrowed; valid until the next call into the
 * sampler or its free), their number in *count.  Call after stop, or
 * accept that the thread may add more. */
const pyprof_sample_t *pyprof_rss_sampler_samples(pyprof_rss_sampler_t *sampler,
                                              size_t *count);

/* The RSS in bytes of the sampled process now, read by the caller's
 * thread (with children when configured), or -1. */
int64_t pyprof_rss_sampler_read_now(pyprof_rss_sampler_t *sampler);

/* One call of a profiled function: an mprof FUNC line. */
typedef struct {
    const char *name;       /* from pyprof_rss_sampler_name */
    int level;              /* 0 for the outermost profiled call */
    int64_t rss_start;      /* bytes, from pyprof_rss_sampler_read_now */
    int64_t rss_end;
    double t_start;         /* from pyprof_rss_sampler_now */
    double t_end;
} pyprof_rss_sampler_call_t;

/* The sampler's own copy of a function's name, for the `name` of its
 * calls: equal names share one copy, which lives as long as the sampler.
 * Returns a borrowed string, or NULL when out of memory. */
const char *pyprof_rss_sampler_name(pyprof_rss_sampler_t *sampler, const char *name);

/* Queue a call's FUNC line.  The sampler's thread formats and writes it
 * with its next sample (or sooner, when many calls are waiting): turning
 * four numbers into text is most of a FUNC line's cost, and that thread
 * runs on another core while the program goes on.  Thread-safe. */
void pyprof_rss_sampler_add_call(pyprof_rss_sampler_t *sampler,
                             const pyprof_rss_sampler_call_t *call);

/* Non-zero once a write to the stream failed or a sample could not be
 * stored (out of memory). */
int pyprof_rss_sampler_failed(const pyprof_rss_sampler_t *sampler);

/* Stop (if needed) and release the sampler. */
void pyprof_rss_sampler_free(pyprof_rss_sampler_t *sampler);

/* Seconds since the epoch, as time.time() returns them. */
double pyprof_rss_sampler_now(void);

#endif
