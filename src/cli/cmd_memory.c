/* cmd_memory.c - `pyprof memory`: the `python -m memory_profiler` workflow.
 *
 * The program runs with `profile` as a builtin (as memory_profiler and
 * kernprof inject it) and the line-event engine (lines/) selecting the
 * decorated functions, or those named by --function / --module / --path.
 * line_memory.c charges each line's RSS as memory_profiler does, and the
 * allocation hooks the bytes each line allocated.  Afterwards, however
 * the program ended, the tables are printed (or written as JSON with -o).
 * The exit status is the program's.
 */
#include <Python.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/output.h"
#include "../core/sink.h"
#include "../engine/alloc_hook.h"
#include "../lines/lines_engine.h"
#include "../memory/line_memory.h"
#include "../report/memory_report.h"
#include "cmd_memory.h"
#include "options.h"
#include "selection.h"
#include "runner.h"

static const char usage[] =
    "usage: pyprof memory [-o FILE] [--rss-only] [--precision N]\n"
    "                     [--function NAME]... [--module NAME]... "
    "[--path DIR]...\n"
    "                     (script.py | -m module | -c code) [args...]\n";

static const char help_text[] =
    "\n"
    "Memory line by line in the profiled functions, as `python -m\n"
    "memory_profiler` prints it (Mem usage: RSS after the line; Increment:\n"
    "its change from the line before, as memory_profiler computes it;\n"
    "Occurrences), plus the bytes Python's allocators gave each line\n"
    "(Allocated) and how many of them were still alive when the function\n"
    "returned (Alive).  `profile` is a builtin while the program runs.\n"
    "\n"
    "options:\n"
    "  --function NAME     profile NAME (module.func, module.Class.method,\n"
    "                      file.py:func, func); repeatable\n"
    "  --module NAME       profile every function of module NAME\n"
    "  --path DIR          profile every function defined below DIR\n"
    "  -o, --outfile FILE  write the results to FILE: JSON (pyprof view\n"
    "                      reads it), or the table for *.txt\n"
    "  --rss-only          only memory_profiler's columns\n"
    "  --precision N       decimals of the MiB columns (default 3)\n"
    "  -h, --help          show this help\n";

typedef struct {
    const char *outfile;
    int outfile_text;           /* -o *.txt: the printed table */
    int rss_only;
    long precision;
    pyprof_target_t target;
} memory_options_t;

typedef struct {
    pyprof_lines_t *lines;
    pyprof_line_memory_t *memory;
    PyObject *saved_profile;
    int had_profile, installed, started;
} session_t;

static PyObject *
profile_builtin(PyObject *self, PyObject *func)
{
    return pyprof_line_memory_decorate(func);
}

static PyMethodDef profile_def = {
    "profile", profile_builtin, METH_O,
    "profile(func): profile func's memory line by line."};

static int
install_builtin(session_t *s)
{
    PyObject *decorator = PyCFunction_New(&profile_def, NULL);
    if (decorator == NULL) {
        return -1;
    }
    PyObject *builtins = PyEval_GetBuiltins();  /* borrowed */
    PyObject *old = PyDict_GetItemString(builtins, "profile");
    s->had_profile = old != NULL;
    s->saved_profile = Py_XNewRef(old);
    int rc = PyDict_SetItemString(builtins, "profile", decorator);
    Py_DECREF(decorator);
    s->installed = rc == 0;
    return rc;
}

static void
restore_builtin(session_t *s)
{
    if (!s->installed) {
        return;
    }
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyObject *builtins = PyEval_GetBuiltins();
    if (s->had_profile) {
        PyDict_SetItemString(builtins, "profile", s->saved_profile);
    }
    else if (PyDict_DelItemString(builtins, "profile") < 0) {
        PyErr_Clear();
    }
    Py_CLEAR(s->saved_profile);
    s->installed = 0;
    PyErr_Clear();
    PyErr_Restore(type, value, traceback);
}

static int
session_start(void *ctx)
{
    session_t *s = ctx;
    if (install_builtin(s) < 0) {
        return -1;
    }
    if (pyprof_line_memory_start(s->memory) < 0) {
        restore_builtin(s);
        return -1;
    }
    /* Enabling allocates (callbacks, thread stacks): not the program's. */
    pyprof_alloc_suspend();
    int enabled = pyprof_lines_enable(s->lines);
    pyprof_alloc_resume();
    if (enabled < 0) {
        pyprof_line_memory_stop(s->memory);
        restore_builtin(s);
        return -1;
    }
    s->started = 1;
    return 0;
}

static void
session_stop(void *ctx)
{
    session_t *s = ctx;
    pyprof_alloc_suspend();
    pyprof_lines_disable(s->lines);
    restore_builtin(s);
    pyprof_alloc_resume();
}

static int
parse_options(int argc, char **argv, memory_options_t *opts,
              pyprof_lines_t *lines)
{
    pyprof_options_t scan;
    pyprof_options_init(&scan, "pyprof memory", argc, argv);
    while (!pyprof_options_at_program(&scan)) {
        const char *value = NULL;
        int rc;
        if (pyprof_options_flag(&scan, "-h", "--help")) {
            printf("%s%s", usage, help_text);
            return 1;
        }
        if (pyprof_options_flag(&scan, NULL, "--rss-only")) {
            opts->rss_only = 1;
            continue;
        }
        if ((rc = pyprof_options_value(&scan, "-o", "--outfile",
                                       &opts->outfile)) != 0) {
            if (rc < 0) {
                return 2;
            }
            continue;
        }
        if ((rc = pyprof_options_value(&scan, NULL, "--precision", &value))
            != 0) {
            if (rc < 0 || pyprof_options_parse_long(&scan, "--precision",
                                                    value, 0, 9,
                                                    &opts->precision) < 0) {
                return 2;
            }
            continue;
        }
        int taken = pyprof_selection_option(&scan, lines, "pyprof memory");
        if (taken < 0) {
            return 2;
        }
        if (taken == 0) {
            pyprof_options_unknown(&scan);
            return 2;
        }
    }
    if (pyprof_runner_parse_target("pyprof memory", argc - scan.index,
                                   argv + scan.index, &opts->target) < 0) {
        fputs(usage, stderr);
        return 2;
    }
    return 0;
}

static int
report(const pyprof_memprof_t *profile, const memory_options_t *opts,
       const char *outpath)
{
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    if (outpath != NULL && !opts->outfile_text) {
        pyprof_memory_report_json(&sink, profile, pyprof_lines_source_text,
                                  NULL);
    }
    else {
        pyprof_memory_report_text(&sink, profile, opts->rss_only,
                                  (int)opts->precision,
                                  pyprof_lines_source_text, NULL);
    }
    size_t len;
    char *text = pyprof_sink_take(&sink, &len);
    if (text == NULL) {
        fprintf(stderr, "pyprof memory: out of memory\n");
        return -1;
    }
    int rc = 0;
    if (outpath != NULL) {
        char errbuf[512];
        if (pyprof_output_write(outpath, text, len, errbuf, sizeof(errbuf))
            < 0) {
            fprintf(stderr, "pyprof memory: cannot write %s\n", errbuf);
            rc = -1;
        }
        else {
            fprintf(stderr, "pyprof: wrote %s\n", opts->outfile);
        }
    }
    else {
        /* Through sys.stdout, so the tables follow the program's output. */
        PyObject *out = PySys_GetObject("stdout");     /* borrowed */
        PyObject *str = PyUnicode_DecodeUTF8(text, (Py_ssize_t)len,
                                             "replace");
        PyObject *done = out != NULL && out != Py_None && str != NULL
                             ? PyObject_CallMethod(out, "write", "O", str)
                             : NULL;
        if (done == NULL) {
            PyErr_Clear();
            fwrite(text, 1, len, stdout);
        }
        else {
            PyObject *flushed = PyObject_CallMethod(out, "flush", NULL);
            Py_XDECREF(flushed);
            PyErr_Clear();
        }
        Py_XDECREF(done);
        Py_XDECREF(str);
    }
    free(text);
    return rc;
}

int
pyprof_cmd_memory(int argc, char **argv)
{
    memory_options_t opts;
    memset(&opts, 0, sizeof(opts));
    opts.precision = 3;     /* python -m memory_profiler's default */
    session_t s = {0};
    s.lines = pyprof_lines_new(0);
    if (s.lines == NULL) {
        pyprof_runner_print_error("pyprof memory: cannot create a profiler");
        return 1;
    }
    int rc = parse_options(argc, argv, &opts, s.lines);
    if (rc != 0) {
        pyprof_lines_free(s.lines);
        return rc == 1 ? 0 : 2;
    }
    if (opts.target.kind == PYPROF_TARGET_SCRIPT &&
        pyprof_lines_set_main_file(s.lines, opts.target.name) < 0) {
        PyErr_Clear();
    }
    char *outpath = NULL;
    static const char *const formats[] = {".json", ".txt"};
    int format = opts.outfile == NULL ? 0
        : pyprof_options_output_format("pyprof memory", opts.outfile,
                                       formats, 2);
    if (format < 0) {
        pyprof_lines_free(s.lines);
        return 2;
    }
    opts.outfile_text = format == 1;
    if (opts.outfile != NULL
        && (outpath = pyprof_options_output_path("pyprof memory",
                                                 opts.outfile)) == NULL) {
        pyprof_lines_free(s.lines);
        return 1;
    }
    s.memory = pyprof_line_memory_new(s.lines);
    if (s.memory == NULL) {
        pyprof_runner_print_error("pyprof memory");
        pyprof_lines_free(s.lines);
        free(outpath);
        return 1;
    }
    pyprof_run_hooks_t hooks = {session_start, session_stop, &s};
    int status = 0;
    pyprof_outcome_t outcome = pyprof_runner_run(&opts.target, &hooks,
                                                 &status);
    session_stop(&s);
    if (s.started && outcome != PYPROF_OUTCOME_NOT_FOUND) {
        pyprof_memprof_t *profile = pyprof_line_memory_export(s.memory);
        if (profile == NULL) {
            pyprof_runner_print_error("pyprof memory: cannot export");
            status = status ? status : 1;
        }
        else {
            if (profile->nfuncs == 0) {
                fprintf(stderr, "pyprof memory: no function was profiled "
                                "(decorate one with @profile, or use "
                                "--function)\n");
            }
            if (report(profile, &opts, outpath) < 0 && status == 0) {
                status = 1;
            }
            pyprof_memprof_free(profile);
        }
        for (size_t i = 0;; i++) {
            const char *rule = pyprof_lines_unmatched_function(s.lines, i);
            if (rule == NULL) {
                break;
            }
            fprintf(stderr, "pyprof memory: no function matched "
                            "--function %s\n", rule);
        }
        if (pyprof_line_memory_out_of_memory(s.memory)) {
            fprintf(stderr, "pyprof memory: out of memory while "
                            "profiling; some figures are lower bounds\n");
        }
    }
    pyprof_line_memory_free(s.memory);
    pyprof_lines_free(s.lines);
    free(outpath);
    return status;
}
