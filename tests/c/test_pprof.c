/* test_pprof.c - the gzip framing and the profile.proto encoder.
 *
 * The CRC is checked against the standard check value of CRC-32
 * ("123456789" -> 0xCBF43926); the gzip member is taken apart by hand
 * (RFC 1952/1951 stored blocks); the protobuf is read back by a small
 * independent decoder and compared field by field with what was added.
 * `go tool pprof` reading the files is tested in tests/test_pprof.py.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/gzip.h"
#include "report/pprof.h"

static uint32_t
le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16
           | (uint32_t)p[3] << 24;
}

/* Unpack a gzip member of stored blocks into a new buffer; NULL when it
 * is not one.  *len_out gets the length. */
static unsigned char *
gunzip_stored(const unsigned char *gz, size_t len, size_t *len_out)
{
    if (len < 18 || gz[0] != 0x1f || gz[1] != 0x8b || gz[2] != 8
        || gz[3] != 0) {
        return NULL;
    }
    unsigned char *data = malloc(len);
    size_t n = 0, pos = 10;
    for (;;) {
        if (pos + 5 > len) {
            free(data);
            return NULL;
        }
        unsigned final = gz[pos] & 1, type = (gz[pos] >> 1) & 3;
        unsigned blen = gz[pos + 1] | gz[pos + 2] << 8;
        unsigned nlen = gz[pos + 3] | gz[pos + 4] << 8;
        if (type != 0 || (blen ^ 0xFFFF) != nlen || pos + 5 + blen > len) {
            free(data);
            return NULL;
        }
        memcpy(data + n, gz + pos + 5, blen);
        n += blen;
        pos += 5 + blen;
        if (final) {
            break;
        }
    }
    if (pos + 8 != len || le32(gz + pos) != pyprof_crc32(0, data, n)
        || le32(gz + pos + 4) != (uint32_t)n) {
        free(data);
        return NULL;
    }
    *len_out = n;
    return data;
}

static void
test_crc_and_gzip(void)
{
    CHECK(pyprof_crc32(0, "123456789", 9) == UINT32_C(0xCBF43926));
    CHECK(pyprof_crc32(pyprof_crc32(0, "1234", 4), "56789", 5)
          == UINT32_C(0xCBF43926));
    size_t sizes[] = {0, 1, 65535, 65536, 200000};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t n = sizes[k];
        unsigned char *data = malloc(n + 1);
        for (size_t i = 0; i < n; i++) {
            data[i] = (unsigned char)(i * 7 + i / 251);
        }
        pyprof_sink_t sink;
        pyprof_sink_init_buffer(&sink);
        pyprof_gzip_write(&sink, data, n);
        CHECK(!pyprof_sink_failed(&sink));
        size_t got_len = 0;
        unsigned char *got = gunzip_stored((unsigned char *)sink.data,
                                           sink.len, &got_len);
        CHECK(got != NULL && got_len == n
              && (n == 0 || memcmp(got, data, n) == 0));
        free(got);
        free(data);
        pyprof_sink_free_buffer(&sink);
    }
}

/* ---- a minimal protobuf reader ---- */

typedef struct {
    const unsigned char *p, *end;
    int bad;
} reader_t;

static uint64_t
read_varint(reader_t *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) {
            r->bad = 1;
            return 0;
        }
        unsigned char b = *r->p++;
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            return v;
        }
    }
    r->bad = 1;
    return 0;
}

/* Next field: 1 with *field, *wire and either *value (varint) or
 * *sub (bytes) set; 0 at the end. */
static int
next_field(reader_t *r, unsigned *field, unsigned *wire, uint64_t *value,
           reader_t *sub)
{
    if (r->p >= r->end || r->bad) {
        return 0;
    }
    uint64_t key = read_varint(r);
    *field = (unsigned)(key >> 3);
    *wire = (unsigned)(key & 7);
    if (*wire == 0) {
        *value = read_varint(r);
    }
    else if (*wire == 2) {
        uint64_t n = read_varint(r);
        if (n > (uint64_t)(r->end - r->p)) {
            r->bad = 1;
            return 0;
        }
        sub->p = r->p;
        sub->end = r->p + n;
        sub->bad = 0;
        r->p += n;
    }
    else {
        r->bad = 1;
        return 0;
    }
    return !r->bad;
}

typedef struct {
    char strings[32][64];
    int nstrings;
    int64_t sample_locs[8][8], sample_vals[8][4];
    int sample_nlocs[8], sample_nvals[8], nsamples;
    int64_t label_key[8], label_str[8], label_num[8];
    int nlabels;
    int64_t loc_id[8], loc_fn[8], loc_line[8];
    int nlocs;
    int64_t fn_id[8], fn_name[8], fn_file[8], fn_start[8];
    int nfns;
    int64_t types[4][2];
    int ntypes;
    int64_t period, time_nanos, duration, period_type[2], comment;
} decoded_t;

static void
read_packed(reader_t *sub, int64_t *out, int *n)
{
    while (sub->p < sub->end && !sub->bad) {
        out[(*n)++] = (int64_t)read_varint(sub);
    }
}

static void
read_value_type(reader_t *sub, int64_t out[2])
{
    unsigned f, w;
    uint64_t v;
    reader_t s2;
    out[0] = out[1] = 0;
    while (next_field(sub, &f, &w, &v, &s2)) {
        if (f == 1 || f == 2) {
            out[f - 1] = (int64_t)v;
        }
    }
}

static void
decode(const unsigned char *data, size_t len, decoded_t *d)
{
    memset(d, 0, sizeof(*d));
    reader_t r = {data, data + len, 0}, sub, s2, s3;
    unsigned f, w, f2, w2, f3, w3;
    uint64_t v, v2, v3;
    while (next_field(&r, &f, &w, &v, &sub)) {
        switch (f) {
        case 1:
            read_value_type(&sub, d->types[d->ntypes++]);
            break;
        case 2: {
            int i = d->nsamples++;
            while (next_field(&sub, &f2, &w2, &v2, &s2)) {
                if (f2 == 1) {
                    read_packed(&s2, d->sample_locs[i], &d->sample_nlocs[i]);
                }
                else if (f2 == 2) {
                    read_packed(&s2, d->sample_vals[i], &d->sample_nvals[i]);
                }
                else if (f2 == 3) {
                    int k = d->nlabels++;
                    while (next_field(&s2, &f3, &w3, &v3, &s3)) {
                        if (f3 == 1) d->label_key[k] = (int64_t)v3;
                        if (f3 == 2) d->label_str[k] = (int64_t)v3;
                        if (f3 == 3) d->label_num[k] = (int64_t)v3;
                    }
                }
            }
            break;
        }
        case 4: {
            int i = d->nlocs++;
            while (next_field(&sub, &f2, &w2, &v2, &s2)) {
                if (f2 == 1) {
                    d->loc_id[i] = (int64_t)v2;
                }
                else if (f2 == 4) {
                    while (next_field(&s2, &f3, &w3, &v3, &s3)) {
                        if (f3 == 1) d->loc_fn[i] = (int64_t)v3;
                        if (f3 == 2) d->loc_line[i] = (int64_t)v3;
                    }
                }
            }
            break;
        }
        case 5: {
            int i = d->nfns++;
            while (next_field(&sub, &f2, &w2, &v2, &s2)) {
                if (f2 == 1) d->fn_id[i] = (int64_t)v2;
                if (f2 == 2) d->fn_name[i] = (int64_t)v2;
                if (f2 == 4) d->fn_file[i] = (int64_t)v2;
                if (f2 == 5) d->fn_start[i] = (int64_t)v2;
            }
            break;
        }
        case 6: {
            size_t n = (size_t)(sub.end - sub.p);
            memcpy(d->strings[d->nstrings], sub.p, n < 63 ? n : 63);
            d->nstrings++;
            break;
        }
        case 9: d->time_nanos = (int64_t)v; break;
        case 10: d->duration = (int64_t)v; break;
        case 11: read_value_type(&sub, d->period_type); break;
        case 12: d->period = (int64_t)v; break;
        case 13: d->comment = (int64_t)v; break;
        }
    }
    CHECK(!r.bad);
}

static void
test_encoder(void)
{
    pyprof_pprof_t *prof = pyprof_pprof_new();
    CHECK(prof != NULL);
    CHECK(pyprof_pprof_add_sample_type(prof, "samples", "count") == 0);
    CHECK(pyprof_pprof_add_sample_type(prof, "cpu", "nanoseconds") == 0);
    CHECK(pyprof_pprof_set_period(prof, "cpu", "nanoseconds", 10000000)
          == 0);
    pyprof_pprof_set_time(prof, INT64_C(1700000000000000000), 2500000000);
    CHECK(pyprof_pprof_add_comment(prof, "hello") == 0);
    uint64_t main_loc = pyprof_pprof_location(prof, "main", "app.py", 10, 12);
    uint64_t work_a = pyprof_pprof_location(prof, "work", "app.py", 20, 21);
    uint64_t work_b = pyprof_pprof_location(prof, "work", "app.py", 20, 25);
    CHECK(main_loc == 1 && work_a == 2 && work_b == 3);
    CHECK(pyprof_pprof_location(prof, "work", "app.py", 20, 21) == work_a);
    uint64_t stack1[2] = {work_a, main_loc}, stack2[2] = {work_b, main_loc};
    int64_t values1[2] = {3, 30000000}, values2[2] = {300, -1};
    pyprof_pprof_label_t labels[2] = {{"thread", "MainThread", 0},
                                      {"pid", NULL, 4321}};
    CHECK(pyprof_pprof_add_sample(prof, stack1, 2, values1, labels, 2) == 0);
    CHECK(pyprof_pprof_add_sample(prof, stack2, 2, values2, NULL, 0) == 0);
    CHECK(pyprof_pprof_sample_count(prof) == 2);
    pyprof_sink_t raw;
    CHECK(pyprof_pprof_encode(prof, &raw) == 0);
    decoded_t *d = malloc(sizeof(*d));
    decode((const unsigned char *)raw.data, raw.len, d);
#define STR(i) (d->strings[(i)])
    CHECK(d->nstrings > 0 && STR(0)[0] == '\0');
    CHECK(d->ntypes == 2);
    CHECK_STR(STR(d->types[0][0]), "samples");
    CHECK_STR(STR(d->types[0][1]), "count");
    CHECK_STR(STR(d->types[1][0]), "cpu");
    CHECK_STR(STR(d->types[1][1]), "nanoseconds");
    CHECK_STR(STR(d->period_type[0]), "cpu");
    CHECK(d->period == 10000000);
    CHECK(d->time_nanos == INT64_C(1700000000000000000));
    CHECK(d->duration == 2500000000);
    CHECK_STR(STR(d->comment), "hello");
    CHECK(d->nsamples == 2);
    CHECK(d->sample_nlocs[0] == 2 && d->sample_locs[0][0] == 2
          && d->sample_locs[0][1] == 1);
    CHECK(d->sample_nvals[0] == 2 && d->sample_vals[0][0] == 3
          && d->sample_vals[0][1] == 30000000);
    CHECK(d->sample_nvals[1] == 2 && d->sample_vals[1][1] == -1);
    CHECK(d->nlabels == 2);
    CHECK_STR(STR(d->label_key[0]), "thread");
    CHECK_STR(STR(d->label_str[0]), "MainThread");
    CHECK_STR(STR(d->label_key[1]), "pid");
    CHECK(d->label_num[1] == 4321);
    CHECK(d->nlocs == 3 && d->nfns == 2);
    CHECK(d->loc_id[2] == 3 && d->loc_fn[2] == 2 && d->loc_line[2] == 25);
    CHECK(d->loc_fn[0] == 1 && d->loc_line[0] == 12);
    CHECK(d->fn_id[1] == 2 && d->fn_start[1] == 20);
    CHECK_STR(STR(d->fn_name[1]), "work");
    CHECK_STR(STR(d->fn_file[1]), "app.py");
#undef STR
    free(d);
    pyprof_sink_free_buffer(&raw);
    /* The written file is the same message, gzipped. */
    pyprof_sink_t gz;
    pyprof_sink_init_buffer(&gz);
    CHECK(pyprof_pprof_write(prof, &gz) == 0);
    CHECK(pyprof_pprof_encode(prof, &raw) == 0);
    size_t n = 0;
    unsigned char *plain = gunzip_stored((unsigned char *)gz.data, gz.len, &n);
    CHECK(plain != NULL && n == raw.len && memcmp(plain, raw.data, n) == 0);
    free(plain);
    pyprof_sink_free_buffer(&raw);
    pyprof_sink_free_buffer(&gz);
    pyprof_pprof_free(prof);
}

/* Many strings and locations: the interning tables grow and still find
 * every key once. */
static void
test_interning_growth(void)
{
    pyprof_pprof_t *prof = pyprof_pprof_new();
    char name[32];
    int ok = 1;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < 2100; i++) {
            snprintf(name, sizeof(name), "f%d", i % 700);
            ok &= pyprof_pprof_location(prof, name, "x.py", i % 700, i / 700)
                  == (uint64_t)i + 1;
        }
    }
    CHECK(ok);
    pyprof_pprof_free(prof);
}

void
test_pprof(void)
{
    test_crc_and_gzip();
    test_encoder();
    test_interning_growth();
}
