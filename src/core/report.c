/* report.c - placeholder until the reports land. */
#include "report.h"
#include <string.h>
void pyprof_report_options_init(pyprof_report_options_t *opts) { memset(opts, 0, sizeof(*opts)); opts->limit = -1; opts->print_header = 1; }
int pyprof_report_sort_key_valid(const char *key) { (void)key; return 1; }
int pyprof_report_print_stats(pyprof_sink_t *out, const pyprof_stats_t *stats, const pyprof_report_options_t *opts, char *errbuf, size_t errlen) { (void)out; (void)stats; (void)opts; (void)errbuf; (void)errlen; return 0; }
