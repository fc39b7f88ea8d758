/* stats.c - placeholder until the model lands. */
#include "stats.h"
#include <stdlib.h>
pyprof_stats_t *pyprof_stats_new(void) { return NULL; }
void pyprof_stats_free(pyprof_stats_t *stats) { (void)stats; }
size_t pyprof_stats_count(const pyprof_stats_t *stats) { (void)stats; return 0; }
pyprof_func_t *pyprof_stats_func(pyprof_stats_t *stats, size_t i) { (void)stats; (void)i; return NULL; }
size_t pyprof_stats_intern(pyprof_stats_t *s, const char *f, long l, const char *n) { (void)s; (void)f; (void)l; (void)n; return (size_t)-1; }
void pyprof_stats_add(pyprof_stats_t *s, size_t f, int64_t cc, int64_t nc, double tt, double ct) { (void)s; (void)f; (void)cc; (void)nc; (void)tt; (void)ct; }
int pyprof_stats_add_caller(pyprof_stats_t *s, size_t f, size_t c, int64_t nc, int64_t cc, double tt, double ct) { (void)s; (void)f; (void)c; (void)nc; (void)cc; (void)tt; (void)ct; return -1; }
pyprof_stats_t *pyprof_stats_strip_dirs(const pyprof_stats_t *stats) { (void)stats; return NULL; }
