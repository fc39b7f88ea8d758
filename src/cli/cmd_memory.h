/* cmd_memory.h - `pyprof memory`: memory_profiler's per-line table. */
#ifndef PYPROF_CMD_MEMORY_H
#define PYPROF_CMD_MEMORY_H

/* argv[0] is "memory".  Returns the exit status. */
int pyprof_cmd_memory(int argc, char **argv);

#endif
