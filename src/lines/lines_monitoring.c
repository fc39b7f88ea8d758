/* lines_monitoring.c - line events from 3.12: PEP 669 sys.monitoring.
 *
 * LINE, JUMP, PY_START, PY_RESUME, PY_RETURN and PY_YIELD are switched on
 * only for the selected code objects (set_local_events), so code outside
 * them runs at full speed.  PY_THROW and PY_UNWIND cannot be local; they
 * are global and cost something only when an exception leaves a frame.
 * With selection rules (--module, --path, --function), PY_START is global
 * too: the first start of each code object applies the rules, and a code
 * object that is not selected answers DISABLE, which removes the event
 * from it for good.
 *
 * sys.settrace, our oracle, is built on LINE plus JUMP from 3.12: a jump
 * backwards to the line it comes from (a loop on one line) is a line event
 * too.  We do the same; every other jump answers DISABLE once.
 *
 * Tool id: 5, else 4 (the function profiler takes 2-4, coverage.py 1,
 * debuggers 0), one for every engine recording: each callback hands the
 * event to each of them (lines_internal.h, LINES_FOR_EACH_ENABLED).
 */
#include "../engine/compat.h"

#if PYPROF_USE_MONITORING

#include "../engine/alloc_hook.h"
#include "../engine/hook_install.h"
#include "lines_internal.h"

/* sys.monitoring.DISABLE and the event bits we use: set while enabled,
 * protected by the GIL. */
static PyObject *disable_value = NULL;
static long local_mask = 0;

/* The tool id the hooks hold while engines record, else -1, and every
 * code object given local events meanwhile (strong; set_local_events
 * outlives free_tool_id on 3.12/3.13, so they are cleared one by one
 * when the last engine stops, whichever engine selected them).
 * Protected by the GIL. */
static int tool_id = -1;
static PyObject *watched = NULL;

enum {
    CB_START, CB_RESUME, CB_LEAVE, CB_YIELD, CB_LINE, CB_JUMP, NCALLBACKS
};

/* Every callback runs as pyprof's own code: what it allocates (a thread's
 * stack, a function's line table) is not the program's.  And the ints
 * sys.monitoring makes for the event (a line or offset above the small
 * int cache) are made only for us: args[1..nints] are disowned. */
static inline void
event_begin(PyObject *const *args, Py_ssize_t nargs, Py_ssize_t nints)
{
    pyprof_alloc_suspend();
    for (Py_ssize_t i = 1; i <= nints && i < nargs; i++) {
        pyprof_alloc_disown(args[i], 0);
    }
}

/* Returns `result` (a new reference, passed through). */
static inline PyObject *
event_end(PyObject *result)
{
    pyprof_alloc_resume();
    return result;
}

/* PY_START: every engine that selects the code (or whose rules select
 * it now) pushes the frame; DISABLE when none does. */
static PyObject *
on_start_event(PyObject *const *args, Py_ssize_t nargs)
{
    if (pyprof_lines_active == NULL || nargs < 1) {
        Py_RETURN_NONE;
    }
    int wanted = 0;
    LINES_FOR_EACH_ENABLED(lines) {
        int64_t fn = lines_lookup(lines, args[0]);
        if (fn < 0) {
            fn = pyprof_lines_select_by_rules(lines, args[0]);
            if (fn < 0) {
                continue;
            }
        }
        wanted = 1;
        lines_thread_t *thread = lines_thread_current(lines);
        if (thread != NULL
            && lines_on_enter(lines, thread, args[0], (uint32_t)fn, -1)
                   != NULL) {
            lines_on_frame_start(lines, (uint32_t)fn, args[0]);
        }
    }
    return wanted ? Py_NewRef(Py_None) : Py_NewRef(disable_value);
}

/* PY_RESUME and PY_THROW: (code, offset[, exception]). */
static void
resume_one(pyprof_lines_t *lines, PyObject *code, int line)
{
    int64_t fn = lines_lookup(lines, code);
    lines_thread_t *thread = fn < 0 ? NULL : lines_thread_current(lines);
    if (thread == NULL) {
        return;
    }
    lines_frame_t *top = lines_on_enter(lines, thread, code, (uint32_t)fn,
                                        line);
    if (top != NULL && lines->wall_await && lines->funcs[fn].is_coroutine) {
        PyObject *frame = (PyObject *)PyEval_GetFrame();
        if (frame != NULL) {
            pyprof_lines_resume(lines, top, frame);
        }
    }
}

static PyObject *
on_resume_event(PyObject *const *args, Py_ssize_t nargs)
{
    if (pyprof_lines_active == NULL || nargs < 2) {
        Py_RETURN_NONE;
    }
    int line = -2;  /* not looked up yet */
    LINES_FOR_EACH_ENABLED(lines) {
        if (lines_lookup(lines, args[0]) < 0) {
            continue;
        }
        if (line == -2) {
            int offset = pyprof_long_as_int(args[1]);
            line = offset >= 0
                       ? PyCode_Addr2Line((PyCodeObject *)args[0], offset)
                       : -1;
            PyErr_Clear();
        }
        resume_one(lines, args[0], line);
    }
    Py_RETURN_NONE;
}

/* PY_RETURN and PY_UNWIND. */
static PyObject *
on_leave_event(PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1) {
        Py_RETURN_NONE;
    }
    LINES_FOR_EACH_ENABLED(lines) {
        lines_thread_t *thread = lines_thread_current(lines);
        if (thread != NULL && thread->depth > 0
            && (thread->frames[thread->depth - 1].key == args[0]
                || lines_lookup(lines, args[0]) >= 0)) {
            lines_on_leave(lines, thread, args[0]);
            lines_on_frame_return(lines, args[0]);
        }
    }
    Py_RETURN_NONE;
}

static void
yield_one(pyprof_lines_t *lines, PyObject *code)
{
    lines_thread_t *thread = lines_thread_current(lines);
    if (thread == NULL || thread->depth == 0) {
        return;
    }
    lines_frame_t *top = &thread->frames[thread->depth - 1];
    if (lines->wall_await && top->key == code
        && lines->funcs[top->fn].is_coroutine) {
        PyObject *frame = (PyObject *)PyEval_GetFrame();
        if (frame != NULL) {
            pyprof_lines_suspend(lines, thread, frame);
            return;
        }
    }
    lines_on_leave(lines, thread, code);
}

static PyObject *
on_yield_event(PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1) {
        Py_RETURN_NONE;
    }
    LINES_FOR_EACH_ENABLED(lines) {
        yield_one(lines, args[0]);
    }
    Py_RETURN_NONE;
}

static PyObject *
on_line_any_event(PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 2) {
        Py_RETURN_NONE;
    }
    int line = pyprof_long_as_int(args[1]);
    LINES_FOR_EACH_ENABLED(lines) {
        lines_thread_t *thread = lines_thread_current(lines);
        if (thread != NULL) {
            lines_on_line(lines, thread, args[0], line);
        }
    }
    Py_RETURN_NONE;
}

/* JUMP (code, from, to): a backward jump within one line is a line event,
 * as sys.settrace reports it; any other jump never will be. */
static PyObject *
on_jump_event(PyObject *const *args, Py_ssize_t nargs)
{
    if (pyprof_lines_active == NULL || nargs < 3) {
        Py_RETURN_NONE;
    }
    int any_counts_jumps = 0;
    LINES_FOR_EACH_ENABLED(lines) {
        any_counts_jumps |= lines->comprehension_lines;
    }
    if (!any_counts_jumps) {
        return Py_NewRef(disable_value);   /* kernprof's count: LINE only */
    }
    int from = pyprof_long_as_int(args[1]);
    int to = pyprof_long_as_int(args[2]);
    if (to > from) {
        return Py_NewRef(disable_value);
    }
    PyCodeObject *code = (PyCodeObject *)args[0];
    int to_line = PyCode_Addr2Line(code, to);
    if (to_line != PyCode_Addr2Line(code, from)) {
        return Py_NewRef(disable_value);
    }
    LINES_FOR_EACH_ENABLED(lines) {
        lines_thread_t *thread = lines->comprehension_lines
                                     ? lines_thread_current(lines) : NULL;
        if (thread != NULL && to_line >= 0) {
            lines_on_line(lines, thread, args[0], to_line);
        }
    }
    Py_RETURN_NONE;
}

/* The callbacks sys.monitoring calls: each event bracketed as ours. */
#define EVENT_CALLBACK(name, nints)                                         \
    static PyObject *name(PyObject *unused, PyObject *const *args,         \
                          Py_ssize_t nargs)                                \
    {                                                                      \
        event_begin(args, nargs, nints);                                   \
        return event_end(name##_event(args, nargs));                       \
    }

EVENT_CALLBACK(on_start, 1)
EVENT_CALLBACK(on_resume, 1)
EVENT_CALLBACK(on_leave, 1)
EVENT_CALLBACK(on_yield, 1)
/* Out of line: on_line below then saves no registers for it. */
static PyObject *on_line_any(PyObject *, PyObject *const *, Py_ssize_t)
    __attribute__((noinline));
EVENT_CALLBACK(on_line_any, 1)
EVENT_CALLBACK(on_jump, 2)

/* LINE, the event that fires most: the common case straight.  The
 * engine is pyprof_lines_straight (the only one recording, none of whose
 * lines anyone listens to -- pyprof lines, a lone LineProfiler; not
 * pyprof memory, whose consumer allocates -- with a clock read by one
 * rdtsc), the thread is one it knows already and the line number a
 * positive one-digit int: nothing here can allocate or fail, so it needs
 * no allocation bracket, and the line's int is disowned as on_line_any
 * does (unless it is a cached small int, which nobody allocated).  Each
 * of those tests is one compare; anything else goes to on_line_any. */
static PyObject *
on_line(PyObject *unused, PyObject *const *args, Py_ssize_t nargs)
{
    pyprof_lines_t *lines = pyprof_lines_straight;
    int line;
    if (lines != NULL && nargs >= 2 && pyprof_long_as_line(args[1], &line)) {
        const lines_tls_t *slot = lines_tls_slot(lines);
        if (slot->epoch == lines->epoch) {
            if (line > PYPROF_CACHED_INT_MAX) {
                pyprof_alloc_disown(args[1], 0);
            }
            lines_on_line_as(lines, slot->thread, args[0], line, 1);
            Py_RETURN_NONE;
        }
    }
    return on_line_any(unused, args, nargs);
}

static PyMethodDef callback_defs[NCALLBACKS] = {
    [CB_START] = {"_pyprof_lines_start", (PyCFunction)(void (*)(void))on_start,
                  METH_FASTCALL, NULL},
    [CB_RESUME] = {"_pyprof_lines_resume",
                   (PyCFunction)(void (*)(void))on_resume, METH_FASTCALL,
                   NULL},
    [CB_LEAVE] = {"_pyprof_lines_leave", (PyCFunction)(void (*)(void))on_leave,
                  METH_FASTCALL, NULL},
    [CB_YIELD] = {"_pyprof_lines_yield", (PyCFunction)(void (*)(void))on_yield,
                  METH_FASTCALL, NULL},
    [CB_LINE] = {"_pyprof_lines_line", (PyCFunction)(void (*)(void))on_line,
                 METH_FASTCALL, NULL},
    [CB_JUMP] = {"_pyprof_lines_jump", (PyCFunction)(void (*)(void))on_jump,
                 METH_FASTCALL, NULL},
};

/* Which callback serves which event, and whether the event is local. */
static const struct {
    const char *event;
    int callback;
    int local;
} event_table[] = {
    {"PY_START", CB_START, 1},   {"PY_RESUME", CB_RESUME, 1},
    {"PY_THROW", CB_RESUME, 0},  {"PY_RETURN", CB_LEAVE, 1},
    {"PY_UNWIND", CB_LEAVE, 0},  {"PY_YIELD", CB_YIELD, 1},
    {"LINE", CB_LINE, 1},        {"JUMP", CB_JUMP, 1},
};

#define NEVENTS (sizeof(event_table) / sizeof(event_table[0]))

/* Not 2-4 (the function profiler), 1 (coverage.py) or 0 (debuggers). */
static const int tool_ids[] = {5, 4};

/* Register the callbacks (None when `clear`); sets local_mask and returns
 * the global mask, or -1 with an exception set. */
static long
register_callbacks(PyObject *monitoring, int tool, int with_rules,
                   int clear)
{
    PyObject *events = PyObject_GetAttrString(monitoring, "events");
    if (events == NULL) {
        return -1;
    }
    PyObject *callbacks[NCALLBACKS] = {NULL};
    long global = 0, local = 0;
    for (size_t i = 0; i < NCALLBACKS && !clear; i++) {
        callbacks[i] = PyCFunction_New(&callback_defs[i], NULL);
        if (callbacks[i] == NULL) {
            global = -1;
            goto done;
        }
    }
    for (size_t i = 0; i < NEVENTS; i++) {
        PyObject *bit = PyObject_GetAttrString(events, event_table[i].event);
        long value = bit != NULL ? PyLong_AsLong(bit) : -1;
        Py_XDECREF(bit);
        if (value == -1 && PyErr_Occurred()) {
            global = -1;
            goto done;
        }
        PyObject *callback = clear ? Py_None
                                   : callbacks[event_table[i].callback];
        PyObject *res = PyObject_CallMethod(monitoring, "register_callback",
                                            "ilO", tool, value, callback);
        if (res == NULL) {
            global = -1;
            goto done;
        }
        Py_DECREF(res);
        if (event_table[i].local) {
            local |= value;
        }
        if (!event_table[i].local
            || (with_rules && strcmp(event_table[i].event, "PY_START") == 0)) {
            global |= value;
        }
    }
    local_mask = local;
done:
    for (size_t i = 0; i < NCALLBACKS; i++) {
        Py_XDECREF(callbacks[i]);
    }
    Py_DECREF(events);
    return global;
}

/* Set `code`'s local events for our tool; a code given events is
 * remembered in `watched` to be cleared at stop. */
static int
set_local(PyObject *monitoring, PyObject *code, long mask)
{
    if (mask != 0 && PyList_Append(watched, code) < 0) {
        return -1;
    }
    PyObject *res = PyObject_CallMethod(monitoring, "set_local_events", "iOl",
                                        tool_id, code, mask);
    if (res == NULL) {
        return -1;
    }
    Py_DECREF(res);
    return 0;
}

/* Local events on every code object `lines` selected. */
static int
watch_all(PyObject *monitoring, pyprof_lines_t *lines)
{
    Py_ssize_t n = PyList_GET_SIZE(lines->codes);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (set_local(monitoring, PyList_GET_ITEM(lines->codes, i),
                      local_mask) < 0) {
            return -1;
        }
    }
    return 0;
}

int
pyprof_lines_backend_watch(pyprof_lines_t *lines, PyObject *code)
{
    (void)lines;
    if (tool_id < 0) {
        return 0;
    }
    PyObject *monitoring = pyprof_monitoring_module();
    if (monitoring == NULL) {
        return -1;
    }
    int rc = set_local(monitoring, code, local_mask);
    Py_DECREF(monitoring);
    return rc;
}

/* Register the callbacks with selection rules: PY_START is global (each
 * code object's first start applies them), and code objects DISABLEd
 * earlier under the tool id (by an earlier engine, or by those recording
 * before this one's rules came) are looked at again. */
static int
start_rules(PyObject *monitoring)
{
    long global = register_callbacks(monitoring, tool_id, 1, 0);
    if (global < 0) {
        return -1;
    }
    PyObject *res = PyObject_CallMethod(monitoring, "set_events", "il",
                                        tool_id, global);
    if (res == NULL) {
        return -1;
    }
    Py_DECREF(res);
    res = PyObject_CallMethod(monitoring, "restart_events", NULL);
    if (res == NULL) {
        return -1;
    }
    Py_DECREF(res);
    return 0;
}

int
pyprof_lines_backend_join(pyprof_lines_t *lines)
{
    PyObject *monitoring = pyprof_monitoring_module();
    if (monitoring == NULL) {
        return -1;
    }
    int with_rules = 0;
    LINES_FOR_EACH_ENABLED(other) {
        with_rules |= other->nrules > 0;
    }
    int rc = 0;
    if (lines->nrules > 0 && !with_rules) {
        rc = start_rules(monitoring);
    }
    if (rc == 0) {
        rc = watch_all(monitoring, lines);
    }
    Py_DECREF(monitoring);
    return rc;
}

int
pyprof_lines_backend_start(pyprof_lines_t *lines)
{
    PyObject *monitoring = pyprof_monitoring_module();
    if (monitoring == NULL) {
        return -1;
    }
    if (disable_value == NULL) {
        disable_value = PyObject_GetAttrString(monitoring, "DISABLE");
        if (disable_value == NULL) {
            goto error;
        }
    }
    watched = PyList_New(0);
    if (watched == NULL) {
        goto error;
    }
    tool_id = pyprof_monitoring_claim_tool(monitoring, tool_ids, 2,
                                           "pyprof-lines",
                                           "the line profiler");
    if (tool_id < 0) {
        goto error;
    }
    if (lines->nrules > 0) {
        if (start_rules(monitoring) < 0) {
            goto error;
        }
    }
    else {
        long global = register_callbacks(monitoring, tool_id, 0, 0);
        PyObject *res = global < 0 ? NULL
                                   : PyObject_CallMethod(monitoring,
                                                         "set_events", "il",
                                                         tool_id, global);
        if (res == NULL) {
            goto error;
        }
        Py_DECREF(res);
    }
    if (watch_all(monitoring, lines) < 0) {
        goto error;
    }
    Py_DECREF(monitoring);
    return 0;
error:
    if (tool_id >= 0) {
        PyObject *type, *value, *traceback;
        PyErr_Fetch(&type, &value, &traceback);
        PyObject *r = PyObject_CallMethod(monitoring, "set_events", "ii",
                                          tool_id, 0);
        Py_XDECREF(r);
        PyErr_Clear();
        r = PyObject_CallMethod(monitoring, "free_tool_id", "i", tool_id);
        Py_XDECREF(r);
        PyErr_Clear();
        PyErr_Restore(type, value, traceback);
    }
    tool_id = -1;
    Py_CLEAR(watched);
    Py_DECREF(monitoring);
    return -1;
}

void
pyprof_lines_backend_stop(pyprof_lines_t *lines)
{
    (void)lines;
    if (tool_id < 0) {
        return;
    }
    PyObject *monitoring = pyprof_monitoring_module();
    if (monitoring != NULL) {
        PyObject *res = PyObject_CallMethod(monitoring, "set_events", "ii",
                                            tool_id, 0);
        Py_XDECREF(res);
        PyErr_Clear();
        Py_ssize_t n = watched != NULL ? PyList_GET_SIZE(watched) : 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (set_local(monitoring, PyList_GET_ITEM(watched, i), 0) < 0) {
                PyErr_Clear();
            }
        }
        register_callbacks(monitoring, tool_id, 0, 1);
        PyErr_Clear();
        res = PyObject_CallMethod(monitoring, "free_tool_id", "i", tool_id);
        Py_XDECREF(res);
        Py_DECREF(monitoring);
    }
    PyErr_Clear();
    Py_CLEAR(watched);
    tool_id = -1;
}

#endif
