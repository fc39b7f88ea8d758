/* recording.c - the sample tree, its exports and its file section.
 *
 * Nodes are found by (parent, function, line) through the calling-context
 * tree's table (calltree.h), whose opaque key here packs the function and
 * the line into one pointer-sized integer; a parallel array keeps what a
 * node counted.  Both grow in the same order, so a node has one index.
 *
 * The reader trusts nothing: lengths are checked against the data, the
 * function count against the pstats dict, every parent against the node's
 * own index, every number for being finite and in range.
 */
#include "recording.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calltree.h"
#include "section.h"
#include "pstats_file.h"
#include "readfile.h"

_Static_assert(sizeof(void *) >= 8, "keys pack a function and a line");

#define LINE_LIMIT ((1L << 28) - 1)     /* lines above it are clamped */

/* At most this many samples (a year at 10 kHz is 2^38): pstats' sums of
 * per-function counts must stay within int64 for every reader. */
#define SAMPLE_LIMIT (INT64_C(1) << 40)

/* The slowest rate a header may name: one sample in 11.6 days. */
#define RATE_MIN 1e-6

/* The bytes on disk, not C strings: no NUL (a string literal filling the
 * array exactly is an error for GCC 15+ under -Werror). */
static const char section_magic[16] = {'P', 'Y', 'P', 'R', 'O', 'F', '-',
                                       'S', 'A', 'M', 'P', 'L', 'E', '-',
                                       'v', '1'};
static const char section_foot[8] = {'P', 'Y', 'P', 'R', 'O', 'F', 'S', 'M'};
static const char paths_foot[8] = {'P', 'Y', 'P', 'R', 'O', 'F', 'P', 'T'};

#define HEAD_BYTES 80u  /* magic .. reserved */
#define NODE_BYTES 24u
#define FOOT_BYTES PYPROF_SECTION_FOOT_BYTES

struct pyprof_recording {
    pyprof_stats_t *funcs;          /* the function table (names only) */
    pyprof_calltree_t index;        /* (parent, key) -> node */
    pyprof_sample_node_t *nodes;    /* nodes[0] is the root */
    uint32_t count, capacity;
    int64_t samples;
    pyprof_recording_info_t info;
    /* the stack last added and its nodes, root side first: a sample that
     * shares its outer frames with the last one (a sampler's next sample
     * of the same code, often all but the innermost line) starts below
     * them instead of looking every level up again */
    pyprof_frame_ref_t *last_frames;
    uint32_t *last_nodes;
    size_t last_n, last_cap;
};

static const void *
node_key(uint32_t func, int32_t line)
{
    uint64_t l = line < 0 ? 0 : (uint64_t)(line > LINE_LIMIT ? LINE_LIMIT
                                                             : line);
    return (const void *)(uintptr_t)((l << 36) | ((uint64_t)func + 1) << 3);
}

pyprof_recording_t *
pyprof_recording_new(void)
{
    pyprof_recording_t *rec = calloc(1, sizeof(*rec));
    if (rec == NULL) {
        return NULL;
    }
    rec->funcs = pyprof_stats_new();
    rec->nodes = malloc(64 * sizeof(*rec->nodes));
    if (rec->funcs == NULL || rec->nodes == NULL
        || pyprof_calltree_init(&rec->index) < 0) {
        pyprof_recording_free(rec);
        return NULL;
    }
    rec->capacity = 64;
    rec->count = 1;
    rec->nodes[0] = (pyprof_sample_node_t){0, PYPROF_NO_FUNCTION, 0, 0};
    return rec;
}

void
pyprof_recording_free(pyprof_recording_t *rec)
{
    if (rec == NULL) {
        return;
    }
    pyprof_stats_free(rec->funcs);
    pyprof_calltree_free(&rec->index);
    free(rec->nodes);
    free(rec->last_frames);
    free(rec->last_nodes);
    free(rec);
}

pyprof_recording_info_t *
pyprof_recording_info(pyprof_recording_t *rec)
{
    return &rec->info;
}

uint32_t
pyprof_recording_function(pyprof_recording_t *rec, const char *filename,
                          long firstlineno, const char *qualname)
{
    size_t i = pyprof_stats_intern(rec->funcs, filename, firstlineno,
                                   qualname);
    return i >= PYPROF_NO_FUNCTION ? PYPROF_NO_FUNCTION : (uint32_t)i;
}

uint32_t
pyprof_recording_process(pyprof_recording_t *rec, long pid,
                         const char *command)
{
    char name[256];
    snprintf(name, sizeof(name), "<process %ld%s%.200s>", pid,
             command != NULL && *command ? " " : "",
             command != NULL ? command : "");
    return pyprof_recording_function(rec, "~", 0, name);
}

uint32_t
pyprof_recording_thread(pyprof_recording_t *rec, long tid, const char *name)
{
    char label[256];
    snprintf(label, sizeof(label), "<thread %ld%s%.200s>", tid,
             name != NULL && *name ? " " : "", name != NULL ? name : "");
    return pyprof_recording_function(rec, "~", 0, label);
}

/* The child of `parent` for (func, line), added when absent;
 * PYPROF_NO_FUNCTION when out of memory. */
static uint32_t
child_of(pyprof_recording_t *rec, uint32_t parent, uint32_t func,
         int32_t line)
{
    if (line < 0) {
        line = 0;
    }
    else if (line > LINE_LIMIT) {
        line = (int32_t)LINE_LIMIT;
    }
    const void *key = node_key(func, line);
    pyprof_node_id_t id = pyprof_calltree_find(&rec->index, parent, key);
    if (id != PYPROF_ROOT_NODE) {
        return id;
    }
    if (rec->count == rec->capacity) {
        if (rec->capacity > UINT32_MAX / 4) {
            return PYPROF_NO_FUNCTION;
        }
        pyprof_sample_node_t *grown = realloc(
            rec->nodes, 2 * (size_t)rec->capacity * sizeof(*grown));
        if (grown == NULL) {
            return PYPROF_NO_FUNCTION;
        }
        rec->nodes = grown;
        rec->capacity *= 2;
    }
    id = pyprof_calltree_add(&rec->index, parent, key, func);
    if (id == PYPROF_ROOT_NODE || id != rec->count) {
        return PYPROF_NO_FUNCTION;
    }
    rec->nodes[rec->count++] = (pyprof_sample_node_t){parent, func, line, 0};
    return id;
}

/* Room for a last stack of n frames; 0, or -1 (then none is kept). */
static int
reserve_last(pyprof_recording_t *rec, size_t n)
{
    if (n <= rec->last_cap) {
        return 0;
    }
    size_t cap = rec->last_cap ? rec->last_cap : 64;
    while (cap < n) {
        cap *= 2;
    }
    pyprof_frame_ref_t *frames = realloc(rec->last_frames,
                                         cap * sizeof(*frames));
    if (frames != NULL) {
        rec->last_frames = frames;
    }
    uint32_t *nodes = realloc(rec->last_nodes, cap * sizeof(*nodes));
    if (nodes != NULL) {
        rec->last_nodes = nodes;
    }
    if (frames == NULL || nodes == NULL) {
        return -1;
    }
    rec->last_cap = cap;
    return 0;
}

int
pyprof_recording_add(pyprof_recording_t *rec,
                     const pyprof_frame_ref_t *frames, size_t n,
                     int64_t count)
{
    size_t nfuncs = pyprof_stats_count(rec->funcs);
    size_t same = 0;
    while (same < n && same < rec->last_n
           && frames[same].func == rec->last_frames[same].func
           && frames[same].line == rec->last_frames[same].line) {
        same++;
    }
    uint32_t node = same ? rec->last_nodes[same - 1] : 0;
    int keep = reserve_last(rec, n) == 0;
    rec->last_n = keep ? same : 0;
    for (size_t i = same; i < n; i++) {
        if (frames[i].func >= nfuncs) {
            return -1;
        }
        node = child_of(rec, node, frames[i].func, frames[i].line);
        if (node == PYPROF_NO_FUNCTION) {
            return -1;
        }
        if (keep) {
            rec->last_frames[i] = frames[i];
            rec->last_nodes[i] = node;
            rec->last_n = i + 1;
        }
    }
    if (keep) {
        rec->last_n = n;
    }
    if (count < 0 || count > SAMPLE_LIMIT - rec->samples) {
        return -1;
    }
    rec->nodes[node].samples += count;
    rec->samples += count;
    return 0;
}

int64_t
pyprof_recording_samples(const pyprof_recording_t *rec)
{
    return rec->samples;
}

const pyprof_stats_t *
pyprof_recording_functions(const pyprof_recording_t *rec)
{
    return rec->funcs;
}

const pyprof_sample_node_t *
pyprof_recording_nodes(const pyprof_recording_t *rec, uint32_t *count)
{
    *count = rec->count;
    return rec->nodes;
}

/* ---- exports ---- */

/* Non-zero when an ancestor of node i (above its parent for edges) has
 * the same function (and, for edges, the same caller function): such a
 * node's samples are already counted by the outer occurrence. */
static int
inner_occurrence(const pyprof_sample_node_t *nodes, uint32_t i, int edge)
{
    uint32_t func = nodes[i].func, caller = nodes[nodes[i].parent].func;
    for (uint32_t j = nodes[i].parent; j != 0; j = nodes[j].parent) {
        if (nodes[j].func == func
            && (!edge || nodes[nodes[j].parent].func == caller)) {
            return 1;
        }
    }
    return 0;
}

/* Samples through each node (its own and its descendants'): a new array
 * of count entries, or NULL. */
static int64_t *
node_totals(const pyprof_recording_t *rec)
{
    int64_t *total = calloc(rec->count, sizeof(int64_t));
    if (total == NULL) {
        return NULL;
    }
    for (uint32_t i = rec->count; i-- > 0;) {
        total[i] += rec->nodes[i].samples;
        if (i > 0) {
            total[rec->nodes[i].parent] += total[i];
        }
    }
    return total;
}

static double
per_second(const pyprof_recording_t *rec)
{
    double rate = rec->info.rate_hz;
    double period = rate > 0.0 && isfinite(rate) ? 1.0 / rate : 0.0;
    return isfinite(period) ? period : 0.0;   /* a denormal rate */
}

/* pstats' numbers per function and caller edge. */
static int
fill_stats(const pyprof_recording_t *rec, const int64_t *total,
           double seconds, pyprof_stats_t *stats)
{
    const pyprof_sample_node_t *nodes = rec->nodes;
    for (uint32_t i = 1; i < rec->count; i++) {
        const pyprof_sample_node_t *n = &nodes[i];
        int outer = !inner_occurrence(nodes, i, 0);
        int64_t through = outer ? total[i] : 0;
        pyprof_stats_add(stats, n->func, n->samples, through,
                         (double)n->samples * seconds,
                         (double)through * seconds);
        if (n->parent == 0) {
            continue;
        }
        int64_t edge = inner_occurrence(nodes, i, 1) ? 0 : total[i];
        if (pyprof_stats_add_caller(stats, n->func, nodes[n->parent].func,
                                    edge, edge,
                                    (double)n->samples * seconds,
                                    (double)edge * seconds) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The function-level tree: sibling nodes of one function (different
 * lines) merge. */
static int
fill_paths(const pyprof_recording_t *rec, const int64_t *total,
           double seconds, pyprof_pathtree_t *tree)
{
    uint32_t *map = calloc(rec->count, sizeof(uint32_t));
    pyprof_calltree_t index;
    if (map == NULL || pyprof_calltree_init(&index) < 0) {
        free(map);
        return -1;
    }
    int rc = 0;
    tree->nodes[0].calls = total[0];
    tree->nodes[0].cumtime = (double)total[0] * seconds;
    for (uint32_t i = 1; i < rec->count && rc == 0; i++) {
        const pyprof_sample_node_t *n = &rec->nodes[i];
        uint32_t parent = map[n->parent];
        const void *key = node_key(n->func, 0);
        pyprof_node_id_t id = pyprof_calltree_find(&index, parent, key);
        if (id == PYPROF_ROOT_NODE) {
            id = pyprof_calltree_add(&index, parent, key, n->func);
            if (id == PYPROF_ROOT_NODE
                || pyprof_pathtree_add(tree, parent, n->func, 0, 0.0, 0.0)
                       != id) {
                rc = -1;
                break;
            }
        }
        map[i] = id;
        pyprof_path_node_t *p = &tree->nodes[id];
        p->calls += total[i];
        p->tottime += (double)n->samples * seconds;
        p->cumtime += (double)total[i] * seconds;
    }
    tree->exact = 1;
    pyprof_calltree_free(&index);
    free(map);
    return rc;
}

/* The exports with `seconds` per sample. */
static int
export_scaled(const pyprof_recording_t *rec, double seconds,
              pyprof_stats_t **stats_out, pyprof_pathtree_t *tree)
{
    *stats_out = NULL;
    pyprof_stats_t *stats = pyprof_stats_new();
    int64_t *total = node_totals(rec);
    if (pyprof_pathtree_init(tree) < 0 || stats == NULL || total == NULL) {
        goto error;
    }
    size_t nfuncs = pyprof_stats_count(rec->funcs);
    for (size_t i = 0; i < nfuncs; i++) {
        const pyprof_func_t *f = pyprof_stats_get(rec->funcs, i);
        if (pyprof_stats_intern(stats, f->filename, f->lineno, f->funcname)
            != i) {
            goto error;
        }
    }
    if (fill_stats(rec, total, seconds, stats) < 0
        || fill_paths(rec, total, seconds, tree) < 0) {
        goto error;
    }
    free(total);
    *stats_out = stats;
    return 0;
error:
    free(total);
    pyprof_stats_free(stats);
    pyprof_pathtree_free(tree);
    return -1;
}

int
pyprof_recording_export(const pyprof_recording_t *rec,
                        pyprof_stats_t **stats_out, pyprof_pathtree_t *tree)
{
    return export_scaled(rec, per_second(rec), stats_out, tree);
}

int
pyprof_recording_export_counts(const pyprof_recording_t *rec,
                               pyprof_stats_t **stats_out,
                               pyprof_pathtree_t *tree)
{
    return export_scaled(rec, 1e-6, stats_out, tree);
}

/* ---- the file section ---- */

int
pyprof_recording_serialize(const pyprof_recording_t *rec, pyprof_sink_t *out)
{
    pyprof_stats_t *stats;
    pyprof_pathtree_t tree;
    if (pyprof_recording_export(rec, &stats, &tree) < 0) {
        return -1;
    }
    size_t nfuncs = pyprof_stats_count(stats);
    pyprof_pstats_serialize(out, stats);
    const pyprof_recording_info_t *info = &rec->info;
    pyprof_sink_write(out, section_magic, sizeof(section_magic));
    pyprof_section_put_u32(out, (uint32_t)nfuncs);
    pyprof_section_put_u32(out, rec->count);
    pyprof_section_put_f64(out, info->rate_hz);
    pyprof_section_put_u64(out, (uint64_t)info->start_unix_ns);
    pyprof_section_put_u64(out, (uint64_t)info->duration_ns);
    pyprof_section_put_u64(out, (uint64_t)info->ticks_expected);
    pyprof_section_put_u64(out, (uint64_t)info->ticks_taken);
    pyprof_section_put_u64(out, (uint64_t)info->errors);
    pyprof_section_put_u32(out, info->flags);
    pyprof_section_put_u32(out, 0);
    for (uint32_t i = 0; i < rec->count; i++) {
        const pyprof_sample_node_t *n = &rec->nodes[i];
        pyprof_section_put_u32(out, n->parent);
        pyprof_section_put_u32(out, n->func);
        pyprof_section_put_u32(out, (uint32_t)n->line);
        pyprof_section_put_u32(out, 0);
        pyprof_section_put_u64(out, (uint64_t)n->samples);
    }
    pyprof_section_put_footer(out, HEAD_BYTES
                                       + (uint64_t)rec->count * NODE_BYTES,
                              section_foot);
    pyprof_pathtree_serialize(out, &tree, nfuncs);
    pyprof_stats_free(stats);
    pyprof_pathtree_free(&tree);
    return 0;
}

/* The sample section of the image: *body and *body_len set, 1; 0 when
 * there is none; -1 with errbuf set when its framing is damaged. */
static int
find_section(const unsigned char *data, size_t len,
             const unsigned char **body, uint64_t *body_len, char *errbuf,
             size_t errlen)
{
    uint64_t paths_len;
    if (!pyprof_section_footer(data, len, paths_foot, &paths_len)) {
        return 0;
    }
    if (paths_len > len - FOOT_BYTES) {
        return 0;   /* the call-path reader reports this damage */
    }
    size_t end = len - FOOT_BYTES - (size_t)paths_len;
    if (!pyprof_section_footer(data, end, section_foot, body_len)) {
        return 0;
    }
    if (*body_len < HEAD_BYTES || *body_len > end - FOOT_BYTES) {
        snprintf(errbuf, errlen, "sample section: bad length");
        return -1;
    }
    *body = data + end - FOOT_BYTES - *body_len;
    if (memcmp(*body, section_magic, sizeof(section_magic)) != 0) {
        snprintf(errbuf, errlen, "sample section: bad magic");
        return -1;
    }
    return 1;
}

/* The header numbers; -1 with errbuf set when out of range. */
static int
parse_info(const unsigned char *p, pyprof_recording_info_t *info,
           char *errbuf, size_t errlen)
{
    info->rate_hz = pyprof_section_get_f64(p);
    info->start_unix_ns = (int64_t)pyprof_section_get_u64(p + 8);
    info->duration_ns = (int64_t)pyprof_section_get_u64(p + 16);
    info->ticks_expected = (int64_t)pyprof_section_get_u64(p + 24);
    info->ticks_taken = (int64_t)pyprof_section_get_u64(p + 32);
    info->errors = (int64_t)pyprof_section_get_u64(p + 40);
    info->flags = pyprof_section_get_u32(p + 48);
    /* RATE_MIN keeps 1/rate, times SAMPLE_LIMIT samples, finite. */
    if (!isfinite(info->rate_hz) || info->rate_hz < RATE_MIN
        || info->rate_hz > 1e9 || info->duration_ns < 0
        || info->ticks_expected < 0 || info->ticks_taken < 0
        || info->errors < 0) {
        snprintf(errbuf, errlen, "sample section: bad header numbers");
        return -1;
    }
    return 0;
}

/* Nodes from the section into rec (whose functions are interned); file
 * node i becomes map[i] (equal siblings merge). */
static int
parse_nodes(pyprof_recording_t *rec, const unsigned char *p, uint32_t nnodes,
            char *errbuf, size_t errlen)
{
    uint32_t *map = malloc((size_t)nnodes * sizeof(uint32_t));
    if (map == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    size_t nfuncs = pyprof_stats_count(rec->funcs);
    int rc = 0;
    map[0] = 0;
    for (uint32_t i = 0; i < nnodes && rc == 0; i++, p += NODE_BYTES) {
        uint32_t parent = pyprof_section_get_u32(p);
        uint32_t func = pyprof_section_get_u32(p + 4);
        int32_t line = (int32_t)pyprof_section_get_u32(p + 8);
        int64_t samples = (int64_t)pyprof_section_get_u64(p + 16);
        if (samples < 0 || line < 0
            || (i > 0 && (parent >= i || func >= nfuncs))) {
            snprintf(errbuf, errlen, "sample section: node %u is malformed",
                     (unsigned)i);
            rc = -1;
            break;
        }
        uint32_t id = 0;
        if (i > 0) {
            id = child_of(rec, map[parent], func, line);
            if (id == PYPROF_NO_FUNCTION) {
                snprintf(errbuf, errlen, "out of memory");
                rc = -1;
                break;
            }
            map[i] = id;
        }
        if (samples > SAMPLE_LIMIT - rec->samples) {
            snprintf(errbuf, errlen, "sample section: too many samples");
            rc = -1;
            break;
        }
        rec->nodes[id].samples += samples;
        rec->samples += samples;
    }
    free(map);
    return rc;
}

int
pyprof_recording_parse(const unsigned char *data, size_t len,
                       pyprof_recording_t **rec_out, char *errbuf,
                       size_t errlen)
{
    *rec_out = NULL;
    const unsigned char *body;
    uint64_t body_len;
    int found = find_section(data, len, &body, &body_len, errbuf, errlen);
    if (found <= 0) {
        return found;
    }
    uint32_t nfuncs = pyprof_section_get_u32(body + 16);
    uint32_t nnodes = pyprof_section_get_u32(body + 20);
    if (nnodes == 0 || (body_len - HEAD_BYTES) % NODE_BYTES != 0
        || (body_len - HEAD_BYTES) / NODE_BYTES != nnodes) {
        snprintf(errbuf, errlen, "sample section: bad node count");
        return -1;
    }
    pyprof_recording_t *rec = pyprof_recording_new();
    pyprof_stats_t *stats = pyprof_stats_new();
    if (rec == NULL || stats == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        goto error;
    }
    if (pyprof_pstats_parse(stats, data, len, errbuf, errlen) < 0
        || parse_info(body + 24, &rec->info, errbuf, errlen) < 0) {
        goto error;
    }
    if (pyprof_stats_count(stats) != nfuncs) {
        snprintf(errbuf, errlen, "sample section names %u functions, the "
                 "profile has %zu", (unsigned)nfuncs,
                 pyprof_stats_count(stats));
        goto error;
    }
    for (uint32_t i = 0; i < nfuncs; i++) {
        const pyprof_func_t *f = pyprof_stats_get(stats, i);
        if (pyprof_recording_function(rec, f->filename, f->lineno,
                                      f->funcname) != i) {
            snprintf(errbuf, errlen, "out of memory");
            goto error;
        }
    }
    if (parse_nodes(rec, body + HEAD_BYTES, nnodes, errbuf, errlen) < 0) {
        goto error;
    }
    pyprof_stats_free(stats);
    *rec_out = rec;
    return 1;
error:
    pyprof_stats_free(stats);
    pyprof_recording_free(rec);
    return -1;
}

int
pyprof_recording_read_file(const char *path, pyprof_recording_t **rec_out,
                           char *errbuf, size_t errlen)
{
    *rec_out = NULL;
    size_t len;
    unsigned char *data = pyprof_read_file(path, PYPROF_READ_MAX, &len);
    if (data == NULL) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char reason[300];
    int rc = pyprof_recording_parse(data, len, rec_out, reason,
                                    sizeof(reason));
    free(data);
    if (rc < 0) {
        snprintf(errbuf, errlen, "%s: %s", path, reason);
    }
    return rc;
}
