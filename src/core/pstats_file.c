/* pstats_file.c - placeholder until the reader and writer land. */
#include "pstats_file.h"
#include <stdio.h>
int pyprof_pstats_write_file(const pyprof_stats_t *stats, const char *path, char *errbuf, size_t errlen) { (void)stats; (void)path; snprintf(errbuf, errlen, "not built yet"); return -1; }
void pyprof_pstats_serialize(pyprof_sink_t *out, const pyprof_stats_t *stats) { (void)out; (void)stats; }
