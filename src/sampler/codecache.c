/* codecache.c - the code-object and function tables (see codecache.h).
 *
 * Both are open-addressing hash tables with linear probing, grown at half
 * full.  A code entry is overwritten in place when its address comes back
 * with another key; functions are never removed (bounded by the number of
 * distinct functions the target ever ran, and capped).
 */
#include <stdlib.h>
#include <string.h>

#include "codecache.h"

#define MAX_FUNCTIONS (1u << 22)
#define MAX_CODES (1u << 22)

static uint64_t
hash_u64(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    return x;
}

static uint64_t
hash_function(const char *name, const char *filename, int firstlineno)
{
    uint64_t h = UINT64_C(1469598103934665603);
    for (const char *p = name; *p; p++) {
        h = (h ^ (unsigned char)*p) * UINT64_C(1099511628211);
    }
    h = (h ^ 0xff) * UINT64_C(1099511628211);
    for (const char *p = filename; *p; p++) {
        h = (h ^ (unsigned char)*p) * UINT64_C(1099511628211);
    }
    return hash_u64(h ^ (uint64_t)(uint32_t)firstlineno);
}

void
pyprof_codecache_init(pyprof_codecache_t *cache)
{
    memset(cache, 0, sizeof(*cache));
}

void
pyprof_codecache_clear(pyprof_codecache_t *cache)
{
    for (size_t i = 0; i < cache->code_capacity; i++) {
        free(cache->codes[i].lines);
    }
    free(cache->codes);
    for (size_t i = 1; i < cache->function_count; i++) {
        free(cache->functions[i].name);
        free(cache->functions[i].filename);
    }
    free(cache->functions);
    free(cache->function_slots);
    memset(cache, 0, sizeof(*cache));
}

static int
same_key(const pyprof_code_key_t *a, const pyprof_code_key_t *b)
{
    return a->name == b->name && a->filename == b->filename
           && a->linetable == b->linetable && a->firstlineno == b->firstlineno;
}

static pyprof_code_entry_t *
code_slot(pyprof_code_entry_t *codes, size_t capacity, uint64_t addr)
{
    size_t mask = capacity - 1;
    size_t i = hash_u64(addr) & mask;
    while (codes[i].addr != 0 && codes[i].addr != addr) {
        i = (i + 1) & mask;
    }
    return &codes[i];
}

pyprof_code_entry_t *
pyprof_codecache_find(pyprof_codecache_t *cache, uint64_t addr,
                      const pyprof_code_key_t *key)
{
    if (cache->code_capacity == 0 || addr == 0) {
        return NULL;
    }
    pyprof_code_entry_t *entry =
        code_slot(cache->codes, cache->code_capacity, addr);
    if (entry->addr == addr && same_key(&entry->key, key)) {
        return entry;
    }
    return NULL;
}

pyprof_code_entry_t *
pyprof_codecache_checked(pyprof_codecache_t *cache, uint64_t addr,
                         uint64_t sample)
{
    if (cache->code_capacity == 0 || addr == 0) {
        return NULL;
    }
    pyprof_code_entry_t *entry =
        code_slot(cache->codes, cache->code_capacity, addr);
    return entry->addr == addr && entry->checked == sample ? entry : NULL;
}

static int
grow_codes(pyprof_codecache_t *cache)
{
    size_t capacity = cache->code_capacity ? cache->code_capacity * 2 : 256;
    if (capacity > MAX_CODES) {
        return -1;
    }
    pyprof_code_entry_t *codes = calloc(capacity, sizeof(*codes));
    if (codes == NULL) {
        return -1;
    }
    for (size_t i = 0; i < cache->code_capacity; i++) {
        if (cache->codes[i].addr != 0) {
            *code_slot(codes, capacity, cache->codes[i].addr) =
                cache->codes[i];
        }
    }
    free(cache->codes);
    cache->codes = codes;
    cache->code_capacity = capacity;
    return 0;
}

static int
grow_function_slots(pyprof_codecache_t *cache)
{
    size_t capacity = cache->slot_capacity ? cache->slot_capacity * 2 : 256;
    uint32_t *slots = calloc(capacity, sizeof(*slots));
    if (slots == NULL) {
        return -1;
    }
    for (size_t id = 1; id < cache->function_count; id++) {
        const pyprof_function_t *f = &cache->functions[id];
        size_t i = hash_function(f->name, f->filename, f->firstlineno)
                   & (capacity - 1);
        while (slots[i] != 0) {
            i = (i + 1) & (capacity - 1);
        }
        slots[i] = (uint32_t)id;
    }
    free(cache->function_slots);
    cache->function_slots = slots;
    cache->slot_capacity = capacity;
    return 0;
}

/* The id of (name, filename, firstlineno), interned when new: takes the
 * strings (frees them when already known).  0 when out of memory. */
static uint32_t
intern_function(pyprof_codecache_t *cache, char *name, char *filename,
                int firstlineno)
{
    if (cache->function_count == 0) {
        cache->function_count = 1; /* id 0 is "none" */
    }
    if ((cache->function_count + 1) * 2 > cache->slot_capacity
        && grow_function_slots(cache) < 0) {
        goto fail;
    }
    size_t mask = cache->slot_capacity - 1;
    size_t i = hash_function(name, filename, firstlineno) & mask;
    for (; cache->function_slots[i] != 0; i = (i + 1) & mask) {
        pyprof_function_t *f = &cache->functions[cache->function_slots[i]];
        if (f->firstlineno == firstlineno && strcmp(f->name, name) == 0
            && strcmp(f->filename, filename) == 0) {
            free(name);
            free(filename);
            return cache->function_slots[i];
        }
    }
    if (cache->function_count >= MAX_FUNCTIONS) {
        goto fail;
    }
    if (cache->function_count >= cache->function_capacity) {
        size_t capacity =
            cache->function_capacity ? cache->function_capacity * 2 : 256;
        pyprof_function_t *grown =
            realloc(cache->functions, capacity * sizeof(*grown));
        if (grown == NULL) {
            goto fail;
        }
        cache->functions = grown;
        cache->function_capacity = capacity;
    }
    uint32_t id = (uint32_t)cache->function_count++;
    cache->functions[id].name = name;
    cache->functions[id].filename = filename;
    cache->functions[id].firstlineno = firstlineno;
    cache->function_slots[i] = id;
    return id;
fail:
    free(name);
    free(filename);
    return 0;
}

pyprof_code_entry_t *
pyprof_codecache_store(pyprof_codecache_t *cache, uint64_t addr,
                       const pyprof_code_key_t *key, char *name,
                       char *filename, pyprof_line_range_t *lines,
                       size_t nlines)
{
    uint32_t id = intern_function(cache, name, filename, key->firstlineno);
    if (id == 0 || addr == 0) {
        free(lines);
        return NULL;
    }
    if ((cache->code_count + 1) * 2 > cache->code_capacity
        && grow_codes(cache) < 0) {
        free(lines);
        return NULL;
    }
    pyprof_code_entry_t *entry =
        code_slot(cache->codes, cache->code_capacity, addr);
    if (entry->addr == 0) {
        cache->code_count++;
    }
    free(entry->lines);
    entry->addr = addr;
    entry->key = *key;
    entry->function_id = id;
    entry->lines = lines;
    entry->nlines = nlines;
    entry->checked = 0;
    return entry;
}

const pyprof_function_t *
pyprof_codecache_function(const pyprof_codecache_t *cache, uint32_t id)
{
    if (id == 0 || id >= cache->function_count) {
        return NULL;
    }
    return &cache->functions[id];
}
