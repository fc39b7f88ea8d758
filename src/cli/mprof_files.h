/* mprof_files.h - `pyprof mprof plot|list|clean|rm|peak`: the profiles
 * `pyprof mprof run` (or mprof's own) left in the current directory.
 *
 * A profile is named on the command line as mprof names it: a file, or
 * its number in `list` (0 the oldest, -1 the newest); none means the
 * newest.  Each function takes argv[0] = the action's name and returns
 * the exit status (2 for a usage error, 1 for any other failure).
 */
#ifndef PYPROF_MPROF_FILES_H
#define PYPROF_MPROF_FILES_H

/* Draw one profile as an SVG (report/mprof_svg.c). */
int pyprof_mprof_plot(int argc, char **argv);

/* `list` prints the profiles with their numbers and times; `clean`
 * (clean != 0) removes them all. */
int pyprof_mprof_list_or_clean(int argc, char **argv, int clean);

/* Remove the profiles named (all names are checked first). */
int pyprof_mprof_rm(int argc, char **argv);

/* Print each named profile's highest sample (during `--func NAME`'s
 * calls only, when given), and its child processes' highest. */
int pyprof_mprof_peak(int argc, char **argv);

#endif
