/* nullhook.c - the floor of a line profiler's hooks, for bench/run.py.
 *
 * Built by run.py at bench time against each Python it measures (not part
 * of pyprof).  Two hooks that do nothing:
 *   settrace()        PyEval_SetTrace with a C function that only returns
 *                     (every frame traced, as kernprof and pyprof lines do
 *                     below 3.12);
 *   line_callback     3.12+: a METH_FASTCALL callback that only returns,
 *                     for sys.monitoring LINE events enabled on one code
 *                     object (what pyprof lines does from 3.12).
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

static PyObject *
line_callback(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"settrace", settrace, METH_NOARGS, NULL},
    {"unsettrace", unsettrace, METH_NOARGS, NULL},
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
