/* cmd_time.c - placeholder until the command lands. */
#include <Python.h>
#include "cmd_time.h"

int
pyprof_cmd_time(int argc, char **argv)
{
    fprintf(stderr, "pyprof: 'time' is not built yet\n");
    return 2;
}
