/* test_cmd_stats.c - exit statuses of `pyprof stats` on good and bad
 * input (its output is compared with pstats in tests/test_stats.py). */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "cli/cmd_stats.h"

static int
run(int argc, const char *const *args)
{
    char *argv[16];
    for (int i = 0; i < argc; i++) {
        argv[i] = (char *)args[i];
    }
    argv[argc] = NULL;
    int status = pyprof_cmd_stats(argc, argv);
    fflush(stdout);
    return status;
}

/* A file with these bytes; returns its malloc'd path. */
static char *
make_file(const void *bytes, size_t n)
{
    char *path = strdup("/tmp/pyprof-cmd-XXXXXX");
    int fd = path ? mkstemp(path) : -1;
    if (fd < 0) {
        free(path);
        return NULL;
    }
    if (write(fd, bytes, n) != (ssize_t)n) {
        close(fd);
        unlink(path);
        free(path);
        return NULL;
    }
    close(fd);
    return path;
}

void
test_cmd_stats(void)
{
    char *good = make_file(cpython_image, cpython_image_len);
    char *bad = make_file(cpython_image, cpython_image_len / 2);
    CHECK(good != NULL && bad != NULL);
    if (good == NULL || bad == NULL) {
        free(good);
        free(bad);
        return;
    }
    /* Output goes to /dev/null: only statuses matter here. */
    FILE *saved = stdout;
    FILE *null = fopen("/dev/null", "w");
    if (null != NULL) {
        stdout = null;
    }
    const char *ok1[] = {"stats", good, "--sort", "cumulative", "-l", "2"};
    CHECK(run(6, ok1) == 0);
    const char *ok2[] = {"stats", good, good, "--strip-dirs", "--callers=.",
                         "--callees", "fib"};
    CHECK(run(7, ok2) == 0);
    const char *help[] = {"stats", "-h"};
    CHECK(run(2, help) == 0);
    const char *truncated[] = {"stats", good, bad};
    CHECK(run(3, truncated) == 2);
    const char *missing[] = {"stats", "/nonexistent.prof"};
    CHECK(run(2, missing) == 2);
    const char *no_files[] = {"stats", "--sort", "time"};
    CHECK(run(3, no_files) == 2);
    const char *bad_key[] = {"stats", good, "--sort", "cum"};
    CHECK(run(4, bad_key) == 2);
    const char *bad_limit[] = {"stats", good, "--limit", "ten"};
    CHECK(run(4, bad_limit) == 2);
    const char *no_value[] = {"stats", good, "--callers"};
    CHECK(run(3, no_value) == 2);
    const char *unknown[] = {"stats", good, "--frobnicate"};
    CHECK(run(3, unknown) == 2);
    const char *mixed[] = {"stats", good, "-s", "2", "-s", "time"};
    CHECK(run(6, mixed) == 2);
    if (null != NULL) {
        stdout = saved;
        fclose(null);
    }
    unlink(good);
    unlink(bad);
    free(good);
    free(bad);
}
