/* sampler_internal.h - the sampler's state, shared by sampler.c (walking
 * threads and frames) and attach.c (finding the interpreter of a pid).
 * Not an API: nothing outside src/sampler/ includes it.
 */
#ifndef PYPROF_SAMPLER_INTERNAL_H
#define PYPROF_SAMPLER_INTERNAL_H

#include <limits.h>

#include "codecache.h"
#include "objects.h"
#include "offsets.h"
#include "snapshot.h"
#include "sampler.h"
#include "tasks.h"
#include "threadnames.h"

#define PYPROF_SAMPLER_ERROR_MAX 512

/* A frame of the walk, before its code object is looked at. */
typedef struct {
    uint64_t code;          /* the code object */
    uint64_t instr;         /* 3.10's f_lasti, else the instruction ptr */
} pyprof_frame_step_t;

struct pyprof_sampler {
    pyprof_remote_t remote;
    pyprof_layout_t layout;
    uint64_t runtime_addr;
    pid_t pid;
    pyprof_codecache_t codes;
    pyprof_tasks_t tasks;
    pyprof_threadnames_t names;    /* threading names (main interpreter) */
    uint64_t names_due_interp;     /* read the names of this interpreter */
    uint64_t names_due_ns;         /* ... as of then, after the sample */
    pyprof_frame_t *frames;        /* PYPROF_SAMPLER_MAX_FRAMES */
    unsigned char *buffer;         /* a window of frames (frame_bytes) */
    pyprof_snapshot_t snapshot;    /* the last sample's reads, re-read */
    pyprof_frame_step_t *steps;    /* one thread's frames (walk_frames) */
    unsigned char *code_heads;     /* PYPROF_MEMORY_MAX_READV code heads */
    pyprof_sampler_stats_t stats;
    char binary[PATH_MAX];         /* the ELF file _PyRuntime came from */
    char error[PYPROF_SAMPLER_ERROR_MAX];
};

#endif
