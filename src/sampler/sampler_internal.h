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
#include "sampler.h"
#include "tasks.h"

#define PYPROF_SAMPLER_ERROR_MAX 512

/* Remote addresses of what a walk reads first: the first interpreter,
 * its GIL, its first thread state and that thread's CFrame (3.11-3.12);
 * 0 = unknown. */
typedef struct {
    uint64_t interp, gil, tstate, cframe;
} pyprof_prefetch_addrs_t;

/* Speculative reads: each sample reads, in the same syscall as the
 * interpreter list head, what the last sample found at `want`'s
 * addresses; the walk uses a prefetched value only when it arrives at
 * the very address it was read at (`got`), and reads normally otherwise,
 * so a stale guess costs nothing but the bytes. */
/* A frame of the walk, before its code object is looked at. */
typedef struct {
    uint64_t code;          /* the code object */
    uint64_t instr;         /* 3.10's f_lasti, else the instruction ptr */
} pyprof_frame_step_t;

typedef struct {
    pyprof_prefetch_addrs_t want;   /* for the next sample */
    pyprof_prefetch_addrs_t got;    /* read by this sample's first read */
    uint64_t interp_fields[4];      /* next, threads head, id, GIL ptr */
    int32_t gil_locked;
    uint64_t gil_holder;
    uint64_t cframe_frame;          /* the CFrame's current frame */
    unsigned char *tstate;          /* BUFFER_BYTES, in sampler->buffer */
} pyprof_prefetch_t;

struct pyprof_sampler {
    pyprof_remote_t remote;
    pyprof_layout_t layout;
    uint64_t runtime_addr;
    pid_t pid;
    pyprof_codecache_t codes;
    pyprof_tasks_t tasks;
    pyprof_frame_t *frames;        /* PYPROF_SAMPLER_MAX_FRAMES */
    unsigned char *buffer;         /* two frames, a code head and a
                                      prefetched thread state */
    pyprof_prefetch_t prefetch;
    pyprof_frame_step_t *steps;    /* one thread's frames (walk_frames) */
    unsigned char *code_heads;     /* PYPROF_MEMORY_MAX_READV code heads */
    pyprof_sampler_stats_t stats;
    char binary[PATH_MAX];         /* the ELF file _PyRuntime came from */
    char error[PYPROF_SAMPLER_ERROR_MAX];
};

#endif
