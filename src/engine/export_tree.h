/* export_tree.h - the function profiler's exact call paths, as plain C.
 *
 * pyprof_profiler_export() gives pstats' per-function view; this gives
 * the calling-context tree itself (one node per distinct call path) with
 * functions named by their index in that model, for the flame graph,
 * icicle and export writers and for the trailer `pyprof run -o` appends.
 */
#ifndef PYPROF_EXPORT_TREE_H
#define PYPROF_EXPORT_TREE_H

#include "../core/calltree_file.h"
#include "../core/stats.h"
#include "profiler.h"

/* Fill `out` (initialised by pyprof_pathtree_init, holding only the root)
 * with every recorded call path of `prof`, numbers in seconds, functions
 * as indices into `stats`, which must be what pyprof_profiler_export(prof)
 * returned.  The root gets the sum of the top-level paths.  Returns 0, or
 * -1 with an exception set (out may then hold part of the tree). */
int pyprof_profiler_export_paths(pyprof_profiler_t *prof,
                                 const pyprof_stats_t *stats,
                                 pyprof_pathtree_t *out);

/* Write `stats` (what pyprof_profiler_export(prof) returned) to `path` as
 * a pstats file with `prof`'s exact call paths appended as a trailer
 * (core/calltree_file.h), which pstats, SnakeViz and gprof2dot ignore and
 * `pyprof view`/`export` use.  When the paths cannot be exported (out of
 * memory) the pstats data is still written and *paths_saved is 0.
 * Returns 0, or -1 with a one-line reason in errbuf; never leaves an
 * exception set. */
int pyprof_profiler_write_pstats(pyprof_profiler_t *prof,
                                 const pyprof_stats_t *stats,
                                 const char *path, int *paths_saved,
                                 char *errbuf, size_t errlen);

#endif
