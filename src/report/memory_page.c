/* memory_page.c - fill web/memlines.html from a memory-profile JSON
 * document (see memory_page.h). */
#include "memory_page.h"

#include <stdio.h>
#include <string.h>

#include "escape.h"
#include "html_report.h"
#include "web_assets.h"

/* What pyprof_memory_report_json writes as the document's "unit". */
#define MEMORY_UNIT "MiB for memory, bytes for allocations"

static int
is_number_or_null(const pyprof_json_t *v)
{
    return pyprof_json_is_number(v)
           || (v != NULL && v->kind == PYPROF_JSON_NULL);
}

int
pyprof_memory_page_is_profile(const pyprof_json_t *doc)
{
    const pyprof_json_t *unit = pyprof_json_get(doc, "unit");
    return pyprof_json_is_string(unit)
           && strcmp(unit->string, MEMORY_UNIT) == 0;
}

/* Check one function; returns 0 or -1 with errbuf set. */
static int
check_function(const pyprof_json_t *f, size_t index, char *errbuf,
               size_t errlen)
{
    const pyprof_json_t *lines = pyprof_json_get(f, "lines");
    if (!pyprof_json_is_string(pyprof_json_get(f, "filename"))
        || !pyprof_json_is_string(pyprof_json_get(f, "name"))
        || !pyprof_json_is_number(pyprof_json_get(f, "first_line"))
        || lines == NULL || lines->kind != PYPROF_JSON_ARRAY) {
        snprintf(errbuf, errlen, "not a pyprof memory profile: function %zu "
                 "lacks filename, name, first_line or lines", index);
        return -1;
    }
    for (const pyprof_json_t *l = lines->first; l != NULL; l = l->next) {
        const pyprof_json_t *no = pyprof_json_get(l, "lineno");
        if (!pyprof_json_is_number(no) || no->number < 1
            || no->number > 1e9
            || !is_number_or_null(pyprof_json_get(l, "mem_usage"))
            || !is_number_or_null(pyprof_json_get(l, "increment"))
            || !pyprof_json_is_number(pyprof_json_get(l, "occurrences"))
            || !pyprof_json_is_number(pyprof_json_get(l, "allocated_bytes"))
            || !pyprof_json_is_number(pyprof_json_get(l, "alive_bytes"))
            || !pyprof_json_is_string(pyprof_json_get(l, "contents"))) {
            snprintf(errbuf, errlen, "not a pyprof memory profile: a line "
                     "of function %zu lacks one of lineno, mem_usage, "
                     "increment, occurrences, allocated_bytes, alive_bytes, "
                     "contents", index);
            return -1;
        }
    }
    return 0;
}

static void
put_number_or_null(pyprof_sink_t *out, const pyprof_json_t *v)
{
    if (v->kind == PYPROF_JSON_NULL) {
        pyprof_sink_puts(out, "null");
    }
    else {
        pyprof_escape_json_number(out, v->number);
    }
}

/* A function as the page reads it: {"file", "name", "first_line",
 * "lines": [[lineno, usage, increment, occurrences, allocated, alive,
 * contents]]}. */
static void
put_function(pyprof_sink_t *out, const pyprof_json_t *f)
{
    const pyprof_json_t *lines = pyprof_json_get(f, "lines");
    pyprof_sink_puts(out, "{\"file\":");
    pyprof_escape_json(out, pyprof_json_get(f, "filename")->string);
    pyprof_sink_puts(out, ",\"name\":");
    pyprof_escape_json(out, pyprof_json_get(f, "name")->string);
    pyprof_sink_puts(out, ",\"first_line\":");
    pyprof_escape_json_number(out, pyprof_json_get(f, "first_line")->number);
    pyprof_sink_puts(out, ",\"lines\":[");
    for (const pyprof_json_t *l = lines->first; l != NULL; l = l->next) {
        pyprof_sink_puts(out, l == lines->first ? "[" : ",[");
        pyprof_escape_json_number(out, pyprof_json_get(l, "lineno")->number);
        pyprof_sink_putc(out, ',');
        put_number_or_null(out, pyprof_json_get(l, "mem_usage"));
        pyprof_sink_putc(out, ',');
        put_number_or_null(out, pyprof_json_get(l, "increment"));
        static const char *const counts[] = {"occurrences", "allocated_bytes",
                                             "alive_bytes"};
        for (size_t i = 0; i < sizeof(counts) / sizeof(*counts); i++) {
            pyprof_sink_putc(out, ',');
            pyprof_escape_json_number(out,
                                      pyprof_json_get(l, counts[i])->number);
        }
        pyprof_sink_putc(out, ',');
        pyprof_escape_json(out, pyprof_json_get(l, "contents")->string);
        pyprof_sink_putc(out, ']');
    }
    pyprof_sink_puts(out, "]}");
}

int
pyprof_memory_page(pyprof_sink_t *out, const pyprof_json_t *doc,
                   const char *title, char *errbuf, size_t errlen)
{
    const pyprof_json_t *funcs = pyprof_json_get(doc, "functions");
    if (funcs == NULL || funcs->kind != PYPROF_JSON_ARRAY) {
        snprintf(errbuf, errlen, "not a pyprof memory profile: no "
                 "\"functions\" list");
        return -1;
    }
    size_t index = 0;
    for (const pyprof_json_t *f = funcs->first; f != NULL; f = f->next) {
        if (check_function(f, index++, errbuf, errlen) < 0) {
            return -1;
        }
    }
    pyprof_html_fill_functions(out, pyprof_web_memlines_html,
                               pyprof_web_lines_css, pyprof_web_memlines_js,
                               title, funcs, put_function);
    if (pyprof_sink_failed(out)) {
        snprintf(errbuf, errlen, "out of memory");
        return -1;
    }
    return 0;
}
