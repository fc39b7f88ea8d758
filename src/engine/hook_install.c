/* hook_install.c - see hook_install.h. */
#include "hook_install.h"

PyObject *
pyprof_monitoring_module(void)
{
    PyObject *sys = PyImport_ImportModule("sys");
    if (sys == NULL) {
        return NULL;
    }
    PyObject *monitoring = PyObject_GetAttrString(sys, "monitoring");
    Py_DECREF(sys);
    return monitoring;
}

int
pyprof_monitoring_claim_tool(PyObject *monitoring, const int *ids, size_t n,
                             const char *name, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        PyObject *res = PyObject_CallMethod(monitoring, "use_tool_id", "is",
                                            ids[i], name);
        if (res != NULL) {
            Py_DECREF(res);
            return ids[i];
        }
        if (!PyErr_ExceptionMatches(PyExc_ValueError)) {
            return -1;
        }
        PyErr_Clear();
    }
    int low = ids[0], high = ids[0];
    for (size_t i = 1; i < n; i++) {
        low = ids[i] < low ? ids[i] : low;
        high = ids[i] > high ? ids[i] : high;
    }
    PyErr_Format(PyExc_RuntimeError,
                 "no free sys.monitoring tool id for %s (ids %d-%d are taken "
                 "by other tools)",
                 what, low, high);
    return -1;
}

int
pyprof_threading_set_hook(const char *setter, PyObject *func)
{
    PyObject *threading = PyImport_ImportModule("threading");
    if (threading == NULL) {
        return -1;
    }
    PyObject *res = PyObject_CallMethod(threading, setter, "O", func);
    Py_DECREF(threading);
    if (res == NULL) {
        return -1;
    }
    Py_DECREF(res);
    return 0;
}

int
pyprof_threading_imported(void)
{
    /* Interned once and kept for the process; protected by the GIL. */
    static PyObject *name;
    if (name == NULL && (name = PyUnicode_InternFromString("threading"))
                            == NULL) {
        PyErr_Clear();
        return 0;
    }
    PyObject *module = PyImport_GetModule(name);   /* new reference */
    if (module == NULL) {
        PyErr_Clear();
        return 0;
    }
    Py_DECREF(module);
    return 1;
}

#if !PYPROF_USE_MONITORING
void
pyprof_threads_swap_hook(PyThreadState *skip, int trace, Py_tracefunc from,
                         Py_tracefunc to)
{
    PyInterpreterState *interp = PyThreadState_Get()->interp;
    for (PyThreadState *t = PyInterpreterState_ThreadHead(interp); t != NULL;
         t = PyThreadState_Next(t)) {
        if (t == skip || (trace ? t->c_tracefunc : t->c_profilefunc) != from) {
            continue;
        }
        int rc = trace ? _PyEval_SetTrace(t, to, NULL)
                       : _PyEval_SetProfile(t, to, NULL);
        if (rc < 0) {
            PyErr_Clear();
        }
    }
}
#endif
