/* mprof_file.c - mprof .dat names, FUNC lines and the reader. */
#include "mprof_file.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/filekind.h"

char *
pyprof_mprof_default_name(char *buf, size_t size, long when)
{
    time_t t = (time_t)when;
    struct tm local;
    localtime_r(&t, &local);
    char stamp[32];
    strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &local);
    snprintf(buf, size, "mprofile_%s.dat", stamp);
    return buf;
}

int
pyprof_mprof_is_profile_name(const char *name)
{
    if (strncmp(name, "mprofile_", 9) != 0 || strlen(name) != 9 + 14 + 4) {
        return 0;
    }
    for (int i = 9; i < 9 + 14; i++) {
        if (!isdigit((unsigned char)name[i])) {
            return 0;
        }
    }
    return strcmp(name + 23, ".dat") == 0;
}

static int
compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void
pyprof_mprof_free_names(char **names)
{
    if (names != NULL) {
        for (char **p = names; *p != NULL; p++) {
            free(*p);
        }
        free(names);
    }
}

char **
pyprof_mprof_list(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        return NULL;
    }
    size_t count = 0, cap = 16;
    char **names = calloc(cap + 1, sizeof(*names));
    struct dirent *entry;
    while (names != NULL && (entry = readdir(d)) != NULL) {
        if (!pyprof_mprof_is_profile_name(entry->d_name)) {
            continue;
        }
        if (count == cap) {
            char **grown = realloc(names, (cap * 2 + 1) * sizeof(*names));
            if (grown == NULL) {
                pyprof_mprof_free_names(names);
                names = NULL;
                break;
            }
            names = grown;
            cap *= 2;
        }
        names[count] = strdup(entry->d_name);
        names[count + 1] = NULL;
        if (names[count] == NULL) {
            pyprof_mprof_free_names(names);
            names = NULL;
            break;
        }
        count++;
    }
    closedir(d);
    if (names == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    qsort(names, count, sizeof(*names), compare_names);
    return names;
}

/* `value` as "%.4f" would print it, into `out` (32 bytes), returned.  By
 * hand for finite values below 1e13 (memory in MiB, Unix timestamps);
 * the last digit can differ from printf's exact conversion only when the
 * value lies within about 1e-12 of a rounding tie (5M random values: no
 * difference).  Anything else goes to snprintf. */
static const char *
format_fixed4(char *out, double value)
{
    if (!(value > -1e13 && value < 1e13)) {
        snprintf(out, 32, "%.4f", value);
        return out;
    }
    int negative = signbit(value) != 0;  /* printf writes "-0.0000" */
    double magnitude = negative ? -value : value;
    /* The whole part and the fraction separately (both exact), so only
     * the fraction is scaled: ties are then the only values that can
     * round otherwise than printf does. */
    double whole = floor(magnitude);
    double fraction = (magnitude - whole) * 10000.0;
    double kept = floor(fraction);
    double rest = fraction - kept;
    unsigned long long scaled = (unsigned long long)whole * 10000ULL
                                + (unsigned long long)kept;
    if (rest > 0.5 || (rest == 0.5 && (scaled & 1))) {
        scaled++;   /* printf rounds exact ties to even */
    }
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + scaled % 10);
        scaled /= 10;
    } while (scaled > 0 || n < 5);  /* at least "0.0000" */
    char *p = out;
    if (negative) {
        *p++ = '-';
    }
    while (n > 4) {
        *p++ = digits[--n];
    }
    *p++ = '.';
    while (n > 0) {
        *p++ = digits[--n];
    }
    *p = '\0';
    return out;
}

char *
pyprof_mprof_format_func(char *buf, size_t size, const char *name,
                         double mem_start, double t_start, double mem_end,
                         double t_end, int level)
{
    /* memory_profiler's own "FUNC %s %.4f %.4f %.4f %.4f %d\n", with the
     * numbers formatted by hand: printf's exact float conversion was a
     * third of the cost of a FUNC record of a function called in a loop. */
    char a[32], b[32], c[32], d[32];
    snprintf(buf, size, "FUNC %s %s %s %s %s %d\n", name,
             format_fixed4(a, mem_start), format_fixed4(b, t_start),
             format_fixed4(c, mem_end), format_fixed4(d, t_end), level);
    return buf;
}

void
pyprof_mprof_data_free(pyprof_mprof_data_t *data)
{
    if (data == NULL) {
        return;
    }
    free(data->cmdline);
    free(data->mem);
    free(data->chld);
    free(data->chld_index);
    for (size_t i = 0; i < data->nfuncs; i++) {
        free(data->funcs[i].name);
    }
    free(data->funcs);
    free(data);
}

/* Parse exactly `n` space-separated finite numbers from `text`, which
 * must then end.  Returns 0 or -1. */
static int
parse_numbers(const char *text, double *out, int n)
{
    const char *p = text;
    for (int i = 0; i < n; i++) {
        if (*p != ' ' && i > 0) {
            return -1;
        }
        while (*p == ' ') {
            p++;
        }
        if (*p == '\0') {
            return -1;
        }
        char *end;
        errno = 0;
        out[i] = strtod(p, &end);
        if (end == p || errno == ERANGE || !isfinite(out[i])) {
            return -1;
        }
        p = end;
    }
    while (*p == ' ' || *p == '\r') {
        p++;
    }
    return *p == '\0' ? 0 : -1;
}

static int
grow(void **array, size_t *cap, size_t count, size_t item)
{
    if (count < *cap) {
        return 0;
    }
    size_t ncap = *cap ? *cap * 2 : 256;
    void *grown = realloc(*array, ncap * item);
    if (grown == NULL) {
        return -1;
    }
    *array = grown;
    *cap = ncap;
    return 0;
}

static void
set_error(char *errbuf, size_t errsize, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errsize, fmt, ap);
    va_end(ap);
}

/* One complete line (no '\n') into data.  Returns 0, -1 for a malformed
 * record, -2 when out of memory. */
static int
parse_line(pyprof_mprof_data_t *data, char *line, size_t caps[3])
{
    char *space = strchr(line, ' ');
    if (space == NULL) {
        return line[0] == '\0' ? -1 : 0;  /* mprof skips unknown records */
    }
    *space = '\0';
    const char *field = line, *rest = space + 1;
    double v[5];
    if (strcmp(field, "MEM") == 0) {
        if (parse_numbers(rest, v, 2) < 0) {
            return -1;
        }
        if (grow((void **)&data->mem, &caps[0], data->nmem,
                 sizeof(*data->mem)) < 0) {
            return -2;
        }
        data->mem[data->nmem++] = (pyprof_mprof_point_t){v[0], v[1]};
    }
    else if (strcmp(field, "CHLD") == 0) {
        if (parse_numbers(rest, v, 3) < 0 || v[0] < 0 || v[0] > 1e6 ||
            v[0] != floor(v[0])) {
            return -1;
        }
        size_t cap = caps[1];
        if (grow((void **)&data->chld, &caps[1], data->nchld,
                 sizeof(*data->chld)) < 0) {
            return -2;
        }
        if (caps[1] != cap) {
            int *grown = realloc(data->chld_index, caps[1] * sizeof(int));
            if (grown == NULL) {
                return -2;
            }
            data->chld_index = grown;
        }
        data->chld_index[data->nchld] = (int)v[0];
        data->chld[data->nchld++] = (pyprof_mprof_point_t){v[1], v[2]};
    }
    else if (strcmp(field, "FUNC") == 0) {
        const char *name_end = strchr(rest, ' ');
        if (name_end == NULL || name_end == rest) {
            return -1;
        }
        /* The level (0 outermost) is optional: older memory_profiler
         * omits it. */
        double level = 0;
        if (parse_numbers(name_end, v, 4) < 0) {
            double w[5];
            if (parse_numbers(name_end, w, 5) < 0 || w[4] < 0 ||
                w[4] > 1e6) {
                return -1;
            }
            memcpy(v, w, sizeof(double) * 4);
            level = w[4];
        }
        if (grow((void **)&data->funcs, &caps[2], data->nfuncs,
                 sizeof(*data->funcs)) < 0) {
            return -2;
        }
        char *name = strndup(rest, (size_t)(name_end - rest));
        if (name == NULL) {
            return -2;
        }
        data->funcs[data->nfuncs++] = (pyprof_mprof_func_t){
            name, v[0], v[1], v[2], v[3], (int)level};
    }
    else if (strcmp(field, "CMDLINE") == 0) {
        free(data->cmdline);
        data->cmdline = strdup(rest);
        if (data->cmdline == NULL) {
            return -2;
        }
    }
    return 0;
}

pyprof_mprof_data_t *
pyprof_mprof_read_stream(FILE *f, const char *path, char *errbuf,
                         size_t errsize)
{
    pyprof_mprof_data_t *data = calloc(1, sizeof(*data));
    char *line = NULL;
    size_t linecap = 0, caps[3] = {0, 0, 0};
    long number = 0;
    ssize_t n;
    if (data == NULL) {
        goto nomem;
    }
    while ((n = getline(&line, &linecap, f)) > 0) {
        number++;
        if (line[n - 1] != '\n') {
            /* The writer was killed mid-line: keep what came before. */
            data->truncated = 1;
            break;
        }
        line[n - 1] = '\0';
        if (memchr(line, '\0', (size_t)n - 1) != NULL) {
            set_error(errbuf, errsize, "%s: line %ld: binary data, not an "
                      "mprof profile", path, number);
            goto error;
        }
        char copy_start[16];
        snprintf(copy_start, sizeof(copy_start), "%s", line);
        int rc = parse_line(data, line, caps);
        if (rc == -2) {
            goto nomem;
        }
        if (rc < 0) {
            set_error(errbuf, errsize, "%s: line %ld: malformed '%s' "
                      "record, not an mprof profile", path, number,
                      copy_start[0] ? strtok(copy_start, " ") : "");
            goto error;
        }
    }
    if (ferror(f)) {
        set_error(errbuf, errsize, "cannot read %s: %s", path,
                  strerror(errno));
        goto error;
    }
    free(line);
    return data;
nomem:
    set_error(errbuf, errsize, "out of memory reading %s", path);
error:
    free(line);
    pyprof_mprof_data_free(data);
    return NULL;
}

pyprof_mprof_data_t *
pyprof_mprof_read(const char *path, char *errbuf, size_t errsize)
{
    /* Another kind of file (a JSON profile, a pstats file) is named, not
     * read as a .dat without samples; a directory is EISDIR. */
    pyprof_filekind_t kind;
    if (pyprof_filekind_of_path(path, &kind, errbuf, errsize) < 0) {
        return NULL;
    }
    if (kind != PYPROF_FILE_MPROF && kind != PYPROF_FILE_EMPTY
        && kind != PYPROF_FILE_UNKNOWN) {
        pyprof_filekind_advice(errbuf, errsize, path, kind);
        return NULL;
    }
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        set_error(errbuf, errsize, "%s: %s", path, strerror(errno));
        return NULL;
    }
    pyprof_mprof_data_t *data = pyprof_mprof_read_stream(f, path, errbuf,
                                                         errsize);
    fclose(f);
    return data;
}
