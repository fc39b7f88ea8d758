/* pstats_fuzzer.c - libFuzzer target for the pstats reader.
 *
 * Beyond "never crash", each input that parses must also survive what the
 * CLI does with it (a second file merged in, strip_dirs, every report),
 * and must come back unchanged through the writer: serialize, parse again,
 * compare.  A mismatch is a bug in reader or writer, so it aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/pstats_file.h"
#include "core/report.h"
#include "core/sink.h"
#include "core/stats.h"

static void
render_reports(const pyprof_stats_t *stats)
{
    static const char *const keys[] = {"stdname", "cumulative", "nfl"};
    pyprof_report_options_t opts;
    pyprof_report_options_init(&opts);
    opts.print_header = 0;
    opts.sort[0] = keys[pyprof_stats_count(stats) % 3];
    opts.nsort = 1;
    opts.limit = 20;
    char err[256];
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    pyprof_report_print_stats(&sink, stats, &opts, err, sizeof(err));
    opts.pattern = "[a-z]+\\.py";
    pyprof_report_print_callers(&sink, stats, &opts, err, sizeof(err));
    opts.use_fraction = 1;
    opts.fraction = 0.5;
    pyprof_report_print_callees(&sink, stats, &opts, err, sizeof(err));
    pyprof_sink_free_buffer(&sink);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    pyprof_stats_t *stats = pyprof_stats_new();
    if (stats == NULL) {
        return 0;
    }
    if (pyprof_pstats_parse(stats, data, size, err, sizeof(err)) == 0) {
        /* The writer must give back exactly what the reader took in. */
        pyprof_sink_t sink;
        pyprof_sink_init_buffer(&sink);
        pyprof_pstats_serialize(&sink, stats);
        pyprof_stats_t *again = pyprof_stats_new();
        if (again != NULL && !pyprof_sink_failed(&sink)) {
            if (pyprof_pstats_parse(again, (const unsigned char *)sink.data,
                                    sink.len, err, sizeof(err)) != 0
                || !pyprof_stats_equal(stats, again)) {
                abort();
            }
        }
        pyprof_stats_free(again);
        pyprof_sink_free_buffer(&sink);
        /* The same file once more, through the merge path. */
        pyprof_pstats_parse(stats, data, size, err, sizeof(err));
        render_reports(stats);
        pyprof_stats_t *stripped = pyprof_stats_strip_dirs(stats);
        if (stripped != NULL) {
            render_reports(stripped);
        }
        pyprof_stats_free(stripped);
    }
    else if (err[0] == '\0' || strchr(err, '\n') != NULL) {
        abort();    /* every refusal carries a one-line reason */
    }
    pyprof_stats_free(stats);
    return 0;
}
