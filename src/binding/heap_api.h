/* heap_api.h - objgraph's API, from C: the module functions of the heap
 * census (typestats, show_growth, by_type, show_backrefs, ...). */
#ifndef PYPROF_BINDING_HEAP_API_H
#define PYPROF_BINDING_HEAP_API_H

#include <Python.h>

/* Add the heap functions, HeapGrowthError and the default peak-stats dict
 * to `module`.  Returns 0, or -1 with an exception set. */
int pyprof_heap_api_add(PyObject *module);

#endif
