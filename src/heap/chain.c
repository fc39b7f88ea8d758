/* chain.c - shortest reference chains, breadth-first, as objgraph's
 * _find_chain walks them (see chain.h).
 *
 * objgraph keeps its queue and its depth and parent maps in Python
 * objects, and has to ignore them (and its own frames) as referrers; here
 * they are C memory the collector never sees.  The neighbour list of the
 * object being expanded is the only Python object of ours that could
 * show up, and it is released before the next gc.get_referrers call.
 */
#include "chain.h"

#include "../core/ptrmap.h"

typedef struct {
    PyObject *obj;      /* new reference */
    Py_ssize_t parent;  /* index of the node it was reached from, or -1 */
    Py_ssize_t depth;
} chain_node_t;

typedef struct {
    chain_node_t *nodes;
    Py_ssize_t count;
    Py_ssize_t capacity;
    pyprof_ptrmap_t seen;   /* object -> 1: queued once */
    pyprof_ptrmap_t ignore; /* objects never queued */
} chain_walk_t;

static void
walk_free(chain_walk_t *walk)
{
    for (Py_ssize_t i = 0; i < walk->count; i++) {
        Py_DECREF(walk->nodes[i].obj);
    }
    PyMem_RawFree(walk->nodes);
    pyprof_ptrmap_free(&walk->seen);
    pyprof_ptrmap_free(&walk->ignore);
}

/* Queue `obj` reached from node `parent`.  0, or -1 with MemoryError. */
static int
enqueue(chain_walk_t *walk, PyObject *obj, Py_ssize_t parent,
        Py_ssize_t depth)
{
    if (walk->count == walk->capacity) {
        Py_ssize_t capacity = walk->capacity ? walk->capacity * 2 : 64;
        chain_node_t *nodes = PyMem_RawRealloc(
            walk->nodes, (size_t)capacity * sizeof(*nodes));
        if (nodes == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        walk->nodes = nodes;
        walk->capacity = capacity;
    }
    if (pyprof_ptrmap_set(&walk->seen, obj, 1) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    walk->nodes[walk->count++] = (chain_node_t){Py_NewRef(obj), parent,
                                                depth};
    return 0;
}

/* Fill walk->ignore from the ids in `extra_ignore`.  0, or -1. */
static int
ignore_ids(chain_walk_t *walk, PyObject *extra_ignore)
{
    if (extra_ignore == NULL) {
        return 0;
    }
    if (pyprof_ptrmap_set(&walk->ignore, extra_ignore, 1) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    PyObject *iter = PyObject_GetIter(extra_ignore);
    if (iter == NULL) {
        return -1;
    }
    PyObject *item;
    while ((item = PyIter_Next(iter)) != NULL) {
        void *address = PyLong_AsVoidPtr(item);
        Py_DECREF(item);
        if (address == NULL) {
            if (PyErr_Occurred()) {
                break;
            }
            continue;
        }
        if (pyprof_ptrmap_set(&walk->ignore, address, 1) < 0) {
            PyErr_NoMemory();
            break;
        }
    }
    Py_DECREF(iter);
    return PyErr_Occurred() ? -1 : 0;
}

/* The chain ending at node `index`, from it back to the start: a new
 * list [found, ..., obj]. */
static PyObject *
chain_from(const chain_walk_t *walk, Py_ssize_t index, int reverse)
{
    PyObject *chain = PyList_New(0);
    for (Py_ssize_t i = index; chain != NULL && i >= 0;
         i = walk->nodes[i].parent) {
        if (PyList_Append(chain, walk->nodes[i].obj) < 0) {
            Py_CLEAR(chain);
        }
    }
    if (chain != NULL && reverse && PyList_Reverse(chain) < 0) {
        Py_CLEAR(chain);
    }
    return chain;
}

PyObject *
pyprof_chain_find(PyObject *obj, PyObject *predicate, Py_ssize_t max_depth,
                  PyObject *extra_ignore, int backrefs)
{
    chain_walk_t walk = {0};
    PyObject *result = NULL, *gc = NULL, *edges = NULL;
    if (pyprof_ptrmap_init(&walk.seen) < 0
        || pyprof_ptrmap_init(&walk.ignore) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    gc = PyImport_ImportModule("gc");
    edges = gc != NULL ? PyObject_GetAttrString(
                             gc, backrefs ? "get_referrers" : "get_referents")
                       : NULL;
    if (edges == NULL || ignore_ids(&walk, extra_ignore) < 0
        || enqueue(&walk, obj, -1, 0) < 0) {
        goto done;
    }
    PyGC_Collect();
    for (Py_ssize_t head = 0; head < walk.count; head++) {
        PyObject *target = walk.nodes[head].obj;
        PyObject *answer = PyObject_CallOneArg(predicate, target);
        int found = answer != NULL ? PyObject_IsTrue(answer) : -1;
        Py_XDECREF(answer);
        if (found < 0) {
            goto done;
        }
        if (found) {
            result = chain_from(&walk, head, !backrefs);
            goto done;
        }
        Py_ssize_t depth = walk.nodes[head].depth;
        if (depth >= max_depth) {
            continue;
        }
        PyObject *neighbours = PyObject_CallOneArg(edges, target);
        PyObject *seq = neighbours != NULL
                            ? PySequence_Fast(neighbours, "not a sequence")
                            : NULL;
        Py_XDECREF(neighbours);
        if (seq == NULL) {
            goto done;
        }
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
            PyObject *source = PySequence_Fast_GET_ITEM(seq, i);
            uint32_t mark;
            if (pyprof_ptrmap_get(&walk.ignore, source, &mark)
                || pyprof_ptrmap_get(&walk.seen, source, &mark)) {
                continue;
            }
            if (enqueue(&walk, source, head, depth + 1) < 0) {
                Py_DECREF(seq);
                goto done;
            }
        }
        Py_DECREF(seq);
    }
    result = PyList_New(1);
    if (result != NULL) {
        PyList_SET_ITEM(result, 0, Py_NewRef(obj));
    }
done:
    Py_XDECREF(edges);
    Py_XDECREF(gc);
    walk_free(&walk);
    return result;
}

int
pyprof_chain_is_proper_module(PyObject *obj)
{
    PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
    if (!PyModule_Check(obj) || modules == NULL) {
        return 0;
    }
    PyObject *name = PyObject_GetAttrString(obj, "__name__");
    if (name == NULL) {
        PyErr_Clear();
        return 0;
    }
    PyObject *found = PyObject_GetItem(modules, name);
    Py_DECREF(name);
    if (found == NULL) {
        PyErr_Clear();
        return 0;
    }
    Py_DECREF(found);
    return found == obj;
}
