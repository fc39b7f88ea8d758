/* dicts.h - dicts, ints and object attributes read out of a target.
 *
 * What the thread names (threadnames.h) need from the target's objects:
 * the items of a dict (compact dict keys of every version, combined or
 * split), the attributes of an instance of a Python class (its __dict__,
 * or the values it keeps itself with its type's shared keys: managed and
 * inline values from 3.11 on), an int that fits 64 bits, and whether a
 * str equals an ASCII name.  Like objects.h every read is bounded and
 * checked: a dict larger than the cap, or with an impossible header, is
 * refused with PYPROF_SAMPLER_INCONSISTENT.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_SAMPLER_DICTS_H
#define PYPROF_SAMPLER_DICTS_H

#include <stddef.h>
#include <stdint.h>

#include "objects.h"
#include "offsets.h"

#define PYPROF_MAX_DICT_ENTRIES 65536

/* One item of a remote dict: the addresses of its key and value. */
typedef struct {
    uint64_t key;
    uint64_t value;
} pyprof_dict_item_t;

/* The items of a dict, in a malloc'd array the caller frees with
 * pyprof_dict_items_free(). */
typedef struct {
    pyprof_dict_item_t *items;
    size_t count;
} pyprof_dict_items_t;

void pyprof_dict_items_free(pyprof_dict_items_t *items);

/* The items of the dict object at `dict_addr` into *out (empty first).
 * Returns 0 or a status (out is then empty). */
int pyprof_remote_dict_items(pyprof_remote_t *remote,
                             const pyprof_layout_t *layout,
                             uint64_t dict_addr, pyprof_dict_items_t *out);

/* The attributes of the instance at `obj_addr` (a Python class's object:
 * its __dict__ or the values it holds with its type's shared keys) into
 * *out.  Returns 0 or a status (out is then empty). */
int pyprof_remote_attributes(pyprof_remote_t *remote,
                             const pyprof_layout_t *layout,
                             uint64_t obj_addr, pyprof_dict_items_t *out);

/* *equal = 1 when the str at `addr` is the ASCII text `ascii`, else 0.
 * Returns 0 or the status of a failed read. */
int pyprof_remote_str_equals(pyprof_remote_t *remote,
                             const pyprof_layout_t *layout, uint64_t addr,
                             const char *ascii, int *equal);

/* The value of the item of `items` whose key is the str `ascii` into
 * *value (0 when there is none).  *key_hint is the address of the key
 * last found (0 at first): a key at that address is taken without reading
 * it, and the key found is stored there.  Returns 0 or a status. */
int pyprof_remote_find_str(pyprof_remote_t *remote,
                           const pyprof_layout_t *layout,
                           const pyprof_dict_items_t *items,
                           const char *ascii, uint64_t *key_hint,
                           uint64_t *value);

/* The int at `addr`, when it is >= 0 and fits 64 bits, into *value.
 * Returns 0, or INCONSISTENT for another int (or not an int's bytes). */
int pyprof_remote_u64_int(pyprof_remote_t *remote,
                          const pyprof_layout_t *layout, uint64_t addr,
                          uint64_t *value);

#endif
