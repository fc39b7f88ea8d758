/* walk.c - visit every object the cyclic garbage collector tracks.
 *
 * From 3.12 PyUnstable_GC_VisitObjects walks the generation lists in
 * place.  Below 3.12 the lists are reachable only through internal
 * headers, which this project does not use, so the walk asks gc for its
 * list (gc.get_objects(), built in C: one pointer and one incref per
 * object) and drops it at once; no Python-level loop runs either way.
 * Both routes see the objects gc.get_objects() returns, in its order.
 */
#include "walk.h"

#include <stdlib.h>

#include "../engine/compat.h"

#if PYPROF_HAVE_GC_VISIT_OBJECTS

typedef struct {
    pyprof_heap_visit_t visit;
    void *arg;
} walk_state_t;

static int
walk_trampoline(PyObject *obj, void *arg)
{
    walk_state_t *state = arg;
    /* PyUnstable_GC_VisitObjects goes on while the callback returns 1. */
    return state->visit(obj, state->arg) == 0;
}

int
pyprof_heap_walk(pyprof_heap_visit_t visit, void *arg)
{
    walk_state_t state = {visit, arg};
    PyUnstable_GC_VisitObjects(walk_trampoline, &state);
    return 0;
}

#else

int
pyprof_heap_walk(pyprof_heap_visit_t visit, void *arg)
{
    PyObject *gc = PyImport_ImportModule("gc");
    if (gc == NULL) {
        return -1;
    }
    PyObject *list = PyObject_CallMethod(gc, "get_objects", NULL);
    Py_DECREF(gc);
    if (list == NULL) {
        return -1;
    }
    if (!PyList_Check(list)) {
        Py_DECREF(list);
        PyErr_SetString(PyExc_TypeError, "gc.get_objects() is not a list");
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
        if (visit(PyList_GET_ITEM(list, i), arg) != 0) {
            break;
        }
    }
    Py_DECREF(list);
    return 0;
}

#endif

typedef struct {
    PyObject **items;   /* owned, new references */
    Py_ssize_t count;
    Py_ssize_t capacity;
    int out_of_memory;
} snapshot_t;

static int
snapshot_visit(PyObject *obj, void *arg)
{
    snapshot_t *snap = arg;
    if (snap->count == snap->capacity) {
        Py_ssize_t capacity = snap->capacity ? snap->capacity * 2 : 4096;
        PyObject **items = realloc(snap->items,
                                   (size_t)capacity * sizeof(PyObject *));
        if (items == NULL) {
            snap->out_of_memory = 1;
            return 1;
        }
        snap->items = items;
        snap->capacity = capacity;
    }
    snap->items[snap->count++] = Py_NewRef(obj);
    return 0;
}

int
pyprof_heap_snapshot(PyObject ***items, Py_ssize_t *count)
{
    snapshot_t snap = {NULL, 0, 0, 0};
    if (pyprof_heap_walk(snapshot_visit, &snap) < 0 || snap.out_of_memory) {
        pyprof_heap_snapshot_free(snap.items, snap.count);
        if (!PyErr_Occurred()) {
            PyErr_NoMemory();
        }
        return -1;
    }
    *items = snap.items;
    *count = snap.count;
    return 0;
}

void
pyprof_heap_snapshot_free(PyObject **items, Py_ssize_t count)
{
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_DECREF(items[i]);
    }
    free(items);
}
