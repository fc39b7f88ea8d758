/* tracer_legacy.c - the hook below 3.12: PyEval_SetProfile.
 *
 * One C profile function per thread.  At enable every thread of the
 * interpreter gets it (_PyEval_SetProfile on each thread state, exported
 * on 3.10/3.11 and what 3.12's PyEval_SetProfileAllThreads does; a thread
 * already running then starts with returns of frames it entered before,
 * which the shadow stack ignores); threads started later get it through
 * threading.setprofile(), whose Python-level hook is a C function that
 * replaces itself with ours on its first event.  A thread that holds
 * another tool's profile function keeps it, except the enabling one:
 * a hook set there first (a sitecustomize's sys.setprofile, cProfile) is
 * chained -- ours takes its place with the same object, so
 * sys.getprofile() still returns it, and passes it every event first --
 * and is put back by disable().  disable() takes ours off every thread.  Every profiler recording gets every event (nested
 * Profile()s, a program's own under `pyprof run`).
 */
#include "compat.h"

#if !PYPROF_USE_MONITORING

#include "hook_guard.h"
#include "hook_install.h"
#include "profiler_internal.h"

/* One event for one profiler. */
static inline void
profile_event(pyprof_profiler_t *prof, PyFrameObject *frame, int what,
              PyObject *arg)
{
    pyprof_thread_t *thread = pyprof_thread_current(prof);
    if (thread == NULL) {
        return;
    }
    switch (what) {
    case PyTrace_CALL: {
        PyCodeObject *code = pyprof_frame_code(frame);
        pyprof_on_enter(prof, thread, code, (PyObject *)code, NULL);
        break;
    }
    case PyTrace_RETURN:
        pyprof_on_exit(prof, thread, pyprof_frame_code(frame));
        break;
    case PyTrace_C_CALL:
        if (prof->builtins && PyCFunction_Check(arg)) {
            pyprof_on_enter(prof, thread,
                            pyprof_c_key(((PyCFunctionObject *)arg)->m_ml),
                            arg, NULL);
        }
        break;
    case PyTrace_C_RETURN:
    case PyTrace_C_EXCEPTION:
        if (prof->builtins && PyCFunction_Check(arg)) {
            pyprof_on_exit(prof, thread,
                           pyprof_c_key(((PyCFunctionObject *)arg)->m_ml));
        }
        break;
    default:
        break;
    }
}

/* The hook that held the enabling thread before ours, and its object
 * (a strong reference, or NULL): ours is installed there with that object
 * and calls it first.  Kept until disable() puts it back. */
static Py_tracefunc chained_func;
static PyObject *chained_obj;

/* Put the chained hook back on the calling thread (its object is `obj`,
 * borrowed from the thread, which drops it meanwhile). */
static void
restore_chained(PyObject *obj)
{
    Py_INCREF(obj);
    PyEval_SetProfile(chained_func, obj);
    Py_DECREF(obj);
}

/* `self`: NULL, or the chained hook's object on the thread that had it. */
static int
profile_hook(PyObject *self, PyFrameObject *frame, int what, PyObject *arg)
{
    int n = pyprof_nactive;
    if (n == 0) {
        if (self != NULL && chained_func != NULL) {
            restore_chained(self);
            return chained_func(self, frame, what, arg);
        }
        PyEval_SetProfile(NULL, NULL);
        return 0;
    }
    /* One profiler is the common case (pyprof run, a lone Profile): it
     * is called straight, so its hot path is what it was when only one
     * profiler could record. */
    if (n == 1 && self == NULL) {
        profile_event(pyprof_active[0], frame, what, arg);
        return 0;
    }
    /* the other tool sees a call before our clock starts, a return after
       it stops: its own time is not the callee's */
    int entering = what == PyTrace_CALL || what == PyTrace_C_CALL;
    int rc = 0;
    if (self != NULL && chained_func != NULL && entering) {
        rc = chained_func(self, frame, what, arg);
    }
    for (int i = 0; i < n; i++) {
        profile_event(pyprof_active[i], frame, what, arg);
    }
    if (self != NULL && chained_func != NULL && !entering) {
        rc = chained_func(self, frame, what, arg);
    }
    return rc;
}

/* Ours in place of the hook the calling thread already has (not ours),
 * keeping it called: see the file's comment. */
static void
chain_existing(PyThreadState *tstate)
{
    Py_CLEAR(chained_obj);
    chained_func = tstate->c_profilefunc;
    chained_obj = Py_XNewRef(tstate->c_profileobj);
    PyEval_SetProfile(profile_hook, chained_obj);
}

/* disable(): the chained hook back where ours holds its place on the
 * calling thread, else none. */
static void
unchain(PyThreadState *tstate)
{
    if (chained_obj != NULL && tstate->c_profilefunc == profile_hook
        && tstate->c_profileobj == chained_obj) {
        PyEval_SetProfile(chained_func, chained_obj);
    }
    else {
        PyEval_SetProfile(NULL, NULL);
    }
    Py_CLEAR(chained_obj);
}

/* threading.setprofile() target: runs once in each new thread, from the
 * sys.setprofile trampoline, and installs the C hook in its place. */
static PyObject *
thread_bootstrap(PyObject *unused, PyObject *args)
{
    if (pyprof_nactive > 0) {
        PyEval_SetProfile(profile_hook, NULL);
    }
    else {
        PyEval_SetProfile(NULL, NULL);
    }
    Py_RETURN_NONE;
}

static PyMethodDef thread_bootstrap_def = {
    "_pyprof_thread_bootstrap", thread_bootstrap, METH_VARARGS, NULL,
};

int
pyprof_tracer_start(int builtins)
{
    PyObject *bootstrap = PyCFunction_New(&thread_bootstrap_def, NULL);
    if (bootstrap == NULL) {
        return -1;
    }
    int rc = pyprof_threading_set_hook("setprofile", bootstrap);
    Py_DECREF(bootstrap);
    if (rc < 0) {
        return -1;
    }
    PyThreadState *tstate = PyThreadState_Get();
    if (pyprof_thread_profile_func_set(tstate, profile_hook)) {
        chain_existing(tstate);
    }
    else if (tstate->c_profilefunc == NULL) {
        PyEval_SetProfile(profile_hook, NULL);
    }
    pyprof_threads_swap_hook(tstate, 0, NULL, profile_hook);
    /* a program's own sys.setprofile/cProfile takes the hook of its
       thread: named on stderr, and ours comes back when it lets go */
    if (pyprof_hook_guard_start(0, profile_hook, 1,
                                "the profile misses what ran while the "
                                "program's hook was set") < 0) {
        PyErr_Clear();  /* an audit hook refused: unguarded */
    }
    return 0;
}

int
pyprof_tracer_join(void)
{
    if (pyprof_thread_profile_func_set(PyThreadState_Get(), profile_hook)) {
        PyErr_SetString(PyExc_RuntimeError,
                        "another profiler (cProfile, a debugger) is active "
                        "in this thread");
        return -1;
    }
    PyEval_SetProfile(profile_hook, NULL);
    return 0;
}

void
pyprof_tracer_stop(void)
{
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    pyprof_hook_guard_stop(0);
    unchain(PyThreadState_Get());
    pyprof_threads_swap_hook(PyThreadState_Get(), 0, profile_hook, NULL);
    if (pyprof_threading_set_hook("setprofile", Py_None) < 0) {
        PyErr_Clear(); /* interpreter shutting down: nothing to undo */
    }
    PyErr_Restore(type, value, traceback);
}

#endif
