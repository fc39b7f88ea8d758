/* cmd_view.h - `pyprof view FILE`: the HTML report and the flame graph.
 * Plain C: needs no interpreter. */
#ifndef PYPROF_CMD_VIEW_H
#define PYPROF_CMD_VIEW_H

/* argv[0] is "view".  Returns the exit status: 0; 1 when the profile
 * cannot be read or the report cannot be written; 2 for bad usage (a
 * one-line message on stderr in both cases). */
int pyprof_cmd_view(int argc, char **argv);

#endif
