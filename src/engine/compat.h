/* compat.h - every CPython version difference the engine depends on.
 *
 * All PY_VERSION_HEX tests live here; the rest of the engine calls these
 * accessors, which return the same ownership on every version.
 */
#ifndef PYPROF_COMPAT_H
#define PYPROF_COMPAT_H

#include <Python.h>
#include <frameobject.h>

/* 3.12+: PEP 669 sys.monitoring; below: PyEval_SetProfile. */
#if PY_VERSION_HEX >= 0x030C0000
#define PYPROF_USE_MONITORING 1
#else
#define PYPROF_USE_MONITORING 0
#endif

/* The code object a frame runs.  Borrowed: the frame keeps it alive. */
static inline PyCodeObject *
pyprof_frame_code(PyFrameObject *frame)
{
#if PY_VERSION_HEX >= 0x030B0000
    PyCodeObject *code = PyFrame_GetCode(frame); /* new reference */
    Py_DECREF(code);
    return code;
#else
    return frame->f_code;
#endif
}

/* Method resolution the way cProfile names built-in methods: the
 * attribute `name` found on `type`'s MRO without running descriptors or
 * __getattr__ hooks (PyObject_GetAttr could run user code inside a
 * profiler hook).  Borrowed reference or NULL, no exception set.
 * _PyType_Lookup is underscore-named but exported on 3.10-3.13; it is the
 * lookup cProfile itself uses. */
static inline PyObject *
pyprof_type_lookup(PyTypeObject *type, PyObject *name)
{
    return _PyType_Lookup(type, name);
}

#if !PYPROF_USE_MONITORING
/* Non-zero when the calling thread already has a C-level profile function
 * (cProfile, a debugger); PyThreadState's fields are public below 3.12. */
static inline int
pyprof_thread_profile_func_set(PyThreadState *tstate, Py_tracefunc ours)
{
    return tstate->c_profilefunc != NULL && tstate->c_profilefunc != ours;
}
#endif

/* The heap census walks the collector's object lists.  3.12 added
 * PyUnstable_GC_VisitObjects, which visits every tracked object without
 * building anything; below 3.12 no public (or PyUnstable_) API reaches the
 * generation lists (they live in the interpreter's internal state), so
 * src/heap/walk.c falls back on gc.get_objects(): one list, built in C,
 * walked in C and dropped at once -- the same objects, in the same order,
 * that objgraph counts. */
#if PY_VERSION_HEX >= 0x030C0000
#define PYPROF_HAVE_GC_VISIT_OBJECTS 1
#else
#define PYPROF_HAVE_GC_VISIT_OBJECTS 0
#endif

#endif
