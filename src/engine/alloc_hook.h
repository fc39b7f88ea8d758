/* alloc_hook.h - Python's allocators, hooked: who allocated what.
 *
 * Wraps the PYMEM_DOMAIN_RAW, _MEM and _OBJ allocators with
 * PyMem_SetAllocator, calling the allocators saved before hooking, with a
 * thread-local re-entrancy guard, as tracemalloc does.  While tracking,
 * every live block is recorded with its size and the allocation site (the
 * code object and line running in the allocating thread), so that
 *   - `pyprof memory` can charge bytes allocated, and bytes still alive,
 *     to source lines (per-site totals), and
 *   - `pyprof heap --trace-allocations` can name the line that created an
 *     object (pyprof_alloc_site_of_object).
 * Tracking is reference-counted: nested start/stop pairs from several
 * features share one set of hooks.  All functions require the GIL unless
 * noted.
 *
 * What pyprof itself allocates is never charged to the program: pyprof's
 * hooks and bookkeeping run between pyprof_alloc_suspend() and
 * pyprof_alloc_resume(), and an object the interpreter makes only to hand
 * it to one of pyprof's hooks (a sys.monitoring event's line or offset
 * int, a frame object materialised for a trace call) is disowned.
 */
#ifndef PYPROF_ALLOC_HOOK_H
#define PYPROF_ALLOC_HOOK_H

#include <Python.h>
#include <stdint.h>

/* Start tracking (install the hooks on the first call).  Returns 0, or -1
 * with an exception set. */
int pyprof_alloc_start(void);

/* Undo one pyprof_alloc_start(); the last one removes the hooks and drops
 * every record. */
void pyprof_alloc_stop(void);

/* Non-zero while tracking. */
int pyprof_alloc_active(void);

/* The allocation site of a live object allocated while tracking: returns
 * 1 and sets *code (a borrowed reference, valid while tracking) and
 * *lineno; returns 0 when the object's block is not tracked.  Handles the
 * GC and managed-dict pre-headers that precede an object's address. */
int pyprof_alloc_site_of_object(PyObject *obj, PyCodeObject **code,
                                int *lineno);

/* Bytes seen by the hooks.  A realloc that grows a block in place counts
 * its growth as allocated and a shrink as freed, so a list grown by
 * appends totals its final size, not the sum of every intermediate one. */
typedef struct {
    uint64_t allocated;     /* bytes allocated while tracking */
    uint64_t freed;         /* of those, bytes freed again */
    uint64_t blocks;        /* allocations (realloc of a block: not new) */
} pyprof_alloc_counts_t;

/* Totals over every tracked block.  Does not need the GIL (a racy read of
 * counters only ever incremented, so a reader sees a recent value). */
void pyprof_alloc_totals(pyprof_alloc_counts_t *out);

/* The counters of one site: returns 1 and fills *out when `code` allocated
 * at `lineno` while tracking, else 0 (and *out is zeroed). */
int pyprof_alloc_site_counts(PyCodeObject *code, int lineno,
                             pyprof_alloc_counts_t *out);

/* Call visit(code, lineno, counts, ctx) for every site (code borrowed,
 * valid while tracking); blocks allocated with no Python frame running
 * are reported with code NULL and lineno 0.  Stops at the first visit
 * returning non-zero and returns that value; returns -1 with an exception
 * set when out of memory.  The visitor may allocate. */
int pyprof_alloc_foreach_site(int (*visit)(PyCodeObject *code, int lineno,
                                           const pyprof_alloc_counts_t *c,
                                           void *ctx),
                              void *ctx);

/* Non-zero once a record could not be made for lack of memory (the
 * counters are then lower bounds); reset by the last stop. */
int pyprof_alloc_lost(void);

/* Have fn(arg) called once in the calling thread, just before that
 * thread's next allocation through the hooks made with the GIL held from
 * the caller of the frame that is returning now (the thread's top frame
 * when this is called): a moment that comes after the frame released its
 * locals (whatever their deallocation runs, a weakref callback, runs
 * above the caller and does not count) and before the caller builds
 * anything new.  One pending call per thread; setting another replaces
 * it.  fn runs inside the hook, with the GIL: it may read the counters
 * (pyprof_alloc_site_counts) but must not call Python code.  Needs the
 * GIL. */
void pyprof_alloc_call_before_next(void (*fn)(void *arg), void *arg);

/* Forget the calling thread's pending call, if any. */
void pyprof_alloc_cancel_pending(void);

/* Per thread: > 0 while pyprof's own code runs (its allocations are not
 * recorded; frees of recorded blocks still are).  Thread-local,
 * initial-exec so the hooks reach it in one instruction. */
extern _Thread_local unsigned pyprof_alloc_suspended
    __attribute__((tls_model("initial-exec")));

/* The addresses of the last two blocks the calling thread recorded (see
 * pyprof_alloc_disown).  Thread-local. */
extern _Thread_local uintptr_t pyprof_alloc_recent[2]
    __attribute__((tls_model("initial-exec")));

/* Per thread: bytes of the program's this thread allocated minus bytes of
 * recorded blocks it freed, since tracking started in it (a realloc
 * counts its change).  What a line run by this thread did to the heap,
 * whatever other threads do meanwhile: `pyprof memory`'s Increment once
 * several threads run profiled lines.  Thread-local, initial-exec. */
extern _Thread_local int64_t pyprof_alloc_thread_net
    __attribute__((tls_model("initial-exec")));

/* Bracket code of pyprof's that may allocate (nests).  No GIL needed. */
static inline void
pyprof_alloc_suspend(void)
{
    pyprof_alloc_suspended++;
}

static inline void
pyprof_alloc_resume(void)
{
    pyprof_alloc_suspended--;
}

/* Out of line part of pyprof_alloc_disown. */
void pyprof_alloc_disown_block(uintptr_t block);

/* `obj` was just made by the interpreter only to be handed to a hook of
 * pyprof's (a plain run would never have made it): when its block is one
 * of the last two the calling thread recorded, forget it as if it had
 * never been allocated.  Otherwise (made earlier, or shared with other
 * tools that saw it first) nothing changes.  Costs two compares when it
 * does not apply.  Needs the GIL. */
static inline void
pyprof_alloc_disown(PyObject *obj, size_t preheader)
{
    uintptr_t block = (uintptr_t)obj - preheader;
    if (block == pyprof_alloc_recent[0] || block == pyprof_alloc_recent[1]) {
        pyprof_alloc_disown_block(block);
    }
}

/* Non-zero when the last stop found that another tool had taken pyprof's
 * hooks out of the allocator chain while tracking (tracemalloc.stop()
 * after tracemalloc was started before pyprof): allocations after that
 * were not seen.  Reset by the next start. */
int pyprof_alloc_was_removed(void);

#endif
