/* linetable.c - CPython's two line-table formats, decoded in plain C.
 *
 * 3.10 (Objects/lnotab_notes.txt): pairs (bytecode delta: unsigned byte,
 * line delta: signed byte, -128 meaning "no line"); an address range may
 * span several pairs of zero width, which are stepped over.
 *
 * 3.11+ (Objects/locations.md): entries that start with a byte whose top
 * bit is set: bits 3-6 the code, bits 0-2 the length in code units minus
 * one.  Code 15: no location; 14: long form (line delta as a signed
 * varint, then end line, column and end column varints); 13: no columns
 * (line delta as a signed varint); 10-12: one line form with line delta
 * code-10; 0-9: short form, same line.  Varints hold 6 bits per byte, bit
 * 6 set when another byte follows; a signed varint keeps the sign in bit
 * 0.  Only the line delta is needed here.
 */
#include <stdlib.h>

#include "linetable.h"
#include "offsets.h"

#define CODE_UNIT 2        /* sizeof(_Py_CODEUNIT) */
#define NO_LINE_310 (-128)

/* An unsigned varint at table[*pos], advancing *pos; bounded: at most 5
 * bytes are taken so a garbage table cannot overflow the shift. */
static unsigned
read_varint(const uint8_t *table, size_t len, size_t *pos)
{
    unsigned value = 0;
    unsigned shift = 0;
    while (*pos < len && shift < 30) {
        uint8_t byte = table[(*pos)++];
        value |= (unsigned)(byte & 63) << shift;
        shift += 6;
        if (!(byte & 64)) {
            break;
        }
    }
    return value;
}

static int
read_signed_varint(const uint8_t *table, size_t len, size_t *pos)
{
    unsigned value = read_varint(table, len, pos);
    return (value & 1) ? -(int)(value >> 1) : (int)(value >> 1);
}

static int
line_delta_311(const uint8_t *table, size_t len, size_t entry)
{
    int code = (table[entry] >> 3) & 15;
    size_t pos = entry + 1;
    switch (code) {
    case 15: /* no location */
        return 0;
    case 14: /* long form */
    case 13: /* no columns */
        return read_signed_varint(table, len, &pos);
    case 10:
    case 11:
    case 12: /* one line form */
        return code - 10;
    default: /* short form */
        return 0;
    }
}

/* One step over a table: the next address range and its line.  The
 * state starts zeroed, with `line` = firstlineno. */
typedef struct {
    const uint8_t *table;
    size_t len;
    int format;
    size_t pos;         /* the next pair (3.10) or entry (3.11+) */
    long end;           /* where the last range ended (bytes) */
    long line;          /* the running line number */
} cursor_t;

/* The next range [*start, *end) into *line (-1: no line); 0 at the end of
 * the table (or past MAX_ADDRESS, where no frame can be). */
static int
next_range(cursor_t *cur, long *start, long *end, int *line)
{
    if (cur->end >= PYPROF_LINETABLE_MAX_ADDRESS) {
        return 0;
    }
    if (cur->format == PYPROF_LINETABLE_310) {
        if (cur->pos + 1 >= cur->len) {
            return 0;
        }
        int delta = (int8_t)cur->table[cur->pos + 1];
        *start = cur->end;
        cur->end += cur->table[cur->pos];
        cur->pos += 2;
        *line = -1;
        if (delta != NO_LINE_310) {
            cur->line += delta;
            *line = (int)cur->line;
        }
        *end = cur->end;
        return 1;
    }
    if (cur->pos >= cur->len) {
        return 0;
    }
    uint8_t first = cur->table[cur->pos];
    cur->line += line_delta_311(cur->table, cur->len, cur->pos);
    *start = cur->end;
    cur->end += ((first & 7) + 1) * CODE_UNIT;
    *end = cur->end;
    *line = ((first >> 3) & 15) == 15 ? -1 : (int)cur->line;
    /* the next entry starts at the next byte with the top bit set */
    do {
        cur->pos++;
    } while (cur->pos < cur->len && !(cur->table[cur->pos] & 128));
    return 1;
}

int
pyprof_linetable_line(int format, const uint8_t *table, size_t len,
                      int firstlineno, int addr)
{
    if (addr < 0) {
        return firstlineno;
    }
    cursor_t cur = {table, len, format, 0, 0, firstlineno};
    long start, end;
    int line;
    while (next_range(&cur, &start, &end, &line)) {
        if (start <= addr && addr < end) {
            return line;
        }
    }
    return -1;
}

int
pyprof_linetable_decode(int format, const uint8_t *table, size_t len,
                        int firstlineno, pyprof_line_range_t **ranges,
                        size_t *count)
{
    /* at most one range per pair or entry, so len bounds the count */
    size_t cap = (format == PYPROF_LINETABLE_310 ? len / 2 : len) + 1;
    pyprof_line_range_t *out = malloc(cap * sizeof(*out));
    if (out == NULL) {
        return -1;
    }
    cursor_t cur = {table, len, format, 0, 0, firstlineno};
    long start, end;
    int line;
    size_t n = 0;
    while (next_range(&cur, &start, &end, &line) && n < cap) {
        if (end == start) {
            continue;   /* a zero-width range holds no address */
        }
        if (n > 0 && out[n - 1].line == line) {
            out[n - 1].end = (uint32_t)end;   /* same line: one range */
            continue;
        }
        out[n++] = (pyprof_line_range_t){(uint32_t)end, line};
    }
    *ranges = out;
    *count = n;
    return 0;
}

int
pyprof_linetable_find(const pyprof_line_range_t *ranges, size_t count,
                      int firstlineno, int addr)
{
    if (addr < 0) {
        return firstlineno;
    }
    /* the first range that ends after addr (ranges are contiguous from
     * address 0, in order) */
    size_t low = 0, high = count;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        if ((long)ranges[mid].end <= addr) {
            low = mid + 1;
        }
        else {
            high = mid;
        }
    }
    return low < count ? ranges[low].line : -1;
}
