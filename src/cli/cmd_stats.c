/* cmd_stats.c - `pyprof stats FILE...`: read, merge and print pstats files.
 *
 * The command is a spelling of
 *     pstats.Stats(*files)[.strip_dirs()].sort_stats(*keys)
 *           .print_stats(limit)                        (default)
 *           .print_callers(pattern[, limit])           (--callers)
 *           .print_callees(pattern[, limit])           (--callees)
 * and takes pains to do what that does, down to the order in which
 * pstats reads several files (the first, then the others from the last
 * backwards), which decides the row order of ties and the header lines.
 *
 * Plain C: the reading, merging and printing are all in src/core, so the
 * command needs no interpreter.
 */
#include "cmd_stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/pstats_file.h"
#include "../core/report.h"
#include "../core/sink.h"
#include "../core/stats.h"
#include "../core/output.h"
#include "options.h"

static const char usage_text[] =
    "usage: pyprof stats FILE... [--sort KEY]... [--limit N] [--strip-dirs]\n"
    "                    [--callers PATTERN] [--callees PATTERN]\n"
    "                    [--output FILE]\n";

static const char help_text[] =
    "\n"
    "Print pstats profile files (from cProfile, profile.Profile.dump_stats\n"
    "or pyprof) as pstats does; several files are merged.\n"
    "\n"
    "options:\n"
    "  -s, --sort KEY       sort key, repeatable: calls, cumulative,\n"
    "                       cumtime, filename, line, module, name, ncalls,\n"
    "                       nfl, pcalls, stdname, time, tottime (unique\n"
    "                       prefixes too), or pstats' old codes -1, 0, 1, 2\n"
    "  -l, --limit N        at most N rows, or a fraction such as 0.1\n"
    "  --strip-dirs         drop directories from file names (merging\n"
    "                       functions that then look alike)\n"
    "  --callers PATTERN    print who called the functions whose name\n"
    "                       matches PATTERN (a POSIX extended regex)\n"
    "  --callees PATTERN    print what those functions called\n"
    "  -o, --output FILE    write the merged profile to FILE as a pstats\n"
    "                       file instead of printing it (FILE.txt: what\n"
    "                       would be printed)\n"
    "  -h, --help           show this help\n";

typedef struct {
    const char **files;         /* borrowed from argv */
    int nfiles;
    pyprof_report_options_t report;
    int strip_dirs;
    const char *callers;        /* pattern, or NULL */
    const char *callees;
    const char *output;
} stats_args_t;

static int
usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "pyprof stats: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", usage_text);
    return 2;
}

/* Match `--name VALUE`, `--name=VALUE` or `-x VALUE` at argv[*i]; on a
 * match store the value, advance *i past it and return 1.  Returns -1 when
 * the value is missing, 0 when argv[*i] is another option. */
static int
take_value(int argc, char **argv, int *i, const char *name,
           const char *short_name, const char **value)
{
    const char *arg = argv[*i];
    size_t len = strlen(name);
    if (strncmp(arg, name, len) == 0 && arg[len] == '=') {
        *value = arg + len + 1;
        return 1;
    }
    if (strcmp(arg, name) != 0
        && (short_name == NULL || strcmp(arg, short_name) != 0)) {
        return 0;
    }
    if (*i + 1 >= argc) {
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

/* --limit: an int (pstats' count) or a float (its fraction). */
static int
parse_limit(const char *text, pyprof_report_options_t *opts)
{
    char *end;
    errno = 0;
    long count = strtol(text, &end, 10);
    if (*text != '\0' && *end == '\0' && errno == 0) {
        opts->limit = count;
        opts->use_fraction = 0;
        return 0;
    }
    errno = 0;
    double fraction = strtod(text, &end);
    if (*text != '\0' && *end == '\0' && errno == 0) {
        opts->fraction = fraction;
        opts->use_fraction = 1;
        return 0;
    }
    return -1;
}

/* Parse argv into *args.  Returns -1 to go on, or an exit status. */
static int
parse_args(int argc, char **argv, stats_args_t *args)
{
    memset(args, 0, sizeof(*args));
    pyprof_report_options_init(&args->report);
    args->files = calloc((size_t)argc, sizeof(char *));
    if (args->files == NULL) {
        fprintf(stderr, "pyprof stats: out of memory\n");
        return 2;
    }
    int only_files = 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = NULL;
        int got;
        if (only_files || arg[0] != '-' || strcmp(arg, "-") == 0) {
            args->files[args->nfiles++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_files = 1;
            continue;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            printf("%s%s", usage_text, help_text);
            return 0;
        }
        if (strcmp(arg, "--strip-dirs") == 0) {
            args->strip_dirs = 1;
            continue;
        }
        if ((got = take_value(argc, argv, &i, "--sort", "-s", &value)) > 0) {
            if (args->report.nsort == PYPROF_REPORT_MAX_SORT) {
                return usage_error("too many --sort keys (at most %s)", "8");
            }
            if (!pyprof_report_sort_key_valid(value)) {
                return usage_error("unknown sort key '%s'", value);
            }
            args->report.sort[args->report.nsort++] = value;
        }
        else if (got == 0 && (got = take_value(argc, argv, &i, "--limit",
                                               "-l", &value)) > 0) {
            if (parse_limit(value, &args->report) < 0) {
                return usage_error("--limit takes a number, not '%s'", value);
            }
        }
        else if (got == 0 && (got = take_value(argc, argv, &i, "--callers",
                                               NULL, &value)) > 0) {
            args->callers = value;
        }
        else if (got == 0 && (got = take_value(argc, argv, &i, "--callees",
                                               NULL, &value)) > 0) {
            args->callees = value;
        }
        else if (got == 0 && (got = take_value(argc, argv, &i, "--output",
                                               "-o", &value)) > 0) {
            args->output = value;
        }
        if (got < 0) {
            return usage_error("%s needs a value", arg);
        }
        if (got == 0) {
            return usage_error("unknown option '%s'", arg);
        }
    }
    if (args->nfiles == 0) {
        return usage_error("%s", "no profile file given");
    }
    return -1;
}

/* pstats.Stats(*files): the first file, then add(*rest), which walks the
 * rest in reverse.  Returns the model, or NULL after printing why. */
static pyprof_stats_t *
load_files(const stats_args_t *args)
{
    pyprof_stats_t *stats = pyprof_stats_new();
    if (stats == NULL) {
        fprintf(stderr, "pyprof stats: out of memory\n");
        return NULL;
    }
    char errbuf[512];
    for (int k = 0; k < args->nfiles; k++) {
        int i = k == 0 ? 0 : args->nfiles - k;
        if (pyprof_pstats_read_file(stats, args->files[i], errbuf,
                                    sizeof(errbuf)) < 0) {
            fprintf(stderr, "pyprof stats: %s\n", errbuf);
            pyprof_stats_free(stats);
            return NULL;
        }
    }
    return stats;
}

/* The reports pstats would print for these arguments. */
static int
print_reports(pyprof_sink_t *out, const pyprof_stats_t *stats,
              const stats_args_t *args, char *errbuf, size_t errlen)
{
    if (args->callers == NULL && args->callees == NULL) {
        return pyprof_report_print_stats(out, stats, &args->report, errbuf,
                                         errlen);
    }
    pyprof_report_options_t opts = args->report;
    if (args->callers != NULL) {
        opts.pattern = args->callers;
        if (pyprof_report_print_callers(out, stats, &opts, errbuf,
                                        errlen) < 0) {
            return -1;
        }
    }
    if (args->callees != NULL) {
        opts.pattern = args->callees;
        if (pyprof_report_print_callees(out, stats, &opts, errbuf,
                                        errlen) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The printed reports written to args->output (stats -o FILE.txt).
 * Returns the exit status. */
static int
write_text_report(const pyprof_stats_t *stats, const stats_args_t *args)
{
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    char errbuf[512];
    int status = 0;
    if (print_reports(&sink, stats, args, errbuf, sizeof(errbuf)) < 0) {
        fprintf(stderr, "pyprof stats: %s\n", errbuf);
        status = 2;
    }
    else if (pyprof_sink_failed(&sink)) {
        fprintf(stderr, "pyprof stats: out of memory\n");
        status = 1;
    }
    else if (pyprof_output_write(args->output, sink.data ? sink.data : "",
                                 sink.len, errbuf, sizeof(errbuf)) < 0) {
        fprintf(stderr, "pyprof stats: cannot write %s\n", errbuf);
        status = 1;
    }
    pyprof_sink_free_buffer(&sink);
    return status;
}

int
pyprof_cmd_stats(int argc, char **argv)
{
    stats_args_t args;
    pyprof_stats_t *stats = NULL;
    int status = parse_args(argc, argv, &args);
    if (status >= 0) {
        goto done;
    }
    /* -o's format by its extension (options.h), refused before any
     * file is read. */
    static const char *const formats[] = {".pstats", ".txt"};
    int text_output = 0;
    if (args.output != NULL) {
        int format = pyprof_options_output_format("pyprof stats",
                                                  args.output, formats, 2);
        if (format < 0) {
            status = 2;
            goto done;
        }
        text_output = format == 1;
    }
    status = 2;
    stats = load_files(&args);
    if (stats == NULL) {
        goto done;
    }
    if (args.strip_dirs) {
        pyprof_stats_t *stripped = pyprof_stats_strip_dirs(stats);
        if (stripped == NULL) {
            fprintf(stderr, "pyprof stats: out of memory\n");
            goto done;
        }
        pyprof_stats_free(stats);
        stats = stripped;
    }
    char errbuf[512];
    if (text_output) {
        status = write_text_report(stats, &args);
        goto done;
    }
    if (args.output != NULL) {
        if (pyprof_pstats_write_file(stats, args.output, errbuf,
                                     sizeof(errbuf)) < 0) {
            fprintf(stderr, "pyprof stats: cannot write %s\n", errbuf);
            status = 1;     /* an output that cannot be written */
            goto done;
        }
        status = 0;
        goto done;
    }
    pyprof_sink_t out;
    pyprof_sink_init_file(&out, stdout);
    if (print_reports(&out, stats, &args, errbuf, sizeof(errbuf)) < 0) {
        fprintf(stderr, "pyprof stats: %s\n", errbuf);
        goto done;
    }
    if (pyprof_sink_failed(&out) || fflush(stdout) != 0) {
        if (!pyprof_output_pipe_closed(errno)) {
            fprintf(stderr, "pyprof stats: cannot write the report: %s\n",
                    strerror(errno));
        }
        status = pyprof_output_failure_status();
        goto done;
    }
    status = 0;
done:
    pyprof_stats_free(stats);
    free(args.files);
    return status;
}
