/* codecache.h - what the sampler remembers about the target's code.
 *
 * Two tables.  Functions: (name, file name, first line) interned once,
 * each with a small dense id; the strings live until the cache is freed,
 * so the pointers handed to consumers never dangle.  Code objects: the
 * remote address of a code object -> its function id and its line table,
 * decoded once (linetable.h: a binary search per frame, not a walk), plus the fields the entry was filled from (name, file name,
 * line table pointers, first line) -- the generation check: a code object
 * freed and another allocated at the same address differs in them, and
 * the entry is refilled.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_SAMPLER_CODECACHE_H
#define PYPROF_SAMPLER_CODECACHE_H

#include <stddef.h>
#include <stdint.h>

#include "linetable.h"

typedef struct {
    uint64_t name;       /* remote pointers of the code object's fields */
    uint64_t filename;
    uint64_t linetable;
    int32_t firstlineno;
} pyprof_code_key_t;

typedef struct {
    uint64_t addr;             /* the remote code object; 0: empty slot */
    pyprof_code_key_t key;
    uint32_t function_id;
    pyprof_line_range_t *lines; /* owned: the decoded line table */
    size_t nlines;
    uint64_t checked;          /* the sample that last matched the key
                                  against the target (0: none) */
} pyprof_code_entry_t;

typedef struct {
    char *name;                /* owned */
    char *filename;            /* owned */
    int firstlineno;
} pyprof_function_t;

typedef struct {
    pyprof_code_entry_t *codes;   /* open addressing on addr */
    size_t code_capacity, code_count;
    pyprof_function_t *functions; /* [0] unused: ids start at 1 */
    size_t function_count, function_capacity;
    uint32_t *function_slots;     /* open addressing: ids, 0 empty */
    size_t slot_capacity;
} pyprof_codecache_t;

void pyprof_codecache_init(pyprof_codecache_t *cache);
void pyprof_codecache_clear(pyprof_codecache_t *cache);

/* The entry of the code object at `addr` when its key still matches, else
 * NULL (a miss: the caller reads the object and calls _store). */
pyprof_code_entry_t *pyprof_codecache_find(pyprof_codecache_t *cache,
                                           uint64_t addr,
                                           const pyprof_code_key_t *key);

/* The entry of the code object at `addr` when it was already checked
 * against the target during sample `sample` (its `checked`), else NULL:
 * a deep recursion reads each code object once per sample, not once per
 * frame. */
pyprof_code_entry_t *pyprof_codecache_checked(pyprof_codecache_t *cache,
                                              uint64_t addr, uint64_t sample);

/* Remember the code object at `addr`: takes ownership of `name`,
 * `filename` (malloc'd strings) and `lines` (nlines decoded ranges) in
 * every case.  Returns
 * the entry, or NULL when out of memory. */
pyprof_code_entry_t *pyprof_codecache_store(pyprof_codecache_t *cache,
                                            uint64_t addr,
                                            const pyprof_code_key_t *key,
                                            char *name, char *filename,
                                            pyprof_line_range_t *lines,
                                            size_t nlines);

/* The function with id `id` (>= 1), or NULL. */
const pyprof_function_t *pyprof_codecache_function(
    const pyprof_codecache_t *cache, uint32_t id);

#endif
