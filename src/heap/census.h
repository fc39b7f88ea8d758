/* census.h - how many objects of each type the heap holds, and their size.
 *
 * A census counts objects by their exact type (Py_TYPE, never __class__,
 * so proxies and objects with a broken __class__ are counted as what they
 * are), in the order types are first seen, which is the order objgraph's
 * typestats() dict has.  Names are objgraph's: the type's __name__
 * (shortnames) or "module.name" (longnames).  Sizes are sys.getsizeof()
 * per object, summed per type.  All functions require the GIL.
 */
#ifndef PYPROF_HEAP_CENSUS_H
#define PYPROF_HEAP_CENSUS_H

#include <Python.h>

#include "../core/ptrmap.h"

/* Objects a census leaves out: the caller's own argument tuple, keyword
 * dict and result, or an earlier census's result dicts kept to compare
 * with this one, which exist only because the census was asked for. */
#define PYPROF_CENSUS_MAX_SKIP 4

typedef struct {
    PyTypeObject *type;     /* strong reference */
    Py_ssize_t count;
    Py_ssize_t bytes;       /* sum of sys.getsizeof(); 0 unless sized */
    Py_ssize_t unit_size;   /* sys.getsizeof() of every instance when it
                             * cannot vary; -1 unknown yet, -2 varies */
} pyprof_census_row_t;

typedef struct {
    pyprof_census_row_t *rows;  /* owned; in order of first sight */
    size_t nrows;
    size_t capacity;
    pyprof_ptrmap_t index;      /* type -> row */
    Py_ssize_t total;           /* objects counted */
    PyObject *skip[PYPROF_CENSUS_MAX_SKIP]; /* borrowed; never counted */
    int nskip;
    int out_of_memory;          /* sticky, set by the walk's visitor */
} pyprof_census_t;

/* An empty census.  Returns 0, or -1 with MemoryError set. */
int pyprof_census_init(pyprof_census_t *census);

/* Drop every row and the references to the types. */
void pyprof_census_clear(pyprof_census_t *census);

/* Leave `obj` (may be NULL) out of the censuses taken into `census`: an
 * argument tuple or keyword dict of the API call, a result list made
 * before the walk.  At most PYPROF_CENSUS_MAX_SKIP; more are ignored. */
void pyprof_census_skip(pyprof_census_t *census, PyObject *obj);

/* Non-zero when `obj` is one of the census's skipped objects. */
int pyprof_census_skipped(const pyprof_census_t *census, PyObject *obj);

/* Count into `census`.  `objects` NULL counts every object the collector
 * tracks except the skipped ones, without running any Python code unless `filter` or `sizes` is
 * given; else counts the items of the iterable `objects`.  `filter`
 * (callable or NULL) keeps the objects for which it returns true, as
 * objgraph's filter= does (its exceptions propagate).  `sizes` non-zero
 * adds sys.getsizeof() of each object (an object whose __sizeof__ fails
 * counts 0 bytes).  Returns 0, or -1 with an exception set. */
int pyprof_census_take(pyprof_census_t *census, PyObject *objects,
                       PyObject *filter, int sizes);

/* objgraph's name of a type: __name__ (shortnames) or "module.name" when
 * __module__ is true (longnames).  Never fails for a type whose __name__
 * or __module__ is broken: falls back on tp_name.  New reference, or NULL
 * with MemoryError set. */
PyObject *pyprof_census_type_name(PyTypeObject *type, int shortnames);

/* The census by name, as objgraph's typestats(): a new dict name -> count
 * in first-seen order, rows of types sharing a name merged.  When
 * `bytes_out` is not NULL it receives a new dict name -> bytes.  Returns
 * NULL with an exception set on failure. */
PyObject *pyprof_census_by_name(const pyprof_census_t *census,
                                int shortnames, PyObject **bytes_out);

/* Non-zero when `typename` (str) names `type` the way objgraph's count()
 * and by_type() match: long name when it contains '.', else short name.
 * Returns 1, 0, or -1 with an exception set. */
int pyprof_census_type_matches(PyTypeObject *type, PyObject *typename);

/* Sort `pairs` (a list of tuples whose item `key_index` is an int) by that
 * item, largest first, keeping the order of equal items, as objgraph's
 * sorted(..., key=itemgetter(i), reverse=True) does.  Returns 0, or -1
 * with an exception set. */
int pyprof_census_sort_desc(PyObject *pairs, Py_ssize_t key_index);

#endif
