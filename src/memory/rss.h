/* rss.h - resident set size of this process, another one, its children.
 *
 * Read from /proc/<pid>/statm (resident pages, the number psutil's rss
 * and so memory_profiler report) with pread on a descriptor kept open, so
 * one read is a single system call: cheap enough for the sampler thread
 * and for a per-line profiler that re-reads only now and then.
 *
 * Plain C: never includes Python.h.  Linux only.
 */
#ifndef PYPROF_RSS_H
#define PYPROF_RSS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct {
    int fd;             /* /proc/<pid>/statm, or -1 */
    pid_t pid;
} pyprof_rss_reader_t;

/* Open a reader of `pid`'s RSS (0 for this process).  Returns 0, or -1
 * with errno set (no such process, no /proc). */
int pyprof_rss_open(pyprof_rss_reader_t *reader, pid_t pid);

/* Close the reader (idempotent). */
void pyprof_rss_close(pyprof_rss_reader_t *reader);

/* The RSS in bytes, or -1 with errno set (ESRCH once the process is gone). */
int64_t pyprof_rss_read(pyprof_rss_reader_t *reader);

/* The RSS in bytes of process `pid` read once, or -1. */
int64_t pyprof_rss_of_pid(pid_t pid);

/* The live descendants of `pid` (children, grandchildren...): stores up
 * to `cap` of them in pids[] in ascending order and returns how many there
 * are (possibly more than cap), or -1 when /proc cannot be read. */
int pyprof_rss_descendants(pid_t pid, pid_t *pids, int cap);

/* Bytes to MiB, memory_profiler's unit. */
static inline double
pyprof_rss_mib(int64_t bytes)
{
    return (double)bytes / (1024.0 * 1024.0);
}

#endif
