/* memory_wrapper.h - a decorator's wrapper: call a function between two
 * hooks.
 *
 * The decorators of `pyprof mprof run` (FUNC records), `pyprof heap` and
 * pyprof.memory_profile wrap with it what engine/call_watch.h cannot
 * watch unwrapped.  The wrapper looks like the function
 * (functools.update_wrapper copies __name__, __qualname__, __doc__,
 * __module__, __wrapped__) and binds as a method does, so it can decorate
 * methods too.  It is called through vectorcall, which adds no recursion
 * count of its own below 3.12.
 */
#ifndef PYPROF_MEMORY_WRAPPER_H
#define PYPROF_MEMORY_WRAPPER_H

#include <Python.h>

#include "../engine/call_watch.h"   /* pyprof_call_hooks_t */

/* A new reference to a wrapper of `func` calling `hooks` around each
 * call, or NULL with an exception set. */
PyObject *pyprof_call_wrapper_new(PyObject *func,
                                  const pyprof_call_hooks_t *hooks);

#endif
