/* walk.c - visit every object the cyclic garbage collector tracks.
 *
 * From 3.12 PyUnstable_GC_VisitObjects walks the generation lists in
 * place; below 3.12 compat.h walks the same lists through the internal
 * headers (no public API reaches them).  Either way nothing is built and
 * no Python-level loop runs, and the objects come in gc.get_objects()'s
 * order: the order objgraph counts them in.
 */
#define PYPROF_WANT_GC_LISTS 1
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
    pyprof_gc_visit_lists(visit, arg);
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
