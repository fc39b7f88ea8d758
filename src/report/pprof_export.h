/* pprof_export.h - profiles as pprof files (report/pprof.h).
 *
 * A function profile (`pyprof run`, any pstats file) becomes one sample
 * per call path of its call-path tree, with two values: the calls along
 * that path ("calls"/"count") and its self time ("wall" or "cpu" in
 * nanoseconds, the default sample type).  pprof sums a sample's values
 * into every frame of its stack once, so its flat and cumulative times
 * are pstats' tottime and cumtime, recursion included.  Each function has
 * one location, at its first line: a function profile has no per-line
 * times.  A recording keeps the line of every frame.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_PPROF_EXPORT_H
#define PYPROF_PPROF_EXPORT_H

#include "../core/calltree_file.h"
#include "../core/recording.h"
#include "../core/sink.h"
#include "../core/stats.h"

/* Write `stats` with its call-path tree as a gzipped profile.proto to
 * `out`; `clock` names the time ("wall" or "cpu").  Returns 0, or -1 when
 * out of memory. */
int pyprof_export_pprof(pyprof_sink_t *out, const pyprof_stats_t *stats,
                        const pyprof_pathtree_t *tree, const char *clock);

/* Write a recording (core/recording.h) as a gzipped profile.proto: one
 * sample per distinct stack with [samples count, cpu nanoseconds] (wall
 * nanoseconds when idle threads were counted), period 1e9 / rate ns, and
 * one location per (function, line), so `go tool pprof -lines` and
 * `-list` show lines.  Process and thread frames are the outermost
 * locations.  Returns 0, or -1 when out of memory. */
int pyprof_export_pprof_recording(pyprof_sink_t *out,
                                  const pyprof_recording_t *rec);

/* Non-zero when `path` names a pprof file by its extension (.pb.gz,
 * .pprof, .pb), which `run -o` and `record -o` write as pprof. */
int pyprof_pprof_path(const char *path);

#endif
