/* sink.c - FILE* or growable-buffer output with a sticky error flag. */
#include "sink.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void
pyprof_sink_init_file(pyprof_sink_t *sink, FILE *file)
{
    memset(sink, 0, sizeof(*sink));
    sink->file = file;
}

void
pyprof_sink_init_buffer(pyprof_sink_t *sink)
{
    memset(sink, 0, sizeof(*sink));
}

/* Make room for n more bytes plus a NUL in a buffer sink. */
static int
reserve(pyprof_sink_t *sink, size_t n)
{
    if (sink->len + n + 1 <= sink->cap) {
        return 0;
    }
    if (n > SIZE_MAX / 2 - sink->len) {
        return -1;
    }
    size_t cap = sink->cap ? sink->cap : 256;
    while (cap < sink->len + n + 1) {
        cap *= 2;
    }
    char *grown = realloc(sink->data, cap);
    if (grown == NULL) {
        return -1;
    }
    sink->data = grown;
    sink->cap = cap;
    return 0;
}

void
pyprof_sink_write(pyprof_sink_t *sink, const void *bytes, size_t n)
{
    if (sink->failed || n == 0) {
        return;
    }
    if (sink->file != NULL) {
        if (fwrite(bytes, 1, n, sink->file) != n) {
            sink->failed = 1;
        }
        return;
    }
    if (reserve(sink, n) < 0) {
        sink->failed = 1;
        return;
    }
    memcpy(sink->data + sink->len, bytes, n);
    sink->len += n;
    sink->data[sink->len] = '\0';
}

void
pyprof_sink_puts(pyprof_sink_t *sink, const char *text)
{
    pyprof_sink_write(sink, text, strlen(text));
}

void
pyprof_sink_putc(pyprof_sink_t *sink, int c)
{
    char ch = (char)c;
    pyprof_sink_write(sink, &ch, 1);
}

void
pyprof_sink_vprintf(pyprof_sink_t *sink, const char *fmt, va_list ap)
{
    if (sink->failed) {
        return;
    }
    char small[256];
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    if (n < 0) {
        sink->failed = 1;
    }
    else if ((size_t)n < sizeof(small)) {
        pyprof_sink_write(sink, small, (size_t)n);
    }
    else {
        char *big = malloc((size_t)n + 1);
        if (big == NULL) {
            sink->failed = 1;
        }
        else {
            vsnprintf(big, (size_t)n + 1, fmt, again);
            pyprof_sink_write(sink, big, (size_t)n);
            free(big);
        }
    }
    va_end(again);
}

void
pyprof_sink_printf(pyprof_sink_t *sink, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pyprof_sink_vprintf(sink, fmt, ap);
    va_end(ap);
}

int
pyprof_sink_failed(const pyprof_sink_t *sink)
{
    return sink->failed;
}

char *
pyprof_sink_take(pyprof_sink_t *sink, size_t *len_out)
{
    if (sink->failed) {
        return NULL;
    }
    if (sink->data == NULL && reserve(sink, 0) < 0) {
        return NULL;
    }
    char *data = sink->data;
    data[sink->len] = '\0';
    if (len_out != NULL) {
        *len_out = sink->len;
    }
    sink->data = NULL;
    sink->len = sink->cap = 0;
    return data;
}

void
pyprof_sink_free_buffer(pyprof_sink_t *sink)
{
    free(sink->data);
    sink->data = NULL;
    sink->len = sink->cap = 0;
}
