/* json_reader.c - recursive descent with a depth limit.
 *
 * Every node is malloc'd and linked to its parent's list; the whole tree
 * is freed by walking it with an explicit stack, so neither parsing (depth
 * bounded) nor freeing can exhaust the C stack.
 */
#include "json_reader.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

typedef struct {
    const char *p;
    const char *end;
    const char *start;
    char *errbuf;
    size_t errlen;
    int failed;
} parser_t;

static void fail(parser_t *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fail(parser_t *ps, const char *fmt, ...)
{
    if (ps->failed) {
        return;
    }
    ps->failed = 1;
    char reason[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    snprintf(ps->errbuf, ps->errlen, "not valid JSON at byte %zu: %s",
             (size_t)(ps->p - ps->start), reason);
}

static void
skip_space(parser_t *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t'
                               || *ps->p == '\n' || *ps->p == '\r')) {
        ps->p++;
    }
}

static pyprof_json_t *
new_node(parser_t *ps, pyprof_json_kind_t kind)
{
    pyprof_json_t *node = calloc(1, sizeof(*node));
    if (node == NULL) {
        fail(ps, "out of memory");
        return NULL;
    }
    node->kind = kind;
    return node;
}

static int
hex4(parser_t *ps, unsigned *out)
{
    if (ps->end - ps->p < 4) {
        fail(ps, "short \\u escape");
        return -1;
    }
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = *ps->p++;
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else {
            fail(ps, "bad \\u escape");
            return -1;
        }
    }
    *out = v;
    return 0;
}

static size_t
put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of a valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    unsigned cp, min;
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; min = 0x10000; }
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0;
    }
    return len;
}

/* A string after its opening quote; a new malloc'd UTF-8 string. */
static char *
parse_string(parser_t *ps)
{
    /* Decoded output is never longer than the input. */
    size_t cap = (size_t)(ps->end - ps->p) + 1;
    const char *q = memchr(ps->p, '"', (size_t)(ps->end - ps->p));
    if (q == NULL) {
        fail(ps, "unterminated string");
        return NULL;
    }
    char *out = malloc(cap < 4096 ? cap : 4096);
    size_t out_cap = cap < 4096 ? cap : 4096, n = 0;
    if (out == NULL) {
        fail(ps, "out of memory");
        return NULL;
    }
    for (;;) {
        if (ps->p >= ps->end) {
            fail(ps, "unterminated string");
            goto error;
        }
        if (out_cap - n < 8) {
            size_t grown = out_cap * 2;
            char *bigger = realloc(out, grown);
            if (bigger == NULL) {
                fail(ps, "out of memory");
                goto error;
            }
            out = bigger;
            out_cap = grown;
        }
        unsigned char c = (unsigned char)*ps->p;
        if (c == '"') {
            ps->p++;
            out[n] = '\0';
            return out;
        }
        if (c < 0x20) {
            fail(ps, "control character in string");
            goto error;
        }
        if (c != '\\') {
            size_t len = utf8_len((const unsigned char *)ps->p,
                                  (size_t)(ps->end - ps->p));
            if (len == 0) {
                fail(ps, "string is not UTF-8");
                goto error;
            }
            memcpy(out + n, ps->p, len);
            n += len;
            ps->p += len;
            continue;
        }
        ps->p++;
        if (ps->p >= ps->end) {
            fail(ps, "unterminated escape");
            goto error;
        }
        char e = *ps->p++;
        unsigned cp;
        switch (e) {
        case '"': out[n++] = '"'; break;
        case '\\': out[n++] = '\\'; break;
        case '/': out[n++] = '/'; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'u':
            if (hex4(ps, &cp) < 0) {
                goto error;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned low;
                if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u') {
                    fail(ps, "lone surrogate");
                    goto error;
                }
                ps->p += 2;
                if (hex4(ps, &low) < 0) {
                    goto error;
                }
                if (low < 0xDC00 || low > 0xDFFF) {
                    fail(ps, "lone surrogate");
                    goto error;
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                fail(ps, "lone surrogate");
                goto error;
            }
            if (cp == 0) {
                fail(ps, "NUL in string");
                goto error;
            }
            n += put_utf8(out + n, cp);
            break;
        default:
            fail(ps, "bad escape");
            goto error;
        }
    }
error:
    free(out);
    return NULL;
}

static int
parse_number(parser_t *ps, double *out)
{
    const char *s = ps->p;
    if (s < ps->end && *s == '-') s++;
    if (s >= ps->end) { fail(ps, "bad number"); return -1; }
    if (*s == '0') s++;
    else if (*s >= '1' && *s <= '9') {
        while (s < ps->end && *s >= '0' && *s <= '9') s++;
    }
    else { fail(ps, "bad number"); return -1; }
    if (s < ps->end && *s == '.') {
        s++;
        if (s >= ps->end || *s < '0' || *s > '9') { fail(ps, "bad number"); return -1; }
        while (s < ps->end && *s >= '0' && *s <= '9') s++;
    }
    if (s < ps->end && (*s == 'e' || *s == 'E')) {
        s++;
        if (s < ps->end && (*s == '+' || *s == '-')) s++;
        if (s >= ps->end || *s < '0' || *s > '9') { fail(ps, "bad number"); return -1; }
        while (s < ps->end && *s >= '0' && *s <= '9') s++;
    }
    size_t len = (size_t)(s - ps->p);
    char buf[64];
    if (len >= sizeof(buf)) {
        fail(ps, "number too long");
        return -1;
    }
    memcpy(buf, ps->p, len);
    buf[len] = '\0';
    *out = strtod(buf, NULL);
    ps->p = s;
    return 0;
}

static int
literal(parser_t *ps, const char *word)
{
    size_t len = strlen(word);
    if ((size_t)(ps->end - ps->p) < len || memcmp(ps->p, word, len) != 0) {
        fail(ps, "unexpected character");
        return -1;
    }
    ps->p += len;
    return 0;
}

static pyprof_json_t *parse_value(parser_t *ps, int depth);

/* The members or elements of a container, up to `close`. */
static int
parse_items(parser_t *ps, pyprof_json_t *node, int depth, char close)
{
    pyprof_json_t **tail = &node->first;
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return 0;
    }
    for (;;) {
        char *key = NULL;
        skip_space(ps);
        if (close == '}') {
            if (ps->p >= ps->end || *ps->p != '"') {
                fail(ps, "expected a member name");
                return -1;
            }
            ps->p++;
            key = parse_string(ps);
            if (key == NULL) {
                return -1;
            }
            skip_space(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                free(key);
                fail(ps, "expected ':'");
                return -1;
            }
            ps->p++;
        }
        pyprof_json_t *child = parse_value(ps, depth + 1);
        if (child == NULL) {
            free(key);
            return -1;
        }
        child->key = key;
        *tail = child;
        tail = &child->next;
        node->count++;
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return 0;
        }
        fail(ps, "expected ',' or '%c'", close);
        return -1;
    }
}

static pyprof_json_t *
parse_value(parser_t *ps, int depth)
{
    if (depth > MAX_DEPTH) {
        fail(ps, "nested too deeply");
        return NULL;
    }
    skip_space(ps);
    if (ps->p >= ps->end) {
        fail(ps, "unexpected end");
        return NULL;
    }
    pyprof_json_t *node = NULL;
    char c = *ps->p;
    if (c == '{' || c == '[') {
        node = new_node(ps, c == '{' ? PYPROF_JSON_OBJECT : PYPROF_JSON_ARRAY);
        ps->p++;
        if (node != NULL
            && parse_items(ps, node, depth, c == '{' ? '}' : ']') < 0) {
            pyprof_json_free(node);
            return NULL;
        }
        return node;
    }
    if (c == '"') {
        ps->p++;
        char *s = parse_string(ps);
        if (s == NULL || (node = new_node(ps, PYPROF_JSON_STRING)) == NULL) {
            free(s);
            return NULL;
        }
        node->string = s;
        return node;
    }
    if (c == 't' || c == 'f' || c == 'n') {
        const char *word = c == 't' ? "true" : c == 'f' ? "false" : "null";
        if (literal(ps, word) < 0) {
            return NULL;
        }
        node = new_node(ps, c == 'n' ? PYPROF_JSON_NULL : PYPROF_JSON_BOOL);
        if (node != NULL) {
            node->number = c == 't';
        }
        return node;
    }
    double number;
    if (parse_number(ps, &number) < 0) {
        return NULL;
    }
    node = new_node(ps, PYPROF_JSON_NUMBER);
    if (node != NULL) {
        node->number = number;
    }
    return node;
}

pyprof_json_t *
pyprof_json_parse(const char *data, size_t len, char *errbuf, size_t errlen)
{
    parser_t ps = {data, data + len, data, errbuf, errlen, 0};
    pyprof_json_t *root = parse_value(&ps, 0);
    if (root == NULL) {
        return NULL;
    }
    skip_space(&ps);
    if (ps.p != ps.end) {
        fail(&ps, "data after the value");
        pyprof_json_free(root);
        return NULL;
    }
    return root;
}

void
pyprof_json_free(pyprof_json_t *root)
{
    /* Unlink children onto a work list instead of recursing. */
    pyprof_json_t *work = root;
    while (work != NULL) {
        pyprof_json_t *node = work;
        work = node->next;
        if (node->first != NULL) {
            pyprof_json_t *last = node->first;
            while (last->next != NULL) {
                last = last->next;
            }
            last->next = work;
            work = node->first;
        }
        free(node->string);
        free(node->key);
        free(node);
    }
}

const pyprof_json_t *
pyprof_json_get(const pyprof_json_t *object, const char *key)
{
    if (object == NULL || object->kind != PYPROF_JSON_OBJECT) {
        return NULL;
    }
    for (const pyprof_json_t *m = object->first; m != NULL; m = m->next) {
        if (strcmp(m->key, key) == 0) {
            return m;
        }
    }
    return NULL;
}

int
pyprof_json_is_number(const pyprof_json_t *v)
{
    return v != NULL && v->kind == PYPROF_JSON_NUMBER && isfinite(v->number);
}

int
pyprof_json_is_string(const pyprof_json_t *v)
{
    return v != NULL && v->kind == PYPROF_JSON_STRING;
}
