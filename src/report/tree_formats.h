/* tree_formats.h - one profile drawn from its model and call-path tree in
 * any of the formats that need only those two: the HTML report, the flame
 * graph SVG, speedscope, Chrome trace events, collapsed stacks.
 *
 * `pyprof run -o` and `pyprof record -o` choose among the same formats by
 * the same extensions; this is their one switch (pprof and pstats need
 * what each command alone has: the clock, the recording).
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_TREE_FORMATS_H
#define PYPROF_TREE_FORMATS_H

#include "../core/calltree_file.h"
#include "../core/sink.h"
#include "../core/stats.h"

typedef enum {
    PYPROF_TREE_HTML,           /* pyprof view's report */
    PYPROF_TREE_SVG,            /* the flame graph */
    PYPROF_TREE_SPEEDSCOPE,
    PYPROF_TREE_CHROME,         /* Chrome trace events */
    PYPROF_TREE_COLLAPSED,      /* "a;b;c 123" lines */
} pyprof_tree_format_t;

/* Write the profile in `format` to `out`; `title` names it where the
 * format has a place for a name.  Returns 0, or -1 when out of memory. */
int pyprof_tree_format_write(pyprof_sink_t *out, pyprof_tree_format_t format,
                             const pyprof_stats_t *stats,
                             const pyprof_pathtree_t *tree,
                             const char *title);

#endif
