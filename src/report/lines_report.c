/* lines_report.c - fill web/lines.html from a line-profile JSON document.
 *
 * The document is re-emitted field by field (never copied through), so
 * what reaches the page is exactly what was checked, escaped for a
 * <script> element.  Source lines come from the profiled file as it is
 * now; a file that is gone or shorter than the profile gives null lines
 * (the page says the source was not found).
 */
#include "lines_report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "escape.h"
#include "html_report.h"
#include "web_assets.h"

#define MAX_SOURCE_BYTES (64u << 20)

int
pyprof_lines_looks_like_json(const unsigned char *data, size_t len)
{
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\t'
                       || data[i] == '\r')) {
        i++;
    }
    if (i == len || data[i] != '{') {
        return 0;
    }
    i++;
    while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\t'
                       || data[i] == '\r')) {
        i++;
    }
    return i < len && (data[i] == '"' || data[i] == '}');
}

/* The lines of a file: a malloc'd copy of its text with '\n' turned into
 * NUL, and an array of pointers to each line.  0, or -1 when unreadable. */
typedef struct {
    char *text;
    char **lines;
    size_t count;
} source_t;

static int
read_source(const char *path, source_t *src)
{
    memset(src, 0, sizeof(*src));
    /* Only regular files: a profile naming /dev/stdin or a FIFO must not
     * make the viewer block. */
    struct stat st;
    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return -1;
    }
    size_t cap = 65536, len = 0;
    char *text = malloc(cap + 1);
    while (text != NULL) {
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0 || len > MAX_SOURCE_BYTES) {
            break;
        }
        if (len == cap) {
            char *grown = realloc(text, cap * 2 + 1);
            if (grown == NULL) {
                free(text);
                text = NULL;
                break;
            }
            text = grown;
            cap *= 2;
        }
    }
    int bad = ferror(f) || text == NULL || len > MAX_SOURCE_BYTES;
    fclose(f);
    if (bad) {
        free(text);
        return -1;
    }
    text[len] = '\0';
    size_t count = 1;
    for (size_t i = 0; i < len; i++) {
        count += text[i] == '\n';
    }
    char **lines = malloc(count * sizeof(char *));
    if (lines == NULL) {
        free(text);
        return -1;
    }
    size_t k = 0;
    lines[k++] = text;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n') {
            text[i] = '\0';
            if (i > 0 && text[i - 1] == '\r') {
                text[i - 1] = '\0';
            }
            lines[k++] = text + i + 1;
        }
    }
    src->text = text;
    src->lines = lines;
    src->count = count;
    return 0;
}

/* Check one function; returns 0 or -1 with errbuf set. */
static int
check_function(const pyprof_json_t *f, size_t index, char *errbuf,
               size_t errlen)
{
    const pyprof_json_t *lines = pyprof_json_get(f, "lines");
    if (!pyprof_json_is_string(pyprof_json_get(f, "file"))
        || !pyprof_json_is_string(pyprof_json_get(f, "name"))
        || !pyprof_json_is_number(pyprof_json_get(f, "first_line"))
        || lines == NULL || lines->kind != PYPROF_JSON_ARRAY) {
        snprintf(errbuf, errlen, "not a pyprof line profile: function %zu "
                 "lacks file, name, first_line or lines", index);
        return -1;
    }
    for (const pyprof_json_t *l = lines->first; l != NULL; l = l->next) {
        const pyprof_json_t *no = pyprof_json_get(l, "line");
        if (!pyprof_json_is_number(no)
            || !pyprof_json_is_number(pyprof_json_get(l, "hits"))
            || !pyprof_json_is_number(pyprof_json_get(l, "time_ns"))
            || no->number < 1 || no->number > 1e9) {
            snprintf(errbuf, errlen, "not a pyprof line profile: a line of "
                     "function %zu lacks line, hits or time_ns", index);
            return -1;
        }
    }
    return 0;
}

static void
put_function(pyprof_sink_t *out, const pyprof_json_t *f)
{
    const char *file = pyprof_json_get(f, "file")->string;
    const pyprof_json_t *lines = pyprof_json_get(f, "lines");
    pyprof_sink_puts(out, "{\"file\":");
    pyprof_escape_json(out, file);
    pyprof_sink_puts(out, ",\"name\":");
    pyprof_escape_json(out, pyprof_json_get(f, "name")->string);
    pyprof_sink_puts(out, ",\"first_line\":");
    pyprof_escape_json_number(out, pyprof_json_get(f, "first_line")->number);
    double total = 0.0;
    for (const pyprof_json_t *l = lines->first; l != NULL; l = l->next) {
        total += pyprof_json_get(l, "time_ns")->number;
    }
    pyprof_sink_puts(out, ",\"total_ns\":");
    pyprof_escape_json_number(out, total);
    pyprof_sink_puts(out, ",\"lines\":[");
    for (const pyprof_json_t *l = lines->first; l != NULL; l = l->next) {
        pyprof_sink_puts(out, l == lines->first ? "[" : ",[");
        pyprof_escape_json_number(out, pyprof_json_get(l, "line")->number);
        pyprof_sink_putc(out, ',');
        pyprof_escape_json_number(out, pyprof_json_get(l, "hits")->number);
        pyprof_sink_putc(out, ',');
        pyprof_escape_json_number(out, pyprof_json_get(l, "time_ns")->number);
        pyprof_sink_putc(out, ']');
    }
    pyprof_sink_puts(out, "],\"source\":");
    source_t src;
    if (read_source(file, &src) < 0) {
        pyprof_sink_puts(out, "null}");
        return;
    }
    pyprof_sink_putc(out, '[');
    for (const pyprof_json_t *l = lines->first; l != NULL; l = l->next) {
        size_t no = (size_t)pyprof_json_get(l, "line")->number;
        if (l != lines->first) {
            pyprof_sink_putc(out, ',');
        }
        if (no >= 1 && no <= src.count) {
            pyprof_escape_json(out, src.lines[no - 1]);
        }
        else {
            pyprof_sink_puts(out, "null");
        }
    }
    pyprof_sink_puts(out, "]}");
    free(src.text);
    free(src.lines);
}

int
pyprof_lines_report(pyprof_sink_t *out, const pyprof_json_t *doc,
                    const char *title, char *errbuf, size_t errlen)
{
    const pyprof_json_t *funcs = pyprof_json_get(doc, "functions");
    if (funcs == NULL || funcs->kind != PYPROF_JSON_ARRAY) {
        snprintf(errbuf, errlen, "not a pyprof line profile: no "
                 "\"functions\" list");
        return -1;
    }
    size_t index = 0;
    for (const pyprof_json_t *f = funcs->first; f != NULL; f = f->next) {
        if (check_function(f, index++, errbuf, errlen) < 0) {
            return -1;
        }
    }
    pyprof_html_fill_functions(out, pyprof_web_lines_html,
                               pyprof_web_lines_css, pyprof_web_lines_js,
                               title, funcs, put_function);
    if (pyprof_sink_failed(out)) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    return 0;
}
