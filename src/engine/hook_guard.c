/* hook_guard.c - see hook_guard.h. */
#include "hook_guard.h"

#if !PYPROF_USE_MONITORING

#include <stdio.h>
#include <string.h>

typedef struct {
    int active;
    Py_tracefunc ours;
    int reinstall;
    void (*let_go)(PyThreadState *t);  /* or NULL */
    void (*before)(PyThreadState *t);  /* or NULL */
    PyObject *also_ours;        /* borrowed, or NULL */
    const char *what;
    int warned;                 /* the warning is printed once a run */
    char where[512];            /* "file:line" of the last install, or "" */
} guard_t;

/* One guard per hook kind (0 profile, 1 trace).  Global because audit
 * hooks and pending calls carry no engine pointer; protected by the GIL
 * (audit hooks run with it held). */
static guard_t guards[2];
static int audit_hook_added;
static int check_pending;
int pyprof_hook_guard_own_installs;

/* Note the program's line that installs a hook: its innermost Python
 * frame, if any. */
static void
note_where(guard_t *guard)
{
    PyFrameObject *frame = PyEval_GetFrame();  /* borrowed */
    if (frame == NULL) {
        guard->where[0] = '\0';
        return;
    }
    PyCodeObject *code = pyprof_frame_code(frame);
    const char *file = PyUnicode_Check(code->co_filename)
                           ? PyUnicode_AsUTF8(code->co_filename) : NULL;
    if (file == NULL) {
        PyErr_Clear();
        file = "?";
    }
    snprintf(guard->where, sizeof(guard->where), "%s:%d", file,
             PyFrame_GetLineNumber(frame));
}

/* The pending call: every thread's hook, looked at once the install that
 * queued it is done. */
static int
check_threads(void *unused)
{
    check_pending = 0;
    PyInterpreterState *interp = PyThreadState_Get()->interp;
    for (int trace = 0; trace < 2; trace++) {
        guard_t *guard = &guards[trace];
        if (!guard->active) {
            continue;
        }
        for (PyThreadState *t = PyInterpreterState_ThreadHead(interp);
             t != NULL; t = PyThreadState_Next(t)) {
            Py_tracefunc func = trace ? t->c_tracefunc : t->c_profilefunc;
            PyObject *obj = trace ? t->c_traceobj : t->c_profileobj;
            if (func == guard->ours
                || (obj != NULL && obj == guard->also_ours)) {
                continue;
            }
            if (func == NULL && guard->let_go != NULL) {
                pyprof_hook_guard_own_begin();
                guard->let_go(t);
                pyprof_hook_guard_own_end();
                continue;
            }
            if (func == NULL) {
                if (guard->reinstall
                    && (trace ? _PyEval_SetTrace(t, guard->ours, NULL)
                              : _PyEval_SetProfile(t, guard->ours, NULL))
                           < 0) {
                    PyErr_Clear();
                }
                continue;
            }
            if (!guard->warned && guard->what != NULL) {
                guard->warned = 1;
                fprintf(stderr,
                        "pyprof: the program replaced the %s hook (%s)%s%s; "
                        "%s\n",
                        trace ? "trace" : "profile",
                        trace ? "sys.settrace" : "sys.setprofile",
                        guard->where[0] ? " at " : "", guard->where,
                        guard->what);
            }
        }
    }
    return 0;
}

static int
audit_hook(const char *event, PyObject *args, void *unused)
{
    if (event[0] != 's' || strncmp(event, "sys.set", 7) != 0) {
        return 0;
    }
    int trace;
    if (strcmp(event, "sys.setprofile") == 0) {
        trace = 0;
    }
    else if (strcmp(event, "sys.settrace") == 0) {
        trace = 1;
    }
    else {
        return 0;
    }
    if (!guards[trace].active || pyprof_hook_guard_own_installs > 0) {
        return 0;
    }
    if (guards[trace].before != NULL) {
        pyprof_hook_guard_own_begin();
        guards[trace].before(PyThreadState_Get());
        pyprof_hook_guard_own_end();
    }
    note_where(&guards[trace]);
    if (!check_pending && Py_AddPendingCall(check_threads, NULL) == 0) {
        check_pending = 1;
    }
    return 0;
}

static int guard_start(int trace, Py_tracefunc ours, int reinstall,
                       const pyprof_hook_guard_calls_t *calls,
                       PyObject *also_ours, const char *what);

int
pyprof_hook_guard_start(int trace, Py_tracefunc ours, int reinstall,
                        const char *what)
{
    return guard_start(trace, ours, reinstall, NULL, NULL, what);
}

int
pyprof_hook_guard_start_with(int trace, Py_tracefunc ours,
                             const pyprof_hook_guard_calls_t *calls,
                             PyObject *also_ours, const char *what)
{
    return guard_start(trace, ours, 0, calls, also_ours, what);
}

static int
guard_start(int trace, Py_tracefunc ours, int reinstall,
            const pyprof_hook_guard_calls_t *calls, PyObject *also_ours,
            const char *what)
{
    if (!audit_hook_added) {
        if (PySys_AddAuditHook(audit_hook, NULL) < 0) {
            return -1;
        }
        audit_hook_added = 1;
    }
    guard_t *guard = &guards[trace != 0];
    guard->ours = ours;
    guard->reinstall = reinstall;
    guard->let_go = calls != NULL ? calls->let_go : NULL;
    guard->before = calls != NULL ? calls->before : NULL;
    guard->also_ours = also_ours;
    guard->what = what;
    guard->warned = 0;
    guard->where[0] = '\0';
    guard->active = 1;
    return 0;
}

int
pyprof_hook_guard_name_existing(int trace, Py_tracefunc ours,
                                PyObject *also_ours, const char *what)
{
    PyInterpreterState *interp = PyThreadState_Get()->interp;
    for (PyThreadState *t = PyInterpreterState_ThreadHead(interp); t != NULL;
         t = PyThreadState_Next(t)) {
        Py_tracefunc func = trace ? t->c_tracefunc : t->c_profilefunc;
        PyObject *obj = trace ? t->c_traceobj : t->c_profileobj;
        if (func == NULL || func == ours
            || (obj != NULL && obj == also_ours)) {
            continue;
        }
        /* a sys.settrace() function is its object; a C tracer (coverage's
           CTracer) has one too, or none */
        PyObject *repr = obj != NULL ? PyObject_Repr(obj) : NULL;
        const char *name = repr != NULL ? PyUnicode_AsUTF8(repr) : NULL;
        if (name == NULL) {
            PyErr_Clear();
        }
        fprintf(stderr,
                "pyprof: a %s hook was set before pyprof started (%s: %s); "
                "%s\n",
                trace ? "trace" : "profile",
                trace ? "sys.settrace" : "sys.setprofile",
                name != NULL ? name : "a C function", what);
        Py_XDECREF(repr);
        return 1;
    }
    return 0;
}

void
pyprof_hook_guard_stop(int trace)
{
    guards[trace != 0].active = 0;
}

#endif
