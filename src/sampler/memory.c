/* memory.c - the process_vm_readv reader and the image reader.
 *
 * A live read that copies fewer bytes than asked is a torn range (the
 * target unmapped it, or the address was nonsense): INCONSISTENT, so the
 * sample is dropped.  ESRCH is a process that exited; EPERM a permission
 * the caller explains (see attach.c).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include "memory.h"
#include "sampler.h"

static int
process_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    pid_t pid = (pid_t)(intptr_t)ctx;
    if (len == 0) {
        return 0;
    }
    if (addr == 0 || addr + len < addr) {
        return PYPROF_SAMPLER_INCONSISTENT;
    }
    struct iovec local = {buf, len};
    struct iovec remote = {(void *)(uintptr_t)addr, len};
    ssize_t got = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (got == (ssize_t)len) {
        return 0;
    }
    if (got >= 0) {
        return PYPROF_SAMPLER_INCONSISTENT;
    }
    switch (errno) {
    case ESRCH:
        return PYPROF_SAMPLER_GONE;
    case EPERM:
    case EACCES:
        return PYPROF_SAMPLER_PERMISSION;
    case ENOMEM:
        return PYPROF_SAMPLER_NO_MEMORY;
    default:
        return PYPROF_SAMPLER_INCONSISTENT; /* EFAULT: unmapped */
    }
}

void
pyprof_memory_process(pyprof_memory_reader_t *reader, pid_t pid)
{
    reader->read = process_read;
    reader->ctx = (void *)(intptr_t)pid;
}

static int
image_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    const pyprof_memory_image_t *image = ctx;
    if (addr + len < addr) {
        return PYPROF_SAMPLER_INCONSISTENT;
    }
    for (size_t i = 0; i < image->nranges; i++) {
        const pyprof_memory_range_t *range = &image->ranges[i];
        if (addr >= range->addr && addr - range->addr <= range->len
            && len <= range->len - (addr - range->addr)) {
            if (len > 0) {
                memcpy(buf, range->data + (addr - range->addr), len);
            }
            return 0;
        }
    }
    return PYPROF_SAMPLER_INCONSISTENT;
}

void
pyprof_memory_image(pyprof_memory_reader_t *reader,
                    const pyprof_memory_image_t *image)
{
    reader->read = image_read;
    reader->ctx = (void *)image;
}
