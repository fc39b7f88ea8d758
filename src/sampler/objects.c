/* objects.c - str and bytes read out of a target (see objects.h).
 *
 * A str is read in two steps: the header (as large as a compact
 * non-ASCII header, which may run past a short ASCII string's end -- so a
 * failed large read is retried with the ASCII header size), then the
 * characters, converted to UTF-8 here.  PyASCIIObject.state bit layout
 * (the default build, 3.10-3.15): interned 2 bits, kind 3, compact 1,
 * ascii 1.
 */
#include <stdlib.h>
#include <string.h>

#include "objects.h"
#include "sampler.h"

int
pyprof_remote_read(pyprof_remote_t *remote, uint64_t addr, void *buf,
                   size_t len)
{
    remote->reads++;
    remote->bytes += len;
    return remote->reader.read(remote->reader.ctx, addr, buf, len);
}

int
pyprof_remote_readv(pyprof_remote_t *remote,
                    const pyprof_memory_read_t *reads, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        remote->bytes += reads[i].len;
    }
    if (remote->reader.readv != NULL && count <= PYPROF_MEMORY_MAX_READV) {
        remote->reads++;
        return remote->reader.readv(remote->reader.ctx, reads, count);
    }
    for (size_t i = 0; i < count; i++) {
        remote->reads++;
        int rc = remote->reader.read(remote->reader.ctx, reads[i].addr,
                                     reads[i].buf, reads[i].len);
        if (rc) {
            return rc;
        }
    }
    return 0;
}

int
pyprof_remote_gather(pyprof_remote_t *remote,
                     const pyprof_memory_read_t *reads, size_t count,
                     unsigned char *ok)
{
    for (size_t i = 0; i < count; i++) {
        remote->bytes += reads[i].len;
    }
    if (remote->reader.gather != NULL) {
        remote->reads++;
        return remote->reader.gather(remote->reader.ctx, reads, count, ok);
    }
    for (size_t i = 0; i < count; i++) {
        remote->reads++;
        int rc = remote->reader.read(remote->reader.ctx, reads[i].addr,
                                     reads[i].buf, reads[i].len);
        ok[i] = rc == 0;
        if (rc == PYPROF_SAMPLER_GONE || rc == PYPROF_SAMPLER_PERMISSION) {
            return rc;
        }
    }
    return 0;
}

int
pyprof_remote_u64(pyprof_remote_t *remote, uint64_t addr, uint64_t *value)
{
    return pyprof_remote_read(remote, addr, value, sizeof(*value));
}

static uint64_t
field_u64(const unsigned char *base, uint64_t offset)
{
    uint64_t value;
    memcpy(&value, base + offset, sizeof(value));
    return value;
}

static uint32_t
field_u32(const unsigned char *base, uint64_t offset)
{
    uint32_t value;
    memcpy(&value, base + offset, sizeof(value));
    return value;
}

/* Append code point `cp` as UTF-8 at out[*n]; out has room for 4 more.
 * Surrogates and out-of-range values become U+FFFD. */
static void
put_utf8(char *out, size_t *n, uint32_t cp)
{
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
        cp = 0xFFFD;
    }
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    }
    else if (cp < 0x800) {
        out[(*n)++] = (char)(0xC0 | (cp >> 6));
        out[(*n)++] = (char)(0x80 | (cp & 63));
    }
    else if (cp < 0x10000) {
        out[(*n)++] = (char)(0xE0 | (cp >> 12));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 63));
        out[(*n)++] = (char)(0x80 | (cp & 63));
    }
    else {
        out[(*n)++] = (char)(0xF0 | (cp >> 18));
        out[(*n)++] = (char)(0x80 | ((cp >> 12) & 63));
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 63));
        out[(*n)++] = (char)(0x80 | (cp & 63));
    }
}

static char *
to_utf8(const unsigned char *data, size_t length, unsigned kind)
{
    char *out = malloc(length * 4 + 1);
    if (out == NULL) {
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < length; i++) {
        uint32_t cp;
        if (kind == 1) {
            cp = data[i];
        }
        else if (kind == 2) {
            uint16_t unit;
            memcpy(&unit, data + 2 * i, 2);
            cp = unit;
        }
        else {
            memcpy(&cp, data + 4 * i, 4);
        }
        if (cp == 0) {
            cp = 0xFFFD; /* keep the result one C string */
        }
        put_utf8(out, &n, cp);
    }
    out[n] = '\0';
    return out;
}

int
pyprof_remote_unicode(pyprof_remote_t *remote, const pyprof_layout_t *layout,
                      uint64_t addr, char **out)
{
    unsigned char head[256];
    size_t head_len = layout->unicode_compact_size;
    if (addr == 0 || head_len > sizeof(head)) {
        return PYPROF_SAMPLER_INCONSISTENT;
    }
    int rc = pyprof_remote_read(remote, addr, head, head_len);
    if (rc == PYPROF_SAMPLER_INCONSISTENT) {
        head_len = layout->unicode_ascii_size;
        rc = pyprof_remote_read(remote, addr, head, head_len);
    }
    if (rc) {
        return rc;
    }
    uint64_t length = field_u64(head, layout->unicode_length);
    uint32_t state = field_u32(head, layout->unicode_state);
    unsigned kind = (state >> 2) & 7;
    unsigned compact = (state >> 5) & 1;
    unsigned ascii = (state >> 6) & 1;
    if (!compact || length > PYPROF_MAX_STRING_CHARS
        || (kind != 1 && kind != 2 && kind != 4) || (ascii && kind != 1)) {
        return PYPROF_SAMPLER_INCONSISTENT;
    }
    if (!ascii && head_len < layout->unicode_compact_size) {
        return PYPROF_SAMPLER_INCONSISTENT;
    }
    uint64_t data_addr = addr + (ascii ? layout->unicode_ascii_size
                                       : layout->unicode_compact_size);
    size_t data_len = (size_t)length * kind;
    unsigned char *data = malloc(data_len ? data_len : 1);
    if (data == NULL) {
        return PYPROF_SAMPLER_NO_MEMORY;
    }
    rc = pyprof_remote_read(remote, data_addr, data, data_len);
    if (rc == 0) {
        *out = to_utf8(data, (size_t)length, kind);
        if (*out == NULL) {
            rc = PYPROF_SAMPLER_NO_MEMORY;
        }
    }
    free(data);
    return rc;
}

int
pyprof_remote_bytes(pyprof_remote_t *remote, const pyprof_layout_t *layout,
                    uint64_t addr, uint8_t **out, size_t *len)
{
    uint64_t size;
    if (addr == 0) {
        return PYPROF_SAMPLER_INCONSISTENT;
    }
    int rc = pyprof_remote_u64(remote, addr + layout->bytes_size, &size);
    if (rc) {
        return rc;
    }
    if (size > PYPROF_MAX_LINETABLE_BYTES) {
        return PYPROF_SAMPLER_INCONSISTENT;
    }
    uint8_t *data = malloc(size ? (size_t)size : 1);
    if (data == NULL) {
        return PYPROF_SAMPLER_NO_MEMORY;
    }
    rc = pyprof_remote_read(remote, addr + layout->bytes_sval, data,
                            (size_t)size);
    if (rc) {
        free(data);
        return rc;
    }
    *out = data;
    *len = (size_t)size;
    return 0;
}
