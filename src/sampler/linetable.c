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
#include "linetable.h"
#include "offsets.h"

#define CODE_UNIT 2        /* sizeof(_Py_CODEUNIT) */
#define NO_LINE_310 (-128)

static int
line_310(const uint8_t *table, size_t len, int firstlineno, int addr)
{
    int line = firstlineno;
    long end = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        long start = end;
        end += table[i];
        int delta = (int8_t)table[i + 1];
        int range_line = -1;
        if (delta != NO_LINE_310) {
            line += delta;
            range_line = line;
        }
        if (start <= addr && addr < end) {
            return range_line;
        }
    }
    return -1;
}

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

static int
line_311(const uint8_t *table, size_t len, int firstlineno, int addr)
{
    long line = firstlineno;
    long end = 0;
    size_t entry = 0;
    while (entry < len) {
        uint8_t first = table[entry];
        line += line_delta_311(table, len, entry);
        long start = end;
        end += ((first & 7) + 1) * CODE_UNIT;
        if (start <= addr && addr < end) {
            return ((first >> 3) & 15) == 15 ? -1 : (int)line;
        }
        /* the next entry starts at the next byte with the top bit set */
        do {
            entry++;
        } while (entry < len && !(table[entry] & 128));
    }
    return -1;
}

int
pyprof_linetable_line(int format, const uint8_t *table, size_t len,
                      int firstlineno, int addr)
{
    if (addr < 0) {
        return firstlineno;
    }
    if (format == PYPROF_LINETABLE_310) {
        return line_310(table, len, firstlineno, addr);
    }
    return line_311(table, len, firstlineno, addr);
}
