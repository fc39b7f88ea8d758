/* mprof_profile.h - the `profile` builtin of `pyprof mprof run`.
 *
 * memory_profiler's TimeStamper (what `mprof run` injects), from C:
 *     @profile                         each call becomes a FUNC line
 *     @profile(precision=2)            the same (the precision is unused)
 *     with profile.timestamp("name"):  the block becomes a FUNC line,
 *                                      named ".name" as mprof names it
 * Memory and time are read when the call or block starts and ends; the
 * nesting level counts from 0 for the outermost, blocks included, as
 * mprof counts it.  The lines are queued to the sampler, whose thread
 * formats and writes them (pyprof_rss_sampler_add_call).
 */
#ifndef PYPROF_MPROF_PROFILE_H
#define PYPROF_MPROF_PROFILE_H

#include <Python.h>

#include "../memory/rss_sampler.h"

/* Start recording calls into `sampler` (borrowed: it must outlive the
 * matching stop) and return a new reference to a `profile` object, or
 * NULL with an exception set.  One recording at a time; needs the GIL. */
PyObject *pyprof_mprof_profile_start(pyprof_rss_sampler_t *sampler);

/* Stop recording: wrapped functions and blocks still run, unrecorded.
 * Call with the GIL, before the sampler is stopped. */
void pyprof_mprof_profile_stop(void);

#endif
