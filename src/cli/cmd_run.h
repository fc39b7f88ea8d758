/* cmd_run.h - `pyprof run`: deterministic function profile of a program. */
#ifndef PYPROF_CMD_RUN_H
#define PYPROF_CMD_RUN_H

/* argv[0] is "run".  Requires the GIL.  Returns the exit status: the
 * program's own, or 2 for bad usage. */
int pyprof_cmd_run(int argc, char **argv);

#endif
