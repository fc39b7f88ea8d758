/* snapshot.c - the last sample's ranges, read again in one go (see
 * snapshot.h).
 *
 * All buffers are kept and grown, never freed between samples: a steady
 * target costs no allocation per sample.
 */
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"

/* Frames closer than this merge into one range: the bytes between (the
 * frames' locals) are cheaper to copy than another iovec, and a gap under
 * a page never spans a page that holds neither frame. */
#define STACK_MERGE_GAP 1024

void
pyprof_snapshot_init(pyprof_snapshot_t *snapshot, int merge)
{
    memset(snapshot, 0, sizeof(*snapshot));
    snapshot->merge = merge;
}

void
pyprof_snapshot_clear(pyprof_snapshot_t *snapshot)
{
    free(snapshot->ranges);
    free(snapshot->bytes);
    free(snapshot->objects);
    free(snapshot->stack);
    free(snapshot->reads);
    free(snapshot->ok);
    int merge = snapshot->merge;
    memset(snapshot, 0, sizeof(*snapshot));
    snapshot->merge = merge;
}

/* Room for `need` elements of `size` in *array (capacity *cap). */
static int
reserve(void **array, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) {
        return 0;
    }
    size_t grown = *cap ? *cap * 2 : 64;
    while (grown < need) {
        grown *= 2;
    }
    void *bigger = realloc(*array, grown * size);
    if (bigger == NULL) {
        return -1;
    }
    *array = bigger;
    *cap = grown;
    return 0;
}

/* Merge [addr, addr + len) into the last stack range when near it. */
static int
merge_stack(pyprof_snapshot_t *snapshot, uint64_t addr, size_t len)
{
    if (snapshot->nstack == 0 || !snapshot->merge) {
        return 0;
    }
    pyprof_snapshot_range_t *last = &snapshot->stack[snapshot->nstack - 1];
    uint64_t low = last->addr, high = last->addr + last->len;
    uint64_t end = addr + len;  /* no overflow: checked by the caller */
    if ((addr > high && addr - high > STACK_MERGE_GAP)
        || (end < low && low - end > STACK_MERGE_GAP)) {
        return 0;
    }
    uint64_t new_low = addr < low ? addr : low;
    uint64_t new_high = end > high ? end : high;
    size_t growth = (size_t)((new_high - new_low) - last->len);
    if (snapshot->plan_bytes + growth > PYPROF_SNAPSHOT_MAX_BYTES) {
        return 1;   /* noted as far as the cap allows: not at all */
    }
    snapshot->plan_bytes += growth;
    last->addr = new_low;
    last->len = (size_t)(new_high - new_low);
    return 1;
}

void
pyprof_snapshot_want(pyprof_snapshot_t *snapshot, uint64_t addr, size_t len,
                     int stack)
{
    if (len == 0 || addr == 0 || addr + len < addr
        || len > PYPROF_SNAPSHOT_MAX_BYTES) {
        return;
    }
    if (stack && merge_stack(snapshot, addr, len)) {
        return;
    }
    if (snapshot->nobjects + snapshot->nstack >= PYPROF_SNAPSHOT_MAX_RANGES
        || snapshot->plan_bytes + len > PYPROF_SNAPSHOT_MAX_BYTES) {
        return;
    }
    pyprof_snapshot_range_t **list = stack ? &snapshot->stack
                                           : &snapshot->objects;
    size_t *count = stack ? &snapshot->nstack : &snapshot->nobjects;
    size_t *cap = stack ? &snapshot->stack_cap : &snapshot->objects_cap;
    if (reserve((void **)list, cap, *count + 1, sizeof(**list)) < 0) {
        return;
    }
    (*list)[(*count)++] = (pyprof_snapshot_range_t){addr, len, 0};
    snapshot->plan_bytes += len;
}

static int
by_address(const void *a, const void *b)
{
    const pyprof_snapshot_range_t *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The plan as reads into the bytes: objects, then the stack outermost
 * first; the ranges array gets the same order. */
static size_t
plan_reads(pyprof_snapshot_t *snapshot)
{
    size_t n = 0, offset = 0;
    for (size_t i = 0; i < snapshot->nobjects + snapshot->nstack; i++) {
        const pyprof_snapshot_range_t *range =
            i < snapshot->nobjects
                ? &snapshot->objects[i]
                : &snapshot->stack[snapshot->nstack - 1
                                   - (i - snapshot->nobjects)];
        snapshot->ranges[n] = *range;
        snapshot->ranges[n].offset = offset;
        snapshot->reads[n] = (pyprof_memory_read_t){
            range->addr, snapshot->bytes + offset, range->len};
        offset += range->len;
        n++;
    }
    return n;
}

void
pyprof_snapshot_fill(pyprof_snapshot_t *snapshot, pyprof_remote_t *remote)
{
    size_t count = snapshot->nobjects + snapshot->nstack;
    snapshot->count = 0;
    if (count == 0
        || reserve((void **)&snapshot->ranges, &snapshot->ranges_cap, count,
                   sizeof(*snapshot->ranges)) < 0
        || reserve((void **)&snapshot->reads, &snapshot->reads_cap, count,
                   sizeof(*snapshot->reads)) < 0
        || reserve((void **)&snapshot->ok, &snapshot->ok_cap, count, 1) < 0
        || reserve((void **)&snapshot->bytes, &snapshot->bytes_cap,
                   snapshot->plan_bytes, 1) < 0) {
        goto done;
    }
    size_t n = plan_reads(snapshot);
    for (size_t first = 0; first < n; first += PYPROF_MEMORY_MAX_GATHER) {
        size_t batch = n - first < PYPROF_MEMORY_MAX_GATHER
                           ? n - first : PYPROF_MEMORY_MAX_GATHER;
        if (pyprof_remote_gather(remote, snapshot->reads + first, batch,
                                 snapshot->ok + first) != 0) {
            memset(snapshot->ok + first, 0, n - first);
            break;
        }
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (snapshot->ok[i]) {
            snapshot->ranges[kept++] = snapshot->ranges[i];
        }
    }
    qsort(snapshot->ranges, kept, sizeof(*snapshot->ranges), by_address);
    snapshot->count = kept;
done:
    snapshot->nobjects = snapshot->nstack = 0;
    snapshot->plan_bytes = 0;
}

const unsigned char *
pyprof_snapshot_find(const pyprof_snapshot_t *snapshot, uint64_t addr,
                     size_t len)
{
    /* the last range that starts at or before addr */
    size_t low = 0, high = snapshot->count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if (snapshot->ranges[mid].addr <= addr) {
            low = mid + 1;
        }
        else {
            high = mid;
        }
    }
    if (low == 0) {
        return NULL;
    }
    const pyprof_snapshot_range_t *range = &snapshot->ranges[low - 1];
    uint64_t skip = addr - range->addr;
    if (skip > range->len || len > range->len - skip) {
        return NULL;
    }
    return snapshot->bytes + range->offset + skip;
}

void
pyprof_snapshot_drop(pyprof_snapshot_t *snapshot)
{
    snapshot->count = 0;
}
