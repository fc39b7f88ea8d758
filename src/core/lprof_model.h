/* lprof_model.h - line timings of profiled functions, as plain C data.
 *
 * What `pyprof lines` recorded, detached from CPython: per function its
 * file, name, first line and one record per source line of its body
 * (never-hit lines included, with zero hits), so that every writer (the
 * line_profiler text layout, JSON, the .lprof pickle) reads one model and
 * none of them touches a PyObject.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_LPROF_MODEL_H
#define PYPROF_LPROF_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"

typedef struct {
    int lineno;
    uint64_t hits;          /* line events seen on this line */
    pyprof_ns_t time_ns;    /* time charged to the line */
} pyprof_lprof_line_t;

typedef struct {
    char *filename;         /* owned, UTF-8, as the code object names it */
    char *name;             /* owned: the function's co_name */
    int first_line;         /* co_firstlineno (the first decorator line) */
    int is_coroutine;       /* an `async def`: await time matters */
    size_t nlines;
    pyprof_lprof_line_t *lines; /* owned: first_line .. last, in order */
} pyprof_lprof_func_t;

typedef struct {
    size_t nfuncs;
    size_t capacity;
    pyprof_lprof_func_t *funcs; /* owned */
    int wall_await;         /* await lines were charged wall time */
} pyprof_lprof_t;

/* A new empty model (free with pyprof_lprof_free), or NULL when out of
 * memory. */
pyprof_lprof_t *pyprof_lprof_new(void);
void pyprof_lprof_free(pyprof_lprof_t *model);

/* Append a function with `nlines` zeroed line records numbered from
 * `first_line`; the strings are copied.  Returns the new record (owned by
 * the model, valid until the next add), or NULL when out of memory. */
pyprof_lprof_func_t *pyprof_lprof_add(pyprof_lprof_t *model,
                                      const char *filename, const char *name,
                                      int first_line, size_t nlines);

/* Sort the functions by (filename, first line, name): source order, the
 * order line_profiler prints. */
void pyprof_lprof_sort(pyprof_lprof_t *model);

/* The sum of a function's line times. */
pyprof_ns_t pyprof_lprof_total_ns(const pyprof_lprof_func_t *func);

#endif
