/* pprof.c - the profile.proto encoder (see pprof.h).
 *
 * Wire format: each field is a varint key (field number << 3 | wire
 * type) followed by a varint (type 0) or a varint length and that many
 * bytes (type 2: strings, sub-messages, packed repeated numbers).  A
 * sub-message is encoded into a scratch buffer first, because its length
 * comes before it.  Negative int64 values are written as 10-byte varints,
 * as protobuf does for int64.
 *
 * Function.system_name is left empty: `go tool pprof` demangles a
 * function whose system name equals its name, which turns "<module>" into
 * nothing.
 *
 * Interning tables are open addressing, at most half full, keyed by the
 * string or by a triple of integers; they hold 1-based indices into the
 * arrays, 0 marking an empty slot.
 */
#include "pprof.h"

#include <stdlib.h>
#include <string.h>

#include "../core/gzip.h"

enum { WIRE_VARINT = 0, WIRE_BYTES = 2 };

/* Profile's field numbers (profile.proto). */
enum {
    PROFILE_SAMPLE_TYPE = 1, PROFILE_SAMPLE = 2, PROFILE_LOCATION = 4,
    PROFILE_FUNCTION = 5, PROFILE_STRING_TABLE = 6, PROFILE_TIME_NANOS = 9,
    PROFILE_DURATION_NANOS = 10, PROFILE_PERIOD_TYPE = 11,
    PROFILE_PERIOD = 12, PROFILE_COMMENT = 13
};

typedef struct {
    int64_t key[3];
    uint32_t id;        /* 1-based; 0 marks an empty slot */
} triple_slot_t;

typedef struct {
    triple_slot_t *slots;
    size_t mask;
    size_t count;
} triple_table_t;

typedef struct {
    int64_t name, filename, start_line;    /* string indices, line */
} function_t;

typedef struct {
    uint64_t function_id;
    int64_t line;
} location_t;

struct pyprof_pprof {
    char **strings;             /* owned; strings[0] is "" */
    size_t nstrings, strings_cap;
    uint32_t *string_slots;     /* 1-based string indices */
    size_t string_mask;
    function_t *functions;      /* function id i + 1 */
    size_t nfunctions, functions_cap;
    triple_table_t function_index;
    location_t *locations;      /* location id i + 1 */
    size_t nlocations, locations_cap;
    triple_table_t location_index;
    int64_t sample_types[16][2];    /* (type, unit) string indices */
    size_t nsample_types;
    int64_t period_type[2];
    int64_t period;
    int has_period;
    int64_t time_nanos, duration_nanos;
    int64_t *comments;
    size_t ncomments, comments_cap;
    pyprof_sink_t samples;      /* encoded Profile.sample fields */
    size_t nsamples;
    pyprof_sink_t scratch;      /* one sub-message being encoded */
    int failed;                 /* sticky out-of-memory */
};

/* ---- growth and hashing ---- */

static int
grow(void **array, size_t *cap, size_t need, size_t item)
{
    if (need <= *cap) {
        return 0;
    }
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / item) {
            return -1;
        }
        ncap *= 2;
    }
    void *grown = realloc(*array, ncap * item);
    if (grown == NULL) {
        return -1;
    }
    *array = grown;
    *cap = ncap;
    return 0;
}

static uint64_t
mix(uint64_t h)
{
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    return h;
}

static uint64_t
hash_string(const char *s)
{
    uint64_t h = UINT64_C(1469598103934665603);
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    }
    return mix(h);
}

static uint64_t
hash_triple(const int64_t key[3])
{
    return mix((uint64_t)key[0] * UINT64_C(0x9E3779B97F4A7C15)
               ^ mix((uint64_t)key[1] + UINT64_C(0x632BE59BD9B4E019))
               ^ (uint64_t)key[2] * UINT64_C(0xBF58476D1CE4E5B9));
}

static int
triple_init(triple_table_t *table)
{
    table->slots = calloc(64, sizeof(*table->slots));
    table->mask = 63;
    table->count = 0;
    return table->slots == NULL ? -1 : 0;
}

static triple_slot_t *
triple_find(const triple_table_t *table, const int64_t key[3])
{
    size_t i = (size_t)hash_triple(key) & table->mask;
    for (;;) {
        triple_slot_t *slot = &table->slots[i];
        if (slot->id == 0 || memcmp(slot->key, key, sizeof(slot->key)) == 0) {
            return slot;
        }
        i = (i + 1) & table->mask;
    }
}

/* Add key -> id (absent); returns 0 or -1 when out of memory. */
static int
triple_add(triple_table_t *table, const int64_t key[3], uint32_t id)
{
    if ((table->count + 1) * 2 > table->mask + 1) {
        size_t cap = (table->mask + 1) * 2;
        triple_slot_t *slots = calloc(cap, sizeof(*slots));
        if (slots == NULL) {
            return -1;
        }
        triple_table_t bigger = {slots, cap - 1, table->count};
        for (size_t i = 0; i <= table->mask; i++) {
            if (table->slots[i].id != 0) {
                *triple_find(&bigger, table->slots[i].key) = table->slots[i];
            }
        }
        free(table->slots);
        *table = bigger;
    }
    triple_slot_t *slot = triple_find(table, key);
    memcpy(slot->key, key, sizeof(slot->key));
    slot->id = id;
    table->count++;
    return 0;
}

/* ---- strings ---- */

static uint32_t *
string_slot(const pyprof_pprof_t *prof, const char *s)
{
    size_t i = (size_t)hash_string(s) & prof->string_mask;
    for (;;) {
        uint32_t *slot = &prof->string_slots[i];
        if (*slot == 0 || strcmp(prof->strings[*slot - 1], s) == 0) {
            return slot;
        }
        i = (i + 1) & prof->string_mask;
    }
}

static int
grow_string_slots(pyprof_pprof_t *prof)
{
    size_t cap = (prof->string_mask + 1) * 2;
    uint32_t *slots = calloc(cap, sizeof(*slots));
    if (slots == NULL) {
        return -1;
    }
    free(prof->string_slots);
    prof->string_slots = slots;
    prof->string_mask = cap - 1;
    for (size_t i = 0; i < prof->nstrings; i++) {
        *string_slot(prof, prof->strings[i]) = (uint32_t)(i + 1);
    }
    return 0;
}

/* The string-table index of s, interned; -1 when out of memory. */
static int64_t
intern(pyprof_pprof_t *prof, const char *s)
{
    if (s == NULL) {
        s = "";
    }
    uint32_t *slot = string_slot(prof, s);
    if (*slot != 0) {
        return *slot - 1;
    }
    if (prof->nstrings >= UINT32_MAX - 1
        || grow((void **)&prof->strings, &prof->strings_cap,
                prof->nstrings + 1, sizeof(char *)) < 0) {
        return -1;
    }
    char *copy = strdup(s);
    if (copy == NULL) {
        return -1;
    }
    prof->strings[prof->nstrings++] = copy;
    *slot = (uint32_t)prof->nstrings;
    if (prof->nstrings * 2 > prof->string_mask + 1
        && grow_string_slots(prof) < 0) {
        return -1;
    }
    return (int64_t)prof->nstrings - 1;
}

/* ---- building ---- */

pyprof_pprof_t *
pyprof_pprof_new(void)
{
    pyprof_pprof_t *prof = calloc(1, sizeof(*prof));
    if (prof == NULL) {
        return NULL;
    }
    pyprof_sink_init_buffer(&prof->samples);
    pyprof_sink_init_buffer(&prof->scratch);
    prof->string_slots = calloc(64, sizeof(uint32_t));
    prof->string_mask = 63;
    if (prof->string_slots == NULL || triple_init(&prof->function_index) < 0
        || triple_init(&prof->location_index) < 0 || intern(prof, "") != 0) {
        pyprof_pprof_free(prof);
        return NULL;
    }
    return prof;
}

void
pyprof_pprof_free(pyprof_pprof_t *prof)
{
    if (prof == NULL) {
        return;
    }
    for (size_t i = 0; i < prof->nstrings; i++) {
        free(prof->strings[i]);
    }
    free(prof->strings);
    free(prof->string_slots);
    free(prof->functions);
    free(prof->function_index.slots);
    free(prof->locations);
    free(prof->location_index.slots);
    free(prof->comments);
    pyprof_sink_free_buffer(&prof->samples);
    pyprof_sink_free_buffer(&prof->scratch);
    free(prof);
}

int
pyprof_pprof_add_sample_type(pyprof_pprof_t *prof, const char *type,
                             const char *unit)
{
    size_t n = sizeof(prof->sample_types) / sizeof(prof->sample_types[0]);
    int64_t t = intern(prof, type), u = intern(prof, unit);
    if (t < 0 || u < 0 || prof->nsample_types == n) {
        prof->failed = 1;
        return -1;
    }
    prof->sample_types[prof->nsample_types][0] = t;
    prof->sample_types[prof->nsample_types][1] = u;
    prof->nsample_types++;
    return 0;
}

int
pyprof_pprof_set_period(pyprof_pprof_t *prof, const char *type,
                        const char *unit, int64_t period)
{
    int64_t t = intern(prof, type), u = intern(prof, unit);
    if (t < 0 || u < 0) {
        prof->failed = 1;
        return -1;
    }
    prof->period_type[0] = t;
    prof->period_type[1] = u;
    prof->period = period;
    prof->has_period = 1;
    return 0;
}

void
pyprof_pprof_set_time(pyprof_pprof_t *prof, int64_t time_nanos,
                      int64_t duration_nanos)
{
    prof->time_nanos = time_nanos;
    prof->duration_nanos = duration_nanos;
}

int
pyprof_pprof_add_comment(pyprof_pprof_t *prof, const char *text)
{
    int64_t s = intern(prof, text);
    if (s < 0 || grow((void **)&prof->comments, &prof->comments_cap,
                      prof->ncomments + 1, sizeof(int64_t)) < 0) {
        prof->failed = 1;
        return -1;
    }
    prof->comments[prof->ncomments++] = s;
    return 0;
}

/* The id of function (name, filename, start_line); 0 when out of memory. */
static uint64_t
function_id(pyprof_pprof_t *prof, const char *name, const char *filename,
            int64_t start_line)
{
    int64_t key[3] = {intern(prof, name), intern(prof, filename), start_line};
    if (key[0] < 0 || key[1] < 0) {
        return 0;
    }
    triple_slot_t *slot = triple_find(&prof->function_index, key);
    if (slot->id != 0) {
        return slot->id;
    }
    if (prof->nfunctions >= UINT32_MAX - 1
        || grow((void **)&prof->functions, &prof->functions_cap,
                prof->nfunctions + 1, sizeof(function_t)) < 0) {
        return 0;
    }
    prof->functions[prof->nfunctions++] = (function_t){key[0], key[1],
                                                       start_line};
    if (triple_add(&prof->function_index, key,
                   (uint32_t)prof->nfunctions) < 0) {
        prof->nfunctions--;
        return 0;
    }
    return prof->nfunctions;
}

uint64_t
pyprof_pprof_location(pyprof_pprof_t *prof, const char *name,
                      const char *filename, int64_t start_line, int64_t line)
{
    uint64_t function = function_id(prof, name, filename, start_line);
    if (function == 0) {
        prof->failed = 1;
        return 0;
    }
    int64_t key[3] = {(int64_t)function, line, 0};
    triple_slot_t *slot = triple_find(&prof->location_index, key);
    if (slot->id != 0) {
        return slot->id;
    }
    if (prof->nlocations >= UINT32_MAX - 1
        || grow((void **)&prof->locations, &prof->locations_cap,
                prof->nlocations + 1, sizeof(location_t)) < 0) {
        prof->failed = 1;
        return 0;
    }
    prof->locations[prof->nlocations++] = (location_t){function, line};
    if (triple_add(&prof->location_index, key,
                   (uint32_t)prof->nlocations) < 0) {
        prof->nlocations--;
        prof->failed = 1;
        return 0;
    }
    return prof->nlocations;
}

/* ---- encoding ---- */

static void
put_varint(pyprof_sink_t *out, uint64_t v)
{
    unsigned char b[10];
    size_t n = 0;
    do {
        b[n] = (unsigned char)(v & 0x7F);
        v >>= 7;
        if (v != 0) {
            b[n] |= 0x80;
        }
        n++;
    } while (v != 0);
    pyprof_sink_write(out, b, n);
}

static void
put_key(pyprof_sink_t *out, unsigned field, unsigned wire)
{
    put_varint(out, (uint64_t)field << 3 | wire);
}

/* A varint field; zero is the default and is left out, as protobuf does. */
static void
put_uint(pyprof_sink_t *out, unsigned field, uint64_t v)
{
    if (v != 0) {
        put_key(out, field, WIRE_VARINT);
        put_varint(out, v);
    }
}

static void
put_bytes(pyprof_sink_t *out, unsigned field, const void *data, size_t n)
{
    put_key(out, field, WIRE_BYTES);
    put_varint(out, n);
    pyprof_sink_write(out, data, n);
}

/* The scratch buffer as field `field` of `out`, then emptied. */
static void
put_scratch(pyprof_pprof_t *prof, pyprof_sink_t *out, unsigned field)
{
    if (prof->scratch.failed) {
        out->failed = 1;
    }
    put_bytes(out, field, prof->scratch.data, prof->scratch.len);
    prof->scratch.len = 0;
}

static void
put_value_type(pyprof_pprof_t *prof, pyprof_sink_t *out, unsigned field,
               const int64_t type_unit[2])
{
    put_uint(&prof->scratch, 1, (uint64_t)type_unit[0]);
    put_uint(&prof->scratch, 2, (uint64_t)type_unit[1]);
    put_scratch(prof, out, field);
}

int
pyprof_pprof_add_sample(pyprof_pprof_t *prof, const uint64_t *locations,
                        size_t nlocations, const int64_t *values,
                        const pyprof_pprof_label_t *labels, size_t nlabels)
{
    pyprof_sink_t packed, label;
    pyprof_sink_init_buffer(&packed);
    pyprof_sink_init_buffer(&label);
    pyprof_sink_t *sample = &prof->scratch;
    for (size_t i = 0; i < nlocations; i++) {
        put_varint(&packed, locations[i]);
    }
    put_bytes(sample, 1, packed.data, packed.len);
    packed.len = 0;
    for (size_t i = 0; i < prof->nsample_types; i++) {
        put_varint(&packed, (uint64_t)values[i]);
    }
    put_bytes(sample, 2, packed.data, packed.len);
    for (size_t i = 0; i < nlabels; i++) {
        int64_t key = intern(prof, labels[i].key);
        int64_t str = labels[i].str != NULL ? intern(prof, labels[i].str) : 0;
        if (key < 0 || str < 0) {
            prof->failed = 1;
            break;
        }
        label.len = 0;
        put_uint(&label, 1, (uint64_t)key);
        if (labels[i].str != NULL) {
            put_uint(&label, 2, (uint64_t)str);
        }
        else {
            put_uint(&label, 3, (uint64_t)labels[i].num);
        }
        put_bytes(sample, 3, label.data, label.len);
    }
    if (packed.failed || label.failed) {
        prof->failed = 1;
    }
    pyprof_sink_free_buffer(&packed);
    pyprof_sink_free_buffer(&label);
    put_scratch(prof, &prof->samples, PROFILE_SAMPLE);
    if (prof->samples.failed) {
        prof->failed = 1;
    }
    prof->nsamples++;
    return prof->failed ? -1 : 0;
}

size_t
pyprof_pprof_sample_count(const pyprof_pprof_t *prof)
{
    return prof->nsamples;
}

int
pyprof_pprof_encode(pyprof_pprof_t *prof, pyprof_sink_t *raw)
{
    pyprof_sink_init_buffer(raw);
    for (size_t i = 0; i < prof->nsample_types; i++) {
        put_value_type(prof, raw, PROFILE_SAMPLE_TYPE, prof->sample_types[i]);
    }
    pyprof_sink_write(raw, prof->samples.data, prof->samples.len);
    for (size_t i = 0; i < prof->nlocations; i++) {
        const location_t *loc = &prof->locations[i];
        pyprof_sink_t line;
        pyprof_sink_init_buffer(&line);
        put_uint(&line, 1, loc->function_id);
        put_uint(&line, 2, (uint64_t)loc->line);
        put_uint(&prof->scratch, 1, i + 1);
        put_bytes(&prof->scratch, 4, line.data, line.len);
        if (line.failed) {
            raw->failed = 1;
        }
        pyprof_sink_free_buffer(&line);
        put_scratch(prof, raw, PROFILE_LOCATION);
    }
    for (size_t i = 0; i < prof->nfunctions; i++) {
        const function_t *fn = &prof->functions[i];
        put_uint(&prof->scratch, 1, i + 1);
        put_uint(&prof->scratch, 2, (uint64_t)fn->name);
        put_uint(&prof->scratch, 4, (uint64_t)fn->filename);
        put_uint(&prof->scratch, 5, (uint64_t)fn->start_line);
        put_scratch(prof, raw, PROFILE_FUNCTION);
    }
    for (size_t i = 0; i < prof->nstrings; i++) {
        put_bytes(raw, PROFILE_STRING_TABLE, prof->strings[i],
                  strlen(prof->strings[i]));
    }
    put_uint(raw, PROFILE_TIME_NANOS, (uint64_t)prof->time_nanos);
    put_uint(raw, PROFILE_DURATION_NANOS, (uint64_t)prof->duration_nanos);
    if (prof->has_period) {
        put_value_type(prof, raw, PROFILE_PERIOD_TYPE, prof->period_type);
        put_uint(raw, PROFILE_PERIOD, (uint64_t)prof->period);
    }
    for (size_t i = 0; i < prof->ncomments; i++) {
        put_uint(raw, PROFILE_COMMENT, (uint64_t)prof->comments[i]);
    }
    if (prof->failed || raw->failed) {
        pyprof_sink_free_buffer(raw);
        return -1;
    }
    return 0;
}

int
pyprof_pprof_write(pyprof_pprof_t *prof, pyprof_sink_t *out)
{
    pyprof_sink_t raw;
    if (pyprof_pprof_encode(prof, &raw) < 0) {
        return -1;
    }
    pyprof_gzip_write(out, raw.data, raw.len);
    pyprof_sink_free_buffer(&raw);
    return 0;
}
