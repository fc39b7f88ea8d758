/* output.c - writing a finished file through its path (see output.h). */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Write all of buf to fd, retrying short writes and EINTR; 0 or -1 with
 * errno set. */
static int
write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t put = write(fd, buf, len);
        if (put < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        if (put == 0) {
            errno = EIO;
            return -1;
        }
        buf += put;
        len -= (size_t)put;
    }
    return 0;
}

static int
fail(const char *path, int error, char *errbuf, size_t errlen)
{
    snprintf(errbuf, errlen, "%s: %s", path, strerror(error));
    errno = error;
    return -1;
}

int
pyprof_output_write(const char *path, const char *data, size_t len,
                    char *errbuf, size_t errlen)
{
    if (strcmp(path, "-") == 0) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
            return fail("stdout", errno, errbuf, errlen);
        }
        return 0;
    }
    int fd;
    do {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY,
                  0666);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        return fail(path, errno, errbuf, errlen);
    }
    if (write_all(fd, data, len) < 0) {
        int error = errno;
        close(fd);
        return fail(path, error, errbuf, errlen);
    }
    /* close() reports what a deferred write found (NFS, quotas). */
    if (close(fd) < 0 && errno != EINTR) {
        return fail(path, errno, errbuf, errlen);
    }
    return 0;
}

int
pyprof_output_check(const char *path, char *errbuf, size_t errlen)
{
    if (strcmp(path, "-") == 0) {
        return 0;
    }
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            return fail(path, EISDIR, errbuf, errlen);
        }
        if (!S_ISREG(st.st_mode)) {
            return access(path, W_OK) == 0 ? 0
                                           : fail(path, errno, errbuf, errlen);
        }
        int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
            return fail(path, errno, errbuf, errlen);
        }
        close(fd);
        return 0;
    }
    if (errno != ENOENT) {
        return fail(path, errno, errbuf, errlen);
    }
    if (lstat(path, &st) == 0) {
        return 0;   /* a dangling symlink: open() will create its target */
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
                  0666);
    if (fd < 0) {
        return fail(path, errno, errbuf, errlen);
    }
    close(fd);
    unlink(path);
    return 0;
}

/* Set once the reader of stdout went away; never cleared.  A process-wide
 * fact, set and read by the CLI's one thread (with the GIL held). */
static int stdout_pipe_closed;

int
pyprof_output_pipe_closed(int err)
{
    /* errno alone is not enough: a sink's failed fwrite may be followed
     * by a fflush that returns 0.  A pipe (or socket) with no reader
     * left polls as an error. */
    struct pollfd out = {STDOUT_FILENO, POLLOUT, 0};
    if (err != EPIPE && !stdout_pipe_closed &&
        !(poll(&out, 1, 0) == 1 && (out.revents & (POLLERR | POLLHUP)))) {
        return 0;
    }
    if (!stdout_pipe_closed) {
        int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (devnull >= 0) {
            dup2(devnull, STDOUT_FILENO);
            close(devnull);
            clearerr(stdout);
        }
        stdout_pipe_closed = 1;
    }
    return 1;
}

int
pyprof_output_failure_status(void)
{
    return stdout_pipe_closed ? PYPROF_EXIT_PIPE_CLOSED : 1;
}
