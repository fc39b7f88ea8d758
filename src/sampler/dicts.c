/* dicts.c - dicts, ints and attributes read out of a target (dicts.h).
 *
 * A dict is its keys object (header, hash indices, then dk_nentries
 * entries in insertion order) plus, for a split table, a values array
 * whose i-th slot belongs to the i-th entry.  The entries are read in one
 * read and the hash indices skipped: a lookup here walks the entries,
 * which is all the thread names need (a few dicts, read rarely).
 *
 * An instance of a Python class keeps its attributes, by version (the
 * layout's attrs_format): 3.10 in a dict at tp_dictoffset; 3.11 with a
 * "managed" dict, the values pointer at -32 and the dict at -24 before
 * the object; 3.12 one word at -24, a dict or (tagged with the low bit)
 * values - 1; 3.13+ the dict at -24, else the values inline after the
 * object (at tp_basicsize, behind a 4-byte header whose `valid` says
 * they are in use).  Values go with the type's shared keys
 * (ht_cached_keys).  Type flags of 3.11-3.15.
 */
#include <stdlib.h>
#include <string.h>

#include "dicts.h"
#include "sampler.h"

#define TPFLAGS_INLINE_VALUES (1ul << 2)   /* 3.13+ */
#define TPFLAGS_MANAGED_DICT (1ul << 4)    /* 3.11+ */
#define TPFLAGS_HEAPTYPE (1ul << 9)
#define KEYS_HEAD_BYTES 48                 /* 3.10's header is 40 */
#define KEYS_KIND_GENERAL 0
#define KEYS_KIND_SPLIT 2
#define MAX_NAME_CHARS 64                  /* the names looked up here */
#define HEADS_PER_GATHER 256

void
pyprof_dict_items_free(pyprof_dict_items_t *items)
{
    free(items->items);
    items->items = NULL;
    items->count = 0;
}

static uint64_t
load_u64(const unsigned char *bytes, size_t offset)
{
    uint64_t value;
    memcpy(&value, bytes + offset, sizeof(value));
    return value;
}

/* Where the entries of a keys object start and how they are laid out,
 * from its header. */
typedef struct {
    uint64_t entries;     /* remote address of entry 0 */
    size_t count;         /* dk_nentries */
    size_t entry_size;
    size_t key_at, value_at;
} keys_shape_t;

static int
keys_shape(const pyprof_layout_t *layout, uint64_t keys_addr,
           const unsigned char *head, keys_shape_t *shape)
{
    uint64_t indices_bytes, nentries, size;
    int general = 1;
    if (layout->dictkeys_format == PYPROF_DICTKEYS_310) {
        size = load_u64(head, 8);
        nentries = load_u64(head, 32);
        if (size < 8 || (size & (size - 1)) || size > (1u << 30)) {
            return PYPROF_SAMPLER_INCONSISTENT;
        }
        indices_bytes = size * (size <= 0xff ? 1 : size <= 0xffff ? 2 : 4);
        shape->entries = keys_addr + 40 + indices_bytes;
    }
    else {
        unsigned log2_size = head[8], log2_index_bytes = head[9];
        unsigned kind = head[10];
        if (log2_size < 3 || log2_size > 30 || log2_index_bytes < log2_size
            || log2_index_bytes > log2_size + 3 || kind > KEYS_KIND_SPLIT) {
            return PYPROF_SAMPLER_INCONSISTENT;
        }
        size = (uint64_t)1 << log2_size;
        nentries = load_u64(head, 24);
        indices_bytes = (uint64_t)1 << log2_index_bytes;
        shape->entries = keys_addr + 32 + indices_bytes;
        general = kind == KEYS_KIND_GENERAL;
    }
    if (nentries > size || nentries > PYPROF_MAX_DICT_ENTRIES
        || shape->entries < keys_addr) {
        return PYPROF_SAMPLER_INCONSISTENT;
    }
    shape->count = (size_t)nentries;
    shape->entry_size = general ? 24 : 16;
    shape->key_at = general ? 8 : 0;
    shape->value_at = general ? 16 : 8;
    return 0;
}

/* The items of the keys object at `keys_addr`; values from the array at
 * `values_addr` (a split table: at most `max_values` slots) when not 0,
 * else from the entries. */
static int
keys_items(pyprof_remote_t *remote, const pyprof_layout_t *layout,
           uint64_t keys_addr, uint64_t values_addr, size_t max_values,
           pyprof_dict_items_t *out)
{
    unsigned char head[KEYS_HEAD_BYTES];
    keys_shape_t shape;
    if (keys_addr == 0) {
        return PYPROF_SAMPLER_INCONSISTENT;
    }
    int rc = pyprof_remote_read(remote, keys_addr, head, sizeof(head));
    if (rc == 0) {
        rc = keys_shape(layout, keys_addr, head, &shape);
    }
    if (rc) {
        return rc;
    }
    size_t count = shape.count;
    if (values_addr && count > max_values) {
        count = max_values;
    }
    unsigned char *entries = malloc(count * shape.entry_size + 1);
    uint64_t *values = malloc(count * sizeof(*values) + 1);
    out->items = malloc(count * sizeof(*out->items) + 1);
    out->count = 0;
    if (entries == NULL || values == NULL || out->items == NULL) {
        rc = PYPROF_SAMPLER_NO_MEMORY;
        goto done;
    }
    pyprof_memory_read_t reads[2] = {
        {shape.entries, entries, count * shape.entry_size},
        {values_addr, values, count * sizeof(*values)},
    };
    rc = count ? pyprof_remote_readv(remote, reads, values_addr ? 2 : 1) : 0;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        const unsigned char *entry = entries + i * shape.entry_size;
        uint64_t key = load_u64(entry, shape.key_at);
        uint64_t value = values_addr ? values[i]
                                     : load_u64(entry, shape.value_at);
        if (key != 0 && value != 0) {
            out->items[out->count++] = (pyprof_dict_item_t){key, value};
        }
    }
done:
    free(entries);
    free(values);
    if (rc) {
        pyprof_dict_items_free(out);
    }
    return rc;
}

int
pyprof_remote_dict_items(pyprof_remote_t *remote,
                         const pyprof_layout_t *layout, uint64_t dict_addr,
                         pyprof_dict_items_t *out)
{
    uint64_t keys = 0, values = 0;
    out->items = NULL;
    out->count = 0;
    if (dict_addr == 0) {
        return PYPROF_SAMPLER_INCONSISTENT;
    }
    pyprof_memory_read_t reads[2] = {
        {dict_addr + layout->dict_keys, &keys, sizeof(keys)},
        {dict_addr + layout->dict_values, &values, sizeof(values)},
    };
    int rc = pyprof_remote_readv(remote, reads, 2);
    if (rc) {
        return rc;
    }
    return keys_items(remote, layout, keys,
                      values ? values + layout->values_header : 0,
                      PYPROF_MAX_DICT_ENTRIES, out);
}

/* The type fields the attributes of an instance depend on. */
typedef struct {
    uint64_t flags;
    int64_t basicsize;
    int64_t dictoffset;
    uint64_t cached_keys;
} type_fields_t;

static int
read_type(pyprof_remote_t *remote, const pyprof_layout_t *layout,
          uint64_t obj_addr, type_fields_t *type)
{
    uint64_t type_addr;
    int rc = pyprof_remote_u64(remote, obj_addr + layout->object_type,
                               &type_addr);
    if (rc || type_addr == 0) {
        return rc ? rc : PYPROF_SAMPLER_INCONSISTENT;
    }
    pyprof_memory_read_t reads[4] = {
        {type_addr + layout->type_flags, &type->flags, 8},
        {type_addr + layout->type_basicsize, &type->basicsize, 8},
        {type_addr + layout->type_dictoffset, &type->dictoffset, 8},
        {type_addr + layout->heaptype_cached_keys, &type->cached_keys, 8},
    };
    /* ht_cached_keys exists in heap types only: read it only there */
    rc = pyprof_remote_readv(remote, reads, 3);
    type->cached_keys = 0;
    if (rc == 0 && (type->flags & TPFLAGS_HEAPTYPE)) {
        rc = pyprof_remote_readv(remote, reads + 3, 1);
    }
    return rc;
}

/* Attributes kept as values with the type's shared keys. */
static int
shared_items(pyprof_remote_t *remote, const pyprof_layout_t *layout,
             const type_fields_t *type, uint64_t values_array,
             size_t max_values, pyprof_dict_items_t *out)
{
    if (type->cached_keys == 0 || values_array == 0) {
        return PYPROF_SAMPLER_INCONSISTENT;
    }
    return keys_items(remote, layout, type->cached_keys, values_array,
                      max_values, out);
}

/* 3.11+: the attributes of an instance whose type manages its dict. */
static int
managed_items(pyprof_remote_t *remote, const pyprof_layout_t *layout,
              uint64_t obj_addr, const type_fields_t *type,
              pyprof_dict_items_t *out)
{
    uint64_t words[2]; /* what lies at -32 and -24 */
    if (obj_addr < 32) {
        return PYPROF_SAMPLER_INCONSISTENT;
    }
    int rc = pyprof_remote_read(remote, obj_addr - 32, words, sizeof(words));
    if (rc) {
        return rc;
    }
    uint64_t dict = words[1];
    if (layout->attrs_format == PYPROF_ATTRS_311) {
        return dict ? pyprof_remote_dict_items(remote, layout, dict, out)
               : words[0] ? shared_items(remote, layout, type, words[0],
                                         PYPROF_MAX_DICT_ENTRIES, out)
                          : 0;
    }
    if (layout->attrs_format == PYPROF_ATTRS_312) {
        if (dict & 1) {
            return shared_items(remote, layout, type, dict + 1,
                                PYPROF_MAX_DICT_ENTRIES, out);
        }
        return dict ? pyprof_remote_dict_items(remote, layout, dict, out) : 0;
    }
    if (dict) {
        return pyprof_remote_dict_items(remote, layout, dict, out);
    }
    if (!(type->flags & TPFLAGS_INLINE_VALUES)) {
        return 0;
    }
    /* inline values: capacity, size, embedded, valid, then values[] */
    unsigned char header[4];
    if (type->basicsize < 16 || type->basicsize > (1 << 20)) {
        return PYPROF_SAMPLER_INCONSISTENT;
    }
    uint64_t values = obj_addr + (uint64_t)type->basicsize;
    rc = pyprof_remote_read(remote, values, header, sizeof(header));
    if (rc || !header[3]) {
        return rc ? rc : PYPROF_SAMPLER_INCONSISTENT;
    }
    return shared_items(remote, layout, type, values + layout->values_header,
                        header[0], out);
}

int
pyprof_remote_attributes(pyprof_remote_t *remote,
                         const pyprof_layout_t *layout, uint64_t obj_addr,
                         pyprof_dict_items_t *out)
{
    type_fields_t type;
    out->items = NULL;
    out->count = 0;
    if (obj_addr == 0) {
        return PYPROF_SAMPLER_INCONSISTENT;
    }
    int rc = read_type(remote, layout, obj_addr, &type);
    if (rc) {
        return rc;
    }
    if (layout->attrs_format != PYPROF_ATTRS_310
        && (type.flags & TPFLAGS_MANAGED_DICT)) {
        return managed_items(remote, layout, obj_addr, &type, out);
    }
    if (type.dictoffset <= 0 || type.dictoffset > (1 << 20)) {
        return PYPROF_SAMPLER_INCONSISTENT;
    }
    uint64_t dict;
    rc = pyprof_remote_u64(remote, obj_addr + (uint64_t)type.dictoffset,
                           &dict);
    if (rc || dict == 0) {
        return rc;
    }
    return pyprof_remote_dict_items(remote, layout, dict, out);
}

/* Whether a str's head (layout->unicode_ascii_size bytes) is a compact
 * ASCII string of `length` characters. */
static int
head_is_ascii_of(const pyprof_layout_t *layout, const unsigned char *head,
                 size_t length)
{
    uint32_t state;
    memcpy(&state, head + layout->unicode_state, sizeof(state));
    /* kind 1, compact, ascii (objects.c has the bit layout) */
    return ((state >> 2) & 7) == 1 && ((state >> 5) & 1)
           && ((state >> 6) & 1)
           && load_u64(head, layout->unicode_length) == length;
}

int
pyprof_remote_str_equals(pyprof_remote_t *remote,
                         const pyprof_layout_t *layout, uint64_t addr,
                         const char *ascii, int *equal)
{
    unsigned char head[256];
    char data[MAX_NAME_CHARS];
    size_t length = strlen(ascii);
    *equal = 0;
    if (addr == 0 || length > sizeof(data)
        || layout->unicode_ascii_size > sizeof(head)) {
        return addr == 0 ? PYPROF_SAMPLER_INCONSISTENT : 0;
    }
    int rc = pyprof_remote_read(remote, addr, head,
                                layout->unicode_ascii_size);
    if (rc || !head_is_ascii_of(layout, head, length)) {
        return rc;
    }
    rc = pyprof_remote_read(remote, addr + layout->unicode_ascii_size, data,
                            length);
    *equal = rc == 0 && memcmp(data, ascii, length) == 0;
    return rc;
}

/* The key of items[from..to) that is the str `ascii`, or 0: the heads
 * of the keys are read in one gather, the characters only of a key of
 * the right length. */
static int
find_in_batch(pyprof_remote_t *remote, const pyprof_layout_t *layout,
              const pyprof_dict_items_t *items, size_t from, size_t to,
              const char *ascii, unsigned char *heads, size_t *found)
{
    pyprof_memory_read_t reads[HEADS_PER_GATHER] = {{0, NULL, 0}};
    unsigned char ok[HEADS_PER_GATHER];
    size_t head_len = layout->unicode_ascii_size;
    for (size_t i = from; i < to; i++) {
        reads[i - from] = (pyprof_memory_read_t){
            items->items[i].key, heads + (i - from) * head_len, head_len};
    }
    int rc = pyprof_remote_gather(remote, reads, to - from, ok);
    for (size_t i = from; rc == 0 && i < to; i++) {
        if (!ok[i - from]
            || !head_is_ascii_of(layout, heads + (i - from) * head_len,
                                 strlen(ascii))) {
            continue;
        }
        int equal;
        rc = pyprof_remote_str_equals(remote, layout, items->items[i].key,
                                      ascii, &equal);
        if (rc == 0 && equal) {
            *found = i;
            return 0;
        }
    }
    return rc;
}

int
pyprof_remote_find_str(pyprof_remote_t *remote,
                       const pyprof_layout_t *layout,
                       const pyprof_dict_items_t *items, const char *ascii,
                       uint64_t *key_hint, uint64_t *value)
{
    *value = 0;
    for (size_t i = 0; *key_hint && i < items->count; i++) {
        if (items->items[i].key == *key_hint) {
            *value = items->items[i].value;
            return 0;
        }
    }
    if (layout->unicode_ascii_size > 256 || strlen(ascii) > MAX_NAME_CHARS) {
        return PYPROF_SAMPLER_BAD_ARGUMENT;
    }
    unsigned char *heads = malloc(HEADS_PER_GATHER
                                  * layout->unicode_ascii_size);
    if (heads == NULL) {
        return PYPROF_SAMPLER_NO_MEMORY;
    }
    size_t found = items->count;
    int rc = 0;
    for (size_t from = 0; rc == 0 && found == items->count
                          && from < items->count;
         from += HEADS_PER_GATHER) {
        size_t to = items->count - from > HEADS_PER_GATHER
                        ? from + HEADS_PER_GATHER
                        : items->count;
        rc = find_in_batch(remote, layout, items, from, to, ascii, heads,
                           &found);
    }
    free(heads);
    if (rc == 0 && found < items->count) {
        *key_hint = items->items[found].key;
        *value = items->items[found].value;
    }
    return rc;
}

int
pyprof_remote_u64_int(pyprof_remote_t *remote, const pyprof_layout_t *layout,
                      uint64_t addr, uint64_t *value)
{
    /* the size word and up to two 30-bit digits (an ident's 47 bits)
     * in one read; a third digit read when there is one */
    unsigned char bytes[64];
    size_t head = (size_t)layout->long_digits + 8;
    if (addr == 0 || layout->long_size + 8 > head || head + 4 > sizeof(bytes)) {
        return PYPROF_SAMPLER_INCONSISTENT;
    }
    int rc = pyprof_remote_read(remote, addr, bytes, head);
    if (rc) {
        return rc;
    }
    uint64_t size = load_u64(bytes, layout->long_size);
    uint64_t ndigits;
    if (layout->long_is_tagged) {
        if ((size & 3) == 2) {
            return PYPROF_SAMPLER_INCONSISTENT; /* negative */
        }
        ndigits = (size & 3) == 1 ? 0 : size >> 3;
    }
    else {
        if ((int64_t)size < 0) {
            return PYPROF_SAMPLER_INCONSISTENT;
        }
        ndigits = size;
    }
    if (ndigits > 3) {
        return PYPROF_SAMPLER_INCONSISTENT;
    }
    if (ndigits == 3) {
        rc = pyprof_remote_read(remote, addr + head, bytes + head, 4);
        if (rc) {
            return rc;
        }
    }
    uint64_t result = 0;
    for (size_t i = (size_t)ndigits; i-- > 0;) {
        uint32_t digit;
        memcpy(&digit, bytes + layout->long_digits + 4 * i, sizeof(digit));
        if (digit >> 30 || (i == 2 && digit >> 4)) {
            return PYPROF_SAMPLER_INCONSISTENT; /* not a digit; > 64 bits */
        }
        result = (result << 30) | digit;
    }
    *value = result;
    return 0;
}
