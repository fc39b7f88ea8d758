/* test_dicts.c - dicts, ints, attributes and thread names read out of a
 * fake address space (src/sampler/dicts.h, threadnames.h).
 *
 * The objects are laid out here as each CPython version lays them out
 * (the layouts of offsets.c: 3.10's dict keys and __dict__, 3.11's
 * managed values at -32, 3.12's tagged values at -24, 3.13's inline
 * values), then read back through an image reader; broken headers must
 * be refused, never followed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sampler/dicts.h"
#include "sampler/memory.h"
#include "sampler/sampler.h"
#include "sampler/threadnames.h"

#define BASE 0x100000u
#define SPACE (1u << 16)

/* A fake address space and a bump allocator in it. */
typedef struct {
    unsigned char bytes[SPACE];
    size_t used;
    pyprof_memory_range_t range;
    pyprof_memory_image_t image;
    pyprof_remote_t remote;
    pyprof_layout_t layout;
} space_t;

static space_t *
space_new(uint32_t version, int attrs_format)
{
    space_t *space = calloc(1, sizeof(*space));
    char err[128];
    CHECK(pyprof_layout_get(version, NULL, 0, &space->layout, err,
                            sizeof(err)) == 0);
    if (attrs_format == PYPROF_ATTRS_313) {
        /* 3.12's objects with 3.13's instance attributes */
        space->layout.attrs_format = PYPROF_ATTRS_313;
        space->layout.values_header = 8;
    }
    space->used = 64; /* no object at 0 */
    space->range = (pyprof_memory_range_t){BASE, space->bytes, SPACE};
    space->image = (pyprof_memory_image_t){&space->range, 1};
    pyprof_memory_image(&space->remote.reader, &space->image);
    return space;
}

static uint64_t
alloc(space_t *space, size_t len)
{
    space->used = (space->used + 15) & ~(size_t)15;
    uint64_t addr = BASE + space->used;
    space->used += len;
    CHECK(space->used <= SPACE);
    return addr;
}

static void
put(space_t *space, uint64_t addr, const void *data, size_t len)
{
    memcpy(space->bytes + (addr - BASE), data, len);
}

static void
put_u64(space_t *space, uint64_t addr, uint64_t value)
{
    put(space, addr, &value, 8);
}

static uint64_t
new_str(space_t *space, const char *ascii)
{
    const pyprof_layout_t *layout = &space->layout;
    size_t length = strlen(ascii);
    uint64_t addr = alloc(space, layout->unicode_ascii_size + length + 1);
    uint32_t state = (1u << 2) | (1u << 5) | (1u << 6);
    put_u64(space, addr + layout->unicode_length, length);
    put(space, addr + layout->unicode_state, &state, 4);
    put(space, addr + layout->unicode_ascii_size, ascii, length);
    return addr;
}

static uint64_t
new_int(space_t *space, uint64_t value)
{
    const pyprof_layout_t *layout = &space->layout;
    uint32_t digits[3];
    uint64_t n = 0;
    for (; value; value >>= 30) {
        digits[n++] = (uint32_t)(value & ((1u << 30) - 1));
    }
    uint64_t addr = alloc(space, layout->long_digits + 12);
    put_u64(space, addr + layout->long_size,
            layout->long_is_tagged ? (n ? n << 3 : 1) : n);
    put(space, addr + layout->long_digits, digits, 4 * n);
    return addr;
}

/* A keys object of `n` items (values in the entries unless `split`). */
static uint64_t
new_keys(space_t *space, const uint64_t *keys, const uint64_t *values,
         size_t n, int split)
{
    uint64_t addr;
    int old = space->layout.dictkeys_format == PYPROF_DICTKEYS_310;
    size_t entry = old || !split ? 24 : 16; /* general kind when combined */
    if (old) {
        addr = alloc(space, 40 + 8 + 8 * entry);
        put_u64(space, addr + 8, 8);   /* dk_size: 8 one-byte indices */
        put_u64(space, addr + 32, n);
    }
    else {
        addr = alloc(space, 32 + 8 + 8 * entry);
        unsigned char head[3] = {3, 3, split ? 2 : 0};
        put(space, addr + 8, head, 3);
        put_u64(space, addr + 24, n);
    }
    uint64_t entries = addr + (old ? 40 : 32) + 8;
    size_t key_at = entry == 24 ? 8 : 0;
    for (size_t i = 0; i < n; i++) {
        put_u64(space, entries + i * entry + key_at, keys[i]);
        if (!split) {
            put_u64(space, entries + i * entry + key_at + 8, values[i]);
        }
    }
    return addr;
}

static uint64_t
new_values(space_t *space, const uint64_t *values, size_t n)
{
    uint64_t addr = alloc(space, 8 * n);
    for (size_t i = 0; i < n; i++) {
        put_u64(space, addr + 8 * i, values[i]);
    }
    return addr;
}

static uint64_t
new_dict(space_t *space, const uint64_t *keys, const uint64_t *values,
         size_t n)
{
    uint64_t dict = alloc(space, 48);
    put_u64(space, dict + space->layout.dict_keys,
            new_keys(space, keys, values, n, 0));
    return dict;
}

static uint64_t
new_type(space_t *space, uint64_t flags, int64_t basicsize,
         int64_t dictoffset, uint64_t cached_keys)
{
    const pyprof_layout_t *layout = &space->layout;
    uint64_t type = alloc(space, layout->heaptype_cached_keys + 8);
    flags |= 1u << 9; /* a heap type */
    put_u64(space, type + layout->type_flags, flags);
    put(space, type + layout->type_basicsize, &basicsize, 8);
    put(space, type + layout->type_dictoffset, &dictoffset, 8);
    put_u64(space, type + layout->heaptype_cached_keys, cached_keys);
    return type;
}

/* An object of `type` with `before` bytes ahead of it (managed dict
 * words) and `after` bytes of body. */
static uint64_t
new_object(space_t *space, uint64_t type, size_t before, size_t after)
{
    uint64_t obj = alloc(space, before + after) + before;
    put_u64(space, obj + space->layout.object_type, type);
    return obj;
}

/* The value under `name` in `items`, found by reading the keys. */
static uint64_t
value_of(space_t *space, const pyprof_dict_items_t *items, const char *name)
{
    uint64_t hint = 0, value = 7;
    CHECK(pyprof_remote_find_str(&space->remote, &space->layout, items,
                                 name, &hint, &value) == 0);
    return value;
}

static void
check_attrs(space_t *space, uint64_t obj, uint64_t want_name)
{
    pyprof_dict_items_t attrs;
    CHECK(pyprof_remote_attributes(&space->remote, &space->layout, obj,
                                   &attrs) == 0);
    CHECK(value_of(space, &attrs, "_name") == want_name);
    CHECK(value_of(space, &attrs, "_nope") == 0);
    pyprof_dict_items_free(&attrs);
}

static void
test_strings_and_ints(void)
{
    space_t *space = space_new(0x030C01F0, 0);
    uint64_t s = new_str(space, "threading");
    int equal = 0;
    CHECK(pyprof_remote_str_equals(&space->remote, &space->layout, s,
                                   "threading", &equal) == 0 && equal);
    CHECK(pyprof_remote_str_equals(&space->remote, &space->layout, s,
                                   "threadinG", &equal) == 0 && !equal);
    CHECK(pyprof_remote_str_equals(&space->remote, &space->layout, s,
                                   "thread", &equal) == 0 && !equal);
    for (int version = 0; version < 2; version++) {
        if (version) {
            free(space);
            space = space_new(0x030A0DF0, 0); /* ob_size, not lv_tag */
        }
        const uint64_t values[] = {0, 1, 1u << 30, 140234567890123ull,
                                   UINT64_MAX};
        for (size_t i = 0; i < 5; i++) {
            uint64_t got = 1;
            CHECK(pyprof_remote_u64_int(&space->remote, &space->layout,
                                        new_int(space, values[i]), &got)
                  == 0);
            CHECK(got == values[i]);
        }
        /* negative, and too many digits, are not idents */
        uint64_t neg = new_int(space, 5), got;
        put_u64(space, neg + space->layout.long_size,
                space->layout.long_is_tagged ? (1 << 3) | 2
                                             : (uint64_t)-1);
        CHECK(pyprof_remote_u64_int(&space->remote, &space->layout, neg,
                                    &got) == PYPROF_SAMPLER_INCONSISTENT);
        put_u64(space, neg + space->layout.long_size,
                space->layout.long_is_tagged ? 9u << 3 : 9);
        CHECK(pyprof_remote_u64_int(&space->remote, &space->layout, neg,
                                    &got) == PYPROF_SAMPLER_INCONSISTENT);
    }
    free(space);
}

static void
test_dict_items(void)
{
    const uint32_t versions[] = {0x030A0DF0, 0x030B07F0, 0x030C01F0};
    for (size_t v = 0; v < 3; v++) {
        space_t *space = space_new(versions[v], 0);
        uint64_t keys[3] = {new_str(space, "a"), new_str(space, "_active"),
                            new_str(space, "b")};
        uint64_t values[3] = {0x1111, 0x2222, 0};
        uint64_t dict = new_dict(space, keys, values, 3);
        pyprof_dict_items_t items;
        CHECK(pyprof_remote_dict_items(&space->remote, &space->layout, dict,
                                       &items) == 0);
        CHECK(items.count == 2); /* the NULL value is a deleted item */
        uint64_t hint = 0, value = 0;
        CHECK(pyprof_remote_find_str(&space->remote, &space->layout, &items,
                                     "_active", &hint, &value) == 0);
        CHECK(value == 0x2222 && hint == keys[1]);
        /* with the hint, the key is not read: found by its address */
        uint64_t reads = space->remote.reads;
        CHECK(pyprof_remote_find_str(&space->remote, &space->layout, &items,
                                     "_active", &hint, &value) == 0);
        CHECK(value == 0x2222 && space->remote.reads == reads);
        pyprof_dict_items_free(&items);
        /* impossible headers are refused */
        uint64_t keys_addr;
        memcpy(&keys_addr,
               space->bytes + (dict + space->layout.dict_keys - BASE), 8);
        if (space->layout.dictkeys_format == PYPROF_DICTKEYS_310) {
            put_u64(space, keys_addr + 8, 12);     /* not a power of 2 */
        }
        else {
            space->bytes[keys_addr + 8 - BASE] = 31;
        }
        CHECK(pyprof_remote_dict_items(&space->remote, &space->layout, dict,
                                       &items)
              == PYPROF_SAMPLER_INCONSISTENT);
        CHECK(items.items == NULL && items.count == 0);
        free(space);
    }
}

static void
test_attributes(void)
{
    /* 3.10: a dict at tp_dictoffset */
    space_t *space = space_new(0x030A0DF0, 0);
    uint64_t name = new_str(space, "worker"), key = new_str(space, "_name");
    uint64_t obj = new_object(space, new_type(space, 0, 32, 16, 0), 0, 32);
    uint64_t keys[2] = {new_str(space, "_target"), key};
    uint64_t values[2] = {0x10, name};
    put_u64(space, obj + 16, new_dict(space, keys, values, 2));
    check_attrs(space, obj, name);
    free(space);
    /* 3.11: values at -32 with the type's shared keys, or a dict at -24 */
    space = space_new(0x030B07F0, 0);
    name = new_str(space, "worker");
    keys[0] = new_str(space, "_target"), keys[1] = new_str(space, "_name");
    values[1] = name;
    uint64_t shared = new_keys(space, keys, NULL, 2, 1);
    uint64_t type = new_type(space, 1u << 4, 16, -1, shared);
    obj = new_object(space, type, 32, 16);
    put_u64(space, obj - 32, new_values(space, values, 2));
    check_attrs(space, obj, name);
    put_u64(space, obj - 24, new_dict(space, keys, values, 2));
    put_u64(space, obj - 32, 0);
    check_attrs(space, obj, name);
    free(space);
    /* 3.12: -24 holds values - 1, or a dict */
    space = space_new(0x030C01F0, 0);
    name = new_str(space, "worker");
    keys[0] = new_str(space, "_target"), keys[1] = new_str(space, "_name");
    values[1] = name;
    shared = new_keys(space, keys, NULL, 2, 1);
    type = new_type(space, 1u << 4, 16, -1, shared);
    obj = new_object(space, type, 32, 16);
    put_u64(space, obj - 24, new_values(space, values, 2) - 1);
    check_attrs(space, obj, name);
    put_u64(space, obj - 24, new_dict(space, keys, values, 2));
    check_attrs(space, obj, name);
    free(space);
    /* 3.13+: a dict at -24, else values inline after the object */
    space = space_new(0x030C01F0, PYPROF_ATTRS_313);
    name = new_str(space, "worker");
    keys[0] = new_str(space, "_target"), keys[1] = new_str(space, "_name");
    values[1] = name;
    shared = new_keys(space, keys, NULL, 2, 1);
    type = new_type(space, (1u << 4) | (1u << 2), 16, -1, shared);
    obj = new_object(space, type, 32, 16 + 8 + 16);
    unsigned char header[4] = {2, 2, 1, 1}; /* capacity, size, embedded,
                                               valid */
    put(space, obj + 16, header, 4);
    put_u64(space, obj + 24, values[0]);
    put_u64(space, obj + 32, values[1]);
    check_attrs(space, obj, name);
    header[3] = 0;          /* no longer valid and no dict: refused */
    put(space, obj + 16, header, 4);
    pyprof_dict_items_t attrs;
    CHECK(pyprof_remote_attributes(&space->remote, &space->layout, obj,
                                   &attrs) == PYPROF_SAMPLER_INCONSISTENT);
    put_u64(space, obj - 24, new_dict(space, keys, values, 2));
    check_attrs(space, obj, name);
    free(space);
}

/* The whole chain: interpreter -> sys.modules -> threading -> _active ->
 * Thread -> _name, on 3.12's layout. */
static void
test_thread_names(void)
{
    space_t *space = space_new(0x030C01F0, 0);
    const pyprof_layout_t *layout = &space->layout;
    uint64_t name_keys[2] = {new_str(space, "_target"),
                             new_str(space, "_name")};
    uint64_t shared = new_keys(space, name_keys, NULL, 2, 1);
    uint64_t type = new_type(space, 1u << 4, 16, -1, shared);
    const char *thread_names[2] = {"MainThread", "worker-1"};
    uint64_t idents[2] = {140234567890123ull, 140234500000000ull};
    uint64_t active_keys[2], threads[2];
    for (int i = 0; i < 2; i++) {
        threads[i] = new_object(space, type, 32, 16);
        uint64_t values[2] = {0, new_str(space, thread_names[i])};
        put_u64(space, threads[i] - 24, new_values(space, values, 2) - 1);
        active_keys[i] = new_int(space, idents[i]);
    }
    uint64_t active = new_dict(space, active_keys, threads, 2);
    uint64_t module_keys[2] = {new_str(space, "__name__"),
                               new_str(space, "_active")};
    uint64_t module_values[2] = {module_keys[0], active};
    uint64_t module = alloc(space, 32);
    put_u64(space, module + layout->module_dict,
            new_dict(space, module_keys, module_values, 2));
    uint64_t modules_keys[3] = {new_str(space, "sys"), new_str(space, "os"),
                                new_str(space, "threading")};
    uint64_t modules_values[3] = {0x50, 0x60, module};
    uint64_t interp = alloc(space, layout->interp_modules + 8);
    put_u64(space, interp + layout->interp_modules,
            new_dict(space, modules_keys, modules_values, 3));

    pyprof_threadnames_t names;
    pyprof_threadnames_init(&names);
    uint64_t now = 1000000000ull;
    CHECK(pyprof_threadnames_tick(&names, now, 0) == 1); /* never read */
    const char *got = pyprof_threadnames_get(&names, &space->remote, layout,
                                             interp, idents[1], now);
    CHECK_STR(got, "worker-1");
    CHECK(names.refreshes == 1);
    got = pyprof_threadnames_get(&names, &space->remote, layout, interp,
                                 idents[0], now);
    CHECK_STR(got, "MainThread");
    /* an unknown ident is read for once MIN_NS after the last read, then
     * remembered as nameless */
    CHECK(pyprof_threadnames_get(&names, &space->remote, layout, interp, 42,
                                 now + 1) == NULL);
    CHECK(names.refreshes == 1);
    CHECK(pyprof_threadnames_get(&names, &space->remote, layout, interp, 43,
                                 now + PYPROF_THREADNAMES_MIN_NS) == NULL);
    CHECK(names.refreshes == 2);
    CHECK(pyprof_threadnames_get(&names, &space->remote, layout, interp, 43,
                                 now + 2 * PYPROF_THREADNAMES_MIN_NS)
          == NULL);
    CHECK(names.refreshes == 2);
    /* the periodic read: a second and a few samples after the last */
    uint64_t later = now + PYPROF_THREADNAMES_MIN_NS;
    int due = 0;
    for (int i = 0; i < PYPROF_THREADNAMES_EVERY_SAMPLES; i++) {
        due |= pyprof_threadnames_tick(&names, later + 1, 0);
    }
    CHECK(!due);
    CHECK(pyprof_threadnames_tick(&names, later + PYPROF_THREADNAMES_EVERY_NS,
                                  0));
    CHECK(pyprof_threadnames_tick(&names, later, 1)); /* forced */
    /* a rename is seen at the next read */
    uint64_t values[2] = {0, new_str(space, "renamed")};
    put_u64(space, threads[1] - 24, new_values(space, values, 2) - 1);
    CHECK(pyprof_threadnames_read(&names, &space->remote, layout, interp,
                                  later) == 0);
    got = pyprof_threadnames_get(&names, &space->remote, layout, interp,
                                 idents[1], later);
    CHECK_STR(got, "renamed");
    /* a torn _active keeps the names last read */
    uint64_t active_keys_addr;
    memcpy(&active_keys_addr,
           space->bytes + (active + layout->dict_keys - BASE), 8);
    space->bytes[active_keys_addr + 8 - BASE] = 99;
    CHECK(pyprof_threadnames_read(&names, &space->remote, layout, interp,
                                  later) == PYPROF_SAMPLER_INCONSISTENT);
    got = pyprof_threadnames_get(&names, &space->remote, layout, interp,
                                 idents[1], later);
    CHECK_STR(got, "renamed");
    /* no threading module: no names */
    put_u64(space, modules_keys[2] + layout->unicode_length, 3);
    names.key_threading = 0;
    CHECK(pyprof_threadnames_read(&names, &space->remote, layout, interp,
                                  later) == 0);
    CHECK(pyprof_threadnames_get(&names, &space->remote, layout, interp,
                                 idents[1], later) == NULL);
    pyprof_threadnames_clear(&names);
    free(space);
}

void
test_dicts(void)
{
    test_strings_and_ints();
    test_dict_items();
    test_attributes();
    test_thread_names();
}
