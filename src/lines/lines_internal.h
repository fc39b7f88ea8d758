/* lines_internal.h - what the line-event backends share with the engine.
 *
 * The per-event work (charge the interval that ends, count the hit, start
 * the next one) is inline here so each backend's hook compiles into one
 * function with no calls on the common path.  Selecting code objects,
 * attaching a thread, growing a stack and coroutine bookkeeping are out of
 * line in lines_engine.c.
 */
#ifndef PYPROF_LINES_INTERNAL_H
#define PYPROF_LINES_INTERNAL_H

#include <Python.h>

#include "../core/clock.h"
#include "../core/ptrmap.h"
#include "lines_engine.h"

/* A selected function: its line table. */
typedef struct {
    PyObject *code;         /* strong: the function's own code object */
    int first_line;         /* co_firstlineno: index 0 of the arrays */
    int nlines;             /* lines covered, nested code included */
    int is_coroutine;
    uint64_t *hits;         /* [nlines] */
    pyprof_ticks_t *ticks;  /* [nlines] */
} lines_func_t;

/* A running selected frame on a thread's stack. */
typedef struct {
    const void *key;        /* the PyFrameObject (3.10/3.11) or the code
                               object (3.12+) the events name */
    uint32_t fn;
    int line;               /* the line running, or -1 before the first */
    pyprof_ticks_t start;   /* when that line's interval began */
    pyprof_ticks_t nested;  /* time of same-function frames inside it */
    pyprof_ticks_t gross;   /* all the time this frame charged */
    /* funcs[fn]'s line table, copied at enter so a line event reaches it
     * without the function table (whose arrays never move) */
    uint64_t *hits;
    pyprof_ticks_t *ticks;
    int first_line;
    unsigned nlines;
} lines_frame_t;

typedef struct lines_thread {
    lines_frame_t *frames;
    uint32_t depth;
    uint32_t capacity;
    struct lines_thread *next;  /* the engine's list of threads */
    const void *tstate;         /* the PyThreadState it belongs to (only
                                   compared, never dereferenced) */
} lines_thread_t;

typedef struct {
    pyprof_lines_rule_kind_t kind;
    char *text;             /* as given */
    char *file;             /* FUNCTION "file.py:func" / PATH: realpath */
    char *func;             /* FUNCTION: the (qualified) function name */
    int matched;
} lines_rule_t;

/* A coroutine suspended with wall_await: its line keeps running. */
typedef struct {
    PyObject *frame;        /* strong: the suspended frame object */
    uint32_t fn;
    int line;
    pyprof_ticks_t start;
} lines_suspended_t;

struct pyprof_lines {
    lines_func_t *funcs;
    uint32_t nfuncs;
    uint32_t funcs_capacity;
    pyprof_ptrmap_t code_fn;    /* selected code object (nested ones too)
                                   -> fn; `codes` keeps them alive */
    PyObject *codes;            /* list of every selected code object */
    lines_rule_t *rules;
    size_t nrules;
    char *main_file;            /* realpath of __main__'s file, or NULL */
    lines_thread_t *threads;
    uint64_t epoch;             /* validates the thread-local pointer */
    pyprof_clock_t clock;
    double ns_per_tick;         /* frozen at disable */
    pyprof_lines_consumer_t consumer;
    int has_consumer;
    int wall_await;
    int enabled;
    int out_of_memory;          /* sticky: a hook could not allocate */
    struct pyprof_lines *next_enabled;  /* the next engine recording */
    lines_suspended_t *suspended;
    size_t nsuspended;
    size_t suspended_capacity;
    PyObject *last_filename;    /* 1-entry cache of rule matching: */
    char *last_realpath;        /* co_filename -> its realpath */
    int resolving;              /* a FUNCTION rule's name is being looked
                                   up (getattr may run code: no nesting) */
    int comprehension_lines;    /* count each iteration of comprehensions
                                   and genexprs, as sys.settrace sees them
                                   (memory_profiler does); 0: kernprof's
                                   count, the line once per run */
};

/* The engines recording, in the order they were enabled, linked by
 * next_enabled; NULL when none is.  Several may record at once (a
 * program's own LineProfilers under `pyprof lines`, as line_profiler
 * allows): the backend's hooks are installed once, by the first, and
 * each event is handed to every engine in turn, each counting only the
 * code it selected.  A global because the interpreter's hooks are
 * process-wide and carry no engine pointer.  Protected by the GIL. */
extern pyprof_lines_t *pyprof_lines_active;

/* The engine whose LINE events go the straight way (lines_monitoring.c's
 * on_line): the only one recording, with no consumer (not pyprof memory)
 * and a clock pyprof_clock_ticks_straight reads; else NULL.  Kept by
 * lines_engine.c whenever an engine starts or stops recording.  Hidden:
 * the hook reaches it without a GOT load.  Protected by the GIL. */
extern __attribute__((visibility("hidden"))) pyprof_lines_t
    *pyprof_lines_straight;

#define LINES_FOR_EACH_ENABLED(var)                                        \
    for (pyprof_lines_t *var = pyprof_lines_active; var != NULL;          \
         var = var->next_enabled)

typedef struct {
    uint64_t epoch;
    lines_thread_t *thread;
} lines_tls_t;

/* The calling thread's stack for engine `epoch`, in slot epoch % SLOTS
 * (so engines recording together rarely evict each other): thread-local
 * by nature, initial-exec so reaching it is one instruction. */
#define LINES_TLS_SLOTS 4
extern _Thread_local lines_tls_t pyprof_lines_tls[LINES_TLS_SLOTS]
    __attribute__((tls_model("initial-exec")));

/* Slow paths (lines_engine.c); they never raise. */
lines_thread_t *pyprof_lines_thread_attach(pyprof_lines_t *lines);
int pyprof_lines_thread_grow(pyprof_lines_t *lines, lines_thread_t *thread);

/* The fn of a code object that is not selected yet: applies the rules.
 * Returns the fn, or -1 when the code is not selected (or on failure,
 * which sets out_of_memory).  Never raises. */
int64_t pyprof_lines_select_by_rules(pyprof_lines_t *lines, PyObject *code);

/* wall_await bookkeeping; `frame` borrowed. */
void pyprof_lines_suspend(pyprof_lines_t *lines, lines_thread_t *thread,
                          PyObject *frame);
int pyprof_lines_resume(pyprof_lines_t *lines, lines_frame_t *top,
                        PyObject *frame);

/* Backends: start the hooks for the first engine to record, have them
 * serve one more engine joining those recording (0, or -1 with an
 * exception set), stop them when the last engine stops (`lines`), and
 * instrument one newly selected code object while enabled. */
int pyprof_lines_backend_start(pyprof_lines_t *lines);
int pyprof_lines_backend_join(pyprof_lines_t *lines);
void pyprof_lines_backend_stop(pyprof_lines_t *lines);
int pyprof_lines_backend_watch(pyprof_lines_t *lines, PyObject *code);

/* The calling thread's slot for `lines`: its stack is slot->thread when
 * slot->epoch is lines->epoch (never NULL then), else not attached. */
static inline const lines_tls_t *
lines_tls_slot(const pyprof_lines_t *lines)
{
    return &pyprof_lines_tls[lines->epoch % LINES_TLS_SLOTS];
}

/* The calling thread's stack for `lines` if it has one already, else NULL
 * (nothing attached, nothing allocated). */
static inline lines_thread_t *
lines_thread_known(const pyprof_lines_t *lines)
{
    const lines_tls_t *slot = lines_tls_slot(lines);
    return slot->epoch == lines->epoch ? slot->thread : NULL;
}

static inline lines_thread_t *
lines_thread_current(pyprof_lines_t *lines)
{
    lines_thread_t *thread = lines_thread_known(lines);
    return thread != NULL ? thread : pyprof_lines_thread_attach(lines);
}

/* The fn of a selected code object, or -1 (no rules consulted). */
static inline int64_t
lines_lookup(const pyprof_lines_t *lines, const void *code)
{
    uint32_t fn;
    if (pyprof_ptrmap_get(&lines->code_fn, code, &fn)) {
        return fn;
    }
    return -1;
}

/* End the interval of `frame`'s current line at `now`.  `consumer` is
 * lines->has_consumer, or a constant 0 from a caller that has checked it
 * (the compiler then drops the consumer's calls from that path). */
static inline __attribute__((always_inline)) void
lines_charge_as(pyprof_lines_t *lines, lines_frame_t *frame,
                pyprof_ticks_t now, int consumer)
{
    if (frame->line >= 0) {
        pyprof_ticks_t gross = now - frame->start;
        unsigned idx = (unsigned)(frame->line - frame->first_line);
        if (idx < frame->nlines) {
            frame->ticks[idx] += gross - frame->nested;
        }
        frame->gross += gross;
        if (consumer) {
            lines->consumer.line_end(lines->consumer.ctx, frame->fn,
                                     frame->line);
        }
    }
    frame->nested = 0;
}

static inline void
lines_charge(pyprof_lines_t *lines, lines_frame_t *frame, pyprof_ticks_t now)
{
    lines_charge_as(lines, frame, now, lines->has_consumer);
}

/* A line event for `key` in the calling thread at line `line`.  Ignored
 * unless key is the thread's top selected frame.  `straight`: the
 * engine is pyprof_lines_straight (no consumer, a straight clock), a
 * constant 1 from the straight hook, which then tests neither; else 0. */
static inline __attribute__((always_inline)) void
lines_on_line_as(pyprof_lines_t *lines, lines_thread_t *thread,
                 const void *key, int line, int straight)
{
    if (thread->depth == 0) {
        return;
    }
    lines_frame_t *top = &thread->frames[thread->depth - 1];
    if (top->key != key) {
        return;
    }
    int consumer = straight ? 0 : lines->has_consumer;
    pyprof_ticks_t now = straight
                             ? pyprof_clock_ticks_straight(&lines->clock)
                             : pyprof_clock_ticks(&lines->clock);
    lines_charge_as(lines, top, now, consumer);
    unsigned idx = (unsigned)(line - top->first_line);
    if (idx < top->nlines) {
        top->hits[idx]++;
    }
    top->line = line;
    if (consumer) {
        lines->consumer.line_begin(lines->consumer.ctx, top->fn, line);
    }
    top->start = now;
}

static inline void
lines_on_line(pyprof_lines_t *lines, lines_thread_t *thread, const void *key,
              int line)
{
    lines_on_line_as(lines, thread, key, line, 0);
}

/* A selected frame `key` of function `fn` starts (line -1) or resumes at
 * `line`. */
static inline lines_frame_t *
lines_on_enter(pyprof_lines_t *lines, lines_thread_t *thread,
               const void *key, uint32_t fn, int line)
{
    if (thread->depth == thread->capacity) {
        if (pyprof_lines_thread_grow(lines, thread) < 0) {
            return NULL;
        }
    }
    lines_frame_t *frame = &thread->frames[thread->depth++];
    frame->key = key;
    frame->fn = fn;
    const lines_func_t *func = &lines->funcs[fn];
    frame->hits = func->hits;
    frame->ticks = func->ticks;
    frame->first_line = func->first_line;
    frame->nlines = (unsigned)func->nlines;
    frame->line = line;
    frame->nested = 0;
    frame->gross = 0;
    if (line >= 0 && lines->has_consumer) {
        lines->consumer.line_begin(lines->consumer.ctx, fn, line);
    }
    frame->start = pyprof_clock_ticks(&lines->clock);
    return frame;
}

/* A frame running selected `code` of function `fn` starts (a call, not a
 * resume): the consumer hears of it when code is the function's own. */
static inline void
lines_on_frame_start(pyprof_lines_t *lines, uint32_t fn, const void *code)
{
    if (lines->has_consumer && lines->consumer.frame_start != NULL
        && lines->funcs[fn].code == code) {
        lines->consumer.frame_start(lines->consumer.ctx, fn);
    }
}

/* A selected frame running `code` returned or raised (did not suspend):
 * the consumer hears of it when code is its function's own. */
static inline void
lines_on_frame_return(pyprof_lines_t *lines, const void *code)
{
    if (!lines->has_consumer || lines->consumer.frame_return == NULL) {
        return;
    }
    int64_t fn = lines_lookup(lines, code);
    if (fn >= 0 && lines->funcs[fn].code == code) {
        lines->consumer.frame_return(lines->consumer.ctx, (uint32_t)fn);
    }
}

/* Pop the top frame at `now`, handing its time to a same-function parent
 * as nested time. */
static inline void
lines_pop(pyprof_lines_t *lines, lines_thread_t *thread, pyprof_ticks_t now)
{
    lines_frame_t *top = &thread->frames[--thread->depth];
    lines_charge(lines, top, now);
    if (thread->depth > 0) {
        lines_frame_t *parent = &thread->frames[thread->depth - 1];
        if (parent->fn == top->fn) {
            parent->nested += top->gross;
        }
    }
}

/* Frame `key` returns, raises or suspends.  Frames above it (whose exit
 * was missed) are closed too. */
static inline void
lines_on_leave(pyprof_lines_t *lines, lines_thread_t *thread, const void *key)
{
    pyprof_ticks_t now = pyprof_clock_ticks(&lines->clock);
    uint32_t depth = thread->depth;
    while (depth > 0 && thread->frames[depth - 1].key != key) {
        depth--;
    }
    if (depth == 0) {
        return;
    }
    while (thread->depth >= depth) {
        lines_pop(lines, thread, now);
    }
}

#endif
