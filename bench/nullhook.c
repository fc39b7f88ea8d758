/* nullhook.c - the floor of a line profiler's hooks, for bench/run.py.
 *
 * Built by run.py at bench time against each Python it measures (not part
 * of pyprof).  Two hooks that do nothing:
 *   settrace()        PyEval_SetTrace with a C function that only returns
 *                     (every frame traced, as kernprof and pyprof lines do
 *                     below 3.12);
 *   line_callback     3.12+: a METH_FASTCALL callback that only returns,
 *                     for sys.monitoring LINE events enabled on one code
 *                     object (what pyprof lines does from 3.12);
 *   hook_allocators() PyMem_SetAllocator on the RAW, MEM and OBJ domains
 *                     with wrappers that only call the allocator saved
 *                     before them (the floor of an allocation hook, as
 *                     pyprof memory and tracemalloc install one).
 * And the floor of a function profiler (`pyprof run`, cProfile):
 *   setprofile()      PyEval_SetProfile with a C function that only
 *                     returns (pyprof run's hook below 3.12);
 *   line_callback     also serves as the do-nothing callback of the
 *                     sys.monitoring events pyprof run uses from 3.12
 *                     (bench/run.py's null-profile tool registers it).
 */
#include <Python.h>

static int
null_trace(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    return 0;
}

static PyObject *
settrace(PyObject *module, PyObject *unused)
{
    PyEval_SetTrace(null_trace, NULL);
    Py_RETURN_NONE;
}

static PyObject *
unsettrace(PyObject *module, PyObject *unused)
{
    PyEval_SetTrace(NULL, NULL);
    Py_RETURN_NONE;
}

static int
null_profile(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    return 0;
}

static PyObject *
setprofile(PyObject *module, PyObject *unused)
{
    PyEval_SetProfile(null_profile, NULL);
    Py_RETURN_NONE;
}

static PyObject *
unsetprofile(PyObject *module, PyObject *unused)
{
    PyEval_SetProfile(NULL, NULL);
    Py_RETURN_NONE;
}

static PyObject *
line_callback(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_RETURN_NONE;
}

/* The allocators saved by hook_allocators, one per domain (the wrappers'
 * context).  Static: installed once, for the rest of the process. */
static PyMemAllocatorEx saved[3];

static void *
null_malloc(void *ctx, size_t size)
{
    PyMemAllocatorEx *below = ctx;
    return below->malloc(below->ctx, size);
}

static void *
null_calloc(void *ctx, size_t nelem, size_t elsize)
{
    PyMemAllocatorEx *below = ctx;
    return below->calloc(below->ctx, nelem, elsize);
}

static void *
null_realloc(void *ctx, void *ptr, size_t size)
{
    PyMemAllocatorEx *below = ctx;
    return below->realloc(below->ctx, ptr, size);
}

static void
null_free(void *ctx, void *ptr)
{
    PyMemAllocatorEx *below = ctx;
    below->free(below->ctx, ptr);
}

static PyObject *
hook_allocators(PyObject *module, PyObject *unused)
{
    static const PyMemAllocatorDomain domains[3] = {
        PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ};
    for (int d = 0; d < 3; d++) {
        PyMem_GetAllocator(domains[d], &saved[d]);
        PyMemAllocatorEx hook = {&saved[d], null_malloc, null_calloc,
                                 null_realloc, null_free};
        PyMem_SetAllocator(domains[d], &hook);
    }
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"hook_allocators", hook_allocators, METH_NOARGS, NULL},
    {"settrace", settrace, METH_NOARGS, NULL},
    {"unsettrace", unsettrace, METH_NOARGS, NULL},
    {"setprofile", setprofile, METH_NOARGS, NULL},
    {"unsetprofile", unsetprofile, METH_NOARGS, NULL},
    {"line_callback", (PyCFunction)(void (*)(void))line_callback,
     METH_FASTCALL, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_pyprof_nullhook", NULL, -1, methods,
};

PyMODINIT_FUNC
PyInit__pyprof_nullhook(void)
{
    return PyModule_Create(&module_def);
}
