/* pprof_export.c - function profiles as pprof (see pprof_export.h). */
#include "pprof_export.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"
#include "pprof.h"

/* Nanoseconds of a time in seconds, kept in range for damaged files. */
static int64_t
seconds_to_ns(double seconds)
{
    if (!(seconds > 0.0)) {
        return 0;
    }
    double ns = seconds * 1e9;
    return ns >= 9e18 ? INT64_C(9000000000000000000) : (int64_t)llround(ns);
}

/* Location ids of every function, at its first line. */
static uint64_t *
function_locations(pyprof_pprof_t *prof, const pyprof_stats_t *stats)
{
    size_t n = pyprof_stats_count(stats);
    uint64_t *locations = calloc(n ? n : 1, sizeof(uint64_t));
    if (locations == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const pyprof_func_t *f = pyprof_stats_get(stats, i);
        int builtin = strcmp(f->filename, "~") == 0 && f->lineno == 0;
        locations[i] = pyprof_pprof_location(prof, f->funcname,
                                             builtin ? "" : f->filename,
                                             f->lineno, f->lineno);
        if (locations[i] == 0) {
            free(locations);
            return NULL;
        }
    }
    return locations;
}

int
pyprof_export_pprof(pyprof_sink_t *out, const pyprof_stats_t *stats,
                    const pyprof_pathtree_t *tree, const char *clock)
{
    pyprof_pprof_t *prof = pyprof_pprof_new();
    uint64_t *stack = malloc((tree->count ? tree->count : 1)
                             * sizeof(uint64_t));
    uint64_t *locations = NULL;
    int rc = -1;
    if (prof == NULL || stack == NULL
        || pyprof_pprof_add_sample_type(prof, "calls", "count") < 0
        || pyprof_pprof_add_sample_type(prof, clock, "nanoseconds") < 0
        || pyprof_pprof_set_period(prof, clock, "nanoseconds", 1) < 0
        || pyprof_pprof_add_comment(prof, pyprof_paths_provenance(tree)) < 0
        || (locations = function_locations(prof, stats)) == NULL) {
        goto done;
    }
    for (uint32_t id = 1; id < tree->count; id++) {
        const pyprof_path_node_t *node = &tree->nodes[id];
        int64_t values[2] = {node->calls, seconds_to_ns(node->tottime)};
        if (values[0] <= 0 && values[1] == 0) {
            continue;
        }
        size_t depth = 0;
        for (uint32_t i = id; i != 0; i = tree->nodes[i].parent) {
            stack[depth++] = locations[tree->nodes[i].func];
        }
        if (pyprof_pprof_add_sample(prof, stack, depth, values, NULL, 0) < 0) {
            goto done;
        }
    }
    rc = pyprof_pprof_write(prof, out);
done:
    free(locations);
    free(stack);
    pyprof_pprof_free(prof);
    return rc;
}

/* The labels of one sample of a recording: its process and thread. */
typedef struct {
    pyprof_pprof_label_t labels[3];
    size_t count;
    int has_pid, has_thread;
    char thread[256];
} sample_labels_t;

/* When `f` is a recording's process or thread pseudo-function ("<process
 * PID command>", "<thread TID name>"), add it to `out` as pprof labels
 * ("pid"; "thread id" and "thread", the name) and return 1: pprof has
 * labels for what pyprof's own views show as the two outermost frames. */
static int
as_label(const pyprof_func_t *f, sample_labels_t *out)
{
    long id;
    int end = 0;
    if (strcmp(f->filename, "~") != 0 || f->lineno != 0) {
        return 0;
    }
    if (!out->has_pid && sscanf(f->funcname, "<process %ld%n", &id, &end) == 1
        && end > 0) {
        out->labels[out->count++] = (pyprof_pprof_label_t){"pid", NULL, id};
        out->has_pid = 1;
        return 1;
    }
    if (!out->has_thread
        && sscanf(f->funcname, "<thread %ld%n", &id, &end) == 1 && end > 0) {
        out->has_thread = 1;
        const char *name = f->funcname + end;
        name += *name == ' ';
        size_t len = strlen(name);
        len -= len > 0 && name[len - 1] == '>';
        snprintf(out->thread, sizeof(out->thread), "%.*s", (int)len, name);
        out->labels[out->count++] =
            (pyprof_pprof_label_t){"thread id", NULL, id};
        out->labels[out->count++] =
            (pyprof_pprof_label_t){"thread", out->thread, 0};
        return 1;
    }
    return 0;
}

int
pyprof_export_pprof_recording(pyprof_sink_t *out,
                              const pyprof_recording_t *rec)
{
    const pyprof_recording_info_t *info =
        pyprof_recording_info((pyprof_recording_t *)rec);
    const pyprof_stats_t *funcs = pyprof_recording_functions(rec);
    uint32_t count;
    const pyprof_sample_node_t *nodes = pyprof_recording_nodes(rec, &count);
    const char *clock = info->flags & PYPROF_RECORD_IDLE ? "wall" : "cpu";
    int64_t period = info->rate_hz >= 1.0
        ? (int64_t)llround(1e9 / info->rate_hz) : 1000000000;
    pyprof_pprof_t *prof = pyprof_pprof_new();
    uint64_t *stack = malloc((size_t)count * sizeof(uint64_t));
    uint64_t *locations = calloc(count, sizeof(uint64_t));
    int rc = -1;
    if (prof == NULL || stack == NULL || locations == NULL
        || pyprof_pprof_add_sample_type(prof, "samples", "count") < 0
        || pyprof_pprof_add_sample_type(prof, clock, "nanoseconds") < 0
        || pyprof_pprof_set_period(prof, clock, "nanoseconds", period) < 0) {
        goto done;
    }
    pyprof_pprof_set_time(prof, info->start_unix_ns, info->duration_ns);
    /* A node's location is (its function, its line); parents come first. */
    for (uint32_t id = 1; id < count; id++) {
        const pyprof_func_t *f = pyprof_stats_get(funcs, nodes[id].func);
        int pseudo = strcmp(f->filename, "~") == 0 && f->lineno == 0;
        locations[id] = pyprof_pprof_location(prof, f->funcname,
                                              pseudo ? "" : f->filename,
                                              f->lineno, nodes[id].line);
        if (locations[id] == 0) {
            goto done;
        }
    }
    for (uint32_t id = 1; id < count; id++) {
        int64_t samples = nodes[id].samples;
        if (samples <= 0) {
            continue;
        }
        size_t depth = 0;
        sample_labels_t labels = {0};
        for (uint32_t i = id; i != 0; i = nodes[i].parent) {
            const pyprof_func_t *f = pyprof_stats_get(funcs, nodes[i].func);
            if (!as_label(f, &labels)) {
                stack[depth++] = locations[i];
            }
        }
        int64_t values[2] = {samples, samples > INT64_MAX / period
                                          ? INT64_MAX : samples * period};
        if (pyprof_pprof_add_sample(prof, stack, depth, values,
                                    labels.labels, labels.count) < 0) {
            goto done;
        }
    }
    rc = pyprof_pprof_write(prof, out);
done:
    free(locations);
    free(stack);
    pyprof_pprof_free(prof);
    return rc;
}

static int
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int
pyprof_pprof_path(const char *path)
{
    return ends_with(path, ".pb.gz") || ends_with(path, ".pprof")
           || ends_with(path, ".pb");
}
