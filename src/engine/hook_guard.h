/* hook_guard.h - below 3.12: notice when the program takes pyprof's
 * profile or trace hook (sys.setprofile, sys.settrace, cProfile.enable).
 *
 * A thread has one C profile function and one C trace function; a
 * program that installs its own replaces ours on its thread, and nothing
 * tells us.  Every install goes through _PyEval_SetProfile/SetTrace, which
 * raise the "sys.setprofile"/"sys.settrace" audit event first; an audit
 * hook (added once per process, it cannot be removed) notes where in the
 * program that happened and queues a pending call, which runs on the main
 * thread once the install is done.  It then looks at every thread: ours
 * removed (the program's hook was taken off again: sys.setprofile(None),
 * cProfile.disable()) is put back when the guard says so; a hook of the
 * program's in our place is named on stderr once ("pyprof: the program
 * replaced the profile hook (sys.setprofile) at file:line; ...").  From
 * 3.12 sys.monitoring tools coexist and nothing needs guarding.
 */
#ifndef PYPROF_HOOK_GUARD_H
#define PYPROF_HOOK_GUARD_H

#include "compat.h"

#if !PYPROF_USE_MONITORING

/* Guard `ours` as every thread's profile function (trace == 0) or trace
 * function (trace != 0).  `reinstall`: put ours back on a thread whose
 * hook was removed.  `what` ends the warning ("the profile misses what
 * ran while it was set").  Returns 0, or -1 with an exception set. */
int pyprof_hook_guard_start(int trace, Py_tracefunc ours, int reinstall,
                            const char *what);

/* What a guard of hooks that are not on every thread all the time (the
 * line engine's) calls instead of putting ours back.  Each runs with the
 * GIL, its own installs bracketed (pyprof_hook_guard_own_begin/end), and
 * must not raise. */
typedef struct {
    /* A thread whose hook of that kind was removed (the program let go):
     * decides what to install there.  May be NULL. */
    void (*let_go)(PyThreadState *t);
    /* The calling thread is about to install or remove a hook of that
     * kind (the audit event, before the change): lets ours cover the
     * thread another way meanwhile.  May be NULL. */
    void (*before)(PyThreadState *t);
} pyprof_hook_guard_calls_t;

/* The same, for hooks that are not on every thread all the time: `calls`
 * (static, may be NULL) instead of putting ours back.  A thread whose
 * hook object is `also_ours` (borrowed, kept alive by the caller while
 * guarded; may be NULL) -- a bootstrap that installs ours on its first
 * event -- is not the program's.  `what` NULL: nothing is lost while the
 * program's hook is set, and nothing is said. */
int pyprof_hook_guard_start_with(int trace, Py_tracefunc ours,
                                 const pyprof_hook_guard_calls_t *calls,
                                 PyObject *also_ours, const char *what);

/* A hook of that kind that is neither `ours` nor `also_ours` (may be
 * NULL) already set on some thread -- coverage started first, a
 * sitecustomize tracer -- is named once on stderr ("pyprof: a trace hook
 * was set before pyprof started (sys.settrace: REPR); `what`").  Returns
 * 1 when one was, else 0.  Never raises. */
int pyprof_hook_guard_name_existing(int trace, Py_tracefunc ours,
                                    PyObject *also_ours, const char *what);

/* Stop guarding (before removing ours).  Never raises. */
void pyprof_hook_guard_stop(int trace);

/* pyprof's own installs, bracketed by these, are not looked at (a hook
 * switched per frame would queue a check at every switch).  Nest. */
extern int pyprof_hook_guard_own_installs;

static inline void
pyprof_hook_guard_own_begin(void)
{
    pyprof_hook_guard_own_installs++;
}

static inline void
pyprof_hook_guard_own_end(void)
{
    pyprof_hook_guard_own_installs--;
}

#endif

#endif
