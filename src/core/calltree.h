/* calltree.h - a calling-context tree: one node per distinct call path.
 *
 * The function profiler records into this tree rather than into a flat
 * per-function table, so exact call paths survive for icicles and flame
 * graphs, while pstats' per-function and per-caller numbers (including
 * cProfile's recursion rules) are derived from it at export.
 *
 * Nodes live in one array and are named by 32-bit ids; id 0 is the root
 * and is nobody's child.  A child is found by (parent id, key) in a single
 * open-addressing table, so a call costs one probe in the common case.
 * Keys are opaque non-NULL pointers chosen by the caller (the engine uses
 * code objects and PyMethodDef addresses, tagged).  A node's parent always
 * has a smaller id than the node: export walks rely on it.
 *
 * Plain C: never includes Python.h.  Not thread-safe: the engine calls it
 * with the GIL held.
 */
#ifndef PYPROF_CALLTREE_H
#define PYPROF_CALLTREE_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"

typedef uint32_t pyprof_node_id_t;

#define PYPROF_ROOT_NODE ((pyprof_node_id_t)0)

typedef struct {
    const void *key;            /* function identity; NULL for the root */
    pyprof_node_id_t parent;
    uint32_t func;              /* the owner's function-table index */
    int64_t calls;              /* completed calls along this path */
    pyprof_ticks_t tottime;     /* time in the function itself */
    pyprof_ticks_t cumtime;     /* time including callees, every call;
                                   both in the owner's clock ticks */
    /* Guesses of the owner's hot path, so that most calls find their
     * node without a probe of the table; NULL keys until learnt.
     * guess_key[0] / guess_child[0]: the child last entered first from a
     * call along this path; [1]: the sibling (same parent) last entered
     * right after this node.  A guess is only ever a real child of the
     * parent it is looked up for, so a stale one just misses. */
    const void *guess_key[2];
    pyprof_node_id_t guess_child[2];
} pyprof_node_t;

typedef struct {
    const void *key;            /* NULL marks an empty slot */
    pyprof_node_id_t parent;
    pyprof_node_id_t child;
} pyprof_calltree_slot_t;

typedef struct {
    pyprof_node_t *nodes;       /* nodes[0] is the root */
    uint32_t count;             /* nodes in use, root included */
    uint32_t capacity;
    pyprof_calltree_slot_t *slots;
    size_t mask;                /* slot count - 1 (a power of two) */
} pyprof_calltree_t;

/* An empty tree holding only the root.  Returns 0, or -1 when out of
 * memory (the tree is then safe to free). */
int pyprof_calltree_init(pyprof_calltree_t *tree);

/* Release everything the tree owns. */
void pyprof_calltree_free(pyprof_calltree_t *tree);

/* Drop every node but the root, keeping allocations. */
void pyprof_calltree_reset(pyprof_calltree_t *tree);

static inline size_t
pyprof_calltree_hash(pyprof_node_id_t parent, const void *key)
{
    uint64_t h = ((uint64_t)(uintptr_t)key >> 3) ^
                 ((uint64_t)parent * UINT64_C(0x9E3779B97F4A7C15));
    h *= UINT64_C(0xBF58476D1CE4E5B9);
    return (size_t)(h ^ (h >> 31));
}

/* The child of `parent` with `key`, or PYPROF_ROOT_NODE if there is none.
 * Inline: this is the profiler's per-call lookup. */
static inline pyprof_node_id_t
pyprof_calltree_find(const pyprof_calltree_t *tree, pyprof_node_id_t parent,
                     const void *key)
{
    size_t i = pyprof_calltree_hash(parent, key) & tree->mask;
    for (;;) {
        const pyprof_calltree_slot_t *slot = &tree->slots[i];
        if (slot->key == key && slot->parent == parent) {
            return slot->child;
        }
        if (slot->key == NULL) {
            return PYPROF_ROOT_NODE;
        }
        i = (i + 1) & tree->mask;
    }
}

/* Add a child of `parent` with `key` (which must not exist yet) recording
 * function index `func`.  Returns its id, or PYPROF_ROOT_NODE when out of
 * memory.  Invalidates pointers into tree->nodes. */
pyprof_node_id_t pyprof_calltree_add(pyprof_calltree_t *tree,
                                     pyprof_node_id_t parent,
                                     const void *key, uint32_t func);

#endif
