/* export_tree.c - copy the calling-context tree out of the engine.
 *
 * The engine's tree (core/calltree.h) already has the shape we want: one
 * node per call path, parents before children.  Exporting it is a copy
 * that turns clock ticks into seconds (at the rate frozen at disable, as
 * pyprof_profiler_export does) and code objects / C labels into the
 * model's function indices.  Two code objects with the same (file, line,
 * name) map to one model function, as they do in pstats.
 */
#include "export_tree.h"

#include <stdlib.h>

#include "../core/pstats_file.h"
#include "profiler_internal.h"

/* The model index of engine function `info`, named as the export names
 * it; (size_t)-1 when the model lacks it. */
static size_t
model_index(const pyprof_stats_t *stats, const pyprof_funcinfo_t *info)
{
    const char *filename, *funcname;
    long lineno;
    pyprof_funcinfo_name(info, &filename, &lineno, &funcname);
    return pyprof_stats_find(stats, filename, lineno, funcname);
}

int
pyprof_profiler_export_paths(pyprof_profiler_t *prof,
                             const pyprof_stats_t *stats,
                             pyprof_pathtree_t *out)
{
    double seconds_per_tick = (prof->enabled
                                   ? pyprof_clock_ns_per_tick(&prof->clock)
                                   : prof->ns_per_tick) / 1e9;
    uint32_t nfuncs = prof->nfuncs ? prof->nfuncs : 1;
    uint32_t *index = malloc(nfuncs * sizeof(uint32_t));
    if (index == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (uint32_t i = 0; i < prof->nfuncs; i++) {
        size_t m = model_index(stats, &prof->funcs[i]);
        if (m == (size_t)-1 || m >= UINT32_MAX) {
            free(index);
            PyErr_SetString(PyExc_RuntimeError,
                            "call tree names a function the profile lacks");
            return -1;
        }
        index[i] = (uint32_t)m;
    }
    const pyprof_calltree_t *tree = &prof->tree;
    double root_cum = 0.0;
    int64_t root_calls = 0;
    for (uint32_t id = 1; id < tree->count; id++) {
        const pyprof_node_t *node = &tree->nodes[id];
        double ct = node->cumtime * seconds_per_tick;
        /* Node ids are assigned in creation order and a parent is always
         * created before its children, so ids carry over unchanged. */
        if (pyprof_pathtree_add(out, node->parent, index[node->func],
                                node->calls,
                                node->tottime * seconds_per_tick, ct)
            != id) {
            free(index);
            PyErr_NoMemory();
            return -1;
        }
        if (node->parent == PYPROF_ROOT_NODE) {
            root_cum += ct;
            root_calls += node->calls;
        }
    }
    out->nodes[0].cumtime = root_cum;
    out->nodes[0].calls = root_calls;
    out->exact = 1;
    free(index);
    return 0;
}

int
pyprof_profiler_write_pstats(pyprof_profiler_t *prof,
                             const pyprof_stats_t *stats, const char *path,
                             int *paths_saved, char *errbuf, size_t errlen)
{
    pyprof_pathtree_t tree;
    pyprof_sink_t trailer;
    pyprof_sink_init_buffer(&trailer);
    *paths_saved = 0;
    if (pyprof_pathtree_init(&tree) == 0
        && pyprof_profiler_export_paths(prof, stats, &tree) == 0) {
        pyprof_pathtree_serialize(&trailer, &tree, pyprof_stats_count(stats));
        *paths_saved = !pyprof_sink_failed(&trailer);
    }
    else {
        PyErr_Clear();
    }
    pyprof_pathtree_free(&tree);
    int rc = pyprof_stats_count(stats) > 0 && *paths_saved
        ? pyprof_pstats_write_file_extra(stats, trailer.data, trailer.len,
                                         path, errbuf, errlen)
        : pyprof_pstats_write_file(stats, path, errbuf, errlen);
    pyprof_sink_free_buffer(&trailer);
    return rc;
}
