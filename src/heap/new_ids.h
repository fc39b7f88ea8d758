/* new_ids.h - objgraph's get_new_ids(), at() and at_addrs(): objects by
 * address.  All functions require the GIL.
 */
#ifndef PYPROF_HEAP_NEW_IDS_H
#define PYPROF_HEAP_NEW_IDS_H

#include <Python.h>

/* objgraph's get_new_ids(skip_update, limit, sortby, shortnames, file):
 * after a full collection, the ids of the tracked objects per type name,
 * compared with the previous call; prints objgraph's table (Type,
 * Old_ids, Current_ids, New_ids, Count_Deltas) of the first `limit` rows
 * (limit None: all; 0: none) sorted by `sortby` ("old", "current", "new"
 * or "deltas") to `file` (None: sys.stdout), and returns the same
 * collections.defaultdict(set) on every call: type name -> ids new since
 * the previous call.  `shortnames` None keeps the previous choice (first:
 * True).  New reference, or NULL with an exception set. */
PyObject *pyprof_new_ids(int skip_update, PyObject *limit, PyObject *sortby,
                         PyObject *shortnames, PyObject *file);

/* The tracked object whose id() is `address` (new reference), or None:
 * objgraph's at(). */
PyObject *pyprof_object_at(PyObject *address);

/* The tracked objects whose ids are in `addresses` (a container of ints),
 * in the collector's order: objgraph's at_addrs().  New list, or NULL
 * with an exception set. */
PyObject *pyprof_objects_at(PyObject *addresses);

#endif
