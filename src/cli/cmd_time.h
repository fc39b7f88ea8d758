/* cmd_time.h - `pyprof time`: overall runtime as %timeit and %time report it. */
#ifndef PYPROF_CMD_TIME_H
#define PYPROF_CMD_TIME_H

/* argv[0] is "time".  Requires the GIL.  Returns the exit status. */
int pyprof_cmd_time(int argc, char **argv);

#endif
