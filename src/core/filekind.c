/* filekind.c - telling pyprof's files apart by their first bytes. */
#include "filekind.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int
starts_with(const unsigned char *data, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(data, prefix, n) == 0;
}

static size_t
skip_space(const unsigned char *data, size_t len, size_t i)
{
    while (i < len && (data[i] == ' ' || data[i] == '\n' || data[i] == '\t'
                       || data[i] == '\r')) {
        i++;
    }
    return i;
}

/* After the '{' of a JSON object at data[i]: the kind its first member
 * says ("unit", "$schema", "traceEvents"), or UNKNOWN. */
static pyprof_filekind_t
json_kind(const unsigned char *data, size_t len, size_t i)
{
    i = skip_space(data, len, i + 1);
    static const struct {
        const char *member;
        pyprof_filekind_t kind;
    } members[] = {
        {"\"unit\"", PYPROF_FILE_UNKNOWN},
        {"\"$schema\"", PYPROF_FILE_SPEEDSCOPE},
        {"\"traceEvents\"", PYPROF_FILE_CHROME_TRACE},
    };
    for (size_t m = 0; m < sizeof(members) / sizeof(members[0]); m++) {
        if (!starts_with(data + i, len - i, members[m].member)) {
            continue;
        }
        if (members[m].kind != PYPROF_FILE_UNKNOWN) {
            return members[m].kind;
        }
        size_t v = skip_space(data, len, i + strlen(members[m].member));
        if (v < len && data[v] == ':') {
            v = skip_space(data, len, v + 1);
            if (starts_with(data + v, len - v, "\"ns\"")) {
                return PYPROF_FILE_LINES_JSON;
            }
            if (starts_with(data + v, len - v, "\"MiB")) {
                return PYPROF_FILE_MEMORY_JSON;
            }
        }
    }
    return i < len && (data[i] == '"' || data[i] == '}') ? PYPROF_FILE_JSON
                                                         : PYPROF_FILE_UNKNOWN;
}

pyprof_filekind_t
pyprof_filekind_sniff(const unsigned char *head, size_t len)
{
    if (len == 0) {
        return PYPROF_FILE_EMPTY;
    }
    /* marshal: TYPE_DICT, maybe with FLAG_REF; then the first key (a
     * tuple: '(' or small ')', maybe with FLAG_REF) or '0' (empty). */
    if ((head[0] & 0x7f) == '{' && len >= 2) {
        unsigned char next = head[1] & 0x7f;
        if (next == '(' || next == ')' || head[1] == '0') {
            return PYPROF_FILE_PSTATS;
        }
    }
    if (head[0] == 0x80 && len >= 2 && head[1] >= 2 && head[1] <= 5) {
        return PYPROF_FILE_LPROF;
    }
    if (head[0] == 0x1f && len >= 2 && head[1] == 0x8b) {
        return PYPROF_FILE_PPROF;
    }
    static const struct {
        const char *prefix;
        pyprof_filekind_t kind;
    } texts[] = {
        {"CMDLINE ", PYPROF_FILE_MPROF}, {"MEM ", PYPROF_FILE_MPROF},
        {"CHLD ", PYPROF_FILE_MPROF}, {"FUNC ", PYPROF_FILE_MPROF},
        {"# callgrind format", PYPROF_FILE_CALLGRIND},
        {"Timer unit:", PYPROF_FILE_LINES_TEXT},
        {"Filename:", PYPROF_FILE_MEMORY_TEXT},
        {"<!DOCTYPE html", PYPROF_FILE_HTML}, {"<html", PYPROF_FILE_HTML},
        {"<?xml", PYPROF_FILE_SVG}, {"<svg", PYPROF_FILE_SVG},
    };
    for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
        if (starts_with(head, len, texts[t].prefix)) {
            return texts[t].kind;
        }
    }
    size_t i = skip_space(head, len, 0);
    if (i < len && head[i] == '{') {
        return json_kind(head, len, i);
    }
    return PYPROF_FILE_UNKNOWN;
}

int
pyprof_filekind_of_path(const char *path, pyprof_filekind_t *kind,
                        char *errbuf, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    int error = 0;
    if (fd < 0) {
        error = errno;
    }
    else if (fstat(fd, &st) < 0) {
        error = errno;
    }
    else if (S_ISDIR(st.st_mode)) {
        error = EISDIR;
    }
    if (error != 0) {
        if (fd >= 0) {
            close(fd);
        }
        snprintf(errbuf, errlen, "%s: %s", path, strerror(error));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        /* A FIFO or device: reading its head would consume it. */
        close(fd);
        *kind = PYPROF_FILE_UNKNOWN;
        return 0;
    }
    unsigned char head[PYPROF_FILEKIND_HEAD];
    size_t len = 0;
    while (len < sizeof(head)) {
        ssize_t got = read(fd, head + len, sizeof(head) - len);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            error = errno;
            close(fd);
            snprintf(errbuf, errlen, "%s: %s", path, strerror(error));
            return -1;
        }
        if (got == 0) {
            break;
        }
        len += (size_t)got;
    }
    close(fd);
    *kind = pyprof_filekind_sniff(head, len);
    return 0;
}

const char *
pyprof_filekind_name(pyprof_filekind_t kind)
{
    switch (kind) {
    case PYPROF_FILE_EMPTY: return "empty";
    case PYPROF_FILE_PSTATS: return "a function profile (pstats)";
    case PYPROF_FILE_LPROF: return "a pickle, as line_profiler's .lprof is";
    case PYPROF_FILE_LINES_JSON: return "a line profile (pyprof lines JSON)";
    case PYPROF_FILE_MEMORY_JSON:
        return "a memory profile (pyprof memory JSON)";
    case PYPROF_FILE_MPROF: return "a memory timeline (mprof .dat)";
    case PYPROF_FILE_JSON: return "JSON that is not a pyprof profile";
    case PYPROF_FILE_PPROF: return "a pprof profile";
    case PYPROF_FILE_SPEEDSCOPE: return "a speedscope profile";
    case PYPROF_FILE_CHROME_TRACE: return "a Chrome trace";
    case PYPROF_FILE_CALLGRIND: return "a callgrind profile";
    case PYPROF_FILE_LINES_TEXT: return "a line profile printed as text";
    case PYPROF_FILE_MEMORY_TEXT: return "a memory profile printed as text";
    case PYPROF_FILE_HTML: return "an HTML report";
    case PYPROF_FILE_SVG: return "an SVG picture";
    case PYPROF_FILE_UNKNOWN: break;
    }
    return "not a file pyprof reads";
}

void
pyprof_filekind_advice(char *buf, size_t size, const char *path,
                       pyprof_filekind_t kind)
{
    const char *name = pyprof_filekind_name(kind);
    switch (kind) {
    case PYPROF_FILE_PSTATS:
        snprintf(buf, size, "%s: %s: use `pyprof stats %s`, `pyprof view "
                 "%s` or `pyprof export %s`", path, name, path, path, path);
        return;
    case PYPROF_FILE_LPROF:
        snprintf(buf, size, "%s: %s: use `pyprof view %s` or `python -m "
                 "line_profiler %s`", path, name, path, path);
        return;
    case PYPROF_FILE_LINES_JSON:
    case PYPROF_FILE_MEMORY_JSON:
        snprintf(buf, size, "%s: %s: use `pyprof view %s`", path, name,
                 path);
        return;
    case PYPROF_FILE_MPROF:
        snprintf(buf, size, "%s: %s: use `pyprof view %s`, `pyprof mprof "
                 "plot %s` or `pyprof mprof peak %s`", path, name, path,
                 path, path);
        return;
    case PYPROF_FILE_PPROF:
        snprintf(buf, size, "%s: %s: use `go tool pprof %s`", path, name,
                 path);
        return;
    case PYPROF_FILE_SPEEDSCOPE:
    case PYPROF_FILE_CHROME_TRACE:
    case PYPROF_FILE_CALLGRIND:
    case PYPROF_FILE_LINES_TEXT:
    case PYPROF_FILE_MEMORY_TEXT:
        snprintf(buf, size, "%s: %s that pyprof wrote for other tools "
                 "(or for reading); pyprof reads the profile it came from",
                 path, name);
        return;
    case PYPROF_FILE_JSON:
        snprintf(buf, size, "%s: %s (pyprof lines -o F.json and pyprof "
                 "memory -o F.json are read by `pyprof view`)", path, name);
        return;
    case PYPROF_FILE_HTML:
    case PYPROF_FILE_SVG:
        snprintf(buf, size, "%s: %s: open it in a browser", path, name);
        return;
    case PYPROF_FILE_EMPTY:
        snprintf(buf, size, "%s: an empty file", path);
        return;
    case PYPROF_FILE_UNKNOWN:
        break;
    }
    snprintf(buf, size, "%s: not a file pyprof reads (pstats, .lprof, "
             "pyprof's JSON or an mprof .dat)", path);
}
