/* mprof_html.h - `pyprof view` of a memory timeline (.dat) as HTML.
 *
 * The page is web/memory.html with memory.css, and the timeline is the
 * SVG `pyprof mprof plot` draws (mprof_svg.c) inlined, so the same chart
 * opens from disk beside the function and line reports.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_MPROF_HTML_H
#define PYPROF_MPROF_HTML_H

#include "../core/sink.h"
#include "../memory/mprof_file.h"

/* Write the page of `data` (at least one MEM sample) titled `title`.
 * Returns 0, or -1 when out of memory. */
int pyprof_mprof_html_write(pyprof_sink_t *out,
                            const pyprof_mprof_data_t *data,
                            const char *title);

#endif
