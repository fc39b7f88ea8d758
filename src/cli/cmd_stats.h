/* cmd_stats.h - `pyprof stats FILE...`: read, merge and print pstats files.
 * Plain C: needs no interpreter. */
#ifndef PYPROF_CMD_STATS_H
#define PYPROF_CMD_STATS_H

/* argv[0] is "stats".  Returns the exit status: 0, 2 for bad usage or an
 * unreadable / corrupt file (one-line message on stderr). */
int pyprof_cmd_stats(int argc, char **argv);

#endif
