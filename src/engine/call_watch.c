/* call_watch.c - see call_watch.h.
 *
 * One sys.monitoring tool (4, else 3, else 5), claimed when the first
 * function is watched and freed when the last one is removed.  Each
 * thread keeps a stack of the watched calls running, with the token its
 * enter hook returned; a PY_RETURN or PY_UNWIND pops it when its code is
 * the top's (an event of any other code costs a thread-local load and a
 * compare).  One hook set per code object, so one push per frame.
 */
#include "call_watch.h"

#include "compat.h"

#if PYPROF_USE_MONITORING

#include <stdint.h>
#include <stdlib.h>

#include "../core/ptrmap.h"
#include "hook_install.h"

typedef struct {
    PyObject *code;                     /* strong */
    PyObject *func;                     /* strong: handed to the hooks */
    const pyprof_call_hooks_t *hooks;   /* NULL once removed */
} watched_t;

typedef struct {
    const PyObject *code;   /* of the running call (compared only) */
    uint32_t index;         /* into watch.funcs */
    void *token;
} running_t;

typedef struct call_stack {
    running_t *calls;
    size_t depth, capacity;
    struct call_stack *next;            /* watch.stacks */
} call_stack_t;

/* Everything watched.  Global because sys.monitoring's callbacks carry no
 * context; protected by the GIL. */
static struct {
    int tool_id;            /* -1 when no tool is claimed */
    watched_t *funcs;
    uint32_t nfuncs, capacity, live;
    pyprof_ptrmap_t by_code;            /* code -> index into funcs */
    call_stack_t *stacks;               /* every thread's */
    uint64_t epoch;         /* a new one per claimed tool: validates TLS */
    long start_event, return_event, unwind_event;
} watch = {.tool_id = -1};

/* The calling thread's stack for watch.epoch; initial-exec so the
 * unwind callback, which sees every exception of the program, costs one
 * load. */
static _Thread_local struct {
    uint64_t epoch;
    call_stack_t *stack;
} tls __attribute__((tls_model("initial-exec")));

/* The calling thread's stack, created on first use; NULL when out of
 * memory (the call goes unseen). */
static call_stack_t *
current_stack(void)
{
    if (tls.epoch == watch.epoch && tls.stack != NULL) {
        return tls.stack;
    }
    call_stack_t *stack = calloc(1, sizeof(*stack));
    if (stack == NULL) {
        return NULL;
    }
    stack->next = watch.stacks;
    watch.stacks = stack;
    tls.epoch = watch.epoch;
    tls.stack = stack;
    return stack;
}

/* Call a popped call's exit hook, keeping the pending exception. */
static void
run_exit(const pyprof_call_hooks_t *hooks, PyObject *func, void *token)
{
    PyObject *exc = pyprof_error_take();
    hooks->exit(func, token);
    PyErr_Clear();
    if (exc != NULL) {
        PyErr_SetRaisedException(exc);
    }
}

static void
finish(running_t *call)
{
    watched_t *w = &watch.funcs[call->index];
    if (w->hooks != NULL) {
        run_exit(w->hooks, w->func, call->token);
    }
}

/* PY_START (code, offset): a watched function starts. */
static PyObject *
on_start(PyObject *unused, PyObject *const *args, Py_ssize_t nargs)
{
    uint32_t index;
    if (nargs < 1 || !pyprof_ptrmap_get(&watch.by_code, args[0], &index)
        || watch.funcs[index].hooks == NULL) {
        Py_RETURN_NONE;
    }
    call_stack_t *stack = current_stack();
    if (stack == NULL) {
        Py_RETURN_NONE;
    }
    if (stack->depth == stack->capacity) {
        size_t capacity = stack->capacity ? stack->capacity * 2 : 16;
        running_t *grown = realloc(stack->calls, capacity * sizeof(*grown));
        if (grown == NULL) {
            Py_RETURN_NONE; /* unseen; its return finds another top */
        }
        stack->calls = grown;
        stack->capacity = capacity;
    }
    watched_t *w = &watch.funcs[index];
    PyObject *exc = pyprof_error_take();
    void *token = w->hooks->enter(w->func);
    PyErr_Clear();
    if (exc != NULL) {
        PyErr_SetRaisedException(exc);
    }
    /* the hook may have run Python code: the stack may have been freed */
    stack = current_stack();
    if (stack == NULL || stack->depth == stack->capacity) {
        running_t lost = {args[0], index, token};
        finish(&lost);
        Py_RETURN_NONE;
    }
    stack->calls[stack->depth++] = (running_t){args[0], index, token};
    Py_RETURN_NONE;
}

/* PY_RETURN (code, offset, value) and PY_UNWIND (code, offset, exc): a
 * frame ends; pop it if it is the top watched call. */
static PyObject *
on_leave(PyObject *unused, PyObject *const *args, Py_ssize_t nargs)
{
    if (tls.epoch != watch.epoch || tls.stack == NULL || nargs < 1) {
        Py_RETURN_NONE;
    }
    call_stack_t *stack = tls.stack;
    if (stack->depth == 0 || stack->calls[stack->depth - 1].code != args[0]) {
        Py_RETURN_NONE;
    }
    running_t call = stack->calls[--stack->depth];
    finish(&call);
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
                                        "ilO", watch.tool_id, event,
                                        callback);
    Py_DECREF(callback);
    Py_XDECREF(res);
    return res != NULL ? 0 : -1;
}

/* Claim a tool id and register the callbacks.  Returns 1, 0 when every
 * tool id is taken (nothing raised), -1 with an exception set. */
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
    watch.tool_id = tool_id;
    watch.epoch++;
    watch.start_event = event_bit(monitoring, "PY_START");
    watch.return_event = event_bit(monitoring, "PY_RETURN");
    watch.unwind_event = event_bit(monitoring, "PY_UNWIND");
    if (watch.start_event < 0 || watch.return_event < 0
        || watch.unwind_event < 0
        || register_callback(monitoring, watch.start_event, &start_def) < 0
        || register_callback(monitoring, watch.return_event, &leave_def) < 0
        || register_callback(monitoring, watch.unwind_event, &leave_def) < 0) {
        return -1;
    }
    PyObject *res = PyObject_CallMethod(monitoring, "set_events", "il",
                                        watch.tool_id, watch.unwind_event);
    Py_XDECREF(res);
    return res != NULL ? 1 : -1;
}

/* Give the tool back and forget every stack (the calls still running
 * have had their exit).  Never raises. */
static void
release_tool(PyObject *monitoring)
{
    if (watch.tool_id >= 0) {
        PyObject *res = PyObject_CallMethod(monitoring, "set_events", "ii",
                                            watch.tool_id, 0);
        Py_XDECREF(res);
        PyErr_Clear();
        long events[] = {watch.start_event, watch.return_event,
                         watch.unwind_event};
        for (size_t i = 0; i < 3; i++) {
            if (events[i] > 0 && register_callback(monitoring, events[i],
                                                   NULL) < 0) {
                PyErr_Clear();
            }
        }
        res = PyObject_CallMethod(monitoring, "free_tool_id", "i",
                                  watch.tool_id);
        Py_XDECREF(res);
        PyErr_Clear();
        watch.tool_id = -1;
    }
    while (watch.stacks != NULL) {
        call_stack_t *next = watch.stacks->next;
        free(watch.stacks->calls);
        free(watch.stacks);
        watch.stacks = next;
    }
    watch.epoch++;      /* every thread's pointer is stale now */
    for (uint32_t i = 0; i < watch.nfuncs; i++) {
        Py_CLEAR(watch.funcs[i].code);
        Py_CLEAR(watch.funcs[i].func);
    }
    free(watch.funcs);
    watch.funcs = NULL;
    watch.nfuncs = watch.capacity = watch.live = 0;
    pyprof_ptrmap_free(&watch.by_code);
}

/* Append a watched function.  Returns its index, or -1 with an exception
 * set. */
static int64_t
append(PyObject *code, PyObject *func, const pyprof_call_hooks_t *hooks)
{
    if (watch.nfuncs == watch.capacity) {
        uint32_t capacity = watch.capacity ? watch.capacity * 2 : 8;
        watched_t *grown = realloc(watch.funcs, capacity * sizeof(*grown));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        watch.funcs = grown;
        watch.capacity = capacity;
    }
    if (pyprof_ptrmap_set(&watch.by_code, code, watch.nfuncs) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    watch.funcs[watch.nfuncs] = (watched_t){Py_NewRef(code), Py_NewRef(func),
                                            hooks};
    watch.live++;
    return watch.nfuncs++;
}

int
pyprof_call_watch_add(PyObject *func, const pyprof_call_hooks_t *hooks)
{
    if (!PyFunction_Check(func)) {
        return 0;
    }
    PyObject *code = PyFunction_GET_CODE(func);   /* borrowed */
    if (((PyCodeObject *)code)->co_flags
        & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)) {
        return 0;   /* a call is not one frame from start to return */
    }
    uint32_t index;
    if (watch.tool_id >= 0 && pyprof_ptrmap_get(&watch.by_code, code, &index)
        && watch.funcs[index].hooks != NULL) {
        if (watch.funcs[index].hooks != hooks) {
            return 0;
        }
        /* decorated again (or another closure of the same code) */
        Py_SETREF(watch.funcs[index].func, Py_NewRef(func));
        return 1;
    }
    PyObject *monitoring = pyprof_monitoring_module();
    if (monitoring == NULL) {
        return -1;
    }
    int rc = 1;
    if (watch.tool_id < 0) {
        if (pyprof_ptrmap_init(&watch.by_code) < 0) {
            PyErr_NoMemory();
            rc = -1;
        }
        else {
            rc = claim_tool(monitoring);
            if (rc <= 0) {
                PyObject *exc = pyprof_error_take();
                release_tool(monitoring);
                if (exc != NULL) {
                    PyErr_SetRaisedException(exc);
                }
            }
        }
    }
    if (rc == 1 && append(code, func, hooks) < 0) {
        rc = -1;
    }
    if (rc == 1) {
        PyObject *res = PyObject_CallMethod(
            monitoring, "set_local_events", "iOl", watch.tool_id, code,
            watch.start_event | watch.return_event);
        Py_XDECREF(res);
        if (res == NULL) {
            watch.funcs[watch.nfuncs - 1].hooks = NULL;
            watch.live--;
            rc = -1;
        }
    }
    Py_DECREF(monitoring);
    return rc;
}

void
pyprof_call_watch_remove(const pyprof_call_hooks_t *hooks)
{
    if (watch.tool_id < 0) {
        return;
    }
    PyObject *exc = pyprof_error_take();
    PyObject *monitoring = pyprof_monitoring_module();
    if (monitoring == NULL) {
        PyErr_Clear();
        goto done;
    }
    /* Take the calls still running out of the stacks first: their exit
     * hooks may run Python code, which may start watched calls. */
    size_t nended = 0, capacity = 0;
    running_t *ended = NULL;
    for (call_stack_t *s = watch.stacks; s != NULL; s = s->next) {
        size_t kept = 0;
        for (size_t i = 0; i < s->depth; i++) {
            running_t call = s->calls[i];
            if (watch.funcs[call.index].hooks != hooks) {
                s->calls[kept++] = call;
                continue;
            }
            if (nended == capacity) {
                capacity = capacity ? capacity * 2 : 16;
                running_t *grown = realloc(ended, capacity * sizeof(*grown));
                if (grown == NULL) {
                    continue;   /* out of memory: that exit is lost */
                }
                ended = grown;
            }
            ended[nended++] = call;
        }
        s->depth = kept;
    }
    uint32_t nfuncs = watch.nfuncs;
    PyObject **funcs = calloc(nfuncs ? nfuncs : 1, sizeof(*funcs));
    for (uint32_t i = 0; i < nfuncs; i++) {
        watched_t *w = &watch.funcs[i];
        if (w->hooks != hooks) {
            continue;
        }
        PyObject *res = PyObject_CallMethod(monitoring, "set_local_events",
                                            "iOi", watch.tool_id, w->code, 0);
        Py_XDECREF(res);
        PyErr_Clear();
        w->hooks = NULL;
        watch.live--;
        if (funcs != NULL) {
            funcs[i] = Py_NewRef(w->func);
        }
    }
    /* newest first, each thread's as a whole (any order across threads) */
    for (size_t i = nended; i-- > 0;) {
        if (funcs != NULL && funcs[ended[i].index] != NULL) {
            run_exit(hooks, funcs[ended[i].index], ended[i].token);
        }
    }
    free(ended);
    if (watch.live == 0) {
        release_tool(monitoring);
    }
    for (uint32_t i = 0; funcs != NULL && i < nfuncs; i++) {
        Py_XDECREF(funcs[i]);
    }
    free(funcs);
    Py_DECREF(monitoring);
done:
    if (exc != NULL) {
        PyErr_SetRaisedException(exc);
    }
}

#else

int
pyprof_call_watch_add(PyObject *func, const pyprof_call_hooks_t *hooks)
{
    return 0;   /* below 3.12 the caller wraps */
}

void
pyprof_call_watch_remove(const pyprof_call_hooks_t *hooks)
{
}

#endif
