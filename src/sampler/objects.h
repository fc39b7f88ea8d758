/* objects.h - reading CPython objects (str, bytes) out of a target.
 *
 * Counted reads (for the sampler's statistics) and the two object kinds
 * the sampler needs as values: code names and file names (str, compact
 * forms only) and line tables (bytes).  Lengths are bounded: a string or
 * table larger than the cap, or with an impossible header, is refused.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_SAMPLER_OBJECTS_H
#define PYPROF_SAMPLER_OBJECTS_H

#include <stddef.h>
#include <stdint.h>

#include "memory.h"
#include "offsets.h"

#define PYPROF_MAX_STRING_CHARS 4096       /* names and file names */
#define PYPROF_MAX_LINETABLE_BYTES (1u << 20)

typedef struct {
    pyprof_memory_reader_t reader;
    uint64_t reads;
    uint64_t bytes;
} pyprof_remote_t;

/* Copy target memory (see pyprof_memory_read_fn); counts the read. */
int pyprof_remote_read(pyprof_remote_t *remote, uint64_t addr, void *buf,
                       size_t len);

/* Several independent reads at once (one syscall for a live process);
 * counts one read per syscall.  Returns 0 or the status of a failed read
 * (which buffers were filled is then undefined). */
int pyprof_remote_readv(pyprof_remote_t *remote,
                        const pyprof_memory_read_t *reads, size_t count);

/* A speculative batch (see pyprof_memory_gather_fn): ok[i] says which
 * reads were copied whole; returns 0, GONE or PERMISSION. */
int pyprof_remote_gather(pyprof_remote_t *remote,
                         const pyprof_memory_read_t *reads, size_t count,
                         unsigned char *ok);

/* The 8-byte word at `addr` into *value.  Returns 0 or a status. */
int pyprof_remote_u64(pyprof_remote_t *remote, uint64_t addr,
                      uint64_t *value);

/* The str object at `addr` as a new malloc'd NUL-terminated UTF-8 string
 * in *out (the caller frees it).  Returns 0, or INCONSISTENT for a string
 * that is not compact, too long, or unreadable; NO_MEMORY. */
int pyprof_remote_unicode(pyprof_remote_t *remote,
                          const pyprof_layout_t *layout, uint64_t addr,
                          char **out);

/* The bytes object at `addr` as a new malloc'd buffer in *out, its length
 * in *len (the caller frees it).  Returns 0 or a status. */
int pyprof_remote_bytes(pyprof_remote_t *remote,
                        const pyprof_layout_t *layout, uint64_t addr,
                        uint8_t **out, size_t *len);

#endif
