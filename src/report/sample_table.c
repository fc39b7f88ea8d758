/* sample_table.c - own and total samples per function (sample_table.h). */
#include "sample_table.h"

#include <stdlib.h>
#include <string.h>

#include "paths.h"

static int
pseudo(const pyprof_func_t *f)
{
    return strcmp(f->filename, "~") == 0 && f->lineno == 0
           && (strncmp(f->funcname, "<process ", 9) == 0
               || strncmp(f->funcname, "<thread ", 8) == 0);
}

static int
by_share(const void *a, const void *b)
{
    const pyprof_sample_row_t *x = a, *y = b;
    if (x->own != y->own) {
        return x->own < y->own ? 1 : -1;
    }
    if (x->total != y->total) {
        return x->total < y->total ? 1 : -1;
    }
    return x->func < y->func ? -1 : x->func > y->func;
}

pyprof_sample_row_t *
pyprof_sample_rows(const pyprof_stats_t *stats, size_t *nrows)
{
    size_t n = pyprof_stats_count(stats), k = 0;
    pyprof_sample_row_t *rows = malloc((n ? n : 1) * sizeof(*rows));
    if (rows == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const pyprof_func_t *f = pyprof_stats_get(stats, i);
        if (!pseudo(f) && f->nc > 0) {
            rows[k++] = (pyprof_sample_row_t){i, (long long)f->cc,
                                              (long long)f->nc};
        }
    }
    qsort(rows, k, sizeof(*rows), by_share);
    *nrows = k;
    return rows;
}

int
pyprof_sample_table(pyprof_sink_t *out, const pyprof_recording_t *rec,
                    long limit)
{
    pyprof_stats_t *stats;
    pyprof_pathtree_t tree;
    if (pyprof_recording_export(rec, &stats, &tree) < 0) {
        return -1;
    }
    pyprof_pathtree_free(&tree);
    size_t nrows;
    pyprof_sample_row_t *rows = pyprof_sample_rows(stats, &nrows);
    if (rows == NULL) {
        pyprof_stats_free(stats);
        return -1;
    }
    const pyprof_recording_info_t *info =
        pyprof_recording_info((pyprof_recording_t *)rec);
    long long samples = (long long)pyprof_recording_samples(rec);
    double rate = info->rate_hz > 0 ? info->rate_hz : 1.0;
    pyprof_sink_printf(out, "%lld samples at %g Hz over %.2f s\n\n", samples,
                       rate, (double)info->duration_ns / 1e9);
    pyprof_sink_puts(out, "  %Own %Total  OwnTime TotalTime  Function "
                          "(file:line)\n");
    double whole = samples > 0 ? (double)samples : 1.0;
    for (size_t i = 0; i < nrows && (limit < 0 || (long)i < limit); i++) {
        const pyprof_func_t *f = pyprof_stats_get(stats, rows[i].func);
        char *label = pyprof_paths_label(f);
        pyprof_sink_printf(out, "%6.1f %6.1f %7.2fs %8.2fs  %s\n",
                           100.0 * (double)rows[i].own / whole,
                           100.0 * (double)rows[i].total / whole,
                           (double)rows[i].own / rate,
                           (double)rows[i].total / rate,
                           label ? label : f->funcname);
        free(label);
    }
    free(rows);
    pyprof_stats_free(stats);
    return 0;
}
