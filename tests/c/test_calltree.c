/* test_calltree.c - the calling-context tree and the pointer map, against a
 * brute-force reference: every (parent, key) edge is found again after
 * the tables have grown many times over, and nothing else is found. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "core/calltree.h"
#include "core/ptrmap.h"

/* A fake, aligned, non-NULL key. */
static const void *
key_of(uint32_t i)
{
    return (const void *)(uintptr_t)(((uintptr_t)i + 1) * 16);
}

static void
test_tree_lookup_after_growth(void)
{
    pyprof_calltree_t tree;
    CHECK(pyprof_calltree_init(&tree) == 0);
    CHECK(tree.count == 1);
    enum { N = 20000 };
    /* Node i's parent is a pseudo-random earlier node: deep and wide. */
    uint32_t *parent = malloc(sizeof(uint32_t) * (N + 1));
    pyprof_node_id_t *id = malloc(sizeof(pyprof_node_id_t) * (N + 1));
    id[0] = PYPROF_ROOT_NODE;
    int ok = 1;
    for (uint32_t i = 1; i <= N; i++) {
        parent[i] = (uint32_t)((((uint64_t)i * 2654435761u) >> 7) % i);
        id[i] = pyprof_calltree_add(&tree, id[parent[i]], key_of(i), i);
        ok &= id[i] != PYPROF_ROOT_NODE;
        ok &= tree.nodes[id[i]].parent == id[parent[i]];
        ok &= id[i] > id[parent[i]]; /* export walks rely on it */
    }
    CHECK(ok);
    CHECK(tree.count == N + 1);
    int found = 1, absent = 1;
    for (uint32_t i = 1; i <= N; i++) {
        found &= pyprof_calltree_find(&tree, id[parent[i]], key_of(i))
                 == id[i];
        found &= tree.nodes[id[i]].func == i;
        /* A key never used anywhere. */
        absent &= pyprof_calltree_find(&tree, id[parent[i]], key_of(N + i))
                  == PYPROF_ROOT_NODE;
    }
    CHECK(found);
    CHECK(absent);
    pyprof_calltree_reset(&tree);
    CHECK(tree.count == 1);
    CHECK(pyprof_calltree_find(&tree, PYPROF_ROOT_NODE, key_of(1))
          == PYPROF_ROOT_NODE);
    free(parent);
    free(id);
    pyprof_calltree_free(&tree);
}

static void
test_ptrmap(void)
{
    pyprof_ptrmap_t map;
    CHECK(pyprof_ptrmap_init(&map) == 0);
    int ok = 1;
    for (uint32_t i = 0; i < 10000; i++) {
        ok &= pyprof_ptrmap_set(&map, key_of(i * 3), i) == 0;
    }
    CHECK(ok);
    CHECK(map.count == 10000);
    uint32_t value = 0;
    ok = 1;
    for (uint32_t i = 0; i < 10000; i++) {
        ok &= pyprof_ptrmap_get(&map, key_of(i * 3), &value) == 1;
        ok &= value == i;
        ok &= pyprof_ptrmap_get(&map, key_of(i * 3 + 1), &value) == 0;
    }
    CHECK(ok);
    CHECK(pyprof_ptrmap_set(&map, key_of(0), 77) == 0); /* replace */
    CHECK(pyprof_ptrmap_get(&map, key_of(0), &value) == 1 && value == 77);
    CHECK(map.count == 10000);
    pyprof_ptrmap_clear(&map);
    CHECK(pyprof_ptrmap_get(&map, key_of(3), &value) == 0);
    pyprof_ptrmap_free(&map);
}

void
test_calltree(void)
{
    test_tree_lookup_after_growth();
    test_ptrmap();
}
