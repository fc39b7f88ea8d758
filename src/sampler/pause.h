/* pause.h - stopping chosen threads of a target while it is read.
 *
 * For blocking samples (PYPROF_SAMPLE_BLOCKING): each thread is seized
 * with ptrace and interrupted (no signal is sent to the program, and a
 * tracer that dies detaches, so the target never stays stopped), read,
 * then detached.  Only the threads named are stopped -- a process with
 * hundreds of native threads and a few Python ones pays for the few.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_SAMPLER_PAUSE_H
#define PYPROF_SAMPLER_PAUSE_H

#include <stddef.h>
#include <sys/types.h>

/* Stop threads tids[0..n) of process pid (threads that exited are
 * skipped).  The tids stopped are written to paused[0..*npaused), which
 * has room for n.  Returns 0; or PYPROF_SAMPLER_PERMISSION (nothing stays
 * stopped). */
int pyprof_pause_threads(pid_t pid, const long *tids, size_t n, long *paused,
                         size_t *npaused);

/* Let paused[0..n) run again. */
void pyprof_resume_threads(const long *paused, size_t n);

#endif
