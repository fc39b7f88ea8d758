/* ptrmap.c - pointer -> uint32 open-addressing map. */
#include "ptrmap.h"

#include <stdlib.h>
#include <string.h>

#define INITIAL_SLOTS 256

static size_t
hash_pointer(const void *key)
{
    uint64_t h = (uint64_t)(uintptr_t)key;
    h ^= h >> 33;
    h *= UINT64_C(0xFF51AFD7ED558CCD);
    h ^= h >> 33;
    return (size_t)h;
}

int
pyprof_ptrmap_init(pyprof_ptrmap_t *map)
{
    map->slots = calloc(INITIAL_SLOTS, sizeof(*map->slots));
    map->mask = INITIAL_SLOTS - 1;
    map->count = 0;
    return map->slots == NULL ? -1 : 0;
}

void
pyprof_ptrmap_free(pyprof_ptrmap_t *map)
{
    free(map->slots);
    memset(map, 0, sizeof(*map));
}

void
pyprof_ptrmap_clear(pyprof_ptrmap_t *map)
{
    if (map->slots != NULL) {
        memset(map->slots, 0, (map->mask + 1) * sizeof(*map->slots));
    }
    map->count = 0;
}

int
pyprof_ptrmap_get(const pyprof_ptrmap_t *map, const void *key,
                  uint32_t *value)
{
    size_t i = hash_pointer(key) & map->mask;
    for (;;) {
        const pyprof_ptrmap_slot_t *slot = &map->slots[i];
        if (slot->key == key) {
            *value = slot->value;
            return 1;
        }
        if (slot->key == NULL) {
            return 0;
        }
        i = (i + 1) & map->mask;
    }
}

static void
insert_unchecked(pyprof_ptrmap_slot_t *slots, size_t mask, const void *key,
                 uint32_t value)
{
    size_t i = hash_pointer(key) & mask;
    while (slots[i].key != NULL && slots[i].key != key) {
        i = (i + 1) & mask;
    }
    slots[i].key = key;
    slots[i].value = value;
}

int
pyprof_ptrmap_set(pyprof_ptrmap_t *map, const void *key, uint32_t value)
{
    uint32_t old;
    if (pyprof_ptrmap_get(map, key, &old)) {
        insert_unchecked(map->slots, map->mask, key, value);
        return 0;
    }
    if ((map->count + 1) * 2 > map->mask + 1) {
        size_t nslots = (map->mask + 1) * 2;
        pyprof_ptrmap_slot_t *slots = calloc(nslots, sizeof(*slots));
        if (slots == NULL) {
            return -1;
        }
        for (size_t j = 0; j <= map->mask; j++) {
            if (map->slots[j].key != NULL) {
                insert_unchecked(slots, nslots - 1, map->slots[j].key,
                                 map->slots[j].value);
            }
        }
        free(map->slots);
        map->slots = slots;
        map->mask = nslots - 1;
    }
    insert_unchecked(map->slots, map->mask, key, value);
    map->count++;
    return 0;
}
