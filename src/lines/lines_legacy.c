/* lines_legacy.c - line events below 3.12: PyEval_SetTrace.
 *
 * One C trace function per thread: the thread that enables gets it
 * directly, threads started later through threading.settrace() (a
 * bootstrap that replaces itself with the C function on its first event).
 * Threads already running are not traced (no public API reaches them).
 *
 * Every frame sends 'call'; a frame whose code is not selected costs one
 * hash probe there, and its 'line' events one pointer comparison (it is
 * not the top of the thread's stack of selected frames).  Selected frames
 * are keyed by their frame object, which stays the same across a
 * generator's suspensions.
 */
#include "../engine/compat.h"

#if !PYPROF_USE_MONITORING

#include "lines_internal.h"

static int
trace_hook(PyObject *unused, PyFrameObject *frame, int what, PyObject *arg)
{
    pyprof_lines_t *lines = pyprof_lines_active;
    if (lines == NULL) {
        PyEval_SetTrace(NULL, NULL);
        return 0;
    }
    lines_thread_t *thread;
    switch (what) {
    case PyTrace_LINE:
        thread = lines_thread_current(lines);
        if (thread != NULL) {
            lines_on_line(lines, thread, frame, pyprof_frame_trace_line(frame));
        }
        break;
    case PyTrace_CALL: {
        PyObject *code = (PyObject *)pyprof_frame_code(frame);
        int64_t fn = lines_lookup(lines, code);
        if (fn < 0) {
            if (lines->nrules == 0) {
                break;
            }
            fn = pyprof_lines_select_by_rules(lines, code);
            if (fn < 0) {
                break;
            }
        }
        thread = lines_thread_current(lines);
        if (thread == NULL) {
            break;
        }
        /* A generator or coroutine that resumes goes on with the line
         * it stopped at; any other frame starts before its first line. */
        int started = (((PyCodeObject *)code)->co_flags
                       & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR))
                      && pyprof_frame_started(frame);
        lines_frame_t *top = lines_on_enter(
            lines, thread, frame, (uint32_t)fn,
            started ? PyFrame_GetLineNumber(frame) : -1);
        if (top != NULL && started && lines->wall_await
            && lines->funcs[fn].is_coroutine) {
            pyprof_lines_resume(lines, top, (PyObject *)frame);
        }
        break;
    }
    case PyTrace_RETURN:
        thread = lines_thread_current(lines);
        if (thread == NULL || thread->depth == 0) {
            break;
        }
        if (lines->wall_await
            && thread->frames[thread->depth - 1].key == (void *)frame
            && lines->funcs[thread->frames[thread->depth - 1].fn].is_coroutine
            && pyprof_frame_suspending(frame)) {
            pyprof_lines_suspend(lines, thread, (PyObject *)frame);
            break;
        }
        if (thread->frames[thread->depth - 1].key != (void *)frame
            && lines_lookup(lines, pyprof_frame_code(frame)) < 0) {
            break; /* the common case: a frame that is not selected */
        }
        lines_on_leave(lines, thread, frame);
        break;
    default:
        break;
    }
    return 0;
}

/* threading.settrace() target: runs once in each new thread and installs
 * the C function in its place. */
static PyObject *
thread_bootstrap(PyObject *unused, PyObject *args)
{
    PyEval_SetTrace(pyprof_lines_active != NULL ? trace_hook : NULL, NULL);
    Py_RETURN_NONE;
}

static PyMethodDef thread_bootstrap_def = {
    "_pyprof_lines_thread_bootstrap", thread_bootstrap, METH_VARARGS, NULL,
};

static int
set_threading_trace(PyObject *func)
{
    PyObject *threading = PyImport_ImportModule("threading");
    if (threading == NULL) {
        return -1;
    }
    PyObject *res = PyObject_CallMethod(threading, "settrace", "O", func);
    Py_DECREF(threading);
    if (res == NULL) {
        return -1;
    }
    Py_DECREF(res);
    return 0;
}

int
pyprof_lines_backend_start(pyprof_lines_t *lines)
{
    PyObject *bootstrap = PyCFunction_New(&thread_bootstrap_def, NULL);
    if (bootstrap == NULL) {
        return -1;
    }
    int rc = set_threading_trace(bootstrap);
    Py_DECREF(bootstrap);
    if (rc < 0) {
        return -1;
    }
    PyEval_SetTrace(trace_hook, NULL);
    return 0;
}

void
pyprof_lines_backend_stop(pyprof_lines_t *lines)
{
    PyEval_SetTrace(NULL, NULL);
    if (set_threading_trace(Py_None) < 0) {
        PyErr_Clear(); /* interpreter shutting down: nothing to undo */
    }
}

int
pyprof_lines_backend_watch(pyprof_lines_t *lines, PyObject *code)
{
    return 0; /* every frame is traced: nothing to switch on */
}

#endif
