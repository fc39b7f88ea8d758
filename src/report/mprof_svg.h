/* mprof_svg.h - `mprof plot` without matplotlib: a memory timeline as SVG.
 *
 * Draws what mprof plot draws from a .dat file: memory (MiB) against time
 * (seconds since the first sample) with labelled axes, one line per child
 * process, the peak marked, and a pair of brackets per profiled function
 * call (from its memory at entry to its memory at return), coloured and
 * named in a legend per function.  Every string from the file (command
 * line, function names) is XML-escaped.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_MPROF_SVG_H
#define PYPROF_MPROF_SVG_H

#include "../core/sink.h"
#include "../memory/mprof_file.h"

/* Write the SVG of `data` (which has at least one MEM sample) to `sink`;
 * `title` (may be NULL: the command line is used) heads the chart.
 * Errors are the sink's (sticky). */
void pyprof_mprof_svg_write(pyprof_sink_t *sink,
                            const pyprof_mprof_data_t *data,
                            const char *title);

/* Write `text` XML-escaped (& < > " ') to `sink`; control characters
 * other than tab become spaces (they are not allowed in XML 1.0). */
void pyprof_svg_escape(pyprof_sink_t *sink, const char *text);

#endif
