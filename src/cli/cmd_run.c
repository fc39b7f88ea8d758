/* cmd_run.c - `pyprof run`: the `python -m cProfile` workflow.
 *
 * The program runs through the runner with the profiler enabled exactly
 * around its own code (the hooks), so none of pyprof's frames show up.
 * Afterwards -- whether the program returned, raised, called sys.exit(N)
 * or was stopped with Ctrl-C -- the profile is exported and either written
 * as a pstats file (-o, printing nothing else, as cProfile -o does) or
 * printed as cProfile's table: strip_dirs(), sorted by -s, no file header.
 * The exit status is the program's, so pyprof run fits in scripts.
 *
 * Unlike cProfile, which swallows SystemExit and exits 0, `pyprof run`
 * exits with the program's code; and it profiles every thread.
 */
#include <Python.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/calltree_file.h"
#include "../core/pstats_file.h"
#include "../core/report.h"
#include "../core/sink.h"
#include "../core/stats.h"
#include "../engine/compat.h"
#include "../engine/export_tree.h"
#include "../engine/profiler.h"
#include "../core/output.h"
#include "../report/pprof_export.h"
#include "../report/tree_formats.h"
#include "cmd_run.h"
#include "options.h"
#include "runner.h"

/* What `python -m cProfile` sorts by on this Python (compat.h). */
#define DEFAULT_SORT PYPROF_CPROFILE_DEFAULT_SORT

static const char usage[] =
    "usage: pyprof run [-o FILE] [-s KEY] [--limit N] [--clock wall|cpu] "
    "[--full-paths]\n"
    "                  (script.py | -m module | -c code) [args...]\n";

static const char help_text[] =
    "\n"
    "Profile every call of Python and C functions, in every thread, while a\n"
    "program runs, as `python -m cProfile` does.\n"
    "\n"
    "options:\n"
    "  -o, --outfile FILE  write the profile to FILE instead of printing\n"
    "                      it, in the format its extension names: .html\n"
    "                      the report of pyprof view, .svg its flame graph,\n"
    "                      .pb.gz/.pprof pprof (go tool pprof, Pyroscope),\n"
    "                      .speedscope.json, .trace.json (Chrome trace),\n"
    "                      .collapsed/.folded stacks, .txt the printed\n"
    "                      table; any other name (prog.prof, prog.pstats,\n"
    "                      profile.out) a pstats file, as cProfile -o\n"
    "                      writes (pstats.Stats, `pyprof stats` read it)\n"
    "  -s, --sort KEY      sort the printed table by KEY: calls, cumtime,\n"
    "                      cumulative, file, filename, line, module, name,\n"
    "                      ncalls, nfl, pcalls, stdname, time, tottime\n"
    "                      (default: python -m cProfile's own: cumulative\n"
    "                      from 3.11, stdname on 3.10)\n"
    "  --limit N           print at most N rows\n"
    "  --clock wall|cpu    time with the wall clock (default) or the\n"
    "                      thread's CPU clock\n"
    "  --full-paths        keep directories in file names (no strip_dirs)\n"
    "  -h, --help          show this help\n"
    "\n"
    "Everything after the script, -m module or -c code is the program's.\n"
    "The exit status is the program's own (130 after Ctrl-C); the profile\n"
    "is written or printed however the program ends.\n";

/* What -o writes, by its extension (pyprof_options_output_format). */
/* The formats drawn from the profile's model and tree are
 * report/tree_formats.h's, by value; the others are run's own. */
typedef enum {
    OUTPUT_HTML = PYPROF_TREE_HTML,
    OUTPUT_SVG = PYPROF_TREE_SVG,
    OUTPUT_SPEEDSCOPE = PYPROF_TREE_SPEEDSCOPE,
    OUTPUT_CHROME = PYPROF_TREE_CHROME,
    OUTPUT_COLLAPSED = PYPROF_TREE_COLLAPSED,
    OUTPUT_PSTATS = PYPROF_TREE_COLLAPSED + 1, OUTPUT_PPROF, OUTPUT_TEXT
} output_format_t;

static const char *const output_suffixes[] = {
    ".pstats", ".pb.gz", ".pprof", ".html", ".htm", ".svg",
    ".speedscope.json", ".trace.json", ".collapsed", ".folded", ".txt",
};
static const output_format_t output_formats[] = {
    OUTPUT_PSTATS, OUTPUT_PPROF, OUTPUT_PPROF, OUTPUT_HTML, OUTPUT_HTML,
    OUTPUT_SVG, OUTPUT_SPEEDSCOPE, OUTPUT_CHROME, OUTPUT_COLLAPSED,
    OUTPUT_COLLAPSED, OUTPUT_TEXT,
};
#define NOUTPUT_SUFFIXES (sizeof(output_suffixes) / sizeof(output_suffixes[0]))

typedef struct {
    const char *outfile;        /* -o as given; NULL prints the table */
    output_format_t format;     /* what -o writes */
    const char *sort;           /* -s */
    long limit;                 /* --limit; -1 for every row */
    pyprof_clock_kind_t clock;  /* --clock */
    int full_paths;             /* --full-paths */
    pyprof_target_t target;
} run_options_t;

/* The profiler and whether the runner got as far as enabling it. */
typedef struct {
    pyprof_profiler_t *profiler;    /* owned */
    int started;                    /* there is a profile to report */
} session_t;

static int
session_start(void *ctx)
{
    session_t *session = ctx;
    if (pyprof_profiler_enable(session->profiler) < 0) {
        return -1;
    }
    session->started = 1;
    return 0;
}

static void
session_stop(void *ctx)
{
    session_t *session = ctx;
    pyprof_profiler_disable(session->profiler);
}

/* The table `python -m cProfile` prints, into `sink`.  0, or -1 with
 * errbuf set. */
static int
write_table(pyprof_sink_t *sink, const pyprof_stats_t *stats,
            const run_options_t *opts, char *errbuf, size_t errlen)
{
    pyprof_stats_t *stripped = NULL;
    if (!opts->full_paths) {
        stripped = pyprof_stats_strip_dirs(stats);
        if (stripped == NULL) {
            snprintf(errbuf, errlen, "out of memory");
            return -1;
        }
        stats = stripped;
    }
    pyprof_report_options_t report;
    pyprof_report_options_init(&report);
    report.sort[0] = opts->sort;
    report.nsort = 1;
    report.limit = opts->limit;
    report.print_header = 0;
    int rc = pyprof_report_print_stats(sink, stats, &report, errbuf, errlen);
    pyprof_stats_free(stripped);
    return rc;
}

/* The table `python -m cProfile` prints, on stdout. */
static int
print_profile(const pyprof_stats_t *stats, const run_options_t *opts)
{
    pyprof_sink_t sink;
    pyprof_sink_init_file(&sink, stdout);
    char errbuf[256];
    int rc = write_table(&sink, stats, opts, errbuf, sizeof(errbuf));
    if (rc < 0) {
        fprintf(stderr, "pyprof run: %s\n", errbuf);
    }
    else if (fflush(stdout) != 0 || pyprof_sink_failed(&sink)) {
        if (!pyprof_output_pipe_closed(errno)) {
            fprintf(stderr, "pyprof run: cannot print the profile: %s\n",
                    strerror(errno));
        }
        rc = -1;
    }
    return rc;
}

/* Write the pstats file with the exact call paths as a trailer; say so
 * when only the pstats data could be written.  0 or -1 with errbuf set. */
static int
write_with_paths(const session_t *session, const pyprof_stats_t *stats,
                 const char *path, char *errbuf, size_t errlen)
{
    int paths_saved;
    int rc = pyprof_profiler_write_pstats(session->profiler, stats, path,
                                          &paths_saved, errbuf, errlen);
    if (rc == 0 && !paths_saved && pyprof_stats_count(stats) > 0) {
        fprintf(stderr, "pyprof run: warning: call paths not saved\n");
    }
    return rc;
}

/* The basename of `path` (borrowed from it), for report titles. */
static const char *
base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

/* Render the profile and its exact call paths in `format` (anything but
 * pstats) into `sink`.  0, or -1 with errbuf set. */
static int
render(const session_t *session, const run_options_t *opts,
       const pyprof_stats_t *stats, pyprof_sink_t *sink, char *errbuf,
       size_t errlen)
{
    if (opts->format == OUTPUT_TEXT) {
        return write_table(sink, stats, opts, errbuf, errlen);
    }
    pyprof_pathtree_t tree;
    if (pyprof_pathtree_init(&tree) < 0) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    const char *title = base_name(opts->outfile);
    int rc = -1;
    if (pyprof_profiler_export_paths(session->profiler, stats, &tree) < 0) {
        PyErr_Clear();
    }
    else {
        rc = opts->format == OUTPUT_PPROF
             ? pyprof_export_pprof(sink, stats, &tree,
                                   opts->clock == PYPROF_CLOCK_CPU
                                       ? "cpu" : "wall")
             : pyprof_tree_format_write(sink,
                                        (pyprof_tree_format_t)opts->format,
                                        stats, &tree, title);
    }
    if (rc < 0) {
        snprintf(errbuf, errlen, "out of memory");
    }
    pyprof_pathtree_free(&tree);
    return rc;
}

/* Write the profile in a format other than pstats.  0 or -1 with errbuf
 * set. */
static int
write_rendered(const session_t *session, const run_options_t *opts,
               const pyprof_stats_t *stats, const char *path, char *errbuf,
               size_t errlen)
{
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    int rc = render(session, opts, stats, &sink, errbuf, errlen);
    if (rc == 0 && pyprof_sink_failed(&sink)) {
        snprintf(errbuf, errlen, "out of memory");
        rc = -1;
    }
    if (rc == 0) {
        rc = pyprof_output_write(path, sink.data ? sink.data : "", sink.len,
                                 errbuf, errlen);
    }
    pyprof_sink_free_buffer(&sink);
    return rc;
}

/* Export what the session recorded, then write or print it. */
static int
report_profile(const session_t *session, const run_options_t *opts,
               const char *outfile_path)
{
    pyprof_stats_t *stats = pyprof_profiler_export(session->profiler);
    if (stats == NULL) {
        pyprof_runner_print_error("pyprof run: cannot export the profile");
        return -1;
    }
    int rc;
    if (outfile_path != NULL) {
        char errbuf[512];
        rc = opts->format != OUTPUT_PSTATS
            ? write_rendered(session, opts, stats, outfile_path, errbuf,
                             sizeof(errbuf))
            : write_with_paths(session, stats, outfile_path, errbuf,
                               sizeof(errbuf));
        if (rc < 0) {
            fprintf(stderr, "pyprof run: cannot write the profile: %s\n",
                    errbuf);
        }
        else {
            fprintf(stderr, "pyprof: wrote %s\n", opts->outfile);
        }
    }
    else {
        rc = print_profile(stats, opts);
    }
    pyprof_stats_free(stats);
    return rc;
}

/* Returns 0 to go on, 1 after printing help, 2 after a usage error. */
static int
parse_options(int argc, char **argv, run_options_t *opts)
{
    pyprof_options_t scan;
    pyprof_options_init(&scan, "pyprof run", argc, argv);
    memset(opts, 0, sizeof(*opts));
    opts->format = OUTPUT_PSTATS;
    opts->sort = DEFAULT_SORT;
    opts->limit = -1;
    opts->clock = PYPROF_CLOCK_WALL;
    while (!pyprof_options_at_program(&scan)) {
        const char *value = NULL;
        int rc;
        if (pyprof_options_flag(&scan, "-h", "--help")) {
            printf("%s%s", usage, help_text);
            return 1;
        }
        if (pyprof_options_flag(&scan, NULL, "--full-paths")) {
            opts->full_paths = 1;
        }
        else if ((rc = pyprof_options_value(&scan, "-o", "--outfile",
                                            &opts->outfile)) != 0) {
            if (rc < 0) {
                return 2;
            }
        }
        else if ((rc = pyprof_options_value(&scan, "-s", "--sort",
                                            &opts->sort)) != 0) {
            if (rc < 0) {
                return 2;
            }
        }
        else if ((rc = pyprof_options_value(&scan, NULL, "--limit",
                                            &value)) != 0) {
            if (rc < 0 || pyprof_options_parse_long(&scan, "--limit", value,
                                                    0, LONG_MAX,
                                                    &opts->limit) < 0) {
                return 2;
            }
        }
        else if ((rc = pyprof_options_value(&scan, NULL, "--clock",
                                            &value)) != 0) {
            if (rc < 0) {
                return 2;
            }
            if (strcmp(value, "wall") == 0) {
                opts->clock = PYPROF_CLOCK_WALL;
            }
            else if (strcmp(value, "cpu") == 0) {
                opts->clock = PYPROF_CLOCK_CPU;
            }
            else {
                fprintf(stderr,
                        "pyprof run: --clock takes wall or cpu, not '%s'\n",
                        value);
                return 2;
            }
        }
        else {
            pyprof_options_unknown(&scan);
            return 2;
        }
    }
    if (!pyprof_report_sort_key_valid(opts->sort)) {
        fprintf(stderr,
                "pyprof run: invalid sort key '%s' (try 'pyprof run "
                "--help')\n",
                opts->sort);
        return 2;
    }
    if (pyprof_runner_parse_target("pyprof run", argc - scan.index,
                                   argv + scan.index, &opts->target) < 0) {
        fputs(usage, stderr);
        return 2;
    }
    return 0;
}

int
pyprof_cmd_run(int argc, char **argv)
{
    run_options_t opts;
    int rc = parse_options(argc, argv, &opts);
    if (rc != 0) {
        return rc == 1 ? 0 : 2;
    }
    char *outfile_path = NULL;
    if (opts.outfile != NULL) {
        int format = pyprof_options_output_format("pyprof run", opts.outfile,
                                                  output_suffixes,
                                                  NOUTPUT_SUFFIXES);
        if (format < 0) {
            return 2;
        }
        opts.format = output_formats[format];
        outfile_path = pyprof_options_output_path("pyprof run",
                                                  opts.outfile);
        if (outfile_path == NULL) {
            return 1;
        }
    }
    session_t session = {pyprof_profiler_new(opts.clock, 1), 0};
    if (session.profiler == NULL) {
        pyprof_runner_print_error("pyprof run: cannot create a profiler");
        free(outfile_path);
        return 1;
    }
    pyprof_run_hooks_t hooks = {session_start, session_stop, &session};
    int status = 0;
    pyprof_outcome_t outcome = pyprof_runner_run(&opts.target, &hooks,
                                                 &status);
    if (session.started && outcome != PYPROF_OUTCOME_NOT_FOUND &&
        report_profile(&session, &opts, outfile_path) < 0 && status == 0) {
        status = pyprof_output_failure_status();
    }
    pyprof_profiler_free(session.profiler);
    free(outfile_path);
    return status;
}
