/* flamegraph_svg.h - an interactive flame graph as one SVG file.
 *
 * Drawn as flamegraph.pl draws them: the whole run at the bottom, each
 * call path a box as wide as its total time on top of its caller; a box
 * narrower than 0.1 pixel is left out (its time stays in its caller).
 * web/flamegraph.js (embedded) adds hover details and click-to-zoom.
 * Every name is escaped for XML.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_FLAMEGRAPH_SVG_H
#define PYPROF_FLAMEGRAPH_SVG_H

#include "../core/calltree_file.h"
#include "../core/sink.h"
#include "../core/stats.h"

/* Write the flame graph of `tree` (functions of `stats`) titled `title`.
 * Returns 0, or -1 when out of memory. */
int pyprof_flamegraph_svg(pyprof_sink_t *out, const pyprof_stats_t *stats,
                          const pyprof_pathtree_t *tree, const char *title);

#endif
