/* memory_wrapper.h - a decorator's wrapper: call a function between two
 * hooks.
 *
 * The `profile` decorator of `pyprof mprof run` (FUNC records) and
 * memory_usage() wrap functions with it.  The wrapper looks like the
 * function (functools.update_wrapper copies __name__, __qualname__,
 * __doc__, __module__, __wrapped__) and binds as a method does, so it can
 * decorate methods too.
 */
#ifndef PYPROF_MEMORY_WRAPPER_H
#define PYPROF_MEMORY_WRAPPER_H

#include <Python.h>

/* Statically allocated by the feature that wraps (the wrapper keeps a
 * pointer, and may outlive any session: the hooks must cope with no
 * session running, typically by doing nothing). */
typedef struct pyprof_call_hooks {
    /* Before the call; returns a token for `exit`.  Must not raise. */
    void *(*enter)(PyObject *func);
    /* After the call, whether it returned or raised; the pending
     * exception, if any, is saved and restored around it. */
    void (*exit)(PyObject *func, void *token);
} pyprof_call_hooks_t;

/* A new reference to a wrapper of `func` calling `hooks` around each
 * call, or NULL with an exception set. */
PyObject *pyprof_call_wrapper_new(PyObject *func,
                                  const pyprof_call_hooks_t *hooks);

#endif
