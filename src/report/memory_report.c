/* memory_report.c - memory_profiler's table, plus allocation columns, and
 * JSON (see memory_report.h). */
#include "memory_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
pyprof_memprof_free(pyprof_memprof_t *profile)
{
    if (profile == NULL) {
        return;
    }
    for (size_t i = 0; i < profile->nfuncs; i++) {
        free(profile->funcs[i].filename);
        free(profile->funcs[i].name);
        free(profile->funcs[i].rows);
    }
    free(profile->funcs);
    free(profile);
}

/* The lines of a source file, from `source` when given (IPython's cells
 * are in linecache only), else from the disk: a new array of `*count` new
 * strings (each with its '\n' if it had one), or NULL when it cannot be
 * read (the table is then printed without contents, as for code run with
 * -c). */
static char **
read_source(const char *filename, pyprof_lprof_source_fn source,
            void *source_ctx, int *count)
{
    *count = 0;
    size_t len = 0;
    char *text = source != NULL ? source(source_ctx, filename, &len) : NULL;
    FILE *f = text != NULL ? fmemopen(text, len, "r")
                           : fopen(filename, "r");
    if (f == NULL) {
        free(text);
        return NULL;
    }
    char **lines = NULL;
    int cap = 0;
    char *line = NULL;
    size_t linecap = 0;
    while (getline(&line, &linecap, f) > 0) {
        if (*count == cap) {
            int ncap = cap ? cap * 2 : 256;
            char **grown = realloc(lines, (size_t)ncap * sizeof(*lines));
            if (grown == NULL) {
                break;
            }
            lines = grown;
            cap = ncap;
        }
        lines[*count] = line;
        (*count)++;
        line = NULL;
        linecap = 0;
    }
    free(line);
    fclose(f);
    free(text);
    return lines;
}

static void
free_source(char **lines, int count)
{
    for (int i = 0; i < count; i++) {
        free(lines[i]);
    }
    free(lines);
}

/* "1.234 KiB"-free: bytes as a MiB figure like the other columns, so the
 * columns compare at a glance. */
static void
format_mib(char *buf, size_t size, double mib, int precision)
{
    snprintf(buf, size, "%*.*f MiB", precision + 4, precision, mib);
}

static int
func_ran(const pyprof_memfunc_t *f)
{
    for (int i = 0; i < f->nlines; i++) {
        if (f->rows[i].measured) {
            return 1;
        }
    }
    return 0;
}

void
pyprof_memory_report_text(pyprof_sink_t *sink,
                          const pyprof_memprof_t *profile, int rss_only,
                          int precision, pyprof_lprof_source_fn source,
                          void *source_ctx)
{
    for (size_t k = 0; k < profile->nfuncs; k++) {
        const pyprof_memfunc_t *f = &profile->funcs[k];
        if (!func_ran(f)) {
            continue;
        }
        int nsource;
        char **lines = read_source(f->filename, source, source_ctx,
                                   &nsource);
        char header[256];
        /* memory_profiler: '{0:>6} {1:>12} {2:>12}  {3:>10}   {4:<}' */
        if (rss_only) {
            snprintf(header, sizeof(header), "%6s %12s %12s  %10s   %s",
                     "Line #", "Mem usage", "Increment", "Occurrences",
                     "Line Contents");
        }
        else {
            snprintf(header, sizeof(header),
                     "%6s %12s %12s  %10s %12s %12s   %s", "Line #",
                     "Mem usage", "Increment", "Occurrences", "Allocated",
                     "Alive", "Line Contents");
        }
        pyprof_sink_printf(sink, "Filename: %s\n\n%s\n", f->filename,
                           header);
        for (size_t i = 0; i < strlen(header); i++) {
            pyprof_sink_putc(sink, '=');
        }
        pyprof_sink_putc(sink, '\n');
        for (int i = 0; i < f->nlines; i++) {
            const pyprof_memrow_t *row = &f->rows[i];
            int lineno = f->first_line + i;
            char usage[48] = "", inc[48] = "", occ[32] = "";
            char alloc[48] = "", alive[48] = "";
            if (row->measured) {
                format_mib(usage, sizeof(usage), row->usage_mib, precision);
                format_mib(inc, sizeof(inc), row->increment_mib, precision);
                snprintf(occ, sizeof(occ), "%llu",
                         (unsigned long long)row->occurrences);
            }
            if (row->allocated > 0 || row->alive != 0) {
                format_mib(alloc, sizeof(alloc),
                           (double)row->allocated / 1048576.0, precision);
                format_mib(alive, sizeof(alive),
                           (double)row->alive / 1048576.0, precision);
            }
            const char *text = lineno - 1 < nsource ? lines[lineno - 1]
                                                    : "\n";
            if (rss_only) {
                pyprof_sink_printf(sink, "%6d %12s %12s  %10s   %s", lineno,
                                   usage, inc, occ, text);
            }
            else {
                pyprof_sink_printf(sink, "%6d %12s %12s  %10s %12s %12s   %s",
                                   lineno, usage, inc, occ, alloc, alive,
                                   text);
            }
            if (text[0] == '\0' || text[strlen(text) - 1] != '\n') {
                pyprof_sink_putc(sink, '\n');
            }
        }
        pyprof_sink_puts(sink, "\n\n");
        free_source(lines, nsource);
    }
}

static void
json_string(pyprof_sink_t *sink, const char *text)
{
    pyprof_sink_putc(sink, '"');
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '"' || *p == '\\') {
            pyprof_sink_printf(sink, "\\%c", *p);
        }
        else if (*p < 0x20) {
            pyprof_sink_printf(sink, "\\u%04x", *p);
        }
        else {
            pyprof_sink_putc(sink, *p);
        }
    }
    pyprof_sink_putc(sink, '"');
}

void
pyprof_memory_report_json(pyprof_sink_t *sink,
                          const pyprof_memprof_t *profile,
                          pyprof_lprof_source_fn source, void *source_ctx)
{
    pyprof_sink_puts(sink, "{\"unit\": \"MiB for memory, bytes for "
                           "allocations\", \"functions\": [");
    for (size_t k = 0; k < profile->nfuncs; k++) {
        const pyprof_memfunc_t *f = &profile->funcs[k];
        int nsource;
        char **lines = read_source(f->filename, source, source_ctx,
                                   &nsource);
        pyprof_sink_puts(sink, k ? ",\n {\"filename\": " : "\n {\"filename\": ");
        json_string(sink, f->filename);
        pyprof_sink_puts(sink, ", \"name\": ");
        json_string(sink, f->name);
        pyprof_sink_printf(sink, ", \"first_line\": %d, \"lines\": [",
                           f->first_line);
        for (int i = 0; i < f->nlines; i++) {
            const pyprof_memrow_t *row = &f->rows[i];
            int lineno = f->first_line + i;
            pyprof_sink_printf(sink, "%s\n  {\"lineno\": %d, ", i ? "," : "",
                               lineno);
            if (row->measured) {
                pyprof_sink_printf(sink,
                                   "\"mem_usage\": %.6f, \"increment\": "
                                   "%.6f, \"occurrences\": %llu, ",
                                   row->usage_mib, row->increment_mib,
                                   (unsigned long long)row->occurrences);
            }
            else {
                pyprof_sink_puts(sink, "\"mem_usage\": null, \"increment\": "
                                       "null, \"occurrences\": 0, ");
            }
            pyprof_sink_printf(sink,
                               "\"allocated_bytes\": %llu, \"alive_bytes\": "
                               "%lld, \"contents\": ",
                               (unsigned long long)row->allocated,
                               (long long)row->alive);
            char *text = lineno - 1 < nsource ? lines[lineno - 1] : NULL;
            if (text != NULL) {
                size_t n = strlen(text);
                if (n > 0 && text[n - 1] == '\n') {
                    text[n - 1] = '\0';
                }
            }
            json_string(sink, text != NULL ? text : "");
            pyprof_sink_putc(sink, '}');
        }
        pyprof_sink_puts(sink, "]}");
        free_source(lines, nsource);
    }
    pyprof_sink_puts(sink, "\n]}\n");
}
