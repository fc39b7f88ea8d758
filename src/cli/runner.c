/* runner.c - placeholder until the runner lands. */
#include <Python.h>
#include "runner.h"
pyprof_outcome_t pyprof_runner_run(const pyprof_target_t *t, const pyprof_run_hooks_t *h, int *exit_code) { (void)t; (void)h; *exit_code = 2; return PYPROF_OUTCOME_NOT_FOUND; }
