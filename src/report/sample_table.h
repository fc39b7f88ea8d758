/* sample_table.h - a recording's functions by their share of the samples.
 *
 * The table `pyprof record` prints without -o, `pyprof stats` prints for
 * a recording and `pyprof top` redraws: per function its own samples
 * (the innermost frame) and total samples (on the stack, once per
 * sample), as shares and as seconds at the recording's rate, sorted by
 * own then total samples.  Process and thread frames are left out.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_SAMPLE_TABLE_H
#define PYPROF_SAMPLE_TABLE_H

#include <stddef.h>

#include "../core/recording.h"
#include "../core/sink.h"
#include "../core/stats.h"

/* One row: an index into the stats of pyprof_recording_export(). */
typedef struct {
    size_t func;
    long long own, total;   /* samples */
} pyprof_sample_row_t;

/* The rows of `stats` (from pyprof_recording_export) sorted as above, in
 * a new array (*nrows set); NULL when out of memory. */
pyprof_sample_row_t *pyprof_sample_rows(const pyprof_stats_t *stats,
                                        size_t *nrows);

/* Print a header line and at most `limit` rows (all when limit < 0) of
 * `rec`.  Returns 0, or -1 when out of memory. */
int pyprof_sample_table(pyprof_sink_t *out, const pyprof_recording_t *rec,
                        long limit);

#endif
