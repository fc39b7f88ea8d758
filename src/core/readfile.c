/* readfile.c - the whole of a file, read through read(2) so that a
 * directory fails with EISDIR and a signal does not cut the read short. */
#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

unsigned char *
pyprof_read_file(const char *path, size_t max, size_t *len_out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return NULL;
    }
    unsigned char *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            if (cap > max) {
                errno = EFBIG;
                goto error;
            }
            size_t grown_cap = cap ? cap * 2 : 65536;
            unsigned char *grown = realloc(data, grown_cap + 1);
            if (grown == NULL) {
                errno = ENOMEM;
                goto error;
            }
            data = grown;
            cap = grown_cap;
        }
        ssize_t got = read(fd, data + len, cap - len);
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            goto error;
        }
        if (got == 0) {
            break;
        }
        len += (size_t)got;
    }
    if (len > max) {
        errno = EFBIG;
        goto error;
    }
    close(fd);
    data[len] = '\0';
    *len_out = len;
    return data;
error: {
    int saved = errno;
    free(data);
    close(fd);
    errno = saved;
    return NULL;
}
}
