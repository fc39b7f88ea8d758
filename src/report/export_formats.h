/* export_formats.h - profiles in the formats other viewers read.
 *
 *   collapsed   "a;b;c 123" per call path, integer microseconds of self
 *               time: flamegraph.pl, inferno, speedscope
 *   speedscope  speedscope's file format (a "sampled" profile whose
 *               weights are the self seconds of each call path)
 *   chrome      Chrome trace-event JSON (Perfetto, chrome://tracing): the
 *               call-path tree laid out as nested complete ("X") events;
 *               an aggregate, not a timeline of the run
 *   callgrind   callgrind's text format (KCachegrind, QCacheGrind), from
 *               the per-function and caller->callee numbers, which are
 *               exact in every pstats file
 *
 * Every writer takes the plain-C model and call-path tree, escapes every
 * name (escape.h) and writes to a sink (errors are the sink's, sticky).
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_EXPORT_FORMATS_H
#define PYPROF_EXPORT_FORMATS_H

#include "../core/calltree_file.h"
#include "../core/sink.h"
#include "../core/stats.h"

/* Collapsed stacks.  The counts are microseconds, rounded so that they
 * sum to the profile's total self time in microseconds (rounded).
 * Returns 0, or -1 when out of memory. */
int pyprof_export_collapsed(pyprof_sink_t *out, const pyprof_stats_t *stats,
                            const pyprof_pathtree_t *tree);

/* speedscope JSON; `name` titles the profile.  Returns 0, or -1 when out
 * of memory. */
int pyprof_export_speedscope(pyprof_sink_t *out, const pyprof_stats_t *stats,
                             const pyprof_pathtree_t *tree, const char *name);

/* Chrome trace-event JSON.  Returns 0, or -1 when out of memory. */
int pyprof_export_chrome_trace(pyprof_sink_t *out,
                               const pyprof_stats_t *stats,
                               const pyprof_pathtree_t *tree,
                               const char *name);

/* callgrind text; `name` goes on the cmd: line.  Returns 0, or -1 when
 * out of memory. */
int pyprof_export_callgrind(pyprof_sink_t *out, const pyprof_stats_t *stats,
                            const char *name);

#endif
