/* lines_type.h - pyprof.LineProfiler and pyprof.profile. */
#ifndef PYPROF_LINES_TYPE_H
#define PYPROF_LINES_TYPE_H

#include <Python.h>

/* Create the LineProfiler heap type for `module`.  Returns a new
 * reference, or NULL with an exception set. */
PyTypeObject *pyprof_lines_type_create(PyObject *module);

/* The `profile` builtin kernprof injects, also pyprof.profile:
 * profile(func) registers func's code with the line profiler that is
 * recording (if any) and returns func itself, unwrapped.  A
 * PyCFunction-compatible METH_O function. */
PyObject *pyprof_lines_profile_decorator(PyObject *module, PyObject *func);

#endif
