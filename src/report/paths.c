/* paths.c - load a profile's call paths, or rebuild them from pairs.
 *
 * The rebuild is a depth-first walk with an explicit stack (call graphs
 * can be deep) over a callee index built once from the callers lists.
 * A node's numbers are the pair's numbers times the fraction of its
 * caller's total time this path holds; recursion is cut when a function
 * is already on the path (its recursive time is inside the outer call's
 * cumtime already).  Graphs with many shared callees can have
 * exponentially many paths, hence the node budget and the cut of
 * invisible paths.
 */
#include "paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/pstats_file.h"

typedef struct {
    uint32_t node;          /* the node whose callees are being visited */
    size_t func;
    double scale;           /* share of func's cumtime this path holds */
    size_t next;            /* next callee to visit in func's list */
} frame_t;

/* Non-zero when no function but f itself calls f. */
static int
is_root(const pyprof_stats_t *stats, size_t f)
{
    const pyprof_func_t *func = pyprof_stats_get(stats, f);
    for (size_t k = 0; k < func->ncallers; k++) {
        if (func->callers[k].caller != f) {
            return 0;
        }
    }
    return 1;
}

int
pyprof_paths_from_pairs(const pyprof_stats_t *stats, pyprof_pathtree_t *out,
                        double min_fraction)
{
    size_t n = pyprof_stats_count(stats);
    int rc = -1;
    size_t *start = NULL;
    pyprof_callee_ref_t *callees = NULL;
    uint32_t *on_path = calloc(n ? n : 1, sizeof(uint32_t));
    frame_t *stack = NULL;
    if (on_path == NULL
        || pyprof_paths_callee_index(stats, &start, &callees) < 0) {
        goto done;
    }
    /* Roots: functions nobody else calls.  The total is their cumtime. */
    double total = 0.0;
    for (size_t f = 0; f < n; f++) {
        if (is_root(stats, f)) {
            total += pyprof_stats_get(stats, f)->ct;
        }
    }
    double cut = total * min_fraction;
    stack = malloc((n + 1) * sizeof(*stack));
    if (stack == NULL) {
        goto done;
    }
    out->nodes[0].cumtime = total;
    for (size_t r = 0; r < n; r++) {
        const pyprof_func_t *root = pyprof_stats_get(stats, r);
        if (!is_root(stats, r)) {
            continue;
        }
        out->nodes[0].calls += root->nc;
        uint32_t id = pyprof_pathtree_add(out, 0, (uint32_t)r, root->nc,
                                          root->tt, root->ct);
        if (id == PYPROF_PATH_NO_FUNC) {
            goto done;
        }
        size_t sp = 0;
        stack[sp++] = (frame_t){id, r, 1.0, start[r]};
        on_path[r]++;
        while (sp > 0) {
            frame_t *top = &stack[sp - 1];
            if (top->next == start[top->func + 1]) {
                on_path[top->func]--;
                sp--;
                continue;
            }
            const pyprof_callee_ref_t *ref = &callees[top->next++];
            if (on_path[ref->callee]) {
                continue;
            }
            double ct = ref->edge->ct * top->scale;
            if (ct < cut || (ct <= 0.0 && ref->edge->nc == 0)) {
                continue;
            }
            if (out->count >= PYPROF_PATHS_MAX_NODES) {
                out->truncated = 1;
                continue;
            }
            const pyprof_func_t *g = pyprof_stats_get(stats, ref->callee);
            double calls = (double)ref->edge->nc * top->scale + 0.5;
            if (!(calls >= 0.0)) {
                calls = 0.0;
            }
            if (calls > 9e18) {
                calls = 9e18;
            }
            id = pyprof_pathtree_add(out, top->node, (uint32_t)ref->callee,
                                     (int64_t)calls,
                                     ref->edge->tt * top->scale, ct);
            if (id == PYPROF_PATH_NO_FUNC) {
                goto done;
            }
            double scale = g->ct > 0.0 ? ct / g->ct : 0.0;
            if (scale > 1.0) {
                scale = 1.0;
            }
            stack[sp++] = (frame_t){id, ref->callee, scale,
                                    start[ref->callee]};
            on_path[ref->callee]++;
        }
    }
    out->exact = 0;
    rc = 0;
done:
    free(start);
    free(on_path);
    free(callees);
    free(stack);
    return rc;
}

int
pyprof_paths_callee_index(const pyprof_stats_t *stats, size_t **start_out,
                          pyprof_callee_ref_t **refs_out)
{
    size_t n = pyprof_stats_count(stats);
    size_t *start = calloc(n + 1, sizeof(size_t));
    size_t *fill = calloc(n ? n : 1, sizeof(size_t));
    pyprof_callee_ref_t *refs = NULL;
    if (start == NULL || fill == NULL) {
        goto error;
    }
    /* A counting sort of the edges by caller. */
    size_t nedges = 0;
    for (size_t f = 0; f < n; f++) {
        const pyprof_func_t *func = pyprof_stats_get(stats, f);
        for (size_t k = 0; k < func->ncallers; k++) {
            start[func->callers[k].caller + 1]++;
            nedges++;
        }
    }
    for (size_t f = 0; f < n; f++) {
        start[f + 1] += start[f];
    }
    refs = malloc((nedges ? nedges : 1) * sizeof(*refs));
    if (refs == NULL) {
        goto error;
    }
    for (size_t f = 0; f < n; f++) {
        const pyprof_func_t *func = pyprof_stats_get(stats, f);
        for (size_t k = 0; k < func->ncallers; k++) {
            size_t c = func->callers[k].caller;
            refs[start[c] + fill[c]++] = (pyprof_callee_ref_t){
                f, &func->callers[k]};
        }
    }
    free(fill);
    *start_out = start;
    *refs_out = refs;
    return 0;
error:
    free(start);
    free(fill);
    free(refs);
    return -1;
}

int
pyprof_paths_load(const char *path, pyprof_stats_t **stats_out,
                  pyprof_pathtree_t *tree, char *errbuf, size_t errlen)
{
    *stats_out = NULL;
    pyprof_stats_t *stats = pyprof_stats_new();
    if (stats == NULL || pyprof_pathtree_init(tree) < 0) {
        pyprof_stats_free(stats);
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    if (pyprof_pstats_read_file(stats, path, errbuf, errlen) < 0) {
        goto error;
    }
    int found = pyprof_pathtree_read_file(tree, path,
                                          pyprof_stats_count(stats), errbuf,
                                          errlen);
    if (found < 0) {
        goto error;
    }
    if (found == 0
        && pyprof_paths_from_pairs(stats, tree, 1e-6) < 0) {
        snprintf(errbuf, errlen, "out of memory");
        goto error;
    }
    *stats_out = stats;
    return 0;
error:
    pyprof_stats_free(stats);
    pyprof_pathtree_free(tree);
    return -1;
}

char *
pyprof_paths_label(const pyprof_func_t *func)
{
    size_t size = strlen(func->funcname) + strlen(func->filename) + 32;
    char *label = malloc(size);
    if (label == NULL) {
        return NULL;
    }
    if (strcmp(func->filename, "~") == 0 && func->lineno == 0) {
        snprintf(label, size, "%s", func->funcname);
    }
    else {
        snprintf(label, size, "%s (%s:%ld)", func->funcname, func->filename,
                 func->lineno);
    }
    return label;
}

int
pyprof_paths_children(const pyprof_pathtree_t *tree, uint32_t **first_child,
                      uint32_t **next_sibling)
{
    uint32_t n = tree->count;
    uint32_t *first = calloc(n, sizeof(uint32_t));
    uint32_t *next = calloc(n, sizeof(uint32_t));
    if (first == NULL || next == NULL) {
        free(first);
        free(next);
        return -1;
    }
    /* Backwards, so siblings come out in node order. */
    for (uint32_t i = n; i-- > 1;) {
        uint32_t parent = tree->nodes[i].parent;
        next[i] = first[parent];
        first[parent] = i;
    }
    *first_child = first;
    *next_sibling = next;
    return 0;
}

const char *
pyprof_paths_provenance(const pyprof_pathtree_t *tree)
{
    if (tree->exact) {
        return "exact call paths recorded by pyprof";
    }
    if (tree->truncated) {
        return "call paths reconstructed from caller/callee pairs "
               "(not recorded in this file; truncated)";
    }
    return "call paths reconstructed from caller/callee pairs "
           "(not recorded in this file)";
}
