/* gzip.h - gzip members for the formats that must be gzipped (pprof).
 *
 * pyprof needs nothing at run time but CPython, and CPython does not
 * always come with zlib, so this writes gzip itself: RFC 1952 framing
 * around an RFC 1951 stream of stored (uncompressed) blocks, with the
 * CRC-32 the trailer needs.  Every gzip reader accepts it; the file is
 * only a little larger than its content.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_GZIP_H
#define PYPROF_GZIP_H

#include <stddef.h>
#include <stdint.h>

#include "sink.h"

/* CRC-32 (ISO 3309, as gzip and zlib compute it) of len bytes, continuing
 * from `crc` (0 to start). */
uint32_t pyprof_crc32(uint32_t crc, const void *data, size_t len);

/* Write one gzip member holding `len` bytes of `data` to `out` (errors
 * are the sink's, sticky). */
void pyprof_gzip_write(pyprof_sink_t *out, const void *data, size_t len);

#endif
