/* flamegraph_svg.c - the flame graph SVG writer.
 *
 * One pass lays the tree out (each child starts where its previous
 * sibling ended, inside its parent), a second writes the visible boxes
 * parents first, so the script's first frame is the root.  When the
 * profile holds import machinery, the tree with it folded (fold.h) is the
 * group shown and the full tree a hidden second group.
 */
#include "flamegraph_svg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "fold.h"
#include "paths.h"
#include "web_assets.h"

#define WIDTH 1200.0
#define PAD 10.0
#define ROW 16.0
#define TOP 60.0
#define BOTTOM 34.0
#define MIN_WIDTH 0.1   /* pixels, flamegraph.pl's --minwidth */
#define CHAR_WIDTH 7.0

/* `label` cut to what fits in `width` pixels, ending in ".." when cut, in
 * buf; cuts only between UTF-8 code points. */
static void
fit_label(const char *label, double width, char *buf, size_t size)
{
    long chars = (long)((width - 6.0) / CHAR_WIDTH);
    buf[0] = '\0';
    if (chars < 3) {
        return;
    }
    size_t i = 0;
    long count = 0;
    while (label[i] != '\0' && count < chars) {
        size_t next = i + 1;
        while ((label[next] & 0xC0) == 0x80) {
            next++;
        }
        i = next;
        count++;
    }
    if (label[i] == '\0') {
        snprintf(buf, size, "%s", label);
        return;
    }
    /* Too long: keep chars - 2 code points and add "..". */
    i = 0;
    for (long k = 0; k < chars - 2; k++) {
        size_t next = i + 1;
        while ((label[next] & 0xC0) == 0x80) {
            next++;
        }
        i = next;
    }
    if (i + 3 > size) {
        i = size - 3;
    }
    memcpy(buf, label, i);
    memcpy(buf + i, "..", 3);
}

/* A warm colour from the function's name, stable across runs. */
static void
color_of(const char *name, char *buf, size_t size)
{
    unsigned h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h = (h ^ *p) * 16777619u;
    }
    snprintf(buf, size, "rgb(%u,%u,%u)", 205 + h % 50, (h >> 8) % 190,
             (h >> 16) % 55);
}

/* Where each node of `tree` goes: x (fraction of the total) and depth,
 * in new malloc'd arrays, and the depth of the deepest box drawn. */
typedef struct {
    const pyprof_pathtree_t *tree;  /* borrowed */
    double *x;
    uint32_t *depth;
    uint32_t max_depth;
    double total;
} layout_t;

static void
layout_free(layout_t *layout)
{
    free(layout->x);
    free(layout->depth);
}

static int
layout_tree(layout_t *layout, const pyprof_pathtree_t *tree)
{
    uint32_t n = tree->count;
    uint32_t *first_child, *next_sibling;
    memset(layout, 0, sizeof(*layout));
    layout->tree = tree;
    if (pyprof_paths_children(tree, &first_child, &next_sibling) < 0) {
        return -1;
    }
    layout->x = malloc(n * sizeof(double));
    layout->depth = malloc(n * sizeof(uint32_t));
    if (layout->x == NULL || layout->depth == NULL) {
        layout_free(layout);
        free(first_child);
        free(next_sibling);
        return -1;
    }
    double total = tree->nodes[0].cumtime > 0.0 ? tree->nodes[0].cumtime
                                                : 1e-300;
    double span = WIDTH - 2 * PAD;
    layout->total = total;
    layout->x[0] = 0.0;
    layout->depth[0] = 0;
    for (uint32_t id = 0; id < n; id++) {
        double at = layout->x[id];
        for (uint32_t c = first_child[id]; c != 0; c = next_sibling[c]) {
            layout->x[c] = at;
            layout->depth[c] = layout->depth[id] + 1;
            double ct = tree->nodes[c].cumtime;
            at += ct > 0.0 ? ct / total : 0.0;
            if (tree->nodes[c].cumtime / total * span >= MIN_WIDTH
                && layout->depth[c] > layout->max_depth) {
                layout->max_depth = layout->depth[c];
            }
        }
    }
    free(first_child);
    free(next_sibling);
    return 0;
}

static double
layout_height(const layout_t *layout)
{
    return TOP + (layout->max_depth + 1) * ROW + BOTTOM;
}

/* One <g> of frames, hidden when `hide`; data-height is the height of
 * the SVG that shows it (the script resizes the SVG to the group shown). */
static int
write_frames(pyprof_sink_t *out, const pyprof_stats_t *stats,
             const layout_t *layout, const char *group_id, int hide,
             char *buf)
{
    const pyprof_pathtree_t *tree = layout->tree;
    double span = WIDTH - 2 * PAD;
    uint32_t max_depth = layout->max_depth;
    pyprof_sink_printf(out, "<g id=\"%s\"%s data-height=\"%.0f\">\n",
                       group_id, hide ? " class=\"hide\"" : "",
                       layout_height(layout));
    for (uint32_t id = 0; id < tree->count; id++) {
        const pyprof_path_node_t *node = &tree->nodes[id];
        double w = (node->cumtime > 0.0 ? node->cumtime : 0.0) /
                   layout->total;
        /* A child is never wider than its caller, so a left-out box's
         * children are left out too. */
        if (id != 0 && w * span < MIN_WIDTH) {
            continue;
        }
        char *label = id == 0 ? strdup("all")
                              : pyprof_paths_label(
                                    pyprof_stats_get(stats, node->func));
        if (label == NULL) {
            return -1;
        }
        double px = PAD + layout->x[id] * span, pw = w * span;
        double py = TOP + (max_depth - layout->depth[id]) * ROW;
        pyprof_sink_printf(out, "<g class=\"frame\" data-x=\"%.12g\" "
                                "data-w=\"%.12g\" data-d=\"%u\"><title>",
                           layout->x[id], w, (unsigned)layout->depth[id]);
        pyprof_escape_markup(out, label);
        pyprof_sink_printf(out, "\n%lld calls, %.6f s total, %.6f s self, "
                                "%.2f%%</title>",
                           (long long)node->calls, node->cumtime,
                           node->tottime, 100.0 * w);
        color_of(id == 0 ? "all" : label, buf, 64);
        pyprof_sink_printf(out, "<rect x=\"%.2f\" y=\"%.1f\" "
                                "width=\"%.2f\" height=\"%.1f\" "
                                "fill=\"%s\" rx=\"2\" ry=\"2\"/>",
                           px, py, pw, ROW - 1, id == 0 ? "rgb(200,200,200)"
                                                        : buf);
        fit_label(label, pw, buf, 1024);
        pyprof_sink_printf(out, "<text x=\"%.2f\" y=\"%.1f\">", px + 3,
                           py + ROW - 4.5);
        pyprof_escape_markup(out, buf);
        pyprof_sink_puts(out, "</text></g>\n");
        free(label);
    }
    pyprof_sink_puts(out, "</g>\n");
    return 0;
}

int
pyprof_flamegraph_svg(pyprof_sink_t *out, const pyprof_stats_t *stats,
                      const pyprof_pathtree_t *tree, const char *title)
{
    /* The import machinery folded (fold.h) is what shows first; the full
     * tree is a second group, one click ("Show import machinery") away. */
    pyprof_pathtree_t folded;
    uint32_t nfolded = 0;
    layout_t full, fold;
    char *buf = malloc(1024);
    int have_fold = 0, rc = -1;
    memset(&fold, 0, sizeof(fold));
    memset(&folded, 0, sizeof(folded));     /* safe to free as it is */
    if (buf == NULL || layout_tree(&full, tree) < 0) {
        free(buf);
        return -1;
    }
    if (pyprof_fold_machinery(tree, stats, &folded, &nfolded) < 0) {
        goto done;
    }
    have_fold = nfolded > 0;
    if (have_fold && layout_tree(&fold, &folded) < 0) {
        goto done;
    }
    double height = layout_height(have_fold ? &fold : &full);
    pyprof_sink_printf(out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
        "<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" "
        "width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
        "data-width=\"%.0f\">\n<style type=\"text/css\"><![CDATA[\n%s]]>"
        "</style>\n"
        "<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" "
        "fill=\"#f8f8f4\"/>\n",
        WIDTH, height, WIDTH, height, WIDTH, pyprof_web_flamegraph_css);
    pyprof_sink_printf(out, "<text id=\"title\" x=\"%.0f\" y=\"22\" "
                            "text-anchor=\"middle\">Flame Graph: ",
                       WIDTH / 2);
    pyprof_escape_markup(out, title);
    pyprof_sink_printf(out, "</text>\n<text id=\"subtitle\" x=\"%.0f\" "
                            "y=\"40\" text-anchor=\"middle\">",
                       WIDTH / 2);
    pyprof_escape_markup(out, pyprof_paths_provenance(tree));
    pyprof_sink_printf(out, "</text>\n<text id=\"unzoom\" class=\"hide\" "
                            "x=\"%.0f\" y=\"22\">Reset Zoom</text>\n"
                            "<text id=\"search\" x=\"%.0f\" y=\"22\" "
                            "text-anchor=\"end\">Search</text>\n"
                            "<text id=\"details\" x=\"%.0f\" y=\"%.0f\"> "
                            "</text>\n<text id=\"matched\" x=\"%.0f\" "
                            "y=\"%.0f\" text-anchor=\"end\"> </text>\n",
                       PAD, WIDTH - PAD, PAD, height - 12, WIDTH - PAD,
                       height - 12);
    if (have_fold) {
        pyprof_sink_printf(out, "<text id=\"fold\" x=\"%.0f\" y=\"40\" "
                                "text-anchor=\"end\" data-folded=\"%u\">"
                                "Show import machinery (%u frames folded)"
                                "</text>\n",
                           WIDTH - PAD, (unsigned)nfolded,
                           (unsigned)nfolded);
        if (write_frames(out, stats, &fold, "frames", 0, buf) < 0 ||
            write_frames(out, stats, &full, "frames-all", 1, buf) < 0) {
            goto done;
        }
    }
    else if (write_frames(out, stats, &full, "frames", 0, buf) < 0) {
        goto done;
    }
    pyprof_sink_printf(out, "<script type=\"text/ecmascript\">"
                            "<![CDATA[\n%s]]></script>\n</svg>\n",
                       pyprof_web_flamegraph_js);
    rc = 0;
done:
    if (have_fold) {
        layout_free(&fold);
    }
    pyprof_pathtree_free(&folded);
    layout_free(&full);
    free(buf);
    return rc;
}
