/* ptrmap.h - a map from non-NULL pointers to 32-bit values.
 *
 * Open addressing, linear probing, at most half full, no deletion: the
 * engine uses it for identities that live as long as a profile (code
 * objects held by a strong reference, PyMethodDef addresses).
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_PTRMAP_H
#define PYPROF_PTRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const void *key;    /* NULL marks an empty slot */
    uint32_t value;
} pyprof_ptrmap_slot_t;

typedef struct {
    pyprof_ptrmap_slot_t *slots;
    size_t mask;        /* slot count - 1 */
    size_t count;
} pyprof_ptrmap_t;

/* An empty map.  Returns 0, or -1 when out of memory. */
int pyprof_ptrmap_init(pyprof_ptrmap_t *map);
void pyprof_ptrmap_free(pyprof_ptrmap_t *map);
void pyprof_ptrmap_clear(pyprof_ptrmap_t *map);

/* Look `key` up: 1 and *value set when present, else 0. */
int pyprof_ptrmap_get(const pyprof_ptrmap_t *map, const void *key,
                      uint32_t *value);

/* Set key -> value (replacing).  Returns 0, or -1 when out of memory. */
int pyprof_ptrmap_set(pyprof_ptrmap_t *map, const void *key, uint32_t value);

#endif
