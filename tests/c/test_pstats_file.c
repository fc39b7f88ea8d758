/* test_pstats_file.c - the marshal reader on hand-made and CPython-made
 * bytes, and the writer's round trip.
 *
 * Hand-made images are built with the small encoder below so that each
 * test says which marshal feature it exercises; `cpython_image` holds the
 * bytes CPython's own marshal.dumps wrote (with its FLAG_REF and 'r' use).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "core/pstats_file.h"

/* marshal.dumps({('/src/app/main.py', 10, 'main'): (1, 1, 0.0012, 0.5, {}),
 *   ('/src/app/util.py', 3, 'fib'): (1, 177, .25, .25, {main: (1, 1, 0.0,
 *   .25), fib: (176, 0, .25, .25)}), ('~', 0, '<built-in method
 *   builtins.len>'): (40, 40, .004, .004, {main: (30, 30, .003, .003),
 *   helper: (10, 10, .001, .001)}), ('/src/lib/util.py', 7, 'helper'):
 *   (5, 5, .004, .2446, {main: (5, 5, .004, .2446)}), ('~', 0, "<method
 *   'append' of 'list' objects>"): (0, 0, 0.0, 0.0, {})}), CPython 3.11.7.
 */
const char cpython_image[] =
    "\xfb\xa9\x03\xfa\x10\x2f\x73\x72\x63\x2f\x61\x70\x70\x2f\x6d\x61"
    "\x69\x6e\x2e\x70\x79\xe9\x0a\x00\x00\x00\xda\x04\x6d\x61\x69\x6e"
    "\x29\x05\xe9\x01\x00\x00\x00\x72\x05\x00\x00\x00\xe7\x61\x32\x55"
    "\x30\x2a\xa9\x53\x3f\xe7\x00\x00\x00\x00\x00\x00\xe0\x3f\x7b\x30"
    "\xa9\x03\xfa\x10\x2f\x73\x72\x63\x2f\x61\x70\x70\x2f\x75\x74\x69"
    "\x6c\x2e\x70\x79\xe9\x03\x00\x00\x00\xda\x03\x66\x69\x62\x29\x05"
    "\x72\x05\x00\x00\x00\xe9\xb1\x00\x00\x00\xe7\x00\x00\x00\x00\x00"
    "\x00\xd0\x3f\x72\x0d\x00\x00\x00\x7b\x72\x01\x00\x00\x00\xa9\x04"
    "\x72\x05\x00\x00\x00\x72\x05\x00\x00\x00\xe7\x00\x00\x00\x00\x00"
    "\x00\x00\x00\x72\x0d\x00\x00\x00\x72\x08\x00\x00\x00\xa9\x04\xe9"
    "\xb0\x00\x00\x00\xe9\x00\x00\x00\x00\x72\x0d\x00\x00\x00\x72\x0d"
    "\x00\x00\x00\x30\xa9\x03\xfa\x01\x7e\x72\x12\x00\x00\x00\xfa\x1e"
    "\x3c\x62\x75\x69\x6c\x74\x2d\x69\x6e\x20\x6d\x65\x74\x68\x6f\x64"
    "\x20\x62\x75\x69\x6c\x74\x69\x6e\x73\x2e\x6c\x65\x6e\x3e\x29\x05"
    "\xe9\x28\x00\x00\x00\x72\x16\x00\x00\x00\xe7\xfc\xa9\xf1\xd2\x4d"
    "\x62\x70\x3f\x72\x17\x00\x00\x00\x7b\x72\x01\x00\x00\x00\xa9\x04"
    "\xe9\x1e\x00\x00\x00\x72\x19\x00\x00\x00\xe7\xfa\x7e\x6a\xbc\x74"
    "\x93\x68\x3f\x72\x1a\x00\x00\x00\xa9\x03\xfa\x10\x2f\x73\x72\x63"
    "\x2f\x6c\x69\x62\x2f\x75\x74\x69\x6c\x2e\x70\x79\xe9\x07\x00\x00"
    "\x00\xda\x06\x68\x65\x6c\x70\x65\x72\xa9\x04\x72\x03\x00\x00\x00"
    "\x72\x03\x00\x00\x00\xe7\xfc\xa9\xf1\xd2\x4d\x62\x50\x3f\x72\x20"
    "\x00\x00\x00\x30\x72\x1b\x00\x00\x00\x29\x05\xe9\x05\x00\x00\x00"
    "\x72\x21\x00\x00\x00\x72\x17\x00\x00\x00\xe7\x3b\x01\x4d\x84\x0d"
    "\x4f\xcf\x3f\x7b\x72\x01\x00\x00\x00\xa9\x04\x72\x21\x00\x00\x00"
    "\x72\x21\x00\x00\x00\x72\x17\x00\x00\x00\x72\x22\x00\x00\x00\x30"
    "\xa9\x03\x72\x14\x00\x00\x00\x72\x12\x00\x00\x00\xfa\x23\x3c\x6d"
    "\x65\x74\x68\x6f\x64\x20\x27\x61\x70\x70\x65\x6e\x64\x27\x20\x6f"
    "\x66\x20\x27\x6c\x69\x73\x74\x27\x20\x6f\x62\x6a\x65\x63\x74\x73"
    "\x3e\x29\x05\x72\x12\x00\x00\x00\x72\x12\x00\x00\x00\x72\x0f\x00"
    "\x00\x00\x72\x0f\x00\x00\x00\x7b\x30\x30";
const size_t cpython_image_len = sizeof(cpython_image) - 1;

/* ---- a tiny marshal encoder for hand-made images -------------------- */

typedef struct {
    unsigned char data[4096];
    size_t len;
} image_t;

static void
put(image_t *im, const void *bytes, size_t n)
{
    if (im->len + n <= sizeof(im->data)) {
        memcpy(im->data + im->len, bytes, n);
    }
    im->len += n;
}

static void
put_byte(image_t *im, unsigned b)
{
    unsigned char c = (unsigned char)b;
    put(im, &c, 1);
}

static void
put_i32(image_t *im, int32_t v)
{
    uint32_t u = (uint32_t)v;
    for (int i = 0; i < 4; i++) {
        put_byte(im, (u >> (8 * i)) & 0xff);
    }
}

/* A string with the given type code ('z', 'Z' short; 'a', 'A', 'u', 't'
 * with a 4-byte length), flag FLAG_REF or 0. */
static void
put_str(image_t *im, unsigned type, const char *text)
{
    size_t n = strlen(text);
    put_byte(im, type);
    if ((type & 0x7f) == 'z' || (type & 0x7f) == 'Z') {
        put_byte(im, (unsigned)n);
    }
    else {
        put_i32(im, (int32_t)n);
    }
    put(im, text, n);
}

static void
put_int(image_t *im, int32_t v)
{
    put_byte(im, 'i');
    put_i32(im, v);
}

static void
put_double(image_t *im, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, 8);
    put_byte(im, 'g');
    for (int i = 0; i < 8; i++) {
        put_byte(im, (unsigned)(bits >> (8 * i)) & 0xff);
    }
}

static void
put_key(image_t *im, unsigned str_type, const char *file, int32_t line,
        const char *name)
{
    put_byte(im, ')');
    put_byte(im, 3);
    put_str(im, str_type, file);
    put_int(im, line);
    put_str(im, str_type, name);
}

/* The value (cc, nc, tt, ct, {}) of an entry without callers. */
static void
put_plain_value(image_t *im, int32_t cc, int32_t nc, double tt, double ct)
{
    put_byte(im, ')');
    put_byte(im, 5);
    put_int(im, cc);
    put_int(im, nc);
    put_double(im, tt);
    put_double(im, ct);
    put_byte(im, '{');
    put_byte(im, '0');
}

/* Parse an image into a fresh model; the model (or NULL on error, with
 * the reason in err). */
static pyprof_stats_t *
parse(const void *data, size_t len, char *err, size_t errlen)
{
    pyprof_stats_t *s = pyprof_stats_new();
    if (pyprof_pstats_parse(s, data, len, err, errlen) < 0) {
        pyprof_stats_free(s);
        return NULL;
    }
    return s;
}

static pyprof_stats_t *
parse_image(const image_t *im, char *err, size_t errlen)
{
    return parse(im->data, im->len, err, errlen);
}

/* ---- tests ---------------------------------------------------------- */

static void
test_cpython_image(void)
{
    char err[256] = "";
    size_t len = cpython_image_len;
    pyprof_stats_t *s = parse(cpython_image, len, err, sizeof(err));
    CHECK(s != NULL);
    if (s == NULL) {
        fprintf(stderr, "  reason: %s\n", err);
        return;
    }
    CHECK(pyprof_stats_count(s) == 5);
    const pyprof_func_t *fib = pyprof_stats_get(s, 1);
    CHECK(strcmp(fib->filename, "/src/app/util.py") == 0);
    CHECK(fib->lineno == 3 && strcmp(fib->funcname, "fib") == 0);
    CHECK(fib->cc == 1 && fib->nc == 177 && fib->tt == 0.25);
    CHECK(fib->ncallers == 2 && fib->callers[0].caller == 0
          && fib->callers[1].caller == 1 && fib->callers[1].nc == 176
          && fib->callers[1].cc == 0);
    const pyprof_func_t *len_fn = pyprof_stats_get(s, 2);
    CHECK(strcmp(len_fn->funcname, "<built-in method builtins.len>") == 0);
    CHECK(len_fn->lineno == 0 && strcmp(len_fn->filename, "~") == 0);
    /* helper (index 3) calls len but is listed after it. */
    CHECK(len_fn->ncallers == 2 && len_fn->callers[1].caller == 3
          && len_fn->callers[1].tt == 0.001);
    CHECK(pyprof_stats_get(s, 0)->tt == 0.0012);
    pyprof_stats_free(s);

    /* Every proper prefix is refused with a message, never a crash. */
    int refused = 0, with_reason = 0;
    for (size_t n = 0; n < len; n++) {
        err[0] = '\0';
        s = parse(cpython_image, n, err, sizeof(err));
        refused += s == NULL;
        with_reason += err[0] != '\0' && strchr(err, '\n') == NULL;
        pyprof_stats_free(s);
    }
    CHECK(refused == (int)len);
    CHECK(with_reason == (int)len);

    /* Every single-byte change either parses or is refused cleanly (the
     * sanitizers watch the rest). */
    unsigned char copy[600];
    for (size_t i = 0; i < len; i++) {
        static const unsigned char values[] = {0x00, 0x30, 0x72, 0x7f,
                                               0x80, 0xff};
        for (size_t v = 0; v < sizeof(values); v++) {
            memcpy(copy, cpython_image, len);
            copy[i] = values[v];
            pyprof_stats_free(parse(copy, len, err, sizeof(err)));
        }
    }
    CHECK(1);

    /* Trailing bytes after the object are ignored, as marshal.load does. */
    memcpy(copy, cpython_image, len);
    copy[len] = 'X';
    s = parse(copy, len + 1, err, sizeof(err));
    CHECK(s != NULL && pyprof_stats_count(s) == 5);
    pyprof_stats_free(s);
}

static void
test_string_types(void)
{
    /* Each string type, with and without FLAG_REF; Latin-1 in the ASCII
     * types becomes UTF-8 as CPython decodes it. */
    static const unsigned types[] = {'z', 'Z', 'a', 'A', 'u', 't',
                                     'z' | 0x80, 'a' | 0x80, 'u' | 0x80};
    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        image_t im = {.len = 0};
        put_byte(&im, '{');
        put_key(&im, types[t], "dir/m.py", 4, "fn");
        put_plain_value(&im, 2, 3, 0.5, 1.5);
        put_byte(&im, '0');
        char err[256];
        pyprof_stats_t *s = parse_image(&im, err, sizeof(err));
        CHECK(s != NULL && pyprof_stats_count(s) == 1);
        if (s != NULL) {
            const pyprof_func_t *f = pyprof_stats_get(s, 0);
            CHECK(strcmp(f->filename, "dir/m.py") == 0 && f->lineno == 4
                  && strcmp(f->funcname, "fn") == 0 && f->cc == 2
                  && f->nc == 3 && f->tt == 0.5 && f->ct == 1.5);
        }
        pyprof_stats_free(s);
    }
    image_t im = {.len = 0};
    put_byte(&im, '{');
    put_key(&im, 'a', "caf\xe9.py", 1, "\xe9t\xe9");   /* Latin-1 bytes */
    put_byte(&im, ')');
    put_byte(&im, 5);
    put_int(&im, 1);
    put_int(&im, 1);
    put_int(&im, 0);            /* an int time is accepted */
    put_double(&im, 0.0);
    put_byte(&im, '{');
    put_byte(&im, '0');
    put_byte(&im, '0');
    char err[256];
    pyprof_stats_t *s = parse_image(&im, err, sizeof(err));
    CHECK(s != NULL);
    if (s != NULL) {
        CHECK(strcmp(pyprof_stats_get(s, 0)->filename, "caf\xc3\xa9.py")
              == 0);
        CHECK(strcmp(pyprof_stats_get(s, 0)->funcname, "\xc3\xa9t\xc3\xa9")
              == 0);
    }
    pyprof_stats_free(s);

    /* 'u' must be UTF-8 (surrogates pass, as with "surrogatepass"). */
    im.len = 0;
    put_byte(&im, '{');
    put_key(&im, 'u', "\xed\xa0\x80.py", 1, "ok");
    put_plain_value(&im, 1, 1, 0.0, 0.0);
    put_byte(&im, '0');
    s = parse_image(&im, err, sizeof(err));
    CHECK(s != NULL);
    pyprof_stats_free(s);
    im.data[8] = 0xff;      /* inside the 'u' text: invalid UTF-8 */
    s = parse_image(&im, err, sizeof(err));
    CHECK(s == NULL && strstr(err, "UTF-8") != NULL);
}

/* A one-entry image whose count cc and time tt are the marshal bytes
 * given (NULL: the int 1, the float 0.0). */
static pyprof_stats_t *
parse_entry(const char *cc_bytes, size_t cc_len, const char *tt_bytes,
            size_t tt_len, char *err, size_t errlen)
{
    image_t im = {.len = 0};
    put_byte(&im, '{');
    put_key(&im, 'z', "m.py", 1, "f");
    put_byte(&im, ')');
    put_byte(&im, 5);
    if (cc_bytes != NULL) {
        put(&im, cc_bytes, cc_len);
    }
    else {
        put_int(&im, 1);
    }
    put_int(&im, 1);
    if (tt_bytes != NULL) {
        put(&im, tt_bytes, tt_len);
    }
    else {
        put_double(&im, 0.0);
    }
    put_double(&im, 0.0);
    put_byte(&im, '{');
    put_byte(&im, '0');
    put_byte(&im, '0');
    return parse_image(&im, err, errlen);
}

static void
test_ints(void)
{
    static const struct {
        const char *bytes;
        size_t len;
        const char *refusal;    /* NULL: accepted with `value` */
        int64_t value;
    } cases[] = {
        /* 'l' counts 15-bit digits, sign in the count: 1 + 2<<15 + 3<<30 */
        {"l\x03\x00\x00\x00\x01\x00\x02\x00\x03\x00", 11, NULL,
         1 + ((int64_t)2 << 15) + ((int64_t)3 << 30)},
        {"l\xfe\xff\xff\xff\x05\x00\x01\x00", 9, NULL, -(5 + (1 << 15))},
        /* -2**63 is digit 4 = 8 (8 << 60); +2**63 does not fit. */
        {"l\xfb\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00\x08\x00",
         15, NULL, INT64_MIN},
        {"l\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x08\x00",
         15, "too large", 0},
        {"l\x02\x00\x00\x00\x01\x00\x00\x00", 9, "unnormalized", 0},
        {"l\x01\x00\x00\x00\x00\x80", 7, "digit out of range", 0},
        {"l\x00\x00\x00\x00", 5, NULL, 0},
        {"I\x00\x00\x00\x00\x01\x00\x00\x00", 9, NULL, (int64_t)1 << 32},
        {"i\xff\xff\xff\xff", 5, NULL, -1},
        {"T", 1, "not a pstats file", 0},     /* a bool is not a count */
        {"g\x00\x00\x00\x00\x00\x00\xf0\x3f", 9, "not a pstats file", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[256] = "";
        pyprof_stats_t *s =
            parse_entry(cases[i].bytes, cases[i].len, NULL, 0, err,
                        sizeof(err));
        if (cases[i].refusal == NULL) {
            CHECK(s != NULL && pyprof_stats_get(s, 0)->cc == cases[i].value);
        }
        else {
            CHECK(s == NULL && strstr(err, cases[i].refusal) != NULL);
        }
        pyprof_stats_free(s);
    }
}

/* A one-entry image whose tt is the text float ('f') `text`. */
static pyprof_stats_t *
parse_text_float(const char *text, size_t n, char *err, size_t errlen)
{
    char bytes[260];
    bytes[0] = 'f';
    bytes[1] = (char)n;
    memcpy(bytes + 2, text, n);
    return parse_entry(NULL, 0, bytes, n + 2, err, errlen);
}

static void
test_floats(void)
{
    static const struct {
        const char *text;
        double value;   /* NAN: must be refused */
    } cases[] = {
        {"0.25", 0.25}, {"-1.5e-3", -1.5e-3}, {"1E2", 100.0}, {"5.", 5.0},
        {".5", 0.5}, {"inf", INFINITY}, {"-Infinity", -INFINITY},
        {"1e-400", 0.0}, {"nan", NAN}, {"", NAN}, {" 1", NAN}, {"1e", NAN},
        {"0x10", NAN}, {"1e400", NAN}, {"1_0", NAN}, {".", NAN},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[256];
        pyprof_stats_t *s = parse_text_float(
            cases[i].text, strlen(cases[i].text), err, sizeof(err));
        if (isnan(cases[i].value)) {
            CHECK(s == NULL);
        }
        else {
            CHECK(s != NULL && pyprof_stats_get(s, 0)->tt == cases[i].value);
        }
        if ((s == NULL) != isnan(cases[i].value)) {
            fprintf(stderr, "  text float '%s'\n", cases[i].text);
        }
        pyprof_stats_free(s);
    }
    /* A NUL ends the text as it does for PyOS_string_to_double. */
    char err[256];
    pyprof_stats_t *s = parse_text_float("2.5\0x", 5, err, sizeof(err));
    CHECK(s != NULL && pyprof_stats_get(s, 0)->tt == 2.5);
    pyprof_stats_free(s);
}

static void
test_refs(void)
{
    /* The key tuple is flagged (ref 0: the tuple, 1: "m.py" flagged too)
     * and both the caller key and a time refer back to it. */
    image_t im = {.len = 0};
    put_byte(&im, '{');
    put_byte(&im, ')' | 0x80);                  /* ref 0 */
    put_byte(&im, 3);
    put_str(&im, 'z' | 0x80, "m.py");           /* ref 1 */
    put_byte(&im, 'i' | 0x80);                  /* ref 2 */
    put_i32(&im, 7);
    put_str(&im, 'z', "f");
    put_byte(&im, ')');
    put_byte(&im, 5);
    put_byte(&im, 'r');
    put_i32(&im, 2);                            /* cc = 7 */
    put_int(&im, 9);
    put_byte(&im, 'g' | 0x80);                  /* ref 3 */
    put(&im, "\x00\x00\x00\x00\x00\x00\xe0\x3f", 8);
    put_byte(&im, 'r');
    put_i32(&im, 3);                            /* ct = tt = 0.5 */
    put_byte(&im, '{');
    put_byte(&im, 'r');
    put_i32(&im, 0);                            /* caller: itself */
    put_byte(&im, ')');
    put_byte(&im, 4);
    put_int(&im, 2);
    put_byte(&im, 'r');
    put_i32(&im, 2);
    put_byte(&im, 'r');
    put_i32(&im, 3);
    put_double(&im, 0.25);
    put_byte(&im, '0');
    put_byte(&im, '0');
    char err[256];
    pyprof_stats_t *s = parse_image(&im, err, sizeof(err));
    CHECK(s != NULL);
    if (s != NULL) {
        const pyprof_func_t *f = pyprof_stats_get(s, 0);
        CHECK(f->lineno == 7 && f->cc == 7 && f->nc == 9 && f->tt == 0.5
              && f->ct == 0.5);
        CHECK(f->ncallers == 1 && f->callers[0].caller == 0
              && f->callers[0].nc == 2 && f->callers[0].cc == 7
              && f->callers[0].tt == 0.5 && f->callers[0].ct == 0.25);
    }
    pyprof_stats_free(s);

    /* A reference past the table, and a negative one. */
    image_t bad = {.len = 0};
    put_byte(&bad, '{');
    put_byte(&bad, 'r');
    put_i32(&bad, 5);
    s = parse_image(&bad, err, sizeof(err));
    CHECK(s == NULL && strstr(err, "invalid reference") != NULL);
    bad.len = 0;
    put_byte(&bad, '[' | 0x80);
    put_i32(&bad, 1);
    put_byte(&bad, 'r');
    put_i32(&bad, -1);
    s = parse_image(&bad, err, sizeof(err));
    CHECK(s == NULL && strstr(err, "invalid reference") != NULL);

    /* A container that refers to itself is refused by shape, not looped. */
    bad.len = 0;
    put_byte(&bad, '{' | 0x80);
    put_key(&bad, 'z', "m.py", 1, "f");
    put_byte(&bad, ')');
    put_byte(&bad, 5);
    put_int(&bad, 1);
    put_int(&bad, 1);
    put_double(&bad, 0.0);
    put_double(&bad, 0.0);
    put_byte(&bad, 'r');
    put_i32(&bad, 0);           /* callers = the root dict itself */
    put_byte(&bad, '0');
    s = parse_image(&bad, err, sizeof(err));
    CHECK(s == NULL && strstr(err, "not a pstats file") != NULL);
}

/* An image that is well-formed marshal but not a pstats dict. */
static void
check_refused(const image_t *im, const char *needle)
{
    char err[256] = "";
    pyprof_stats_t *s = parse_image(im, err, sizeof(err));
    CHECK(s == NULL);
    CHECK(strstr(err, needle) != NULL);
    if (strstr(err, needle) == NULL) {
        fprintf(stderr, "  message: %s (wanted %s)\n", err, needle);
    }
    pyprof_stats_free(s);
}

static void
test_foreign(void)
{
    image_t im = {.len = 0};
    check_refused(&im, "empty");
    put_byte(&im, '[');         /* a marshalled list */
    put_i32(&im, 1);
    put_int(&im, 1);
    check_refused(&im, "top-level object is a list");
    im.len = 0;
    put(&im, "\x80\x04\x95", 3);    /* a pickle */
    check_refused(&im, "unknown type code");
    im.len = 0;
    put(&im, "hello\n", 6);     /* text: 'h' is not a marshal type */
    check_refused(&im, "unknown type code");
    im.len = 0;
    put_byte(&im, 'c');         /* a code object */
    check_refused(&im, "not a pstats file");

    /* A dict of the wrong shape, in each way. */
    static const char *const wrong[] = {"key", "value", "callers", "edge",
                                        "dup", "orphan", "old"};
    static const char *const needles[] = {
        "key", "entry", "callers of an entry", "a caller is not",
        "listed twice", "no entry of its own", "profile module"};
    for (size_t w = 0; w < sizeof(wrong) / sizeof(wrong[0]); w++) {
        im.len = 0;
        put_byte(&im, '{');
        if (w == 0) {
            put_str(&im, 'z', "not a tuple");
        }
        else {
            put_key(&im, 'z', "m.py", 1, "f");
        }
        if (w == 1) {
            put_int(&im, 5);
        }
        else {
            put_byte(&im, ')');
            put_byte(&im, 5);
            put_int(&im, 1);
            put_int(&im, 1);
            put_double(&im, 0.0);
            put_double(&im, 0.0);
            if (w == 2) {
                put_byte(&im, 'N');
            }
            else {
                put_byte(&im, '{');
                if (w == 3 || w == 5 || w == 6) {
                    put_key(&im, 'z', "m.py", w == 5 ? 2 : 1, "f");
                    if (w == 6) {
                        put_int(&im, 3);
                    }
                    else {
                        put_byte(&im, ')');
                        put_byte(&im, w == 3 ? 3 : 4);
                        put_int(&im, 1);
                        put_int(&im, 1);
                        put_double(&im, 0.0);
                        if (w == 5) {
                            put_double(&im, 0.0);
                        }
                    }
                }
                put_byte(&im, '0');
            }
        }
        if (w == 4) {
            put_key(&im, 'u', "m.py", 1, "f");
            put_plain_value(&im, 1, 1, 0.0, 0.0);
        }
        put_byte(&im, '0');
        check_refused(&im, needles[w]);
    }

    /* Deep nesting stops at the depth limit. */
    im.len = 0;
    for (int i = 0; i < 1000; i++) {
        put_byte(&im, ')');
        put_byte(&im, 1);
    }
    put_byte(&im, 'N');
    check_refused(&im, "nested too deeply");

    /* Lengths larger than the data are refused before any allocation. */
    im.len = 0;
    put_byte(&im, '(');
    put_i32(&im, INT32_MAX);
    check_refused(&im, "truncated");
    im.len = 0;
    put_byte(&im, 'u');
    put_i32(&im, -1);
    check_refused(&im, "size out of range");
    im.len = 0;
    put_byte(&im, 'l');
    put_i32(&im, INT32_MIN);
    check_refused(&im, "truncated");
}

static void
test_writer(void)
{
    /* The exact bytes for a tiny model, checked against what CPython's
     * marshal.loads makes of them in tests/test_stats.py as well. */
    pyprof_stats_t *s = pyprof_stats_new();
    size_t f = pyprof_stats_intern(s, "m.py", 1, "f");
    pyprof_stats_add(s, f, 1, 2, 0.5, 0.5);
    pyprof_stats_add_caller(s, f, f, 1, 0, 0.25, 0.25);
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    pyprof_pstats_serialize(&sink, s);
    static const char want[] =
        "{\xa9\x03z\x04m.pyi\x01\x00\x00\x00z\x01" "f"
        ")\x05i\x01\x00\x00\x00i\x02\x00\x00\x00"
        "g\x00\x00\x00\x00\x00\x00\xe0?g\x00\x00\x00\x00\x00\x00\xe0?"
        "{r\x00\x00\x00\x00)\x04i\x01\x00\x00\x00i\x00\x00\x00\x00"
        "g\x00\x00\x00\x00\x00\x00\xd0?g\x00\x00\x00\x00\x00\x00\xd0?00";
    CHECK(sink.len == sizeof(want) - 1
          && memcmp(sink.data, want, sizeof(want) - 1) == 0);
    pyprof_sink_free_buffer(&sink);
    pyprof_stats_free(s);

    /* Round trip of a model with every awkward value. */
    char err[256];
    pyprof_stats_t *a = parse(cpython_image, cpython_image_len, err,
                              sizeof(err));
    CHECK(a != NULL);
    if (a == NULL) {
        return;
    }
    size_t big = pyprof_stats_intern(a, "d\xc3\xa9j\xc3\xa0/\xe2\x82\xac.py",
                                     2147483648L, "big");
    /* Near the int64 ends, but leaving room for the file's total. */
    pyprof_stats_add(a, big, INT64_MIN + 1000, INT64_MAX - 1000, 1e-300,
                     INFINITY);
    pyprof_stats_add_caller(a, big, 0, -3, (int64_t)1 << 40, 1e300, 5e-324);
    char long_name[400];
    memset(long_name, 'n', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    size_t lng = pyprof_stats_intern(a, long_name, -7, long_name);
    pyprof_stats_add_caller(a, 0, lng, 1, 1, 0.1, 0.2);
    pyprof_sink_init_buffer(&sink);
    pyprof_pstats_serialize(&sink, a);
    CHECK(!pyprof_sink_failed(&sink));
    pyprof_stats_t *b = parse(sink.data, sink.len, err, sizeof(err));
    CHECK(b != NULL && pyprof_stats_equal(a, b));
    pyprof_stats_free(b);

    /* write_file goes through a temporary file and leaves the same bytes. */
    char path[] = "/tmp/pyprof-test-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) {
        close(fd);
        CHECK(pyprof_pstats_write_file(a, path, err, sizeof(err)) == 0);
        pyprof_stats_t *c = pyprof_stats_new();
        CHECK(pyprof_pstats_read_file(c, path, err, sizeof(err)) == 0);
        CHECK(pyprof_stats_equal(a, c));
        CHECK(pyprof_stats_source_count(c) == 1
              && strcmp(pyprof_stats_source_path(c, 0), path) == 0
              && pyprof_stats_source_mtime(c, 0) > 1e9);
        pyprof_stats_free(c);
        unlink(path);
    }
    CHECK(pyprof_pstats_write_file(a, "/nonexistent-dir/x.prof", err,
                                   sizeof(err)) == -1);
    CHECK(strstr(err, "/nonexistent-dir/x.prof") != NULL);
    pyprof_sink_free_buffer(&sink);
    pyprof_stats_free(a);
}

static void
test_read_file_errors(void)
{
    char err[256];
    pyprof_stats_t *s = pyprof_stats_new();
    CHECK(pyprof_pstats_read_file(s, "/nonexistent.prof", err, sizeof(err))
          == -1);
    CHECK(strncmp(err, "/nonexistent.prof: ", 19) == 0);
    CHECK(pyprof_pstats_read_file(s, "/", err, sizeof(err)) == -1);
    /* An empty dict: pstats refuses it, so do we. */
    char path[] = "/tmp/pyprof-test-XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) {
        CHECK(write(fd, "{0", 2) == 2);
        close(fd);
        CHECK(pyprof_pstats_read_file(s, path, err, sizeof(err)) == -1);
        CHECK(strstr(err, "no profile data") != NULL);
        unlink(path);
    }
    pyprof_stats_free(s);
}

void
test_pstats_file(void)
{
    test_cpython_image();
    test_string_types();
    test_ints();
    test_floats();
    test_refs();
    test_foreign();
    test_writer();
    test_read_file_errors();
}
