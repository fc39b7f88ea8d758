/* escape.h - the one place strings from a profiled program are made safe.
 *
 * Function and file names come from the program being profiled and can
 * hold anything: "<script>", quotes, newlines, bytes that are not UTF-8.
 * Every writer of HTML, SVG, JSON, collapsed stacks or callgrind passes
 * such strings through one of these functions, never straight to the sink.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_ESCAPE_H
#define PYPROF_ESCAPE_H

#include "../core/sink.h"

/* Text for HTML or XML (SVG) content and quoted attribute values: & < > "
 * ' become entities; C0 controls other than tab and newline (not allowed
 * in XML) and bytes that are not UTF-8 become U+FFFD. */
void pyprof_escape_markup(pyprof_sink_t *out, const char *text);

/* A JSON string literal, quotes included.  Besides what JSON requires,
 * < > & and U+2028/U+2029 are written as \u escapes so the JSON can sit
 * inside an HTML <script> element without ending it; invalid UTF-8
 * becomes U+FFFD, so the output is always valid UTF-8 JSON. */
void pyprof_escape_json(pyprof_sink_t *out, const char *text);

/* A JSON number for a double: finite values with 10 significant digits
 * at most, non-finite ones as 0 (JSON has no NaN). */
void pyprof_escape_json_number(pyprof_sink_t *out, double value);

/* One field of a line-oriented format (collapsed stacks, callgrind):
 * newlines and carriage returns become spaces, and every byte in
 * `forbidden` (e.g. ";" for collapsed stacks) becomes `replacement`. */
void pyprof_escape_line_field(pyprof_sink_t *out, const char *text,
                              const char *forbidden, char replacement);

#endif
