/* hook_install.h - installing interpreter hooks, shared by the function
 * profiler (tracer_*.c) and the line engine (src/lines/).
 *
 * sys.monitoring's module and tool ids (3.12+), and threading's
 * setprofile/settrace, through which threads started later get a C hook.
 * All functions require the GIL.
 */
#ifndef PYPROF_HOOK_INSTALL_H
#define PYPROF_HOOK_INSTALL_H

#include <Python.h>

/* sys.monitoring: a new reference, or NULL with an exception set. */
PyObject *pyprof_monitoring_module(void);

/* Claim the first free tool id of `ids` (n of them) under `name`.
 * Returns the id, or -1 with an exception set (RuntimeError naming
 * `what` when every id is taken). */
int pyprof_monitoring_claim_tool(PyObject *monitoring, const int *ids,
                                 size_t n, const char *name,
                                 const char *what);

/* threading.<setter>(func), setter being "setprofile" or "settrace".
 * Returns 0, or -1 with an exception set. */
int pyprof_threading_set_hook(const char *setter, PyObject *func);

#endif
