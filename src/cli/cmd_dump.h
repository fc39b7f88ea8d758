/* cmd_dump.h - `pyprof dump --pid PID`: every thread's Python stack now. */
#ifndef PYPROF_CMD_DUMP_H
#define PYPROF_CMD_DUMP_H

/* argv[0] is "dump".  Plain C (needs no GIL).  Returns the exit status:
 * 0, 1 when the target cannot be read (one line on stderr), 2 for a bad
 * command line. */
int pyprof_cmd_dump(int argc, char **argv);

#endif
