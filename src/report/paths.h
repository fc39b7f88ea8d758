/* paths.h - the call-path tree every graphical report and export draws.
 *
 * A profile file comes with exact call paths (the trailer `pyprof run -o`
 * appends, core/calltree_file.h) or without them (cProfile's files, and
 * ours after a merge).  Without them the tree is rebuilt from pstats'
 * caller->callee pairs the way SnakeViz does: from each root function,
 * each callee gets the share of its caller's time that the pair records,
 * scaled by the share of the caller the path stands for; a function is not
 * expanded again inside itself.  Such a tree is a reconstruction and every
 * report says so.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_PATHS_H
#define PYPROF_PATHS_H

#include <stdint.h>

#include "../core/calltree_file.h"
#include "../core/stats.h"

/* How many nodes a reconstruction may create before it stops expanding
 * (it then sets tree->truncated). */
#define PYPROF_PATHS_MAX_NODES 1000000u

/* Rebuild a call-path tree from the caller pairs of `stats` into `out`
 * (initialised, holding only the root); out->exact stays 0.  Paths whose
 * time is below `min_fraction` of the total are not expanded.  Returns 0,
 * or -1 when out of memory. */
int pyprof_paths_from_pairs(const pyprof_stats_t *stats,
                            pyprof_pathtree_t *out, double min_fraction);

/* Load a profile file: its pstats data into a new model (*stats_out, owned
 * by the caller) and its call paths into `tree` (initialised by the
 * callee; free it with pyprof_pathtree_free) -- exact when the file has a
 * trailer, else rebuilt from pairs.  Returns 0, or -1 with a one-line
 * reason in errbuf (nothing to free then). */
int pyprof_paths_load(const char *path, pyprof_stats_t **stats_out,
                      pyprof_pathtree_t *tree, char *errbuf, size_t errlen);

/* The display label of function `func`: "name (file:line)", or the bare
 * label of a built-in ("~", 0).  A new malloc'd string, or NULL when out
 * of memory.  Not escaped: writers escape it. */
char *pyprof_paths_label(const pyprof_func_t *func);

/* Children lists of `tree`: first_child[i] and next_sibling[i] (0 = none,
 * since the root is nobody's child), siblings in node order.  Both arrays
 * are new malloc'd arrays of tree->count entries owned by the caller.
 * Returns 0, or -1 when out of memory. */
int pyprof_paths_children(const pyprof_pathtree_t *tree,
                          uint32_t **first_child, uint32_t **next_sibling);

/* pstats keeps callers per function; writers that walk callees use this
 * index: the callees of function f are refs[start[f] .. start[f+1]), each
 * naming the callee and its edge (borrowed from stats).  start (n + 1
 * entries) and refs are new malloc'd arrays owned by the caller.
 * Returns 0, or -1 when out of memory. */
typedef struct {
    size_t callee;
    const pyprof_caller_t *edge;
} pyprof_callee_ref_t;

int pyprof_paths_callee_index(const pyprof_stats_t *stats, size_t **start,
                              pyprof_callee_ref_t **refs);

/* One line saying where the paths come from, for every report. */
const char *pyprof_paths_provenance(const pyprof_pathtree_t *tree);

#endif
