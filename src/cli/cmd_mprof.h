/* cmd_mprof.h - `pyprof mprof`: memory over time (mprof run/plot/list/clean). */
#ifndef PYPROF_CMD_MPROF_H
#define PYPROF_CMD_MPROF_H

/* argv[0] is "mprof".  Returns the exit status. */
int pyprof_cmd_mprof(int argc, char **argv);

#endif
