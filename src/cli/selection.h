/* selection.h - the options that choose functions for the line engine
 * without editing code: --function, --module and --path, shared by
 * `pyprof lines` and `pyprof memory`. */
#ifndef PYPROF_SELECTION_H
#define PYPROF_SELECTION_H

#include "../lines/lines_engine.h"
#include "options.h"

/* When the option at `scan` is --function, --module or --path, take it,
 * add its rule to `lines` and return 1; return 0 (taking nothing) for any
 * other option; return -1 after printing a one-line message prefixed by
 * `command` (missing or empty name, out of memory). */
int pyprof_selection_option(pyprof_options_t *scan, pyprof_lines_t *lines,
                            const char *command);

#endif
