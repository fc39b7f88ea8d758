/* call_watch_monitoring.c - the call watch's backend from 3.12 (see
 * call_watch_backend.h).
 *
 * One sys.monitoring tool (4, else 3, else 5): PY_START and PY_RETURN
 * local to each watched code object, PY_UNWIND global (it cannot be
 * local) for its calls that raise.  The callbacks cost the program no C
 * recursion level and no C stack of their own per Python call.
 */
#include "compat.h"

#if PYPROF_USE_MONITORING

#include "call_watch_backend.h"
#include "hook_install.h"

/* The claimed tool.  Global because sys.monitoring's callbacks carry no
 * context; protected by the GIL. */
static struct {
    int tool_id;            /* -1 when no tool is claimed */
    long start_event, return_event, unwind_event;
} tool = {.tool_id = -1};

/* PY_START (code, offset): a frame starts. */
static PyObject *
on_start(PyObject *unused, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs >= 1) {
        pyprof_call_watch_push(args[0]);
    }
    Py_RETURN_NONE;
}

/* PY_RETURN (code, offset, value) and PY_UNWIND (code, offset, exc): a
 * frame ends. */
static PyObject *
on_leave(PyObject *unused, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs >= 1) {
        pyprof_call_watch_pop(args[0], NULL, NULL);
    }
    Py_RETURN_NONE;
}

static PyMethodDef start_def = {
    "_pyprof_watch_start", (PyCFunction)(void (*)(void))on_start,
    METH_FASTCALL, NULL};
static PyMethodDef leave_def = {
    "_pyprof_watch_leave", (PyCFunction)(void (*)(void))on_leave,
    METH_FASTCALL, NULL};

/* sys.monitoring.events.<name>, or -1 with an exception set. */
static long
event_bit(PyObject *monitoring, const char *name)
{
    PyObject *events = PyObject_GetAttrString(monitoring, "events");
    PyObject *bit = events != NULL ? PyObject_GetAttrString(events, name)
                                   : NULL;
    Py_XDECREF(events);
    long value = bit != NULL ? PyLong_AsLong(bit) : -1;
    Py_XDECREF(bit);
    return value;
}

/* register_callback(tool, event, callback or None).  0, or -1 with an
 * exception set. */
static int
register_callback(PyObject *monitoring, long event, PyMethodDef *def)
{
    PyObject *callback = def != NULL ? PyCFunction_New(def, NULL)
                                     : Py_NewRef(Py_None);
    if (callback == NULL) {
        return -1;
    }
    PyObject *res = PyObject_CallMethod(monitoring, "register_callback",
                                        "ilO", tool.tool_id, event,
                                        callback);
    Py_DECREF(callback);
    Py_XDECREF(res);
    return res != NULL ? 0 : -1;
}

/* Claim a tool id and register the callbacks, given sys.monitoring. */
static int
claim_tool(PyObject *monitoring)
{
    static const int ids[] = {4, 3, 5};
    int tool_id = pyprof_monitoring_claim_tool(monitoring, ids, 3,
                                               "pyprof-calls",
                                               "watching calls");
    if (tool_id < 0) {
        if (PyErr_ExceptionMatches(PyExc_RuntimeError)) {
            PyErr_Clear();
            return 0;
        }
        return -1;
    }
    tool.tool_id = tool_id;
    tool.start_event = event_bit(monitoring, "PY_START");
    tool.return_event = event_bit(monitoring, "PY_RETURN");
    tool.unwind_event = event_bit(monitoring, "PY_UNWIND");
    if (tool.start_event < 0 || tool.return_event < 0
        || tool.unwind_event < 0
        || register_callback(monitoring, tool.start_event, &start_def) < 0
        || register_callback(monitoring, tool.return_event, &leave_def) < 0
        || register_callback(monitoring, tool.unwind_event, &leave_def) < 0) {
        return -1;
    }
    PyObject *res = PyObject_CallMethod(monitoring, "set_events", "il",
                                        tool.tool_id, tool.unwind_event);
    Py_XDECREF(res);
    return res != NULL ? 1 : -1;
}

int
pyprof_call_watch_backend_claim(void)
{
    PyObject *monitoring = pyprof_monitoring_module();
    if (monitoring == NULL) {
        return -1;
    }
    int rc = claim_tool(monitoring);
    Py_DECREF(monitoring);
    return rc;  /* on anything but 1 the caller releases */
}

/* PY_RETURN comes while the frame still holds its locals, and no public
 * API releases them. */
int
pyprof_call_watch_backend_releases_frames(void)
{
    return 0;
}

int
pyprof_call_watch_backend_watch(PyObject *code)
{
    PyObject *monitoring = pyprof_monitoring_module();
    if (monitoring == NULL) {
        return -1;
    }
    PyObject *res = PyObject_CallMethod(monitoring, "set_local_events",
                                        "iOl", tool.tool_id, code,
                                        tool.start_event | tool.return_event);
    Py_DECREF(monitoring);
    Py_XDECREF(res);
    return res != NULL ? 0 : -1;
}

void
pyprof_call_watch_backend_unwatch(PyObject *code)
{
    PyObject *monitoring = pyprof_monitoring_module();
    if (monitoring == NULL) {
        PyErr_Clear();
        return;
    }
    PyObject *res = PyObject_CallMethod(monitoring, "set_local_events",
                                        "iOi", tool.tool_id, code, 0);
    Py_XDECREF(res);
    PyErr_Clear();
    Py_DECREF(monitoring);
}

void
pyprof_call_watch_backend_release(void)
{
    if (tool.tool_id < 0) {
        return;
    }
    PyObject *monitoring = pyprof_monitoring_module();
    if (monitoring == NULL) {
        PyErr_Clear();
        tool.tool_id = -1;
        return;
    }
    PyObject *res = PyObject_CallMethod(monitoring, "set_events", "ii",
                                        tool.tool_id, 0);
    Py_XDECREF(res);
    PyErr_Clear();
    long events[] = {tool.start_event, tool.return_event,
                     tool.unwind_event};
    for (size_t i = 0; i < 3; i++) {
        if (events[i] > 0 && register_callback(monitoring, events[i],
                                               NULL) < 0) {
            PyErr_Clear();
        }
    }
    res = PyObject_CallMethod(monitoring, "free_tool_id", "i", tool.tool_id);
    Py_XDECREF(res);
    PyErr_Clear();
    Py_DECREF(monitoring);
    tool.tool_id = -1;
}

#endif
