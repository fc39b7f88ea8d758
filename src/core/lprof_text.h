/* lprof_text.h - line timings as line_profiler prints them.
 *
 * The layout of `kernprof -l -v` / `python -m line_profiler`: "Timer
 * unit", then per function "Total time", "File", "Function: NAME at line
 * N" and the table "Line # Hits Time Per Hit % Time Line Contents" over
 * every line of the function's block, hit or not, with line_profiler's
 * column widths and number formats.  Source lines are read from the file;
 * when it cannot be read the numbers are still printed, each line marked
 * unavailable.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_LPROF_TEXT_H
#define PYPROF_LPROF_TEXT_H

#include "lprof_model.h"
#include "sink.h"

typedef struct {
    double unit;        /* seconds per printed time unit (1e-6 default) */
    int strip_zeros;    /* leave out functions with no hits */
} pyprof_lprof_text_options_t;

void pyprof_lprof_text_options_init(pyprof_lprof_text_options_t *options);

/* Print every function of `model` in the order it holds them (sort it
 * first for source order). */
void pyprof_lprof_write_text(pyprof_sink_t *sink, const pyprof_lprof_t *model,
                             const pyprof_lprof_text_options_t *options);

/* The same, as JSON: {"unit": "ns", "await": ..., "functions": [{"file",
 * "name", "first_line", "total_ns", "lines": [{"line", "hits",
 * "time_ns"}]}]}, every line of each function included. */
void pyprof_lprof_write_json(pyprof_sink_t *sink, const pyprof_lprof_t *model);

#endif
