/* cmd_record.h - `pyprof record`: sample a running program from outside. */
#ifndef PYPROF_CMD_RECORD_H
#define PYPROF_CMD_RECORD_H

/* argv[0] is "record".  Requires the GIL (for sys.executable).  Returns
 * the exit status: the child's own when pyprof started it, 0 for a
 * --pid recording, 1 when nothing could be sampled, 2 for bad usage. */
int pyprof_cmd_record(int argc, char **argv);

#endif
