/* pstats_file.h - read and write pstats files (marshalled dicts) in C.
 *
 * A pstats file is marshal.dump() of {(file, line, name): (cc, nc, tt, ct,
 * {(file, line, name): (nc, cc, tt, ct)})}.  The reader accepts what any
 * CPython 3.x marshal writes for such a dict (references, interned and
 * short strings, small and long ints, binary and text floats) and rejects
 * anything else with a message; it never trusts a length or a reference
 * index it has not checked, and it is fuzzed.  The writer emits marshal
 * version 4 that pstats in CPython 3.10-3.13 loads.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_PSTATS_FILE_H
#define PYPROF_PSTATS_FILE_H

#include <stddef.h>
#include "sink.h"
#include "stats.h"

/* Parse a pstats image from memory into `stats`: into an empty model the
 * values go as they are (pstats.Stats(file)), into a non-empty one they
 * are parsed alone and then merged (pstats.Stats.add), so that totals and
 * -0.0 come out as pstats has them.  The image may hold an empty dict.
 * Returns 0, or -1 with a one-line reason in errbuf (stats may then hold
 * part of the data and should be discarded).
 *
 * Refused although marshal would load them: NaN times (their sort order
 * would depend on the sort algorithm), integer times beyond 2**53, ints
 * beyond int64, NUL characters in names, a function or caller listed
 * twice, a caller without an entry of its own, and the old profile
 * module's integer caller counts. */
int pyprof_pstats_parse(pyprof_stats_t *stats, const unsigned char *data,
                        size_t len, char *errbuf, size_t errlen);

/* Read the file at `path` into `stats` as pyprof_pstats_parse does, and
 * record it as a source (path and st_mtime) for the report header.  Like
 * pstats, refuses a file whose dict is empty.  Returns 0, or -1 with
 * "PATH: reason" in errbuf (stats may then hold part of the data and
 * should be discarded). */
int pyprof_pstats_read_file(pyprof_stats_t *stats, const char *path,
                            char *errbuf, size_t errlen);

/* Serialise `stats` as a pstats image into `out`. */
void pyprof_pstats_serialize(pyprof_sink_t *out, const pyprof_stats_t *stats);

/* Write `stats` to `path`, through the path as cProfile does (output.h:
 * symlinks, FIFOs, devices, links and the mode are kept; every write is
 * checked).  Returns 0, or -1 with "PATH: reason" in errbuf. */
int pyprof_pstats_write_file(const pyprof_stats_t *stats, const char *path,
                             char *errbuf, size_t errlen);

/* The same, with `extra` bytes after the marshalled dict (marshal.load and
 * this reader ignore them; calltree_file.h's trailer goes there). */
int pyprof_pstats_write_file_extra(const pyprof_stats_t *stats,
                                   const void *extra, size_t extra_len,
                                   const char *path, char *errbuf,
                                   size_t errlen);

#endif
