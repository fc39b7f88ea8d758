/* hook_install.c - see hook_install.h. */
#include "hook_install.h"

#include "hook_guard.h"

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

/* threading from sys.modules, importing nothing: a new reference, or
 * NULL (no exception set) when the program has not imported it. */
static PyObject *
threading_if_imported(void)
{
    /* Interned once and kept for the process; protected by the GIL. */
    static PyObject *name;
    if (name == NULL && (name = PyUnicode_InternFromString("threading"))
                            == NULL) {
        PyErr_Clear();
        return NULL;
    }
    PyObject *module = PyImport_GetModule(name);   /* new reference */
    if (module == NULL) {
        PyErr_Clear();
    }
    return module;
}

/* threading.<setter>(func) when threading is imported far enough to
 * have the setter (sys.modules holds it while its body runs, before
 * `setprofile` is defined).  Returns 1 when set, 0 when threading is not
 * imported, 2 when it is half imported, -1 with an exception set when the
 * call failed. */
static int
threading_set_hook_if_imported(const char *setter, PyObject *func)
{
    PyObject *threading = threading_if_imported();  /* new reference */
    if (threading == NULL) {
        return 0;
    }
    /* borrowed, no exception when missing */
    PyObject *set = PyDict_GetItemString(PyModule_GetDict(threading),
                                         setter);
    if (set == NULL) {
        Py_DECREF(threading);
        return 2;
    }
    Py_INCREF(set);
    PyObject *res = PyObject_CallOneArg(set, func);  /* new reference */
    Py_DECREF(set);
    Py_DECREF(threading);
    if (res == NULL) {
        return -1;
    }
    Py_DECREF(res);
    return 1;
}

void
pyprof_thread_hook_try(pyprof_thread_hook_t *hook)
{
    PyObject *exc = pyprof_error_take();
    int rc = threading_set_hook_if_imported(hook->setter, hook->func);
    if (rc < 0) {
        PyErr_Clear();  /* an audit hook or a patched threading refused:
                           threads started later are not seen */
    }
    hook->due = rc == 0 || rc == 2;
    hook->set = rc == 1;
    Py_ssize_t modules = pyprof_modules_size();
    hook->modules_seen = rc == 2 || modules < 0 ? -1 : modules;
    pyprof_error_restore(exc);
}

void
pyprof_thread_hook_want(pyprof_thread_hook_t *hook, const char *setter,
                        PyObject *func)
{
    hook->setter = setter;
    hook->func = func;
    hook->set = 0;
    pyprof_thread_hook_try(hook);
}

void
pyprof_thread_hook_drop(pyprof_thread_hook_t *hook)
{
    hook->due = 0;
    if (!hook->set) {
        return;
    }
    hook->set = 0;
    PyObject *exc = pyprof_error_take();
    if (threading_set_hook_if_imported(hook->setter, Py_None) < 0) {
        PyErr_Clear();  /* interpreter shutting down: nothing to undo */
    }
    pyprof_error_restore(exc);
}

#if !PYPROF_USE_MONITORING
void
pyprof_frame_hook_give_way(PyThreadState *tstate,
                           void (*each)(PyThreadState *))
{
    PyObject *exc = pyprof_error_take();
    _PyInterpreterState_SetEvalFrameFunc(tstate->interp,
                                         _PyEval_EvalFrameDefault);
    pyprof_hook_guard_own_begin();
    for (PyThreadState *t = PyInterpreterState_ThreadHead(tstate->interp);
         t != NULL; t = PyThreadState_Next(t)) {
        each(t);
    }
    pyprof_hook_guard_own_end();
    pyprof_error_restore(exc);
}

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
