/* threadnames.c - threading names of a target's threads (threadnames.h).
 *
 * One read walks sys.modules -> the threading module -> its dict ->
 * `_active` -> each Thread's attributes -> `_name` (dicts.h); the names
 * found replace the held ones only when the walk got as far as `_active`,
 * so a torn read keeps the last good names.  A single Thread that cannot
 * be read is left without a name (its OS name is shown), the others keep
 * theirs.
 */
#include <stdlib.h>
#include <string.h>

#include "dicts.h"
#include "sampler.h"
#include "threadnames.h"

#define MAX_THREAD_NAMES 4096

void
pyprof_threadnames_init(pyprof_threadnames_t *names)
{
    memset(names, 0, sizeof(*names));
}

static void
free_names(pyprof_thread_name_t *list, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(list[i].name);
    }
    free(list);
}

void
pyprof_threadnames_clear(pyprof_threadnames_t *names)
{
    free_names(names->names, names->count);
    pyprof_threadnames_init(names);
}

/* `name` cut to PYPROF_THREADNAME_MAX - 1 bytes, at a UTF-8 character
 * boundary. */
static void
cut_name(char *name)
{
    size_t len = strlen(name);
    if (len < PYPROF_THREADNAME_MAX) {
        return;
    }
    len = PYPROF_THREADNAME_MAX - 1;
    while (len > 0 && ((unsigned char)name[len] & 0xC0) == 0x80) {
        len--;
    }
    name[len] = '\0';
}

/* The `_active` dict of the threading module (0 when the program has not
 * imported threading) into *active. */
static int
find_active(pyprof_threadnames_t *names, pyprof_remote_t *remote,
            const pyprof_layout_t *layout, uint64_t interp_addr,
            uint64_t *active)
{
    pyprof_dict_items_t items;
    uint64_t modules, module = 0, module_dict;
    *active = 0;
    int rc = pyprof_remote_u64(remote, interp_addr + layout->interp_modules,
                               &modules);
    if (rc == 0) {
        rc = pyprof_remote_dict_items(remote, layout, modules, &items);
    }
    if (rc == 0) {
        rc = pyprof_remote_find_str(remote, layout, &items, "threading",
                                    &names->key_threading, &module);
        pyprof_dict_items_free(&items);
    }
    if (rc || module == 0) {
        return rc;
    }
    rc = pyprof_remote_u64(remote, module + layout->module_dict,
                           &module_dict);
    if (rc == 0) {
        rc = pyprof_remote_dict_items(remote, layout, module_dict, &items);
    }
    if (rc == 0) {
        rc = pyprof_remote_find_str(remote, layout, &items, "_active",
                                    &names->key_active, active);
        pyprof_dict_items_free(&items);
    }
    return rc;
}

/* The `_name` of the Thread object at `thread` as a new malloc'd string
 * in *name (NULL when it has none that can be read). */
static int
thread_name(pyprof_threadnames_t *names, pyprof_remote_t *remote,
            const pyprof_layout_t *layout, uint64_t thread, char **name)
{
    pyprof_dict_items_t attrs;
    uint64_t str = 0;
    *name = NULL;
    int rc = pyprof_remote_attributes(remote, layout, thread, &attrs);
    if (rc == 0) {
        rc = pyprof_remote_find_str(remote, layout, &attrs, "_name",
                                    &names->key_name, &str);
        pyprof_dict_items_free(&attrs);
    }
    if (rc == 0 && str != 0) {
        rc = pyprof_remote_unicode(remote, layout, str, name);
        if (rc == 0) {
            cut_name(*name);
        }
    }
    return rc;
}

/* Replace the held names with those of `active`'s items. */
static int
take_names(pyprof_threadnames_t *names, pyprof_remote_t *remote,
           const pyprof_layout_t *layout, const pyprof_dict_items_t *active)
{
    size_t count = active->count < MAX_THREAD_NAMES ? active->count
                                                    : MAX_THREAD_NAMES;
    pyprof_thread_name_t *list = malloc((count + 1) * sizeof(*list));
    if (list == NULL) {
        return PYPROF_SAMPLER_NO_MEMORY;
    }
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        uint64_t ident;
        char *name;
        if (pyprof_remote_u64_int(remote, layout, active->items[i].key,
                                  &ident)) {
            continue;
        }
        int rc = thread_name(names, remote, layout, active->items[i].value,
                             &name);
        if (rc == PYPROF_SAMPLER_NO_MEMORY || rc == PYPROF_SAMPLER_GONE
            || rc == PYPROF_SAMPLER_PERMISSION) {
            free_names(list, kept);
            return rc;
        }
        list[kept++] = (pyprof_thread_name_t){ident, name};
    }
    free_names(names->names, names->count);
    names->names = list;
    names->count = kept;
    names->capacity = count + 1;
    return 0;
}

int
pyprof_threadnames_read(pyprof_threadnames_t *names, pyprof_remote_t *remote,
                        const pyprof_layout_t *layout, uint64_t interp_addr,
                        uint64_t now_ns)
{
    names->refreshed = 1;
    names->refreshed_ns = now_ns;
    names->samples_since = 0;
    names->refreshes++;
    if (layout->interp_modules == 0) {
        return PYPROF_SAMPLER_UNSUPPORTED;
    }
    uint64_t active;
    int rc = find_active(names, remote, layout, interp_addr, &active);
    if (rc) {
        return rc;
    }
    pyprof_dict_items_t items = {NULL, 0};
    if (active != 0) {
        rc = pyprof_remote_dict_items(remote, layout, active, &items);
    }
    if (rc == 0) {
        rc = take_names(names, remote, layout, &items);
    }
    pyprof_dict_items_free(&items);
    return rc;
}

int
pyprof_threadnames_tick(pyprof_threadnames_t *names, uint64_t now_ns,
                        int force)
{
    names->samples_since++;
    if (force || !names->refreshed) {
        return 1;
    }
    return now_ns - names->refreshed_ns >= PYPROF_THREADNAMES_EVERY_NS
           && names->samples_since >= PYPROF_THREADNAMES_EVERY_SAMPLES;
}

static pyprof_thread_name_t *
find_ident(pyprof_threadnames_t *names, uint64_t ident)
{
    for (size_t i = 0; i < names->count; i++) {
        if (names->names[i].ident == ident) {
            return &names->names[i];
        }
    }
    return NULL;
}

/* Remember `ident` as nameless until the next read. */
static void
add_nameless(pyprof_threadnames_t *names, uint64_t ident)
{
    if (names->count == names->capacity) {
        size_t capacity = names->capacity ? 2 * names->capacity : 8;
        if (capacity > MAX_THREAD_NAMES) {
            return;
        }
        pyprof_thread_name_t *grown =
            realloc(names->names, capacity * sizeof(*grown));
        if (grown == NULL) {
            return;
        }
        names->names = grown;
        names->capacity = capacity;
    }
    names->names[names->count++] = (pyprof_thread_name_t){ident, NULL};
}

const char *
pyprof_threadnames_get(pyprof_threadnames_t *names, pyprof_remote_t *remote,
                       const pyprof_layout_t *layout, uint64_t interp_addr,
                       uint64_t ident, uint64_t now_ns)
{
    pyprof_thread_name_t *known = find_ident(names, ident);
    if (known == NULL
        && (!names->refreshed
            || now_ns - names->refreshed_ns >= PYPROF_THREADNAMES_MIN_NS)) {
        pyprof_threadnames_read(names, remote, layout, interp_addr, now_ns);
        known = find_ident(names, ident);
    }
    if (known == NULL) {
        add_nameless(names, ident);
        return NULL;
    }
    return known->name;
}
