/* pstats_file.c - marshal reader and writer for pstats files, in plain C.
 *
 * Reading is two passes.  The first decodes the marshal stream into a small
 * tree of nodes (ints, floats, UTF-8 strings, tuples, lists, dicts) held in
 * one arena; references ('r' and FLAG_REF) point at an earlier node, so the
 * tree is really a graph, possibly with cycles.  The second pass walks that
 * graph in the fixed pstats shape, which bounds its depth no matter what
 * the references do, and fills the model.  Two passes because a caller may
 * be listed before its own entry and the model must keep dict order.
 *
 * Every length, count and reference index is checked against the bytes
 * that remain before anything is allocated for it: a node costs at least
 * one input byte, so the arena never outgrows a small multiple of the
 * input.  Shared references could still make the second pass quadratic
 * (one large callers dict referenced by every entry), so it gets a work
 * budget proportional to the input size; real files never come near it.
 *
 * Writing emits marshal version 4: key tuples carry FLAG_REF the first
 * time they are written and are referenced afterwards, as CPython does
 * for the shared key tuples of cProfile's dict.
 */
#define _POSIX_C_SOURCE 200809L
#include "pstats_file.h"

#include "filekind.h"
#include "output.h"
#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Marshal type codes (CPython Python/marshal.c). */
#define FLAG_REF 0x80
#define TYPE_NULL '0'
#define TYPE_NONE 'N'
#define TYPE_FALSE 'F'
#define TYPE_TRUE 'T'
#define TYPE_INT 'i'
#define TYPE_INT64 'I'
#define TYPE_LONG 'l'
#define TYPE_FLOAT 'f'
#define TYPE_BINARY_FLOAT 'g'
#define TYPE_UNICODE 'u'
#define TYPE_INTERNED 't'
#define TYPE_ASCII 'a'
#define TYPE_ASCII_INTERNED 'A'
#define TYPE_SHORT_ASCII 'z'
#define TYPE_SHORT_ASCII_INTERNED 'Z'
#define TYPE_TUPLE '('
#define TYPE_SMALL_TUPLE ')'
#define TYPE_LIST '['
#define TYPE_DICT '{'
#define TYPE_REF 'r'

/* Deeper than any pstats dict (4 levels) by far, shallow enough that the
 * recursive decoder cannot exhaust the C stack. */
#define MAX_DEPTH 64


typedef enum {
    NODE_NONE,
    NODE_BOOL,
    NODE_INT,
    NODE_FLOAT,
    NODE_STR,
    NODE_TUPLE,
    NODE_LIST,
    NODE_DICT,
} node_kind_t;

typedef struct node {
    node_kind_t kind;
    size_t n;               /* items of a tuple/list, pairs of a dict */
    union {
        int64_t i;          /* NODE_INT, NODE_BOOL */
        double f;           /* NODE_FLOAT */
        char *s;            /* NODE_STR: NUL-terminated UTF-8 */
        struct node **items; /* tuple/list items; dict key, value, ... */
    } u;
} node_t;

typedef struct block {
    struct block *next;
    size_t used;
    size_t size;
    max_align_t data[];     /* `size` bytes follow */
} block_t;

typedef struct {
    const unsigned char *pos;
    const unsigned char *end;
    block_t *blocks;        /* arena of nodes, item arrays and strings */
    node_t **refs;          /* FLAG_REF table; NULL = reserved, unfilled */
    size_t nrefs;
    size_t refs_cap;
    int depth;
    char *errbuf;
    size_t errlen;
    int failed;
} reader_t;

static void
fail(reader_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
fail(reader_t *r, const char *fmt, ...)
{
    if (r->failed) {
        return;
    }
    r->failed = 1;
    if (r->errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->errbuf, r->errlen, fmt, ap);
        va_end(ap);
    }
}

static void *
arena_alloc(reader_t *r, size_t size)
{
    size = (size + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    block_t *b = r->blocks;
    if (b == NULL || b->size - b->used < size) {
        size_t bsize = size > 65536 ? size : 65536;
        b = malloc(sizeof(block_t) + bsize);
        if (b == NULL) {
            fail(r, "out of memory");
            return NULL;
        }
        b->used = 0;
        b->size = bsize;
        b->next = r->blocks;
        r->blocks = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += size;
    return p;
}

static void
arena_free(reader_t *r)
{
    while (r->blocks != NULL) {
        block_t *next = r->blocks->next;
        free(r->blocks);
        r->blocks = next;
    }
    free(r->refs);
    r->refs = NULL;
}

static size_t
remaining(const reader_t *r)
{
    return (size_t)(r->end - r->pos);
}

static const unsigned char *
take(reader_t *r, size_t n)
{
    if (remaining(r) < n) {
        fail(r, "truncated: marshal data ends early");
        return NULL;
    }
    const unsigned char *p = r->pos;
    r->pos += n;
    return p;
}

static int
read_byte(reader_t *r, unsigned *out)
{
    const unsigned char *p = take(r, 1);
    if (p == NULL) {
        return -1;
    }
    *out = p[0];
    return 0;
}

/* A little-endian signed 32-bit value (marshal's r_long). */
static int
read_int32(reader_t *r, int32_t *out)
{
    const unsigned char *p = take(r, 4);
    if (p == NULL) {
        return -1;
    }
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16
                 | (uint32_t)p[3] << 24;
    *out = (int32_t)v;
    return 0;
}

/* A length field that must be >= 0 and, since each of the `n` things it
 * counts takes at least `unit` bytes, fit in what remains. */
static int
read_length(reader_t *r, size_t unit, const char *what, size_t *out)
{
    int32_t n;
    if (read_int32(r, &n) < 0) {
        return -1;
    }
    if (n < 0) {
        fail(r, "bad marshal data (%s size out of range)", what);
        return -1;
    }
    if ((size_t)n > remaining(r) / unit) {
        fail(r, "truncated: marshal data ends early");
        return -1;
    }
    *out = (size_t)n;
    return 0;
}

static node_t *
new_node(reader_t *r, node_kind_t kind)
{
    node_t *node = arena_alloc(r, sizeof(node_t));
    if (node != NULL) {
        memset(node, 0, sizeof(*node));
        node->kind = kind;
    }
    return node;
}

/* Reserve the next reference slot when the type byte had FLAG_REF.  CPython
 * numbers an object when it is created, containers before their items. */
static int
reserve_ref(reader_t *r, int flag, size_t *slot)
{
    if (!flag) {
        return 0;
    }
    if (r->nrefs == r->refs_cap) {
        size_t cap = r->refs_cap ? r->refs_cap * 2 : 64;
        node_t **grown = realloc(r->refs, cap * sizeof(node_t *));
        if (grown == NULL) {
            fail(r, "out of memory");
            return -1;
        }
        r->refs = grown;
        r->refs_cap = cap;
    }
    *slot = r->nrefs;
    r->refs[r->nrefs++] = NULL;
    return 0;
}

static node_t *
filled_ref(reader_t *r, int flag, size_t slot, node_t *node)
{
    if (flag && node != NULL) {
        r->refs[slot] = node;
    }
    return node;
}

/* Append the UTF-8 encoding of code point `cp` (< 0x110000) to `out`. */
static size_t
put_utf8(unsigned cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Length of the valid UTF-8 sequence at p (n bytes available), as
 * PyUnicode_DecodeUTF8(..., "surrogatepass") accepts it, or 0. */
static size_t
utf8_sequence(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    if (c < 0x80) {
        return 1;
    }
    size_t len;
    unsigned cp;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    }
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    }
    else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    }
    else {
        return 0;
    }
    if (n < len) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = cp << 6 | (p[i] & 0x3f);
    }
    /* Overlong forms and code points above U+10FFFF are errors even with
     * surrogatepass; encoded surrogates (U+D800-DFFF) are allowed. */
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000
                                                  || cp > 0x10ffff))) {
        return 0;
    }
    return len;
}

/* A string node from n bytes: Latin-1 for the ASCII types (CPython builds
 * them with PyUnicode_FromKindAndData(1BYTE_KIND)), UTF-8 otherwise. */
static node_t *
read_string(reader_t *r, size_t n, int latin1)
{
    const unsigned char *p = take(r, n);
    if (p == NULL) {
        return NULL;
    }
    node_t *node = new_node(r, NODE_STR);
    char *s = node ? arena_alloc(r, (latin1 ? 2 * n : n) + 1) : NULL;
    if (s == NULL) {
        return NULL;
    }
    size_t len = 0;
    if (latin1) {
        for (size_t i = 0; i < n; i++) {
            len += put_utf8(p[i], s + len);
        }
    }
    else {
        for (size_t i = 0; i < n;) {
            size_t k = utf8_sequence(p + i, n - i);
            if (k == 0) {
                fail(r, "bad marshal data (invalid UTF-8 in a string)");
                return NULL;
            }
            i += k;
        }
        memcpy(s, p, n);
        len = n;
    }
    s[len] = '\0';
    node->u.s = s;
    node->n = len;
    return node;
}

/* marshal's 'l': a sign-and-size count of 15-bit digits. */
static node_t *
read_long(reader_t *r)
{
    int32_t n;
    if (read_int32(r, &n) < 0) {
        return NULL;
    }
    int negative = n < 0;
    uint32_t ndigits = negative ? (uint32_t)0 - (uint32_t)n : (uint32_t)n;
    if (ndigits > remaining(r) / 2) {
        fail(r, "truncated: marshal data ends early");
        return NULL;
    }
    uint64_t magnitude = 0;
    for (uint32_t i = 0; i < ndigits; i++) {
        const unsigned char *p = take(r, 2);
        unsigned digit = (unsigned)p[0] | (unsigned)p[1] << 8;
        if (digit > 0x7fff) {
            fail(r, "bad marshal data (digit out of range in long)");
            return NULL;
        }
        if (digit == 0 && i == ndigits - 1) {
            fail(r, "bad marshal data (unnormalized long data)");
            return NULL;
        }
        if (digit == 0) {
            continue;
        }
        /* 64 bits hold digits 0-3 whole and 4 bits of digit 4. */
        if (i > 4 || (i == 4 && digit >> 4 != 0)) {
            fail(r, "integer too large for a pstats file");
            return NULL;
        }
        magnitude |= (uint64_t)digit << (15 * i);
    }
    if (magnitude > (uint64_t)INT64_MAX + (negative ? 1u : 0u)) {
        fail(r, "integer too large for a pstats file");
        return NULL;
    }
    node_t *node = new_node(r, NODE_INT);
    if (node != NULL) {
        node->u.i = negative ? (int64_t)(0 - magnitude) : (int64_t)magnitude;
    }
    return node;
}

/* marshal's 'f': a length byte and the repr of a float, which CPython
 * parses with PyOS_string_to_double: no whitespace, no hex, the whole
 * text up to the first NUL must be a float, overflow is an error. */
static node_t *
read_text_float(reader_t *r)
{
    unsigned n;
    if (read_byte(r, &n) < 0) {
        return NULL;
    }
    const unsigned char *p = take(r, n);
    if (p == NULL) {
        return NULL;
    }
    char text[256];
    memcpy(text, p, n);
    text[n] = '\0';
    const char *s = text;
    if (*s == '+' || *s == '-') {
        s++;
    }
    int ok = 0;
    if (strcasecmp(s, "inf") == 0 || strcasecmp(s, "infinity") == 0
        || strcasecmp(s, "nan") == 0) {
        ok = 1;
    }
    else {
        size_t digits = 0;
        while (*s >= '0' && *s <= '9') {
            s++, digits++;
        }
        if (*s == '.') {
            s++;
            while (*s >= '0' && *s <= '9') {
                s++, digits++;
            }
        }
        if (digits > 0 && (*s == 'e' || *s == 'E')) {
            s++;
            if (*s == '+' || *s == '-') {
                s++;
            }
            size_t exp_digits = 0;
            while (*s >= '0' && *s <= '9') {
                s++, exp_digits++;
            }
            digits = exp_digits > 0 ? digits : 0;
        }
        ok = digits > 0 && *s == '\0';
    }
    if (!ok) {
        fail(r, "bad marshal data (malformed text float)");
        return NULL;
    }
    errno = 0;
    double value = strtod(text, NULL);
    if (errno == ERANGE && fabs(value) >= 1.0) {
        fail(r, "bad marshal data (text float out of range)");
        return NULL;
    }
    node_t *node = new_node(r, NODE_FLOAT);
    if (node != NULL) {
        node->u.f = value;
    }
    return node;
}

static node_t *read_object(reader_t *r);

/* Read n items of a tuple or list into `node`. */
static node_t *
read_items(reader_t *r, node_t *node, size_t n)
{
    node->u.items = arena_alloc(r, (n ? n : 1) * sizeof(node_t *));
    if (node->u.items == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        node_t *item = read_object(r);
        if (item == NULL) {
            return NULL;
        }
        node->u.items[i] = item;
        node->n = i + 1;
    }
    return node;
}

/* Key/value pairs up to the TYPE_NULL that ends a dict.  The pair array
 * grows on the heap and moves into the arena once complete. */
static node_t *
read_dict(reader_t *r, node_t *node)
{
    node_t **pairs = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (remaining(r) == 0) {
            fail(r, "truncated: marshal data ends early");
            goto error;
        }
        if ((*r->pos & ~FLAG_REF) == TYPE_NULL) {
            r->pos++;
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            node_t **grown = realloc(pairs, cap * sizeof(node_t *));
            if (grown == NULL) {
                fail(r, "out of memory");
                goto error;
            }
            pairs = grown;
        }
        node_t *key = read_object(r);
        if (key == NULL) {
            goto error;
        }
        if (remaining(r) > 0 && (*r->pos & ~FLAG_REF) == TYPE_NULL) {
            /* CPython ends the dict here and drops the key; marshal.dump
             * never writes that, so treat it as damage. */
            fail(r, "bad marshal data (dict key without a value)");
            goto error;
        }
        node_t *value = read_object(r);
        if (value == NULL) {
            goto error;
        }
        pairs[n++] = key;
        pairs[n++] = value;
    }
    node->u.items = arena_alloc(r, (n ? n : 1) * sizeof(node_t *));
    if (node->u.items == NULL) {
        goto error;
    }
    if (n > 0) {
        memcpy(node->u.items, pairs, n * sizeof(node_t *));
    }
    node->n = n / 2;
    free(pairs);
    return node;
error:
    free(pairs);
    return NULL;
}

static node_t *
read_object_body(reader_t *r, unsigned code)
{
    int flag = (code & FLAG_REF) != 0;
    unsigned type = code & ~(unsigned)FLAG_REF;
    size_t slot = 0, n;
    int32_t value32;
    node_t *node;

    switch (type) {
    case TYPE_NONE:
        return new_node(r, NODE_NONE);
    case TYPE_TRUE:
    case TYPE_FALSE:
        node = new_node(r, NODE_BOOL);
        if (node != NULL) {
            node->u.i = type == TYPE_TRUE;
        }
        return node;
    case TYPE_INT:
        if (reserve_ref(r, flag, &slot) < 0 || read_int32(r, &value32) < 0) {
            return NULL;
        }
        node = new_node(r, NODE_INT);
        if (node != NULL) {
            node->u.i = value32;
        }
        return filled_ref(r, flag, slot, node);
    case TYPE_INT64: {
        if (reserve_ref(r, flag, &slot) < 0) {
            return NULL;
        }
        const unsigned char *p = take(r, 8);
        if (p == NULL) {
            return NULL;
        }
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--) {
            v = v << 8 | p[i];
        }
        node = new_node(r, NODE_INT);
        if (node != NULL) {
            node->u.i = (int64_t)v;
        }
        return filled_ref(r, flag, slot, node);
    }
    case TYPE_LONG:
        if (reserve_ref(r, flag, &slot) < 0) {
            return NULL;
        }
        return filled_ref(r, flag, slot, read_long(r));
    case TYPE_FLOAT:
        if (reserve_ref(r, flag, &slot) < 0) {
            return NULL;
        }
        return filled_ref(r, flag, slot, read_text_float(r));
    case TYPE_BINARY_FLOAT: {
        if (reserve_ref(r, flag, &slot) < 0) {
            return NULL;
        }
        const unsigned char *p = take(r, 8);
        if (p == NULL) {
            return NULL;
        }
        uint64_t bits = 0;
        for (int i = 7; i >= 0; i--) {
            bits = bits << 8 | p[i];
        }
        node = new_node(r, NODE_FLOAT);
        if (node != NULL) {
            memcpy(&node->u.f, &bits, sizeof(double));
        }
        return filled_ref(r, flag, slot, node);
    }
    case TYPE_SHORT_ASCII:
    case TYPE_SHORT_ASCII_INTERNED: {
        unsigned len;
        if (reserve_ref(r, flag, &slot) < 0 || read_byte(r, &len) < 0) {
            return NULL;
        }
        return filled_ref(r, flag, slot, read_string(r, len, 1));
    }
    case TYPE_ASCII:
    case TYPE_ASCII_INTERNED:
        if (reserve_ref(r, flag, &slot) < 0
            || read_length(r, 1, "string", &n) < 0) {
            return NULL;
        }
        return filled_ref(r, flag, slot, read_string(r, n, 1));
    case TYPE_UNICODE:
    case TYPE_INTERNED:
        if (reserve_ref(r, flag, &slot) < 0
            || read_length(r, 1, "string", &n) < 0) {
            return NULL;
        }
        return filled_ref(r, flag, slot, read_string(r, n, 0));
    case TYPE_SMALL_TUPLE:
    case TYPE_TUPLE:
    case TYPE_LIST:
        if (type == TYPE_SMALL_TUPLE) {
            unsigned len;
            if (read_byte(r, &len) < 0) {
                return NULL;
            }
            n = len;
            if (n > remaining(r)) {
                fail(r, "truncated: marshal data ends early");
                return NULL;
            }
        }
        else if (read_length(r, 1, type == TYPE_LIST ? "list" : "tuple",
                             &n) < 0) {
            return NULL;
        }
        node = new_node(r, type == TYPE_LIST ? NODE_LIST : NODE_TUPLE);
        if (node == NULL || reserve_ref(r, flag, &slot) < 0) {
            return NULL;
        }
        filled_ref(r, flag, slot, node);
        return read_items(r, node, n);
    case TYPE_DICT:
        node = new_node(r, NODE_DICT);
        if (node == NULL || reserve_ref(r, flag, &slot) < 0) {
            return NULL;
        }
        filled_ref(r, flag, slot, node);
        return read_dict(r, node);
    case TYPE_REF: {
        int32_t index;
        if (read_int32(r, &index) < 0) {
            return NULL;
        }
        if (index < 0 || (size_t)index >= r->nrefs
            || r->refs[index] == NULL) {
            fail(r, "bad marshal data (invalid reference)");
            return NULL;
        }
        return r->refs[index];
    }
    case TYPE_NULL:
        fail(r, "bad marshal data (NULL object)");
        return NULL;
    default:
        if (type != 0 && strchr("sxyc<>.S", (int)type) != NULL) {
            fail(r, "not a pstats file (marshal type '%c' cannot occur in "
                    "one)", (int)type);
        }
        else {
            fail(r, "bad marshal data (unknown type code 0x%02x)", code);
        }
        return NULL;
    }
}

static node_t *
read_object(reader_t *r)
{
    unsigned code;
    if (read_byte(r, &code) < 0) {
        return NULL;
    }
    if (++r->depth > MAX_DEPTH) {
        fail(r, "not a pstats file (nested too deeply)");
        return NULL;
    }
    node_t *node = read_object_body(r, code);
    r->depth--;
    if (node == NULL && !r->failed) {
        fail(r, "out of memory");
    }
    return node;
}

/* ---- second pass: the pstats shape ---------------------------------- */

typedef struct {
    reader_t *r;
    pyprof_stats_t *stats;
    size_t budget;      /* entries and edges left before we call it abuse */
} loader_t;

static const char *
kind_name(const node_t *node)
{
    switch (node->kind) {
    case NODE_NONE: return "None";
    case NODE_BOOL: return "a bool";
    case NODE_INT: return "an int";
    case NODE_FLOAT: return "a float";
    case NODE_STR: return "a str";
    case NODE_TUPLE: return "a tuple";
    case NODE_LIST: return "a list";
    case NODE_DICT: return "a dict";
    }
    return "an object";
}

static int
shape_error(loader_t *ld, const char *what)
{
    fail(ld->r, "not a pstats file (%s)", what);
    return -1;
}

/* (filename, lineno, funcname) from a key tuple. */
static int
get_key(loader_t *ld, const node_t *key, const char **filename,
        long *lineno, const char **funcname)
{
    if (key->kind != NODE_TUPLE || key->n != 3) {
        return shape_error(ld, "a key is not a (file, line, name) tuple");
    }
    const node_t *f = key->u.items[0], *l = key->u.items[1],
                 *n = key->u.items[2];
    if (f->kind != NODE_STR || l->kind != NODE_INT || n->kind != NODE_STR) {
        return shape_error(ld, "a key is not a (str, int, str) tuple");
    }
    if (strlen(f->u.s) != f->n || strlen(n->u.s) != n->n) {
        return shape_error(ld, "a function name contains a NUL character");
    }
    if (l->u.i < LONG_MIN || l->u.i > LONG_MAX) {
        return shape_error(ld, "a line number is out of range");
    }
    *filename = f->u.s;
    *lineno = (long)l->u.i;
    *funcname = n->u.s;
    return 0;
}

/* A count (int, not bool) or a time (int or float, not NaN). */
static int
get_count(loader_t *ld, const node_t *node, int64_t *out)
{
    if (node->kind != NODE_INT) {
        return shape_error(ld, "a call count is not an int");
    }
    *out = node->u.i;
    return 0;
}

static int
get_time(loader_t *ld, const node_t *node, double *out)
{
    if (node->kind == NODE_FLOAT) {
        if (isnan(node->u.f)) {
            /* pstats would print it, but NaN makes its sort order depend
             * on the sort algorithm; no profiler writes one. */
            return shape_error(ld, "a time is NaN");
        }
        *out = node->u.f;
        return 0;
    }
    if (node->kind == NODE_INT) {
        /* Beyond 2**53 the conversion would round where Python's
         * int/float comparisons do not. */
        const int64_t exact = (int64_t)1 << 53;
        if (node->u.i > exact || node->u.i < -exact) {
            return shape_error(ld, "an integer time is too large");
        }
        *out = (double)node->u.i;
        return 0;
    }
    return shape_error(ld, "a time is not a number");
}

static int
spend(loader_t *ld)
{
    if (ld->budget == 0) {
        return shape_error(ld, "shared references repeat more data than "
                               "the file holds");
    }
    ld->budget--;
    return 0;
}

static int
load_entries(loader_t *ld, const node_t *root)
{
    pyprof_stats_t *stats = ld->stats;
    if (root->kind != NODE_DICT) {
        char what[64];
        snprintf(what, sizeof(what), "top-level object is %s, not a dict",
                 kind_name(root));
        return shape_error(ld, what);
    }
    size_t base = pyprof_stats_count(stats);
    /* Pass 1: every entry, in dict order. */
    for (size_t i = 0; i < root->n; i++) {
        const node_t *key = root->u.items[2 * i];
        const node_t *value = root->u.items[2 * i + 1];
        const char *filename, *funcname;
        long lineno;
        if (spend(ld) < 0
            || get_key(ld, key, &filename, &lineno, &funcname) < 0) {
            return -1;
        }
        if (value->kind != NODE_TUPLE || value->n != 5) {
            return shape_error(ld, "an entry is not a (cc, nc, tt, ct, "
                                   "callers) tuple");
        }
        size_t idx = pyprof_stats_intern(stats, filename, lineno, funcname);
        if (idx == (size_t)-1) {
            fail(ld->r, "out of memory");
            return -1;
        }
        if (idx != base + i) {
            return shape_error(ld, "a function is listed twice");
        }
        pyprof_func_t *func = pyprof_stats_func(stats, idx);
        node_t **v = value->u.items;
        if (get_count(ld, v[0], &func->cc) < 0
            || get_count(ld, v[1], &func->nc) < 0
            || get_time(ld, v[2], &func->tt) < 0
            || get_time(ld, v[3], &func->ct) < 0) {
            return -1;
        }
        if (v[4]->kind != NODE_DICT) {
            return shape_error(ld, "callers of an entry are not a dict");
        }
    }
    /* Pass 2: the caller edges, now that every function has its index. */
    for (size_t i = 0; i < root->n; i++) {
        const node_t *callers = root->u.items[2 * i + 1]->u.items[4];
        size_t before = pyprof_stats_get(stats, base + i)->ncallers;
        for (size_t j = 0; j < callers->n; j++) {
            const node_t *key = callers->u.items[2 * j];
            const node_t *value = callers->u.items[2 * j + 1];
            const char *filename, *funcname;
            long lineno;
            int64_t nc, cc;
            double tt, ct;
            if (spend(ld) < 0
                || get_key(ld, key, &filename, &lineno, &funcname) < 0) {
                return -1;
            }
            if (value->kind == NODE_INT) {
                return shape_error(ld, "caller counts of the old profile "
                                       "module are not supported");
            }
            if (value->kind != NODE_TUPLE || value->n != 4) {
                return shape_error(ld, "a caller is not a (nc, cc, tt, ct) "
                                       "tuple");
            }
            node_t **v = value->u.items;
            if (get_count(ld, v[0], &nc) < 0 || get_count(ld, v[1], &cc) < 0
                || get_time(ld, v[2], &tt) < 0
                || get_time(ld, v[3], &ct) < 0) {
                return -1;
            }
            size_t caller = pyprof_stats_find(stats, filename, lineno,
                                              funcname);
            if (caller == (size_t)-1 || caller < base) {
                return shape_error(ld, "a caller has no entry of its own");
            }
            if (pyprof_stats_add_caller(stats, base + i, caller, nc, cc, tt,
                                        ct) < 0) {
                fail(ld->r, "out of memory");
                return -1;
            }
            size_t now = pyprof_stats_get(stats, base + i)->ncallers;
            if (now != before + j + 1) {
                return shape_error(ld, "a caller is listed twice");
            }
        }
    }
    /* pstats sums the counts into its totals; refuse what int64 cannot. */
    int64_t calls = 0, prim = 0;
    for (size_t i = 0; i < pyprof_stats_count(stats); i++) {
        const pyprof_func_t *f = pyprof_stats_get(stats, i);
        if (__builtin_add_overflow(calls, f->nc, &calls)
            || __builtin_add_overflow(prim, f->cc, &prim)) {
            return shape_error(ld, "call counts overflow 64 bits");
        }
    }
    return 0;
}

/* Decode `data` into `stats`, which must be empty. */
static int
parse_into(pyprof_stats_t *stats, const unsigned char *data, size_t len,
           char *errbuf, size_t errlen)
{
    reader_t r;
    memset(&r, 0, sizeof(r));
    r.pos = data;
    r.end = data + len;
    r.errbuf = errbuf;
    r.errlen = errlen;
    int rc = -1;
    if (len == 0) {
        fail(&r, "empty file, not a pstats file");
        goto done;
    }
    node_t *root = read_object(&r);
    if (root == NULL) {
        goto done;
    }
    /* Like marshal.load(), ignore whatever follows the object. */
    loader_t ld = {&r, stats, len};
    rc = load_entries(&ld, root);
done:
    arena_free(&r);
    return rc;
}

int
pyprof_pstats_parse(pyprof_stats_t *stats, const unsigned char *data,
                    size_t len, char *errbuf, size_t errlen)
{
    if (pyprof_stats_count(stats) == 0) {
        /* pstats.Stats(file) takes the first file's values as they are. */
        return parse_into(stats, data, len, errbuf, errlen);
    }
    /* Later files go through pstats.Stats.add(): parse alone, then merge,
     * so the totals are summed per file as pstats sums them. */
    pyprof_stats_t *part = pyprof_stats_new();
    if (part == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    int rc = parse_into(part, data, len, errbuf, errlen);
    if (rc == 0 && pyprof_stats_merge(stats, part) < 0) {
        snprintf(errbuf, errlen, "out of memory");
        rc = -1;
    }
    pyprof_stats_free(part);
    return rc;
}

int
pyprof_pstats_read_file(pyprof_stats_t *stats, const char *path,
                        char *errbuf, size_t errlen)
{
    size_t len;
    unsigned char *data = pyprof_read_file(path, PYPROF_READ_MAX, &len);
    if (data == NULL) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    /* Another kind of pyprof file gets one line naming the command that
     * reads it, not "bad marshal data". */
    pyprof_filekind_t kind = pyprof_filekind_sniff(data, len);
    if (kind != PYPROF_FILE_PSTATS && kind != PYPROF_FILE_UNKNOWN) {
        free(data);
        pyprof_filekind_advice(errbuf, errlen, path, kind);
        return -1;
    }
    /* The first file is taken as it is (pstats.Stats(file)); later ones
     * are parsed alone and added (pstats.Stats.add), so that the totals are
     * summed per file, as pstats sums them. */
    int first = pyprof_stats_count(stats) == 0
                && pyprof_stats_source_count(stats) == 0;
    pyprof_stats_t *target = first ? stats : pyprof_stats_new();
    char reason[256] = "out of memory";
    int rc = target != NULL
                 ? parse_into(target, data, len, reason, sizeof(reason))
                 : -1;
    if (rc == 0 && pyprof_stats_count(target) == 0) {
        /* pstats.Stats refuses an empty dict too. */
        snprintf(reason, sizeof(reason), "no profile data in the file");
        rc = -1;
    }
    if (rc == 0) {
        /* pstats stats the path after loading it; NaN if that fails. */
        struct stat st;
        double mtime = NAN;
        if (stat(path, &st) == 0) {
            mtime = (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec * 1e-9;
        }
        rc = pyprof_stats_add_source(target, path, mtime);
        if (rc == 0 && !first) {
            rc = pyprof_stats_merge(stats, target);
        }
        if (rc < 0) {
            snprintf(reason, sizeof(reason), "out of memory");
        }
        else if (pyprof_stats_overflowed(stats)) {
            snprintf(reason, sizeof(reason),
                     "call counts overflow 64 bits when merged");
            rc = -1;
        }
    }
    free(data);
    if (!first) {
        pyprof_stats_free(target);
    }
    if (rc < 0) {
        snprintf(errbuf, errlen, "%s: %s", path, reason);
    }
    return rc;
}

/* ---- writer ---------------------------------------------------------- */

static void
put_int32(pyprof_sink_t *out, int32_t value)
{
    uint32_t v = (uint32_t)value;
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8),
                          (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
    pyprof_sink_write(out, b, 4);
}

static void
put_int(pyprof_sink_t *out, int64_t value)
{
    if (value >= INT32_MIN && value <= INT32_MAX) {
        pyprof_sink_putc(out, TYPE_INT);
        put_int32(out, (int32_t)value);
        return;
    }
    /* 'l': 15-bit digits, least significant first, sign in the count. */
    uint64_t magnitude = value < 0 ? (uint64_t)0 - (uint64_t)value
                                   : (uint64_t)value;
    unsigned char digits[2 * 5];
    int32_t n = 0;
    while (magnitude != 0) {
        unsigned d = (unsigned)(magnitude & 0x7fff);
        digits[2 * n] = (unsigned char)d;
        digits[2 * n + 1] = (unsigned char)(d >> 8);
        magnitude >>= 15;
        n++;
    }
    pyprof_sink_putc(out, TYPE_LONG);
    put_int32(out, value < 0 ? -n : n);
    pyprof_sink_write(out, digits, (size_t)(2 * n));
}

static void
put_float(pyprof_sink_t *out, double value)
{
    uint64_t bits;
    memcpy(&bits, &value, sizeof(bits));
    unsigned char b[8];
    for (int i = 0; i < 8; i++) {
        b[i] = (unsigned char)(bits >> (8 * i));
    }
    pyprof_sink_putc(out, TYPE_BINARY_FLOAT);
    pyprof_sink_write(out, b, 8);
}

static void
put_string(pyprof_sink_t *out, const char *text)
{
    size_t n = strlen(text);
    int ascii = 1;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)text[i] >= 0x80) {
            ascii = 0;
            break;
        }
    }
    if (n > INT32_MAX) {
        /* No profile names a function with a 2 GiB string; refuse rather
         * than write a length marshal would misread. */
        out->failed = 1;
        return;
    }
    if (ascii && n < 256) {
        pyprof_sink_putc(out, TYPE_SHORT_ASCII);
        pyprof_sink_putc(out, (int)n);
    }
    else {
        pyprof_sink_putc(out, ascii ? TYPE_ASCII : TYPE_UNICODE);
        put_int32(out, (int32_t)n);
    }
    pyprof_sink_write(out, text, n);
}

/* Write the key of function i: the tuple itself the first time, with
 * FLAG_REF so that later mentions are 'r' references to it. */
static void
put_key(pyprof_sink_t *out, const pyprof_func_t *func, int32_t *ref,
        int32_t *next_ref)
{
    if (*ref >= 0) {
        pyprof_sink_putc(out, TYPE_REF);
        put_int32(out, *ref);
        return;
    }
    *ref = (*next_ref)++;
    pyprof_sink_putc(out, TYPE_SMALL_TUPLE | FLAG_REF);
    pyprof_sink_putc(out, 3);
    put_string(out, func->filename);
    put_int(out, func->lineno);
    put_string(out, func->funcname);
}

void
pyprof_pstats_serialize(pyprof_sink_t *out, const pyprof_stats_t *stats)
{
    size_t n = pyprof_stats_count(stats);
    if (n > INT32_MAX) {
        out->failed = 1;
        return;
    }
    int32_t *refs = malloc((n ? n : 1) * sizeof(int32_t));
    if (refs == NULL) {
        out->failed = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        refs[i] = -1;
    }
    int32_t next_ref = 0;
    pyprof_sink_putc(out, TYPE_DICT);
    for (size_t i = 0; i < n; i++) {
        const pyprof_func_t *func = pyprof_stats_get(stats, i);
        put_key(out, func, &refs[i], &next_ref);
        pyprof_sink_putc(out, TYPE_SMALL_TUPLE);
        pyprof_sink_putc(out, 5);
        put_int(out, func->cc);
        put_int(out, func->nc);
        put_float(out, func->tt);
        put_float(out, func->ct);
        pyprof_sink_putc(out, TYPE_DICT);
        for (size_t j = 0; j < func->ncallers; j++) {
            const pyprof_caller_t *e = &func->callers[j];
            put_key(out, pyprof_stats_get(stats, e->caller), &refs[e->caller],
                    &next_ref);
            pyprof_sink_putc(out, TYPE_SMALL_TUPLE);
            pyprof_sink_putc(out, 4);
            put_int(out, e->nc);
            put_int(out, e->cc);
            put_float(out, e->tt);
            put_float(out, e->ct);
        }
        pyprof_sink_putc(out, TYPE_NULL);
    }
    pyprof_sink_putc(out, TYPE_NULL);
    free(refs);
}

int
pyprof_pstats_write_file(const pyprof_stats_t *stats, const char *path,
                         char *errbuf, size_t errlen)
{
    return pyprof_pstats_write_file_extra(stats, NULL, 0, path, errbuf,
                                          errlen);
}

int
pyprof_pstats_write_file_extra(const pyprof_stats_t *stats,
                               const void *extra, size_t extra_len,
                               const char *path, char *errbuf, size_t errlen)
{
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    pyprof_pstats_serialize(&sink, stats);
    if (extra_len > 0) {
        pyprof_sink_write(&sink, extra, extra_len);
    }
    if (pyprof_sink_failed(&sink)) {
        pyprof_sink_free_buffer(&sink);
        snprintf(errbuf, errlen, "%s: out of memory", path);
        return -1;
    }
    int rc = pyprof_output_write(path, sink.data != NULL ? sink.data : "",
                                 sink.len, errbuf, errlen);
    pyprof_sink_free_buffer(&sink);
    return rc;
}
