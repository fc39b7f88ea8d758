/* sample_session.h - sampling a set of processes into a recording.
 *
 * `pyprof record` and `pyprof top` share this: it keeps one sampler
 * (sampler/sampler.h) per target process, takes one sample of every
 * target per call, keeps or drops each thread as the options say (on a
 * CPU only unless idle threads are wanted, or only the GIL holder), and
 * adds each kept stack to a recording (core/recording.h) under its
 * process and thread frames.  With subprocesses it rescans /proc for
 * descendants of the first targets (multiprocessing workers, forkserver
 * grandchildren) and attaches to each new Python among them.
 *
 * A sample is all or nothing per process: stacks are buffered while the
 * sampler reports them and added only when the whole sample was read.
 *
 * Plain C: never includes Python.h.  Used by one thread.
 */
#ifndef PYPROF_SAMPLE_SESSION_H
#define PYPROF_SAMPLE_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../core/recording.h"

typedef struct pyprof_session pyprof_session_t;

/* A session adding to `rec` (borrowed) with PYPROF_RECORD_* `flags`;
 * NULL when out of memory. */
pyprof_session_t *pyprof_session_new(pyprof_recording_t *rec,
                                     unsigned flags);

/* Detach from every target and free the session (NULL is fine). */
void pyprof_session_free(pyprof_session_t *session);

/* Start adding to another recording (for `top`'s intervals). */
void pyprof_session_set_recording(pyprof_session_t *session,
                                  pyprof_recording_t *rec);

/* Attach to `pid`.  A process that is not (yet) an initialised CPython is
 * retried every 10 ms for up to `wait_ms` (a child that is still starting)
 * unless it has exited.  Returns 0, or the sampler's status with a
 * one-line message in errbuf. */
int pyprof_session_attach(pyprof_session_t *session, pid_t pid, int wait_ms,
                          char *errbuf, size_t errlen);

/* Sample every live target once.  Returns the number of targets still
 * alive (0: every target has exited). */
int pyprof_session_sample(pyprof_session_t *session);

/* Look for new descendants of the first targets and attach to the Python
 * ones (every call; callers pace it). */
void pyprof_session_rescan(pyprof_session_t *session);

/* Processes sampled so far, samples that failed to read. */
int pyprof_session_process_count(const pyprof_session_t *session);
int64_t pyprof_session_errors(const pyprof_session_t *session);

/* The last sampler error message seen ("" if none; borrowed). */
const char *pyprof_session_last_error(const pyprof_session_t *session);

#endif
