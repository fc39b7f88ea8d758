/* cmd_export.c - `pyprof export FILE --format FORMAT [-o OUT]`.
 *
 * Converts a pstats file into what other viewers read (see
 * src/report/export_formats.h): speedscope, collapsed stacks, Chrome
 * trace events, callgrind.  The stack formats use the file's exact call
 * paths when `pyprof run -o` recorded them, else paths rebuilt from
 * caller pairs, and say so on stderr (and inside the file where the
 * format has a place for it).  Output goes to stdout unless -o is given.
 */
#include "cmd_export.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/calltree_file.h"
#include "../core/recording.h"
#include "../core/sink.h"
#include "../core/stats.h"
#include "../report/export_formats.h"
#include "../core/output.h"
#include "../report/paths.h"
#include "../report/pprof_export.h"
#include "options.h"

static const char usage[] =
    "usage: pyprof export FILE [--format "
    "speedscope|collapsed|chrome|callgrind|pprof] [-o OUT]\n";

static const char help_text[] =
    "\n"
    "Convert a pstats profile file for other viewers.\n"
    "\n"
    "formats:\n"
    "  speedscope   speedscope JSON (https://www.speedscope.app)\n"
    "  collapsed    collapsed stacks 'a;b;c 123' in microseconds of self\n"
    "               time (flamegraph.pl, inferno); of a recording, in\n"
    "               samples\n"
    "  chrome       Chrome trace-event JSON (Perfetto, chrome://tracing)\n"
    "  callgrind    callgrind format (KCachegrind, QCacheGrind)\n"
    "  pprof        gzipped profile.proto (go tool pprof, Pyroscope,\n"
    "               Parca): a sample per call path with its calls and\n"
    "               self time\n"
    "\n"
    "options:\n"
    "  -f, --format FORMAT  one of the above (default: the one -o's\n"
    "                       extension names)\n"
    "  -o, --output FILE    write to FILE instead of stdout; its extension\n"
    "                       names the format: .speedscope.json,\n"
    "                       .collapsed/.folded, .trace.json/.chrome.json,\n"
    "                       .callgrind or callgrind.out.*, .pb.gz/.pprof;\n"
    "                       .json and .txt fit the formats they are, other\n"
    "                       names any\n"
    "  -h, --help           show this help\n";

/* Write a recording as pprof with its lines, or as collapsed stacks of
 * sample counts; takes ownership of rec. */
static int
export_recording(pyprof_recording_t *rec, int collapsed, const char *output)
{
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    char errbuf[512];
    int status = 0;
    int rc;
    if (collapsed) {
        pyprof_stats_t *stats;
        pyprof_pathtree_t tree;
        rc = pyprof_recording_export_counts(rec, &stats, &tree);
        if (rc == 0) {
            rc = pyprof_export_collapsed(&sink, stats, &tree);
            pyprof_stats_free(stats);
            pyprof_pathtree_free(&tree);
        }
    }
    else {
        rc = pyprof_export_pprof_recording(&sink, rec);
    }
    if (rc < 0 || pyprof_sink_failed(&sink)) {
        fprintf(stderr, "pyprof export: out of memory\n");
        status = 1;
    }
    else if (pyprof_output_write(output, sink.data, sink.len, errbuf,
                                 sizeof(errbuf)) < 0) {
        fprintf(stderr, "pyprof export: cannot write %s\n", errbuf);
        status = 1;
    }
    else if (strcmp(output, "-") != 0) {
        fprintf(stderr, "pyprof: wrote %s\n", output);
    }
    pyprof_sink_free_buffer(&sink);
    pyprof_recording_free(rec);
    return status;
}

/* The formats in --format's order; each with the extensions of -o that
 * name it (the first ones only it, the rest shared: .json, .txt). */
static const struct {
    const char *name;
    const char *suffixes[4];
    size_t own;             /* suffixes[0..own) name only this format */
    size_t count;
} formats[] = {
    {"speedscope", {".speedscope.json", ".json"}, 1, 2},
    {"collapsed", {".collapsed", ".folded", ".txt"}, 2, 3},
    {"chrome", {".trace.json", ".chrome.json", ".json"}, 2, 3},
    {"callgrind", {".callgrind", ".txt"}, 1, 2},
    {"pprof", {".pb.gz", ".pprof", ".pb"}, 3, 3},
};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

/* The index of the format named `name`, or -1. */
static int
format_named(const char *name)
{
    for (size_t i = 0; i < NFORMATS; i++) {
        if (strcmp(name, formats[i].name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* The format `path`'s extension names alone (x.pb.gz: pprof; also
 * KCachegrind's callgrind.out.N), or -1. */
static int
format_of_output(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (strncmp(slash != NULL ? slash + 1 : path, "callgrind.out", 13)
        == 0) {
        return 3;
    }
    for (size_t i = 0; i < NFORMATS; i++) {
        for (size_t k = 0; k < formats[i].own; k++) {
            if (pyprof_options_has_extension(path, formats[i].suffixes[k])) {
                return (int)i;
            }
        }
    }
    return -1;
}

/* -o's extension must not name another format than the one written (one
 * rule, options.h).  0, or -1 after a one-line refusal. */
static int
check_output(const char *path, int which)
{
    int named = format_of_output(path);
    if (named >= 0 && named != which) {
        fprintf(stderr, "pyprof export: %s names %s, not %s: name it for "
                "%s (", path, formats[named].name, formats[which].name,
                formats[which].name);
        for (size_t k = 0; k < formats[which].count; k++) {
            fprintf(stderr, "%s%s", k ? ", " : "", formats[which].suffixes[k]);
        }
        fprintf(stderr, ") or give --format %s\n", formats[named].name);
        return -1;
    }
    return pyprof_options_output_format("pyprof export", path,
                                        formats[which].suffixes,
                                        formats[which].count) < 0 ? -1 : 0;
}

int
pyprof_cmd_export(int argc, char **argv)
{
    pyprof_options_t scan;
    pyprof_options_init(&scan, "pyprof export", argc, argv);
    const char *file = NULL, *format = NULL, *output = "-";
    while (pyprof_options_current(&scan) != NULL) {
        int rc;
        if (!pyprof_options_at_option(&scan)) {
            if (file != NULL) {
                fprintf(stderr, "pyprof export: one profile file at a time\n"
                        "%s", usage);
                return 2;
            }
            file = pyprof_options_current(&scan);
            scan.index++;
        }
        else if (pyprof_options_flag(&scan, "-h", "--help")) {
            printf("%s%s", usage, help_text);
            return 0;
        }
        else if ((rc = pyprof_options_value(&scan, "-f", "--format",
                                            &format)) != 0
                 || (rc = pyprof_options_value(&scan, "-o", "--output",
                                               &output)) != 0) {
            if (rc < 0) {
                return 2;
            }
        }
        else {
            pyprof_options_unknown(&scan);
            return 2;
        }
    }
    if (file == NULL) {
        fprintf(stderr, "pyprof export: no profile file given\n%s", usage);
        return 2;
    }
    int which = format != NULL ? format_named(format)
                               : format_of_output(output);
    if (which < 0) {
        if (format != NULL) {
            fprintf(stderr, "pyprof export: unknown format '%s' "
                    "(speedscope, collapsed, chrome, callgrind or pprof)\n",
                    format);
        }
        else {
            fprintf(stderr, "pyprof export: --format is required (or an -o "
                    "whose extension names one)\n%s", usage);
        }
        return 2;
    }
    if (strcmp(output, "-") != 0 && check_output(output, which) < 0) {
        return 2;
    }
    char errbuf[512];
    if (which == 4 || which == 1) {
        /* A recording keeps every frame's line: pprof gets them all; its
         * collapsed stacks count samples. */
        pyprof_recording_t *rec = NULL;
        int found = pyprof_recording_read_file(file, &rec, errbuf,
                                               sizeof(errbuf));
        if (found < 0) {
            fprintf(stderr, "pyprof export: %s\n", errbuf);
            return 2;   /* bad input, as below */
        }
        if (found == 1) {
            return export_recording(rec, which == 1, output);
        }
    }
    pyprof_stats_t *stats;
    pyprof_pathtree_t tree;
    if (pyprof_paths_load(file, &stats, &tree, errbuf, sizeof(errbuf)) < 0) {
        fprintf(stderr, "pyprof export: %s\n", errbuf);
        return 2;
    }
    if (!tree.exact && which != 3) {
        fprintf(stderr, "pyprof export: %s has no recorded call paths; %s\n",
                file, pyprof_paths_provenance(&tree));
    }
    const char *slash = strrchr(file, '/');
    const char *name = slash != NULL ? slash + 1 : file;
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    int rc;
    switch (which) {
    case 0: rc = pyprof_export_speedscope(&sink, stats, &tree, name); break;
    case 1: rc = pyprof_export_collapsed(&sink, stats, &tree); break;
    case 2: rc = pyprof_export_chrome_trace(&sink, stats, &tree, name); break;
    case 3: rc = pyprof_export_callgrind(&sink, stats, name); break;
    default: rc = pyprof_export_pprof(&sink, stats, &tree, "wall"); break;
    }
    int status = 0;
    if (rc < 0 || pyprof_sink_failed(&sink)) {
        fprintf(stderr, "pyprof export: out of memory\n");
        status = 1;
    }
    else if (pyprof_output_write(output, sink.data ? sink.data : "",
                                 sink.len, errbuf, sizeof(errbuf)) < 0) {
        if (!pyprof_output_pipe_closed(errno)) {
            fprintf(stderr, "pyprof export: cannot write %s\n", errbuf);
        }
        status = pyprof_output_failure_status();
    }
    else if (strcmp(output, "-") != 0) {
        fprintf(stderr, "pyprof: wrote %s\n", output);
    }
    pyprof_sink_free_buffer(&sink);
    pyprof_stats_free(stats);
    pyprof_pathtree_free(&tree);
    return status;
}
