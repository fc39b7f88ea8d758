/* attach.c - finding the interpreter of a live process.
 *
 * /proc/PID/maps names every mapped file; the candidates are those whose
 * name says libpython3.* or python3* (libpython first: a shared build's
 * binary has no _PyRuntime of its own).  Each is read through
 * /proc/PID/root/, so a target in a chroot or container is read from its
 * own file system, falling back to /proc/PID/map_files/ (the mapping
 * itself) for deleted or unreachable files.  _PyRuntime's address is its
 * symbol value plus the load bias: where the file's first PT_LOAD was
 * mapped minus that segment's link-time address.  The version comes from
 * the Py_Version symbol (3.11+) read out of the target, else from the file
 * name (python3.10, libpython3.10.so).
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf.h"
#include "permission.h"
#include "sampler_internal.h"

#define MAX_CANDIDATES 16

typedef struct {
    char path[PATH_MAX];       /* as the target sees it */
    uint64_t start, end;       /* the mapping at file offset 0 */
    uint64_t inode;            /* of the mapped file, to check a path */
    int is_library;
} candidate_t;

typedef struct {
    uint64_t runtime;
    uint32_t version;          /* 0: unknown */
    char path[PATH_MAX];       /* as the target sees it */
    char opened[PATH_MAX + 64]; /* as pyprof opened it */
} found_t;


static const char *
base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int
is_python_file(const char *path, int *is_library)
{
    const char *base = base_name(path);
    *is_library = strncmp(base, "libpython3", 10) == 0;
    return *is_library || strncmp(base, "python3", 7) == 0
           || strcmp(base, "python") == 0;
}

/* PY_VERSION_HEX of a file named like python3.12 or libpython3.12.so.1.0,
 * or 0. */
static uint32_t
version_from_name(const char *path)
{
    const char *at = strstr(base_name(path), "python3.");
    if (at == NULL || !isdigit((unsigned char)at[8])) {
        return 0;
    }
    long minor = strtol(at + 8, NULL, 10);
    if (minor < 0 || minor > 99) {
        return 0;
    }
    return 0x03000000u | ((uint32_t)minor << 16) | 0xF0u;
}

/* Collect the python files mapped by pid.  Returns the count, or -errno
 * when the maps cannot be read. */
static int
read_candidates(pid_t pid, candidate_t *out, int max)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    FILE *maps = fopen(path, "r");
    if (maps == NULL) {
        return -errno;
    }
    char line[PATH_MAX + 256];
    int count = 0;
    while (fgets(line, sizeof(line), maps)) {
        unsigned long long start, end, offset, inode;
        int name_at = 0;
        if (sscanf(line, "%llx-%llx %*s %llx %*s %llu %n", &start, &end,
                   &offset, &inode, &name_at) < 4 || name_at == 0
            || line[name_at] != '/' || offset != 0) {
            continue;
        }
        char *name = line + name_at;
        name[strcspn(name, "\n")] = '\0';
        char *deleted = strstr(name, " (deleted)");
        if (deleted) {
            *deleted = '\0';
        }
        int is_library, seen = 0;
        if (!is_python_file(name, &is_library)) {
            continue;
        }
        for (int i = 0; i < count; i++) {
            seen |= strcmp(out[i].path, name) == 0;
        }
        if (seen || count == max) {
            continue;
        }
        snprintf(out[count].path, sizeof(out[count].path), "%s", name);
        out[count].start = start;
        out[count].end = end;
        out[count].inode = inode;
        out[count].is_library = is_library;
        count++;
    }
    fclose(maps);
    return count;
}

/* 1 when `path` is the file the candidate mapped (same inode). */
static int
is_mapped_file(const char *path, const candidate_t *candidate)
{
    struct stat st;
    return stat(path, &st) == 0 && (uint64_t)st.st_ino == candidate->inode;
}

/* Look the symbols up in the candidate's file: the path as maps shows it
 * (relative to our root when the file is reachable from it, e.g. a chroot
 * below it), else as the target sees it, else the mapping itself. */
static int
lookup_candidate(pid_t pid, const candidate_t *candidate,
                 pyprof_elf_symbol_t *syms, size_t nsyms, uint64_t *vaddr,
                 char *path)
{
    int found = -1;
    snprintf(path, PATH_MAX + 64, "%s", candidate->path);
    if (is_mapped_file(candidate->path, candidate)) {
        found = pyprof_elf_lookup_file(candidate->path, syms, nsyms, vaddr);
    }
    if (found < 0) {
        snprintf(path, PATH_MAX + 64, "/proc/%d/root%s", (int)pid,
                 candidate->path);
        if (is_mapped_file(path, candidate)) {
            found = pyprof_elf_lookup_file(path, syms, nsyms, vaddr);
        }
    }
    if (found < 0) {
        snprintf(path, PATH_MAX + 64, "/proc/%d/map_files/%llx-%llx",
                 (int)pid, (unsigned long long)candidate->start,
                 (unsigned long long)candidate->end);
        found = pyprof_elf_lookup_file(path, syms, nsyms, vaddr);
    }
    return found;
}

/* Before Py_Version (3.10), the micro version is in Py_GetVersion()'s
 * buffer ("3.10.13 (main, ...)", the local symbol version.0 when the
 * library is not stripped), filled when the sys module is made.  0 when
 * it cannot be read. */
static uint32_t
micro_version(const pyprof_memory_reader_t *reader, uint64_t addr,
              uint32_t version)
{
    char text[16] = "";
    unsigned major, minor, micro;
    if (reader->read(reader->ctx, addr, text, sizeof(text) - 1) != 0
        || sscanf(text, "%u.%u.%u", &major, &minor, &micro) != 3
        || major != 3 || minor != ((version >> 16) & 0xff) || micro > 255) {
        return 0;
    }
    return micro;
}

static int
find_runtime(pid_t pid, const pyprof_memory_reader_t *reader,
             found_t *found, char *err, size_t errlen)
{
    candidate_t candidates[MAX_CANDIDATES];
    int count = read_candidates(pid, candidates, MAX_CANDIDATES);
    if (count == -EACCES || count == -EPERM) {
        pyprof_permission_explain(pid, err, errlen);
        return PYPROF_SAMPLER_PERMISSION;
    }
    if (count < 0) {
        snprintf(err, errlen, "no process with pid %d", (int)pid);
        return PYPROF_SAMPLER_GONE;
    }
    int denied = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < count; i++) {
            const candidate_t *candidate = &candidates[i];
            if (candidate->is_library != (pass == 0)) {
                continue;
            }
            pyprof_elf_symbol_t syms[] = {{"_PyRuntime", 0, 0},
                                          {"Py_Version", 0, 0},
                                          {"version.0", 0, 0}};
            uint64_t vaddr = 0;
            errno = 0;
            if (lookup_candidate(pid, candidate, syms, 3, &vaddr,
                                 found->opened) < 0) {
                denied |= errno == EACCES || errno == EPERM;
                continue;
            }
            if (!syms[0].found) {
                continue;
            }
            uint64_t bias = candidate->start - vaddr;
            found->runtime = bias + syms[0].value;
            found->version = version_from_name(candidate->path);
            snprintf(found->path, sizeof(found->path), "%s", candidate->path);
            if (syms[1].found) {
                uint64_t version = 0;
                int rc = reader->read(reader->ctx, bias + syms[1].value,
                                      &version, sizeof(uint32_t));
                if (rc == PYPROF_SAMPLER_PERMISSION) {
                    pyprof_permission_explain(pid, err, errlen);
                    return rc;
                }
                if (rc == 0 && (version >> 24) == 3) {
                    found->version = (uint32_t)version;
                }
            }
            else if (found->version && syms[2].found) {
                found->version |= micro_version(reader, bias + syms[2].value,
                                                found->version) << 8;
            }
            return 0;
        }
    }
    if (denied) {
        pyprof_permission_explain(pid, err, errlen);
        return PYPROF_SAMPLER_PERMISSION;
    }
    if (kill(pid, 0) < 0 && errno == ESRCH) {
        snprintf(err, errlen, "no process with pid %d", (int)pid);
        return PYPROF_SAMPLER_GONE;
    }
    char comm[64] = "?";
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
    FILE *f = fopen(path, "r");
    if (f) {
        if (fgets(comm, sizeof(comm), f)) {
            comm[strcspn(comm, "\n")] = '\0';
        }
        fclose(f);
    }
    snprintf(err, errlen,
             "pid %d (%s) is not a Python process: no python binary or "
             "libpython with a _PyRuntime symbol is mapped in it",
             (int)pid, comm);
    return PYPROF_SAMPLER_NOT_PYTHON;
}

pyprof_sampler_t *
pyprof_sampler_attach(pid_t pid, int *status, char *err, size_t errlen)
{
    char message[PYPROF_SAMPLER_ERROR_MAX];
    pyprof_memory_reader_t reader;
    found_t found;
    int rc;
    if (pid <= 0) {
        snprintf(message, sizeof(message), "%d is not a process id",
                 (int)pid);
        rc = PYPROF_SAMPLER_BAD_ARGUMENT;
        goto error;
    }
    pyprof_memory_process(&reader, pid);
    rc = find_runtime(pid, &reader, &found, message, sizeof(message));
    if (rc) {
        goto error;
    }
    if (found.version == 0) {
        snprintf(message, sizeof(message),
                 "pid %d runs a Python whose version pyprof cannot tell "
                 "(no Py_Version symbol, and %.300s names none)", (int)pid,
                 found.path);
        rc = PYPROF_SAMPLER_UNSUPPORTED;
        goto error;
    }
    pyprof_sampler_t *sampler = pyprof_sampler_open(
        &reader, found.runtime, found.version, pid, &rc, message,
        sizeof(message));
    if (sampler == NULL) {
        if (rc == PYPROF_SAMPLER_PERMISSION) {
            pyprof_permission_explain(pid, message, sizeof(message));
        }
        else if (rc == PYPROF_SAMPLER_GONE) {
            snprintf(message, sizeof(message), "pid %d exited", (int)pid);
        }
        goto error;
    }
    snprintf(sampler->binary, sizeof(sampler->binary), "%s", found.path);
    if (status) {
        *status = PYPROF_SAMPLER_OK;
    }
    return sampler;
error:
    if (status) {
        *status = rc;
    }
    if (err && errlen) {
        snprintf(err, errlen, "%s", message);
    }
    return NULL;
}
