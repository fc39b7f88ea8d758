/* recording_fuzzer.c - libFuzzer target for the sample section reader of
 * `pyprof record` files (core/recording.h): whatever it accepts is
 * exported (pstats model, call paths, pprof) and written again, and the
 * rewritten image must read back. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/recording.h"
#include "report/pprof_export.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pyprof_recording_t *rec = NULL;
    char err[300];
    if (pyprof_recording_parse(data, size, &rec, err, sizeof(err)) != 1) {
        return 0;
    }
    pyprof_stats_t *stats;
    pyprof_pathtree_t tree;
    if (pyprof_recording_export(rec, &stats, &tree) == 0) {
        pyprof_stats_free(stats);
        pyprof_pathtree_free(&tree);
    }
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    (void)pyprof_export_pprof_recording(&sink, rec);
    pyprof_sink_free_buffer(&sink);
    pyprof_sink_init_buffer(&sink);
    if (pyprof_recording_serialize(rec, &sink) == 0 && !sink.failed) {
        pyprof_recording_t *again = NULL;
        if (pyprof_recording_parse((const uint8_t *)sink.data, sink.len,
                                   &again, err, sizeof(err)) != 1) {
            fprintf(stderr, "rewrite unreadable: %s\n", err);
            abort();
        }
        pyprof_recording_free(again);
    }
    pyprof_sink_free_buffer(&sink);
    pyprof_recording_free(rec);
    return 0;
}
