/* lprof_pickle.c - a minimal pickle writer for line_profiler's LineStats,
 * and a strict reader of the pickles that hold one (below).
 *
 * Only the opcodes this one object needs: PROTO, GLOBAL, BINUNICODE,
 * BININT/LONG1, BINFLOAT, tuples, lists, dicts, REDUCE, STOP; no memo.
 */
#include "lprof_pickle.h"

#include "output.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
put_u32le(pyprof_sink_t *sink, uint32_t v)
{
    unsigned char b[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff,
                          (v >> 24) & 0xff};
    pyprof_sink_write(sink, b, 4);
}

static void
put_str(pyprof_sink_t *sink, const char *text)
{
    size_t n = strlen(text);
    pyprof_sink_putc(sink, 'X'); /* BINUNICODE: u32 length + UTF-8 */
    put_u32le(sink, (uint32_t)n);
    pyprof_sink_write(sink, text, n);
}

static void
put_int(pyprof_sink_t *sink, int64_t v)
{
    if (v >= INT32_MIN && v <= INT32_MAX) {
        pyprof_sink_putc(sink, 'J'); /* BININT: signed 32-bit LE */
        put_u32le(sink, (uint32_t)(int32_t)v);
        return;
    }
    /* LONG1: little-endian two's complement, 8 bytes is always enough */
    unsigned char b[8];
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++) {
        b[i] = (u >> (8 * i)) & 0xff;
    }
    pyprof_sink_putc(sink, (char)0x8a);
    pyprof_sink_putc(sink, 8);
    pyprof_sink_write(sink, b, 8);
}

static void
put_float(pyprof_sink_t *sink, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof(u));
    unsigned char b[8];
    for (int i = 0; i < 8; i++) {
        b[i] = (u >> (56 - 8 * i)) & 0xff; /* big-endian */
    }
    pyprof_sink_putc(sink, 'G');
    pyprof_sink_write(sink, b, 8);
}

void
pyprof_lprof_write_pickle(pyprof_sink_t *sink, const pyprof_lprof_t *model)
{
    pyprof_sink_write(sink, "\x80\x02", 2); /* PROTO 2 */
    pyprof_sink_puts(sink, "cline_profiler._line_profiler\nLineStats\n");
    pyprof_sink_putc(sink, '}'); /* EMPTY_DICT: timings */
    for (size_t i = 0; i < model->nfuncs; i++) {
        const pyprof_lprof_func_t *func = &model->funcs[i];
        put_str(sink, func->filename);
        put_int(sink, func->first_line);
        put_str(sink, func->name);
        pyprof_sink_putc(sink, (char)0x87); /* TUPLE3 */
        pyprof_sink_putc(sink, ']');        /* EMPTY_LIST */
        int open = 0;
        for (size_t j = 0; j < func->nlines; j++) {
            const pyprof_lprof_line_t *line = &func->lines[j];
            if (line->hits == 0) {
                continue; /* line_profiler lists hit lines only */
            }
            if (!open) {
                pyprof_sink_putc(sink, '('); /* MARK */
                open = 1;
            }
            put_int(sink, line->lineno);
            put_int(sink, (int64_t)line->hits);
            put_int(sink, line->time_ns);
            pyprof_sink_putc(sink, (char)0x87);
        }
        if (open) {
            pyprof_sink_putc(sink, 'e'); /* APPENDS */
        }
        pyprof_sink_putc(sink, 's'); /* SETITEM */
    }
    put_float(sink, 1e-9);
    pyprof_sink_putc(sink, (char)0x86); /* TUPLE2: (timings, unit) */
    pyprof_sink_putc(sink, 'R');        /* REDUCE: LineStats(*args) */
    pyprof_sink_putc(sink, '.');        /* STOP */
}

int
pyprof_lprof_write_pickle_file(const pyprof_lprof_t *model, const char *path,
                               char *errbuf, size_t errbuf_size)
{
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    pyprof_lprof_write_pickle(&sink, model);
    if (pyprof_sink_failed(&sink)) {
        pyprof_sink_free_buffer(&sink);
        snprintf(errbuf, errbuf_size, "%s: out of memory", path);
        return -1;
    }
    int rc = pyprof_output_write(path, sink.data, sink.len, errbuf,
                                 errbuf_size);
    pyprof_sink_free_buffer(&sink);
    return rc;
}

/* ---- Reading: a strict pickle machine for LineStats only. ----
 *
 * A .lprof is outside data (kernprof's or ours), so nothing in it is
 * executed or trusted: the opcodes that build plain values (ints, floats,
 * str, tuples, lists, dicts), the memo, and the three ways a LineStats
 * object is pickled (REDUCE of (timings, unit) as we write it; NEWOBJ +
 * BUILD of {"timings", "unit"} as pickle.dump of line_profiler's object
 * writes it) are understood; any other opcode is an error.  Every value
 * lives in one arena freed at the end; the memo and stack are bounded;
 * lists and dicts may be shared or even contain themselves (through the
 * memo), so the interpretation below descends a fixed number of levels. */

typedef enum {
    PV_NONE, PV_BOOL, PV_INT, PV_FLOAT, PV_STR, PV_TUPLE, PV_LIST, PV_DICT,
    PV_GLOBAL, PV_OBJECT, PV_MARK
} pv_kind_t;

typedef struct pv pv_t;
struct pv {
    pv_kind_t kind;
    int64_t integer;        /* INT, BOOL */
    double real;            /* FLOAT */
    const char *text;       /* STR (UTF-8, no NUL), GLOBAL "module name" */
    size_t text_len;
    pv_t **items;           /* TUPLE, LIST; DICT: key, value, key, ... */
    size_t count;           /* items used (a DICT holds 2 per entry) */
    size_t cap;
    pv_t *cls;              /* OBJECT: its GLOBAL */
    pv_t *args;             /* OBJECT: REDUCE/NEWOBJ arguments (a TUPLE) */
    pv_t *state;            /* OBJECT: BUILD's state, or NULL */
    pv_t *arena_next;       /* every value, for freeing */
};

#define PICKLE_MAX_STACK (1u << 20)
#define PICKLE_MAX_MEMO (1u << 24)
#define PICKLE_MAX_LINES (1u << 16)  /* lines of one function */
/* A line's time is capped so that a function's total (the sum over at
 * most PICKLE_MAX_LINES lines) cannot overflow: about 19 hours. */
#define PICKLE_MAX_LINE_NS (INT64_MAX >> 17)

typedef struct {
    const unsigned char *data;
    size_t len, pos;
    pv_t *arena;
    pv_t **stack;
    size_t depth, stack_cap;
    pv_t **memo;
    size_t memo_cap;
    size_t memo_len;        /* entries set: MEMOIZE's next index */
    char *errbuf;
    size_t errlen;
    int failed;
} unpickler_t;

static int
bad(unpickler_t *u, const char *what)
{
    if (!u->failed) {
        snprintf(u->errbuf, u->errlen, "not a line_profiler .lprof: %s "
                 "(at byte %zu)", what, u->pos);
        u->failed = 1;
    }
    return -1;
}

static pv_t *
new_value(unpickler_t *u, pv_kind_t kind)
{
    pv_t *v = calloc(1, sizeof(*v));
    if (v == NULL) {
        bad(u, "out of memory");
        return NULL;
    }
    v->kind = kind;
    v->arena_next = u->arena;
    u->arena = v;
    return v;
}

static void
free_arena(pv_t *v)
{
    while (v != NULL) {
        pv_t *next = v->arena_next;
        free(v->items);
        if (v->kind == PV_STR || v->kind == PV_GLOBAL) {
            free((char *)v->text);
        }
        free(v);
        v = next;
    }
}

static int
take(unpickler_t *u, size_t n, const unsigned char **out)
{
    if (n > u->len - u->pos) {
        return bad(u, "truncated");
    }
    *out = u->data + u->pos;
    u->pos += n;
    return 0;
}

static uint64_t
read_le(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

/* An opcode's argument: `n` little-endian bytes as an unsigned number in
 * *value.  0, or -1 (truncated). */
static int
take_uint(unpickler_t *u, size_t n, uint64_t *value)
{
    const unsigned char *p;
    if (take(u, n, &p) < 0) {
        return -1;
    }
    *value = read_le(p, n);
    return 0;
}

static int
push(unpickler_t *u, pv_t *v)
{
    if (v == NULL) {
        return -1;
    }
    if (u->depth == u->stack_cap) {
        if (u->stack_cap >= PICKLE_MAX_STACK) {
            return bad(u, "stack too deep");
        }
        size_t cap = u->stack_cap ? u->stack_cap * 2 : 64;
        pv_t **grown = realloc(u->stack, cap * sizeof(*grown));
        if (grown == NULL) {
            return bad(u, "out of memory");
        }
        u->stack = grown;
        u->stack_cap = cap;
    }
    u->stack[u->depth++] = v;
    return 0;
}

static pv_t *
pop(unpickler_t *u)
{
    if (u->depth == 0 || u->stack[u->depth - 1]->kind == PV_MARK) {
        bad(u, "stack underflow");
        return NULL;
    }
    return u->stack[--u->depth];
}

static pv_t *
top(unpickler_t *u)
{
    if (u->depth == 0 || u->stack[u->depth - 1]->kind == PV_MARK) {
        bad(u, "stack underflow");
        return NULL;
    }
    return u->stack[u->depth - 1];
}

/* The index just above the topmost MARK, or -1. */
static long
find_mark(unpickler_t *u)
{
    for (size_t i = u->depth; i > 0; i--) {
        if (u->stack[i - 1]->kind == PV_MARK) {
            return (long)i;
        }
    }
    bad(u, "no MARK");
    return -1;
}

static int
append_item(unpickler_t *u, pv_t *container, pv_t *item)
{
    if (container->count == container->cap) {
        size_t cap = container->cap ? container->cap * 2 : 4;
        if (cap > SIZE_MAX / sizeof(pv_t *)) {
            return bad(u, "out of memory");
        }
        pv_t **grown = realloc(container->items, cap * sizeof(*grown));
        if (grown == NULL) {
            return bad(u, "out of memory");
        }
        container->items = grown;
        container->cap = cap;
    }
    container->items[container->count++] = item;
    return 0;
}

/* Pop n values (n counted from the top, none a MARK) into a tuple. */
static int
make_tuple(unpickler_t *u, size_t n)
{
    if (n > u->depth) {
        return bad(u, "stack underflow");
    }
    pv_t *tuple = new_value(u, PV_TUPLE);
    if (tuple == NULL) {
        return -1;
    }
    for (size_t i = u->depth - n; i < u->depth; i++) {
        if (u->stack[i]->kind == PV_MARK
            || append_item(u, tuple, u->stack[i]) < 0) {
            return bad(u, "MARK inside a tuple");
        }
    }
    u->depth -= n;
    return push(u, tuple);
}

/* Well-formed UTF-8 without NUL (the strings end up in C strings and on
 * an HTML page). */
static int
valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t extra;
        uint32_t cp;
        if (c == 0) {
            return 0;
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) {
            extra = 1, cp = c & 0x1f;
        }
        else if ((c & 0xf0) == 0xe0) {
            extra = 2, cp = c & 0x0f;
        }
        else if ((c & 0xf8) == 0xf0) {
            extra = 3, cp = c & 0x07;
        }
        else {
            return 0;
        }
        if (extra > n - i - 1) {
            return 0;
        }
        for (size_t k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800)
            || (extra == 3 && cp < 0x10000) || cp > 0x10ffff
            || (cp >= 0xd800 && cp <= 0xdfff)) {
            return 0;
        }
        i += extra + 1;
    }
    return 1;
}

static pv_t *
new_text(unpickler_t *u, pv_kind_t kind, const unsigned char *s, size_t n)
{
    if (!valid_utf8(s, n)) {
        bad(u, "a string that is not UTF-8");
        return NULL;
    }
    char *copy = malloc(n + 1);
    if (copy == NULL) {
        bad(u, "out of memory");
        return NULL;
    }
    memcpy(copy, s, n);
    copy[n] = '\0';
    pv_t *v = new_value(u, kind);
    if (v == NULL) {
        free(copy);
        return NULL;
    }
    v->text = copy;
    v->text_len = n;
    return v;
}

static int
push_str(unpickler_t *u, size_t size_bytes)
{
    uint64_t n;
    if (take_uint(u, size_bytes, &n) < 0) {
        return -1;
    }
    if (n > u->len - u->pos) {
        return bad(u, "truncated string");
    }
    const unsigned char *s;
    take(u, (size_t)n, &s);
    return push(u, new_text(u, PV_STR, s, (size_t)n));
}

static int
push_int(unpickler_t *u, int64_t value)
{
    pv_t *v = new_value(u, PV_INT);
    if (v == NULL) {
        return -1;
    }
    v->integer = value;
    return push(u, v);
}

static int
memo_put(unpickler_t *u, uint64_t index)
{
    pv_t *v = top(u);
    if (v == NULL) {
        return -1;
    }
    if (index >= PICKLE_MAX_MEMO) {
        return bad(u, "memo index too large");
    }
    if (index >= u->memo_cap) {
        size_t cap = u->memo_cap ? u->memo_cap : 64;
        while (cap <= index) {
            cap *= 2;
        }
        pv_t **grown = realloc(u->memo, cap * sizeof(*grown));
        if (grown == NULL) {
            return bad(u, "out of memory");
        }
        memset(grown + u->memo_cap, 0,
               (cap - u->memo_cap) * sizeof(*grown));
        u->memo = grown;
        u->memo_cap = cap;
    }
    u->memo_len += u->memo[index] == NULL;
    u->memo[index] = v;
    return 0;
}

static int
memo_get(unpickler_t *u, uint64_t index)
{
    if (index >= u->memo_cap || u->memo[index] == NULL) {
        return bad(u, "unknown memo index");
    }
    return push(u, u->memo[index]);
}

/* GLOBAL's operand: "module\nname\n". */
static int
push_global_line(unpickler_t *u)
{
    const unsigned char *start = u->data + u->pos;
    size_t rest = u->len - u->pos;
    const unsigned char *nl1 = memchr(start, '\n', rest);
    const unsigned char *nl2 = nl1 == NULL ? NULL
        : memchr(nl1 + 1, '\n', rest - (size_t)(nl1 + 1 - start));
    if (nl2 == NULL) {
        return bad(u, "truncated GLOBAL");
    }
    size_t n = (size_t)(nl2 - start);
    pv_t *v = new_text(u, PV_GLOBAL, start, n);
    if (v == NULL) {
        return -1;
    }
    ((char *)v->text)[nl1 - start] = ' ';
    u->pos += n + 1;
    return push(u, v);
}

static int
push_stack_global(unpickler_t *u)
{
    pv_t *name = pop(u), *module = name != NULL ? pop(u) : NULL;
    if (module == NULL || module->kind != PV_STR || name->kind != PV_STR) {
        return bad(u, "STACK_GLOBAL of a non-string");
    }
    size_t n = module->text_len + 1 + name->text_len;
    char *joined = malloc(n + 1);
    if (joined == NULL) {
        return bad(u, "out of memory");
    }
    snprintf(joined, n + 1, "%s %s", module->text, name->text);
    pv_t *v = new_text(u, PV_GLOBAL, (const unsigned char *)joined, n);
    free(joined);
    return push(u, v);
}

/* REDUCE / NEWOBJ: an object of a class with a tuple of arguments. */
static int
push_object(unpickler_t *u)
{
    pv_t *args = pop(u), *cls = args != NULL ? pop(u) : NULL;
    if (cls == NULL || cls->kind != PV_GLOBAL || args->kind != PV_TUPLE) {
        return bad(u, "a call of something that is not a class");
    }
    pv_t *v = new_value(u, PV_OBJECT);
    if (v == NULL) {
        return -1;
    }
    v->cls = cls;
    v->args = args;
    return push(u, v);
}

/* APPENDS / SETITEMS: the values above the topmost MARK (at `mark`) go
 * into the container `c` under it, and the MARK with them off the stack.
 * 0, or -1. */
static int
append_from_mark(unpickler_t *u, pv_t *c, long mark)
{
    for (size_t i = (size_t)mark; i < u->depth; i++) {
        if (append_item(u, c, u->stack[i]) < 0) {
            return -1;
        }
    }
    u->depth = (size_t)mark - 1;
    return 0;
}

/* One opcode.  Returns 1 at STOP, 0 to go on, -1 on error. */
static int
step(unpickler_t *u)
{
    const unsigned char *p;
    if (take(u, 1, &p) < 0) {
        return -1;
    }
    unsigned char op = *p;
    long mark;
    uint64_t arg;
    pv_t *v, *w, *c;
    switch (op) {
    case 0x80:                                   /* PROTO */
        if (take(u, 1, &p) < 0 || *p < 2 || *p > 5) {
            return bad(u, "unsupported protocol");
        }
        return 0;
    case 0x95:                                   /* FRAME */
        return take(u, 8, &p);
    case '.':                                    /* STOP */
        return 1;
    case 'N': return push(u, new_value(u, PV_NONE));
    case 0x88: case 0x89:                        /* NEWTRUE, NEWFALSE */
        v = new_value(u, PV_BOOL);
        if (v != NULL) {
            v->integer = op == 0x88;
        }
        return push(u, v);
    case 'J':                                    /* BININT */
        return take_uint(u, 4, &arg) < 0
            ? -1 : push_int(u, (int32_t)(uint32_t)arg);
    case 'K':                                    /* BININT1 */
        return take_uint(u, 1, &arg) < 0 ? -1 : push_int(u, (int64_t)arg);
    case 'M':                                    /* BININT2 */
        return take_uint(u, 2, &arg) < 0 ? -1 : push_int(u, (int64_t)arg);
    case 0x8a: {                                 /* LONG1 */
        if (take(u, 1, &p) < 0) {
            return -1;
        }
        size_t n = p[0];
        if (n > 8) {
            return bad(u, "integer too large");
        }
        if (take(u, n, &p) < 0) {
            return -1;
        }
        uint64_t raw = read_le(p, n);
        if (n > 0 && n < 8 && (p[n - 1] & 0x80)) {
            raw |= ~(uint64_t)0 << (8 * n);      /* sign-extend */
        }
        return push_int(u, (int64_t)raw);
    }
    case 'G': {                                  /* BINFLOAT, big-endian */
        if (take(u, 8, &p) < 0) {
            return -1;
        }
        uint64_t bits = 0;
        for (int i = 0; i < 8; i++) {
            bits = (bits << 8) | p[i];
        }
        v = new_value(u, PV_FLOAT);
        if (v != NULL) {
            memcpy(&v->real, &bits, sizeof(bits));
        }
        return push(u, v);
    }
    case 0x8c: return push_str(u, 1);            /* SHORT_BINUNICODE */
    case 'X': return push_str(u, 4);             /* BINUNICODE */
    case 0x8d: return push_str(u, 8);            /* BINUNICODE8 */
    case 'c': return push_global_line(u);        /* GLOBAL */
    case 0x93: return push_stack_global(u);      /* STACK_GLOBAL */
    case 0x94: return memo_put(u, u->memo_len); /* MEMOIZE */
    case 'q':                                    /* BINPUT */
    case 'r':                                    /* LONG_BINPUT */
        return take_uint(u, op == 'q' ? 1 : 4, &arg) < 0
            ? -1 : memo_put(u, arg);
    case 'h':                                    /* BINGET */
    case 'j':                                    /* LONG_BINGET */
        return take_uint(u, op == 'h' ? 1 : 4, &arg) < 0
            ? -1 : memo_get(u, arg);
    case '}': return push(u, new_value(u, PV_DICT));
    case ']': return push(u, new_value(u, PV_LIST));
    case ')': return push(u, new_value(u, PV_TUPLE));
    case '(': return push(u, new_value(u, PV_MARK));
    case 0x85: return make_tuple(u, 1);          /* TUPLE1 */
    case 0x86: return make_tuple(u, 2);          /* TUPLE2 */
    case 0x87: return make_tuple(u, 3);          /* TUPLE3 */
    case 't':                                    /* TUPLE */
        if ((mark = find_mark(u)) < 0 || make_tuple(u, u->depth - (size_t)mark)
                                             < 0) {
            return -1;
        }
        /* drop the MARK under the new tuple */
        u->stack[u->depth - 2] = u->stack[u->depth - 1];
        u->depth--;
        return 0;
    case 'a':                                    /* APPEND */
        v = pop(u);
        c = v != NULL ? top(u) : NULL;
        if (c == NULL || c->kind != PV_LIST) {
            return bad(u, "APPEND to a non-list");
        }
        return append_item(u, c, v);
    case 'e':                                    /* APPENDS */
        if ((mark = find_mark(u)) < 0 || mark < 2
            || u->stack[mark - 2]->kind != PV_LIST) {
            return bad(u, "APPENDS to a non-list");
        }
        return append_from_mark(u, u->stack[mark - 2], mark);
    case 's':                                    /* SETITEM */
        w = pop(u);
        v = w != NULL ? pop(u) : NULL;
        c = v != NULL ? top(u) : NULL;
        if (c == NULL || c->kind != PV_DICT) {
            return bad(u, "SETITEM on a non-dict");
        }
        return append_item(u, c, v) < 0 ? -1 : append_item(u, c, w);
    case 'u':                                    /* SETITEMS */
        if ((mark = find_mark(u)) < 0 || mark < 2
            || u->stack[mark - 2]->kind != PV_DICT
            || (u->depth - (size_t)mark) % 2 != 0) {
            return bad(u, "SETITEMS on a non-dict");
        }
        return append_from_mark(u, u->stack[mark - 2], mark);
    case 'R':                                    /* REDUCE */
    case 0x81:                                   /* NEWOBJ */
        return push_object(u);
    case 'b':                                    /* BUILD */
        w = pop(u);
        c = w != NULL ? top(u) : NULL;
        if (c == NULL || c->kind != PV_OBJECT || c->state != NULL) {
            return bad(u, "BUILD of a non-object");
        }
        c->state = w;
        return 0;
    default:
        return bad(u, "an opcode a LineStats pickle does not use");
    }
}

/* The value of str key `name` in DICT `dict`, or NULL. */
static const pv_t *
dict_get(const pv_t *dict, const char *name)
{
    const pv_t *found = NULL;
    for (size_t i = 0; i + 1 < dict->count; i += 2) {
        const pv_t *key = dict->items[i];
        if (key->kind == PV_STR && strcmp(key->text, name) == 0) {
            found = dict->items[i + 1];     /* the last one wins */
        }
    }
    return found;
}

static int
is_int(const pv_t *v)
{
    return v->kind == PV_INT || v->kind == PV_BOOL;
}

static int
compare_lines(const void *a, const void *b)
{
    const pyprof_lprof_line_t *x = a, *y = b;
    return (x->lineno > y->lineno) - (x->lineno < y->lineno);
}

/* One timings entry: (filename, first_line, name) -> [(line, hits,
 * time), ...]; every line of the function from its first line to its
 * last hit line goes in the model, as pyprof lines records them. */
static int
add_function(unpickler_t *u, pyprof_lprof_t *model, const pv_t *key,
             const pv_t *list, double unit)
{
    if (key->kind != PV_TUPLE || key->count != 3
        || key->items[0]->kind != PV_STR || !is_int(key->items[1])
        || key->items[2]->kind != PV_STR || list->kind != PV_LIST) {
        return bad(u, "a timings entry is not (file, line, name): [...]");
    }
    int64_t first = key->items[1]->integer;
    if (first < 0 || first > INT32_MAX) {
        return bad(u, "a first line out of range");
    }
    pyprof_lprof_line_t *hits = calloc(list->count ? list->count : 1,
                                       sizeof(*hits));
    if (hits == NULL) {
        return bad(u, "out of memory");
    }
    int64_t low = first, high = first;
    for (size_t i = 0; i < list->count; i++) {
        const pv_t *t = list->items[i];
        if (t->kind != PV_TUPLE || t->count != 3 || !is_int(t->items[0])
            || !is_int(t->items[1]) || !is_int(t->items[2])
            || t->items[0]->integer < 1 || t->items[0]->integer > INT32_MAX
            || t->items[1]->integer < 0 || t->items[2]->integer < 0) {
            free(hits);
            return bad(u, "a line entry is not (line, hits, time)");
        }
        hits[i].lineno = (int)t->items[0]->integer;
        hits[i].hits = (uint64_t)t->items[1]->integer;
        double ns = (double)t->items[2]->integer * unit * 1e9;
        hits[i].time_ns = ns < (double)PICKLE_MAX_LINE_NS
                              ? (pyprof_ns_t)ns : PICKLE_MAX_LINE_NS;
        low = hits[i].lineno < low ? hits[i].lineno : low;
        high = hits[i].lineno > high ? hits[i].lineno : high;
    }
    if (low < 1) {
        low = 1;
    }
    if (high - low >= (int64_t)PICKLE_MAX_LINES) {
        free(hits);
        return bad(u, "a function spans too many lines");
    }
    qsort(hits, list->count, sizeof(*hits), compare_lines);
    pyprof_lprof_func_t *func = pyprof_lprof_add(
        model, key->items[0]->text, key->items[2]->text, (int)first,
        (size_t)(high - low + 1));
    if (func == NULL) {
        free(hits);
        return bad(u, "out of memory");
    }
    if (low < first) {      /* hits above the def line: start there */
        func->first_line = (int)low;
    }
    for (size_t j = 0; j < func->nlines; j++) {
        func->lines[j].lineno = (int)low + (int)j;
    }
    for (size_t i = 0; i < list->count; i++) {
        pyprof_lprof_line_t *line = &func->lines[hits[i].lineno - low];
        line->hits += hits[i].hits;
        line->time_ns = line->time_ns > PICKLE_MAX_LINE_NS - hits[i].time_ns
                            ? PICKLE_MAX_LINE_NS
                            : line->time_ns + hits[i].time_ns;
    }
    free(hits);
    return 0;
}

/* The LineStats object at the bottom of the pickle, as a model. */
static pyprof_lprof_t *
interpret(unpickler_t *u, const pv_t *root)
{
    if (root->kind != PV_OBJECT
        || strncmp(root->cls->text, "line_profiler", 13) != 0
        || strcmp(strchr(root->cls->text, ' ') + 1, "LineStats") != 0) {
        bad(u, "the pickled object is not a LineStats");
        return NULL;
    }
    const pv_t *timings = NULL, *unit = NULL;
    if (root->state != NULL && root->state->kind == PV_DICT) {
        timings = dict_get(root->state, "timings");
        unit = dict_get(root->state, "unit");
    }
    else if (root->state == NULL && root->args->count == 2) {
        timings = root->args->items[0];
        unit = root->args->items[1];
    }
    if (timings == NULL || unit == NULL || timings->kind != PV_DICT
        || unit->kind != PV_FLOAT || !(unit->real > 0)
        || !(unit->real < 1e6)) {
        bad(u, "LineStats without timings and a positive unit");
        return NULL;
    }
    pyprof_lprof_t *model = pyprof_lprof_new();
    if (model == NULL) {
        bad(u, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i + 1 < timings->count; i += 2) {
        if (add_function(u, model, timings->items[i], timings->items[i + 1],
                         unit->real) < 0) {
            pyprof_lprof_free(model);
            return NULL;
        }
    }
    pyprof_lprof_sort(model);
    return model;
}

pyprof_lprof_t *
pyprof_lprof_read_pickle(const void *data, size_t len, char *errbuf,
                         size_t errlen)
{
    unpickler_t u = {0};
    u.data = data;
    u.len = len;
    u.errbuf = errbuf;
    u.errlen = errlen;
    pyprof_lprof_t *model = NULL;
    int rc;
    while ((rc = step(&u)) == 0) {
    }
    if (rc == 1) {
        if (u.depth != 1) {
            bad(&u, "STOP with a stack that does not hold one object");
        }
        else if (u.pos != u.len) {
            bad(&u, "bytes after STOP");
        }
        else {
            model = interpret(&u, u.stack[0]);
        }
    }
    free(u.stack);
    free(u.memo);
    free_arena(u.arena);
    return model;
}
