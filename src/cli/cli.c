/* cli.c - `pyprof` subcommand dispatch.
 *
 * Each subcommand lives in its own cmd_<name>.c with the same signature;
 * this file only picks one and prints the overall usage.
 */
#include <Python.h>
#include <errno.h>
#include <string.h>

#include "cli.h"
#include "cmd_dump.h"
#include "cmd_lines.h"
#include "cmd_heap.h"
#include "cmd_export.h"
#include "cmd_memory.h"
#include "cmd_mprof.h"
#include "cmd_record.h"
#include "cmd_run.h"
#include "cmd_stats.h"
#include "cmd_time.h"
#include "cmd_top.h"
#include "cmd_view.h"
#include "../core/output.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command_t;

static const command_t commands[] = {
    {"lines", pyprof_cmd_lines,
     "time every line of chosen functions (the kernprof -l workflow)"},
    {"run", pyprof_cmd_run,
     "profile every function call of a program (the cProfile workflow)"},
    {"stats", pyprof_cmd_stats,
     "print, sort and merge pstats profile files"},
    {"heap", pyprof_cmd_heap,
     "what a program leaves on the heap, per @profile call (objgraph)"},
    {"memory", pyprof_cmd_memory,
     "memory line by line (python -m memory_profiler), with allocations"},
    {"mprof", pyprof_cmd_mprof,
     "memory over time, as memory_profiler's mprof run/plot/list/clean"},
    {"record", pyprof_cmd_record,
     "sample a running program from outside (py-spy record), no slowdown"},
    {"time", pyprof_cmd_time,
     "time a whole program as %timeit and %time do"},
    {"top", pyprof_cmd_top,
     "a live view of a running program's functions (py-spy top)"},
    {"view", pyprof_cmd_view,
     "draw a profile as an HTML report or a flame graph SVG"},
    {"dump", pyprof_cmd_dump,
     "print every thread's Python stack of a running process (py-spy dump)"},
    {"export", pyprof_cmd_export,
     "convert a profile for speedscope, flamegraph.pl, Perfetto, KCachegrind"},
};

static void
print_usage(FILE *out)
{
    fprintf(out,
            "usage: pyprof COMMAND [options] ...\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    }
    fprintf(out, "\n`pyprof COMMAND --help` describes a command.\n");
}

/* Flush what a command left in sys.stdout and C's stdout.  When the
 * reader of stdout went away (`pyprof ... | head`), say nothing -- as
 * `seq`, `cat` or `python -m cProfile` say nothing -- and exit with
 * PYPROF_EXIT_PIPE_CLOSED unless the command already failed; python's
 * own flush at exit then writes to /dev/null instead of printing
 * "Exception ignored ... BrokenPipeError".  What went through sys.stdout
 * may have failed without a trace (PySys_WriteStdout drops errors), so
 * the pipe itself is asked too. */
static int
finish_output(int status)
{
    PyObject *out = PySys_GetObject("stdout");                  /* borrowed */
    if (out != NULL && out != Py_None) {
        PyObject *flushed = PyObject_CallMethod(out, "flush", NULL);
        Py_XDECREF(flushed);
        PyErr_Clear();
    }
    int err = fflush(stdout) != 0 ? errno : 0;
    if (pyprof_output_pipe_closed(err) && status == 0) {
        status = PYPROF_EXIT_PIPE_CLOSED;
    }
    return status;
}

static int
dispatch(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(name, "--version") == 0) {
        printf("pyprof 0.1.0\n");
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(name, commands[i].name) == 0) {
            return commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "pyprof: unknown command '%s' (try 'pyprof --help')\n",
            name);
    return 2;
}

int
pyprof_cli_main(int argc, char **argv)
{
    return finish_output(dispatch(argc, argv));
}
