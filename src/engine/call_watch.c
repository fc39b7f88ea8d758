/* call_watch.c - see call_watch.h.
 *
 * The watched functions (keyed by code object) and, per thread, a stack
 * of their calls running, each with the token its enter hook returned.
 * A backend (call_watch_backend.h) reports frames starting and ending:
 * a start of watched code pushes, an end pops when its code is the top's
 * (an end of any other code costs a thread-local load and a compare).
 * The backend is claimed when the first function is watched and released
 * when the last one is removed.
 */
#include "call_watch.h"

#include <stdint.h>
#include <stdlib.h>

#include "../core/ptrmap.h"
#include "call_watch_backend.h"
#include "compat.h"

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

/* Everything watched.  Global because the backends' hooks carry no
 * context; protected by the GIL. */
static struct {
    int claimed;            /* the backend sees calls */
    watched_t *funcs;
    uint32_t nfuncs, capacity, live;
    pyprof_ptrmap_t by_code;            /* code -> index into funcs */
    call_stack_t *stacks;               /* every thread's */
    uint64_t epoch;         /* a new one per claim: validates TLS */
} watch;

/* The calling thread's stack for watch.epoch; initial-exec so an end of
 * any frame (from 3.12 the unwind callback sees every exception of the
 * program) costs one load. */
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
    pyprof_error_restore(exc);
}

static void
finish(running_t *call, pyprof_frame_release_t release, void *frame)
{
    watched_t *w = &watch.funcs[call->index];
    if (w->hooks == NULL) {
        return;
    }
    if (w->hooks->frame_released && release != NULL) {
        /* the locals' finalizers may run Python code: the exception
         * pending at a raising frame's end is kept aside */
        PyObject *exc = pyprof_error_take();
        release(frame);
        PyErr_Clear();
        pyprof_error_restore(exc);
    }
    run_exit(w->hooks, w->func, call->token);
}

pyprof_call_mark_t
pyprof_call_watch_push(PyObject *code)
{
    pyprof_call_mark_t none = {0, 0};
    uint32_t index;
    if (!watch.claimed || !pyprof_ptrmap_get(&watch.by_code, code, &index)
        || watch.funcs[index].hooks == NULL) {
        return none;
    }
    call_stack_t *stack = current_stack();
    if (stack == NULL) {
        return none;
    }
    if (stack->depth == stack->capacity) {
        size_t capacity = stack->capacity ? stack->capacity * 2 : 16;
        running_t *grown = realloc(stack->calls, capacity * sizeof(*grown));
        if (grown == NULL) {
            return none; /* unseen; its end finds another top */
        }
        stack->calls = grown;
        stack->capacity = capacity;
    }
    watched_t *w = &watch.funcs[index];
    PyObject *exc = pyprof_error_take();
    void *token = w->hooks->enter(w->func);
    PyErr_Clear();
    pyprof_error_restore(exc);
    /* the hook may have run Python code: the stack may have been freed */
    stack = current_stack();
    if (stack == NULL || stack->depth == stack->capacity) {
        running_t lost = {code, index, token};
        finish(&lost, NULL, NULL);
        return none;
    }
    stack->calls[stack->depth++] = (running_t){code, index, token};
    return (pyprof_call_mark_t){watch.epoch, stack->depth};
}

/* Pop and finish the thread's innermost call if it runs `code` and (when
 * depth is non-zero) stands at `depth`. */
static void
pop_if(PyObject *code, size_t depth, pyprof_frame_release_t release,
       void *frame)
{
    if (tls.epoch != watch.epoch || tls.stack == NULL) {
        return;
    }
    call_stack_t *stack = tls.stack;
    if (stack->depth == 0 || stack->calls[stack->depth - 1].code != code
        || (depth != 0 && stack->depth != depth)) {
        return;
    }
    running_t call = stack->calls[--stack->depth];
    finish(&call, release, frame);
}

void
pyprof_call_watch_pop(PyObject *code, pyprof_frame_release_t release,
                      void *frame)
{
    pop_if(code, 0, release, frame);
}

void
pyprof_call_watch_pop_mark(PyObject *code, pyprof_call_mark_t mark,
                           pyprof_frame_release_t release, void *frame)
{
    if (mark.depth != 0 && mark.epoch == watch.epoch) {
        pop_if(code, mark.depth, release, frame);
    }
}

/* Release the backend and forget every stack (the calls still running
 * have had their exit).  Never raises. */
static void
release(void)
{
    if (watch.claimed) {
        pyprof_call_watch_backend_release();
        watch.claimed = 0;
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

/* Claim the backend for the first watched function.  1, 0 when it cannot
 * be claimed (nothing raised), -1 with an exception set; on anything but
 * 1 nothing stays claimed. */
static int
claim(void)
{
    if (pyprof_ptrmap_init(&watch.by_code) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    watch.epoch++;
    int rc = pyprof_call_watch_backend_claim();
    watch.claimed = rc == 1;
    if (rc <= 0) {
        PyObject *exc = pyprof_error_take();
        pyprof_call_watch_backend_release();    /* what was half claimed */
        release();
        pyprof_error_restore(exc);
    }
    return rc;
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
    if (hooks->frame_released && !pyprof_call_watch_backend_releases_frames()) {
        return 0;
    }
    uint32_t index;
    if (watch.claimed && pyprof_ptrmap_get(&watch.by_code, code, &index)
        && watch.funcs[index].hooks != NULL) {
        if (watch.funcs[index].hooks != hooks) {
            return 0;
        }
        /* decorated again (or another closure of the same code) */
        Py_SETREF(watch.funcs[index].func, Py_NewRef(func));
        return 1;
    }
    if (!watch.claimed) {
        int rc = claim();
        if (rc <= 0) {
            return rc;
        }
    }
    if (append(code, func, hooks) < 0) {
        return -1;
    }
    if (pyprof_call_watch_backend_watch(code) < 0) {
        watch.funcs[watch.nfuncs - 1].hooks = NULL;
        watch.live--;
        return -1;
    }
    return 1;
}

void
pyprof_call_watch_remove(const pyprof_call_hooks_t *hooks)
{
    if (!watch.claimed) {
        return;
    }
    PyObject *exc = pyprof_error_take();
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
        pyprof_call_watch_backend_unwatch(w->code);
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
        release();
    }
    for (uint32_t i = 0; funcs != NULL && i < nfuncs; i++) {
        Py_XDECREF(funcs[i]);
    }
    free(funcs);
    pyprof_error_restore(exc);
}
