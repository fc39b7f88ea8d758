/* cmd_mprof.c - `pyprof mprof run|plot|list|clean`: memory over time.
 *
 * `run` replaces memory_profiler's `mprof run`: instead of a second Python
 * process polling the program through psutil, the program runs in this
 * process and a C thread (memory/sampler.c) that never takes the GIL reads
 * /proc/self/statm every --interval seconds.  Each sample is written to
 * mprofile_<YYYYMMDDhhmmss>.dat at once, in mprof's own format, so `mprof
 * plot` reads the file and a program that is killed leaves what was
 * sampled.  The `profile` builtin (binding/mprof_profile.c) makes each
 * call of a decorated function, and each `with profile.timestamp(name)`
 * block, a FUNC record.
 *
 * `plot`, `list`, `clean`, `rm` and `peak` work on the files as mprof's
 * do (mprof_files.c).
 */
#include <Python.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../binding/mprof_profile.h"
#include "../memory/mprof_file.h"
#include "../memory/sampler.h"
#include "cmd_mprof.h"
#include "mprof_files.h"
#include "options.h"
#include "runner.h"

#define DEFAULT_INTERVAL 0.1    /* mprof's default */

static const char usage[] =
    "usage: pyprof mprof run [--interval S] [--include-children]\n"
    "                        [--multiprocess] [-o FILE]\n"
    "                        (script.py | -m module | -c code) [args...]\n"
    "       pyprof mprof plot [FILE | INDEX] [-o OUT.svg] [--title TEXT]\n"
    "       pyprof mprof list\n"
    "       pyprof mprof clean [--dry-run]\n"
    "       pyprof mprof rm [--dry-run] (FILE | INDEX)...\n"
    "       pyprof mprof peak [--func NAME] [FILE | INDEX]...\n";

static const char help_text[] =
    "\n"
    "Memory of a program over time, as memory_profiler's mprof records it.\n"
    "\n"
    "run: sample the program's memory (RSS) every --interval seconds\n"
    "(default 0.1) from a thread that does not hold the GIL, into\n"
    "mprofile_<YYYYMMDDhhmmss>.dat (or -o FILE) in mprof's format; functions\n"
    "decorated with @profile are recorded per call.  --include-children\n"
    "(-C) adds child processes' memory to each sample; --multiprocess (-M)\n"
    "records each child's on a CHLD line of its own.  The exit status is\n"
    "the program's (mprof's --exit-code is accepted and implied).\n"
    "plot: draw a profile (default: the newest in this directory; INDEX as\n"
    "`list` numbers them) as an SVG with the peak marked and a bracket per\n"
    "profiled call; written next to the file unless -o is given.\n"
    "list: the profiles in this directory, oldest first.\n"
    "clean: delete them; rm: delete the ones named.\n"
    "peak: the highest memory sample of each profile named (default: the\n"
    "newest), or of the samples taken during --func's calls.\n";

/* Install `profile` in builtins (remembering what was there), recording
 * into `sampler`, or stop recording and remove it.  Returns 0, or -1 with
 * an exception set. */
static int
swap_profile_builtin(PyObject **saved, int install,
                     pyprof_sampler_t *sampler)
{
    PyObject *builtins = PyEval_GetBuiltins();  /* borrowed */
    if (install) {
        PyObject *decorator = pyprof_mprof_profile_start(sampler);
        if (decorator == NULL) {
            return -1;
        }
        *saved = PyDict_GetItemString(builtins, "profile");
        Py_XINCREF(*saved);
        int rc = PyDict_SetItemString(builtins, "profile", decorator);
        Py_DECREF(decorator);
        if (rc < 0) {
            pyprof_mprof_profile_stop();
            Py_CLEAR(*saved);
        }
        return rc;
    }
    pyprof_mprof_profile_stop();
    int rc = *saved != NULL
                 ? PyDict_SetItemString(builtins, "profile", *saved)
                 : PyDict_DelItemString(builtins, "profile");
    Py_CLEAR(*saved);
    if (rc < 0) {
        PyErr_Clear();
    }
    return 0;
}

typedef struct {
    double interval;
    int include_children;
    int multiprocess;
    const char *output;
    pyprof_target_t target;
} run_options_t;

/* Parse `text` as seconds > 0.  Returns 0, or -1 after a message. */
static int
parse_interval(const char *text, double *out)
{
    char *end = NULL;
    errno = 0;
    double value = strtod(text, &end);
    if (end == text || *end != '\0' || errno != 0 || !isfinite(value) ||
        value <= 0) {
        fprintf(stderr,
                "pyprof mprof run: --interval takes a positive number of "
                "seconds, not '%s'\n",
                text);
        return -1;
    }
    if (value < 0.001) {
        fprintf(stderr, "pyprof mprof run: --interval %s is below the "
                        "1 ms the sampler can keep up with\n", text);
        return -1;
    }
    *out = value;
    return 0;
}

/* mprof's CMDLINE: the command as a user would type it, arguments with
 * blanks in single quotes (mprof's get_cmd_line). */
static void
write_cmdline(FILE *out, const pyprof_target_t *target)
{
    const char *python = "python";
    PyObject *exe = PySys_GetObject("executable");  /* borrowed */
    if (exe != NULL && PyUnicode_Check(exe) && PyUnicode_GET_LENGTH(exe)) {
        const char *text = PyUnicode_AsUTF8(exe);
        if (text != NULL) {
            python = text;
        }
        PyErr_Clear();
    }
    fprintf(out, "CMDLINE %s", python);
    if (target->kind == PYPROF_TARGET_MODULE) {
        fputs(" -m", out);
    }
    else if (target->kind == PYPROF_TARGET_CODE) {
        fputs(" -c", out);
    }
    for (int i = -1; i < target->argc; i++) {
        const char *arg = i < 0 ? target->name : target->argv[i];
        /* A newline would end the record: a code string may hold one. */
        int quote = strpbrk(arg, " \t") != NULL;
        fputs(quote ? " '" : " ", out);
        for (const char *p = arg; *p; p++) {
            fputc(*p == '\n' || *p == '\r' ? ' ' : *p, out);
        }
        if (quote) {
            fputc('\'', out);
        }
    }
    fputc('\n', out);
}

static int
parse_run_options(int argc, char **argv, run_options_t *opts)
{
    pyprof_options_t scan;
    pyprof_options_init(&scan, "pyprof mprof run", argc, argv);
    memset(opts, 0, sizeof(*opts));
    opts->interval = DEFAULT_INTERVAL;
    while (!pyprof_options_at_program(&scan)) {
        const char *value = NULL;
        int rc;
        if (pyprof_options_flag(&scan, "-h", "--help")) {
            printf("%s%s", usage, help_text);
            return 1;
        }
        if (pyprof_options_flag(&scan, "-C", "--include-children")) {
            opts->include_children = 1;
        }
        else if (pyprof_options_flag(&scan, "-M", "--multiprocess")) {
            opts->multiprocess = 1;
        }
        else if (pyprof_options_flag(&scan, "-E", "--exit-code") ||
                 pyprof_options_flag(&scan, NULL, "--python")) {
            /* mprof's: the exit status is always the program's here, and
             * the program always runs as Python */
        }
        else if ((rc = pyprof_options_value(&scan, "-T", "--interval",
                                            &value)) != 0) {
            if (rc < 0 || parse_interval(value, &opts->interval) < 0) {
                return 2;
            }
        }
        else if ((rc = pyprof_options_value(&scan, "-o", "--output",
                                            &opts->output)) != 0) {
            if (rc < 0) {
                return 2;
            }
        }
        else {
            pyprof_options_unknown(&scan);
            return 2;
        }
    }
    if (pyprof_runner_parse_target("pyprof mprof run", argc - scan.index,
                                   argv + scan.index, &opts->target) < 0) {
        fputs(usage, stderr);
        return 2;
    }
    return 0;
}

typedef struct {
    PyObject *saved_profile;    /* builtins.profile before the run */
    int installed;
    pyprof_sampler_t *sampler;  /* borrowed */
} run_hooks_ctx_t;

static int
run_start(void *opaque)
{
    run_hooks_ctx_t *ctx = opaque;
    if (swap_profile_builtin(&ctx->saved_profile, 1, ctx->sampler) < 0) {
        return -1;
    }
    ctx->installed = 1;
    return 0;
}

static void
run_stop(void *opaque)
{
    run_hooks_ctx_t *ctx = opaque;
    if (ctx->installed) {
        swap_profile_builtin(&ctx->saved_profile, 0, NULL);
        ctx->installed = 0;
    }
}

static int
cmd_mprof_run(int argc, char **argv)
{
    run_options_t opts;
    int rc = parse_run_options(argc, argv, &opts);
    if (rc != 0) {
        return rc == 1 ? 0 : 2;
    }
    char name[64];
    const char *path = opts.output;
    if (path == NULL) {
        path = pyprof_mprof_default_name(name, sizeof(name),
                                         (long)time(NULL));
    }
    FILE *out = fopen(path, "w");
    if (out == NULL) {
        fprintf(stderr, "pyprof mprof run: cannot write %s: %s\n", path,
                strerror(errno));
        return 1;
    }
    write_cmdline(out, &opts.target);
    fflush(out);
    fprintf(stderr, "pyprof mprof: sampling memory every %gs into %s\n",
            opts.interval, path);
    pyprof_sampler_config_t cfg = {0, opts.interval, opts.include_children,
                                   out, opts.multiprocess};
    pyprof_sampler_t *sampler = pyprof_sampler_start(&cfg);
    if (sampler == NULL) {
        fprintf(stderr, "pyprof mprof run: cannot start sampling: %s\n",
                strerror(errno));
        fclose(out);
        return 1;
    }
    run_hooks_ctx_t ctx = {NULL, 0, sampler};
    pyprof_run_hooks_t hooks = {run_start, run_stop, &ctx};
    int status = 0;
    pyprof_runner_run(&opts.target, &hooks, &status);
    run_stop(&ctx);
    pyprof_sampler_stop(sampler);
    int failed = pyprof_sampler_failed(sampler);
    size_t nsamples;
    pyprof_sampler_samples(sampler, &nsamples);
    pyprof_sampler_free(sampler);
    if (fclose(out) != 0 || failed) {
        fprintf(stderr, "pyprof mprof run: cannot write %s: %s\n", path,
                failed ? "write error or out of memory" : strerror(errno));
        return status != 0 ? status : 1;
    }
    fprintf(stderr, "pyprof mprof: wrote %zu samples to %s\n", nsamples,
            path);
    return status;
}

void
pyprof_cmd_mprof_help(FILE *out)
{
    fprintf(out, "%s%s", usage, help_text);
}

int
pyprof_cmd_mprof(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *action = argv[1];
    if (strcmp(action, "-h") == 0 || strcmp(action, "--help") == 0) {
        printf("%s%s", usage, help_text);
        return 0;
    }
    if (strcmp(action, "run") == 0) {
        return cmd_mprof_run(argc - 1, argv + 1);
    }
    if (strcmp(action, "plot") == 0) {
        return pyprof_mprof_plot(argc - 1, argv + 1);
    }
    if (strcmp(action, "list") == 0) {
        return pyprof_mprof_list_or_clean(argc - 1, argv + 1, 0);
    }
    if (strcmp(action, "clean") == 0) {
        return pyprof_mprof_list_or_clean(argc - 1, argv + 1, 1);
    }
    if (strcmp(action, "rm") == 0) {
        return pyprof_mprof_rm(argc - 1, argv + 1);
    }
    if (strcmp(action, "peak") == 0) {
        return pyprof_mprof_peak(argc - 1, argv + 1);
    }
    fprintf(stderr, "pyprof mprof: unknown action '%s' (run, plot, list, "
                    "clean, rm or peak)\n", action);
    return 2;
}
