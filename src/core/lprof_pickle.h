/* lprof_pickle.h - line timings as a line_profiler .lprof file, both ways.
 *
 * A .lprof file is a pickle of line_profiler's LineStats: `timings`
 * {(filename, first_line, name): [(lineno, hits, time), ...]} (only lines
 * that were hit, time in units of `unit` seconds) and `unit`.  We write
 * pickle protocol 2 that calls line_profiler._line_profiler.LineStats(
 * timings, unit) on load (REDUCE): the class both line_profiler 4.x and
 * 5.x define there (5.x re-exports a subclass from .line_profiler), so
 * `python -m line_profiler F.lprof` of either prints it.  Times are
 * written in nanoseconds with unit 1e-9, as line_profiler does on Linux.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_LPROF_PICKLE_H
#define PYPROF_LPROF_PICKLE_H

#include "lprof_model.h"
#include "sink.h"

/* Serialize `model` into `sink`. */
void pyprof_lprof_write_pickle(pyprof_sink_t *sink,
                               const pyprof_lprof_t *model);

/* Write `model` to the file `path`, through the path (output.h).
 * Returns 0, or -1 with "PATH: reason" in errbuf. */
int pyprof_lprof_write_pickle_file(const pyprof_lprof_t *model,
                                   const char *path, char *errbuf,
                                   size_t errbuf_size);

/* Read a .lprof (ours, or pickle.dump of line_profiler's LineStats as
 * kernprof writes it) without running anything: a strict reader of the
 * opcodes those use (fuzzed, fuzz/lprof_fuzzer.c).  Each function gets
 * every line from its first line to its last hit line (unhit lines with
 * zero hits), times in ns.  Returns a new model (pyprof_lprof_free), or
 * NULL with a one-line reason in errbuf. */
pyprof_lprof_t *pyprof_lprof_read_pickle(const void *data, size_t len,
                                         char *errbuf, size_t errlen);

#endif
