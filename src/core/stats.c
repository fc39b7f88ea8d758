/* stats.c - the function-profile model: functions, callers, merge, strip.
 *
 * Functions live in one array in first-interned order, because that is the
 * order of the pstats dict and pstats breaks every sort tie by it.  Two
 * open-addressing hash tables sit beside the arrays and hold only indices:
 * one maps (filename, lineno, funcname) to a function, the other maps a
 * (callee, caller) pair to the position of that edge in the callee's caller
 * array, so that adding an edge is O(1) even for a built-in called from
 * thousands of places.  Tables store indices, never pointers, so growing an
 * array never invalidates them.
 *
 * merge() and strip_dirs() reproduce pstats.Stats.add() and
 * pstats.Stats.strip_dirs() including their arithmetic order (source value
 * plus target value), so that the printed numbers match to the last digit.
 */
#include "stats.h"

#include <stdlib.h>
#include <string.h>

#define EMPTY_SLOT ((size_t)-1)

typedef struct {
    size_t func;    /* callee index, EMPTY_SLOT for an empty bucket */
    size_t pos;     /* position of the edge in funcs[func].callers */
} edge_slot_t;

typedef struct {
    char *path;     /* owned */
    double mtime;   /* NaN when unknown */
} source_t;

struct pyprof_stats {
    pyprof_func_t *funcs;
    size_t count;
    size_t cap;
    size_t *func_index;         /* function indices, EMPTY_SLOT when free */
    size_t func_index_cap;      /* power of two, or 0 */
    edge_slot_t *edge_index;
    size_t edge_index_cap;      /* power of two, or 0 */
    size_t nedges;
    source_t *sources;
    size_t nsources;
    size_t sources_cap;
    int has_totals;             /* totals below are fixed (merge, strip) */
    int64_t total_calls;
    int64_t prim_calls;
    double total_tt;
    int overflowed;             /* a count sum saturated */
};

static uint64_t
hash_key(const char *filename, long lineno, const char *funcname)
{
    /* FNV-1a: the keys are short and not chosen by an adversary who gains
     * anything from collisions beyond a slower load. */
    uint64_t h = 1469598103934665603u;
    for (const unsigned char *p = (const unsigned char *)filename; *p; p++) {
        h = (h ^ *p) * 1099511628211u;
    }
    uint64_t line = (uint64_t)lineno;
    for (int i = 0; i < 8; i++) {
        h = (h ^ ((line >> (8 * i)) & 0xff)) * 1099511628211u;
    }
    for (const unsigned char *p = (const unsigned char *)funcname; *p; p++) {
        h = (h ^ *p) * 1099511628211u;
    }
    return h ^ (h >> 29);
}

static uint64_t
hash_edge(size_t func, size_t caller)
{
    uint64_t h = (uint64_t)func * 0x9e3779b97f4a7c15u;
    h ^= (uint64_t)caller + 0x7f4a7c159e3779b9u + (h << 6) + (h >> 2);
    return h ^ (h >> 31);
}

static int
add_overflows(int64_t *target, int64_t value)
{
    int64_t sum;
    if (__builtin_add_overflow(*target, value, &sum)) {
        *target = value > 0 ? INT64_MAX : INT64_MIN;
        return 1;
    }
    *target = sum;
    return 0;
}

pyprof_stats_t *
pyprof_stats_new(void)
{
    return calloc(1, sizeof(pyprof_stats_t));
}

void
pyprof_stats_free(pyprof_stats_t *stats)
{
    if (stats == NULL) {
        return;
    }
    for (size_t i = 0; i < stats->count; i++) {
        free(stats->funcs[i].filename);
        free(stats->funcs[i].funcname);
        free(stats->funcs[i].callers);
    }
    for (size_t i = 0; i < stats->nsources; i++) {
        free(stats->sources[i].path);
    }
    free(stats->funcs);
    free(stats->func_index);
    free(stats->edge_index);
    free(stats->sources);
    free(stats);
}

size_t
pyprof_stats_count(const pyprof_stats_t *stats)
{
    return stats->count;
}

pyprof_func_t *
pyprof_stats_func(pyprof_stats_t *stats, size_t i)
{
    return i < stats->count ? &stats->funcs[i] : NULL;
}

const pyprof_func_t *
pyprof_stats_get(const pyprof_stats_t *stats, size_t i)
{
    return i < stats->count ? &stats->funcs[i] : NULL;
}

static int
same_key(const pyprof_func_t *func, const char *filename, long lineno,
         const char *funcname)
{
    return func->lineno == lineno && strcmp(func->filename, filename) == 0
           && strcmp(func->funcname, funcname) == 0;
}

size_t
pyprof_stats_find(const pyprof_stats_t *stats, const char *filename,
                  long lineno, const char *funcname)
{
    if (stats->func_index_cap == 0) {
        return EMPTY_SLOT;
    }
    size_t mask = stats->func_index_cap - 1;
    size_t slot = (size_t)hash_key(filename, lineno, funcname) & mask;
    for (;;) {
        size_t idx = stats->func_index[slot];
        if (idx == EMPTY_SLOT) {
            return EMPTY_SLOT;
        }
        if (same_key(&stats->funcs[idx], filename, lineno, funcname)) {
            return idx;
        }
        slot = (slot + 1) & mask;
    }
}

/* Rebuild the function index with `cap` buckets (a power of two). */
static int
rehash_funcs(pyprof_stats_t *stats, size_t cap)
{
    size_t *table = malloc(cap * sizeof(size_t));
    if (table == NULL) {
        return -1;
    }
    memset(table, 0xff, cap * sizeof(size_t));
    for (size_t i = 0; i < stats->count; i++) {
        const pyprof_func_t *f = &stats->funcs[i];
        size_t slot =
            (size_t)hash_key(f->filename, f->lineno, f->funcname) & (cap - 1);
        while (table[slot] != EMPTY_SLOT) {
            slot = (slot + 1) & (cap - 1);
        }
        table[slot] = i;
    }
    free(stats->func_index);
    stats->func_index = table;
    stats->func_index_cap = cap;
    return 0;
}

static char *
copy_string(const char *text)
{
    size_t n = strlen(text) + 1;
    char *copy = malloc(n);
    if (copy != NULL) {
        memcpy(copy, text, n);
    }
    return copy;
}

size_t
pyprof_stats_intern(pyprof_stats_t *stats, const char *filename,
                    long lineno, const char *funcname)
{
    size_t found = pyprof_stats_find(stats, filename, lineno, funcname);
    if (found != EMPTY_SLOT) {
        return found;
    }
    /* Keep the index at most half full so probes stay short. */
    if ((stats->count + 1) * 2 > stats->func_index_cap) {
        size_t cap = stats->func_index_cap ? stats->func_index_cap * 2 : 64;
        if (cap > SIZE_MAX / sizeof(size_t) || rehash_funcs(stats, cap) < 0) {
            return EMPTY_SLOT;
        }
    }
    if (stats->count == stats->cap) {
        size_t cap = stats->cap ? stats->cap * 2 : 32;
        if (cap > SIZE_MAX / sizeof(pyprof_func_t)) {
            return EMPTY_SLOT;
        }
        pyprof_func_t *grown = realloc(stats->funcs, cap * sizeof(*grown));
        if (grown == NULL) {
            return EMPTY_SLOT;
        }
        stats->funcs = grown;
        stats->cap = cap;
    }
    pyprof_func_t *func = &stats->funcs[stats->count];
    memset(func, 0, sizeof(*func));
    func->filename = copy_string(filename);
    func->funcname = copy_string(funcname);
    if (func->filename == NULL || func->funcname == NULL) {
        free(func->filename);
        free(func->funcname);
        return EMPTY_SLOT;
    }
    func->lineno = lineno;
    size_t mask = stats->func_index_cap - 1;
    size_t slot = (size_t)hash_key(filename, lineno, funcname) & mask;
    while (stats->func_index[slot] != EMPTY_SLOT) {
        slot = (slot + 1) & mask;
    }
    stats->func_index[slot] = stats->count;
    return stats->count++;
}

void
pyprof_stats_add(pyprof_stats_t *stats, size_t func, int64_t cc,
                 int64_t nc, double tt, double ct)
{
    if (func >= stats->count) {
        return;
    }
    pyprof_func_t *f = &stats->funcs[func];
    stats->overflowed |= add_overflows(&f->cc, cc);
    stats->overflowed |= add_overflows(&f->nc, nc);
    /* pstats adds the incoming value to the stored one; the order only
     * matters for -0.0, which IEEE addition handles symmetrically. */
    f->tt = tt + f->tt;
    f->ct = ct + f->ct;
    if (stats->has_totals) {
        stats->overflowed |= add_overflows(&stats->total_calls, nc);
        stats->overflowed |= add_overflows(&stats->prim_calls, cc);
        stats->total_tt += tt;
    }
}

/* Position of the edge caller -> func in funcs[func].callers, or
 * EMPTY_SLOT; *bucket_out receives the bucket where it is or would go. */
static size_t
find_edge(const pyprof_stats_t *stats, size_t func, size_t caller,
          size_t *bucket_out)
{
    size_t mask = stats->edge_index_cap - 1;
    size_t slot = (size_t)hash_edge(func, caller) & mask;
    for (;;) {
        const edge_slot_t *e = &stats->edge_index[slot];
        if (e->func == EMPTY_SLOT) {
            *bucket_out = slot;
            return EMPTY_SLOT;
        }
        if (e->func == func
            && stats->funcs[func].callers[e->pos].caller == caller) {
            *bucket_out = slot;
            return e->pos;
        }
        slot = (slot + 1) & mask;
    }
}

static int
rehash_edges(pyprof_stats_t *stats, size_t cap)
{
    edge_slot_t *table = malloc(cap * sizeof(edge_slot_t));
    if (table == NULL) {
        return -1;
    }
    for (size_t i = 0; i < cap; i++) {
        table[i].func = EMPTY_SLOT;
    }
    for (size_t f = 0; f < stats->count; f++) {
        for (size_t j = 0; j < stats->funcs[f].ncallers; j++) {
            size_t caller = stats->funcs[f].callers[j].caller;
            size_t slot = (size_t)hash_edge(f, caller) & (cap - 1);
            while (table[slot].func != EMPTY_SLOT) {
                slot = (slot + 1) & (cap - 1);
            }
            table[slot].func = f;
            table[slot].pos = j;
        }
    }
    free(stats->edge_index);
    stats->edge_index = table;
    stats->edge_index_cap = cap;
    return 0;
}

/* The existing edge caller -> func, or a new zeroed one appended to func's
 * callers; *created tells which.  NULL when out of memory. */
static pyprof_caller_t *
get_edge(pyprof_stats_t *stats, size_t func, size_t caller, int *created)
{
    if ((stats->nedges + 1) * 2 > stats->edge_index_cap) {
        size_t cap = stats->edge_index_cap ? stats->edge_index_cap * 2 : 64;
        if (cap > SIZE_MAX / sizeof(edge_slot_t)
            || rehash_edges(stats, cap) < 0) {
            return NULL;
        }
    }
    size_t bucket;
    size_t pos = find_edge(stats, func, caller, &bucket);
    pyprof_func_t *f = &stats->funcs[func];
    if (pos != EMPTY_SLOT) {
        *created = 0;
        return &f->callers[pos];
    }
    if (f->ncallers == f->callers_cap) {
        size_t cap = f->callers_cap ? f->callers_cap * 2 : 4;
        if (cap > SIZE_MAX / sizeof(pyprof_caller_t)) {
            return NULL;
        }
        pyprof_caller_t *grown = realloc(f->callers, cap * sizeof(*grown));
        if (grown == NULL) {
            return NULL;
        }
        f->callers = grown;
        f->callers_cap = cap;
    }
    pyprof_caller_t *edge = &f->callers[f->ncallers];
    memset(edge, 0, sizeof(*edge));
    edge->caller = caller;
    stats->edge_index[bucket].func = func;
    stats->edge_index[bucket].pos = f->ncallers++;
    stats->nedges++;
    *created = 1;
    return edge;
}

int
pyprof_stats_add_caller(pyprof_stats_t *stats, size_t func, size_t caller,
                        int64_t nc, int64_t cc, double tt, double ct)
{
    if (func >= stats->count || caller >= stats->count) {
        return -1;
    }
    int created;
    pyprof_caller_t *edge = get_edge(stats, func, caller, &created);
    if (edge == NULL) {
        return -1;
    }
    if (created) {
        edge->nc = nc;
        edge->cc = cc;
        edge->tt = tt;
        edge->ct = ct;
    }
    else {
        stats->overflowed |= add_overflows(&edge->nc, nc);
        stats->overflowed |= add_overflows(&edge->cc, cc);
        edge->tt = tt + edge->tt;
        edge->ct = ct + edge->ct;
    }
    return 0;
}

void
pyprof_stats_totals(const pyprof_stats_t *stats, int64_t *calls,
                    int64_t *prim_calls, double *total_tt)
{
    if (stats->has_totals) {
        *calls = stats->total_calls;
        *prim_calls = stats->prim_calls;
        *total_tt = stats->total_tt;
        return;
    }
    /* As pstats' get_top_level_stats: a running sum in dict order.  Counts
     * that overflow saturate; the reader refuses such files first. */
    int64_t nc = 0, cc = 0;
    double tt = 0.0;
    for (size_t i = 0; i < stats->count; i++) {
        add_overflows(&nc, stats->funcs[i].nc);
        add_overflows(&cc, stats->funcs[i].cc);
        tt += stats->funcs[i].tt;
    }
    *calls = nc;
    *prim_calls = cc;
    *total_tt = tt;
}

int
pyprof_stats_equal(const pyprof_stats_t *a, const pyprof_stats_t *b)
{
    if (a->count != b->count) {
        return 0;
    }
    for (size_t i = 0; i < a->count; i++) {
        const pyprof_func_t *x = &a->funcs[i], *y = &b->funcs[i];
        /* memcmp on the doubles: -0.0 and 0.0 must differ here. */
        if (!same_key(x, y->filename, y->lineno, y->funcname)
            || x->cc != y->cc || x->nc != y->nc
            || memcmp(&x->tt, &y->tt, sizeof(double)) != 0
            || memcmp(&x->ct, &y->ct, sizeof(double)) != 0
            || x->ncallers != y->ncallers) {
            return 0;
        }
        for (size_t j = 0; j < x->ncallers; j++) {
            const pyprof_caller_t *e = &x->callers[j], *f = &y->callers[j];
            if (e->caller != f->caller || e->nc != f->nc || e->cc != f->cc
                || memcmp(&e->tt, &f->tt, sizeof(double)) != 0
                || memcmp(&e->ct, &f->ct, sizeof(double)) != 0) {
                return 0;
            }
        }
    }
    return 1;
}

int
pyprof_stats_overflowed(const pyprof_stats_t *stats)
{
    return stats->overflowed;
}

int
pyprof_stats_add_source(pyprof_stats_t *stats, const char *path,
                        double mtime)
{
    if (stats->nsources == stats->sources_cap) {
        size_t cap = stats->sources_cap ? stats->sources_cap * 2 : 4;
        source_t *grown = realloc(stats->sources, cap * sizeof(*grown));
        if (grown == NULL) {
            return -1;
        }
        stats->sources = grown;
        stats->sources_cap = cap;
    }
    char *copy = copy_string(path);
    if (copy == NULL) {
        return -1;
    }
    stats->sources[stats->nsources].path = copy;
    stats->sources[stats->nsources].mtime = mtime;
    stats->nsources++;
    return 0;
}

size_t
pyprof_stats_source_count(const pyprof_stats_t *stats)
{
    return stats->nsources;
}

const char *
pyprof_stats_source_path(const pyprof_stats_t *stats, size_t i)
{
    return i < stats->nsources ? stats->sources[i].path : NULL;
}

double
pyprof_stats_source_mtime(const pyprof_stats_t *stats, size_t i)
{
    return i < stats->nsources ? stats->sources[i].mtime : 0.0;
}

/* Fix the totals of `stats` (see pyprof_stats_totals). */
static void
set_totals(pyprof_stats_t *stats, int64_t calls, int64_t prim_calls,
           double total_tt)
{
    stats->has_totals = 1;
    stats->total_calls = calls;
    stats->prim_calls = prim_calls;
    stats->total_tt = total_tt;
}

int
pyprof_stats_merge(pyprof_stats_t *dst, const pyprof_stats_t *src)
{
    int64_t d_calls, d_prim, s_calls, s_prim;
    double d_tt, s_tt;
    pyprof_stats_totals(dst, &d_calls, &d_prim, &d_tt);
    pyprof_stats_totals(src, &s_calls, &s_prim, &s_tt);
    size_t *map = malloc((src->count ? src->count : 1) * sizeof(size_t));
    if (map == NULL) {
        return -1;
    }
    /* Intern every function first, in src order: a caller may be listed
     * before its own entry, and new functions must land in dict order. */
    for (size_t i = 0; i < src->count; i++) {
        const pyprof_func_t *f = &src->funcs[i];
        map[i] = pyprof_stats_intern(dst, f->filename, f->lineno,
                                     f->funcname);
        if (map[i] == EMPTY_SLOT) {
            goto error;
        }
    }
    for (size_t i = 0; i < src->count; i++) {
        const pyprof_func_t *f = &src->funcs[i];
        pyprof_func_t *t = &dst->funcs[map[i]];
        /* add_func_stats(old, new): new + old, with old = 0 for a function
         * dst did not have (which turns -0.0 into 0.0, as in Python). */
        dst->overflowed |= add_overflows(&t->cc, f->cc);
        dst->overflowed |= add_overflows(&t->nc, f->nc);
        t->tt = f->tt + t->tt;
        t->ct = f->ct + t->ct;
        for (size_t j = 0; j < f->ncallers; j++) {
            const pyprof_caller_t *e = &f->callers[j];
            if (pyprof_stats_add_caller(dst, map[i], map[e->caller], e->nc,
                                        e->cc, e->tt, e->ct) < 0) {
                goto error;
            }
        }
    }
    for (size_t i = 0; i < src->nsources; i++) {
        if (pyprof_stats_add_source(dst, src->sources[i].path,
                                    src->sources[i].mtime) < 0) {
            goto error;
        }
    }
    dst->overflowed |= src->overflowed;
    dst->overflowed |= add_overflows(&d_calls, s_calls);
    dst->overflowed |= add_overflows(&d_prim, s_prim);
    set_totals(dst, d_calls, d_prim, d_tt + s_tt);
    free(map);
    return 0;
error:
    free(map);
    return -1;
}

/* posixpath.basename: everything after the last '/'. */
static const char *
basename_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

pyprof_stats_t *
pyprof_stats_strip_dirs(const pyprof_stats_t *stats)
{
    pyprof_stats_t *out = pyprof_stats_new();
    size_t n = stats->count ? stats->count : 1;
    size_t *map = malloc(n * sizeof(size_t));
    unsigned char *filled = calloc(n, 1);
    /* For one function at a time: where each stripped caller sits in the
     * scratch list, so a later caller that strips to the same name
     * replaces the earlier one. */
    size_t *slot_of = malloc(n * sizeof(size_t));
    pyprof_caller_t *scratch = malloc(n * sizeof(pyprof_caller_t));
    if (out == NULL || map == NULL || filled == NULL || slot_of == NULL
        || scratch == NULL) {
        goto error;
    }
    for (size_t i = 0; i < stats->count; i++) {
        const pyprof_func_t *f = &stats->funcs[i];
        map[i] = pyprof_stats_intern(out, basename_of(f->filename),
                                     f->lineno, f->funcname);
        if (map[i] == EMPTY_SLOT) {
            goto error;
        }
        slot_of[i] = EMPTY_SLOT;
    }
    for (size_t i = 0; i < stats->count; i++) {
        const pyprof_func_t *f = &stats->funcs[i];
        /* newcallers[func_strip_path(func2)] = caller: within one function
         * pstats keeps the last of colliding callers, unsummed, at the
         * position of the first.  That loses calls; we match pstats. */
        size_t nscratch = 0;
        for (size_t j = 0; j < f->ncallers; j++) {
            size_t target = map[f->callers[j].caller];
            if (slot_of[target] == EMPTY_SLOT) {
                slot_of[target] = nscratch++;
            }
            scratch[slot_of[target]] = f->callers[j];
            scratch[slot_of[target]].caller = target;
        }
        for (size_t k = 0; k < nscratch; k++) {
            slot_of[scratch[k].caller] = EMPTY_SLOT;
        }
        size_t t = map[i];
        pyprof_func_t *dst = &out->funcs[t];
        if (!filled[t]) {
            /* First function with this stripped name: taken as is. */
            filled[t] = 1;
            dst->cc = f->cc;
            dst->nc = f->nc;
            dst->tt = f->tt;
            dst->ct = f->ct;
        }
        else {
            /* Colliding functions: add_func_stats sums them and their
             * caller dicts. */
            out->overflowed |= add_overflows(&dst->cc, f->cc);
            out->overflowed |= add_overflows(&dst->nc, f->nc);
            dst->tt = f->tt + dst->tt;
            dst->ct = f->ct + dst->ct;
        }
        for (size_t k = 0; k < nscratch; k++) {
            const pyprof_caller_t *e = &scratch[k];
            if (pyprof_stats_add_caller(out, t, e->caller, e->nc, e->cc,
                                        e->tt, e->ct) < 0) {
                goto error;
            }
        }
    }
    for (size_t i = 0; i < stats->nsources; i++) {
        if (pyprof_stats_add_source(out, stats->sources[i].path,
                                    stats->sources[i].mtime) < 0) {
            goto error;
        }
    }
    /* strip_dirs() leaves total_calls, prim_calls and total_tt alone. */
    int64_t calls, prim;
    double tt;
    pyprof_stats_totals(stats, &calls, &prim, &tt);
    set_totals(out, calls, prim, tt);
    out->overflowed |= stats->overflowed;
    free(map);
    free(filled);
    free(slot_of);
    free(scratch);
    return out;
error:
    pyprof_stats_free(out);
    free(map);
    free(filled);
    free(slot_of);
    free(scratch);
    return NULL;
}
