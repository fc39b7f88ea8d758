/* mprof_file.h - mprof's .dat files: names, FUNC lines, the reader.
 *
 * The format memory_profiler's `mprof run` writes and `mprof plot` reads
 * (mprof.read_mprofile_file), one record a line:
 *     CMDLINE <command line>
 *     MEM <MiB> <seconds since the epoch>
 *     CHLD <child index> <MiB> <seconds since the epoch>
 *     FUNC <module.function> <MiB at start> <t start> <MiB at end> <t end>
 *          <nesting level>
 * Files are named mprofile_<YYYYMMDDhhmmss>.dat in the current directory.
 * (MEM/CHLD lines are written by sampler.c as they are sampled.)
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_MPROF_FILE_H
#define PYPROF_MPROF_FILE_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    double mib;
    double timestamp;
} pyprof_mprof_point_t;

typedef struct {
    char *name;         /* owned */
    double mem_start, t_start, mem_end, t_end;
    int level;          /* 0 for the outermost profiled call */
} pyprof_mprof_func_t;

typedef struct {
    char *cmdline;                  /* owned, or NULL */
    pyprof_mprof_point_t *mem;      /* owned, in file order */
    size_t nmem;
    pyprof_mprof_point_t *chld;     /* owned */
    int *chld_index;                /* owned, parallel to chld */
    size_t nchld;
    pyprof_mprof_func_t *funcs;     /* owned */
    size_t nfuncs;
    int truncated;                  /* the last line was cut short */
} pyprof_mprof_data_t;

/* Format the default file name for the local time `when` into buf
 * ("mprofile_20261125184500.dat").  Returns buf. */
char *pyprof_mprof_default_name(char *buf, size_t size, long when);

/* Non-zero when `name` (no directory) looks like mprofile_<14 digits>.dat,
 * the files `list`, `clean` and a plot without a file consider. */
int pyprof_mprof_is_profile_name(const char *name);

/* The profile files of directory `dir`, sorted oldest first (their names
 * sort by time): a new NULL-terminated array of new strings, freed with
 * pyprof_mprof_free_names; NULL when out of memory or `dir` is not
 * readable (errno set). */
char **pyprof_mprof_list(const char *dir);
void pyprof_mprof_free_names(char **names);

/* A buffer that holds any FUNC line whose name is under 512 bytes. */
#define PYPROF_MPROF_FUNC_LINE_MAX 700

/* Format one FUNC line (with '\n') into buf.  Returns buf. */
char *pyprof_mprof_format_func(char *buf, size_t size, const char *name,
                               double mem_start, double t_start,
                               double mem_end, double t_end, int level);

/* Read a .dat file.  Returns a new data set (free with
 * pyprof_mprof_data_free), or NULL after writing a one-line reason into
 * errbuf (cannot open, not an mprof file, bad line N).  A last line cut
 * short (a killed writer) is dropped and flagged in ->truncated.  A file
 * with no MEM line is not an error here: the caller decides. */
pyprof_mprof_data_t *pyprof_mprof_read(const char *path, char *errbuf,
                                       size_t errsize);
void pyprof_mprof_data_free(pyprof_mprof_data_t *data);

/* pyprof_mprof_read() on an open stream (not closed here); `path` only
 * names it in messages.  Same contract.  The fuzzer reads from memory
 * through it. */
pyprof_mprof_data_t *pyprof_mprof_read_stream(FILE *f, const char *path,
                                              char *errbuf, size_t errsize);

#endif
