/* walk.h - visit every object the cyclic garbage collector tracks.
 *
 * These are exactly the objects gc.get_objects() returns (and objgraph
 * counts), in the same order.  See compat.h for how each CPython version
 * is walked.  All functions require the GIL.
 */
#ifndef PYPROF_HEAP_WALK_H
#define PYPROF_HEAP_WALK_H

#include <Python.h>

/* Called once per tracked object with a borrowed reference.  Returns 0 to
 * go on, non-zero to stop the walk.  A visitor must not run Python code,
 * create or destroy objects the collector tracks, or collect: the walk may
 * be following the collector's own lists. */
typedef int (*pyprof_heap_visit_t)(PyObject *obj, void *arg);

/* Visit every tracked object.  Returns 0, or -1 with an exception set
 * when the walk could not start (out of memory below 3.12). */
int pyprof_heap_walk(pyprof_heap_visit_t visit, void *arg);

/* Every tracked object as a malloc'd array of new references, so that
 * Python code (filters, __sizeof__) can run over them safely.  Returns 0
 * and sets *items (free with pyprof_heap_snapshot_free) and *count, or -1
 * with an exception set. */
int pyprof_heap_snapshot(PyObject ***items, Py_ssize_t *count);

/* Release a snapshot: drops every reference and frees the array. */
void pyprof_heap_snapshot_free(PyObject **items, Py_ssize_t count);

#endif
