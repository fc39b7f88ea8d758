/* test_output.c - the output writer and the check made before a run. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/output.h"

static size_t
file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (size_t)st.st_size : (size_t)-1;
}

void
test_output(void)
{
    char dir[] = "/tmp/pyprof-output-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[128], missing[128], nested[128];
    snprintf(path, sizeof(path), "%s/kept", dir);
    snprintf(missing, sizeof(missing), "%s/fresh", dir);
    snprintf(nested, sizeof(nested), "%s/no/such", dir);
    char errbuf[256];

    /* An existing file is checked without being truncated. */
    CHECK(pyprof_output_write(path, "old data", 8, errbuf, sizeof(errbuf))
          == 0);
    CHECK(pyprof_output_check(path, errbuf, sizeof(errbuf)) == 0);
    CHECK(file_size(path) == 8);
    /* A missing file is created and removed again. */
    CHECK(pyprof_output_check(missing, errbuf, sizeof(errbuf)) == 0);
    CHECK(access(missing, F_OK) != 0);
    /* A missing directory and a directory are refused, naming the path. */
    CHECK(pyprof_output_check(nested, errbuf, sizeof(errbuf)) < 0);
    CHECK(errno == ENOENT && strstr(errbuf, nested) == errbuf);
    CHECK(pyprof_output_check(dir, errbuf, sizeof(errbuf)) < 0);
    CHECK(errno == EISDIR);
    CHECK(pyprof_output_write(dir, "x", 1, errbuf, sizeof(errbuf)) < 0);
    /* A rewrite keeps the file's mode and shortens it. */
    CHECK(chmod(path, 0600) == 0);
    CHECK(pyprof_output_write(path, "new", 3, errbuf, sizeof(errbuf)) == 0);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(st.st_size == 3);
    unlink(path);
    rmdir(dir);
}
