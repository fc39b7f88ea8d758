/* snapshot.h - what the last sample read, read again at once.
 *
 * A target that keeps running through the same functions makes every
 * sample read the same memory: the interpreter's fields, its GIL, each
 * thread state, the frames of each stack, the head of each code object.
 * While a sample walks, every range it reads is noted in a plan
 * (pyprof_snapshot_want); the next sample starts by reading the whole
 * plan in one go (pyprof_snapshot_fill: one process_vm_readv for up to
 * PYPROF_MEMORY_MAX_GATHER ranges) and its walk takes any bytes the
 * snapshot holds (pyprof_snapshot_find) instead of reading them.  A
 * steady target costs one syscall per sample, and the bytes of one
 * sample come from one moment: a deep stack that changes while it is read
 * piece by piece is what makes a sample inconsistent.
 *
 * Nothing is trusted more for having been prefetched: the walk checks a
 * snapshot's bytes as it checks a read's.  A range that is no longer
 * mapped fails alone (the rest of the plan is still read); the walk then
 * reads what it needs as if there were no snapshot.
 *
 * Frames are noted apart ("stack" ranges): consecutive frames of a data
 * stack lie next to each other, so neighbouring ranges are merged into
 * one, and the stack is read after the objects, outermost frames first,
 * so a stack that unwound since (its newest chunk unmapped) costs the
 * fewest other ranges.  For a live process a fill also merges any two
 * ranges closer than 1 KiB (the interpreter's fields, its GIL, a C stack's
 * entry frame beside the pointer to it): each range of a process_vm_readv
 * costs the kernel a lookup of its mapping and a pin of its pages, more
 * than copying the bytes between two neighbours, and a gap under a page
 * lies on the pages of its two ends, so it is mapped when they are.
 * Merging reads the bytes between two ranges, which a live process has
 * but an image does not (it holds the ranges alone): an image's snapshot
 * reads every range as noted.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_SAMPLER_SNAPSHOT_H
#define PYPROF_SAMPLER_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "objects.h"

/* Bytes of one snapshot at most; ranges past it are read as needed. */
#define PYPROF_SNAPSHOT_MAX_BYTES (4u << 20)
/* Ranges of one snapshot at most. */
#define PYPROF_SNAPSHOT_MAX_RANGES 4096

typedef struct {
    uint64_t addr;
    size_t len;
    size_t offset;     /* into the bytes */
    size_t read;       /* a fill's: the index of its read */
    int stack;         /* a frame (or holds one, once merged) */
} pyprof_snapshot_range_t;

typedef struct {
    pyprof_snapshot_range_t *ranges;  /* the last fill, by address */
    size_t count, ranges_cap;
    unsigned char *bytes;
    size_t bytes_cap;
    pyprof_snapshot_range_t *objects; /* the plan: noted since the fill */
    size_t nobjects, objects_cap;
    pyprof_snapshot_range_t *stack;   /* the plan's frames, walk order */
    size_t nstack, stack_cap;
    size_t plan_bytes;
    int merge;                        /* merge neighbouring frames */
    pyprof_memory_read_t *reads;      /* a fill's reads and their ok */
    unsigned char *ok;
    size_t reads_cap, ok_cap;
} pyprof_snapshot_t;

/* `merge`: neighbouring frames are read as one range (a reader of a live
 * process, where the bytes between them are mapped too). */
void pyprof_snapshot_init(pyprof_snapshot_t *snapshot, int merge);
void pyprof_snapshot_clear(pyprof_snapshot_t *snapshot);

/* Note [addr, addr + len) for the next fill (`stack`: a frame, see
 * above).  Out of memory or past the caps, the range is not noted. */
void pyprof_snapshot_want(pyprof_snapshot_t *snapshot, uint64_t addr,
                          size_t len, int stack);

/* Forget the last fill and read the plan noted since (which is then
 * empty again).  Ranges that cannot be read are left out. */
void pyprof_snapshot_fill(pyprof_snapshot_t *snapshot,
                          pyprof_remote_t *remote);

/* The bytes at [addr, addr + len) when the last fill holds all of them
 * (borrowed, valid until the next fill), else NULL. */
const unsigned char *pyprof_snapshot_find(const pyprof_snapshot_t *snapshot,
                                          uint64_t addr, size_t len);

/* Forget the last fill (its bytes may no longer be what the target
 * holds: a blocking sample must read what the stopped target has). */
void pyprof_snapshot_drop(pyprof_snapshot_t *snapshot);

#endif
