/* memory_report.h - `pyprof memory`'s results and how they are printed.
 *
 * The plain-C model of a per-line memory profile, and its two renderings:
 * memory_profiler's table (`Line #  Mem usage  Increment  Occurrences
 * Line Contents`, MiB with 3 decimals as `python -m memory_profiler`
 * prints) with two more columns, the bytes each line allocated and the
 * bytes from it still alive when the function returned; and JSON.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_MEMORY_REPORT_H
#define PYPROF_MEMORY_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "../core/lprof_text.h"
#include "../core/sink.h"

typedef struct {
    int measured;           /* the line ran: the RSS columns are set */
    double usage_mib;       /* highest RSS seen after the line */
    double increment_mib;   /* memory_profiler's increment, summed */
    uint64_t occurrences;   /* times the line ended */
    uint64_t allocated;     /* bytes Python's allocators gave the line */
    int64_t alive;          /* of those, bytes alive at the return */
} pyprof_memrow_t;

typedef struct {
    char *filename;         /* owned */
    char *name;             /* owned: qualified name */
    int first_line;         /* rows[i] is line first_line + i */
    int nlines;
    pyprof_memrow_t *rows;  /* owned */
} pyprof_memfunc_t;

typedef struct {
    pyprof_memfunc_t *funcs;    /* owned */
    size_t nfuncs;
} pyprof_memprof_t;

void pyprof_memprof_free(pyprof_memprof_t *profile);

/* Print every function's table (functions whose lines never ran are left
 * out, as memory_profiler leaves them out).  `rss_only`: exactly
 * memory_profiler's columns.  Source lines come from `source` (NULL: read
 * from the files), as line_profiler's table gets them. */
void pyprof_memory_report_text(pyprof_sink_t *sink,
                               const pyprof_memprof_t *profile,
                               int rss_only, int precision,
                               pyprof_lprof_source_fn source,
                               void *source_ctx);

/* The same data as one JSON object. */
void pyprof_memory_report_json(pyprof_sink_t *sink,
                               const pyprof_memprof_t *profile,
                               pyprof_lprof_source_fn source,
                               void *source_ctx);

#endif
