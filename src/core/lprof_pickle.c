/* lprof_pickle.c - a minimal pickle writer for line_profiler's LineStats.
 *
 * Only the opcodes this one object needs: PROTO, GLOBAL, BINUNICODE,
 * BININT/LONG1, BINFLOAT, tuples, lists, dicts, REDUCE, STOP; no memo.
 */
#include "lprof_pickle.h"

#include "output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
put_u32le(pyprof_sink_t *sink, uint32_t v)
{
    unsigned char b[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff,
                          (v >> 24) & 0xff};
    pyprof_sink_write(sink, b, 4);
}

static void
put_str(pyprof_sink_t *sink, const char *text)
{
    size_t n = strlen(text);
    pyprof_sink_putc(sink, 'X'); /* BINUNICODE: u32 length + UTF-8 */
    put_u32le(sink, (uint32_t)n);
    pyprof_sink_write(sink, text, n);
}

static void
put_int(pyprof_sink_t *sink, int64_t v)
{
    if (v >= INT32_MIN && v <= INT32_MAX) {
        pyprof_sink_putc(sink, 'J'); /* BININT: signed 32-bit LE */
        put_u32le(sink, (uint32_t)(int32_t)v);
        return;
    }
    /* LONG1: little-endian two's complement, 8 bytes is always enough */
    unsigned char b[8];
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++) {
        b[i] = (u >> (8 * i)) & 0xff;
    }
    pyprof_sink_putc(sink, (char)0x8a);
    pyprof_sink_putc(sink, 8);
    pyprof_sink_write(sink, b, 8);
}

static void
put_float(pyprof_sink_t *sink, double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof(u));
    unsigned char b[8];
    for (int i = 0; i < 8; i++) {
        b[i] = (u >> (56 - 8 * i)) & 0xff; /* big-endian */
    }
    pyprof_sink_putc(sink, 'G');
    pyprof_sink_write(sink, b, 8);
}

void
pyprof_lprof_write_pickle(pyprof_sink_t *sink, const pyprof_lprof_t *model)
{
    pyprof_sink_write(sink, "\x80\x02", 2); /* PROTO 2 */
    pyprof_sink_puts(sink, "cline_profiler._line_profiler\nLineStats\n");
    pyprof_sink_putc(sink, '}'); /* EMPTY_DICT: timings */
    for (size_t i = 0; i < model->nfuncs; i++) {
        const pyprof_lprof_func_t *func = &model->funcs[i];
        put_str(sink, func->filename);
        put_int(sink, func->first_line);
        put_str(sink, func->name);
        pyprof_sink_putc(sink, (char)0x87); /* TUPLE3 */
        pyprof_sink_putc(sink, ']');        /* EMPTY_LIST */
        int open = 0;
        for (size_t j = 0; j < func->nlines; j++) {
            const pyprof_lprof_line_t *line = &func->lines[j];
            if (line->hits == 0) {
                continue; /* line_profiler lists hit lines only */
            }
            if (!open) {
                pyprof_sink_putc(sink, '('); /* MARK */
                open = 1;
            }
            put_int(sink, line->lineno);
            put_int(sink, (int64_t)line->hits);
            put_int(sink, line->time_ns);
            pyprof_sink_putc(sink, (char)0x87);
        }
        if (open) {
            pyprof_sink_putc(sink, 'e'); /* APPENDS */
        }
        pyprof_sink_putc(sink, 's'); /* SETITEM */
    }
    put_float(sink, 1e-9);
    pyprof_sink_putc(sink, (char)0x86); /* TUPLE2: (timings, unit) */
    pyprof_sink_putc(sink, 'R');        /* REDUCE: LineStats(*args) */
    pyprof_sink_putc(sink, '.');        /* STOP */
}

int
pyprof_lprof_write_pickle_file(const pyprof_lprof_t *model, const char *path,
                               char *errbuf, size_t errbuf_size)
{
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    pyprof_lprof_write_pickle(&sink, model);
    if (pyprof_sink_failed(&sink)) {
        pyprof_sink_free_buffer(&sink);
        snprintf(errbuf, errbuf_size, "%s: out of memory", path);
        return -1;
    }
    int rc = pyprof_output_write(path, sink.data, sink.len, errbuf,
                                 errbuf_size);
    pyprof_sink_free_buffer(&sink);
    return rc;
}
