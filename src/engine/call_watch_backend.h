/* call_watch_backend.h - between call_watch.c (the watched functions,
 * each thread's stack of their running calls) and the backend that sees
 * the calls start and end: sys.monitoring from 3.12
 * (call_watch_monitoring.c), a PEP 523 frame hook below
 * (call_watch_legacy.c).  Private to the call watch; requires the GIL.
 */
#ifndef PYPROF_CALL_WATCH_BACKEND_H
#define PYPROF_CALL_WATCH_BACKEND_H

#include <Python.h>
#include <stddef.h>
#include <stdint.h>

/* ---- what call_watch.c gives the backends ---- */

/* Where a pushed call stands on its thread's stack: handed back to
 * pyprof_call_watch_pop_mark, which pops it only if it is still there
 * (the watch was not removed meanwhile).  depth 0: nothing was pushed. */
typedef struct {
    uint64_t epoch;
    size_t depth;
} pyprof_call_mark_t;

/* A frame of `code` (borrowed) starts: when its code is watched, its
 * enter hook runs (the pending exception kept) and the call is pushed on
 * the thread's stack. */
pyprof_call_mark_t pyprof_call_watch_push(PyObject *code);

/* Releases the locals of an ending frame (the backend's own frame type)
 * before an exit hook that asks for it (pyprof_call_hooks_t.
 * frame_released); NULL when the backend cannot. */
typedef void (*pyprof_frame_release_t)(void *frame);

/* A frame of `code` ends (returns or raises): when it is the thread's
 * innermost watched call, it is popped, `release(frame)` runs when its
 * hooks ask for it, and its exit hook runs. */
void pyprof_call_watch_pop(PyObject *code, pyprof_frame_release_t release,
                           void *frame);

/* The same, for the call pushed as `mark`, and only while it is still the
 * innermost (another backend path may have popped it already). */
void pyprof_call_watch_pop_mark(PyObject *code, pyprof_call_mark_t mark,
                                pyprof_frame_release_t release, void *frame);

/* ---- what a backend gives call_watch.c ---- */

/* Start seeing calls (the first function is watched).  Returns 1, 0 when
 * it cannot (nothing raised: the caller wraps instead), -1 with an
 * exception set. */
int pyprof_call_watch_backend_claim(void);

/* Non-zero when the backend releases a frame's locals before an exit
 * hook that asks for it (hooks->frame_released). */
int pyprof_call_watch_backend_releases_frames(void);

/* Calls of `code` (borrowed, kept alive by the watch) are to be seen from
 * now on.  0, or -1 with an exception set. */
int pyprof_call_watch_backend_watch(PyObject *code);

/* Calls of `code` need not be seen any more.  Never raises. */
void pyprof_call_watch_backend_unwatch(PyObject *code);

/* Stop seeing calls (the last function is no longer watched, or a claim
 * failed half way).  Does nothing when nothing is claimed; never raises. */
void pyprof_call_watch_backend_release(void);

#endif
