/* blockmap.c - address -> block map: storage and growth (the probes are
 * inline in blockmap.h). */
#include "blockmap.h"

#include <stdlib.h>
#include <string.h>

#define INITIAL_SLOTS_LOG2 12

int
pyprof_blockmap_init(pyprof_blockmap_t *map)
{
    size_t nslots = (size_t)1 << INITIAL_SLOTS_LOG2;
    map->slots = calloc(nslots, sizeof(*map->slots));
    map->mask = nslots - 1;
    map->shift = 64 - INITIAL_SLOTS_LOG2;
    map->count = 0;
    return map->slots == NULL ? -1 : 0;
}

void
pyprof_blockmap_free(pyprof_blockmap_t *map)
{
    free(map->slots);
    memset(map, 0, sizeof(*map));
}

int
pyprof_blockmap_grow(pyprof_blockmap_t *map)
{
    pyprof_blockmap_t bigger = {
        .mask = (map->mask + 1) * 2 - 1,
        .shift = map->shift - 1,
        .count = map->count,
    };
    bigger.slots = calloc(bigger.mask + 1, sizeof(*bigger.slots));
    if (bigger.slots == NULL) {
        return -1;
    }
    for (size_t j = 0; j <= map->mask; j++) {
        if (map->slots[j].address != 0) {
            *pyprof_blockmap_probe(&bigger, map->slots[j].address) =
                map->slots[j];
        }
    }
    free(map->slots);
    *map = bigger;
    return 0;
}
