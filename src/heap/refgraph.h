/* refgraph.h - objgraph's show_refs() and show_backrefs(): the graph of
 * references from or to some objects, as Graphviz DOT.  Requires the GIL.
 */
#ifndef PYPROF_HEAP_REFGRAPH_H
#define PYPROF_HEAP_REFGRAPH_H

#include <Python.h>

/* Parse objgraph's arguments (objs, max_depth=3, extra_ignore=(),
 * filter=None, too_many=10, highlight=None, filename=None,
 * extra_info=None, refcounts=False, shortnames=True, output=None), walk
 * references (referrers when `backrefs`, stopping at modules of
 * sys.modules as objgraph does) breadth-first up to max_depth, and write
 * DOT to `output` (a file object), to `filename` (.dot as is; another
 * extension is rendered by Graphviz's dot when it is on PATH, with a
 * message saying so when it is not), or to a temporary .dot file.  Every
 * object is visited once, so cyclic graphs terminate.  Returns None (new
 * reference), or NULL with an exception set (OSError naming the file when
 * it cannot be written). */
PyObject *pyprof_refgraph_show(PyObject *args, PyObject *kwargs,
                               int backrefs);

#endif
