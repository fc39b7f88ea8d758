/* calltree_fuzzer.c - libFuzzer target for the call-path trailer reader.
 *
 * Input: one byte choosing how many functions the model has (1-16), then
 * bytes that may end in a trailer (typically a whole pyprof pstats file).
 * A trailer that parses must come back bit-identical through the writer,
 * and must survive every writer that walks call paths (collapsed stacks,
 * speedscope, Chrome trace) and the rebuild from pairs, with a function
 * name full of separators and markup.  The same bytes read as a pstats
 * file go through the rebuild from pairs and the writers too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/calltree_file.h"
#include "core/pstats_file.h"
#include "core/sink.h"
#include "core/stats.h"
#include "report/export_formats.h"
#include "report/paths.h"

static pyprof_stats_t *
make_model(size_t nfuncs)
{
    pyprof_stats_t *stats = pyprof_stats_new();
    if (stats == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < nfuncs; i++) {
        char name[64];
        snprintf(name, sizeof(name), i == 1 ? "<b>;x\n\"%zu\\\xff" : "f%zu", i);
        size_t f = pyprof_stats_intern(stats, i % 3 ? "m.py" : "~",
                                       (long)i, name);
        if (f == (size_t)-1) {
            pyprof_stats_free(stats);
            return NULL;
        }
        pyprof_stats_add(stats, f, 1, 1, 0.5, 1.0);
        if (i > 0) {
            pyprof_stats_add_caller(stats, f, (i - 1) / 2, 1, 1, 0.5, 1.0);
        }
    }
    return stats;
}

static void
exercise_writers(const pyprof_stats_t *stats, const pyprof_pathtree_t *tree)
{
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    pyprof_export_collapsed(&sink, stats, tree);
    pyprof_export_speedscope(&sink, stats, tree, "fuzz");
    pyprof_export_chrome_trace(&sink, stats, tree, "fuzz");
    pyprof_export_callgrind(&sink, stats, "fuzz");
    pyprof_sink_free_buffer(&sink);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    size_t nfuncs = 1 + data[0] % 16;
    char err[256];
    pyprof_stats_t *stats = make_model(nfuncs);
    pyprof_pathtree_t tree;
    if (stats == NULL || pyprof_pathtree_init(&tree) < 0) {
        pyprof_stats_free(stats);
        return 0;
    }
    int rc = pyprof_pathtree_parse_trailer(&tree, data + 1, size - 1, nfuncs,
                                           err, sizeof(err));
    if (rc == 1) {
        pyprof_sink_t sink;
        pyprof_sink_init_buffer(&sink);
        pyprof_pathtree_serialize(&sink, &tree, nfuncs);
        pyprof_pathtree_t again;
        if (!pyprof_sink_failed(&sink) && pyprof_pathtree_init(&again) == 0) {
            if (pyprof_pathtree_parse_trailer(
                    &again, (const unsigned char *)sink.data, sink.len,
                    nfuncs, err, sizeof(err)) != 1
                || again.count != tree.count
                || memcmp(again.nodes, tree.nodes,
                          tree.count * sizeof(*tree.nodes)) != 0) {
                abort();
            }
            pyprof_pathtree_free(&again);
        }
        pyprof_sink_free_buffer(&sink);
        exercise_writers(stats, &tree);
    }
    pyprof_pathtree_free(&tree);
    if (pyprof_pathtree_init(&tree) == 0) {
        if (pyprof_paths_from_pairs(stats, &tree, 0.0) == 0) {
            exercise_writers(stats, &tree);
        }
        pyprof_pathtree_free(&tree);
    }
    pyprof_stats_free(stats);
    /* The input as a pstats file: paths rebuilt from whatever pairs and
     * numbers it holds, through every writer. */
    stats = pyprof_stats_new();
    if (stats != NULL
        && pyprof_pstats_parse(stats, data + 1, size - 1, err,
                               sizeof(err)) == 0
        && pyprof_pathtree_init(&tree) == 0) {
        if (pyprof_paths_from_pairs(stats, &tree, 1e-6) == 0) {
            exercise_writers(stats, &tree);
        }
        pyprof_pathtree_free(&tree);
    }
    pyprof_stats_free(stats);
    return 0;
}
