/* lines_report.h - `pyprof view` of a line profile: source with heat bars.
 *
 * Input is the JSON `pyprof lines -o FILE.json` writes ({"unit": "ns",
 * "functions": [{"file", "name", "first_line", "total_ns", "lines":
 * [{"line", "hits", "time_ns"}]}]}), parsed by json_reader.h and checked
 * field by field; each function's source lines are read from its file
 * when it is still there.  The page is web/lines.html with lines.css and
 * lines.js embedded; every string is escaped (escape.h).
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_LINES_REPORT_H
#define PYPROF_LINES_REPORT_H

#include <stddef.h>

#include "../core/sink.h"
#include "json_reader.h"

/* Non-zero when `data` looks like a JSON document (first non-blank byte
 * is '{'), as opposed to a pstats file (a marshalled dict, '{' too but
 * never after blanks and always followed by a marshal type byte): the
 * caller tries JSON when this says so. */
int pyprof_lines_looks_like_json(const unsigned char *data, size_t len);

/* Write the HTML report of the line profile `doc` titled `title`.
 * Returns 0, or -1 with a one-line reason in errbuf (a document that is
 * not a line profile, or out of memory). */
int pyprof_lines_report(pyprof_sink_t *out, const pyprof_json_t *doc,
                        const char *title, char *errbuf, size_t errlen);

#endif
