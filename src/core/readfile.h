/* readfile.h - the whole of a file pyprof reads, in memory.
 *
 * Every reader of a profile file (pstats, call paths, recordings, line
 * profiles) takes its input whole, so their errors are alike: "PATH:
 * strerror(errno)" ("Is a directory", "No such file or directory",
 * "File too large") whoever asks.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_READFILE_H
#define PYPROF_READFILE_H

#include <stddef.h>

/* Profile files larger than this are refused rather than read into
 * memory. */
#define PYPROF_READ_MAX ((size_t)1 << 30)

/* The bytes of `path` in a new malloc'd buffer (the caller frees it),
 * followed by one NUL byte not counted in *len_out, so text readers may
 * treat it as a string.  NULL with errno set when the file cannot be
 * opened or read (EISDIR for a directory), is longer than `max` bytes
 * (EFBIG), or memory runs out (ENOMEM). */
unsigned char *pyprof_read_file(const char *path, size_t max,
                                size_t *len_out);

#endif
