/* profiler.h - the deterministic function profiler, seen from C callers.
 *
 * One profiler records every call of Python functions and C functions in
 * every thread into a calling-context tree (one node per distinct call
 * path), so that exact call paths survive for flame graphs while pstats'
 * per-function and per-caller numbers are derived from the tree at export.
 * The Python-visible Profile type (binding) and `pyprof run` (CLI) both
 * drive it through this API.  All functions require the GIL.
 */
#ifndef PYPROF_PROFILER_H
#define PYPROF_PROFILER_H

#include <Python.h>
#include "../core/stats.h"

typedef enum {
    PYPROF_CLOCK_WALL = 0,  /* CLOCK_MONOTONIC */
    PYPROF_CLOCK_CPU = 1,   /* CLOCK_THREAD_CPUTIME_ID */
} pyprof_clock_kind_t;

typedef struct pyprof_profiler pyprof_profiler_t;

/* A new, disabled profiler.  NULL with an exception set on failure. */
pyprof_profiler_t *pyprof_profiler_new(pyprof_clock_kind_t clock,
                                       int builtins);

/* A new, disabled profiler timed by `timer()` as cProfile.Profile(timer,
 * timeunit) is: a float in seconds, or with timeunit > 0 an integer of
 * timeunit seconds.  The timer is called with events off; an error in it
 * is reported as unraisable and reads as 0.  NULL with an exception set
 * on failure. */
pyprof_profiler_t *pyprof_profiler_new_timer(PyObject *timer,
                                             double timeunit, int builtins);

/* Each function of the profile (code object or C function label, new
 * reference) by pstats key: a new dict {(file, line, name): object}, or
 * NULL with an exception set.  For cProfile's getstats(). */
PyObject *pyprof_profiler_objects(pyprof_profiler_t *prof);

/* Start recording in every thread (the calling one, and threads started
 * later; on 3.12+ every thread).  Returns 0, or -1 with an exception set
 * (for example when another profiler already holds the hook). */
int pyprof_profiler_enable(pyprof_profiler_t *prof);

/* Stop recording; frames still open are closed at the current time, as
 * cProfile does.  Safe to call when not enabled. */
void pyprof_profiler_disable(pyprof_profiler_t *prof);

/* Drop everything recorded so far. */
void pyprof_profiler_clear(pyprof_profiler_t *prof);

/* The pstats view of what was recorded.  Returns a new model owned by the
 * caller (pyprof_stats_free), or NULL with an exception set. */
pyprof_stats_t *pyprof_profiler_export(pyprof_profiler_t *prof);

/* Free the profiler (disables it first). */
void pyprof_profiler_free(pyprof_profiler_t *prof);

/* Visit-time GC support for the Python type that owns a profiler. */
int pyprof_profiler_traverse(pyprof_profiler_t *prof, visitproc visit,
                             void *arg);

#endif
