/* lines_legacy.c - line events below 3.12: PyEval_SetProfile gating
 * PyEval_SetTrace.
 *
 * Tracing mode slows every instruction of every frame, so a thread traces
 * only while one of its selected frames runs: a C profile function (the
 * cheaper mode, call/return only) sees a selected frame start or resume,
 * pushes it and swaps itself for the C trace function, which then sees
 * calls, returns and lines; when the thread's last selected frame returns
 * or suspends, the profile function comes back.  Code that never reaches a selected function runs with
 * the profile hook only.  If another tool (cProfile, `pyprof run`, a
 * debugger) holds the profile hook, the trace function alone does all the
 * work ("full trace": every frame traced from enable to disable).
 *
 * The thread that enables gets the hook directly, threads started later
 * through threading.setprofile()/settrace() (a bootstrap that replaces
 * itself with the C function on its first event).  Threads already running
 * are not seen (no public API reaches them below 3.12).
 *
 * Selected frames are keyed by their frame object, which stays the same
 * across a generator's suspensions; a line event of any other frame costs
 * one pointer comparison.
 */
#include "../engine/compat.h"

#if !PYPROF_USE_MONITORING

#include "../engine/hook_install.h"
#include "lines_internal.h"

static int trace_hook(PyObject *unused, PyFrameObject *frame, int what,
                      PyObject *arg);

/* A frame starts or resumes: push it if it is selected.  Returns the
 * thread when it was pushed, else NULL. */
static lines_thread_t *
on_call(pyprof_lines_t *lines, PyFrameObject *frame)
{
    PyObject *code = (PyObject *)pyprof_frame_code(frame);
    int64_t fn = lines_lookup(lines, code);
    if (fn < 0) {
        if (lines->nrules == 0) {
            return NULL;
        }
        fn = pyprof_lines_select_by_rules(lines, code);
        if (fn < 0) {
            return NULL;
        }
    }
    lines_thread_t *thread = lines_thread_current(lines);
    if (thread == NULL) {
        return NULL;
    }
    /* A generator or coroutine that resumes goes on with the line it
     * stopped at; any other frame starts before its first line. */
    int started = (((PyCodeObject *)code)->co_flags
                   & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR))
                  && pyprof_frame_started(frame);
    lines_frame_t *top = lines_on_enter(
        lines, thread, frame, (uint32_t)fn,
        started ? PyFrame_GetLineNumber(frame) : -1);
    if (top == NULL) {
        return NULL;
    }
    if (started && lines->wall_await && lines->funcs[fn].is_coroutine) {
        pyprof_lines_resume(lines, top, (PyObject *)frame);
    }
    return thread;
}

/* A frame returns or suspends: pop it if it is ours.  Returns the thread
 * when something was popped, else NULL. */
static lines_thread_t *
on_return(pyprof_lines_t *lines, PyFrameObject *frame)
{
    lines_thread_t *thread = lines_thread_current(lines);
    if (thread == NULL || thread->depth == 0) {
        return NULL;
    }
    lines_frame_t *top = &thread->frames[thread->depth - 1];
    if (top->key != (void *)frame
        && lines_lookup(lines, pyprof_frame_code(frame)) < 0) {
        return NULL; /* the common case: a frame that is not selected */
    }
    if (lines->wall_await && top->key == (void *)frame
        && lines->funcs[top->fn].is_coroutine
        && pyprof_frame_suspending(frame)) {
        pyprof_lines_suspend(lines, thread, (PyObject *)frame);
        return thread;
    }
    lines_on_leave(lines, thread, frame);
    return thread;
}

static int
profile_hook(PyObject *unused, PyFrameObject *frame, int what, PyObject *arg)
{
    pyprof_lines_t *lines = pyprof_lines_active;
    if (lines == NULL) {
        PyEval_SetProfile(NULL, NULL);
        PyEval_SetTrace(NULL, NULL);
        return 0;
    }
    if (what == PyTrace_CALL) {
        lines_thread_t *thread = on_call(lines, frame);
        if (thread != NULL && !thread->tracing) {
            /* Trace mode: the trace function alone sees calls and returns
             * until the thread's last selected frame is gone (the profile
             * hook would add an event per C call). */
            thread->tracing = 1;
            PyEval_SetTrace(trace_hook, NULL);
            PyEval_SetProfile(NULL, NULL);
        }
    }
    else if (what == PyTrace_RETURN) {
        on_return(lines, frame);
    }
    return 0;
}

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
            lines_on_line(lines, thread, frame,
                          pyprof_frame_trace_line(frame));
        }
        break;
    case PyTrace_CALL:
        if (on_call(lines, frame) == NULL) {
            pyprof_frame_skip_lines(frame); /* no lines to count there */
        }
        break;
    case PyTrace_RETURN:
        thread = on_return(lines, frame);
        if (!lines->full_trace && thread != NULL && thread->depth == 0) {
            /* back to profile mode until a selected frame runs again */
            thread->tracing = 0;
            PyEval_SetProfile(profile_hook, NULL);
            PyEval_SetTrace(NULL, NULL);
        }
        break;
    default:
        break;
    }
    return 0;
}

/* threading.setprofile()/settrace() target: runs once in each new thread
 * and installs the C function in its place. */
static PyObject *
thread_bootstrap(PyObject *unused, PyObject *args)
{
    pyprof_lines_t *lines = pyprof_lines_active;
    if (lines == NULL) {
        PyEval_SetProfile(NULL, NULL);
        PyEval_SetTrace(NULL, NULL);
    }
    else if (lines->full_trace) {
        PyEval_SetTrace(trace_hook, NULL);
    }
    else {
        PyEval_SetProfile(profile_hook, NULL);
    }
    Py_RETURN_NONE;
}

static PyMethodDef thread_bootstrap_def = {
    "_pyprof_lines_thread_bootstrap", thread_bootstrap, METH_VARARGS, NULL,
};

int
pyprof_lines_backend_start(pyprof_lines_t *lines)
{
    lines->full_trace = pyprof_thread_profile_func_set(PyThreadState_Get(),
                                                       profile_hook);
    PyObject *bootstrap = PyCFunction_New(&thread_bootstrap_def, NULL);
    if (bootstrap == NULL) {
        return -1;
    }
    int rc = pyprof_threading_set_hook(lines->full_trace ? "settrace"
                                                  : "setprofile",
                                bootstrap);
    Py_DECREF(bootstrap);
    if (rc < 0) {
        return -1;
    }
    if (lines->full_trace) {
        PyEval_SetTrace(trace_hook, NULL);
    }
    else {
        PyEval_SetProfile(profile_hook, NULL);
    }
    return 0;
}

void
pyprof_lines_backend_stop(pyprof_lines_t *lines)
{
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    if (!lines->full_trace) {
        PyEval_SetProfile(NULL, NULL);
    }
    PyEval_SetTrace(NULL, NULL);
    if (pyprof_threading_set_hook(lines->full_trace ? "settrace" : "setprofile",
                           Py_None) < 0) {
        PyErr_Clear(); /* interpreter shutting down: nothing to undo */
    }
    for (lines_thread_t *t = lines->threads; t != NULL; t = t->next) {
        t->tracing = 0;
    }
    PyErr_Restore(type, value, traceback);
}

int
pyprof_lines_backend_watch(pyprof_lines_t *lines, PyObject *code)
{
    return 0; /* every frame start is seen: nothing to switch on */
}

#endif
