/* tree_formats.c - the one switch from a format to its writer (see
 * tree_formats.h). */
#include "tree_formats.h"

#include "export_formats.h"
#include "flamegraph_svg.h"
#include "html_report.h"

int
pyprof_tree_format_write(pyprof_sink_t *out, pyprof_tree_format_t format,
                         const pyprof_stats_t *stats,
                         const pyprof_pathtree_t *tree, const char *title)
{
    switch (format) {
    case PYPROF_TREE_HTML:
        return pyprof_html_report(out, stats, tree, title);
    case PYPROF_TREE_SVG:
        return pyprof_flamegraph_svg(out, stats, tree, title);
    case PYPROF_TREE_SPEEDSCOPE:
        return pyprof_export_speedscope(out, stats, tree, title);
    case PYPROF_TREE_CHROME:
        return pyprof_export_chrome_trace(out, stats, tree, title);
    case PYPROF_TREE_COLLAPSED:
        return pyprof_export_collapsed(out, stats, tree);
    }
    return -1;
}
