/* profiler_internal.h - what the hook backends share with profiler.c.
 *
 * The per-event work (find the child node, push or pop a frame, read the
 * clock) is inline here so each backend's hook compiles into one function
 * with no calls on the common path.  Everything rare (a new call path, a
 * new thread, growing a stack) is out of line in profiler.c.
 */
#ifndef PYPROF_PROFILER_INTERNAL_H
#define PYPROF_PROFILER_INTERNAL_H

#include <Python.h>

#include "../core/calltree.h"
#include "../core/clock.h"
#include "../core/ptrmap.h"
#include "profiler.h"

/* One open call on a thread's shadow stack. */
typedef struct {
    pyprof_node_id_t node;
    pyprof_node_id_t cached_child;  /* the child entered last from here */
    const void *cached_key;         /* its key: loops skip the table */
    pyprof_ticks_t start;
    pyprof_ticks_t children;        /* time of callees that returned */
} pyprof_frame_t;

/* A thread's shadow stack.  frames[0] is a sentinel standing for the root
 * so every real frame has a parent frame. */
typedef struct pyprof_thread {
    pyprof_frame_t *frames;
    uint32_t depth;                 /* frames in use, sentinel included */
    uint32_t capacity;
    struct pyprof_thread *next;     /* the profiler's list of threads */
} pyprof_thread_t;

/* What the profiler knows of a function, by function-table index. */
typedef struct {
    PyObject *code;     /* strong ref to the code object, or NULL for C */
    PyObject *label;    /* strong ref to cProfile's "<built-in ...>" label
                           for C functions, or NULL */
} pyprof_funcinfo_t;

struct pyprof_profiler {
    pyprof_calltree_t tree;
    pyprof_funcinfo_t *funcs;       /* function table */
    uint32_t nfuncs;
    uint32_t funcs_capacity;
    pyprof_ptrmap_t func_index;     /* key -> index in funcs */
    pyprof_thread_t *threads;       /* every thread that reported */
    uint64_t epoch;                 /* unique per profiler: validates the
                                       thread-local pointer below */
    pyprof_clock_t clock;
    double ns_per_tick;             /* clock rate frozen at disable, so
                                       every export of a stopped profile
                                       gives the same numbers */
    int builtins;                   /* record C functions too */
    int enabled;
    int out_of_memory;              /* sticky: a hook could not allocate;
                                       reported at export */
    int slot;                       /* while enabled: its index in
                                       pyprof_tls[] */
    PyObject *timer;                /* strong: cProfile's timer callable
                                       the clock calls, or NULL */
    double timeunit;                /* > 0: the timer gives integers of
                                       this many seconds; else seconds */
};

/* How the pstats model names function `info`: its file, first line and
 * name (UTF-8, borrowed from the code object or label; "?" when not
 * encodable), or "~", 0 and the label for a C function. */
void pyprof_funcinfo_name(const pyprof_funcinfo_t *info,
                          const char **filename, long *lineno,
                          const char **funcname);

/* For what the hooks reach on every event: the extension's own, so it
 * is addressed directly rather than through the GOT and PLT (a load and
 * an indirect jump per use otherwise, since a shared object's default
 * symbols may be interposed). */
#define PYPROF_HOT_INTERNAL __attribute__((visibility("hidden")))

/* A rare path of a hook, kept out of the hook's own code. */
#define PYPROF_SLOW_PATH __attribute__((noinline, cold))

/* How many profilers may record at once: nested Profile()s, one per
 * thread, a program's own under `pyprof run` (cProfile allows as many
 * below 3.12). */
#define PYPROF_MAX_ACTIVE 4

/* The profilers recording, in the order they were enabled: each event is
 * handed to every one.  Globals because the interpreter's hooks are
 * process-wide and hold no profiler pointer we can use on 3.12+.
 * Protected by the GIL. */
extern PYPROF_HOT_INTERNAL pyprof_profiler_t
    *pyprof_active[PYPROF_MAX_ACTIVE];
extern PYPROF_HOT_INTERNAL int pyprof_nactive;

/* The profiler whose events go the straight way: the only one recording,
 * with a clock pyprof_clock_ticks_straight reads (one rdtsc; not a CPU
 * clock or a timer function); else NULL, and the hooks hand each event
 * to every profiler in pyprof_active.  Kept by profiler.c at every
 * enable and disable.  Protected by the GIL. */
extern PYPROF_HOT_INTERNAL pyprof_profiler_t *pyprof_straight;

/* The calling thread's shadow stack for profiler `epoch`, one slot per
 * profiler recording.  Thread-local by nature; the epoch check comes
 * first so a stale pointer left by a freed profiler is never
 * dereferenced.  initial-exec: one instruction to reach it instead of a
 * __tls_get_addr() call per event (64 bytes of the static TLS surplus
 * glibc keeps for dlopen()ed modules). */
typedef struct {
    uint64_t epoch;
    pyprof_thread_t *thread;
} pyprof_tls_t;

extern PYPROF_HOT_INTERNAL _Thread_local pyprof_tls_t
    pyprof_tls[PYPROF_MAX_ACTIVE] __attribute__((tls_model("initial-exec")));

/* Slow paths, in profiler.c (cold: the hooks' branches to them are laid
 * out of the way).  They never raise: on failure they set
 * prof->out_of_memory and return NULL / PYPROF_ROOT_NODE / -1. */
PYPROF_HOT_INTERNAL __attribute__((cold)) pyprof_thread_t *
pyprof_thread_attach(pyprof_profiler_t *prof);
PYPROF_HOT_INTERNAL __attribute__((cold)) pyprof_node_id_t
pyprof_profiler_new_path(pyprof_profiler_t *prof, pyprof_node_id_t parent,
                         const void *key, PyObject *callable,
                         PyObject *self_arg);
PYPROF_HOT_INTERNAL __attribute__((cold)) int
pyprof_thread_grow(pyprof_profiler_t *prof, pyprof_thread_t *thread);
PYPROF_HOT_INTERNAL __attribute__((cold)) pyprof_node_id_t
pyprof_profiler_find_child(pyprof_profiler_t *prof, pyprof_frame_t *top,
                           const void *key, PyObject *callable,
                           PyObject *self_arg);
PYPROF_HOT_INTERNAL __attribute__((cold)) void
pyprof_thread_unwind_to(pyprof_profiler_t *prof, pyprof_thread_t *thread,
                        const void *key, pyprof_ticks_t now);

/* Keys: a code object's address for Python functions; a PyMethodDef's
 * address with the low bit set for C functions, so the two kinds never
 * collide. */
static inline const void *
pyprof_c_key(const PyMethodDef *def)
{
    return (const void *)((uintptr_t)def | 1u);
}

static inline int
pyprof_key_is_c(const void *key)
{
    return ((uintptr_t)key & 1u) != 0;
}

/* What the hooks inline: always, whatever the compiler's own weighing
 * (GCC 16 keeps a two-caller pyprof_on_enter out of line, a call and
 * four saved registers per event). */
#define PYPROF_HOT_INLINE static inline __attribute__((always_inline))

PYPROF_HOT_INLINE pyprof_thread_t *
pyprof_thread_current(pyprof_profiler_t *prof)
{
    pyprof_tls_t *tls = &pyprof_tls[prof->slot];
    if (tls->epoch == prof->epoch) {
        return tls->thread;
    }
    return pyprof_thread_attach(prof);
}

/* The clock read of an event: `straight` is 1 when prof is
 * pyprof_straight (a constant from the straight hooks: no test of the
 * clock's source), else 0. */
PYPROF_HOT_INLINE pyprof_ticks_t
pyprof_event_ticks(pyprof_profiler_t *prof, int straight)
{
    return straight ? pyprof_clock_ticks_straight(&prof->clock)
                    : pyprof_clock_ticks(&prof->clock);
}

/* A call of the function `key` begins.  `callable` (a code object, a
 * PyCFunction or a method descriptor, borrowed) and `self_arg` (the
 * descriptor's self, or NULL) are only looked at the first time this call
 * path is seen.  The child node comes from the frame's last child (a
 * call repeated, a recursion), else from the guess of the node entered
 * before it (or of the frame's own node, for its first call): a loop
 * calling the same functions in turn finds each without a probe of the
 * table; only a miss goes out of line. */
PYPROF_HOT_INLINE void
pyprof_on_enter_as(pyprof_profiler_t *prof, pyprof_thread_t *thread,
                   const void *key, PyObject *callable, PyObject *self_arg,
                   int straight)
{
    pyprof_frame_t *top = &thread->frames[thread->depth - 1];
    pyprof_node_id_t node;
    if (top->cached_key == key) {
        node = top->cached_child;
    }
    else {
        int after = top->cached_key != NULL;
        const pyprof_node_t *from =
            &prof->tree.nodes[after ? top->cached_child : top->node];
        if (from->guess_key[after] == key) {
            node = from->guess_child[after];
        }
        else {
            node = pyprof_profiler_find_child(prof, top, key, callable,
                                              self_arg);
            if (node == PYPROF_ROOT_NODE) {
                return;
            }
        }
        top->cached_key = key;
        top->cached_child = node;
    }
    if (thread->depth == thread->capacity) {
        if (pyprof_thread_grow(prof, thread) < 0) {
            return;
        }
    }
    pyprof_frame_t *frame = &thread->frames[thread->depth++];
    frame->node = node;
    frame->cached_key = NULL;
    frame->children = 0;
    /* Read last, so the bookkeeping above is charged to the caller. */
    frame->start = pyprof_event_ticks(prof, straight);
}

static inline void
pyprof_on_enter(pyprof_profiler_t *prof, pyprof_thread_t *thread,
                const void *key, PyObject *callable, PyObject *self_arg)
{
    pyprof_on_enter_as(prof, thread, key, callable, self_arg, 0);
}

/* Close the top frame at time `now`. */
PYPROF_HOT_INLINE void
pyprof_close_top(pyprof_profiler_t *prof, pyprof_thread_t *thread,
                 pyprof_ticks_t now)
{
    pyprof_frame_t *frame = &thread->frames[--thread->depth];
    pyprof_node_t *node = &prof->tree.nodes[frame->node];
    pyprof_ticks_t elapsed = now - frame->start;
    node->calls++;
    node->cumtime += elapsed;
    node->tottime += elapsed - frame->children;
    thread->frames[thread->depth - 1].children += elapsed;
}

/* A call of the function `key` ends (returned, raised, or yielded).
 * `straight` as for pyprof_on_enter_as. */
PYPROF_HOT_INLINE void
pyprof_on_exit_as(pyprof_profiler_t *prof, pyprof_thread_t *thread,
                  const void *key, int straight)
{
    /* Read first, so the bookkeeping below is charged to the caller. */
    pyprof_ticks_t now = pyprof_event_ticks(prof, straight);
    if (thread->depth <= 1) {
        return; /* a frame that began before the profiler was enabled */
    }
    const pyprof_frame_t *top = &thread->frames[thread->depth - 1];
    if (prof->tree.nodes[top->node].key != key) {
        pyprof_thread_unwind_to(prof, thread, key, now);
        return;
    }
    pyprof_close_top(prof, thread, now);
}

static inline void
pyprof_on_exit(pyprof_profiler_t *prof, pyprof_thread_t *thread,
               const void *key)
{
    pyprof_on_exit_as(prof, thread, key, 0);
}

/* Backends (tracer_legacy.c below 3.12, tracer_monitoring.c from 3.12),
 * shared by every profiler recording.  start: install the hooks for every
 * thread it can (C function events too when `builtins`); 0, or -1 with
 * an exception set.  stop: remove them; never fails. */
int pyprof_tracer_start(int builtins);
void pyprof_tracer_stop(void);

/* While the hooks are installed, a profiler joins from the calling
 * thread: below 3.12, the thread gets the hook again if a tool took it
 * and left (a cProfile enabled and disabled); another tool holding it
 * now is an error.  0, or -1 with an exception set. */
int pyprof_tracer_join(void);

#endif
