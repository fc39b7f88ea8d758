/* calltree_file.h - exact call paths kept beside a pstats profile.
 *
 * A pstats file holds caller->callee pairs only; a flame graph drawn from
 * them is a guess.  pyprof's engine records one node per call path, so
 * `pyprof run -o` appends that tree to the pstats file as a trailer.
 * marshal.load() (what pstats, SnakeViz and gprof2dot use) stops after the
 * dict and ignores the trailer, so the file stays a plain pstats file for
 * every other tool.
 *
 * Trailer layout (all integers little-endian):
 *     "PYPROF-PATHS-v1\n"          16 bytes, start of the body
 *     u32 nfuncs                   functions of the pstats dict, in order
 *     u32 nnodes                   nodes, the root (node 0) included
 *     nnodes x { u32 parent; u32 func; i64 calls; f64 tottime; f64 cumtime }
 *     u64 body length              from the body's magic to here
 *     "PYPROFPT"                   8 bytes: the file ends with this
 * A node's parent has a smaller index; node 0 is the root (func ignored).
 * `func` indexes the functions in the order the pstats dict lists them,
 * which is the order pyprof's reader interns them.
 *
 * The pathtree type is also the form every flame-graph-like report
 * consumes, whether the paths are exact or rebuilt from pairs.
 *
 * Plain C: never includes Python.h.  The reader is fuzzed.
 */
#ifndef PYPROF_CALLTREE_FILE_H
#define PYPROF_CALLTREE_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "sink.h"
#include "stats.h"

#define PYPROF_PATH_NO_FUNC UINT32_MAX

typedef struct {
    uint32_t parent;    /* index of the parent node; 0 for the root itself */
    uint32_t func;      /* function index in the pstats model, or
                           PYPROF_PATH_NO_FUNC for the root */
    int64_t calls;      /* calls along this exact path */
    double tottime;     /* seconds in the function itself on this path */
    double cumtime;     /* seconds including callees on this path */
} pyprof_path_node_t;

typedef struct {
    pyprof_path_node_t *nodes;  /* owned; nodes[0] is the root */
    uint32_t count;
    uint32_t capacity;
    int exact;          /* 1: recorded paths; 0: rebuilt from pairs */
    int truncated;      /* 1: the rebuild stopped at its node budget */
} pyprof_pathtree_t;

/* An empty tree holding only the root.  Returns 0, or -1 when out of
 * memory (the tree is then safe to free). */
int pyprof_pathtree_init(pyprof_pathtree_t *tree);

/* Release what the tree owns; safe on a zeroed or failed tree. */
void pyprof_pathtree_free(pyprof_pathtree_t *tree);

/* Append a node; returns its index, or PYPROF_PATH_NO_FUNC when out of
 * memory or when parent is not an existing node. */
uint32_t pyprof_pathtree_add(pyprof_pathtree_t *tree, uint32_t parent,
                             uint32_t func, int64_t calls, double tottime,
                             double cumtime);

/* Append the trailer for `tree`, whose functions index a model of
 * `nfuncs` functions, to `out`. */
void pyprof_pathtree_serialize(pyprof_sink_t *out,
                               const pyprof_pathtree_t *tree, size_t nfuncs);

/* Look for a trailer at the end of `data`.  Returns 1 and fills `tree`
 * (which must be initialised and empty but for the root) when a valid
 * trailer for a model of `nfuncs` functions is there; 0 when the data has
 * no trailer; -1 with a one-line reason in errbuf when a trailer is there
 * but damaged or does not match the model. */
int pyprof_pathtree_parse_trailer(pyprof_pathtree_t *tree,
                                  const unsigned char *data, size_t len,
                                  size_t nfuncs, char *errbuf, size_t errlen);

/* Read the file at `path` and look for its trailer, as above. */
int pyprof_pathtree_read_file(pyprof_pathtree_t *tree, const char *path,
                              size_t nfuncs, char *errbuf, size_t errlen);

#endif
