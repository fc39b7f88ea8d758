/* recording.h - what a sampling profiler saw, as a calling-context tree.
 *
 * Each sample is a stack of frames, outermost first: the process (pid and
 * command) and the thread (id and name) as the two outermost frames, then
 * the Python frames, each a function (file, first line, qualified name)
 * and the line it was running (the innermost frame's current line, every
 * other frame's call site).  The recording counts samples per distinct
 * stack, in a tree with one node per (function, line) path, so every
 * exact call path survives, and with it every line.
 *
 * From the tree come the forms the rest of pyprof reads:
 *   - pstats' model (core/stats.h), functions keyed (file, first line,
 *     qualified name) as cProfile keys them, with the convention of
 *     CPython's own sampler (profiling.sampling): primitive calls = self
 *     samples, calls = samples with the function on the stack (once per
 *     sample, however deep the recursion), tottime and cumtime = those
 *     counts / the rate; caller edges likewise;
 *   - the function-level call-path tree (core/calltree_file.h) that view
 *     and export draw;
 *   - pprof (report/pprof_export.h), with a location per (function, line).
 * Process and thread frames are pseudo-functions named like built-ins
 * ("~", 0, "<process 123 python app.py>", "<thread 456 MainThread>").
 *
 * The file `pyprof record -o FILE` writes is a pstats file (pstats,
 * SnakeViz, `pyprof stats`/`view`/`export` read it) followed by the sample
 * section below and then the call-path trailer of calltree_file.h, which
 * stays last so existing readers find it:
 *     "PYPROF-SAMPLE-v1"           16 bytes, start of the section
 *     u32 nfuncs                   functions of the pstats dict
 *     u32 nnodes                   nodes, the root (node 0) included
 *     f64 rate_hz; i64 start_unix_ns; i64 duration_ns;
 *     i64 ticks_expected; i64 ticks_taken; i64 errors;
 *     u32 flags; u32 reserved (0)
 *     nnodes x { u32 parent; u32 func; i32 line; u32 reserved; i64 samples }
 *     u64 section length           from the section's magic to here
 *     "PYPROFSM"
 * All integers little-endian.  The reader is fuzzed.
 *
 * Plain C: never includes Python.h.  Not thread-safe.
 */
#ifndef PYPROF_RECORDING_H
#define PYPROF_RECORDING_H

#include <stddef.h>
#include <stdint.h>

#include "calltree_file.h"
#include "sink.h"
#include "stats.h"

#define PYPROF_NO_FUNCTION UINT32_MAX

/* What a recording counted (flags). */
#define PYPROF_RECORD_IDLE 1u           /* idle threads too (wall time) */
#define PYPROF_RECORD_GIL 2u            /* only the GIL holder */
#define PYPROF_RECORD_BLOCKING 4u       /* threads stopped for each sample */
#define PYPROF_RECORD_SUBPROCESSES 8u   /* descendants followed */

typedef struct {
    double rate_hz;             /* requested sampling rate */
    int64_t start_unix_ns;      /* wall-clock time the recording began */
    int64_t duration_ns;
    int64_t ticks_expected;     /* sampling rounds due (schedule.h) */
    int64_t ticks_taken;        /* rounds actually made */
    int64_t errors;             /* stacks that could not be read */
    uint32_t flags;             /* PYPROF_RECORD_* */
} pyprof_recording_info_t;

typedef struct {
    uint32_t func;              /* from pyprof_recording_function() */
    int32_t line;               /* running line; 0 when unknown */
} pyprof_frame_ref_t;

typedef struct {
    uint32_t parent;            /* smaller than the node's own index */
    uint32_t func;              /* PYPROF_NO_FUNCTION for the root */
    int32_t line;
    int64_t samples;            /* samples whose innermost frame this is */
} pyprof_sample_node_t;

typedef struct pyprof_recording pyprof_recording_t;

/* An empty recording, or NULL when out of memory. */
pyprof_recording_t *pyprof_recording_new(void);
void pyprof_recording_free(pyprof_recording_t *rec);

/* The recording's header numbers, for the recorder to fill in. */
pyprof_recording_info_t *pyprof_recording_info(pyprof_recording_t *rec);

/* The index of a function, interned (strings copied); PYPROF_NO_FUNCTION
 * when out of memory. */
uint32_t pyprof_recording_function(pyprof_recording_t *rec,
                                   const char *filename, long firstlineno,
                                   const char *qualname);

/* The pseudo-functions of a process and a thread frame. */
uint32_t pyprof_recording_process(pyprof_recording_t *rec, long pid,
                                  const char *command);
uint32_t pyprof_recording_thread(pyprof_recording_t *rec, long tid,
                                 const char *name);

/* Count `count` samples of the stack frames[0..n) (outermost first).
 * Returns 0, or -1 when out of memory or a function index is unknown. */
int pyprof_recording_add(pyprof_recording_t *rec,
                         const pyprof_frame_ref_t *frames, size_t n,
                         int64_t count);

/* Samples counted so far. */
int64_t pyprof_recording_samples(const pyprof_recording_t *rec);

/* Borrowed views: the function table (names only; counts are zero) and
 * the nodes, valid until the recording changes. */
const pyprof_stats_t *pyprof_recording_functions(
    const pyprof_recording_t *rec);
const pyprof_sample_node_t *pyprof_recording_nodes(
    const pyprof_recording_t *rec, uint32_t *count);

/* pstats' model of the recording (a new model owned by the caller; its
 * functions are in the order of the recording's) and the function-level
 * call-path tree (initialised by the callee; times in seconds, calls =
 * samples through the path).  Returns 0, or -1 when out of memory
 * (nothing to free then). */
int pyprof_recording_export(const pyprof_recording_t *rec,
                            pyprof_stats_t **stats_out,
                            pyprof_pathtree_t *tree);

/* The same, with one microsecond per sample in place of the rate's
 * period: for collapsed stacks, whose integers must count samples (what
 * record -o x.collapsed, py-spy and flamegraph.pl write). */
int pyprof_recording_export_counts(const pyprof_recording_t *rec,
                                   pyprof_stats_t **stats_out,
                                   pyprof_pathtree_t *tree);

/* The whole file image described above into `out`.  Returns 0, or -1
 * when out of memory. */
int pyprof_recording_serialize(const pyprof_recording_t *rec,
                               pyprof_sink_t *out);

/* Read a recording from a file image: the pstats dict for the function
 * names and the sample section.  Returns 1 with *rec_out set (owned by the
 * caller), 0 when the image is a profile but not a recording, -1 with a
 * one-line reason in errbuf when it is damaged. */
int pyprof_recording_parse(const unsigned char *data, size_t len,
                           pyprof_recording_t **rec_out, char *errbuf,
                           size_t errlen);

/* The same for the file at `path` (errors start with "PATH: "). */
int pyprof_recording_read_file(const char *path,
                               pyprof_recording_t **rec_out, char *errbuf,
                               size_t errlen);

#endif
