/* cmd_mprof.c - `pyprof mprof run|plot|list|clean`: memory over time.
 *
 * `run` replaces memory_profiler's `mprof run`: instead of a second Python
 * process polling the program through psutil, the program runs in this
 * process and a C thread (memory/rss_sampler.c) that never takes the GIL reads
 * /proc/self/statm every --interval seconds.  Each sample is written to
 * mprofile_<YYYYMMDDhhmmss>.dat at once, in mprof's own format, so `mprof
 * plot` reads the file and a program that is killed leaves what was
 * sampled.  The `profile` builtin (binding/mprof_profile.c) makes each
 * call of a decorated function, and each `with profile.timestamp(name)`
 * block, a FUNC record.
 *
 * `plot`, `list`, `clean`, `rm` and `peak` work on the files as mprof's
 * do (mprof_files.c); each action's help page is here.
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
#include "../memory/rss_sampler.h"
#include "cmd_mprof.h"
#include "mprof_files.h"
#include "options.h"
#include "runner.h"

#define DEFAULT_INTERVAL 0.1    /* mprof's default */

/* One help page per action, as mprof's subcommands each have theirs:
 * `pyprof mprof ACTION --help` prints the action's usage and every
 * option it accepts; `pyprof mprof --help` the usages and what each
 * action does. */
typedef struct {
    const char *name;
    const char *usage;
    const char *summary;    /* one line for `pyprof mprof --help` */
    const char *help;       /* the rest of `pyprof mprof ACTION --help` */
} action_help_t;

static const action_help_t action_helps[] = {
    {"run",
     "usage: pyprof mprof run [-T S] [-C] [-M] [-E] [--python] [-o FILE]\n"
     "                        (script.py | -m module | -c code) [args...]\n",
     "sample a program's memory over time into an mprof .dat file",
     "\n"
     "Sample the program's memory (RSS) every --interval seconds from a\n"
     "thread that does not hold the GIL, into mprofile_<YYYYMMDDhhmmss>.dat\n"
     "in mprof's format.  Each call of a function decorated with @profile,\n"
     "and each `with profile.timestamp(name):` block, is a FUNC record.\n"
     "\n"
     "options:\n"
     "  -T, --interval S        sampling period in seconds (default 0.1)\n"
     "  -C, --include-children  add child processes' memory to each sample\n"
     "  -M, --multiprocess      record each child's memory on a CHLD line\n"
     "                          of its own\n"
     "  -E, --exit-code         accepted for mprof's sake: the exit status\n"
     "                          is always the program's\n"
     "  --python                accepted for mprof's sake: the program\n"
     "                          always runs as Python, in this process\n"
     "  -o, --output FILE       write the samples to FILE instead\n"
     "  -h, --help              show this help\n"
     "\n"
     "Everything after the script, -m module or -c code is the program's.\n"
     "The exit status is the program's own (130 after Ctrl-C).\n"},
    {"plot",
     "usage: pyprof mprof plot [FILE | INDEX] [-o OUT.svg] [-t TITLE]\n",
     "draw a profile as an SVG timeline",
     "\n"
     "Draw a profile made by `mprof run` (default: the newest in this\n"
     "directory; INDEX as `pyprof mprof list` numbers them, -1 the newest)\n"
     "as an SVG, with the peak marked and a bracket per profiled call.\n"
     "\n"
     "options:\n"
     "  -o, --output FILE  write the plot to FILE: SVG, or the HTML page\n"
     "                     of `pyprof view` for *.html (default: the\n"
     "                     profile's name with .svg); an image format\n"
     "                     such as .png is refused\n"
     "  -t, --title TEXT   the plot's title\n"
     "  -h, --help         show this help\n"},
    {"list",
     "usage: pyprof mprof list\n",
     "number the profiles in this directory, oldest first",
     "\n"
     "Print the profiles in this directory with their numbers, oldest\n"
     "first, and when each was started.  This command takes no argument.\n"
     "\n"
     "options:\n"
     "  -h, --help  show this help\n"},
    {"clean",
     "usage: pyprof mprof clean [--dry-run]\n",
     "remove every profile in this directory",
     "\n"
     "Remove every profile in this directory.\n"
     "\n"
     "options:\n"
     "  --dry-run   print what would be removed, remove nothing\n"
     "  -h, --help  show this help\n"},
    {"rm",
     "usage: pyprof mprof rm [--dry-run] (FILE | INDEX)...\n",
     "remove the profiles named",
     "\n"
     "Remove the profiles named, by file name or by their number in\n"
     "`pyprof mprof list`; every name is checked before any is removed.\n"
     "\n"
     "options:\n"
     "  --dry-run   print what would be removed, remove nothing\n"
     "  -h, --help  show this help\n"},
    {"peak",
     "usage: pyprof mprof peak [--func NAME] [FILE | INDEX]...\n",
     "print the highest memory sample of profiles",
     "\n"
     "Print the highest memory sample of each profile named (default: the\n"
     "newest in this directory), and of each child process recorded.\n"
     "\n"
     "options:\n"
     "  --func NAME  the highest sample taken during NAME's calls only\n"
     "               (as mprof names them: module.function)\n"
     "  -h, --help   show this help\n"},
};

#define NACTIONS (sizeof(action_helps) / sizeof(action_helps[0]))

/* Every action's usage line, as `pyprof mprof` without an action
 * prints them. */
static void
print_usages(FILE *out)
{
    for (size_t i = 0; i < NACTIONS; i++) {
        const char *usage = action_helps[i].usage;
        fprintf(out, "%s%s", i == 0 ? "" : "       ",
                usage + (i == 0 ? 0 : strlen("usage: ")));
    }
}

static void
print_overview(FILE *out)
{
    print_usages(out);
    fprintf(out, "\nMemory of a program over time, as memory_profiler's "
                 "mprof records it.\n\nactions:\n");
    for (size_t i = 0; i < NACTIONS; i++) {
        fprintf(out, "  %-6s %s\n", action_helps[i].name,
                action_helps[i].summary);
    }
    fprintf(out, "\n`pyprof mprof ACTION --help` describes an action.\n");
}

static const action_help_t *
find_action_help(const char *action)
{
    for (size_t i = 0; i < NACTIONS; i++) {
        if (strcmp(action_helps[i].name, action) == 0) {
            return &action_helps[i];
        }
    }
    return NULL;
}

/* Install `profile` in builtins (remembering what was there), recording
 * into `sampler`, or stop recording and remove it.  Returns 0, or -1 with
 * an exception set. */
static int
swap_profile_builtin(PyObject **saved, int install,
                     pyprof_rss_sampler_t *sampler)
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
            pyprof_cmd_mprof_help(stdout, "run");
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
        fputs(find_action_help("run")->usage, stderr);
        return 2;
    }
    return 0;
}

typedef struct {
    PyObject *saved_profile;    /* builtins.profile before the run */
    int installed;
    pyprof_rss_sampler_t *sampler;  /* borrowed */
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
    /* python's own message and exit status, and no .dat: a recording of
     * nothing would become the newest profile that plot and peak pick,
     * and -o's old file would be truncated for nothing. */
    int missing_status = 1;
    if (pyprof_runner_program_missing(&opts.target, &missing_status)) {
        return missing_status;
    }
    int existed = access(path, F_OK) == 0;
    FILE *out = fopen(path, "w");
    if (out == NULL) {
        fprintf(stderr, "pyprof mprof run: cannot write %s: %s\n", path,
                strerror(errno));
        return 1;
    }
    write_cmdline(out, &opts.target);
    if (fflush(out) != 0) {     /* a full disk is known before the run */
        fprintf(stderr, "pyprof mprof run: cannot write %s: %s\n", path,
                strerror(errno));
        fclose(out);
        return 1;
    }
    fprintf(stderr, "pyprof mprof: sampling memory every %gs into %s\n",
            opts.interval, path);
    pyprof_rss_sampler_config_t cfg = {0, opts.interval, opts.include_children,
                                   out, opts.multiprocess};
    pyprof_rss_sampler_t *sampler = pyprof_rss_sampler_start(&cfg);
    if (sampler == NULL) {
        fprintf(stderr, "pyprof mprof run: cannot start sampling: %s\n",
                strerror(errno));
        fclose(out);
        return 1;
    }
    run_hooks_ctx_t ctx = {NULL, 0, sampler};
    pyprof_run_hooks_t hooks = {run_start, run_stop, &ctx};
    int status = 0;
    pyprof_outcome_t outcome = pyprof_runner_run(&opts.target, &hooks,
                                                 &status);
    run_stop(&ctx);
    pyprof_rss_sampler_stop(sampler);
    int failed = pyprof_rss_sampler_failed(sampler);
    size_t nsamples;
    pyprof_rss_sampler_samples(sampler, &nsamples);
    pyprof_rss_sampler_free(sampler);
    if (outcome == PYPROF_OUTCOME_NOT_FOUND) {     /* -m nosuch */
        fclose(out);
        if (!existed) {
            unlink(path);
        }
        return status;
    }
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
pyprof_cmd_mprof_help(FILE *out, const char *action)
{
    const action_help_t *help = find_action_help(action);
    if (help == NULL) {
        print_overview(out);
        return;
    }
    fprintf(out, "%s%s", help->usage, help->help);
}

int
pyprof_cmd_mprof(int argc, char **argv)
{
    if (argc < 2) {
        print_usages(stderr);
        return 2;
    }
    const char *action = argv[1];
    if (strcmp(action, "-h") == 0 || strcmp(action, "--help") == 0) {
        print_overview(stdout);
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
