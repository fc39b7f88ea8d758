/* memory.h - readers of another process's memory.
 *
 * Every byte the sampler looks at comes through a pyprof_memory_reader_t:
 * process_vm_readv() for a live process, or an image (a list of address
 * ranges held in this process) for unit tests and the fuzzer.  Code above
 * this interface cannot tell which it is, so all of it is fuzzable.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_SAMPLER_MEMORY_H
#define PYPROF_SAMPLER_MEMORY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A reader copies `len` bytes of the target at `addr` into `buf` and
 * returns 0 when every byte was copied; else a pyprof_sampler_status_t:
 * PYPROF_SAMPLER_INCONSISTENT for an unmapped or partial range,
 * PYPROF_SAMPLER_GONE when the process no longer exists,
 * PYPROF_SAMPLER_PERMISSION when reading is not allowed. */
typedef int (*pyprof_memory_read_fn)(void *ctx, uint64_t addr, void *buf,
                                     size_t len);

typedef struct {
    pyprof_memory_read_fn read;
    void *ctx;
} pyprof_memory_reader_t;

/* A reader of the live process `pid` through process_vm_readv (no state:
 * ctx holds the pid itself). */
void pyprof_memory_process(pyprof_memory_reader_t *reader, pid_t pid);

/* An image: ranges of a fake address space.  Ranges must not overlap; a
 * read must fall inside one range. */
typedef struct {
    uint64_t addr;
    const unsigned char *data;  /* borrowed */
    size_t len;
} pyprof_memory_range_t;

typedef struct {
    const pyprof_memory_range_t *ranges;  /* borrowed */
    size_t nranges;
} pyprof_memory_image_t;

/* A reader of `image` (borrowed; must outlive the reader). */
void pyprof_memory_image(pyprof_memory_reader_t *reader,
                         const pyprof_memory_image_t *image);

#endif
