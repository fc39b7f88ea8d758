/* html_report.c - fill web/report.html's template.
 *
 * The template holds four markers, replaced in one pass: @@CSS@@ and
 * @@JS@@ by our own files (trusted, from the build), @@TITLE@@ by the
 * markup-escaped title and @@DATA@@ by the profile as JSON escaped for a
 * <script> element (no "<" survives, so nothing in it can close the
 * element).  The call-path tree is pruned of paths too small to see and
 * renumbered so parents still come before children.
 */
#include "html_report.h"

#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "fold.h"
#include "paths.h"
#include "web_assets.h"

static void
put_numbers_i64(pyprof_sink_t *out, const char *name, const int64_t *v,
                size_t n)
{
    pyprof_sink_printf(out, "\"%s\":[", name);
    for (size_t i = 0; i < n; i++) {
        pyprof_sink_printf(out, i ? ",%lld" : "%lld", (long long)v[i]);
    }
    pyprof_sink_putc(out, ']');
}

static void
put_numbers_f64(pyprof_sink_t *out, const char *name, const double *v,
                size_t n)
{
    pyprof_sink_printf(out, "\"%s\":[", name);
    for (size_t i = 0; i < n; i++) {
        if (i) {
            pyprof_sink_putc(out, ',');
        }
        pyprof_escape_json_number(out, v[i]);
    }
    pyprof_sink_putc(out, ']');
}

/* The function arrays: names, files, lines and pstats' numbers. */
static int
put_funcs(pyprof_sink_t *out, const pyprof_stats_t *stats)
{
    size_t n = pyprof_stats_count(stats);
    int64_t *ints = malloc((n ? n : 1) * sizeof(int64_t));
    double *reals = malloc((n ? n : 1) * sizeof(double));
    if (ints == NULL || reals == NULL) {
        free(ints);
        free(reals);
        return -1;
    }
    pyprof_sink_puts(out, "\"funcs\":{\"name\":[");
    for (size_t i = 0; i < n; i++) {
        if (i) {
            pyprof_sink_putc(out, ',');
        }
        pyprof_escape_json(out, pyprof_stats_get(stats, i)->funcname);
    }
    pyprof_sink_puts(out, "],\"file\":[");
    for (size_t i = 0; i < n; i++) {
        if (i) {
            pyprof_sink_putc(out, ',');
        }
        pyprof_escape_json(out, pyprof_stats_get(stats, i)->filename);
    }
    pyprof_sink_puts(out, "],");
    for (size_t i = 0; i < n; i++) {
        ints[i] = pyprof_stats_get(stats, i)->lineno;
    }
    put_numbers_i64(out, "line", ints, n);
    pyprof_sink_putc(out, ',');
    for (size_t i = 0; i < n; i++) {
        ints[i] = pyprof_stats_get(stats, i)->cc;
    }
    put_numbers_i64(out, "cc", ints, n);
    pyprof_sink_putc(out, ',');
    for (size_t i = 0; i < n; i++) {
        ints[i] = pyprof_stats_get(stats, i)->nc;
    }
    put_numbers_i64(out, "nc", ints, n);
    pyprof_sink_putc(out, ',');
    for (size_t i = 0; i < n; i++) {
        reals[i] = pyprof_stats_get(stats, i)->tt;
    }
    put_numbers_f64(out, "tt", reals, n);
    pyprof_sink_putc(out, ',');
    for (size_t i = 0; i < n; i++) {
        reals[i] = pyprof_stats_get(stats, i)->ct;
    }
    put_numbers_f64(out, "ct", reals, n);
    pyprof_sink_putc(out, '}');
    free(ints);
    free(reals);
    return 0;
}

/* The caller->callee edges, as parallel arrays. */
static void
put_edges(pyprof_sink_t *out, const pyprof_stats_t *stats)
{
    static const char *const names[] = {"caller", "callee", "nc", "tt",
                                        "ct"};
    size_t n = pyprof_stats_count(stats);
    pyprof_sink_puts(out, "\"edges\":{");
    for (int field = 0; field < 5; field++) {
        pyprof_sink_printf(out, "%s\"%s\":[", field ? "," : "",
                           names[field]);
        int first = 1;
        for (size_t f = 0; f < n; f++) {
            const pyprof_func_t *func = pyprof_stats_get(stats, f);
            for (size_t k = 0; k < func->ncallers; k++) {
                const pyprof_caller_t *e = &func->callers[k];
                if (!first) {
                    pyprof_sink_putc(out, ',');
                }
                first = 0;
                switch (field) {
                case 0: pyprof_sink_printf(out, "%zu", e->caller); break;
                case 1: pyprof_sink_printf(out, "%zu", f); break;
                case 2: pyprof_sink_printf(out, "%lld", (long long)e->nc);
                        break;
                case 3: pyprof_escape_json_number(out, e->tt); break;
                default: pyprof_escape_json_number(out, e->ct); break;
                }
            }
        }
        pyprof_sink_putc(out, ']');
    }
    pyprof_sink_putc(out, '}');
}

/* The visible part of the tree, renumbered, as "KEY":{...}. */
static int
put_nodes(pyprof_sink_t *out, const char *key, const pyprof_pathtree_t *tree)
{
    uint32_t n = tree->count;
    uint32_t *new_id = malloc(n * sizeof(uint32_t));
    uint32_t *kept = malloc(n * sizeof(uint32_t));
    if (new_id == NULL || kept == NULL) {
        free(new_id);
        free(kept);
        return -1;
    }
    double cut = tree->nodes[0].cumtime * PYPROF_HTML_MIN_FRACTION;
    uint32_t nkept = 0;
    for (uint32_t i = 0; i < n; i++) {
        new_id[i] = UINT32_MAX;
        if (i == 0 || (new_id[tree->nodes[i].parent] != UINT32_MAX
                       && tree->nodes[i].cumtime >= cut)) {
            new_id[i] = nkept;
            kept[nkept++] = i;
        }
    }
    pyprof_sink_printf(out, "\"%s\":{\"parent\":[", key);
    for (uint32_t k = 0; k < nkept; k++) {
        pyprof_sink_printf(out, k ? ",%u" : "%u",
                           k ? new_id[tree->nodes[kept[k]].parent] : 0u);
    }
    pyprof_sink_puts(out, "],\"func\":[");
    for (uint32_t k = 0; k < nkept; k++) {
        pyprof_sink_printf(out, k ? ",%d" : "%d",
                           k ? (int)tree->nodes[kept[k]].func : -1);
    }
    pyprof_sink_puts(out, "],\"calls\":[");
    for (uint32_t k = 0; k < nkept; k++) {
        pyprof_sink_printf(out, k ? ",%lld" : "%lld",
                           (long long)tree->nodes[kept[k]].calls);
    }
    pyprof_sink_puts(out, "],\"self\":[");
    for (uint32_t k = 0; k < nkept; k++) {
        if (k) {
            pyprof_sink_putc(out, ',');
        }
        pyprof_escape_json_number(out, tree->nodes[kept[k]].tottime);
    }
    pyprof_sink_puts(out, "],\"cum\":[");
    for (uint32_t k = 0; k < nkept; k++) {
        if (k) {
            pyprof_sink_putc(out, ',');
        }
        pyprof_escape_json_number(out, tree->nodes[kept[k]].cumtime);
    }
    pyprof_sink_puts(out, "]}");
    free(new_id);
    free(kept);
    return 0;
}

int
pyprof_html_report_data(pyprof_sink_t *out, const pyprof_stats_t *stats,
                        const pyprof_pathtree_t *tree, const char *title)
{
    int64_t calls, prim_calls;
    double total_tt;
    pyprof_stats_totals(stats, &calls, &prim_calls, &total_tt);
    pyprof_sink_puts(out, "{\"title\":");
    pyprof_escape_json(out, title);
    pyprof_sink_printf(out, ",\"exact\":%s,\"provenance\":",
                       tree->exact ? "true" : "false");
    pyprof_escape_json(out, pyprof_paths_provenance(tree));
    pyprof_sink_printf(out, ",\"calls\":%lld,\"primCalls\":%lld,"
                            "\"totalTT\":",
                       (long long)calls, (long long)prim_calls);
    pyprof_escape_json_number(out, total_tt);
    pyprof_sink_putc(out, ',');
    if (put_funcs(out, stats) < 0) {
        return -1;
    }
    pyprof_sink_putc(out, ',');
    put_edges(out, stats);
    pyprof_sink_putc(out, ',');
    if (put_nodes(out, "nodes", tree) < 0) {
        return -1;
    }
    /* The same tree with the import machinery folded, shown first when
     * there is any (fold.h). */
    pyprof_pathtree_t folded;
    uint32_t nfolded;
    if (pyprof_fold_machinery(tree, stats, &folded, &nfolded) < 0) {
        return -1;
    }
    pyprof_sink_printf(out, ",\"nfolded\":%u", (unsigned)nfolded);
    int rc = 0;
    if (nfolded > 0) {
        pyprof_sink_putc(out, ',');
        rc = put_nodes(out, "folded", &folded);
    }
    pyprof_pathtree_free(&folded);
    if (rc < 0) {
        return -1;
    }
    pyprof_sink_putc(out, '}');
    return 0;
}

int
pyprof_html_fill(pyprof_sink_t *out, const char *page, const char *css,
                 const char *js, const char *title, pyprof_html_data_fn data,
                 void *ctx)
{
    const char *p = page;
    for (;;) {
        const char *mark = strstr(p, "@@");
        if (mark == NULL) {
            pyprof_sink_puts(out, p);
            return 0;
        }
        pyprof_sink_write(out, p, (size_t)(mark - p));
        if (strncmp(mark, "@@CSS@@", 7) == 0) {
            pyprof_sink_puts(out, css);
            p = mark + 7;
        }
        else if (strncmp(mark, "@@JS@@", 6) == 0) {
            pyprof_sink_puts(out, js);
            p = mark + 6;
        }
        else if (strncmp(mark, "@@TITLE@@", 9) == 0) {
            pyprof_escape_markup(out, title);
            p = mark + 9;
        }
        else if (strncmp(mark, "@@DATA@@", 8) == 0) {
            if (data(out, ctx) < 0) {
                return -1;
            }
            p = mark + 8;
        }
        else {
            pyprof_sink_puts(out, "@@");
            p = mark + 2;
        }
    }
}

typedef struct {
    const char *title;
    const pyprof_json_t *funcs;
    void (*put)(pyprof_sink_t *out, const pyprof_json_t *function);
} functions_data_t;

static int
functions_data(pyprof_sink_t *out, void *ctx)
{
    const functions_data_t *d = ctx;
    pyprof_sink_puts(out, "{\"title\":");
    pyprof_escape_json(out, d->title);
    pyprof_sink_puts(out, ",\"functions\":[");
    for (const pyprof_json_t *f = d->funcs->first; f != NULL; f = f->next) {
        if (f != d->funcs->first) {
            pyprof_sink_putc(out, ',');
        }
        d->put(out, f);
    }
    pyprof_sink_puts(out, "]}");
    return 0;
}

int
pyprof_html_fill_functions(pyprof_sink_t *out, const char *page,
                           const char *css, const char *js, const char *title,
                           const pyprof_json_t *funcs,
                           void (*put)(pyprof_sink_t *out,
                                       const pyprof_json_t *function))
{
    functions_data_t d = {title, funcs, put};
    return pyprof_html_fill(out, page, css, js, title, functions_data, &d);
}

typedef struct {
    const pyprof_stats_t *stats;
    const pyprof_pathtree_t *tree;
    const char *title;
} function_page_t;

static int
function_page_data(pyprof_sink_t *out, void *ctx)
{
    const function_page_t *page = ctx;
    return pyprof_html_report_data(out, page->stats, page->tree, page->title);
}

int
pyprof_html_report(pyprof_sink_t *out, const pyprof_stats_t *stats,
                   const pyprof_pathtree_t *tree, const char *title)
{
    function_page_t page = {stats, tree, title};
    return pyprof_html_fill(out, pyprof_web_report_html, pyprof_web_report_css,
                            pyprof_web_report_js, title, function_page_data,
                            &page);
}
