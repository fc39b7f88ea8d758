/* cmd_mprof.h - `pyprof mprof`: memory over time (mprof run, and the
 * actions on its files in mprof_files.c). */
#ifndef PYPROF_CMD_MPROF_H
#define PYPROF_CMD_MPROF_H

#include <stdio.h>

/* Print the usage and help of every `pyprof mprof` action to `out`. */
void pyprof_cmd_mprof_help(FILE *out);

/* argv[0] is "mprof".  Returns the exit status. */
int pyprof_cmd_mprof(int argc, char **argv);

#endif
