/* cmd_export.h - `pyprof export FILE --format F`: formats other viewers
 * read.  Plain C: needs no interpreter. */
#ifndef PYPROF_CMD_EXPORT_H
#define PYPROF_CMD_EXPORT_H

/* argv[0] is "export".  Returns the exit status: 0; 1 when the profile
 * cannot be read or the output cannot be written; 2 for bad usage. */
int pyprof_cmd_export(int argc, char **argv);

#endif
