/* options.c - the option scanner of the commands that run a program.
 *
 * Not getopt: getopt permutes argv on GNU and keeps global state, and a
 * command line such as `pyprof run -s time prog.py -s x` must hand the
 * second "-s x" to the program untouched.  The scan is a cursor the caller
 * moves one option at a time, which keeps "stop at the program" trivial.
 */
#include "options.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../core/output.h"

void
pyprof_options_init(pyprof_options_t *scan, const char *command, int argc,
                    char **argv)
{
    scan->command = command;
    scan->argc = argc;
    scan->argv = argv;
    scan->index = 1;
}

const char *
pyprof_options_current(const pyprof_options_t *scan)
{
    return scan->index < scan->argc ? scan->argv[scan->index] : NULL;
}

int
pyprof_options_at_option(const pyprof_options_t *scan)
{
    const char *arg = pyprof_options_current(scan);
    return arg != NULL && arg[0] == '-' && arg[1] != '\0';
}

int
pyprof_options_at_program(pyprof_options_t *scan)
{
    if (!pyprof_options_at_option(scan)) {
        return 1;
    }
    const char *arg = pyprof_options_current(scan);
    if (strcmp(arg, "--") == 0) {
        scan->index++;
        return 1;
    }
    return strncmp(arg, "-m", 2) == 0 || strncmp(arg, "-c", 2) == 0;
}

int
pyprof_options_flag(pyprof_options_t *scan, const char *short_name,
                    const char *long_name)
{
    const char *arg = pyprof_options_current(scan);
    if (arg == NULL) {
        return 0;
    }
    if ((short_name != NULL && strcmp(arg, short_name) == 0) ||
        (long_name != NULL && strcmp(arg, long_name) == 0)) {
        scan->index++;
        return 1;
    }
    return 0;
}

int
pyprof_options_value(pyprof_options_t *scan, const char *short_name,
                     const char *long_name, const char **value)
{
    const char *arg = pyprof_options_current(scan);
    if (arg == NULL) {
        return 0;
    }
    const char *attached = NULL;    /* "-oFILE" or "--outfile=FILE" */
    const char *name = NULL;
    if (short_name != NULL && strncmp(arg, short_name, 2) == 0) {
        name = short_name;
        attached = arg[2] != '\0' ? arg + 2 : NULL;
    }
    else if (long_name != NULL) {
        size_t n = strlen(long_name);
        if (strncmp(arg, long_name, n) == 0 &&
            (arg[n] == '\0' || arg[n] == '=')) {
            name = long_name;
            attached = arg[n] == '=' ? arg + n + 1 : NULL;
        }
    }
    if (name == NULL) {
        return 0;
    }
    if (attached != NULL) {
        *value = attached;
        scan->index++;
        return 1;
    }
    if (scan->index + 1 >= scan->argc) {
        fprintf(stderr, "%s: option %s needs a value (try '%s --help')\n",
                scan->command, name, scan->command);
        return -1;
    }
    *value = scan->argv[scan->index + 1];
    scan->index += 2;
    return 1;
}

int
pyprof_options_parse_long(const pyprof_options_t *scan, const char *name,
                          const char *text, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (end == text || *end != '\0' || errno != 0 || value < min ||
        value > max) {
        if (max >= LONG_MAX / 10) {     /* a bound no one would type */
            fprintf(stderr, "%s: option %s takes a whole number of at "
                    "least %ld, not '%s'\n", scan->command, name, min, text);
        }
        else {
            fprintf(stderr,
                    "%s: option %s takes a whole number from %ld to %ld, "
                    "not '%s'\n",
                    scan->command, name, min, max, text);
        }
        return -1;
    }
    *out = value;
    return 0;
}

void
pyprof_options_unknown(const pyprof_options_t *scan)
{
    fprintf(stderr, "%s: unknown option '%s' (try '%s --help')\n",
            scan->command, pyprof_options_current(scan), scan->command);
}

char *
pyprof_options_absolute_path(const char *path)
{
    char cwd[PATH_MAX];
    if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL) {
        return strdup(path);
    }
    size_t size = strlen(cwd) + 1 + strlen(path) + 1;
    char *joined = malloc(size);
    if (joined != NULL) {
        snprintf(joined, size, "%s/%s", cwd, path);
    }
    return joined;
}

char *
pyprof_options_output_path(const char *command, const char *path)
{
    char *absolute = pyprof_options_absolute_path(path);
    if (absolute == NULL) {
        fprintf(stderr, "%s: out of memory\n", command);
        return NULL;
    }
    char errbuf[PATH_MAX + 128];
    if (pyprof_output_check(absolute, errbuf, sizeof(errbuf)) < 0) {
        /* Name the path as the user typed it. */
        const char *reason = strerror(errno);
        fprintf(stderr, "%s: cannot write %s: %s\n", command, path, reason);
        free(absolute);
        return NULL;
    }
    return absolute;
}

/* Extensions of formats some pyprof command or another tool writes: a
 * file named so is never silently given another format.  `writer` names
 * the pyprof command that writes it, for the refusal's advice. */
static const struct {
    const char *extension;
    const char *writer;
} known_extensions[] = {
    {".png", NULL}, {".jpg", NULL}, {".jpeg", NULL}, {".gif", NULL},
    {".bmp", NULL}, {".tif", NULL}, {".tiff", NULL}, {".webp", NULL},
    {".pdf", NULL}, {".ps", NULL}, {".eps", NULL},
    {".svg", "pyprof view --flamegraph or pyprof mprof plot"},
    {".html", "pyprof view -o"}, {".htm", "pyprof view -o"},
    {".speedscope.json", "pyprof export"}, {".trace.json", "pyprof export"},
    {".json", "pyprof lines or pyprof memory"},
    {".txt", "pyprof lines or pyprof memory"},
    {".lprof", "pyprof lines"}, {".dat", "pyprof mprof run"},
    {".pstats", "pyprof run or pyprof stats"},
    {".pb.gz", "pyprof export"}, {".pprof", "pyprof export"},
    {".collapsed", "pyprof export"}, {".folded", "pyprof export"},
    {".csv", NULL},
};

static int
has_suffix(const char *path, const char *suffix)
{
    size_t n = strlen(path), m = strlen(suffix);
    return n > m && strcasecmp(path + n - m, suffix) == 0;
}

int
pyprof_options_has_extension(const char *path, const char *extension)
{
    return has_suffix(path, extension);
}

/* The index of the first of `suffixes` that `path` ends with, or -1. */
static int
suffix_index(const char *path, const char *const *suffixes, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (has_suffix(path, suffixes[i])) {
            return (int)i;
        }
    }
    return -1;
}

int
pyprof_options_output_format(const char *command, const char *path,
                             const char *const *suffixes, size_t count)
{
    int found = suffix_index(path, suffixes, count);
    if (found >= 0) {
        return found;
    }
    size_t nknown = sizeof(known_extensions) / sizeof(known_extensions[0]);
    for (size_t k = 0; k < nknown; k++) {
        const char *extension = known_extensions[k].extension;
        if (!has_suffix(path, extension)) {
            continue;
        }
        fprintf(stderr, "%s: cannot write %s as %s: it writes", command,
                path, extension + 1);
        for (size_t i = 0; i < count; i++) {
            fprintf(stderr, "%s %s", i == 0 ? "" : i + 1 == count
                                                  ? " or" : ",",
                    suffixes[i]);
        }
        if (known_extensions[k].writer != NULL) {
            fprintf(stderr, " (%s writes %s)", known_extensions[k].writer,
                    extension);
        }
        fputs("\n", stderr);
        return -1;
    }
    return 0;
}
