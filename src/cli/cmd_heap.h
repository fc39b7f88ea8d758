/* cmd_heap.h - `pyprof heap`: what a program leaves on the heap. */
#ifndef PYPROF_CMD_HEAP_H
#define PYPROF_CMD_HEAP_H

/* argv[0] is "heap".  Requires the GIL.  Returns the exit status: the
 * program's own, or 2 for bad usage. */
int pyprof_cmd_heap(int argc, char **argv);

#endif
