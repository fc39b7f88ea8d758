/* cmd_top.h - `pyprof top`: a live view of a running program. */
#ifndef PYPROF_CMD_TOP_H
#define PYPROF_CMD_TOP_H

/* argv[0] is "top".  Returns 0 when the user quit or the target exited,
 * 1 when it could not be sampled, 2 for bad usage. */
int pyprof_cmd_top(int argc, char **argv);

#endif
