/* blockmap.c - address -> block map with backward-shift deletion. */
#include "blockmap.h"

#include <stdlib.h>
#include <string.h>

#define INITIAL_SLOTS 4096

static size_t
hash_address(uintptr_t address)
{
    uint64_t h = (uint64_t)address;
    h ^= h >> 33;
    h *= UINT64_C(0xFF51AFD7ED558CCD);
    h ^= h >> 33;
    return (size_t)h;
}

int
pyprof_blockmap_init(pyprof_blockmap_t *map)
{
    map->slots = calloc(INITIAL_SLOTS, sizeof(*map->slots));
    map->mask = INITIAL_SLOTS - 1;
    map->count = 0;
    return map->slots == NULL ? -1 : 0;
}

void
pyprof_blockmap_free(pyprof_blockmap_t *map)
{
    free(map->slots);
    memset(map, 0, sizeof(*map));
}

pyprof_block_t *
pyprof_blockmap_get(const pyprof_blockmap_t *map, uintptr_t address)
{
    if (map->slots == NULL || address == 0) {
        return NULL;
    }
    size_t i = hash_address(address) & map->mask;
    for (;;) {
        pyprof_block_t *slot = &map->slots[i];
        if (slot->address == address) {
            return slot;
        }
        if (slot->address == 0) {
            return NULL;
        }
        i = (i + 1) & map->mask;
    }
}

static void
insert_unchecked(pyprof_block_t *slots, size_t mask,
                 const pyprof_block_t *block)
{
    size_t i = hash_address(block->address) & mask;
    while (slots[i].address != 0 && slots[i].address != block->address) {
        i = (i + 1) & mask;
    }
    slots[i] = *block;
}

static int
grow(pyprof_blockmap_t *map)
{
    size_t nslots = (map->mask + 1) * 2;
    pyprof_block_t *slots = calloc(nslots, sizeof(*slots));
    if (slots == NULL) {
        return -1;
    }
    for (size_t j = 0; j <= map->mask; j++) {
        if (map->slots[j].address != 0) {
            insert_unchecked(slots, nslots - 1, &map->slots[j]);
        }
    }
    free(map->slots);
    map->slots = slots;
    map->mask = nslots - 1;
    return 0;
}

/* One probe: the slot holding `address`, or the empty slot ending its
 * run (where it belongs). */
static pyprof_block_t *
probe(const pyprof_blockmap_t *map, uintptr_t address)
{
    size_t i = hash_address(address) & map->mask;
    while (map->slots[i].address != address && map->slots[i].address != 0) {
        i = (i + 1) & map->mask;
    }
    return &map->slots[i];
}

int
pyprof_blockmap_put(pyprof_blockmap_t *map, uintptr_t address, size_t size,
                    uint32_t site)
{
    pyprof_block_t block = {address, size, site};
    pyprof_block_t *slot = probe(map, address);
    if (slot->address == 0) {
        if ((map->count + 1) * 2 > map->mask + 1) {
            if (grow(map) < 0) {
                return -1;
            }
            slot = probe(map, address);
        }
        map->count++;
    }
    *slot = block;
    return 0;
}

int
pyprof_blockmap_remove(pyprof_blockmap_t *map, uintptr_t address,
                       pyprof_block_t *removed)
{
    pyprof_block_t *slot = pyprof_blockmap_get(map, address);
    if (slot == NULL) {
        return 0;
    }
    if (removed != NULL) {
        *removed = *slot;
    }
    /* Backward-shift: pull later members of the probe run into the hole
     * whenever their home slot does not lie cyclically in (hole, j]. */
    size_t hole = (size_t)(slot - map->slots);
    size_t j = hole;
    for (;;) {
        j = (j + 1) & map->mask;
        if (map->slots[j].address == 0) {
            break;
        }
        size_t home = hash_address(map->slots[j].address) & map->mask;
        int home_in_range = hole <= j ? (hole < home && home <= j)
                                      : (hole < home || home <= j);
        if (!home_in_range) {
            map->slots[hole] = map->slots[j];
            hole = j;
        }
    }
    map->slots[hole].address = 0;
    map->count--;
    return 1;
}
