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

struct pyprof_sampler {
    pyprof_remote_t remote;
    pyprof_layout_t layout;
    uint64_t runtime_addr;
    pid_t pid;
    pyprof_codecache_t codes;
    pyprof_tasks_t tasks;
    pyprof_frame_t *frames;        /* PYPROF_SAMPLER_MAX_FRAMES */
    unsigned char *buffer;         /* one thread state, frame or code head */
    pyprof_sampler_stats_t stats;
    char binary[PATH_MAX];         /* the ELF file _PyRuntime came from */
    char error[PYPROF_SAMPLER_ERROR_MAX];
};

#endif
