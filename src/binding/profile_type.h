/* profile_type.h - pyprof.Profile, the cProfile.Profile look-alike. */
#ifndef PYPROF_PROFILE_TYPE_H
#define PYPROF_PROFILE_TYPE_H

#include <Python.h>
#include "../core/stats.h"

/* Create the Profile heap type for `module`.  Returns a new reference, or
 * NULL with an exception set. */
PyTypeObject *pyprof_profile_type_create(PyObject *module);

/* The pstats dict {(file, line, name): (cc, nc, tt, ct, callers)} of a
 * model, as pstats.Stats expects in .stats.  New reference, or NULL with
 * an exception set. */
PyObject *pyprof_stats_to_dict(pyprof_stats_t *stats);

#endif
