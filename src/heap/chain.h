/* chain.h - objgraph's shortest reference chains: find_backref_chain(),
 * find_ref_chain(), and is_proper_module(), the usual end of a chain.
 * All functions require the GIL.
 */
#ifndef PYPROF_HEAP_CHAIN_H
#define PYPROF_HEAP_CHAIN_H

#include <Python.h>

/* The shortest chain of references between `obj` and an object for which
 * predicate(object) is true, breadth-first over gc.get_referrers (when
 * `backrefs`) or gc.get_referents, at most `max_depth` steps, after a full
 * collection, never through the objects whose ids `extra_ignore` (an
 * iterable of ints) holds, as objgraph's _find_chain walks.  Returns a new
 * list: with `backrefs` [found, ..., obj] (objgraph's find_backref_chain),
 * else [obj, ..., found] (find_ref_chain); [obj] when none is found.  NULL
 * with an exception set (the predicate's exceptions propagate). */
PyObject *pyprof_chain_find(PyObject *obj, PyObject *predicate,
                            Py_ssize_t max_depth, PyObject *extra_ignore,
                            int backrefs);

/* objgraph's is_proper_module: a module that is sys.modules[its
 * __name__].  1 or 0; never fails (lookups that fail are false). */
int pyprof_chain_is_proper_module(PyObject *obj);

#endif
