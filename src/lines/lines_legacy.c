/* lines_legacy.c - line events below 3.12: a PEP 523 frame hook (or
 * PyEval_SetProfile) gating PyEval_SetTrace.
 *
 * Tracing mode slows every instruction of every frame, so it is kept to
 * the selected frames.  Two ways, chosen at enable:
 *
 * - Frame hook (the default).  The interpreter's frame evaluation is
 *   wrapped (_PyInterpreterState_SetEvalFrameFunc, as debuggers do).  A
 *   selected frame is evaluated with its thread's tracing flag on and the
 *   C trace function installed; every other frame is evaluated with the
 *   flag off, so the callees of a selected function, and everything else,
 *   run untraced at nearly full speed.  The trace function stays installed
 *   on a thread once it has run a selected frame; only the per-C-frame
 *   flag (`cframe->use_tracing`, public below 3.12) is switched, saved
 *   before and restored after each evaluation.  The hook covers every
 *   thread, those already running included.  Not used when another tool
 *   already holds the trace or profile hook, or the frame-evaluation hook,
 *   at enable (PYPROF_NO_FRAME_HOOK=1 also turns it off, for comparison).
 *
 * - Profile gating.  A C profile function (call/return only) sees a
 *   selected frame start or resume, pushes it and swaps itself for the C
 *   trace function, which then sees calls, returns and lines of that frame
 *   and everything it calls; when the thread's last selected frame returns
 *   or suspends, the profile function comes back.  Threads started later
 *   get the hook through threading.setprofile()/settrace() (a bootstrap
 *   that replaces itself with the C function on its first event); threads
 *   already running are not seen.  If another tool (cProfile, `pyprof
 *   run`, a debugger) holds the profile hook, the trace function alone
 *   does all the work ("full trace": every frame traced from enable to
 *   disable).
 *
 * The frame hook costs C stack: while a frame-evaluation function is set,
 * 3.11 stops inlining Python-to-Python calls, so every nested Python call
 * nests a C-level evaluation (3.10 always does, but the hook's own C
 * frames add to each).  A recursion plain python survives could then
 * overflow the C stack.  So once a thread has used a quarter of its C
 * stack (engine/cstack.h), the frame hook gives way to profile gating for
 * the rest of the recording, on every thread ("switched"): 3.11 inlines
 * calls again and the recursion costs the C stack it costs without
 * pyprof (3.10: what tracing mode costs, as under cProfile).
 *
 * Selected frames are keyed by their frame object, which stays the same
 * across a generator's suspensions; a line event of any other frame costs
 * one pointer comparison.
 */
#define PYPROF_WANT_EVAL_FRAME 1
#include "../engine/compat.h"

#if !PYPROF_USE_MONITORING

#include <stdlib.h>
#include <string.h>

#include "../engine/alloc_hook.h"
#include "../engine/cstack.h"
#include "../engine/hook_guard.h"
#include "../engine/hook_install.h"
#include "lines_internal.h"

static int trace_hook(PyObject *unused, PyFrameObject *frame, int what,
                      PyObject *arg);
static int profile_hook(PyObject *unused, PyFrameObject *frame, int what,
                        PyObject *arg);

/* A call event of a C trace or profile function: on 3.11 the interpreter
 * has just materialised the frame object for it (and, the first time the
 * code runs traced, its line array), which a plain run never makes: they
 * are disowned, so they are not charged to the program.  3.10's frames
 * are objects anyway. */
static void
disown_call_objects(PyFrameObject *frame)
{
#if PY_VERSION_HEX >= 0x030B0000
    PyCodeObject *code = pyprof_frame_code(frame);
    if (code->_co_linearray != NULL) {
        pyprof_alloc_disown((PyObject *)code->_co_linearray, 0);
    }
    pyprof_alloc_disown((PyObject *)frame,
                        pyprof_object_preheader_size(Py_TYPE(frame)));
#else
    (void)frame;
#endif
}

/* How the hooks keep tracing mode to the selected frames while engines
 * record: a PEP 523 frame hook switching it per frame, a profile
 * function switching each thread to the trace function while a selected
 * frame runs, or -- another tool holding the profile hook -- the trace
 * function seeing every frame from enable to disable.  Chosen when the
 * first engine starts; protected by the GIL. */
typedef enum {
    LINES_MODE_FRAME_HOOK,
    LINES_MODE_GATING,
    LINES_MODE_FULL_TRACE,
} lines_mode_t;

static lines_mode_t mode;

/* Non-zero once the frame hook of this recording gave way to profile
 * gating (a thread went deep): from then on every C frame of a thread
 * with one of our hooks installed runs with tracing on.  Global because
 * C frames evaluated through the hook restore their caller's flag after
 * the engine may be gone; protected by the GIL. */
static int switched_to_gating;

/* threading's hook of threads started later, set once the program has
 * imported threading (hook_install.h).  Protected by the GIL. */
static pyprof_thread_hook_t thread_hook;

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
    if (!started) {
        lines_on_frame_start(lines, (uint32_t)fn, code);
    }
    if (started && lines->wall_await && lines->funcs[fn].is_coroutine) {
        pyprof_lines_resume(lines, top, (PyObject *)frame);
    }
    return thread;
}

/* Non-zero when the 'return' event of `frame` ends its call: a return or
 * an exception, not a generator's or coroutine's suspension. */
static int
frame_finishing(PyFrameObject *frame)
{
#if PY_VERSION_HEX >= 0x030B0000
    /* 3.11 marks the generator suspended before the event of a yield;
     * async generators have no public attribute saying so. */
    PyObject *gen = PyFrame_GetGenerator(frame);   /* new reference */
    if (gen == NULL) {
        return 1;
    }
    int suspended = ((PyGenObject *)gen)->gi_frame_state == FRAME_SUSPENDED;
    Py_DECREF(gen);
    return !suspended;
#else
    return frame->f_state != FRAME_SUSPENDED;
#endif
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
    if (lines->has_consumer && lines->consumer.frame_return != NULL
        && frame_finishing(frame)) {
        lines_on_frame_return(lines, pyprof_frame_code(frame));
    }
    return thread;
}

/* A call or resume of `frame`: every engine recording that selects it
 * pushes it.  Non-zero when one did. */
static int
on_call_all(PyFrameObject *frame)
{
    int pushed = 0;
    LINES_FOR_EACH_ENABLED(lines) {
        pushed |= on_call(lines, frame) != NULL;
    }
    return pushed;
}

/* A return or suspension of `frame`: every engine pops it if it is
 * theirs.  Non-zero when one did. */
static int
on_return_all(PyFrameObject *frame)
{
    int popped = 0;
    LINES_FOR_EACH_ENABLED(lines) {
        popped |= on_return(lines, frame) != NULL;
    }
    return popped;
}

/* The lines thread of `tstate` in `lines`, or NULL when it has none. */
static lines_thread_t *
lines_thread_of(pyprof_lines_t *lines, PyThreadState *tstate)
{
    for (lines_thread_t *t = lines->threads; t != NULL; t = t->next) {
        if (t->tstate == (const void *)tstate) {
            return t;
        }
    }
    return NULL;
}

/* Non-zero when some engine recording has a selected frame running on
 * `tstate`. */
static int
thread_in_selected(PyThreadState *tstate)
{
    LINES_FOR_EACH_ENABLED(lines) {
        lines_thread_t *thread = lines_thread_of(lines, tstate);
        if (thread != NULL && thread->depth > 0) {
            return 1;
        }
    }
    return 0;
}

/* Take pyprof's profile and trace functions off the calling thread,
 * leaving the program's. */
static void
drop_own_hooks(void)
{
    PyThreadState *tstate = PyThreadState_Get();
    if (tstate->c_profilefunc == profile_hook) {
        PyEval_SetProfile(NULL, NULL);
    }
    if (tstate->c_tracefunc == trace_hook) {
        PyEval_SetTrace(NULL, NULL);
    }
}

static int
profile_event(PyFrameObject *frame, int what)
{
    if (pyprof_lines_active == NULL) {
        drop_own_hooks();
        return 0;
    }
    if (what == PyTrace_CALL) {
        /* before the program starts a thread */
        pyprof_thread_hook_retry(&thread_hook);
        if (on_call_all(frame) && PyThreadState_Get()->c_tracefunc == NULL) {
            /* Trace mode: the trace function alone sees calls and returns
             * until the thread's last selected frame is gone (the profile
             * hook would add an event per C call).  Not while the program
             * has its own trace function there: it keeps it (the guard
             * has named it), and the profile function goes on. */
            PyEval_SetTrace(trace_hook, NULL);
            PyEval_SetProfile(NULL, NULL);
        }
    }
    else if (what == PyTrace_RETURN) {
        on_return_all(frame);
    }
    return 0;
}

static int
trace_event(PyFrameObject *frame, int what)
{
    if (pyprof_lines_active == NULL) {
        PyEval_SetTrace(NULL, NULL);
        return 0;
    }
    switch (what) {
    case PyTrace_LINE: {
        int line = pyprof_frame_trace_line(frame);
        LINES_FOR_EACH_ENABLED(lines) {
            lines_thread_t *thread = lines_thread_current(lines);
            if (thread != NULL) {
                lines_on_line(lines, thread, frame, line);
            }
        }
        break;
    }
    case PyTrace_CALL:
        pyprof_thread_hook_retry(&thread_hook);
        if (!on_call_all(frame)) {
            pyprof_frame_skip_lines(frame); /* no lines to count there */
        }
        break;
    case PyTrace_RETURN:
        if (on_return_all(frame) && mode == LINES_MODE_GATING
            && !thread_in_selected(PyThreadState_Get())
            && PyThreadState_Get()->c_profilefunc == NULL) {
            /* back to profile mode until a selected frame runs again
             * (not while the program has its own profile function there:
             * the trace function goes on seeing every call) */
            PyEval_SetProfile(profile_hook, NULL);
            PyEval_SetTrace(NULL, NULL);
        }
        break;
    default:
        break;
    }
    return 0;
}

/* The C profile and trace functions.  Each event runs as pyprof's own
 * code: what it allocates (a thread's stack, a function's line table) is
 * not the program's. */
static int
profile_hook(PyObject *unused, PyFrameObject *frame, int what, PyObject *arg)
{
    pyprof_alloc_suspend();
    pyprof_hook_guard_own_begin();  /* its hook switches are pyprof's */
    if (what == PyTrace_CALL) {
        disown_call_objects(frame);
    }
    int rc = profile_event(frame, what);
    pyprof_hook_guard_own_end();
    pyprof_alloc_resume();
    return rc;
}

static int
trace_hook(PyObject *unused, PyFrameObject *frame, int what, PyObject *arg)
{
    pyprof_alloc_suspend();
    pyprof_hook_guard_own_begin();
    if (what == PyTrace_CALL) {
        disown_call_objects(frame);
    }
    int rc = trace_event(frame, what);
    pyprof_hook_guard_own_end();
    pyprof_alloc_resume();
    return rc;
}

/* threading.setprofile()/settrace() target: runs once in each new thread
 * and installs the C function in its place. */
static PyObject *
thread_bootstrap(PyObject *unused, PyObject *args)
{
    pyprof_hook_guard_own_begin();
    if (pyprof_lines_active == NULL) {
        /* the bootstrap itself is the hook of its kind on this thread */
        if (mode == LINES_MODE_FULL_TRACE) {
            PyEval_SetTrace(NULL, NULL);
        }
        else {
            PyEval_SetProfile(NULL, NULL);
        }
    }
    else if (mode == LINES_MODE_FULL_TRACE) {
        PyEval_SetTrace(trace_hook, NULL);
    }
    else {
        PyEval_SetProfile(profile_hook, NULL);
    }
    pyprof_hook_guard_own_end();
    Py_RETURN_NONE;
}

static PyMethodDef thread_bootstrap_def = {
    "_pyprof_lines_thread_bootstrap", thread_bootstrap, METH_VARARGS, NULL,
};

/* ---- frame hook mode ---------------------------------------------------- */

/* After an evaluation: give the caller's C frame back the flag it had,
 * unless the hooks changed meanwhile.  A profile function installed since
 * (cProfile enabled inside) needs every frame's events from now on; a
 * trace function that is not ours any more keeps what CPython set. */
static void
restore_tracing(PyThreadState *tstate, pyprof_cframe_t *caller, int saved)
{
    if (tstate->c_profilefunc != NULL) {
        caller->use_tracing = PYPROF_USE_TRACING_ON;
    }
    else if (tstate->c_tracefunc == trace_hook) {
        caller->use_tracing = switched_to_gating ? PYPROF_USE_TRACING_ON
                                                 : saved;
    }
}

/* Evaluate `frame` with the caller's C frame flag (which the new
 * evaluation copies) set to `flag`, then give the caller `saved` back
 * (see restore_tracing).  Returns what _PyEval_EvalFrameDefault returns:
 * a new reference, or NULL with an exception set. */
static PyObject *
eval_with_flag(PyThreadState *tstate, pyprof_eval_frame_t *frame,
               int throwflag, int flag, int saved)
{
    pyprof_cframe_t *caller = tstate->cframe;
    caller->use_tracing = flag;
    PyObject *result = _PyEval_EvalFrameDefault(tstate, frame, throwflag);
    restore_tracing(tstate, caller, saved);
    return result;
}

/* Evaluate a selected frame with tracing on, installing the trace
 * function on the thread the first time. */
static PyObject *
eval_traced(PyThreadState *tstate, pyprof_eval_frame_t *frame, int throwflag)
{
    /* read before installing, which switches the caller's flag on */
    int saved = tstate->cframe->use_tracing;
    if (tstate->c_tracefunc == NULL && !PyErr_Occurred()) {
        /* First selected frame on this thread.  (A throw() into a
         * generator has its exception set: installing then could run an
         * audit hook over it, so that rare first frame goes untraced.) */
        pyprof_hook_guard_own_begin();
        if (_PyEval_SetTrace(tstate, trace_hook, NULL) < 0) {
            PyErr_Clear(); /* an audit hook refused: run untraced */
        }
        pyprof_hook_guard_own_end();
    }
    if (tstate->c_tracefunc != trace_hook) {
        /* another tracer owns this thread */
        return _PyEval_EvalFrameDefault(tstate, frame, throwflag);
    }
    return eval_with_flag(tstate, frame, throwflag, PYPROF_USE_TRACING_ON,
                          saved);
}

/* Put one thread in gating mode: a thread inside a selected frame keeps
 * the trace function (with tracing on in its current C frame, so the
 * calls it makes are seen), any other gets the profile function.  A
 * thread another tool hooks keeps its hooks. */
static void
gate_thread(PyThreadState *t)
{
    if (t->c_tracefunc == trace_hook && thread_in_selected(t)) {
        t->cframe->use_tracing = PYPROF_USE_TRACING_ON;
        return;
    }
    if (t->c_tracefunc == trace_hook && _PyEval_SetTrace(t, NULL, NULL) < 0) {
        PyErr_Clear();
    }
    if (t->c_tracefunc == NULL && t->c_profilefunc == NULL
        && _PyEval_SetProfile(t, profile_hook, NULL) < 0) {
        PyErr_Clear();
    }
}

/* ---- the program's own profile function in gating mode ---------------
 *
 * Gating needs the thread's profile slot, which the program's
 * sys.setprofile or cProfile takes.  So just before the program installs
 * (or removes) one on a thread that gating watches with the profile
 * function, that thread gets the trace function instead, which sees every
 * call and every selected line on its own (the guard's `before`); it
 * keeps it while the program's profile function is there (trace_event
 * does not switch back), and when the program lets go the profile
 * function comes back (`let_go`).  The counts stay right, so nothing is
 * said. */

/* The guard's `before`: the calling thread is about to change its
 * profile function. */
static void
cover_with_trace(PyThreadState *t)
{
    if (pyprof_lines_active == NULL || mode != LINES_MODE_GATING
        || t->c_profilefunc != profile_hook || t->c_tracefunc != NULL) {
        return;
    }
    if (_PyEval_SetTrace(t, trace_hook, NULL) < 0) {
        PyErr_Clear();  /* an audit hook refused: the lines are lost */
    }
}

/* The guard's `let_go`: the program removed its profile function from
 * thread `t` (sys.setprofile(None), cProfile's disable()). */
static void
regate(PyThreadState *t)
{
    if (pyprof_lines_active == NULL || mode != LINES_MODE_GATING
        || thread_in_selected(t)) {
        return; /* inside a selected frame: its return switches back */
    }
    if (t->c_tracefunc == trace_hook && _PyEval_SetTrace(t, NULL, NULL) < 0) {
        PyErr_Clear();
    }
    if (t->c_profilefunc == NULL
        && _PyEval_SetProfile(t, profile_hook, NULL) < 0) {
        PyErr_Clear();
    }
}

static const pyprof_hook_guard_calls_t profile_guard_calls = {
    .let_go = regate,
    .before = cover_with_trace,
};

/* The bootstrap of threads started while recording (threading.settrace
 * in full-trace mode, threading.setprofile in gating mode): its hook
 * object is pyprof's, not the program's.  Strong while recording;
 * protected by the GIL. */
static PyObject *thread_bootstrap_obj;

/* Non-zero while the profile slot is guarded (gating mode). */
static int profile_guarded;

/* Guard the profile slot for gating mode.  Never raises. */
static void
guard_profile_slot(void)
{
    if (pyprof_hook_guard_start_with(0, profile_hook, &profile_guard_calls,
                                     thread_bootstrap_obj, NULL) < 0) {
        PyErr_Clear();  /* no audit hook: unguarded */
        return;
    }
    profile_guarded = 1;
}

/* A thread went deep: the frame hook gives way to profile gating on
 * every thread for the rest of the recording (see the top of the file).
 * Never raises; the pending exception (a throw() into a generator) is
 * kept. */
static void
switch_to_gating(PyThreadState *tstate)
{
    mode = LINES_MODE_GATING;
    switched_to_gating = 1;
    pyprof_frame_hook_give_way(tstate, gate_thread);
    /* threads started from now on */
    PyObject *exc = pyprof_error_take();
    PyObject *bootstrap = PyCFunction_New(&thread_bootstrap_def, NULL);
    if (bootstrap == NULL) {
        PyErr_Clear();  /* no memory: threads started later unseen */
    }
    else {
        pyprof_thread_hook_want(&thread_hook, "setprofile", bootstrap);
    }
    Py_XSETREF(thread_bootstrap_obj, bootstrap);
    guard_profile_slot();
    pyprof_error_restore(exc);
}

/* Non-zero when some engine recording selects `code` (or its rules
 * select it now). */
static int
selected_by_any(PyObject *code)
{
    LINES_FOR_EACH_ENABLED(lines) {
        int64_t fn = lines_lookup(lines, code);
        if (fn < 0 && lines->nrules != 0) {
            pyprof_alloc_suspend();     /* the selection's, not the
                                           program's */
            fn = pyprof_lines_select_by_rules(lines, code);
            pyprof_alloc_resume();
        }
        if (fn >= 0) {
            return 1;
        }
    }
    return 0;
}

/* The interpreter's frame evaluation while the engine is enabled: every
 * Python frame that starts or resumes, in every thread, comes through
 * here (3.10/3.11 do not inline calls while a hook is set). */
static PyObject *
eval_frame_hook(PyThreadState *tstate, pyprof_eval_frame_t *frame,
                int throwflag)
{
    if (pyprof_lines_active != NULL && pyprof_cstack_deep()) {
        switch_to_gating(tstate);
        /* the frame starts with tracing on if we hook this thread: a
           selected one is pushed at its 'call' event */
        return _PyEval_EvalFrameDefault(tstate, frame, throwflag);
    }
    if (pyprof_lines_active != NULL) {
        if (selected_by_any(pyprof_eval_frame_code(frame))) {
            return eval_traced(tstate, frame, throwflag);
        }
        if (tstate->c_tracefunc == trace_hook && tstate->cframe->use_tracing
            && tstate->c_profilefunc == NULL) {
            /* not selected, and the thread traces only for us */
            return eval_with_flag(tstate, frame, throwflag, 0,
                                  tstate->cframe->use_tracing);
        }
    }
    return _PyEval_EvalFrameDefault(tstate, frame, throwflag);
}

/* Non-zero when the frame hook can be used: nobody else holds the
 * calling thread's trace or profile hook or the interpreter's frame
 * evaluation, and the user did not turn it off. */
static int
frame_hook_available(PyThreadState *tstate)
{
    const char *off = getenv("PYPROF_NO_FRAME_HOOK");
    if (off != NULL && *off != '\0' && strcmp(off, "0") != 0) {
        return 0;
    }
    return tstate->c_tracefunc == NULL && tstate->c_profilefunc == NULL
           && _PyInterpreterState_GetEvalFrameFunc(tstate->interp)
                  == _PyEval_EvalFrameDefault;
}

/* The guard's `let_go`: the program removed its trace function from
 * thread `t` (sys.settrace(None)).  Ours goes back where the recording
 * needs it: on every thread in full-trace mode, else on a thread inside a
 * selected frame (the rest of that frame is counted again), and in gating
 * mode the profile function on the others. */
static void
take_back(PyThreadState *t)
{
    if (pyprof_lines_active == NULL) {
        return;
    }
    int rc = 0;
    if (mode == LINES_MODE_FULL_TRACE || thread_in_selected(t)) {
        rc = _PyEval_SetTrace(t, trace_hook, NULL);
        if (rc == 0 && mode == LINES_MODE_GATING
            && t->c_profilefunc == profile_hook) {
            rc = _PyEval_SetProfile(t, NULL, NULL);
        }
    }
    else if (mode == LINES_MODE_GATING && t->c_profilefunc == NULL) {
        rc = _PyEval_SetProfile(t, profile_hook, NULL);
    }
    if (rc < 0) {
        PyErr_Clear();  /* an audit hook refused: left as it is */
    }
}

static const char guard_what[] =
    "the line counts miss the lines that ran while it was set";

static const char existing_what[] =
    "the line counts miss the lines that run while it is set";

/* A tracer set before the first recording of the process is named once.
 * Protected by the GIL. */
static int existing_named;

static const pyprof_hook_guard_calls_t trace_guard_calls = {
    .let_go = take_back,
};

int
pyprof_lines_backend_start(pyprof_lines_t *lines)
{
    PyThreadState *tstate = PyThreadState_Get();
    switched_to_gating = 0;
    profile_guarded = 0;
    if (!existing_named) {
        /* coverage started first, a sitecustomize tracer: kept, and its
           frames' lines are not seen */
        existing_named = pyprof_hook_guard_name_existing(
            1, trace_hook, thread_bootstrap_obj, existing_what);
    }
    if (frame_hook_available(tstate)) {
        mode = LINES_MODE_FRAME_HOOK;
        _PyInterpreterState_SetEvalFrameFunc(tstate->interp, eval_frame_hook);
        if (pyprof_hook_guard_start_with(1, trace_hook, &trace_guard_calls,
                                         NULL, guard_what) < 0) {
            _PyInterpreterState_SetEvalFrameFunc(tstate->interp,
                                                 _PyEval_EvalFrameDefault);
            return -1;
        }
        return 0;
    }
    int full = pyprof_thread_profile_func_set(tstate, profile_hook);
    mode = full ? LINES_MODE_FULL_TRACE : LINES_MODE_GATING;
    PyObject *bootstrap = PyCFunction_New(&thread_bootstrap_def, NULL);
    if (bootstrap == NULL) {
        return -1;
    }
    if (pyprof_hook_guard_start_with(1, trace_hook, &trace_guard_calls,
                                     full ? bootstrap : NULL,
                                     guard_what) < 0) {
        Py_DECREF(bootstrap);
        return -1;
    }
    Py_XSETREF(thread_bootstrap_obj, bootstrap);
    pyprof_thread_hook_want(&thread_hook, full ? "settrace" : "setprofile",
                            bootstrap);
    if (!full) {
        guard_profile_slot();
    }
    pyprof_hook_guard_own_begin();
    if (full && tstate->c_tracefunc == NULL) {
        /* (a tracer of the program's stays: named above) */
        PyEval_SetTrace(trace_hook, NULL);
    }
    else if (!full) {
        PyEval_SetProfile(profile_hook, NULL);
    }
    pyprof_hook_guard_own_end();
    return 0;
}

void
pyprof_lines_backend_stop(pyprof_lines_t *lines)
{
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    pyprof_hook_guard_stop(1);
    if (profile_guarded) {
        pyprof_hook_guard_stop(0);
        profile_guarded = 0;
    }
    if (mode == LINES_MODE_FRAME_HOOK) {
        PyThreadState *tstate = PyThreadState_Get();
        _PyInterpreterState_SetEvalFrameFunc(tstate->interp,
                                             _PyEval_EvalFrameDefault);
        /* a thread whose removal an audit hook refuses loses the trace
           function at its next event (trace_hook) */
        pyprof_threads_swap_hook(NULL, 1, trace_hook, NULL);
        PyErr_Restore(type, value, traceback);
        return;
    }
    int full = mode == LINES_MODE_FULL_TRACE;
    drop_own_hooks();   /* the program's own hooks stay */
    if (switched_to_gating || !full) {
        /* every thread was hooked at the switch, and the guard may have
           hooked any thread since; in full-trace mode the others drop
           theirs at their next event */
        pyprof_threads_swap_hook(NULL, 0, profile_hook, NULL);
        pyprof_threads_swap_hook(NULL, 1, trace_hook, NULL);
    }
    pyprof_thread_hook_drop(&thread_hook);
    Py_CLEAR(thread_bootstrap_obj);
    PyErr_Restore(type, value, traceback);
}

int
pyprof_lines_backend_join(pyprof_lines_t *lines)
{
    (void)lines;
    return 0;   /* the hooks see every frame start already */
}

int
pyprof_lines_backend_watch(pyprof_lines_t *lines, PyObject *code)
{
    return 0; /* every frame start is seen: nothing to switch on */
}

#endif
