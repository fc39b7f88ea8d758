/* line_memory.h - per-line memory accounting on the line-event engine.
 *
 * A consumer of lines/lines_engine.h: each time a line of a selected
 * function ends, the line is charged as memory_profiler charges it --
 * "Mem usage" the highest RSS seen when it ended, "Increment" the RSS
 * then minus the usage of the line that ended before it, "Occurrences"
 * the times it ended.  Bytes allocated per line come from the allocation
 * hooks (engine/alloc_hook.h), per (code, line) site as tracemalloc
 * counts them; bytes still alive are read when a decorated function
 * returns (else when the run ends).
 *
 * Uses the CPython API (code objects, the engine): not part of the
 * plain-C layer, unlike the rest of src/memory.  All functions require
 * the GIL.
 */
#ifndef PYPROF_LINE_MEMORY_H
#define PYPROF_LINE_MEMORY_H

#include <Python.h>

#include "../lines/lines_engine.h"
#include "../report/memory_report.h"

typedef struct pyprof_line_memory pyprof_line_memory_t;

/* Accounting for `lines` (borrowed: it must outlive the accountant); the
 * accountant plugs its consumer into the engine.  Returns a new
 * accountant or NULL with an exception set. */
pyprof_line_memory_t *pyprof_line_memory_new(pyprof_lines_t *lines);

/* Free it (after the engine was disabled). */
void pyprof_line_memory_free(pyprof_line_memory_t *memory);

/* Start: allocation tracking on, this accountant the one the `profile`
 * decorator reports calls to.  Call just before enabling the engine.
 * Returns 0, or -1 with an exception set. */
int pyprof_line_memory_start(pyprof_line_memory_t *memory);

/* Stop (after disabling the engine): read what is still alive, turn the
 * tracking off.  Idempotent. */
void pyprof_line_memory_stop(pyprof_line_memory_t *memory);

/* The results as the plain-C model: a new model owned by the caller, or
 * NULL with an exception set.  Between start and stop, or with the model
 * taken before stop when allocation columns are wanted. */
pyprof_memprof_t *pyprof_line_memory_export(pyprof_line_memory_t *memory);

/* The `profile` builtin of `pyprof memory`: selects func with the running
 * engine and returns it (no wrapper: the engine charges each call's start
 * to the def line and records the bytes alive after each return).  New
 * reference, or NULL with an exception set. */
PyObject *pyprof_line_memory_decorate(PyObject *func);

/* The hooks the `profile` decorator's wrapper calls (charge the def line
 * at a call, record alive bytes at its return); they do nothing when no
 * accountant is running.  Static storage. */
const struct pyprof_call_hooks *pyprof_line_memory_call_hooks(void);

/* Non-zero if accounting ran out of memory (some lines not charged). */
int pyprof_line_memory_out_of_memory(const pyprof_line_memory_t *memory);

#endif
