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

/* All reads in one process_vm_readv.  A short count says only that some
 * read failed: the reads are then redone one by one, so the status is
 * that of the one that fails (or 0 when memory changed back meanwhile). */
static int
process_readv(void *ctx, const pyprof_memory_read_t *reads, size_t count)
{
    struct iovec local[PYPROF_MEMORY_MAX_READV];
    struct iovec remote[PYPROF_MEMORY_MAX_READV];
    size_t total = 0, n = 0;
    if (count > PYPROF_MEMORY_MAX_READV) {
        return PYPROF_SAMPLER_BAD_ARGUMENT;
    }
    for (size_t i = 0; i < count; i++) {
        if (reads[i].len == 0) {
            continue;
        }
        if (reads[i].addr == 0 || reads[i].addr + reads[i].len < reads[i].addr) {
            return PYPROF_SAMPLER_INCONSISTENT;
        }
        local[n] = (struct iovec){reads[i].buf, reads[i].len};
        remote[n] = (struct iovec){(void *)(uintptr_t)reads[i].addr,
                                   reads[i].len};
        total += reads[i].len;
        n++;
    }
    if (n == 0) {
        return 0;
    }
    pid_t pid = (pid_t)(intptr_t)ctx;
    if (process_vm_readv(pid, local, n, remote, n, 0) == (ssize_t)total) {
        return 0;
    }
    for (size_t i = 0; i < count; i++) {
        int rc = process_read(ctx, reads[i].addr, reads[i].buf, reads[i].len);
        if (rc) {
            return rc;
        }
    }
    return 0;
}

/* The calls of one gather at most: a plan whose ranges keep failing is
 * not worth a syscall per range. */
#define MAX_GATHER_CALLS 4

/* reads[first..count) in one process_vm_readv: marks ok[] for the reads
 * copied whole and returns the index after the one that failed (count
 * when none did); -status when the process cannot be read at all.
 * Reads whose buffers follow one another (a snapshot's) copy through one
 * local iovec: the kernel imports fewer iovecs. */
static long
gather_from(pid_t pid, const pyprof_memory_read_t *reads, size_t first,
            size_t count, unsigned char *ok)
{
    struct iovec local[PYPROF_MEMORY_MAX_GATHER]; /* 40 KiB of stack */
    struct iovec remote[PYPROF_MEMORY_MAX_GATHER];
    size_t index[PYPROF_MEMORY_MAX_GATHER];
    size_t n = 0, nlocal = 0;
    for (size_t i = first; i < count; i++) {
        if (reads[i].len == 0 || reads[i].addr == 0
            || reads[i].addr + reads[i].len < reads[i].addr) {
            ok[i] = reads[i].len == 0;
            continue;
        }
        struct iovec *last = nlocal ? &local[nlocal - 1] : NULL;
        if (last != NULL
            && (char *)last->iov_base + last->iov_len == reads[i].buf) {
            last->iov_len += reads[i].len;
        }
        else {
            local[nlocal++] = (struct iovec){reads[i].buf, reads[i].len};
        }
        remote[n] = (struct iovec){(void *)(uintptr_t)reads[i].addr,
                                   reads[i].len};
        index[n++] = i;
    }
    if (n == 0) {
        return (long)count;
    }
    ssize_t got = process_vm_readv(pid, local, nlocal, remote, n, 0);
    if (got < 0) {
        if (errno == ESRCH) {
            return -PYPROF_SAMPLER_GONE;
        }
        if (errno == EPERM || errno == EACCES) {
            return -PYPROF_SAMPLER_PERMISSION;
        }
        got = 0;    /* EFAULT: the first read failed */
    }
    size_t done = 0;
    for (size_t k = 0; k < n; k++) {
        if (done + remote[k].iov_len > (size_t)got) {
            return (long)index[k] + 1;  /* torn or failed: not ok */
        }
        done += remote[k].iov_len;
        ok[index[k]] = 1;
    }
    return (long)count;
}

static int
process_gather(void *ctx, const pyprof_memory_read_t *reads, size_t count,
               unsigned char *ok)
{
    pid_t pid = (pid_t)(intptr_t)ctx;
    memset(ok, 0, count);
    if (count > PYPROF_MEMORY_MAX_GATHER) {
        count = PYPROF_MEMORY_MAX_GATHER;
    }
    size_t next = 0;
    for (int call = 0; next < count && call < MAX_GATHER_CALLS; call++) {
        long after = gather_from(pid, reads, next, count, ok);
        if (after < 0) {
            return (int)-after;
        }
        next = (size_t)after;
    }
    return 0;
}

void
pyprof_memory_process(pyprof_memory_reader_t *reader, pid_t pid)
{
    reader->read = process_read;
    reader->readv = process_readv;
    reader->gather = process_gather;
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
    reader->readv = NULL;
    reader->gather = NULL;
    reader->ctx = (void *)image;
}
