/* report.c - pstats.Stats.print_stats / print_callers / print_callees in C.
 *
 * The goal is the same bytes as CPython's pstats (3.10-3.13) for the same
 * model, so the code follows pstats step by step rather than re-deriving
 * the layout: sort keys are resolved with pstats' own abbreviation rule,
 * rows are ordered by a stable sort whose ties fall back to the model's
 * (dict) order, restrictions print the same "List reduced" lines with
 * Python reprs of their arguments, and widths count code points, not
 * bytes, because str.ljust does.
 *
 * Not imitated: the regex is POSIX ERE rather than Python's re, and the
 * "top level" lines of files from the ancient jprofile never appear (the
 * reader and the engine cannot produce that caller).
 */
#define _POSIX_C_SOURCE 200809L
#include "report.h"

#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Columns of pstats' sort tuple (cc, nc, tt, ct, file, line, name,
 * stdname). */
enum {
    COL_CC,
    COL_NC,
    COL_TT,
    COL_CT,
    COL_FILE,
    COL_LINE,
    COL_NAME,
    COL_STDNAME
};

typedef struct {
    int column;
    int direction;      /* 1 ascending, -1 descending */
} sort_field_t;

typedef struct {
    const char *word;
    sort_field_t fields[3];
    int nfields;
    const char *description;
} sort_def_t;

/* pstats.Stats.sort_arg_dict_default, in its order (which matters for the
 * abbreviation rule). */
static const sort_def_t sort_defs[] = {
    {"calls", {{COL_NC, -1}}, 1, "call count"},
    {"ncalls", {{COL_NC, -1}}, 1, "call count"},
    {"cumtime", {{COL_CT, -1}}, 1, "cumulative time"},
    {"cumulative", {{COL_CT, -1}}, 1, "cumulative time"},
    {"filename", {{COL_FILE, 1}}, 1, "file name"},
    {"line", {{COL_LINE, 1}}, 1, "line number"},
    {"module", {{COL_FILE, 1}}, 1, "file name"},
    {"name", {{COL_NAME, 1}}, 1, "function name"},
    {"nfl", {{COL_NAME, 1}, {COL_FILE, 1}, {COL_LINE, 1}}, 3,
     "name/file/line"},
    {"pcalls", {{COL_CC, -1}}, 1, "primitive call count"},
    {"stdname", {{COL_STDNAME, 1}}, 1, "standard name"},
    {"time", {{COL_TT, -1}}, 1, "internal time"},
    {"tottime", {{COL_TT, -1}}, 1, "internal time"},
};
#define NSORT_DEFS (sizeof(sort_defs) / sizeof(sort_defs[0]))
#define MAX_FRAGMENTS 96    /* total letters of the words above: 77 */
#define MAX_WORD 16

/* The definition `key` selects, or NULL.  This replays pstats'
 * get_sort_arg_defs() literally: each word's prefixes, longest first, map
 * to it until one is already taken; that one is struck out of the table
 * (and the word's shorter prefixes are not tried). */
static const sort_def_t *
lookup_sort_key(const char *key)
{
    struct {
        char text[MAX_WORD];
        const sort_def_t *def;
        int struck;
    } table[MAX_FRAGMENTS];
    size_t n = 0;
    for (size_t w = 0; w < NSORT_DEFS; w++) {
        const char *word = sort_defs[w].word;
        for (size_t len = strlen(word); len > 0; len--) {
            size_t found = n;
            for (size_t i = 0; i < n; i++) {
                if (strlen(table[i].text) == len
                    && strncmp(table[i].text, word, len) == 0) {
                    found = i;
                    break;
                }
            }
            if (found < n) {
                table[found].struck = 1;
                break;
            }
            memcpy(table[n].text, word, len);
            table[n].text[len] = '\0';
            table[n].def = &sort_defs[w];
            table[n].struck = 0;
            n++;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (!table[i].struck && strcmp(table[i].text, key) == 0) {
            return table[i].def;
        }
    }
    return NULL;
}

/* sort_stats(n) for the old profiler's integer codes, or NULL. */
static const char *
legacy_sort_word(const char *key)
{
    static const char *const codes[][2] = {
        {"-1", "stdname"}, {"0", "calls"}, {"1", "time"}, {"2", "cumulative"},
    };
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        if (strcmp(key, codes[i][0]) == 0) {
            return codes[i][1];
        }
    }
    return NULL;
}

void
pyprof_report_options_init(pyprof_report_options_t *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->limit = -1;
    opts->print_header = 1;
}

int
pyprof_report_sort_key_valid(const char *key)
{
    return lookup_sort_key(key) != NULL || legacy_sort_word(key) != NULL;
}

/* ---- the rows: names, sorting, restrictions ------------------------- */

typedef struct {
    const pyprof_stats_t *stats;
    size_t n;               /* functions in the model */
    char **names;           /* func_std_string of each function, owned */
    size_t *widths;         /* their lengths in code points */
    sort_field_t fields[3 * PYPROF_REPORT_MAX_SORT];
    int nfields;
    char sort_type[256];    /* the "Ordered by:" text */
    size_t *rows;           /* the print list: function indices */
    size_t nrows;
    pyprof_sink_t msg;      /* the lines get_print_list() prints */
} report_t;

static size_t
code_points(const char *text)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        n += (*p & 0xc0) != 0x80;
    }
    return n;
}

/* func_std_string(): "{name}" for built-ins, "file:line(name)" else.
 * A new malloc'd string, or NULL when out of memory. */
static char *
std_name(const pyprof_func_t *f)
{
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    size_t len = strlen(f->funcname);
    if (strcmp(f->filename, "~") == 0 && f->lineno == 0) {
        if (len >= 2 && f->funcname[0] == '<' && f->funcname[len - 1] == '>') {
            pyprof_sink_putc(&sink, '{');
            pyprof_sink_write(&sink, f->funcname + 1, len - 2);
            pyprof_sink_putc(&sink, '}');
        }
        else {
            pyprof_sink_puts(&sink, f->funcname);
        }
    }
    else {
        pyprof_sink_printf(&sink, "%s:%ld(%s)", f->filename, f->lineno,
                           f->funcname);
    }
    char *name = pyprof_sink_take(&sink, NULL);
    pyprof_sink_free_buffer(&sink);
    return name;
}

static int
compare_numbers(double left, double right)
{
    return left < right ? -1 : left > right ? 1 : 0;
}

static int
compare_ints(int64_t left, int64_t right)
{
    return left < right ? -1 : left > right ? 1 : 0;
}

/* TupleComp.compare over the selected columns. */
static int
compare_rows(const report_t *rep, size_t a, size_t b)
{
    const pyprof_func_t *l = pyprof_stats_get(rep->stats, a);
    const pyprof_func_t *r = pyprof_stats_get(rep->stats, b);
    for (int i = 0; i < rep->nfields; i++) {
        int c = 0;
        switch (rep->fields[i].column) {
        case COL_CC: c = compare_ints(l->cc, r->cc); break;
        case COL_NC: c = compare_ints(l->nc, r->nc); break;
        case COL_TT: c = compare_numbers(l->tt, r->tt); break;
        case COL_CT: c = compare_numbers(l->ct, r->ct); break;
        case COL_FILE: c = strcmp(l->filename, r->filename); break;
        case COL_LINE: c = compare_ints(l->lineno, r->lineno); break;
        case COL_NAME: c = strcmp(l->funcname, r->funcname); break;
        case COL_STDNAME: c = strcmp(rep->names[a], rep->names[b]); break;
        }
        if (c != 0) {
            /* strcmp orders UTF-8 bytes, which is code point order. */
            return (c < 0 ? -1 : 1) * rep->fields[i].direction;
        }
    }
    return 0;
}

/* Python's tuple order on (filename, lineno, funcname), for call lists. */
static int
compare_keys(const pyprof_func_t *l, const pyprof_func_t *r)
{
    int c = strcmp(l->filename, r->filename);
    if (c == 0) {
        c = compare_ints(l->lineno, r->lineno);
    }
    if (c == 0) {
        c = strcmp(l->funcname, r->funcname);
    }
    return c;
}

typedef int (*index_compare_t)(const void *ctx, size_t a, size_t b);

/* Stable merge sort of items[0..n) (list.sort is stable, and ties must
 * keep dict order).  `scratch` holds n items.  */
static void
merge_sort(size_t *items, size_t *scratch, size_t n, index_compare_t cmp,
           const void *ctx)
{
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                scratch[k++] = cmp(ctx, items[j], items[i]) < 0 ? items[j++]
                                                                : items[i++];
            }
            while (i < mid) {
                scratch[k++] = items[i++];
            }
            while (j < hi) {
                scratch[k++] = items[j++];
            }
        }
        memcpy(items, scratch, n * sizeof(size_t));
    }
}

static int
compare_row_indices(const void *ctx, size_t a, size_t b)
{
    return compare_rows(ctx, a, b);
}

static void
report_free(report_t *rep)
{
    if (rep->names != NULL) {
        for (size_t i = 0; i < rep->n; i++) {
            free(rep->names[i]);
        }
    }
    free(rep->names);
    free(rep->widths);
    free(rep->rows);
    pyprof_sink_free_buffer(&rep->msg);
}

/* Resolve the sort keys (sort_stats) into rep->fields and sort_type.
 * Returns 0, 1 when there are none ("Random listing order"), or -1. */
static int
resolve_sort(report_t *rep, const pyprof_report_options_t *opts,
             char *errbuf, size_t errlen)
{
    if (opts->nsort <= 0) {
        return 1;
    }
    if (opts->nsort > PYPROF_REPORT_MAX_SORT) {
        snprintf(errbuf, errlen, "at most %d sort keys",
                 PYPROF_REPORT_MAX_SORT);
        return -1;
    }
    const char *words[PYPROF_REPORT_MAX_SORT];
    for (int i = 0; i < opts->nsort; i++) {
        words[i] = opts->sort[i];
        if (words[i] == NULL) {
            snprintf(errbuf, errlen, "missing sort key");
            return -1;
        }
        const char *legacy = legacy_sort_word(words[i]);
        if (legacy != NULL) {
            /* sort_stats() takes one old integer code, never a mix. */
            if (opts->nsort != 1) {
                snprintf(errbuf, errlen, "the integer sort key '%s' cannot "
                         "be combined with other keys", words[i]);
                return -1;
            }
            words[i] = legacy;
        }
    }
    size_t used = 0;
    rep->sort_type[0] = '\0';
    for (int i = 0; i < opts->nsort; i++) {
        const sort_def_t *def = lookup_sort_key(words[i]);
        if (def == NULL) {
            snprintf(errbuf, errlen, "unknown sort key '%s'", words[i]);
            return -1;
        }
        for (int f = 0; f < def->nfields; f++) {
            rep->fields[rep->nfields++] = def->fields[f];
        }
        int put = snprintf(rep->sort_type + used,
                           sizeof(rep->sort_type) - used, "%s%s",
                           i ? ", " : "", def->description);
        /* 8 keys of at most 22 bytes fit; never step past the buffer. */
        if (put > 0 && (size_t)put < sizeof(rep->sort_type) - used) {
            used += (size_t)put;
        }
    }
    return 0;
}

/* repr() of a str, as Python 3 writes it for printable text. */
static void
put_repr(pyprof_sink_t *out, const char *text)
{
    int quote = strchr(text, '\'') != NULL && strchr(text, '"') == NULL
                    ? '"'
                    : '\'';
    pyprof_sink_putc(out, quote);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        unsigned c = *p;
        if (c == (unsigned)quote || c == '\\') {
            pyprof_sink_printf(out, "\\%c", c);
        }
        else if (c == '\t') {
            pyprof_sink_puts(out, "\\t");
        }
        else if (c == '\n') {
            pyprof_sink_puts(out, "\\n");
        }
        else if (c == '\r') {
            pyprof_sink_puts(out, "\\r");
        }
        else if (c < 0x20 || c == 0x7f) {
            pyprof_sink_printf(out, "\\x%02x", c);
        }
        else if (c == 0xc2
                 && ((p[1] >= 0x80 && p[1] <= 0xa0) || p[1] == 0xad)) {
            /* U+0080-U+00A0 and U+00AD are not printable, so repr escapes
             * them; other non-ASCII text is left as is. */
            pyprof_sink_printf(out, "\\x%02x", p[1]);
            p++;
        }
        else {
            pyprof_sink_putc(out, (int)c);
        }
    }
    pyprof_sink_putc(out, quote);
}

/* repr() of a float: the shortest digits that read back the same, in
 * fixed notation for decimal exponents -4..15 and "1e-05" style outside,
 * with ".0" on integral values (Python's float_repr_style 'short'). */
static void
put_float_repr(pyprof_sink_t *out, double value)
{
    if (isinf(value) || isnan(value)) {
        pyprof_sink_puts(out, isnan(value) ? "nan"
                              : value < 0 ? "-inf" : "inf");
        return;
    }
    char text[64];
    int digits;
    for (digits = 1; digits < 17; digits++) {
        snprintf(text, sizeof(text), "%.*e", digits - 1, value);
        if (strtod(text, NULL) == value) {
            break;
        }
    }
    snprintf(text, sizeof(text), "%.*e", digits - 1, value);
    int exponent = atoi(strchr(text, 'e') + 1);
    if (exponent < -4 || exponent >= 16) {
        pyprof_sink_puts(out, text);
        return;
    }
    int decimals = digits - 1 - exponent;
    snprintf(text, sizeof(text), "%.*f", decimals > 0 ? decimals : 0, value);
    pyprof_sink_puts(out, text);
    if (strchr(text, '.') == NULL) {
        pyprof_sink_puts(out, ".0");
    }
}

/* eval_print_amount() for a regex: keep rows whose name it matches. */
static void
restrict_by_pattern(report_t *rep, const char *pattern)
{
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0) {
        pyprof_sink_puts(&rep->msg, "   <Invalid regular expression ");
        put_repr(&rep->msg, pattern);
        pyprof_sink_puts(&rep->msg, ">\n");
        return;
    }
    size_t before = rep->nrows, kept = 0;
    for (size_t i = 0; i < rep->nrows; i++) {
        if (regexec(&re, rep->names[rep->rows[i]], 0, NULL, 0) == 0) {
            rep->rows[kept++] = rep->rows[i];
        }
    }
    regfree(&re);
    rep->nrows = kept;
    if (kept != before) {
        pyprof_sink_printf(&rep->msg,
                           "   List reduced from %zu to %zu due to "
                           "restriction <",
                           before, kept);
        put_repr(&rep->msg, pattern);
        pyprof_sink_puts(&rep->msg, ">\n");
    }
}

/* eval_print_amount() for an int count or a float fraction. */
static void
restrict_by_amount(report_t *rep, const pyprof_report_options_t *opts)
{
    size_t before = rep->nrows;
    if (opts->use_fraction) {
        double f = opts->fraction;
        if (!(f >= 0.0 && f < 1.0)) {
            return;
        }
        /* int(count * sel + .5) */
        rep->nrows = (size_t)((double)before * f + 0.5);
    }
    else {
        if (opts->limit < 0 || (size_t)opts->limit >= before) {
            return;
        }
        rep->nrows = (size_t)opts->limit;
    }
    if (rep->nrows != before) {
        pyprof_sink_printf(&rep->msg,
                           "   List reduced from %zu to %zu due to "
                           "restriction <",
                           before, rep->nrows);
        if (opts->use_fraction) {
            put_float_repr(&rep->msg, opts->fraction);
        }
        else {
            pyprof_sink_printf(&rep->msg, "%ld", opts->limit);
        }
        pyprof_sink_puts(&rep->msg, ">\n");
    }
}

/* Everything get_print_list() does: names, order, restrictions and the
 * message lines.  Returns 0 or -1 (errbuf set). */
static int
report_prepare(report_t *rep, const pyprof_stats_t *stats,
               const pyprof_report_options_t *opts, char *errbuf,
               size_t errlen)
{
    memset(rep, 0, sizeof(*rep));
    pyprof_sink_init_buffer(&rep->msg);
    rep->stats = stats;
    rep->n = pyprof_stats_count(stats);
    int unsorted = resolve_sort(rep, opts, errbuf, errlen);
    if (unsorted < 0) {
        return -1;
    }
    size_t alloc = rep->n ? rep->n : 1;
    rep->names = calloc(alloc, sizeof(char *));
    rep->widths = malloc(alloc * sizeof(size_t));
    rep->rows = malloc(alloc * sizeof(size_t));
    if (rep->names == NULL || rep->widths == NULL || rep->rows == NULL) {
        goto nomem;
    }
    for (size_t i = 0; i < rep->n; i++) {
        rep->names[i] = std_name(pyprof_stats_get(stats, i));
        if (rep->names[i] == NULL) {
            goto nomem;
        }
        rep->widths[i] = code_points(rep->names[i]);
        rep->rows[i] = i;
    }
    rep->nrows = rep->n;
    if (unsorted) {
        pyprof_sink_puts(&rep->msg, "   Random listing order was used\n");
    }
    else {
        size_t *scratch = malloc(alloc * sizeof(size_t));
        if (scratch == NULL) {
            goto nomem;
        }
        merge_sort(rep->rows, scratch, rep->n, compare_row_indices, rep);
        free(scratch);
        pyprof_sink_printf(&rep->msg, "   Ordered by: %s\n", rep->sort_type);
    }
    if (opts->pattern != NULL) {
        restrict_by_pattern(rep, opts->pattern);
    }
    restrict_by_amount(rep, opts);
    if (pyprof_sink_failed(&rep->msg)) {
        goto nomem;
    }
    return 0;
nomem:
    snprintf(errbuf, errlen, "out of memory");
    return -1;
}

/* ---- printing ------------------------------------------------------- */

static void
put_padded(pyprof_sink_t *out, const char *text, size_t width, size_t size)
{
    pyprof_sink_puts(out, text);
    for (; width < size; width++) {
        pyprof_sink_putc(out, ' ');
    }
}

/* "%8.3f", pstats' f8(). */
static void
put_f8(pyprof_sink_t *out, double x)
{
    pyprof_sink_printf(out, "%8.3f", x);
}

/* The "Sat Jun  1 12:34:56 2024    path" lines (time.ctime). */
static void
put_sources(pyprof_sink_t *out, const pyprof_stats_t *stats)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed",
                                       "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr",
                                         "May", "Jun", "Jul", "Aug",
                                         "Sep", "Oct", "Nov", "Dec"};
    size_t n = pyprof_stats_source_count(stats);
    tzset();
    for (size_t i = 0; i < n; i++) {
        double mtime = pyprof_stats_source_mtime(stats, i);
        const char *path = pyprof_stats_source_path(stats, i);
        struct tm tm;
        /* time.ctime floors the float; when it fails pstats prints the
         * bare path. */
        double floored = floor(mtime);
        int ok = isfinite(mtime) && floored >= -9.2e18 && floored <= 9.2e18;
        time_t t = ok ? (time_t)floored : 0;
        if (ok && localtime_r(&t, &tm) != NULL && tm.tm_wday >= 0
            && tm.tm_wday < 7 && tm.tm_mon >= 0 && tm.tm_mon < 12) {
            pyprof_sink_printf(out, "%s %s%3d %.2d:%.2d:%.2d %lld    %s\n",
                               days[tm.tm_wday], months[tm.tm_mon],
                               tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                               1900LL + tm.tm_year, path);
        }
        else {
            pyprof_sink_printf(out, "%s\n", path);
        }
    }
    if (n > 0) {
        pyprof_sink_putc(out, '\n');
    }
}

int
pyprof_report_print_stats(pyprof_sink_t *out, const pyprof_stats_t *stats,
                          const pyprof_report_options_t *opts, char *errbuf,
                          size_t errlen)
{
    report_t rep;
    if (report_prepare(&rep, stats, opts, errbuf, errlen) < 0) {
        report_free(&rep);
        return -1;
    }
    if (opts->print_header) {
        put_sources(out, stats);
    }
    int64_t calls, prim;
    double total_tt;
    pyprof_stats_totals(stats, &calls, &prim, &total_tt);
    pyprof_sink_printf(out, "         %lld function calls ", (long long)calls);
    if (calls != prim) {
        pyprof_sink_printf(out, "(%lld primitive calls) ", (long long)prim);
    }
    pyprof_sink_printf(out, "in %.3f seconds\n\n", total_tt);
    if (rep.nrows > 0) {
        pyprof_sink_write(out, rep.msg.data, rep.msg.len);
        pyprof_sink_puts(out, "\n   ncalls  tottime  percall  cumtime  "
                              "percall filename:lineno(function)\n");
        for (size_t i = 0; i < rep.nrows; i++) {
            const pyprof_func_t *f = pyprof_stats_get(stats, rep.rows[i]);
            char calls_text[48];
            if (f->nc != f->cc) {
                snprintf(calls_text, sizeof(calls_text), "%lld/%lld",
                         (long long)f->nc, (long long)f->cc);
            }
            else {
                snprintf(calls_text, sizeof(calls_text), "%lld",
                         (long long)f->nc);
            }
            pyprof_sink_printf(out, "%9s ", calls_text);
            put_f8(out, f->tt);
            pyprof_sink_putc(out, ' ');
            if (f->nc == 0) {
                pyprof_sink_puts(out, "        ");
            }
            else {
                put_f8(out, f->tt / (double)f->nc);
            }
            pyprof_sink_putc(out, ' ');
            put_f8(out, f->ct);
            pyprof_sink_putc(out, ' ');
            if (f->cc == 0) {
                pyprof_sink_puts(out, "        ");
            }
            else {
                put_f8(out, f->ct / (double)f->cc);
            }
            pyprof_sink_printf(out, " %s\n", rep.names[rep.rows[i]]);
        }
        pyprof_sink_puts(out, "\n\n");
    }
    report_free(&rep);
    return 0;
}

/* One entry of a call list: the other function and the edge numbers. */
typedef struct {
    size_t other;
    const pyprof_caller_t *edge;
} call_t;

typedef struct {
    const pyprof_stats_t *stats;
    const call_t *calls;
} call_sort_t;

static int
compare_calls(const void *ctx, size_t a, size_t b)
{
    const call_sort_t *cs = ctx;
    return compare_keys(pyprof_stats_get(cs->stats, cs->calls[a].other),
                        pyprof_stats_get(cs->stats, cs->calls[b].other));
}

/* print_call_line(): the function, the arrow, then its calls sorted by
 * key, the first on the same line.  `order` and `scratch` hold n items. */
static void
put_call_line(pyprof_sink_t *out, const report_t *rep, size_t func,
              size_t name_size, const char *arrow, const call_t *calls,
              size_t n, size_t *order, size_t *scratch)
{
    put_padded(out, rep->names[func], rep->widths[func], name_size);
    pyprof_sink_printf(out, "%s ", arrow);
    if (n == 0) {
        pyprof_sink_putc(out, '\n');
        return;
    }
    for (size_t i = 0; i < n; i++) {
        order[i] = i;
    }
    call_sort_t cs = {rep->stats, calls};
    merge_sort(order, scratch, n, compare_calls, &cs);
    for (size_t i = 0; i < n; i++) {
        const call_t *c = &calls[order[i]];
        char text[48];
        if (c->edge->nc != c->edge->cc) {
            snprintf(text, sizeof(text), "%lld/%lld", (long long)c->edge->nc,
                     (long long)c->edge->cc);
        }
        else {
            snprintf(text, sizeof(text), "%lld", (long long)c->edge->nc);
        }
        if (i > 0) {
            put_padded(out, "", 0, name_size + 1);
        }
        pyprof_sink_printf(out, "%*s ", i > 0 ? 9 : 7, text);
        put_f8(out, c->edge->tt);
        pyprof_sink_putc(out, ' ');
        put_f8(out, c->edge->ct);
        pyprof_sink_printf(out, "  %s\n", rep->names[c->other]);
    }
}

/* print_call_heading(). */
static void
put_call_heading(pyprof_sink_t *out, const pyprof_stats_t *stats,
                 size_t name_size, const char *title)
{
    put_padded(out, "Function ", 9, name_size);
    pyprof_sink_printf(out, "%s\n", title);
    /* The sub-header appears when any function has (tuple) callers. */
    for (size_t i = 0; i < pyprof_stats_count(stats); i++) {
        if (pyprof_stats_get(stats, i)->ncallers > 0) {
            put_padded(out, "", 0, name_size);
            pyprof_sink_puts(out, "    ncalls  tottime  cumtime\n");
            break;
        }
    }
}

static int
print_calls(pyprof_sink_t *out, const pyprof_stats_t *stats,
            const pyprof_report_options_t *opts, int callees, char *errbuf,
            size_t errlen)
{
    report_t rep;
    size_t *start = NULL, *order = NULL, *scratch = NULL;
    call_t *calls = NULL;
    int rc = -1;
    if (report_prepare(&rep, stats, opts, errbuf, errlen) < 0) {
        goto done;
    }
    if (rep.nrows == 0) {
        rc = 0;
        goto done;
    }
    /* Group the edges by the function whose line lists them: the callee
     * for print_callers, the caller for print_callees (calc_callees). */
    size_t n = rep.n, nedges = 0;
    start = calloc(n + 1, sizeof(size_t));
    if (start == NULL) {
        goto nomem;
    }
    for (size_t f = 0; f < n; f++) {
        const pyprof_func_t *func = pyprof_stats_get(stats, f);
        nedges += func->ncallers;
        for (size_t j = 0; j < func->ncallers; j++) {
            start[(callees ? func->callers[j].caller : f) + 1]++;
        }
    }
    for (size_t f = 0; f < n; f++) {
        start[f + 1] += start[f];
    }
    size_t alloc = nedges ? nedges : 1;
    calls = malloc(alloc * sizeof(call_t));
    order = malloc(alloc * sizeof(size_t));
    scratch = malloc(alloc * sizeof(size_t));
    if (calls == NULL || order == NULL || scratch == NULL) {
        goto nomem;
    }
    for (size_t f = 0; f < n; f++) {
        const pyprof_func_t *func = pyprof_stats_get(stats, f);
        for (size_t j = 0; j < func->ncallers; j++) {
            const pyprof_caller_t *e = &func->callers[j];
            size_t owner = callees ? e->caller : f;
            /* start[owner] advances as entries fill; restored below. */
            calls[start[owner]].other = callees ? f : e->caller;
            calls[start[owner]].edge = e;
            start[owner]++;
        }
    }
    for (size_t f = n; f > 0; f--) {
        start[f] = start[f - 1];
    }
    start[0] = 0;
    size_t width = 0;
    for (size_t i = 0; i < rep.nrows; i++) {
        if (rep.widths[rep.rows[i]] > width) {
            width = rep.widths[rep.rows[i]];
        }
    }
    size_t name_size = width + 2;
    pyprof_sink_write(out, rep.msg.data, rep.msg.len);
    pyprof_sink_putc(out, '\n');
    put_call_heading(out, stats, name_size,
                     callees ? "called..." : "was called by...");
    for (size_t i = 0; i < rep.nrows; i++) {
        size_t f = rep.rows[i];
        put_call_line(out, &rep, f, name_size, callees ? "->" : "<-",
                      calls + start[f], start[f + 1] - start[f], order,
                      scratch);
    }
    pyprof_sink_puts(out, "\n\n");
    rc = 0;
    goto done;
nomem:
    snprintf(errbuf, errlen, "out of memory");
done:
    free(start);
    free(calls);
    free(order);
    free(scratch);
    report_free(&rep);
    return rc;
}

int
pyprof_report_print_callers(pyprof_sink_t *out, const pyprof_stats_t *stats,
                            const pyprof_report_options_t *opts,
                            char *errbuf, size_t errlen)
{
    return print_calls(out, stats, opts, 0, errbuf, errlen);
}

int
pyprof_report_print_callees(pyprof_sink_t *out, const pyprof_stats_t *stats,
                            const pyprof_report_options_t *opts,
                            char *errbuf, size_t errlen)
{
    return print_calls(out, stats, opts, 1, errbuf, errlen);
}
