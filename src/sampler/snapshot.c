/* snapshot.c - the last sample's ranges, read again in one go (see
 * snapshot.h).
 *
 * All buffers are kept and grown, never freed between samples: a steady
 * target costs no allocation per sample.
 */
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"

/* Ranges closer than this merge into one (for a live process): the bytes
 * between (a frame's locals, an object's other fields) are cheaper to copy
 * than another iovec, and a gap under a page never spans a page that holds
 * neither range. */
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
    (*list)[(*count)++] = (pyprof_snapshot_range_t){addr, len, 0, 0, stack};
    snapshot->plan_bytes += len;
}

static int
by_address(const void *a, const void *b)
{
    const pyprof_snapshot_range_t *x = a, *y = b;
    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Plans this short are sorted by insertion (no qsort call and its
 * comparisons through a pointer: a steady target's plan is about as
 * long as its stack is deep). */
#define INSERTION_SORT_MAX 64

static void
sort_by_address(pyprof_snapshot_range_t *ranges, size_t n)
{
    if (n > INSERTION_SORT_MAX) {
        qsort(ranges, n, sizeof(*ranges), by_address);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        pyprof_snapshot_range_t moving = ranges[i];
        size_t j = i;
        for (; j > 0 && ranges[j - 1].addr > moving.addr; j--) {
            ranges[j] = ranges[j - 1];
        }
        ranges[j] = moving;
    }
}

/* The plan (objects, then frames outermost first) into the ranges, by
 * address; for a live process, ranges closer than STACK_MERGE_GAP merged
 * (see snapshot.h) while the bytes stay under the cap.  Returns the
 * number of ranges and sets *total to their bytes. */
static size_t
plan_ranges(pyprof_snapshot_t *snapshot, size_t *total)
{
    size_t n = 0;
    for (size_t i = 0; i < snapshot->nobjects; i++) {
        snapshot->ranges[n] = snapshot->objects[i];
        snapshot->ranges[n++].stack = 0;
    }
    for (size_t i = snapshot->nstack; i-- > 0;) {
        snapshot->ranges[n] = snapshot->stack[i];
        snapshot->ranges[n++].stack = 1;
    }
    size_t bytes = snapshot->plan_bytes;
    if (!snapshot->merge) {
        *total = bytes;
        return n;
    }
    sort_by_address(snapshot->ranges, n);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        pyprof_snapshot_range_t *next = &snapshot->ranges[i];
        pyprof_snapshot_range_t *last =
            kept ? &snapshot->ranges[kept - 1] : NULL;
        uint64_t last_end = last ? last->addr + last->len : 0;
        uint64_t next_end = next->addr + next->len;
        /* sorted: next->addr >= last->addr; no sum overflows (want) */
        size_t grown = last && next_end > last_end
                       ? (size_t)(next_end - last_end) : 0;
        if (last
            && (next->addr <= last_end
                || next->addr - last_end <= STACK_MERGE_GAP)
            && bytes - next->len + grown <= PYPROF_SNAPSHOT_MAX_BYTES) {
            bytes = bytes - next->len + grown;
            last->len += grown;
            last->stack |= next->stack;
            continue;
        }
        snapshot->ranges[kept++] = *next;
    }
    *total = bytes;
    return kept;
}

/* The reads of ranges[0..n): the objects first, then the ranges that
 * hold frames (in address order: a data stack's outermost frames first),
 * laid out one after the other in the bytes, so the reads copy into one
 * buffer. */
static void
plan_reads(pyprof_snapshot_t *snapshot, size_t n)
{
    size_t k = 0, offset = 0;
    for (int stack = 0; stack < 2; stack++) {
        for (size_t i = 0; i < n; i++) {
            pyprof_snapshot_range_t *range = &snapshot->ranges[i];
            if (range->stack != stack) {
                continue;
            }
            range->offset = offset;
            range->read = k;
            snapshot->reads[k++] = (pyprof_memory_read_t){
                range->addr, snapshot->bytes + offset, range->len};
            offset += range->len;
        }
    }
}

void
pyprof_snapshot_fill(pyprof_snapshot_t *snapshot, pyprof_remote_t *remote)
{
    size_t count = snapshot->nobjects + snapshot->nstack;
    size_t total = 0;
    snapshot->count = 0;
    if (count == 0
        || reserve((void **)&snapshot->ranges, &snapshot->ranges_cap, count,
                   sizeof(*snapshot->ranges)) < 0
        || reserve((void **)&snapshot->reads, &snapshot->reads_cap, count,
                   sizeof(*snapshot->reads)) < 0
        || reserve((void **)&snapshot->ok, &snapshot->ok_cap, count, 1) < 0) {
        goto done;
    }
    size_t n = plan_ranges(snapshot, &total);
    if (reserve((void **)&snapshot->bytes, &snapshot->bytes_cap, total, 1)
        < 0) {
        goto done;
    }
    plan_reads(snapshot, n);
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
        if (snapshot->ok[snapshot->ranges[i].read]) {
            snapshot->ranges[kept++] = snapshot->ranges[i];
        }
    }
    if (!snapshot->merge) {
        sort_by_address(snapshot->ranges, kept);
    }
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
