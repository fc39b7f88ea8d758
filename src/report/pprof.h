/* pprof.h - pprof's profile.proto, written by hand.
 *
 * `go tool pprof`, Pyroscope, Parca and Grafana read a gzip-compressed
 * perftools.profiles.Profile message.  pyprof needs nothing at run time but
 * CPython, so this encodes the protobuf itself (varints, packed repeated
 * fields) and gzips it with core/gzip.h.  A builder collects the profile:
 * strings, functions and locations are interned (one Function per (name,
 * file, first line), one Location per (function, line)), samples are
 * encoded as they are added, and pyprof_pprof_write() serializes the
 * Profile in field order.  No mapping is written: Python locations have no
 * address (mapping_id 0 means unknown).
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_PPROF_H
#define PYPROF_PPROF_H

#include <stddef.h>
#include <stdint.h>

#include "../core/sink.h"

typedef struct pyprof_pprof pyprof_pprof_t;

/* A string or numeric label of a sample (pprof's Label: str when `str` is
 * not NULL, else num). */
typedef struct {
    const char *key;
    const char *str;
    int64_t num;
} pyprof_pprof_label_t;

/* An empty profile, or NULL when out of memory. */
pyprof_pprof_t *pyprof_pprof_new(void);
void pyprof_pprof_free(pyprof_pprof_t *prof);

/* Append a sample type (e.g. "samples"/"count", "cpu"/"nanoseconds");
 * every sample then carries one value per type, in this order.  Returns
 * 0, or -1 when out of memory. */
int pyprof_pprof_add_sample_type(pyprof_pprof_t *prof, const char *type,
                                 const char *unit);

/* The period: `period` units of `type` between samples.  Returns 0, or -1
 * when out of memory. */
int pyprof_pprof_set_period(pyprof_pprof_t *prof, const char *type,
                            const char *unit, int64_t period);

/* When the profile was collected (ns since the epoch) and for how long. */
void pyprof_pprof_set_time(pyprof_pprof_t *prof, int64_t time_nanos,
                           int64_t duration_nanos);

/* A free-form comment (`go tool pprof -comments` prints them).  Returns 0,
 * or -1 when out of memory. */
int pyprof_pprof_add_comment(pyprof_pprof_t *prof, const char *text);

/* The id of the location for `line` of the function (name, filename,
 * start_line), interned.  Returns 0 when out of memory (ids start at 1). */
uint64_t pyprof_pprof_location(pyprof_pprof_t *prof, const char *name,
                               const char *filename, int64_t start_line,
                               int64_t line);

/* Add a sample: `nlocations` location ids, the leaf (innermost frame)
 * first; one value per sample type; optional labels.  Returns 0, or -1
 * when out of memory. */
int pyprof_pprof_add_sample(pyprof_pprof_t *prof, const uint64_t *locations,
                            size_t nlocations, const int64_t *values,
                            const pyprof_pprof_label_t *labels,
                            size_t nlabels);

/* Number of samples added so far. */
size_t pyprof_pprof_sample_count(const pyprof_pprof_t *prof);

/* Write the gzip-compressed Profile message to `out`.  Returns 0, or -1
 * when out of memory (the sink's own errors are sticky in the sink). */
int pyprof_pprof_write(pyprof_pprof_t *prof, pyprof_sink_t *out);

/* Encode the Profile message without gzip into a new buffer sink `raw`
 * (for tests).  Returns 0, or -1 when out of memory. */
int pyprof_pprof_encode(pyprof_pprof_t *prof, pyprof_sink_t *raw);

#endif
