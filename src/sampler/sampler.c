/* sampler.c - the sampler's public entry points (see sampler.h).
 *
 * First landing: the API only, so `pyprof record` can be written against
 * it; attach and sampling answer UNSUPPORTED until the readers land.
 */
#include <stdio.h>
#include <string.h>

#include "sampler.h"

const char *
pyprof_sampler_status_name(int status)
{
    switch (status) {
    case PYPROF_SAMPLER_OK: return "ok";
    case PYPROF_SAMPLER_PERMISSION: return "permission denied";
    case PYPROF_SAMPLER_NOT_PYTHON: return "not python";
    case PYPROF_SAMPLER_UNSUPPORTED: return "unsupported python";
    case PYPROF_SAMPLER_NOT_READY: return "python not initialized";
    case PYPROF_SAMPLER_GONE: return "process gone";
    case PYPROF_SAMPLER_INCONSISTENT: return "inconsistent memory";
    case PYPROF_SAMPLER_NO_MEMORY: return "out of memory";
    case PYPROF_SAMPLER_BAD_ARGUMENT: return "bad argument";
    default: return "unknown error";
    }
}

static pyprof_sampler_t *
not_yet(int *status, char *err, size_t errlen)
{
    if (status) {
        *status = PYPROF_SAMPLER_UNSUPPORTED;
    }
    if (err && errlen) {
        snprintf(err, errlen, "the sampler is not implemented yet");
    }
    return NULL;
}

pyprof_sampler_t *
pyprof_sampler_attach(pid_t pid, int *status, char *err, size_t errlen)
{
    (void)pid;
    return not_yet(status, err, errlen);
}

pyprof_sampler_t *
pyprof_sampler_open(const pyprof_memory_reader_t *reader,
                    uint64_t runtime_addr, uint32_t version_hex, pid_t pid,
                    int *status, char *err, size_t errlen)
{
    (void)reader, (void)runtime_addr, (void)version_hex, (void)pid;
    return not_yet(status, err, errlen);
}

void
pyprof_sampler_detach(pyprof_sampler_t *sampler)
{
    (void)sampler;
}

int
pyprof_sampler_sample(pyprof_sampler_t *sampler, unsigned flags,
                      pyprof_sample_cb cb, void *ctx)
{
    (void)sampler, (void)flags, (void)cb, (void)ctx;
    return PYPROF_SAMPLER_UNSUPPORTED;
}

uint32_t
pyprof_sampler_version(const pyprof_sampler_t *sampler)
{
    (void)sampler;
    return 0;
}

pid_t
pyprof_sampler_pid(const pyprof_sampler_t *sampler)
{
    (void)sampler;
    return 0;
}

const char *
pyprof_sampler_error(const pyprof_sampler_t *sampler)
{
    (void)sampler;
    return "the sampler is not implemented yet";
}

void
pyprof_sampler_get_stats(const pyprof_sampler_t *sampler,
                         pyprof_sampler_stats_t *stats)
{
    (void)sampler;
    memset(stats, 0, sizeof(*stats));
}
