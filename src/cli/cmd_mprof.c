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
 * `plot` draws the file as SVG (report/mprof_svg.c); `list` and `clean`
 * behave as mprof's.
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
#include "../core/sink.h"
#include "../memory/mprof_file.h"
#include "../memory/rss.h"
#include "../memory/sampler.h"
#include "../report/mprof_svg.h"
#include "cmd_mprof.h"
#include "options.h"
#include "runner.h"

#define DEFAULT_INTERVAL 0.1    /* mprof's default */

static const char usage[] =
    "usage: pyprof mprof run [--interval S] [--include-children] [-o FILE]\n"
    "                        (script.py | -m module | -c code) [args...]\n"
    "       pyprof mprof plot [FILE | INDEX] [-o OUT.svg] [--title TEXT]\n"
    "       pyprof mprof list\n"
    "       pyprof mprof clean [--dry-run]\n";

static const char help_text[] =
    "\n"
    "Memory of a program over time, as memory_profiler's mprof records it.\n"
    "\n"
    "run: sample the program's memory (RSS) every --interval seconds\n"
    "(default 0.1) from a thread that does not hold the GIL, into\n"
    "mprofile_<YYYYMMDDhhmmss>.dat (or -o FILE) in mprof's format; functions\n"
    "decorated with @profile are recorded per call.  --include-children\n"
    "adds child processes' memory (and a CHLD line per child).\n"
    "plot: draw a profile (default: the newest in this directory; INDEX as\n"
    "`list` numbers them) as an SVG with the peak marked and a bracket per\n"
    "profiled call; written next to the file unless -o is given.\n"
    "list: the profiles in this directory, oldest first.\n"
    "clean: delete them.\n";

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
                                   out};
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

/* ------------------------------------------------------------------ */
/* `plot`, `list`, `clean`. */

/* The profile `arg` names: a file, or an index into `list` (negative
 * counts from the newest); NULL for the newest.  Returns a new string, or
 * NULL after a message. */
static char *
resolve_profile(const char *arg)
{
    if (arg != NULL && access(arg, F_OK) == 0) {
        return strdup(arg);
    }
    char **names = pyprof_mprof_list(".");
    if (names == NULL) {
        fprintf(stderr, "pyprof mprof plot: cannot list this directory: "
                        "%s\n", strerror(errno));
        return NULL;
    }
    long count = 0;
    while (names[count] != NULL) {
        count++;
    }
    char *chosen = NULL;
    if (arg == NULL) {
        if (count == 0) {
            fprintf(stderr, "pyprof mprof plot: no mprofile_*.dat file in "
                            "this directory (run 'pyprof mprof run' "
                            "first)\n");
        }
        else {
            chosen = strdup(names[count - 1]);
        }
    }
    else {
        char *end;
        long index = strtol(arg, &end, 10);
        if (*arg != '\0' && *end == '\0' && index < 0) {
            index += count;
        }
        if (*arg == '\0' || *end != '\0') {
            fprintf(stderr, "pyprof mprof plot: %s: no such file\n", arg);
        }
        else if (index < 0 || index >= count) {
            fprintf(stderr, "pyprof mprof plot: no profile number %s (%ld "
                            "in this directory)\n", arg, count);
        }
        else {
            chosen = strdup(names[index]);
        }
    }
    pyprof_mprof_free_names(names);
    return chosen;
}

static int
cmd_mprof_plot(int argc, char **argv)
{
    pyprof_options_t scan;
    pyprof_options_init(&scan, "pyprof mprof plot", argc, argv);
    const char *output = NULL, *title = NULL, *file = NULL;
    while (pyprof_options_current(&scan) != NULL) {
        int rc;
        if (pyprof_options_flag(&scan, "-h", "--help")) {
            printf("%s%s", usage, help_text);
            return 0;
        }
        if ((rc = pyprof_options_value(&scan, "-o", "--output", &output)) ||
            (rc = pyprof_options_value(&scan, "-t", "--title", &title))) {
            if (rc < 0) {
                return 2;
            }
        }
        else if (pyprof_options_at_option(&scan) &&
                 strcmp(pyprof_options_current(&scan), "-1") != 0) {
            pyprof_options_unknown(&scan);
            return 2;
        }
        else if (file == NULL) {
            file = pyprof_options_current(&scan);
            scan.index++;
        }
        else {
            fprintf(stderr, "pyprof mprof plot: one profile at a time\n");
            return 2;
        }
    }
    char *path = resolve_profile(file);
    if (path == NULL) {
        return 1;
    }
    char errbuf[512];
    pyprof_mprof_data_t *data = pyprof_mprof_read(path, errbuf,
                                                  sizeof(errbuf));
    int status = 1;
    char *svg_path = NULL;
    if (data == NULL) {
        fprintf(stderr, "pyprof mprof plot: %s\n", errbuf);
        goto done;
    }
    if (data->nmem == 0) {
        fprintf(stderr, "pyprof mprof plot: %s has no memory samples "
                        "(the run ended or was killed before the first "
                        "one)\n", path);
        goto done;
    }
    if (data->truncated) {
        fprintf(stderr, "pyprof mprof plot: %s ends in a cut-off line "
                        "(the run was killed?); plotting its %zu complete "
                        "samples\n", path, data->nmem);
    }
    if (output == NULL) {
        size_t n = strlen(path);
        svg_path = malloc(n + 5);
        if (svg_path == NULL) {
            fprintf(stderr, "pyprof mprof plot: out of memory\n");
            goto done;
        }
        memcpy(svg_path, path, n + 1);
        if (n > 4 && strcmp(path + n - 4, ".dat") == 0) {
            svg_path[n - 4] = '\0';
        }
        strcat(svg_path, ".svg");
        output = svg_path;
    }
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    pyprof_mprof_svg_write(&sink, data, title);
    size_t len;
    char *svg = pyprof_sink_take(&sink, &len);
    FILE *out = svg != NULL ? fopen(output, "w") : NULL;
    if (svg == NULL) {
        fprintf(stderr, "pyprof mprof plot: out of memory\n");
    }
    else if (out == NULL || fwrite(svg, 1, len, out) != len ||
             fclose(out) != 0) {
        fprintf(stderr, "pyprof mprof plot: cannot write %s: %s\n", output,
                strerror(errno));
    }
    else {
        fprintf(stderr, "pyprof mprof: wrote %s\n", output);
        status = 0;
    }
    free(svg);
done:
    pyprof_mprof_data_free(data);
    free(svg_path);
    free(path);
    return status;
}

static int
cmd_mprof_list_or_clean(int argc, char **argv, int clean)
{
    int dry_run = 0;
    pyprof_options_t scan;
    pyprof_options_init(&scan, clean ? "pyprof mprof clean"
                                     : "pyprof mprof list", argc, argv);
    while (pyprof_options_current(&scan) != NULL) {
        if (clean && pyprof_options_flag(&scan, NULL, "--dry-run")) {
            dry_run = 1;
        }
        else if (pyprof_options_flag(&scan, "-h", "--help")) {
            printf("%s%s", usage, help_text);
            return 0;
        }
        else {
            fprintf(stderr, "%s: unexpected argument '%s'\n", scan.command,
                    pyprof_options_current(&scan));
            return 2;
        }
    }
    char **names = pyprof_mprof_list(".");
    if (names == NULL) {
        fprintf(stderr, "%s: cannot list this directory: %s\n",
                scan.command, strerror(errno));
        return 1;
    }
    int status = 0;
    if (clean && dry_run) {
        printf("Files to be removed: \n");
    }
    for (int i = 0; names[i] != NULL; i++) {
        const char *n = names[i];
        if (!clean) {
            /* mprof: "0 mprofile_20261125184500.dat 18:45:00 25/11/2026" */
            printf("%d %s %.2s:%.2s:%.2s %.2s/%.2s/%.4s\n", i, n, n + 17,
                   n + 19, n + 21, n + 15, n + 13, n + 9);
        }
        else if (dry_run) {
            printf("%s\n", n);
        }
        else if (unlink(n) != 0) {
            fprintf(stderr, "%s: cannot remove %s: %s\n", scan.command, n,
                    strerror(errno));
            status = 1;
        }
    }
    pyprof_mprof_free_names(names);
    return status;
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
        return cmd_mprof_plot(argc - 1, argv + 1);
    }
    if (strcmp(action, "list") == 0) {
        return cmd_mprof_list_or_clean(argc - 1, argv + 1, 0);
    }
    if (strcmp(action, "clean") == 0) {
        return cmd_mprof_list_or_clean(argc - 1, argv + 1, 1);
    }
    fprintf(stderr, "pyprof mprof: unknown action '%s' (run, plot, list or "
                    "clean)\n", action);
    return 2;
}
