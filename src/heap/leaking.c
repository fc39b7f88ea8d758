/* leaking.c - objects without referrers among the tracked objects.
 *
 * objgraph builds a set of every id and calls gc.get_referents() on every
 * object in Python; here one tp_traverse per object (what
 * gc.get_referents() calls) clears a mark in a pointer map.  The
 * snapshot's array is plain C memory, so it refers to nothing the
 * collector can see.
 */
#include "leaking.h"

#include "../core/ptrmap.h"
#include "walk.h"

/* Marks: 1 = no referrer seen yet, 0 = referred to. */
static int
unmark_referent(PyObject *referent, void *arg)
{
    pyprof_ptrmap_t *marks = arg;
    uint32_t mark;
    if (referent != NULL && pyprof_ptrmap_get(marks, referent, &mark) &&
        mark != 0) {
        /* Replacing an existing key never allocates. */
        (void)pyprof_ptrmap_set(marks, referent, 0);
    }
    return 0;
}

PyObject *
pyprof_heap_leaking_objects(PyObject *objects)
{
    PyObject **all = NULL;
    Py_ssize_t nall = 0;
    PyObject *candidates = NULL;
    PyObject *result = NULL;
    pyprof_ptrmap_t marks;
    if (pyprof_ptrmap_init(&marks) < 0) {
        return PyErr_NoMemory();
    }
    PyGC_Collect();
    if (pyprof_heap_snapshot(&all, &nall) < 0) {
        goto error;
    }
    if (objects != NULL) {
        candidates = PySequence_List(objects);
        if (candidates == NULL) {
            goto error;
        }
    }
    Py_ssize_t ncandidates = candidates != NULL
                                 ? PyList_GET_SIZE(candidates) : nall;
    for (Py_ssize_t i = 0; i < ncandidates; i++) {
        PyObject *obj = candidates != NULL ? PyList_GET_ITEM(candidates, i)
                                           : all[i];
        if (pyprof_ptrmap_set(&marks, obj, 1) < 0) {
            PyErr_NoMemory();
            goto error;
        }
    }
    for (Py_ssize_t i = 0; i < nall; i++) {
        PyObject *obj = all[i];
        if (obj == objects || obj == candidates) {
            continue;
        }
        traverseproc traverse = Py_TYPE(obj)->tp_traverse;
        if (traverse != NULL) {
            traverse(obj, unmark_referent, &marks);
        }
    }
    result = PyList_New(0);
    if (result == NULL) {
        goto error;
    }
    for (Py_ssize_t i = 0; i < ncandidates; i++) {
        PyObject *obj = candidates != NULL ? PyList_GET_ITEM(candidates, i)
                                           : all[i];
        uint32_t mark;
        if (pyprof_ptrmap_get(&marks, obj, &mark) && mark == 1) {
            /* A candidate listed twice stays twice, as in objgraph. */
            if (PyList_Append(result, obj) < 0) {
                Py_CLEAR(result);
                goto error;
            }
        }
    }
error:
    pyprof_heap_snapshot_free(all, nall);
    Py_XDECREF(candidates);
    pyprof_ptrmap_free(&marks);
    return result;
}
