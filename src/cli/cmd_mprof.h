/* cmd_mprof.h - `pyprof mprof`: memory over time (mprof run, and the
 * actions on its files in mprof_files.c). */
#ifndef PYPROF_CMD_MPROF_H
#define PYPROF_CMD_MPROF_H

#include <stdio.h>

/* Print the help page of `pyprof mprof ACTION` ("run", "plot", ...) to
 * `out`: its usage and every option it accepts.  An unknown action gets
 * the overview of all of them. */
void pyprof_cmd_mprof_help(FILE *out, const char *action);

/* argv[0] is "mprof".  Returns the exit status. */
int pyprof_cmd_mprof(int argc, char **argv);

#endif
