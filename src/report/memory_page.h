/* memory_page.h - `pyprof view` of a memory profile: each function's
 * lines with memory_profiler's columns, the bytes each line allocated and
 * still has alive, and a bar per line for its share of the allocations.
 *
 * Input is the JSON `pyprof memory -o FILE.json` writes ({"unit": "MiB
 * for memory, bytes for allocations", "functions": [{"filename", "name",
 * "first_line", "lines": [{"lineno", "mem_usage", "increment",
 * "occurrences", "allocated_bytes", "alive_bytes", "contents"}]}]}),
 * parsed by json_reader.h and checked field by field, then re-emitted
 * (never copied through) into web/memlines.html with lines.css and
 * memlines.js; every string is escaped (escape.h).
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_MEMORY_PAGE_H
#define PYPROF_MEMORY_PAGE_H

#include <stddef.h>

#include "../core/sink.h"
#include "json_reader.h"

/* Non-zero when `doc` says it is a memory profile (its "unit"). */
int pyprof_memory_page_is_profile(const pyprof_json_t *doc);

/* Write the HTML page of the memory profile `doc` titled `title`.
 * Returns 0, or -1 with a one-line reason in errbuf (a document that is
 * not a memory profile, or out of memory). */
int pyprof_memory_page(pyprof_sink_t *out, const pyprof_json_t *doc,
                       const char *title, char *errbuf, size_t errlen);

#endif
