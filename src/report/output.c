/* output.c - whole-file writes for reports (see output.h). */
#include "output.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
pyprof_output_write(const char *path, const char *data, size_t len,
                    char *errbuf, size_t errlen)
{
    if (strcmp(path, "-") == 0) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
            snprintf(errbuf, errlen, "stdout: %s", strerror(errno));
            return -1;
        }
        return 0;
    }
    size_t size = strlen(path) + 32;
    char *tmp = malloc(size);
    if (tmp == NULL) {
        snprintf(errbuf, errlen, "%s: out of memory", path);
        return -1;
    }
    snprintf(tmp, size, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (f == NULL) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    int bad = fwrite(data, 1, len, f) != len;
    int saved = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    if (!bad && rename(tmp, path) != 0) {
        bad = 1;
        saved = errno;
    }
    if (bad) {
        snprintf(errbuf, errlen, "%s: %s", path, strerror(saved));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}
