/* profiler.c - placeholder until the engine lands. */
#include "profiler.h"
pyprof_profiler_t *pyprof_profiler_new(pyprof_clock_kind_t clock, int builtins) { PyErr_SetString(PyExc_NotImplementedError, "engine not built yet"); return NULL; }
int pyprof_profiler_enable(pyprof_profiler_t *prof) { return -1; }
void pyprof_profiler_disable(pyprof_profiler_t *prof) {}
void pyprof_profiler_clear(pyprof_profiler_t *prof) {}
pyprof_stats_t *pyprof_profiler_export(pyprof_profiler_t *prof) { return NULL; }
void pyprof_profiler_free(pyprof_profiler_t *prof) {}
int pyprof_profiler_traverse(pyprof_profiler_t *prof, visitproc visit, void *arg) { return 0; }
