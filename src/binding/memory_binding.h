/* memory_binding.h - the memory features' Python functions, added to the
 * module by module_exec. */
#ifndef PYPROF_MEMORY_BINDING_H
#define PYPROF_MEMORY_BINDING_H

#include <Python.h>

/* Add the private allocation-hook functions (_alloc_*).  Returns 0, or -1
 * with an exception set. */
int pyprof_memory_alloc_add_functions(PyObject *module);

/* Add memory_usage().  Returns 0, or -1 with an exception set. */
int pyprof_memory_usage_add_functions(PyObject *module);

/* Add memory_profile().  Returns 0, or -1 with an exception set. */
int pyprof_memory_profile_add_functions(PyObject *module);

#endif
