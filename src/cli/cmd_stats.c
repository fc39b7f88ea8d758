/* cmd_stats.c - placeholder until the command lands. */
#include <stdio.h>
#include "cmd_stats.h"

int
pyprof_cmd_stats(int argc, char **argv)
{
    fprintf(stderr, "pyprof: 'stats' is not built yet\n");
    return 2;
}
