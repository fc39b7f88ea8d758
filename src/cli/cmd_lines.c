/* cmd_lines.c - `pyprof lines`: the `kernprof -l -v` workflow.
 *
 * While the program runs, `profile` is a builtin (as kernprof injects it),
 * so an unmodified script with @profile on a function works; --function,
 * --module and --path select code without editing it.  Afterwards --
 * however the program ended -- the line timings are printed in
 * line_profiler's layout, or written with -o as a .lprof file that
 * `python -m line_profiler` reads (or JSON / text by the file's suffix or
 * --format).  The exit status is the program's.
 */
#include <Python.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/lprof_model.h"
#include "../core/lprof_pickle.h"
#include "../core/lprof_text.h"
#include "../core/output.h"
#include "../core/sink.h"
#include "../lines/lines_engine.h"
#include "cmd_lines.h"
#include "options.h"
#include "selection.h"
#include "runner.h"

static const char usage[] =
    "usage: pyprof lines [-o FILE] [--format lprof|json|text] [-v] "
    "[-u UNIT] [-z]\n"
    "                    [--function NAME]... [--module NAME]... "
    "[--path DIR]...\n"
    "                    [--wall-await] [--comprehension-lines]\n"
    "                    (script.py | -m module | -c code) [args...]\n";

static const char help_text[] =
    "\n"
    "Time every line of the profiled functions, in every thread, as\n"
    "`kernprof -l -v` does.  While the program runs, `profile` is a\n"
    "builtin: decorate functions with @profile, or choose them here.\n"
    "\n"
    "options:\n"
    "  --function NAME     profile NAME: module.func, module.Class.method,\n"
    "                      path/to/file.py:func, or a bare func name\n"
    "                      (repeatable; a name that matches nothing is\n"
    "                      reported and the run goes on)\n"
    "  --module NAME       profile every function defined in module NAME\n"
    "                      (and its submodules)\n"
    "  --path DIR          profile every function defined in a file below\n"
    "                      DIR (or in that file)\n"
    "  -o, --outfile FILE  write the timings to FILE instead of printing\n"
    "                      them: a .lprof that `python -m line_profiler`\n"
    "                      reads, or JSON for *.json, text for *.txt\n"
    "  --format FMT        lprof, json or text, whatever FILE is called\n"
    "  -v, --view          print the table even with -o\n"
    "  -u, --unit SECONDS  time unit of the table (default 1e-6)\n"
    "  -z, --strip-zeros   leave out functions that never ran\n"
    "  --wall-await        charge a line that awaits the wall time until\n"
    "                      its coroutine resumes (default: time on CPU\n"
    "                      only, suspended time is not counted)\n"
    "  --comprehension-lines\n"
    "                      count every iteration of a comprehension or\n"
    "                      generator expression on its line, as\n"
    "                      sys.settrace sees them (default: as kernprof\n"
    "                      counts on this Python: the line once per run,\n"
    "                      the comprehension's time included)\n"
    "  -h, --help          show this help\n"
    "\n"
    "Everything after the script, -m module or -c code is the program's.\n"
    "The exit status is the program's own (130 after Ctrl-C); the timings\n"
    "are printed or written however the program ends.\n";

typedef enum { FORMAT_AUTO, FORMAT_LPROF, FORMAT_JSON, FORMAT_TEXT } format_t;

typedef struct {
    const char *outfile;
    format_t format;
    int view;
    int strip_zeros;
    int wall_await;
    int comprehension_lines;
    double unit;
    pyprof_target_t target;
} lines_options_t;

typedef struct {
    pyprof_lines_t *lines;      /* owned */
    PyObject *saved_profile;    /* builtins.profile before the run, or NULL */
    int had_profile;
    int started;
} session_t;

/* builtins.profile = pyprof.profile for the program's run. */
static int
install_builtin(session_t *session)
{
    PyObject *module = PyImport_ImportModule("pyprof._pyprof");
    if (module == NULL) {
        return -1;
    }
    PyObject *decorator = PyObject_GetAttrString(module, "profile");
    Py_DECREF(module);
    if (decorator == NULL) {
        return -1;
    }
    PyObject *builtins = PyEval_GetBuiltins(); /* borrowed */
    PyObject *old = PyDict_GetItemString(builtins, "profile");
    session->had_profile = old != NULL;
    session->saved_profile = Py_XNewRef(old);
    int rc = PyDict_SetItemString(builtins, "profile", decorator);
    Py_DECREF(decorator);
    return rc;
}

static void
restore_builtin(session_t *session)
{
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyObject *builtins = PyEval_GetBuiltins();
    if (builtins != NULL) {
        if (session->had_profile) {
            PyDict_SetItemString(builtins, "profile", session->saved_profile);
        }
        else if (PyDict_DelItemString(builtins, "profile") < 0) {
            PyErr_Clear();
        }
    }
    Py_CLEAR(session->saved_profile);
    PyErr_Clear();
    PyErr_Restore(type, value, traceback);
}

static int
session_start(void *ctx)
{
    session_t *session = ctx;
    if (install_builtin(session) < 0) {
        return -1;
    }
    if (pyprof_lines_enable(session->lines) < 0) {
        restore_builtin(session);
        return -1;
    }
    session->started = 1;
    return 0;
}

static void
session_stop(void *ctx)
{
    session_t *session = ctx;
    pyprof_lines_disable(session->lines);
    restore_builtin(session);
}

static int
ends_with(const char *text, const char *suffix)
{
    size_t n = strlen(text), m = strlen(suffix);
    return n >= m && strcmp(text + n - m, suffix) == 0;
}

/* Render `model` in `format` into `sink`. */
static void
render(pyprof_sink_t *sink, const pyprof_lprof_t *model, format_t format,
       const lines_options_t *opts)
{
    if (format == FORMAT_LPROF) {
        pyprof_lprof_write_pickle(sink, model);
    }
    else if (format == FORMAT_JSON) {
        pyprof_lprof_write_json(sink, model);
    }
    else {
        pyprof_lprof_text_options_t text;
        pyprof_lprof_text_options_init(&text);
        text.unit = opts->unit;
        text.strip_zeros = opts->strip_zeros;
        text.source = pyprof_lines_source_text;
        pyprof_lprof_write_text(sink, model, &text);
    }
}

static int
write_outfile(const pyprof_lprof_t *model, const lines_options_t *opts,
              const char *path)
{
    format_t format = opts->format;
    if (format == FORMAT_AUTO) {
        format = ends_with(path, ".json") ? FORMAT_JSON
                 : ends_with(path, ".txt") ? FORMAT_TEXT
                                           : FORMAT_LPROF;
    }
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    render(&sink, model, format, opts);
    char errbuf[512];
    int rc = pyprof_sink_failed(&sink)
                 ? (snprintf(errbuf, sizeof(errbuf), "%s: out of memory",
                             path), -1)
                 : pyprof_output_write(path, sink.data, sink.len, errbuf,
                                       sizeof(errbuf));
    pyprof_sink_free_buffer(&sink);
    if (rc < 0) {
        fprintf(stderr, "pyprof lines: cannot write %s\n", errbuf);
        return -1;
    }
    fprintf(stderr, "pyprof: wrote %s\n", opts->outfile);
    return 0;
}

static int
report(session_t *session, const lines_options_t *opts, const char *outpath)
{
    for (size_t i = 0;; i++) {
        const char *name = pyprof_lines_unmatched_function(session->lines, i);
        if (name == NULL) {
            break;
        }
        fprintf(stderr,
                "pyprof lines: warning: --function %s: no such function "
                "was found\n",
                name);
    }
    if (pyprof_lines_out_of_memory(session->lines)) {
        fprintf(stderr, "pyprof lines: warning: out of memory while "
                        "recording; some lines are missing\n");
    }
    pyprof_lprof_t *model = pyprof_lines_export(session->lines);
    if (model == NULL) {
        pyprof_runner_print_error("pyprof lines: cannot export the timings");
        return -1;
    }
    int rc = 0;
    if (model->nfuncs == 0) {
        fprintf(stderr,
                "pyprof lines: no function was profiled: decorate one "
                "with @profile, or use --function, --module or --path\n");
    }
    if (outpath != NULL && write_outfile(model, opts, outpath) < 0) {
        rc = -1;
    }
    /* With nothing profiled there is no table to print: the one line
     * above says so (kernprof would print a bare "Timer unit" line). */
    if ((outpath == NULL || opts->view) && model->nfuncs > 0) {
        fflush(stdout);
        pyprof_sink_t sink;
        pyprof_sink_init_file(&sink, stdout);
        format_t format = outpath == NULL && opts->format != FORMAT_AUTO
                              ? opts->format : FORMAT_TEXT;
        if (format == FORMAT_LPROF) {
            format = FORMAT_TEXT; /* never a pickle on a terminal */
        }
        render(&sink, model, format, opts);
        if (fflush(stdout) != 0 || pyprof_sink_failed(&sink)) {
            if (!pyprof_output_pipe_closed(errno)) {
                fprintf(stderr,
                        "pyprof lines: cannot print the timings: %s\n",
                        strerror(errno));
            }
            rc = -1;
        }
    }
    pyprof_lprof_free(model);
    return rc;
}

/* Returns 0 to go on, 1 after printing help, 2 after a usage error.
 * Rules are added to `lines` as they are read. */
static int
parse_options(int argc, char **argv, lines_options_t *opts,
              pyprof_lines_t *lines)
{
    pyprof_options_t scan;
    pyprof_options_init(&scan, "pyprof lines", argc, argv);
    while (!pyprof_options_at_program(&scan)) {
        const char *value = NULL;
        int rc;
        if (pyprof_options_flag(&scan, "-h", "--help")) {
            printf("%s%s", usage, help_text);
            return 1;
        }
        if (pyprof_options_flag(&scan, "-v", "--view")) {
            opts->view = 1;
            continue;
        }
        if (pyprof_options_flag(&scan, "-z", "--strip-zeros")) {
            opts->strip_zeros = 1;
            continue;
        }
        if (pyprof_options_flag(&scan, NULL, "--wall-await")) {
            opts->wall_await = 1;
            continue;
        }
        if (pyprof_options_flag(&scan, NULL, "--comprehension-lines")) {
            opts->comprehension_lines = 1;
            continue;
        }
        if ((rc = pyprof_options_value(&scan, "-o", "--outfile",
                                       &opts->outfile)) != 0) {
            if (rc < 0) {
                return 2;
            }
            continue;
        }
        if ((rc = pyprof_options_value(&scan, NULL, "--format", &value))
            != 0) {
            if (rc < 0) {
                return 2;
            }
            if (strcmp(value, "lprof") == 0) {
                opts->format = FORMAT_LPROF;
            }
            else if (strcmp(value, "json") == 0) {
                opts->format = FORMAT_JSON;
            }
            else if (strcmp(value, "text") == 0) {
                opts->format = FORMAT_TEXT;
            }
            else {
                fprintf(stderr, "pyprof lines: --format takes lprof, json "
                                "or text, not '%s'\n", value);
                return 2;
            }
            continue;
        }
        if ((rc = pyprof_options_value(&scan, "-u", "--unit", &value)) != 0) {
            if (rc < 0) {
                return 2;
            }
            char *end;
            errno = 0;
            double unit = strtod(value, &end);
            if (errno != 0 || end == value || *end != '\0' || !(unit > 0)
                || unit > 1e6) {
                fprintf(stderr, "pyprof lines: --unit takes a positive "
                                "number of seconds (1e-6, 0.001), not "
                                "'%s'\n", value);
                return 2;
            }
            opts->unit = unit;
            continue;
        }
        int taken = pyprof_selection_option(&scan, lines, "pyprof lines");
        if (taken < 0) {
            return 2;
        }
        if (taken == 0) {
            pyprof_options_unknown(&scan);
            return 2;
        }
    }
    if (pyprof_runner_parse_target("pyprof lines", argc - scan.index,
                                   argv + scan.index, &opts->target) < 0) {
        fputs(usage, stderr);
        return 2;
    }
    return 0;
}

int
pyprof_cmd_lines(int argc, char **argv)
{
    lines_options_t opts;
    memset(&opts, 0, sizeof(opts));
    opts.unit = 1e-6;
    /* wall_await is only known after parsing: rules go to a scratch
     * engine, which is replaced below when --wall-await is given. */
    session_t session = {0};
    session.lines = pyprof_lines_new(0);
    if (session.lines == NULL) {
        pyprof_runner_print_error("pyprof lines: cannot create a profiler");
        return 1;
    }
    int rc = parse_options(argc, argv, &opts, session.lines);
    if (rc != 0) {
        pyprof_lines_free(session.lines);
        return rc == 1 ? 0 : 2;
    }
    if (opts.wall_await) {
        pyprof_lines_set_wall_await(session.lines, 1);
    }
    pyprof_lines_set_comprehension_lines(session.lines,
                                         opts.comprehension_lines);
    if (opts.target.kind == PYPROF_TARGET_SCRIPT
        && pyprof_lines_set_main_file(session.lines, opts.target.name) < 0) {
        PyErr_Clear();
    }
    char *outpath = NULL;
    if (opts.outfile != NULL && opts.format == FORMAT_AUTO) {
        static const char *const formats[] = {".lprof", ".json", ".txt"};
        static const format_t by_suffix[] = {FORMAT_LPROF, FORMAT_JSON,
                                             FORMAT_TEXT};
        int format = pyprof_options_output_format("pyprof lines",
                                                  opts.outfile, formats, 3);
        if (format < 0) {
            pyprof_lines_free(session.lines);
            return 2;
        }
        opts.format = by_suffix[format];
    }
    if (opts.outfile != NULL) {
        outpath = pyprof_options_output_path("pyprof lines", opts.outfile);
        if (outpath == NULL) {
            pyprof_lines_free(session.lines);
            return 1;
        }
    }
    pyprof_run_hooks_t hooks = {session_start, session_stop, &session};
    int status = 0;
    pyprof_outcome_t outcome = pyprof_runner_run(&opts.target, &hooks,
                                                 &status);
    if (session.started && outcome != PYPROF_OUTCOME_NOT_FOUND
        && report(&session, &opts, outpath) < 0 && status == 0) {
        status = pyprof_output_failure_status();
    }
    pyprof_lines_free(session.lines);
    free(outpath);
    return status;
}
