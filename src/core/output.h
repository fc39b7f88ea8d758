/* output.h - write a finished file where the user asked, the one way every
 * command and API writes one.
 *
 * Files are rendered into a memory sink first, then written whole through
 * the path, as cProfile's dump_stats and kernprof do: open(path,
 * O_WRONLY|O_CREAT|O_TRUNC, 0666 & ~umask), following symlinks.  So a
 * symlink is written through, a hard link and the file's mode survive, a
 * FIFO's reader gets the bytes, and a device (/dev/null) stays a device --
 * a temporary file renamed over the path would replace each of them.  Every
 * write() and the close() are checked: ENOSPC on /dev/full is an error
 * naming the path.  The price: a write that fails half-way (disk full)
 * leaves a truncated file, as cProfile's would.  A reader of stdout that
 * goes away (a pipe into `head`) is not an error to report.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_OUTPUT_H
#define PYPROF_OUTPUT_H

#include <stddef.h>

/* Write len bytes of data to `path` ("-" for stdout).  Returns 0, or -1
 * with "PATH: strerror" in errbuf and errno set. */
int pyprof_output_write(const char *path, const char *data, size_t len,
                        char *errbuf, size_t errlen);

/* Before a program runs whose results go to `path`: can it be written?
 * Answers as an open() at the end would, without changing anything: an
 * existing regular file is opened for writing and closed, never truncated
 * (the program may still fail before anything is written, and the file
 * must then keep what it held); a missing one is created with O_EXCL and
 * removed again; a FIFO or device is only checked with access(W_OK) (an
 * open would hand a FIFO's reader an early end of file); a directory is
 * EISDIR.  "-" is always writable.  Returns 0, or -1 with "PATH: strerror"
 * in errbuf. */
int pyprof_output_check(const char *path, char *errbuf, size_t errlen);

/* The exit status of a command whose report could not be printed because
 * the reader of its standard output went away (`pyprof run x.py | head`):
 * what a shell reports for a tool that SIGPIPE stopped.  Like such a
 * tool, the command says nothing about it on stderr. */
#define PYPROF_EXIT_PIPE_CLOSED 141

/* Non-zero when stdout's reader went away: `err` (the errno of a failed
 * write to stdout) is EPIPE, or stdout is a pipe that polls as closed.
 * Then stdout's descriptor is pointed at /dev/null, so that nothing
 * written after it fails again (python's own flush at exit included), and
 * pyprof_output_failure_status() knows. */
int pyprof_output_pipe_closed(int err);

/* The exit status for a report that could not be written: 1, or
 * PYPROF_EXIT_PIPE_CLOSED once pyprof_output_pipe_closed() said so. */
int pyprof_output_failure_status(void);

#endif
