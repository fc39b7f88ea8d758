/* blockmap.h - live memory blocks: address -> (size, allocation site).
 *
 * The allocation hooks record every block allocated while tracking and
 * forget it when it is freed, so the map must delete: open addressing with
 * linear probing and backward-shift deletion (no tombstones, so a long run
 * of malloc/free pairs never degrades the probes).  At most half full.
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

typedef struct {
    uintptr_t address;  /* 0 marks an empty slot */
    size_t size;
    uint32_t site;      /* index into the caller's site table */
} pyprof_block_t;

typedef struct {
    pyprof_block_t *slots;
    size_t mask;        /* slot count - 1 */
    size_t count;
} pyprof_blockmap_t;

/* An empty map.  Returns 0, or -1 when out of memory. */
int pyprof_blockmap_init(pyprof_blockmap_t *map);

/* Release the storage; the map is empty and unusable until init. */
void pyprof_blockmap_free(pyprof_blockmap_t *map);

/* The block at `address`, or NULL (borrowed: valid until the next put or
 * remove). */
pyprof_block_t *pyprof_blockmap_get(const pyprof_blockmap_t *map,
                                    uintptr_t address);

/* Record (or replace) the block at `address` (non-zero).  Returns 0, or -1
 * when out of memory (the map is unchanged). */
int pyprof_blockmap_put(pyprof_blockmap_t *map, uintptr_t address,
                        size_t size, uint32_t site);

/* Forget the block at `address`: returns 1 and copies it to *removed
 * (which may be NULL) when it was there, else 0. */
int pyprof_blockmap_remove(pyprof_blockmap_t *map, uintptr_t address,
                           pyprof_block_t *removed);

#endif
