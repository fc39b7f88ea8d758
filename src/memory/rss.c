/* rss.c - RSS from /proc (see rss.h). */
#include "rss.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
pyprof_rss_open(pyprof_rss_reader_t *reader, pid_t pid)
{
    char path[64];
    if (pid == 0) {
        snprintf(path, sizeof(path), "/proc/self/statm");
    }
    else {
        snprintf(path, sizeof(path), "/proc/%ld/statm", (long)pid);
    }
    reader->pid = pid;
    reader->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (reader->fd < 0 && errno == ENOENT) {
        errno = ESRCH;
    }
    return reader->fd < 0 ? -1 : 0;
}

void
pyprof_rss_close(pyprof_rss_reader_t *reader)
{
    if (reader->fd >= 0) {
        close(reader->fd);
        reader->fd = -1;
    }
}

int64_t
pyprof_rss_read(pyprof_rss_reader_t *reader)
{
    char buf[128];
    ssize_t n = pread(reader->fd, buf, sizeof(buf) - 1, 0);
    if (n <= 0) {
        if (n == 0 || errno == ENOENT) {
            errno = ESRCH;
        }
        return -1;
    }
    buf[n] = '\0';
    /* "size resident shared text lib data dt", in pages: the second
     * field.  Parsed by hand: sscanf was a tenth of the cost of an
     * `mprof run` FUNC record. */
    const char *p = buf;
    unsigned long long resident = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
        p++;
    }
    if (p == buf || *p != ' ') {
        errno = EINVAL;
        return -1;
    }
    for (p++; *p >= '0' && *p <= '9' && digits < 19; p++, digits++) {
        resident = resident * 10 + (unsigned long long)(*p - '0');
    }
    if (digits == 0 || (*p != ' ' && *p != '\n' && *p != '\0')) {
        errno = EINVAL;
        return -1;
    }
    static long page_size;  /* set once; a benign race writes the same value */
    if (page_size == 0) {
        page_size = sysconf(_SC_PAGESIZE);
    }
    return (int64_t)(resident * (unsigned long long)page_size);
}

int64_t
pyprof_rss_of_pid(pid_t pid)
{
    pyprof_rss_reader_t reader;
    if (pyprof_rss_open(&reader, pid) < 0) {
        return -1;
    }
    int64_t rss = pyprof_rss_read(&reader);
    int saved = errno;
    pyprof_rss_close(&reader);
    errno = saved;
    return rss;
}

/* The parent of `pid` from /proc/<pid>/stat, or -1.  The command name
 * (field 2) may hold spaces and parentheses: parse after the last ')'. */
static pid_t
parent_of(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        return -1;
    }
    buf[n] = '\0';
    char *close_paren = strrchr(buf, ')');
    char state;
    long ppid;
    if (close_paren == NULL ||
        sscanf(close_paren + 1, " %c %ld", &state, &ppid) != 2) {
        return -1;
    }
    return (pid_t)ppid;
}

static int
compare_pids(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

int
pyprof_rss_descendants(pid_t pid, pid_t *pids, int cap)
{
    /* One pass over /proc collecting (pid, ppid), then a closure from
     * `pid`: descendants may have a lower pid than their parent once pids
     * wrap, so a single ordered pass would miss them. */
    DIR *dir = opendir("/proc");
    if (dir == NULL) {
        return -1;
    }
    size_t count = 0, allocated = 256;
    pid_t (*pairs)[2] = malloc(allocated * sizeof(*pairs));
    if (pairs == NULL) {
        closedir(dir);
        return -1;
    }
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (!isdigit((unsigned char)entry->d_name[0])) {
            continue;
        }
        pid_t child = (pid_t)atol(entry->d_name);
        pid_t parent = parent_of(child);
        if (parent <= 0) {
            continue;
        }
        if (count == allocated) {
            allocated *= 2;
            pid_t (*grown)[2] = realloc(pairs, allocated * sizeof(*pairs));
            if (grown == NULL) {
                free(pairs);
                closedir(dir);
                return -1;
            }
            pairs = grown;
        }
        pairs[count][0] = child;
        pairs[count][1] = parent;
        count++;
    }
    closedir(dir);
    /* Mark descendants: repeat until no new one is found (depth passes). */
    char *is_desc = calloc(count ? count : 1, 1);
    if (is_desc == NULL) {
        free(pairs);
        return -1;
    }
    int found = 0, changed = 1;
    while (changed) {
        changed = 0;
        for (size_t i = 0; i < count; i++) {
            if (is_desc[i]) {
                continue;
            }
            int parent_is_desc = pairs[i][1] == pid;
            for (size_t j = 0; !parent_is_desc && j < count; j++) {
                parent_is_desc = is_desc[j] && pairs[j][0] == pairs[i][1];
            }
            if (parent_is_desc) {
                is_desc[i] = 1;
                changed = 1;
                if (found < cap) {
                    pids[found] = pairs[i][0];
                }
                found++;
            }
        }
    }
    free(is_desc);
    free(pairs);
    qsort(pids, (size_t)(found < cap ? found : cap), sizeof(pid_t),
          compare_pids);
    return found;
}
