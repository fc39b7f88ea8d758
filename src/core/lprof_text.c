/* lprof_text.c - line_profiler's text layout, and JSON, of line timings.
 *
 * The text mirrors line_profiler's show_func(): minimum column widths 6,
 * 9, 12, 8, 8 widened to the longest value, "%5.1f" numbers falling back
 * to "%5.1g" when they overflow their column, "%5.1f" percentages.  The
 * block shown runs from the first line (the first decorator) to the last
 * line of the body, found as inspect.getblock() would by indentation, and
 * never shorter than the last line that has code.
 */
#include "lprof_text.h"
#include "readfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
pyprof_lprof_text_options_init(pyprof_lprof_text_options_t *options)
{
    options->unit = 1e-6;
    options->strip_zeros = 0;
    options->source = NULL;
    options->source_ctx = NULL;
}

/* A file's lines: an array of NUL-terminated strings without their line
 * ends (owned, free with free_source). */
typedef struct {
    char *data;
    char **lines;
    size_t count;
} source_t;

static void
free_source(source_t *src)
{
    free(src->data);
    free(src->lines);
    memset(src, 0, sizeof(*src));
}

/* Split the text of `path` (from options->source, else the disk) into
 * lines.  0, or -1 with errno set. */
static int
read_source(const char *path, const pyprof_lprof_text_options_t *options,
            source_t *src)
{
    memset(src, 0, sizeof(*src));
    size_t len = 0;
    char *data = options->source != NULL
                     ? options->source(options->source_ctx, path, &len)
                     : (char *)pyprof_read_file(path, PYPROF_READ_MAX,
                                                &len);
    if (data == NULL) {
        return -1;
    }
    size_t count = 1;
    for (size_t i = 0; i < len; i++) {
        count += data[i] == '\n';
    }
    char **lines = malloc(count * sizeof(*lines));
    if (lines == NULL) {
        free(data);
        errno = ENOMEM;
        return -1;
    }
    size_t n = 0;
    char *p = data;
    while (n < count) {
        lines[n++] = p;
        char *nl = strchr(p, '\n');
        if (nl == NULL) {
            break;
        }
        *nl = '\0';
        if (nl > p && nl[-1] == '\r') {
            nl[-1] = '\0';
        }
        p = nl + 1;
    }
    if (n > 0 && *lines[n - 1] == '\0' && len > 0 && data[len - 1] == '\n') {
        n--; /* the empty piece after the final newline */
    }
    src->data = data;
    src->lines = lines;
    src->count = n;
    return 0;
}

static int
indent_of(const char *line)
{
    int n = 0;
    for (; *line == ' ' || *line == '\t'; line++) {
        n += *line == '\t' ? 8 - n % 8 : 1;
    }
    return n;
}

static int
blank_or_comment(const char *line)
{
    line += strspn(line, " \t\f");
    return *line == '\0' || *line == '#';
}

/* The last line (1-based) of the block that starts at `first`. */
static int
block_end(const source_t *src, int first)
{
    int def = first;
    while (def <= (int)src->count) {
        const char *text = src->lines[def - 1];
        const char *p = text + strspn(text, " \t");
        if (*p != '@' && !blank_or_comment(text)) {
            break;
        }
        def++;
    }
    if (def > (int)src->count) {
        return first;
    }
    int indent = indent_of(src->lines[def - 1]);
    int end = def;
    for (int i = def + 1; i <= (int)src->count; i++) {
        const char *text = src->lines[i - 1];
        if (blank_or_comment(text)) {
            continue;
        }
        if (indent_of(text) <= indent) {
            break;
        }
        end = i;
    }
    return end;
}

/* Column texts of one line that has data. */
typedef struct {
    char hits[32];
    char time[32];
    char perhit[32];
    char percent[32];
} row_t;

static void
format_number(char *out, size_t size, double value, size_t width)
{
    snprintf(out, size, "%5.1f", value);
    if (strlen(out) > width) {
        snprintf(out, size, "%5.1g", value);
    }
}

static void
write_function(pyprof_sink_t *sink, const pyprof_lprof_func_t *func,
               const pyprof_lprof_text_options_t *options)
{
    pyprof_ns_t total_ns = pyprof_lprof_total_ns(func);
    uint64_t total_hits = 0;
    for (size_t i = 0; i < func->nlines; i++) {
        total_hits += func->lines[i].hits;
    }
    if (options->strip_zeros && total_hits == 0) {
        return;
    }
    double scalar = 1e-9 / options->unit; /* ns -> printed unit */
    pyprof_sink_printf(sink, "Total time: %g s\n", (double)total_ns * 1e-9);
    pyprof_sink_printf(sink, "File: %s\n", func->filename);
    pyprof_sink_printf(sink, "Function: %s at line %d\n", func->name,
                       func->first_line);
    source_t src;
    int have_source = read_source(func->filename, options, &src) == 0;
    if (!have_source) {
        pyprof_sink_printf(sink,
                           "Source unavailable (%s): lines are shown "
                           "without their text\n",
                           strerror(errno));
    }
    int first = func->first_line;
    int last = first + (int)func->nlines - 1;
    if (have_source) {
        int end = block_end(&src, first);
        if (end > last) {
            last = end;
        }
        if (last > (int)src.count) {
            last = (int)src.count > first ? (int)src.count : last;
        }
    }
    size_t nrows = (size_t)(last - first + 1);
    row_t *rows = calloc(nrows, sizeof(*rows));
    char *has = calloc(nrows, 1);
    if (rows == NULL || has == NULL) {
        free(rows);
        free(has);
        free_source(&src);
        sink->failed = 1;
        return;
    }
    size_t w_hits = 9, w_time = 12, w_perhit = 8;
    for (size_t i = 0; i < func->nlines && i < nrows; i++) {
        const pyprof_lprof_line_t *line = &func->lines[i];
        if (line->hits == 0 && line->time_ns == 0) {
            continue;
        }
        row_t *row = &rows[i];
        has[i] = 1;
        double t = (double)line->time_ns * scalar;
        if (total_ns != 0) {
            snprintf(row->percent, sizeof(row->percent), "%5.1f",
                     100.0 * (double)line->time_ns / (double)total_ns);
        }
        format_number(row->time, sizeof(row->time), t, 12);
        if (line->hits > 0) {
            format_number(row->perhit, sizeof(row->perhit),
                          t / (double)line->hits, 8);
        }
        snprintf(row->hits, sizeof(row->hits), "%llu",
                 (unsigned long long)line->hits);
        if (strlen(row->hits) > 9) {
            snprintf(row->hits, sizeof(row->hits), "%g",
                     (double)line->hits);
        }
        if (strlen(row->hits) > w_hits) {
            w_hits = strlen(row->hits);
        }
        if (strlen(row->time) > w_time) {
            w_time = strlen(row->time);
        }
        if (strlen(row->perhit) > w_perhit) {
            w_perhit = strlen(row->perhit);
        }
    }
    char header[256];
    int header_len = snprintf(header, sizeof(header),
                              "%6s %*s %*s %*s %8s  %-s", "Line #",
                              (int)w_hits, "Hits", (int)w_time, "Time",
                              (int)w_perhit, "Per Hit", "% Time",
                              "Line Contents");
    pyprof_sink_printf(sink, "\n%s\n", header);
    for (int i = 0; i < header_len; i++) {
        pyprof_sink_putc(sink, '=');
    }
    pyprof_sink_putc(sink, '\n');
    for (size_t i = 0; i < nrows; i++) {
        int lineno = first + (int)i;
        const char *text = "";
        if (have_source && lineno <= (int)src.count) {
            text = src.lines[lineno - 1];
        }
        else if (!have_source) {
            text = "[source unavailable]";
        }
        const row_t *row = &rows[i];
        static const row_t empty;
        if (!has[i]) {
            row = &empty;
        }
        pyprof_sink_printf(sink, "%6d %*s %*s %*s %8s  %s\n", lineno,
                           (int)w_hits, row->hits, (int)w_time, row->time,
                           (int)w_perhit, row->perhit, row->percent, text);
    }
    pyprof_sink_putc(sink, '\n');
    free(rows);
    free(has);
    free_source(&src);
}

void
pyprof_lprof_write_text(pyprof_sink_t *sink, const pyprof_lprof_t *model,
                        const pyprof_lprof_text_options_t *options)
{
    pyprof_sink_printf(sink, "Timer unit: %g s\n\n", options->unit);
    int any_coroutine = 0;
    for (size_t i = 0; i < model->nfuncs; i++) {
        any_coroutine |= model->funcs[i].is_coroutine;
    }
    if (any_coroutine) {
        pyprof_sink_puts(sink,
                         model->wall_await
                             ? "Await time: a line that awaits is charged "
                               "the wall time until the coroutine resumes "
                               "(--wall-await)\n\n"
                             : "Await time: not counted (on-CPU time only; "
                               "--wall-await charges it to the awaiting "
                               "line)\n\n");
    }
    for (size_t i = 0; i < model->nfuncs; i++) {
        write_function(sink, &model->funcs[i], options);
    }
}

static void
write_json_string(pyprof_sink_t *sink, const char *text)
{
    pyprof_sink_putc(sink, '"');
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '"' || *p == '\\') {
            pyprof_sink_putc(sink, '\\');
            pyprof_sink_putc(sink, *p);
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
pyprof_lprof_write_json(pyprof_sink_t *sink, const pyprof_lprof_t *model)
{
    pyprof_sink_printf(sink, "{\"unit\": \"ns\", \"await\": \"%s\", "
                       "\"functions\": [",
                       model->wall_await ? "wall" : "excluded");
    for (size_t i = 0; i < model->nfuncs; i++) {
        const pyprof_lprof_func_t *func = &model->funcs[i];
        pyprof_sink_puts(sink, i ? ",\n  {\"file\": " : "\n  {\"file\": ");
        write_json_string(sink, func->filename);
        pyprof_sink_puts(sink, ", \"name\": ");
        write_json_string(sink, func->name);
        pyprof_sink_printf(sink,
                           ", \"first_line\": %d, \"total_ns\": %lld, "
                           "\"lines\": [",
                           func->first_line,
                           (long long)pyprof_lprof_total_ns(func));
        for (size_t j = 0; j < func->nlines; j++) {
            const pyprof_lprof_line_t *line = &func->lines[j];
            pyprof_sink_printf(sink,
                               "%s{\"line\": %d, \"hits\": %llu, "
                               "\"time_ns\": %lld}",
                               j ? ", " : "", line->lineno,
                               (unsigned long long)line->hits,
                               (long long)line->time_ns);
        }
        pyprof_sink_puts(sink, "]}");
    }
    pyprof_sink_puts(sink, "\n]}\n");
}
