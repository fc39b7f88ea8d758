/* export_formats.c - collapsed stacks, speedscope, Chrome trace, callgrind.
 *
 * The stack formats walk the call-path tree; a path is spelled by
 * following parent links, which costs its depth per node -- the tree's
 * size times its depth, fine for profiles people open.  callgrind is
 * per function with its callees, which pstats holds exactly, so it does
 * not need the tree.
 */
#include "export_formats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "paths.h"

/* Integer counts stay below this so sums cannot overflow int64. */
#define MAX_COUNT 1e18

/* Labels of every function, or NULL when out of memory. */
static char **
make_labels(const pyprof_stats_t *stats)
{
    size_t n = pyprof_stats_count(stats);
    char **labels = calloc(n ? n : 1, sizeof(char *));
    if (labels == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        labels[i] = pyprof_paths_label(pyprof_stats_get(stats, i));
        if (labels[i] == NULL) {
            for (size_t k = 0; k < i; k++) {
                free(labels[k]);
            }
            free(labels);
            return NULL;
        }
    }
    return labels;
}

static void
free_labels(char **labels, size_t n)
{
    if (labels == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        free(labels[i]);
    }
    free(labels);
}

/* The path of node `id` from the outermost call, in path[] (root
 * excluded); returns its length.  path must hold tree->count entries. */
static uint32_t
node_path(const pyprof_pathtree_t *tree, uint32_t id, uint32_t *path)
{
    uint32_t depth = 0;
    for (uint32_t i = id; i != 0; i = tree->nodes[i].parent) {
        path[depth++] = i;
    }
    for (uint32_t a = 0, b = depth ? depth - 1 : 0; a < b; a++, b--) {
        uint32_t t = path[a];
        path[a] = path[b];
        path[b] = t;
    }
    return depth;
}

int
pyprof_export_collapsed(pyprof_sink_t *out, const pyprof_stats_t *stats,
                        const pyprof_pathtree_t *tree)
{
    size_t nfuncs = pyprof_stats_count(stats);
    char **labels = make_labels(stats);
    uint32_t *path = malloc(tree->count * sizeof(uint32_t));
    if (labels == NULL || path == NULL) {
        free_labels(labels, nfuncs);
        free(path);
        return -1;
    }
    /* Running rounding: each line gets round(sum so far) - round(sum
     * before), so the lines sum to the rounded total exactly. */
    double sum = 0.0;
    int64_t emitted = 0;
    for (uint32_t id = 1; id < tree->count; id++) {
        double self = tree->nodes[id].tottime;
        if (self > 0.0) {
            sum += self * 1e6;
        }
        if (sum > MAX_COUNT) {
            sum = MAX_COUNT;  /* absurd (damaged) times: stay in range */
        }
        int64_t count = (int64_t)llround(sum) - emitted;
        if (count <= 0) {
            continue;
        }
        emitted += count;
        uint32_t depth = node_path(tree, id, path);
        for (uint32_t d = 0; d < depth; d++) {
            if (d > 0) {
                pyprof_sink_putc(out, ';');
            }
            pyprof_escape_line_field(out, labels[tree->nodes[path[d]].func],
                                     ";", ':');
        }
        pyprof_sink_printf(out, " %lld\n", (long long)count);
    }
    free_labels(labels, nfuncs);
    free(path);
    return 0;
}

int
pyprof_export_speedscope(pyprof_sink_t *out, const pyprof_stats_t *stats,
                         const pyprof_pathtree_t *tree, const char *name)
{
    size_t nfuncs = pyprof_stats_count(stats);
    uint32_t *path = malloc(tree->count * sizeof(uint32_t));
    if (path == NULL) {
        return -1;
    }
    pyprof_sink_puts(out, "{\"$schema\":\"https://www.speedscope.app/"
                          "file-format-schema.json\",\"shared\":{\"frames\":[");
    for (size_t i = 0; i < nfuncs; i++) {
        const pyprof_func_t *f = pyprof_stats_get(stats, i);
        pyprof_sink_puts(out, i ? ",{\"name\":" : "{\"name\":");
        pyprof_escape_json(out, f->funcname);
        if (strcmp(f->filename, "~") != 0) {
            pyprof_sink_puts(out, ",\"file\":");
            pyprof_escape_json(out, f->filename);
            pyprof_sink_printf(out, ",\"line\":%ld", f->lineno);
        }
        pyprof_sink_putc(out, '}');
    }
    pyprof_sink_puts(out, "]},\"profiles\":[{\"type\":\"sampled\",\"name\":");
    size_t nlen = strlen(name) + 200;
    char *title = malloc(nlen);
    if (title == NULL) {
        free(path);
        return -1;
    }
    snprintf(title, nlen, "%s (%s)", name, pyprof_paths_provenance(tree));
    pyprof_escape_json(out, title);
    free(title);
    pyprof_sink_puts(out, ",\"unit\":\"seconds\",\"startValue\":0,"
                          "\"endValue\":");
    double total = 0.0;
    for (uint32_t id = 1; id < tree->count; id++) {
        if (tree->nodes[id].tottime > 0.0) {
            total += tree->nodes[id].tottime;
        }
    }
    pyprof_escape_json_number(out, total);
    pyprof_sink_puts(out, ",\"samples\":[");
    int first = 1;
    for (uint32_t id = 1; id < tree->count; id++) {
        if (!(tree->nodes[id].tottime > 0.0)) {
            continue;
        }
        uint32_t depth = node_path(tree, id, path);
        pyprof_sink_puts(out, first ? "[" : ",[");
        first = 0;
        for (uint32_t d = 0; d < depth; d++) {
            pyprof_sink_printf(out, d ? ",%u" : "%u",
                               (unsigned)tree->nodes[path[d]].func);
        }
        pyprof_sink_putc(out, ']');
    }
    pyprof_sink_puts(out, "],\"weights\":[");
    first = 1;
    for (uint32_t id = 1; id < tree->count; id++) {
        if (!(tree->nodes[id].tottime > 0.0)) {
            continue;
        }
        if (!first) {
            pyprof_sink_putc(out, ',');
        }
        first = 0;
        pyprof_escape_json_number(out, tree->nodes[id].tottime);
    }
    pyprof_sink_puts(out, "]}],\"name\":");
    pyprof_escape_json(out, name);
    pyprof_sink_puts(out, ",\"exporter\":\"pyprof 0.1.0\"}\n");
    free(path);
    return 0;
}

int
pyprof_export_chrome_trace(pyprof_sink_t *out, const pyprof_stats_t *stats,
                           const pyprof_pathtree_t *tree, const char *name)
{
    uint32_t *first_child, *next_sibling;
    if (pyprof_paths_children(tree, &first_child, &next_sibling) < 0) {
        return -1;
    }
    /* Lay children out one after another from their parent's start; the
     * parent's own time comes after them.  start[] in microseconds. */
    double *start = malloc(tree->count * sizeof(double));
    if (start == NULL) {
        free(first_child);
        free(next_sibling);
        return -1;
    }
    start[0] = 0.0;
    pyprof_sink_puts(out, "{\"traceEvents\":[{\"name\":\"process_name\","
                          "\"ph\":\"M\",\"pid\":1,\"tid\":1,\"args\":"
                          "{\"name\":");
    pyprof_escape_json(out, name);
    pyprof_sink_puts(out, "}}");
    /* Nodes come parents first, so a parent's start is known when its
     * children are placed. */
    for (uint32_t id = 0; id < tree->count; id++) {
        double t = start[id];
        for (uint32_t c = first_child[id]; c != 0; c = next_sibling[c]) {
            start[c] = t;
            double ct = tree->nodes[c].cumtime;
            t += ct > 0.0 ? ct * 1e6 : 0.0;
        }
        if (id == 0) {
            continue;
        }
        const pyprof_path_node_t *node = &tree->nodes[id];
        const pyprof_func_t *f = pyprof_stats_get(stats, node->func);
        char *label = pyprof_paths_label(f);
        if (label == NULL) {
            free(start);
            free(first_child);
            free(next_sibling);
            return -1;
        }
        pyprof_sink_puts(out, ",\n{\"name\":");
        pyprof_escape_json(out, label);
        free(label);
        pyprof_sink_puts(out, ",\"cat\":\"python\",\"ph\":\"X\",\"ts\":");
        pyprof_escape_json_number(out, start[id]);
        pyprof_sink_puts(out, ",\"dur\":");
        pyprof_escape_json_number(out, node->cumtime > 0.0
                                           ? node->cumtime * 1e6 : 0.0);
        pyprof_sink_printf(out, ",\"pid\":1,\"tid\":1,\"args\":{\"calls\":"
                                "%lld,\"self_us\":",
                           (long long)node->calls);
        pyprof_escape_json_number(out, node->tottime * 1e6);
        pyprof_sink_puts(out, "}}");
    }
    pyprof_sink_puts(out, "],\"displayTimeUnit\":\"ms\",\"otherData\":{"
                          "\"producer\":\"pyprof 0.1.0\",\"call_paths\":");
    pyprof_escape_json(out, pyprof_paths_provenance(tree));
    pyprof_sink_puts(out, ",\"layout\":\"aggregate: each call path is one "
                          "event as long as its total time, not a timeline\""
                          "}}\n");
    free(start);
    free(first_child);
    free(next_sibling);
    return 0;
}

/* A callgrind cost: integer microseconds. */
static long long
micros(double seconds)
{
    if (!(seconds > 0.0)) {
        return 0;
    }
    return seconds * 1e6 < MAX_COUNT ? llround(seconds * 1e6)
                                     : (long long)MAX_COUNT;
}

int
pyprof_export_callgrind(pyprof_sink_t *out, const pyprof_stats_t *stats,
                        const char *name)
{
    size_t n = pyprof_stats_count(stats);
    size_t *start;
    pyprof_callee_ref_t *callees;
    if (pyprof_paths_callee_index(stats, &start, &callees) < 0) {
        return -1;
    }
    long long total = 0;
    for (size_t f = 0; f < n; f++) {
        long long self = micros(pyprof_stats_get(stats, f)->tt);
        total = total < (long long)MAX_COUNT * 8 ? total + self : total;
    }
    pyprof_sink_puts(out, "# callgrind format\nversion: 1\n"
                          "creator: pyprof 0.1.0\ncmd: ");
    pyprof_escape_line_field(out, name, NULL, ' ');
    pyprof_sink_printf(out, "\npositions: line\nevents: Microseconds\n"
                            "summary: %lld\n", total);

    for (size_t f = 0; f < n; f++) {
        const pyprof_func_t *func = pyprof_stats_get(stats, f);
        pyprof_sink_puts(out, "\nfl=");
        pyprof_escape_line_field(out, func->filename, NULL, ' ');
        pyprof_sink_puts(out, "\nfn=");
        pyprof_escape_line_field(out, func->funcname, NULL, ' ');
        pyprof_sink_printf(out, "\n%ld %lld\n", func->lineno,
                           micros(func->tt));
        for (size_t e = start[f]; e < start[f + 1]; e++) {
            const pyprof_func_t *callee = pyprof_stats_get(
                stats, callees[e].callee);
            pyprof_sink_puts(out, "cfl=");
            pyprof_escape_line_field(out, callee->filename, NULL, ' ');
            pyprof_sink_puts(out, "\ncfn=");
            pyprof_escape_line_field(out, callee->funcname, NULL, ' ');
            pyprof_sink_printf(out, "\ncalls=%lld %ld\n%ld %lld\n",
                               (long long)callees[e].edge->nc,
                               callee->lineno, func->lineno,
                               micros(callees[e].edge->ct));
        }
    }
    free(start);
    free(callees);
    return 0;
}
