/* calltree.c - node storage and the (parent, key) -> child table.
 *
 * The table is kept at most half full so probes stay short; it only grows
 * (a profile never forgets a path until reset), so there are no tombstones.
 */
#include "calltree.h"

#include <stdlib.h>
#include <string.h>

#define INITIAL_NODES 1024
#define INITIAL_SLOTS 2048

int
pyprof_calltree_init(pyprof_calltree_t *tree)
{
    memset(tree, 0, sizeof(*tree));
    tree->nodes = calloc(INITIAL_NODES, sizeof(pyprof_node_t));
    tree->slots = calloc(INITIAL_SLOTS, sizeof(pyprof_calltree_slot_t));
    if (tree->nodes == NULL || tree->slots == NULL) {
        pyprof_calltree_free(tree);
        return -1;
    }
    tree->capacity = INITIAL_NODES;
    tree->mask = INITIAL_SLOTS - 1;
    tree->count = 1; /* the root, all zeros */
    return 0;
}

void
pyprof_calltree_free(pyprof_calltree_t *tree)
{
    free(tree->nodes);
    free(tree->slots);
    memset(tree, 0, sizeof(*tree));
}

void
pyprof_calltree_reset(pyprof_calltree_t *tree)
{
    memset(tree->slots, 0, (tree->mask + 1) * sizeof(*tree->slots));
    memset(&tree->nodes[0], 0, sizeof(tree->nodes[0]));
    tree->count = 1;
}

/* Double the slot table and reinsert every edge.  -1 when out of memory
 * (the old table stays valid). */
static int
grow_slots(pyprof_calltree_t *tree)
{
    size_t nslots = (tree->mask + 1) * 2;
    pyprof_calltree_slot_t *slots = calloc(nslots, sizeof(*slots));
    if (slots == NULL) {
        return -1;
    }
    size_t mask = nslots - 1;
    for (size_t j = 0; j <= tree->mask; j++) {
        const pyprof_calltree_slot_t *old = &tree->slots[j];
        if (old->key == NULL) {
            continue;
        }
        size_t i = pyprof_calltree_hash(old->parent, old->key) & mask;
        while (slots[i].key != NULL) {
            i = (i + 1) & mask;
        }
        slots[i] = *old;
    }
    free(tree->slots);
    tree->slots = slots;
    tree->mask = mask;
    return 0;
}

static int
grow_nodes(pyprof_calltree_t *tree)
{
    if (tree->capacity > UINT32_MAX / 2) {
        return -1;
    }
    uint32_t capacity = tree->capacity * 2;
    pyprof_node_t *nodes = realloc(tree->nodes, capacity * sizeof(*nodes));
    if (nodes == NULL) {
        return -1;
    }
    tree->nodes = nodes;
    tree->capacity = capacity;
    return 0;
}

pyprof_node_id_t
pyprof_calltree_add(pyprof_calltree_t *tree, pyprof_node_id_t parent,
                    const void *key, uint32_t func)
{
    if (tree->count == tree->capacity && grow_nodes(tree) < 0) {
        return PYPROF_ROOT_NODE;
    }
    if ((size_t)tree->count * 2 > tree->mask && grow_slots(tree) < 0) {
        return PYPROF_ROOT_NODE;
    }
    pyprof_node_id_t id = tree->count++;
    pyprof_node_t *node = &tree->nodes[id];
    memset(node, 0, sizeof(*node));
    node->key = key;
    node->parent = parent;
    node->func = func;
    size_t i = pyprof_calltree_hash(parent, key) & tree->mask;
    while (tree->slots[i].key != NULL) {
        i = (i + 1) & tree->mask;
    }
    tree->slots[i].key = key;
    tree->slots[i].parent = parent;
    tree->slots[i].child = id;
    return id;
}
