/* call_watch.h - a hook around each call of chosen Python functions,
 * without wrapping them.
 *
 * A decorator that returns a C wrapper costs the program recursion: from
 * 3.12 the wrapper's call into the function counts against the C
 * recursion limit (a recursive @profile function raised RecursionError at
 * depth ~750 under a limit of 10,000), and 3.11 inlines no call made
 * through it (a recursion 20,000 deep overflowed the C stack).  So a plain
 * function (not a generator or coroutine function) is watched instead and
 * the decorator returns the function itself: from 3.12 through
 * sys.monitoring's PY_START and PY_RETURN on its code object alone,
 * PY_UNWIND (global: it cannot be local) for its calls that raise
 * (call_watch_monitoring.c); below 3.12 through a PEP 523 frame hook that
 * gives way to a C profile function once a thread goes deep
 * (call_watch_legacy.c).  The program sees the recursion it sees without
 * pyprof.
 *
 * Requires the GIL.
 */
#ifndef PYPROF_CALL_WATCH_H
#define PYPROF_CALL_WATCH_H

#include <Python.h>

/* Statically allocated by the feature that watches or wraps (kept by
 * pointer, and may outlive any session: the hooks must cope with no
 * session running, typically by doing nothing). */
typedef struct pyprof_call_hooks {
    /* Before the call; returns a token for `exit`.  Must not raise. */
    void *(*enter)(PyObject *func);
    /* After the call, whether it returned or raised; the pending
     * exception, if any, is saved and restored around it. */
    void (*exit)(PyObject *func, void *token);
    /* Non-zero: `exit` must see the call as the caller sees it once it
     * has returned, the frame's locals released (pyprof heap's census of
     * what the call left).  Only below 3.12 can the backend release them
     * at the end of the frame; from 3.12 such hooks are not watched
     * (pyprof_call_watch_add returns 0: the caller wraps). */
    int frame_released;
} pyprof_call_hooks_t;

/* Watch every call of `func` (borrowed; a strong reference is kept until
 * pyprof_call_watch_remove): hooks->enter when it starts, hooks->exit
 * when it returns or raises, in the thread running it.  Returns 1 when
 * func is watched (the decorator returns it unchanged), 0 when it cannot
 * be (not a plain Python function, its code already watched for other
 * hooks, no sys.monitoring tool id free, below 3.12 another tool's frame
 * hook set, from 3.12 hooks->frame_released: the caller wraps it),
 * -1 with an exception set. */
int pyprof_call_watch_add(PyObject *func, const pyprof_call_hooks_t *hooks);

/* Stop watching the functions of `hooks`; calls of them still running get
 * their exit now.  Never raises. */
void pyprof_call_watch_remove(const pyprof_call_hooks_t *hooks);

#endif
