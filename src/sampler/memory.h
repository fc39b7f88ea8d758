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

/* One of several reads made at once. */
typedef struct {
    uint64_t addr;
    void *buf;
    size_t len;
} pyprof_memory_read_t;

/* Several independent reads in one go (one syscall for a live process):
 * 0 when every one was copied whole, else the status of a failed one. */
typedef int (*pyprof_memory_readv_fn)(void *ctx,
                                      const pyprof_memory_read_t *reads,
                                      size_t count);

/* As many of `count` independent reads as can be made, at once (a
 * speculative prefetch: any may fail): ok[i] is set to 1 for each read
 * copied whole, 0 for the others.  Returns 0; or PYPROF_SAMPLER_GONE or
 * PYPROF_SAMPLER_PERMISSION when nothing can be read at all. */
typedef int (*pyprof_memory_gather_fn)(void *ctx,
                                       const pyprof_memory_read_t *reads,
                                       size_t count, unsigned char *ok);

/* `readv` and `gather` may be NULL: the reads are then made one by one
 * with `read` (pyprof_remote_readv and _gather in objects.h), with the
 * same result. */
typedef struct {
    pyprof_memory_read_fn read;
    pyprof_memory_readv_fn readv;
    void *ctx;
    pyprof_memory_gather_fn gather;
} pyprof_memory_reader_t;

/* At most this many reads in one readv. */
#define PYPROF_MEMORY_MAX_READV 12

/* At most this many reads in one gather (IOV_MAX on Linux). */
#define PYPROF_MEMORY_MAX_GATHER 1024

/* A reader of the live process `pid` through process_vm_readv (no state:
 * ctx holds the pid itself); its readv is one process_vm_readv with one
 * iovec per read, and so is its gather while every read succeeds (after a
 * read that fails, the rest are read in one more). */
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
