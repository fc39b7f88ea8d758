/* html_report.h - `pyprof view`'s self-contained HTML report.
 *
 * One HTML file with no network access: the page template, CSS and JS are
 * the files in web/ (embedded into the extension at build time, see
 * web_assets.h), the profile is embedded as JSON.  Every string from the
 * profile is escaped (escape.h) before it reaches the page.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_HTML_REPORT_H
#define PYPROF_HTML_REPORT_H

#include "../core/calltree_file.h"
#include "../core/sink.h"
#include "../core/stats.h"
#include "json_reader.h"

/* Paths narrower than this fraction of the total are left out of the
 * page (their time stays in their parent): invisible even zoomed 100x on
 * a wide screen, and they would only make the page slow. */
#define PYPROF_HTML_MIN_FRACTION 1e-6

/* Write the report of `stats` and its call paths `tree` titled `title`.
 * Returns 0, or -1 when out of memory (the sink may hold part of it). */
int pyprof_html_report(pyprof_sink_t *out, const pyprof_stats_t *stats,
                       const pyprof_pathtree_t *tree, const char *title);

/* Fill one of web/'s page templates: its @@CSS@@ and @@JS@@ markers get
 * `css` and `js` (ours, trusted), @@TITLE@@ the markup-escaped `title`,
 * @@DATA@@ whatever `data` writes (it must escape what it writes; it
 * returns 0 or -1 to stop).  Returns 0, or -1 when `data` failed. */
typedef int (*pyprof_html_data_fn)(pyprof_sink_t *out, void *ctx);
int pyprof_html_fill(pyprof_sink_t *out, const char *page, const char *css,
                     const char *js, const char *title,
                     pyprof_html_data_fn data, void *ctx);

/* Fill `page` (as pyprof_html_fill) with the data {"title": title,
 * "functions": [...]}, each element of the JSON array `funcs` written by
 * `put`, which must escape what it writes: the line and memory profile
 * pages.  Returns 0; the sink records running out of memory. */
int pyprof_html_fill_functions(pyprof_sink_t *out, const char *page,
                               const char *css, const char *js,
                               const char *title, const pyprof_json_t *funcs,
                               void (*put)(pyprof_sink_t *out,
                                           const pyprof_json_t *function));

/* Write the profile data of the report as JSON (what the page embeds).
 * Returns 0, or -1 when out of memory. */
int pyprof_html_report_data(pyprof_sink_t *out, const pyprof_stats_t *stats,
                            const pyprof_pathtree_t *tree, const char *title);

#endif
