/* leaking.h - objects that no tracked object refers to (objgraph's
 * get_leaking_objects): candidates for reference-counting bugs in C code.
 * Requires the GIL. */
#ifndef PYPROF_HEAP_LEAKING_H
#define PYPROF_HEAP_LEAKING_H

#include <Python.h>

/* A new list of the objects of `objects` (an iterable; NULL means every
 * tracked object) that no tracked object's tp_traverse reaches, in the
 * order of `objects` (or the collector's order).  The `objects` container
 * itself is not counted as a referrer, as objgraph skips it.  Runs a full
 * collection first, as objgraph does.  NULL with an exception set on
 * failure. */
PyObject *pyprof_heap_leaking_objects(PyObject *objects);

#endif
