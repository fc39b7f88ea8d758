/* section.h - the binary sections pyprof appends to its pstats files.
 *
 * The call-path trailer (calltree_file.c) and the sample section
 * (recording.c) share one framing: a body of little-endian integers and
 * IEEE doubles, then a footer of the body's length (u64) and an 8-byte
 * magic that ends the section.  A reader finds the last section from the
 * end of the file, the one before it from that section's start.  These
 * are the writers and readers of that framing, inline: each is a few
 * instructions and both sides of every file go through them.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_SECTION_H
#define PYPROF_SECTION_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sink.h"

#define PYPROF_SECTION_FOOT_BYTES 16u   /* body length + magic */

static inline void
pyprof_section_put_u32(pyprof_sink_t *out, uint32_t v)
{
    unsigned char b[4];
    for (int i = 0; i < 4; i++) {
        b[i] = (unsigned char)(v >> (8 * i));
    }
    pyprof_sink_write(out, b, 4);
}

static inline void
pyprof_section_put_u64(pyprof_sink_t *out, uint64_t v)
{
    pyprof_section_put_u32(out, (uint32_t)v);
    pyprof_section_put_u32(out, (uint32_t)(v >> 32));
}

static inline void
pyprof_section_put_f64(pyprof_sink_t *out, double d)
{
    uint64_t v;
    memcpy(&v, &d, sizeof(v));
    pyprof_section_put_u64(out, v);
}

/* The footer that ends a section whose body was `body_len` bytes. */
static inline void
pyprof_section_put_footer(pyprof_sink_t *out, uint64_t body_len,
                          const char magic[8])
{
    pyprof_section_put_u64(out, body_len);
    pyprof_sink_write(out, magic, 8);
}

/* The `n` (at most 8) little-endian bytes at p as an unsigned number. */
static inline uint64_t
pyprof_section_get(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

static inline uint32_t
pyprof_section_get_u32(const unsigned char *p)
{
    return (uint32_t)pyprof_section_get(p, 4);
}

static inline uint64_t
pyprof_section_get_u64(const unsigned char *p)
{
    return pyprof_section_get(p, 8);
}

static inline double
pyprof_section_get_f64(const unsigned char *p)
{
    uint64_t v = pyprof_section_get_u64(p);
    double d;
    memcpy(&d, &v, sizeof(d));
    return d;
}

/* Whether data[0..end) ends with the footer `magic`; if so the body
 * length it records is stored in *body_len, unchecked (the caller knows
 * the least a body holds: compare with end - PYPROF_SECTION_FOOT_BYTES). */
static inline int
pyprof_section_footer(const unsigned char *data, size_t end,
                      const char magic[8], uint64_t *body_len)
{
    if (end < PYPROF_SECTION_FOOT_BYTES
        || memcmp(data + end - 8, magic, 8) != 0) {
        return 0;
    }
    *body_len = pyprof_section_get_u64(data + end
                                       - PYPROF_SECTION_FOOT_BYTES);
    return 1;
}

#endif
