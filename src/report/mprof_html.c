/* mprof_html.c - a memory timeline page: web/memory.html around the SVG
 * that mprof_svg.c draws. */
#include "mprof_html.h"

#include <stdlib.h>
#include <string.h>

#include "html_report.h"
#include "mprof_svg.h"
#include "web_assets.h"

/* @@DATA@@ of the page: the chart's SVG, less its XML declaration (not
 * allowed inside HTML).  Every string in it was escaped by mprof_svg.c. */
static int
write_chart(pyprof_sink_t *out, void *ctx)
{
    const pyprof_mprof_data_t *data = ctx;
    pyprof_sink_t svg;
    pyprof_sink_init_buffer(&svg);
    pyprof_mprof_svg_write(&svg, data, NULL);
    size_t len;
    char *text = pyprof_sink_take(&svg, &len);
    if (text == NULL) {
        pyprof_sink_free_buffer(&svg);
        return -1;
    }
    const char *start = text;
    if (strncmp(start, "<?xml", 5) == 0) {
        const char *end = strstr(start, "?>");
        start = end != NULL ? end + 2 : start;
    }
    pyprof_sink_puts(out, start);
    free(text);
    return 0;
}

int
pyprof_mprof_html_write(pyprof_sink_t *out, const pyprof_mprof_data_t *data,
                        const char *title)
{
    if (pyprof_html_fill(out, pyprof_web_memory_html, pyprof_web_memory_css,
                         "", title, write_chart, (void *)data) < 0) {
        return -1;
    }
    return pyprof_sink_failed(out) ? -1 : 0;
}
