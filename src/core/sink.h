/* sink.h - where text and bytes go: a FILE* or a growable memory buffer.
 *
 * Writers (reports, file formats) take a sink instead of a FILE* so the
 * same renderer can print to a terminal, fill a Python string, or build a
 * file in memory before writing it whole (output.h).  Errors are sticky:
 * after the first failed write (ENOMEM, EIO) every later write is a no-op
 * and pyprof_sink_failed() tells the caller once, at the end.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_SINK_H
#define PYPROF_SINK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

typedef struct pyprof_sink {
    FILE *file;      /* target when writing to a stream, else NULL */
    char *data;      /* buffer when writing to memory (owned), else NULL */
    size_t len;      /* bytes used in data */
    size_t cap;      /* bytes allocated in data */
    int failed;      /* sticky: set by the first failed write */
} pyprof_sink_t;

/* A sink writing to an open stream (not owned, not closed by the sink). */
void pyprof_sink_init_file(pyprof_sink_t *sink, FILE *file);

/* A sink writing to a growable buffer owned by the sink; free it with
 * pyprof_sink_free_buffer(), or take it with pyprof_sink_take(). */
void pyprof_sink_init_buffer(pyprof_sink_t *sink);

void pyprof_sink_write(pyprof_sink_t *sink, const void *bytes, size_t n);
void pyprof_sink_puts(pyprof_sink_t *sink, const char *text);
void pyprof_sink_putc(pyprof_sink_t *sink, int c);
void pyprof_sink_printf(pyprof_sink_t *sink, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void pyprof_sink_vprintf(pyprof_sink_t *sink, const char *fmt, va_list ap);

/* Non-zero once any write has failed. */
int pyprof_sink_failed(const pyprof_sink_t *sink);

/* Buffer sinks: hand the NUL-terminated buffer to the caller (who frees it
 * with free()) and reset the sink to empty; *len_out receives its length.
 * Returns NULL if the sink failed. */
char *pyprof_sink_take(pyprof_sink_t *sink, size_t *len_out);

/* Buffer sinks: release the buffer. */
void pyprof_sink_free_buffer(pyprof_sink_t *sink);

#endif
