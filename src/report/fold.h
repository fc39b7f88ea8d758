/* fold.h - the call-path tree with Python's import machinery folded away.
 *
 * A profile of `python -m unittest` or of any program that imports much is
 * dominated by <frozen importlib._bootstrap> frames and runpy's: the user's
 * code sits ten levels down.  Like pyinstrument, the graphical reports
 * show the tree with those frames folded by default (one click shows them
 * again).  Folding a frame removes it from every path: its callees become
 * callees of its nearest kept caller, merged with a callee of the same
 * function there, and its own time stays in that caller.  Built-ins the
 * machinery calls (exec, marshal.loads, posix.stat...) are folded with it,
 * so an imported module's <module> hangs under the frame that imported it.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_FOLD_H
#define PYPROF_FOLD_H

#include <stdint.h>

#include "../core/calltree_file.h"
#include "../core/stats.h"

/* Non-zero when `func` is import machinery or runpy: code of <frozen
 * importlib._bootstrap>, <frozen importlib._bootstrap_external>, <frozen
 * importlib.util>, <frozen zipimport> or <frozen runpy>, or of the same
 * files (importlib/_bootstrap.py, ..., runpy.py: not frozen before 3.11). */
int pyprof_fold_is_machinery(const pyprof_func_t *func);

/* `tree` with the machinery folded (see above) into `folded`, which is
 * initialised here (free it with pyprof_pathtree_free); *nfolded receives
 * how many nodes of `tree` were folded.  Returns 0, or -1 when out of
 * memory (nothing to free then). */
int pyprof_fold_machinery(const pyprof_pathtree_t *tree,
                          const pyprof_stats_t *stats,
                          pyprof_pathtree_t *folded, uint32_t *nfolded);

#endif
