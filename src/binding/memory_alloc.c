/* memory_alloc.c - the allocation hooks seen from Python.
 *
 * Private functions (underscore names) that expose alloc_hook.h as it is,
 * so the tests can compare its per-line counters with tracemalloc's on the
 * same program, and check pyprof_alloc_site_of_object on real objects.
 */
#include <Python.h>

#include "../engine/alloc_hook.h"
#include "memory_binding.h"

static PyObject *
alloc_start(PyObject *module, PyObject *unused)
{
    if (pyprof_alloc_start() < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
alloc_stop(PyObject *module, PyObject *unused)
{
    pyprof_alloc_stop();
    Py_RETURN_NONE;
}

static int
append_site(PyCodeObject *code, int lineno, const pyprof_alloc_counts_t *c,
            void *ctx)
{
    PyObject *list = ctx;
    PyObject *filename = code != NULL ? code->co_filename : Py_None;
    PyObject *item = Py_BuildValue("(OiKKK)", filename, lineno,
                                   (unsigned long long)c->allocated,
                                   (unsigned long long)c->freed,
                                   (unsigned long long)c->blocks);
    if (item == NULL) {
        return -1;
    }
    int rc = PyList_Append(list, item);
    Py_DECREF(item);
    return rc;
}

/* _alloc_sites() -> [(filename, lineno, allocated, freed, blocks)]: a new
 * list of every site's counters (filename None for no Python frame). */
static PyObject *
alloc_sites(PyObject *module, PyObject *unused)
{
    PyObject *list = PyList_New(0);
    if (list == NULL) {
        return NULL;
    }
    if (pyprof_alloc_foreach_site(append_site, list) != 0) {
        Py_DECREF(list);
        return NULL;
    }
    return list;
}

/* _alloc_site_of(obj) -> (filename, lineno) or None. */
static PyObject *
alloc_site_of(PyObject *module, PyObject *obj)
{
    PyCodeObject *code;
    int lineno;
    if (!pyprof_alloc_site_of_object(obj, &code, &lineno)) {
        Py_RETURN_NONE;
    }
    return Py_BuildValue("(Oi)", code->co_filename, lineno);
}

static PyMethodDef alloc_methods[] = {
    {"_alloc_start", alloc_start, METH_NOARGS,
     "Start tracking allocations (nested calls are counted)."},
    {"_alloc_stop", alloc_stop, METH_NOARGS,
     "Undo one _alloc_start(); the last drops every record."},
    {"_alloc_sites", alloc_sites, METH_NOARGS,
     "[(filename, lineno, allocated, freed, blocks)] per allocation site."},
    {"_alloc_site_of", alloc_site_of, METH_O,
     "(filename, lineno) where a live object was allocated, or None."},
    {NULL, NULL, 0, NULL},
};

int
pyprof_memory_alloc_add_functions(PyObject *module)
{
    return PyModule_AddFunctions(module, alloc_methods);
}
