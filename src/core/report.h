/* report.h - pstats-compatible text reports of a function profile.
 *
 * Renders a pyprof_stats_t the way pstats.Stats prints it: print_stats()
 * (the cProfile table), print_callers() and print_callees(), byte for byte
 * the same rows for the same data, sort keys and restrictions.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_REPORT_H
#define PYPROF_REPORT_H

#include "sink.h"
#include "stats.h"

#define PYPROF_REPORT_MAX_SORT 8

typedef struct {
    /* pstats sort keys ("cumulative", "tottime", "calls", ... or the
     * legacy integers -1, 0, 1, 2 as strings), applied in order; none
     * means the model's own order, as an unsorted pstats.Stats prints. */
    const char *sort[PYPROF_REPORT_MAX_SORT];
    int nsort;
    long limit;             /* at most this many rows; < 0 for all */
    const char *pattern;    /* regex restriction (re.search on the
                               std name), or NULL */
    int print_header;       /* the "mtime    file" source lines */
    int use_fraction;       /* restrict by `fraction` instead of `limit` */
    double fraction;        /* pstats' float restriction: 0 <= f < 1 keeps
                               int(rows * f + .5) rows, else no effect */
} pyprof_report_options_t;

/* The restrictions apply in pstats' argument order as if the call were
 * print_stats(pattern, limit) (or fraction): the pattern first, then the
 * amount, each one printing its "List reduced from ..." line.  The regex is
 * POSIX extended (regcomp), the closest plain-C match to re.search; an
 * invalid one restricts nothing and prints pstats' "<Invalid regular
 * expression ...>" line instead. */

/* Defaults: no sort, no limit, no pattern, header on. */
void pyprof_report_options_init(pyprof_report_options_t *opts);

/* Non-zero when `key` is a sort key pstats accepts. */
int pyprof_report_sort_key_valid(const char *key);

/* pstats.Stats.print_stats().  Returns 0, or -1 if the options are
 * invalid (message written to `errbuf`). */
int pyprof_report_print_stats(pyprof_sink_t *out, const pyprof_stats_t *stats,
                              const pyprof_report_options_t *opts,
                              char *errbuf, size_t errlen);

/* pstats.Stats.print_callers() / print_callees(). Same contract. */
int pyprof_report_print_callers(pyprof_sink_t *out,
                                const pyprof_stats_t *stats,
                                const pyprof_report_options_t *opts,
                                char *errbuf, size_t errlen);
int pyprof_report_print_callees(pyprof_sink_t *out,
                                const pyprof_stats_t *stats,
                                const pyprof_report_options_t *opts,
                                char *errbuf, size_t errlen);

#endif
