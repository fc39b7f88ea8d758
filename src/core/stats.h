/* stats.h - the function-profile model shared by every producer and consumer.
 *
 * This is the in-memory form of a pstats file: one record per function,
 * keyed by (filename, lineno, funcname) exactly as cProfile keys them
 * (built-ins use filename "~" and lineno 0, and a funcname such as
 * "<built-in method builtins.len>"), with cProfile's four numbers and the
 * per-caller breakdown.  The engine exports into it, the pstats reader
 * fills it from files, the reports and writers consume it.  Functions keep
 * the order in which they were first interned, which is the order pstats
 * sees when it iterates the marshalled dict; reports rely on that for ties.
 *
 * Times are seconds as doubles here because that is what the pstats format
 * stores; the engine keeps integer nanoseconds and converts once at export.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_STATS_H
#define PYPROF_STATS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t caller;      /* index of the calling function in stats->funcs */
    int64_t nc;         /* calls from this caller */
    int64_t cc;         /* of which primitive (not recursive) */
    double tt;          /* tottime spent in the callee for these calls */
    double ct;          /* cumtime of the callee for these calls */
} pyprof_caller_t;

typedef struct {
    char *filename;     /* owned; "~" for built-ins */
    long lineno;
    char *funcname;     /* owned */
    int64_t cc;         /* primitive calls */
    int64_t nc;         /* total calls */
    double tt;          /* tottime: time in the function itself */
    double ct;          /* cumtime: including callees, outermost calls only */
    pyprof_caller_t *callers;   /* owned array, ncallers used */
    size_t ncallers;
    size_t callers_cap;
} pyprof_func_t;

typedef struct pyprof_stats pyprof_stats_t;

/* A new empty model, or NULL when out of memory. */
pyprof_stats_t *pyprof_stats_new(void);
void pyprof_stats_free(pyprof_stats_t *stats);

/* Number of functions, and borrowed access to function i (valid until the
 * next call that adds functions). */
size_t pyprof_stats_count(const pyprof_stats_t *stats);
pyprof_func_t *pyprof_stats_func(pyprof_stats_t *stats, size_t i);

/* Read-only access to function i, for consumers holding a const model. */
const pyprof_func_t *pyprof_stats_get(const pyprof_stats_t *stats, size_t i);

/* Index of the function with this key, adding it with zero counts when
 * absent.  Strings are copied.  Returns (size_t)-1 when out of memory. */
size_t pyprof_stats_intern(pyprof_stats_t *stats, const char *filename,
                           long lineno, const char *funcname);

/* Index of the function with this key, or (size_t)-1 if absent. */
size_t pyprof_stats_find(const pyprof_stats_t *stats, const char *filename,
                         long lineno, const char *funcname);

/* Add counts and times to function `func` (summing, as pstats.add does).
 * A count that would overflow int64 saturates and sets the model's
 * overflow flag (see pyprof_stats_overflowed). */
void pyprof_stats_add(pyprof_stats_t *stats, size_t func, int64_t cc,
                      int64_t nc, double tt, double ct);

/* Add a caller edge caller -> func, summing with an existing one; a new
 * edge takes the values as given (pstats' add_callers copies new edges).
 * Returns 0, or -1 when out of memory or an index is out of range. */
int pyprof_stats_add_caller(pyprof_stats_t *stats, size_t func,
                            size_t caller, int64_t nc, int64_t cc,
                            double tt, double ct);

/* Merge every function and edge of src into dst (pstats.Stats.add).
 * Returns 0, or -1 when out of memory. */
int pyprof_stats_merge(pyprof_stats_t *dst, const pyprof_stats_t *src);

/* Names of the profile files merged into this model, in order, for the
 * report header (pstats prints one "mtime    filename" line per file).
 * mtime is st_mtime in seconds, or NaN when unknown (pstats then prints
 * the bare path).  The path is copied.  Returns 0, or -1 when out of
 * memory. */
int pyprof_stats_add_source(pyprof_stats_t *stats, const char *path,
                            double mtime);
size_t pyprof_stats_source_count(const pyprof_stats_t *stats);
const char *pyprof_stats_source_path(const pyprof_stats_t *stats, size_t i);
double pyprof_stats_source_mtime(const pyprof_stats_t *stats, size_t i);

/* pstats.Stats.strip_dirs(): a new model where every filename is reduced
 * to its basename and functions that then collide are merged.  NULL when
 * out of memory. */
pyprof_stats_t *pyprof_stats_strip_dirs(const pyprof_stats_t *stats);

/* Totals as pstats computes them: total calls (sum nc), primitive calls
 * (sum cc), total time (sum tt).  pstats sums each loaded file in its own
 * order and then adds the per-file totals, and strip_dirs() keeps them;
 * so a model made by merge or strip_dirs remembers its totals, while any
 * other model sums its functions in order. */
void pyprof_stats_totals(const pyprof_stats_t *stats, int64_t *calls,
                         int64_t *prim_calls, double *total_tt);

/* Non-zero when a and b hold the same functions in the same order, with
 * bit-identical numbers and the same caller edges in the same order
 * (sources and fixed totals are not compared).  For round-trip checks. */
int pyprof_stats_equal(const pyprof_stats_t *a, const pyprof_stats_t *b);

/* Non-zero once a call count summed by add, add_caller, merge or
 * strip_dirs overflowed int64 (the count saturated). */
int pyprof_stats_overflowed(const pyprof_stats_t *stats);

#endif
