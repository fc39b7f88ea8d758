/* fold.c - the call-path tree with the import machinery folded (fold.h).
 *
 * One pass over the nodes, parents before children (the tree's order):
 * each node either folds into the node its parent became, or becomes a
 * child there -- a new node, or one already made for the same function
 * when the parent gained callees from a folded frame.  A (parent,
 * function) table finds those; a parent that never adopted anything has
 * no two children of one function (the tree has none), so it is asked
 * only for adopters.
 */
#include "fold.h"

#include <stdlib.h>
#include <string.h>

static int
ends_with(const char *text, const char *tail)
{
    size_t n = strlen(text), m = strlen(tail);
    return n >= m && strcmp(text + n - m, tail) == 0 &&
           (n == m || text[n - m - 1] == '/');
}

int
pyprof_fold_is_machinery(const pyprof_func_t *func)
{
    static const char *const frozen[] = {
        "<frozen importlib._bootstrap>",
        "<frozen importlib._bootstrap_external>",
        "<frozen importlib.util>",
        "<frozen zipimport>",
        "<frozen runpy>",
    };
    static const char *const files[] = {
        "importlib/_bootstrap.py",
        "importlib/_bootstrap_external.py",
        "importlib/util.py",
        "runpy.py",
    };
    const char *file = func->filename;
    for (size_t i = 0; i < sizeof(frozen) / sizeof(frozen[0]); i++) {
        if (strcmp(file, frozen[i]) == 0) {
            return 1;
        }
    }
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if (ends_with(file, files[i])) {
            return 1;
        }
    }
    return 0;
}

static int
is_builtin(const pyprof_func_t *func)
{
    return strcmp(func->filename, "~") == 0 && func->lineno == 0;
}

/* (parent, func) -> node of the folded tree, open addressing. */
typedef struct {
    uint64_t *keys;     /* (parent << 32 | func) + 1; 0 is a free slot */
    uint32_t *values;
    size_t mask;
} child_table_t;

static int
table_init(child_table_t *table, size_t at_least)
{
    size_t size = 16;
    while (size < 2 * at_least) {
        size *= 2;
    }
    table->keys = calloc(size, sizeof(uint64_t));
    table->values = malloc(size * sizeof(uint32_t));
    table->mask = size - 1;
    return table->keys != NULL && table->values != NULL ? 0 : -1;
}

static size_t
table_slot(const child_table_t *table, uint64_t key)
{
    size_t slot = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & table->mask;
    while (table->keys[slot] != 0 && table->keys[slot] != key) {
        slot = (slot + 1) & table->mask;
    }
    return slot;
}

int
pyprof_fold_machinery(const pyprof_pathtree_t *tree,
                      const pyprof_stats_t *stats, pyprof_pathtree_t *folded,
                      uint32_t *nfolded)
{
    uint32_t n = tree->count;
    uint32_t *mapped = malloc(n * sizeof(uint32_t));   /* node -> new node */
    unsigned char *gone = calloc(n, 1);                /* node was folded */
    unsigned char *adopter = calloc(n, 1);  /* new node: adopted callees */
    child_table_t table = {NULL, NULL, 0};
    int rc = -1;
    *nfolded = 0;
    if (mapped == NULL || gone == NULL || adopter == NULL ||
        table_init(&table, n) < 0 || pyprof_pathtree_init(folded) < 0) {
        goto done;
    }
    folded->exact = tree->exact;
    folded->truncated = tree->truncated;
    if (n > 0) {
        folded->nodes[0] = tree->nodes[0];
        mapped[0] = 0;
    }
    for (uint32_t i = 1; i < n; i++) {
        const pyprof_path_node_t *node = &tree->nodes[i];
        uint32_t parent = mapped[node->parent];
        const pyprof_func_t *func = pyprof_stats_get(stats, node->func);
        if (func != NULL && (pyprof_fold_is_machinery(func) ||
                             (is_builtin(func) && gone[node->parent]))) {
            gone[i] = 1;
            mapped[i] = parent;
            folded->nodes[parent].tottime += node->tottime;
            adopter[parent] = 1;
            ++*nfolded;
            continue;
        }
        /* Below a kept caller whose callees all came from the tree, the
         * node is new; below an adopter it may merge. */
        int reparented = gone[node->parent];
        uint64_t key = ((uint64_t)parent << 32 | node->func) + 1;
        size_t slot = table_slot(&table, key);
        if ((adopter[parent] || reparented) && table.keys[slot] == key) {
            pyprof_path_node_t *into = &folded->nodes[table.values[slot]];
            into->calls += node->calls;
            into->tottime += node->tottime;
            into->cumtime += node->cumtime;
            mapped[i] = table.values[slot];
            adopter[mapped[i]] = 1;     /* its callees may merge too */
            continue;
        }
        uint32_t made = pyprof_pathtree_add(folded, parent, node->func,
                                            node->calls, node->tottime,
                                            node->cumtime);
        if (made == PYPROF_PATH_NO_FUNC) {
            pyprof_pathtree_free(folded);
            goto done;
        }
        if (reparented) {
            adopter[parent] = 1;
        }
        table.keys[slot] = key;
        table.values[slot] = made;
        mapped[i] = made;
    }
    rc = 0;
done:
    free(mapped);
    free(gone);
    free(adopter);
    free(table.keys);
    free(table.values);
    return rc;
}
