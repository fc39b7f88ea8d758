/* blockmap.h - live memory blocks: address -> (size, allocation site).
 *
 * The allocation hooks record every block allocated while tracking and
 * forget it when it is freed, so the map must delete: open addressing with
 * linear probing and backward-shift deletion (no tombstones, so a long run
 * of malloc/free pairs never degrades the probes).  At most half full.
 *
 * It is on the path of every allocation and every free, so its fast paths
 * are inline here and kept small: a slot is 16 bytes (four to a cache
 * line), the size and the site packed in one word; the hash is one
 * multiplication (Fibonacci hashing of address >> 4: allocators hand out
 * 16-byte aligned blocks, and the product's top bits spread consecutive
 * ones over the table).
 *
 * The map's own storage comes from libc malloc, never from Python's
 * allocators, so growing it inside an allocation hook cannot recurse.
 * Not thread-safe: the caller holds its lock.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_BLOCKMAP_H
#define PYPROF_BLOCKMAP_H

#include <stddef.h>
#include <stdint.h>

/* What the map holds for a block. */
typedef struct {
    size_t size;
    uint32_t site;      /* index into the caller's site table */
} pyprof_block_t;

/* The largest size and site a slot holds (40 and 24 bits): a put of more
 * fails, as if out of memory. */
#define PYPROF_BLOCK_MAX_SIZE ((UINT64_C(1) << 40) - 1)
#define PYPROF_BLOCK_MAX_SITE ((UINT32_C(1) << 24) - 1)

typedef struct {
    uintptr_t address;  /* 0 marks an empty slot */
    uint64_t packed;    /* size << 24 | site */
} pyprof_blockmap_slot_t;

typedef struct {
    pyprof_blockmap_slot_t *slots;
    size_t mask;        /* slot count - 1 */
    unsigned shift;     /* 64 - log2(slot count) */
    size_t count;
} pyprof_blockmap_t;

/* An empty map.  Returns 0, or -1 when out of memory. */
int pyprof_blockmap_init(pyprof_blockmap_t *map);

/* Release the storage; the map is empty and unusable until init. */
void pyprof_blockmap_free(pyprof_blockmap_t *map);

/* Out of line part of pyprof_blockmap_put: doubles the slots.  Returns 0,
 * or -1 when out of memory (the map is unchanged). */
int pyprof_blockmap_grow(pyprof_blockmap_t *map);

/* The home slot of `address`. */
static inline size_t
pyprof_blockmap_home(const pyprof_blockmap_t *map, uintptr_t address)
{
    return (size_t)(((uint64_t)address >> 4) * UINT64_C(0x9E3779B97F4A7C15)
                    >> map->shift);
}

/* The slot holding `address`, or the empty slot ending its run (where it
 * belongs).  The map has slots. */
static inline pyprof_blockmap_slot_t *
pyprof_blockmap_probe(const pyprof_blockmap_t *map, uintptr_t address)
{
    size_t i = pyprof_blockmap_home(map, address);
    while (map->slots[i].address != address && map->slots[i].address != 0) {
        i = (i + 1) & map->mask;
    }
    return &map->slots[i];
}

static inline void
pyprof_blockmap_unpack(const pyprof_blockmap_slot_t *slot,
                       pyprof_block_t *block)
{
    block->size = (size_t)(slot->packed >> 24);
    block->site = (uint32_t)(slot->packed & PYPROF_BLOCK_MAX_SITE);
}

/* Returns 1 and copies the block at `address` to *block when it is there,
 * else 0. */
static inline int
pyprof_blockmap_get(const pyprof_blockmap_t *map, uintptr_t address,
                    pyprof_block_t *block)
{
    if (map->slots == NULL || address == 0) {
        return 0;
    }
    const pyprof_blockmap_slot_t *slot = pyprof_blockmap_probe(map, address);
    if (slot->address == 0) {
        return 0;
    }
    pyprof_blockmap_unpack(slot, block);
    return 1;
}

/* Record (or replace) the block at `address` (non-zero).  Returns 0, or -1
 * when out of memory or the size or site is too large for a slot (the map
 * is unchanged). */
static inline int
pyprof_blockmap_put(pyprof_blockmap_t *map, uintptr_t address, size_t size,
                    uint32_t site)
{
    if ((uint64_t)size > PYPROF_BLOCK_MAX_SIZE ||
        site > PYPROF_BLOCK_MAX_SITE) {
        return -1;
    }
    pyprof_blockmap_slot_t *slot = pyprof_blockmap_probe(map, address);
    if (slot->address == 0) {
        if ((map->count + 1) * 2 > map->mask + 1) {
            if (pyprof_blockmap_grow(map) < 0) {
                return -1;
            }
            slot = pyprof_blockmap_probe(map, address);
        }
        map->count++;
        slot->address = address;
    }
    slot->packed = (uint64_t)size << 24 | site;
    return 0;
}

/* Forget the block at `address`: returns 1 and copies it to *removed
 * (not NULL) when it was there, else 0. */
static inline int
pyprof_blockmap_remove(pyprof_blockmap_t *map, uintptr_t address,
                       pyprof_block_t *removed)
{
    if (map->slots == NULL || address == 0) {
        return 0;
    }
    pyprof_blockmap_slot_t *slots = map->slots;
    size_t mask = map->mask;
    size_t hole = pyprof_blockmap_home(map, address);
    while (slots[hole].address != address) {
        if (slots[hole].address == 0) {
            return 0;
        }
        hole = (hole + 1) & mask;
    }
    pyprof_blockmap_unpack(&slots[hole], removed);
    /* Backward shift: pull later members of the probe run into the hole
     * whenever their home does not lie cyclically in (hole, j], that is
     * whenever they are at least as far from home as from the hole. */
    for (size_t j = (hole + 1) & mask; slots[j].address != 0;
         j = (j + 1) & mask) {
        size_t home = pyprof_blockmap_home(map, slots[j].address);
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            slots[hole] = slots[j];
            hole = j;
        }
    }
    slots[hole].address = 0;
    map->count--;
    return 1;
}

#endif
