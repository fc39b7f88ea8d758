/* tracer_monitoring.c - the hook from 3.12: PEP 669 sys.monitoring.
 *
 * C callbacks (METH_FASTCALL builtins) for the events cProfile itself uses
 * on 3.12+: PY_START/PY_RESUME/PY_THROW begin a Python frame, PY_RETURN/
 * PY_YIELD/PY_UNWIND end one; CALL begins a C function (PyCFunction, or a
 * method descriptor called with its self), C_RETURN/C_RAISE end it.
 * Monitoring is process-wide, so every thread is profiled, including those
 * already running.  We take tool id 3, else 4, else PROFILER (2): a
 * cProfile the program starts (which insists on PROFILER) keeps working.
 * Every profiler recording gets every event.
 */
#include "compat.h"

#if PYPROF_USE_MONITORING

#include "hook_install.h"
#include "profiler_internal.h"

/* sys.monitoring.MISSING (no arg0 for a CALL).  Set while a profiler is
 * enabled; protected by the GIL. */
static PyObject *missing_arg = NULL;

/* The tool id the callbacks are registered for, or -1.  Protected by the
 * GIL. */
static int tracer_tool_id = -1;

/* Each callback hands its event to every profiler recording.  The common
 * case (pyprof run, a lone Profile on the wall clock: pyprof_straight) is
 * compiled straight, `straight` a constant 1: no loop, no test of the
 * clock's source; anything else goes through the loop (X_all), a function
 * of its own, so the callback's own code holds no loop state (fewer
 * registers saved per event). */

static inline __attribute__((always_inline)) void
py_start_one(pyprof_profiler_t *prof, PyObject *code, int straight)
{
    pyprof_thread_t *thread = pyprof_thread_current(prof);
    if (thread != NULL) {
        pyprof_on_enter_as(prof, thread, code, code, NULL, straight);
    }
}

static PYPROF_SLOW_PATH PyObject *
py_start_all(PyObject *code)
{
    for (int i = 0; i < pyprof_nactive; i++) {
        py_start_one(pyprof_active[i], code, 0);
    }
    Py_RETURN_NONE;
}

static PyObject *
on_py_start(PyObject *unused, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1) {
        Py_RETURN_NONE;
    }
    pyprof_profiler_t *prof = pyprof_straight;
    if (prof == NULL) {
        return py_start_all(args[0]);
    }
    py_start_one(prof, args[0], 1);
    Py_RETURN_NONE;
}

static inline __attribute__((always_inline)) void
py_return_one(pyprof_profiler_t *prof, PyObject *code, int straight)
{
    pyprof_thread_t *thread = pyprof_thread_current(prof);
    if (thread != NULL) {
        pyprof_on_exit_as(prof, thread, code, straight);
    }
}

static PYPROF_SLOW_PATH PyObject *
py_return_all(PyObject *code)
{
    for (int i = 0; i < pyprof_nactive; i++) {
        py_return_one(pyprof_active[i], code, 0);
    }
    Py_RETURN_NONE;
}

static PyObject *
on_py_return(PyObject *unused, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1) {
        Py_RETURN_NONE;
    }
    pyprof_profiler_t *prof = pyprof_straight;
    if (prof == NULL) {
        return py_return_all(args[0]);
    }
    py_return_one(prof, args[0], 1);
    Py_RETURN_NONE;
}

/* The key of a C callable, or NULL if it is not one cProfile records.
 * *self_arg gets the descriptor's object for method descriptors.  Exact
 * types first: CALL fires for every call, most of them of Python
 * functions (whose PY_START is what counts), and PyCFunction_Check on
 * anything but a PyCFunction walks the type's MRO. */
static inline const void *
c_callable_key(PyObject *callable, PyObject *arg0, PyObject **self_arg)
{
    PyTypeObject *type = Py_TYPE(callable);
    if (type == &PyFunction_Type) {
        return NULL;
    }
    if (type == &PyMethodDescr_Type) {
        if (arg0 == missing_arg) {
            return NULL;
        }
        *self_arg = arg0;
        return pyprof_c_key(((PyMethodDescrObject *)callable)->d_method);
    }
    if (PyCFunction_Check(callable)) {
        *self_arg = NULL;
        return pyprof_c_key(((PyCFunctionObject *)callable)->m_ml);
    }
    return NULL;
}

static inline __attribute__((always_inline)) void
call_one(pyprof_profiler_t *prof, const void *key, PyObject *callable,
         PyObject *self_arg, int straight)
{
    pyprof_thread_t *thread = prof->builtins ? pyprof_thread_current(prof)
                                             : NULL;
    if (thread != NULL) {
        pyprof_on_enter_as(prof, thread, key, callable, self_arg, straight);
    }
}

static PYPROF_SLOW_PATH PyObject *
call_all(const void *key, PyObject *callable, PyObject *self_arg)
{
    for (int i = 0; i < pyprof_nactive; i++) {
        call_one(pyprof_active[i], key, callable, self_arg, 0);
    }
    Py_RETURN_NONE;
}

static PyObject *
on_call(PyObject *unused, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *self_arg = NULL;
    const void *key = nargs >= 4 ? c_callable_key(args[2], args[3], &self_arg)
                                 : NULL;
    if (key == NULL) {
        Py_RETURN_NONE;
    }
    pyprof_profiler_t *prof = pyprof_straight;
    if (prof == NULL) {
        return call_all(key, args[2], self_arg);
    }
    call_one(prof, key, args[2], self_arg, 1);
    Py_RETURN_NONE;
}

static inline __attribute__((always_inline)) void
c_return_one(pyprof_profiler_t *prof, const void *key, int straight)
{
    pyprof_thread_t *thread = prof->builtins ? pyprof_thread_current(prof)
                                             : NULL;
    if (thread != NULL) {
        pyprof_on_exit_as(prof, thread, key, straight);
    }
}

static PYPROF_SLOW_PATH PyObject *
c_return_all(const void *key)
{
    for (int i = 0; i < pyprof_nactive; i++) {
        c_return_one(pyprof_active[i], key, 0);
    }
    Py_RETURN_NONE;
}

static PyObject *
on_c_return(PyObject *unused, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *self_arg = NULL;
    const void *key = nargs >= 4 ? c_callable_key(args[2], args[3], &self_arg)
                                 : NULL;
    if (key == NULL) {
        Py_RETURN_NONE;
    }
    pyprof_profiler_t *prof = pyprof_straight;
    if (prof == NULL) {
        return c_return_all(key);
    }
    c_return_one(prof, key, 1);
    Py_RETURN_NONE;
}

static PyMethodDef callback_defs[] = {
    {"_pyprof_py_start", (PyCFunction)(void (*)(void))on_py_start,
     METH_FASTCALL, NULL},
    {"_pyprof_py_return", (PyCFunction)(void (*)(void))on_py_return,
     METH_FASTCALL, NULL},
    {"_pyprof_call", (PyCFunction)(void (*)(void))on_call, METH_FASTCALL,
     NULL},
    {"_pyprof_c_return", (PyCFunction)(void (*)(void))on_c_return,
     METH_FASTCALL, NULL},
};

/* Which callback (index in callback_defs) serves which event. */
static const struct {
    const char *event;
    int callback;
    int builtins_only;
} event_table[] = {
    {"PY_START", 0, 0},  {"PY_RESUME", 0, 0}, {"PY_THROW", 0, 0},
    {"PY_RETURN", 1, 0}, {"PY_YIELD", 1, 0},  {"PY_UNWIND", 1, 0},
    {"CALL", 2, 1},      {"C_RETURN", 3, 1},  {"C_RAISE", 3, 1},
};

#define NEVENTS (sizeof(event_table) / sizeof(event_table[0]))

/* 3 or 4 before PROFILER_ID (2), which cProfile insists on. */
static const int tool_ids[] = {3, 4, 2};

/* Register our callbacks (or None when `clear`) and return the event mask,
 * or -1 with an exception set. */
static long
register_callbacks(PyObject *monitoring, int tool_id, int builtins, int clear)
{
    PyObject *events = PyObject_GetAttrString(monitoring, "events");
    if (events == NULL) {
        return -1;
    }
    PyObject *callbacks[4] = {NULL, NULL, NULL, NULL};
    long mask = 0;
    for (size_t i = 0; i < 4 && !clear; i++) {
        callbacks[i] = PyCFunction_New(&callback_defs[i], NULL);
        if (callbacks[i] == NULL) {
            mask = -1;
            goto done;
        }
    }
    for (size_t i = 0; i < NEVENTS; i++) {
        if (event_table[i].builtins_only && !builtins && !clear) {
            continue;
        }
        PyObject *bit = PyObject_GetAttrString(events, event_table[i].event);
        long value = bit != NULL ? PyLong_AsLong(bit) : -1;
        Py_XDECREF(bit);
        if (value == -1 && PyErr_Occurred()) {
            mask = -1;
            goto done;
        }
        PyObject *callback = clear ? Py_None
                                   : callbacks[event_table[i].callback];
        PyObject *res = PyObject_CallMethod(monitoring, "register_callback",
                                            "ilO", tool_id, value, callback);
        if (res == NULL) {
            mask = -1;
            goto done;
        }
        Py_DECREF(res);
        mask |= value;
    }
done:
    for (size_t i = 0; i < 4; i++) {
        Py_XDECREF(callbacks[i]);
    }
    Py_DECREF(events);
    return mask;
}

int
pyprof_tracer_start(int builtins)
{
    PyObject *monitoring = pyprof_monitoring_module();
    if (monitoring == NULL) {
        return -1;
    }
    int tool_id = -1;
    if (missing_arg == NULL) {
        missing_arg = PyObject_GetAttrString(monitoring, "MISSING");
        if (missing_arg == NULL) {
            goto error;
        }
    }
    tool_id = pyprof_monitoring_claim_tool(monitoring, tool_ids, 3, "pyprof",
                                           "pyprof");
    if (tool_id < 0) {
        goto error;
    }
    long mask = register_callbacks(monitoring, tool_id, builtins, 0);
    if (mask < 0) {
        goto error;
    }
    PyObject *res = PyObject_CallMethod(monitoring, "set_events", "il",
                                        tool_id, mask);
    if (res == NULL) {
        goto error;
    }
    Py_DECREF(res);
    tracer_tool_id = tool_id;
    Py_DECREF(monitoring);
    return 0;
error:
    if (tool_id >= 0) {
        PyObject *type, *value, *traceback;
        PyErr_Fetch(&type, &value, &traceback);
        PyObject *res = PyObject_CallMethod(monitoring, "free_tool_id", "i",
                                            tool_id);
        Py_XDECREF(res);
        PyErr_Clear();
        PyErr_Restore(type, value, traceback);
    }
    Py_DECREF(monitoring);
    return -1;
}

int
pyprof_tracer_join(void)
{
    return 0;   /* monitoring covers every thread; no tool can take it */
}

void
pyprof_tracer_stop(void)
{
    if (tracer_tool_id < 0) {
        return;
    }
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyObject *monitoring = pyprof_monitoring_module();
    if (monitoring != NULL) {
        PyObject *res = PyObject_CallMethod(monitoring, "set_events", "ii",
                                            tracer_tool_id, 0);
        Py_XDECREF(res);
        register_callbacks(monitoring, tracer_tool_id, 1, 1);
        res = PyObject_CallMethod(monitoring, "free_tool_id", "i",
                                  tracer_tool_id);
        Py_XDECREF(res);
        Py_DECREF(monitoring);
    }
    PyErr_Clear(); /* interpreter shutting down: nothing more to undo */
    PyErr_Restore(type, value, traceback);
    tracer_tool_id = -1;
}

#endif
