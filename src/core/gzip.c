/* gzip.c - gzip framing with stored deflate blocks (see gzip.h).
 *
 * A stored block is a 3-bit header (BFINAL, BTYPE=00) padded to a byte,
 * then LEN and its one's complement NLEN (16 bits each, little-endian)
 * and LEN raw bytes; so each block carries at most 65535 bytes.  The
 * member ends with the CRC-32 and the length modulo 2^32 of the data.
 */
#include "gzip.h"

#define STORED_MAX 65535u

static uint32_t crc_table[256];
static int crc_table_ready;     /* set once; the table is a pure function */

static void
make_crc_table(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? UINT32_C(0xEDB88320) ^ (c >> 1) : c >> 1;
        }
        crc_table[n] = c;
    }
    crc_table_ready = 1;
}

uint32_t
pyprof_crc32(uint32_t crc, const void *data, size_t len)
{
    if (!crc_table_ready) {
        make_crc_table();
    }
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc = crc_table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    }
    return ~crc;
}

static void
put_le32(pyprof_sink_t *out, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8),
                          (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
    pyprof_sink_write(out, b, 4);
}

void
pyprof_gzip_write(pyprof_sink_t *out, const void *data, size_t len)
{
    /* ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=3 (Unix) */
    static const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0,
                                             0, 0, 0, 3};
    pyprof_sink_write(out, header, sizeof(header));
    const unsigned char *p = data;
    size_t left = len;
    do {
        size_t n = left > STORED_MAX ? STORED_MAX : left;
        unsigned char block[5] = {
            (unsigned char)(n == left ? 1 : 0),
            (unsigned char)n, (unsigned char)(n >> 8),
            (unsigned char)~n, (unsigned char)(~n >> 8)};
        pyprof_sink_write(out, block, sizeof(block));
        pyprof_sink_write(out, p, n);
        p += n;
        left -= n;
    } while (left > 0);
    put_le32(out, pyprof_crc32(0, data, len));
    put_le32(out, (uint32_t)len);
}
