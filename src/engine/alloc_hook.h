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
 * noted.  (API fixed by the lead; implemented with the memory issue.)
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

#endif
