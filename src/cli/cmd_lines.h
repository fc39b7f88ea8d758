/* cmd_lines.h - `pyprof lines`: line-by-line timing (kernprof -l -v). */
#ifndef PYPROF_CMD_LINES_H
#define PYPROF_CMD_LINES_H

/* Run `pyprof lines` with argv[0] == "lines".  Returns the exit status:
 * the program's own, 2 for a usage error. */
int pyprof_cmd_lines(int argc, char **argv);

#endif
