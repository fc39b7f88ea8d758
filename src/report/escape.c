/* escape.c - escaping for markup, JSON and line formats.
 *
 * All three walk the string once, decoding UTF-8 so that a malformed
 * sequence is replaced rather than copied: a browser or JSON parser
 * fed broken UTF-8 may reject the whole file.
 */
#include "escape.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define REPLACEMENT 0xFFFDu

/* Decode one code point at s; *len gets its byte length (at least 1).
 * Malformed or overlong sequences and surrogates give REPLACEMENT. */
static uint32_t
decode(const unsigned char *s, size_t *len)
{
    unsigned c = s[0];
    size_t n;
    uint32_t cp, min;
    if (c < 0x80) {
        *len = 1;
        return c;
    }
    if ((c & 0xE0) == 0xC0) {
        n = 2; cp = c & 0x1F; min = 0x80;
    }
    else if ((c & 0xF0) == 0xE0) {
        n = 3; cp = c & 0x0F; min = 0x800;
    }
    else if ((c & 0xF8) == 0xF0) {
        n = 4; cp = c & 0x07; min = 0x10000;
    }
    else {
        *len = 1;
        return REPLACEMENT;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {  /* also stops at the NUL */
            *len = i;
            return REPLACEMENT;
        }
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    *len = n;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return REPLACEMENT;
    }
    return cp;
}

static void
put_utf8(pyprof_sink_t *out, uint32_t cp)
{
    unsigned char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp; n = 1;
    }
    else if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3F)); n = 2;
    }
    else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F)); n = 3;
    }
    else {
        b[0] = (unsigned char)(0xF0 | (cp >> 18));
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (unsigned char)(0x80 | (cp & 0x3F)); n = 4;
    }
    pyprof_sink_write(out, b, n);
}

void
pyprof_escape_markup(pyprof_sink_t *out, const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    while (*s) {
        size_t len;
        uint32_t cp = decode(s, &len);
        s += len;
        switch (cp) {
        case '&': pyprof_sink_puts(out, "&amp;"); break;
        case '<': pyprof_sink_puts(out, "&lt;"); break;
        case '>': pyprof_sink_puts(out, "&gt;"); break;
        case '"': pyprof_sink_puts(out, "&quot;"); break;
        case '\'': pyprof_sink_puts(out, "&#39;"); break;
        default:
            if ((cp < 0x20 && cp != '\t' && cp != '\n') || cp == 0x7F) {
                cp = REPLACEMENT;
            }
            put_utf8(out, cp);
        }
    }
}

void
pyprof_escape_json(pyprof_sink_t *out, const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    pyprof_sink_putc(out, '"');
    while (*s) {
        size_t len;
        uint32_t cp = decode(s, &len);
        s += len;
        switch (cp) {
        case '"': pyprof_sink_puts(out, "\\\""); break;
        case '\\': pyprof_sink_puts(out, "\\\\"); break;
        case '\n': pyprof_sink_puts(out, "\\n"); break;
        case '\t': pyprof_sink_puts(out, "\\t"); break;
        case '\r': pyprof_sink_puts(out, "\\r"); break;
        default:
            if (cp < 0x20 || cp == '<' || cp == '>' || cp == '&'
                || cp == 0x2028 || cp == 0x2029) {
                pyprof_sink_printf(out, "\\u%04x", (unsigned)cp);
            }
            else {
                put_utf8(out, cp);
            }
        }
    }
    pyprof_sink_putc(out, '"');
}

void
pyprof_escape_json_number(pyprof_sink_t *out, double value)
{
    if (!isfinite(value)) {
        pyprof_sink_putc(out, '0');
        return;
    }
    if (fabs(value) < 1e15 && value == (double)(int64_t)value) {
        pyprof_sink_printf(out, "%lld", (long long)value);
        return;
    }
    pyprof_sink_printf(out, "%.10g", value);
}

void
pyprof_escape_line_field(pyprof_sink_t *out, const char *text,
                         const char *forbidden, char replacement)
{
    for (const char *p = text; *p; p++) {
        char c = *p;
        if (c == '\n' || c == '\r') {
            c = ' ';
        }
        else if (forbidden != NULL && strchr(forbidden, c) != NULL) {
            c = replacement;
        }
        pyprof_sink_putc(out, c);
    }
}
