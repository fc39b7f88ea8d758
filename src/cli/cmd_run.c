/* cmd_run.c - placeholder until the command lands. */
#include <Python.h>
#include "cmd_run.h"

int
pyprof_cmd_run(int argc, char **argv)
{
    fprintf(stderr, "pyprof: 'run' is not built yet\n");
    return 2;
}
