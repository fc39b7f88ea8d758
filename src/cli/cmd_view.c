/* cmd_view.c - `pyprof view FILE [-o report.html] [--flamegraph out.svg]
 * [--open]`.
 *
 * Reads a pstats file (ours, with exact call paths, or cProfile's, whose
 * paths are rebuilt from caller pairs -- the report says which) and writes
 * the self-contained HTML report (src/report/html_report.c) and/or the
 * flame graph SVG (src/report/flamegraph_svg.c).  Without -o or
 * --flamegraph the report goes beside FILE, named after FILE with a suffix
 * per kind of report (default_output), and stderr names it.
 * --open hands the report to the desktop's opener and does not wait.
 * What FILE is comes from core/filekind.h.  A line profile's JSON
 * (`pyprof lines -o FILE.json`) or .lprof (ours or kernprof's, read by the
 * strict pickle reader of core/lprof_pickle.h and drawn from the same
 * JSON) is drawn as source with heat bars (report/lines_report.c),
 * a per-line memory profile's (`pyprof memory -o FILE.json`, known by its
 * "unit") as its lines with allocation bars (report/memory_page.c);
 * a memory timeline (`pyprof mprof run`'s .dat) is drawn as the mprof
 * plot with its function brackets (report/mprof_html.c).
 */
#include "cmd_view.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../core/calltree_file.h"
#include "../core/filekind.h"
#include "../core/lprof_pickle.h"
#include "../core/lprof_text.h"
#include "../core/sink.h"
#include "../core/stats.h"
#include "../report/flamegraph_svg.h"
#include "../report/html_report.h"
#include "../report/json_reader.h"
#include "../report/lines_report.h"
#include "../report/memory_page.h"
#include "../report/mprof_html.h"
#include "../core/output.h"
#include "../report/paths.h"
#include "options.h"
#include "progress.h"

/* A profile file this big takes seconds to draw: progress shows at once. */
#define BIG_PROFILE_BYTES (4 * 1000 * 1000)

extern char **environ;

static const char usage[] =
    "usage: pyprof view FILE [-o REPORT.html] [--flamegraph OUT.svg] "
    "[--open]\n";

static const char help_text[] =
    "\n"
    "Draw a profile file (pstats: from pyprof run -o, cProfile or\n"
    "pstats) as one self-contained HTML page -- icicle, sunburst, sortable\n"
    "table, callers and callees -- that opens from disk with no network.\n"
    "A line profile (pyprof lines -o FILE.json, a .lprof of pyprof lines\n"
    "or kernprof) is drawn as each\n"
    "function's source with a heat bar per line; a memory profile\n"
    "(pyprof memory -o FILE.json) as each function's lines with\n"
    "memory_profiler's columns and a bar for the bytes each allocated; a\n"
    "memory timeline (pyprof mprof run's .dat) as the mprof plot with\n"
    "function brackets.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE      write the HTML report to FILE (default: the\n"
    "                         profile's name with .html for pstats,\n"
    "                         .lines.html for a line profile, .memory.html\n"
    "                         for a memory profile, .mprof.html for a\n"
    "                         memory timeline); a profile's FILE.svg is\n"
    "                         its flame graph (as --flamegraph)\n"
    "  --flamegraph FILE      write an interactive flame graph SVG to FILE\n"
    "                         (only that, unless -o is given too)\n"
    "  --open                 open the report in the browser\n"
    "  -h, --help             show this help\n"
    "\n"
    "Files written by `pyprof run -o` keep exact call paths; for other\n"
    "pstats files the paths are rebuilt from caller/callee pairs, and the\n"
    "report says so.\n";

typedef struct {
    const char *file;
    const char *output;
    const char *flamegraph;
    int open;
} view_args_t;

/* Returns -1 to go on, or an exit status. */
static int
parse_args(int argc, char **argv, view_args_t *args)
{
    pyprof_options_t scan;
    pyprof_options_init(&scan, "pyprof view", argc, argv);
    memset(args, 0, sizeof(*args));
    while (pyprof_options_current(&scan) != NULL) {
        int rc;
        if (!pyprof_options_at_option(&scan)) {
            if (args->file != NULL) {
                fprintf(stderr, "pyprof view: one profile file at a time "
                        "('%s' and '%s')\n", args->file,
                        pyprof_options_current(&scan));
                return 2;
            }
            args->file = pyprof_options_current(&scan);
            scan.index++;
        }
        else if (pyprof_options_flag(&scan, "-h", "--help")) {
            printf("%s%s", usage, help_text);
            return 0;
        }
        else if (pyprof_options_flag(&scan, NULL, "--open")) {
            args->open = 1;
        }
        else if ((rc = pyprof_options_value(&scan, "-o", "--output",
                                            &args->output)) != 0
                 || (rc = pyprof_options_value(&scan, NULL, "--flamegraph",
                                               &args->flamegraph)) != 0) {
            if (rc < 0) {
                return 2;
            }
        }
        else {
            pyprof_options_unknown(&scan);
            return 2;
        }
    }
    if (args->file == NULL) {
        fprintf(stderr, "pyprof view: no profile file given\n%s", usage);
        return 2;
    }
    return -1;
}

/* FILE's name with its extension replaced by `suffix`: a new string.
 * Each kind of profile has its own suffix (".html" for pstats,
 * ".lines.html", ".memory.html", ".mprof.html"), so prog.pstats,
 * prog.json and prog.dat side by side never overwrite each other's
 * report. */
static char *
default_output(const char *file, const char *suffix)
{
    size_t len = strlen(file);
    char *out = malloc(len + strlen(suffix) + 1);
    if (out == NULL) {
        fprintf(stderr, "pyprof view: out of memory\n");
        return NULL;
    }
    memcpy(out, file, len + 1);
    char *slash = strrchr(out, '/');
    char *dot = strrchr(out, '.');
    if (dot != NULL && (slash == NULL || dot > slash + 1)) {
        *dot = '\0';
    }
    strcat(out, suffix);
    return out;
}

static const char *
base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL && slash[1] != '\0' ? slash + 1 : path;
}

/* Render with `render` into memory, then write to `path`. */
static int
render_to(const char *path, const char *what,
          int (*render)(pyprof_sink_t *, const pyprof_stats_t *,
                        const pyprof_pathtree_t *, const char *),
          const pyprof_stats_t *stats, const pyprof_pathtree_t *tree,
          const char *title, pyprof_progress_t *progress)
{
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    char errbuf[512];
    pyprof_progress_new_phase(progress);
    pyprof_progress_status(progress, 0, "drawing the %s (%u call paths)",
                           what, (unsigned)tree->count);
    int rendered = render(&sink, stats, tree, title);
    pyprof_progress_clear(progress);
    if (rendered < 0 || pyprof_sink_failed(&sink)) {
        pyprof_sink_free_buffer(&sink);
        fprintf(stderr, "pyprof view: out of memory rendering the %s\n",
                what);
        return -1;
    }
    int rc = pyprof_output_write(path, sink.data, sink.len, errbuf,
                                 sizeof(errbuf));
    pyprof_sink_free_buffer(&sink);
    if (rc < 0) {
        if (!pyprof_output_pipe_closed(errno)) {
            fprintf(stderr, "pyprof view: cannot write %s\n", errbuf);
        }
        return -1;
    }
    fprintf(stderr, "pyprof: wrote %s %s\n", what, path);
    return 0;
}

/* Start the desktop's opener on `path` without waiting for it. */
static void
open_in_browser(const char *path)
{
    const char *opener = getenv("BROWSER");
    if (opener == NULL || opener[0] == '\0') {
        opener = "xdg-open";
    }
    char *const argv[] = {(char *)opener, (char *)path, NULL};
    pid_t pid;
    if (posix_spawnp(&pid, opener, NULL, NULL, argv, environ) != 0) {
        fprintf(stderr, "pyprof view: cannot run %s to open the report; "
                "open %s yourself\n", opener, path);
    }
}

/* The whole file in a malloc'd buffer (*len set), or NULL with errbuf
 * set. */
static char *
read_whole(const char *path, size_t *len, char *errbuf, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *data = malloc(cap);
    while (data != NULL) {
        size_t got = fread(data + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            break;
        }
        if (n == cap) {
            char *grown = realloc(data, cap * 2);
            if (grown == NULL) {
                free(data);
                data = NULL;
                break;
            }
            data = grown;
            cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (data == NULL || bad) {
        free(data);
        snprintf(errbuf, errlen, "%s: %s", path,
                 bad ? "read error" : "out of memory");
        return NULL;
    }
    *len = n;
    return data;
}

/* A line profile (`pyprof lines -o FILE.json`): source with heat bars;
 * or a memory profile (`pyprof memory -o FILE.json`): its lines with
 * memory_profiler's columns and allocation bars.  Returns the exit
 * status. */
static int
view_lines(const view_args_t *args, const char *data, size_t len,
           const char *report_path)
{
    char errbuf[512];
    if (args->flamegraph != NULL) {
        fprintf(stderr, "pyprof view: %s is a line profile; --flamegraph "
                "needs a function profile (pstats)\n", args->file);
        return 2;
    }
    pyprof_json_t *doc = pyprof_json_parse(data, len, errbuf,
                                           sizeof(errbuf));
    if (doc == NULL) {
        fprintf(stderr, "pyprof view: %s: %s\n", args->file, errbuf);
        return 2;
    }
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    int status = 0;
    int rc = pyprof_memory_page_is_profile(doc)
                 ? pyprof_memory_page(&sink, doc, base_name(args->file),
                                      errbuf, sizeof(errbuf))
                 : pyprof_lines_report(&sink, doc, base_name(args->file),
                                       errbuf, sizeof(errbuf));
    if (rc < 0) {
        fprintf(stderr, "pyprof view: %s: %s\n", args->file, errbuf);
        status = 2;
    }
    else if (pyprof_output_write(report_path, sink.data, sink.len, errbuf,
                                 sizeof(errbuf)) < 0) {
        if (!pyprof_output_pipe_closed(errno)) {
            fprintf(stderr, "pyprof view: cannot write %s\n", errbuf);
        }
        status = pyprof_output_failure_status();
    }
    else {
        fprintf(stderr, "pyprof: wrote report %s\n", report_path);
        if (args->open) {
            open_in_browser(report_path);
        }
    }
    pyprof_sink_free_buffer(&sink);
    pyprof_json_free(doc);
    return status;
}

/* A memory timeline (`pyprof mprof run`'s .dat).  Returns the exit
 * status. */
static int
view_mprof(const view_args_t *args, const char *report_path)
{
    char errbuf[512];
    if (args->flamegraph != NULL) {
        fprintf(stderr, "pyprof view: %s is a memory timeline; --flamegraph "
                "needs a function profile (pstats)\n", args->file);
        return 2;
    }
    pyprof_mprof_data_t *data = pyprof_mprof_read(args->file, errbuf,
                                                  sizeof(errbuf));
    if (data == NULL) {
        fprintf(stderr, "pyprof view: %s\n", errbuf);
        return 2;
    }
    int status = 0;
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    if (data->nmem == 0) {
        fprintf(stderr, "pyprof view: %s: no memory samples (MEM lines) "
                "to draw\n", args->file);
        status = 2;
    }
    else if (pyprof_mprof_html_write(&sink, data, base_name(args->file))
             < 0) {
        fprintf(stderr, "pyprof view: out of memory rendering %s\n",
                args->file);
        status = 1;
    }
    else if (pyprof_output_write(report_path, sink.data, sink.len, errbuf,
                                 sizeof(errbuf)) < 0) {
        if (!pyprof_output_pipe_closed(errno)) {
            fprintf(stderr, "pyprof view: cannot write %s\n", errbuf);
        }
        status = pyprof_output_failure_status();
    }
    else {
        fprintf(stderr, "pyprof: wrote report %s\n", report_path);
        if (args->open) {
            open_in_browser(report_path);
        }
    }
    pyprof_sink_free_buffer(&sink);
    pyprof_mprof_data_free(data);
    return status;
}

/* A line or memory profile's JSON, or a .lprof (read strictly, then
 * drawn from the same JSON `pyprof lines -o F.json` writes).  Returns the
 * exit status. */
static int
view_line_file(const view_args_t *args, pyprof_filekind_t kind)
{
    char errbuf[512];
    size_t len;
    char *data = read_whole(args->file, &len, errbuf, sizeof(errbuf));
    if (data == NULL) {
        fprintf(stderr, "pyprof view: %s\n", errbuf);
        return 2;
    }
    if (kind == PYPROF_FILE_LPROF) {
        pyprof_lprof_t *model = pyprof_lprof_read_pickle(data, len, errbuf,
                                                         sizeof(errbuf));
        free(data);
        if (model == NULL) {
            fprintf(stderr, "pyprof view: %s: %s\n", args->file, errbuf);
            return 2;
        }
        pyprof_sink_t sink;
        pyprof_sink_init_buffer(&sink);
        pyprof_lprof_write_json(&sink, model);
        pyprof_lprof_free(model);
        data = pyprof_sink_take(&sink, &len);
        if (data == NULL) {
            fprintf(stderr, "pyprof view: out of memory\n");
            return 1;
        }
    }
    char *html = args->output == NULL
        ? default_output(args->file, kind == PYPROF_FILE_MEMORY_JSON
                                         ? ".memory.html" : ".lines.html")
        : NULL;
    int status = args->output == NULL && html == NULL
        ? 1 : view_lines(args, data, len,
                         args->output != NULL ? args->output : html);
    free(html);
    free(data);
    return status;
}

/* -o's and --flamegraph's formats by their extensions (options.h): -o
 * writes the HTML report, or a profile's flame graph when it names an
 * SVG; --flamegraph the SVG.  Returns 0, or -1 after a one-line refusal,
 * before anything is read. */
static int
check_outputs(view_args_t *args, pyprof_filekind_t kind)
{
    static const char *const html[] = {".html", ".htm"};
    static const char *const svg[] = {".svg"};
    if (args->output != NULL && kind == PYPROF_FILE_PSTATS
        && args->flamegraph == NULL
        && pyprof_options_has_extension(args->output, ".svg")) {
        args->flamegraph = args->output;
        args->output = NULL;
    }
    if (args->output != NULL
        && pyprof_options_output_format("pyprof view", args->output, html,
                                        2) < 0) {
        return -1;
    }
    if (args->flamegraph != NULL
        && pyprof_options_output_format("pyprof view --flamegraph",
                                        args->flamegraph, svg, 1) < 0) {
        return -1;
    }
    return 0;
}

int
pyprof_cmd_view(int argc, char **argv)
{
    view_args_t args;
    int status = parse_args(argc, argv, &args);
    if (status >= 0) {
        return status;
    }
    char errbuf[512];
    pyprof_filekind_t kind;
    if (pyprof_filekind_of_path(args.file, &kind, errbuf, sizeof(errbuf))
        < 0) {
        fprintf(stderr, "pyprof view: %s\n", errbuf);
        return 2;
    }
    if (check_outputs(&args, kind) < 0) {
        return 2;
    }
    switch (kind) {
    case PYPROF_FILE_PSTATS:
        break;
    case PYPROF_FILE_LINES_JSON:
    case PYPROF_FILE_MEMORY_JSON:
    case PYPROF_FILE_JSON:
    case PYPROF_FILE_LPROF:
        return view_line_file(&args, kind);
    case PYPROF_FILE_MPROF: {
        char *html = args.output == NULL
            ? default_output(args.file, ".mprof.html") : NULL;
        status = args.output == NULL && html == NULL
            ? 1 : view_mprof(&args, args.output != NULL ? args.output : html);
        free(html);
        return status;
    }
    default: {
        char advice[1024];
        pyprof_filekind_advice(advice, sizeof(advice), args.file, kind);
        fprintf(stderr, "pyprof view: %s\n", advice);
        return 2;
    }
    }
    struct stat st;
    size_t len = stat(args.file, &st) == 0 ? (size_t)st.st_size : 0;
    /* A big profile takes seconds: on a terminal, say what is being done
     * (a small one says nothing unless it is still busy after 0.5 s). */
    pyprof_progress_t progress;
    pyprof_progress_init(&progress, "pyprof view",
                         len >= BIG_PROFILE_BYTES ? 0 : PYPROF_NS_PER_SEC / 2);
    pyprof_progress_status(&progress, 0, "reading %s (%.1f MB)", args.file,
                           len / 1e6);
    pyprof_stats_t *stats = NULL;
    pyprof_pathtree_t tree;
    int loaded = pyprof_paths_load(args.file, &stats, &tree, errbuf,
                                   sizeof(errbuf));
    pyprof_progress_clear(&progress);
    if (loaded < 0) {
        fprintf(stderr, "pyprof view: %s\n", errbuf);
        return 2;
    }
    if (!tree.exact) {
        fprintf(stderr, "pyprof view: %s has no recorded call paths; %s\n",
                args.file, pyprof_paths_provenance(&tree));
    }
    char *html = NULL;
    const char *title = base_name(args.file);
    status = 0;
    if (args.output == NULL && args.flamegraph == NULL) {
        html = default_output(args.file, ".html");
        if (html == NULL) {
            status = 1;
            goto done;
        }
    }
    const char *report_path = args.output != NULL ? args.output : html;
    if (report_path != NULL
        && render_to(report_path, "report", pyprof_html_report, stats,
                     &tree, title, &progress) < 0) {
        status = pyprof_output_failure_status();
        goto done;
    }
    if (args.flamegraph != NULL
        && render_to(args.flamegraph, "flame graph", pyprof_flamegraph_svg,
                     stats, &tree, title, &progress) < 0) {
        status = pyprof_output_failure_status();
        goto done;
    }
    if (args.open) {
        open_in_browser(report_path != NULL ? report_path : args.flamegraph);
    }
done:
    free(html);
    pyprof_stats_free(stats);
    pyprof_pathtree_free(&tree);
    return status;
}
