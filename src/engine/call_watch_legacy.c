/* call_watch_legacy.c - the call watch's backend below 3.12 (see
 * call_watch_backend.h).
 *
 * A PEP 523 frame hook (_PyInterpreterState_SetEvalFrameFunc, as the
 * line engine's): every frame that starts or resumes, in every thread,
 * passes through it; a frame of watched code is pushed before its
 * evaluation and popped after it, so the decorator returns the function
 * itself.  A C wrapper would cost the program C stack on every call of
 * the function: 3.11 inlines a Python-to-Python call only when the callee
 * is a plain function, so a recursion through a wrapper nests a C
 * evaluation per level and overflows the C stack long before the depth
 * plain python reaches.
 *
 * The hook costs C stack too: while any frame-evaluation function is set
 * 3.11 inlines no call (3.10 never does, and the hook adds its own C
 * frame to each).  So once a thread has used a quarter of its C stack
 * (cstack.h) the hook gives way, on every thread and for the rest of the
 * watch, to a C profile function that pushes at a watched frame's 'call'
 * and pops at its 'return' (threads started later get it through
 * threading.setprofile); under it 3.11 inlines calls again, and a
 * recursion costs the C stack it costs under cProfile.  Frames that
 * started under the hook are popped by whichever comes first, the
 * profile function's 'return' or the hook after the evaluation
 * (pyprof_call_watch_pop_mark pops only a call still there).  A thread
 * that holds another tool's profile function at the switch keeps it, and
 * its later calls of watched functions are not seen.
 *
 * At a frame's end (its 'return' event, or after its evaluation) hooks
 * that ask for it see the frame's locals released first
 * (pyprof_eval_frame_release_locals in compat.h): pyprof heap's census
 * after a call then counts what the caller sees, as under its wrapper.
 *
 * Not used when another frame-evaluation function is set (a debugger,
 * the line engine's hook): the caller wraps instead.
 */
#define PYPROF_WANT_EVAL_FRAME 1
#include "compat.h"

#if !PYPROF_USE_MONITORING

#include "call_watch_backend.h"
#include "cstack.h"
#include "hook_guard.h"
#include "hook_install.h"

typedef enum {
    WATCH_OFF,
    WATCH_FRAME_HOOK,
    WATCH_PROFILE,      /* the frame hook gave way (a thread went deep) */
} watch_mode_t;

/* How calls are seen.  Global because the hooks carry no context;
 * protected by the GIL. */
static watch_mode_t mode;
static pyprof_thread_hook_t thread_hook;    /* threads started later */
static PyObject *bootstrap;     /* the threading hook, made at the claim */

/* pyprof_frame_release_t of each path: the frame object of a trace
 * event, the frame a frame hook evaluated. */
static void
release_frame_object(void *frame)
{
    pyprof_frame_release_locals(frame);
}

static void
release_eval_frame(void *frame)
{
    pyprof_eval_frame_release_locals(frame);
}

static int
profile_hook(PyObject *unused, PyFrameObject *frame, int what, PyObject *arg)
{
    if (mode != WATCH_PROFILE) {
        pyprof_hook_guard_own_begin();
        PyEval_SetProfile(NULL, NULL);
        pyprof_hook_guard_own_end();
        return 0;
    }
    PyObject *code = (PyObject *)pyprof_frame_code(frame);   /* borrowed */
    if (what == PyTrace_CALL) {
        /* before the program starts a thread */
        pyprof_thread_hook_retry(&thread_hook);
        pyprof_call_watch_push(code);
    }
    else if (what == PyTrace_RETURN) {
        pyprof_call_watch_pop(code, release_frame_object, frame);
    }
    return 0;
}

/* threading.setprofile() target: runs once in each new thread and
 * installs the C function in its place. */
static PyObject *
thread_bootstrap(PyObject *unused, PyObject *args)
{
    pyprof_hook_guard_own_begin();
    PyEval_SetProfile(mode == WATCH_PROFILE ? profile_hook : NULL, NULL);
    pyprof_hook_guard_own_end();
    Py_RETURN_NONE;
}

static PyMethodDef thread_bootstrap_def = {
    "_pyprof_watch_thread_bootstrap", thread_bootstrap, METH_VARARGS, NULL,
};

/* The profile function on thread `t` if it has no other. */
static void
watch_thread(PyThreadState *t)
{
    if (t->c_profilefunc == NULL
        && _PyEval_SetProfile(t, profile_hook, NULL) < 0) {
        PyErr_Clear();  /* an audit hook refused: that thread unseen */
    }
}

/* A thread went deep: the frame hook gives way to the profile function
 * on every thread that has no other, and on threads started later.
 * Never raises; the pending exception, if any, is kept. */
static void
switch_to_profile(PyThreadState *tstate)
{
    mode = WATCH_PROFILE;
    pyprof_frame_hook_give_way(tstate, watch_thread);
    pyprof_thread_hook_want(&thread_hook, "setprofile", bootstrap);
}

/* The interpreter's frame evaluation while functions are watched.
 * Returns what _PyEval_EvalFrameDefault returns: a new reference, or NULL
 * with an exception set. */
static PyObject *
eval_frame_hook(PyThreadState *tstate, pyprof_eval_frame_t *frame,
                int throwflag)
{
    if (mode != WATCH_FRAME_HOOK) {
        return _PyEval_EvalFrameDefault(tstate, frame, throwflag);
    }
    if (pyprof_cstack_deep()) {
        switch_to_profile(tstate);
        /* a watched frame is pushed at its 'call' event */
        return _PyEval_EvalFrameDefault(tstate, frame, throwflag);
    }
    PyObject *code = pyprof_eval_frame_code(frame);     /* borrowed */
    pyprof_call_mark_t mark = pyprof_call_watch_push(code);
    PyObject *result = _PyEval_EvalFrameDefault(tstate, frame, throwflag);
    pyprof_call_watch_pop_mark(code, mark, release_eval_frame, frame);
    return result;
}

int
pyprof_call_watch_backend_claim(void)
{
    PyInterpreterState *interp = PyThreadState_Get()->interp;
    if (_PyInterpreterState_GetEvalFrameFunc(interp)
        != _PyEval_EvalFrameDefault) {
        return 0;   /* someone else's hook: the caller wraps */
    }
    /* made now, before any call is measured: made at the switch, it
     * would show in a heap census */
    bootstrap = PyCFunction_New(&thread_bootstrap_def, NULL);
    if (bootstrap == NULL) {
        return -1;
    }
    _PyInterpreterState_SetEvalFrameFunc(interp, eval_frame_hook);
    mode = WATCH_FRAME_HOOK;
    return 1;
}

int
pyprof_call_watch_backend_releases_frames(void)
{
    return 1;
}

int
pyprof_call_watch_backend_watch(PyObject *code)
{
    (void)code;
    return 0;   /* every frame start is seen */
}

void
pyprof_call_watch_backend_unwatch(PyObject *code)
{
    (void)code;
}

void
pyprof_call_watch_backend_release(void)
{
    if (mode == WATCH_OFF) {
        return;
    }
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyInterpreterState *interp = PyThreadState_Get()->interp;
    if (_PyInterpreterState_GetEvalFrameFunc(interp) == eval_frame_hook) {
        _PyInterpreterState_SetEvalFrameFunc(interp,
                                             _PyEval_EvalFrameDefault);
    }
    if (mode == WATCH_PROFILE) {
        pyprof_hook_guard_own_begin();
        pyprof_threads_swap_hook(NULL, 0, profile_hook, NULL);
        pyprof_hook_guard_own_end();
    }
    pyprof_thread_hook_drop(&thread_hook);
    Py_CLEAR(bootstrap);
    mode = WATCH_OFF;
    PyErr_Restore(type, value, traceback);
}

#endif
