/* test_filekind.c - each kind of file pyprof writes is told apart, and the
 * .lprof reader takes what the writer wrote. */
#include <stdlib.h>

#include "check.h"
#include "core/filekind.h"
#include "core/lprof_model.h"
#include "core/lprof_pickle.h"
#include "core/sink.h"

static pyprof_filekind_t
sniff(const char *text, size_t len)
{
    return pyprof_filekind_sniff((const unsigned char *)text, len);
}

void
test_filekind(void)
{
    CHECK(sniff("", 0) == PYPROF_FILE_EMPTY);
    CHECK(sniff("{\xa9\x03z", 4) == PYPROF_FILE_PSTATS);     /* ours */
    CHECK(sniff("\xfb)\x03", 3) == PYPROF_FILE_PSTATS);      /* cProfile */
    CHECK(sniff("{0", 2) == PYPROF_FILE_PSTATS);             /* empty */
    CHECK(sniff("\x80\x02" "c", 3) == PYPROF_FILE_LPROF);
    CHECK(sniff("\x80\x05\x95", 3) == PYPROF_FILE_LPROF);
    CHECK(sniff("{\"unit\": \"ns\", ", 15) == PYPROF_FILE_LINES_JSON);
    CHECK(sniff("{\"unit\": \"MiB for", 17) == PYPROF_FILE_MEMORY_JSON);
    CHECK(sniff("{\"functions\": [", 15) == PYPROF_FILE_JSON);
    CHECK(sniff("{\"$schema\":\"x\"", 14) == PYPROF_FILE_SPEEDSCOPE);
    CHECK(sniff("CMDLINE python x.py\n", 20) == PYPROF_FILE_MPROF);
    CHECK(sniff("MEM 1.0 2.0\n", 12) == PYPROF_FILE_MPROF);
    CHECK(sniff("\x1f\x8b\x08", 3) == PYPROF_FILE_PPROF);
    CHECK(sniff("<!DOCTYPE html>", 15) == PYPROF_FILE_HTML);
    CHECK(sniff("garbage", 7) == PYPROF_FILE_UNKNOWN);
    char advice[256];
    pyprof_filekind_advice(advice, sizeof(advice), "p.lprof",
                           PYPROF_FILE_LPROF);
    CHECK(strstr(advice, "p.lprof: a pickle, as line_profiler") == advice);
    CHECK(strstr(advice, "python -m line_profiler p.lprof") != NULL);

    /* The reader takes what the writer writes (hit lines only). */
    pyprof_lprof_t *model = pyprof_lprof_new();
    CHECK(model != NULL);
    pyprof_lprof_func_t *func = pyprof_lprof_add(model, "/x/a.py", "work",
                                                 10, 4);
    CHECK(func != NULL);
    for (int j = 0; j < 4 && func != NULL; j++) {
        func->lines[j].lineno = 10 + j;
    }
    if (func != NULL) {
        func->lines[2].hits = 7;
        func->lines[2].time_ns = 1234;
    }
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    pyprof_lprof_write_pickle(&sink, model);
    char errbuf[256];
    pyprof_lprof_t *again = pyprof_lprof_read_pickle(sink.data, sink.len,
                                                     errbuf, sizeof(errbuf));
    CHECK(again != NULL && again->nfuncs == 1);
    if (again != NULL && again->nfuncs == 1) {
        const pyprof_lprof_func_t *f = &again->funcs[0];
        CHECK(strcmp(f->filename, "/x/a.py") == 0);
        CHECK(strcmp(f->name, "work") == 0 && f->first_line == 10);
        CHECK(f->nlines == 3 && f->lines[2].lineno == 12);
        CHECK(f->lines[2].hits == 7 && f->lines[2].time_ns == 1234);
        CHECK(f->lines[0].hits == 0 && f->lines[1].hits == 0);
    }
    /* Truncated, and a pickle that would call os.system: refused. */
    CHECK(pyprof_lprof_read_pickle(sink.data, sink.len - 1, errbuf,
                                   sizeof(errbuf)) == NULL);
    static const char evil[] = "\x80\x02" "cos\nsystem\n"
                               "X\x02\x00\x00\x00ls\x85R.";
    CHECK(pyprof_lprof_read_pickle(evil, sizeof(evil) - 1, errbuf,
                                   sizeof(errbuf)) == NULL);
    CHECK(strstr(errbuf, "not a LineStats") != NULL);
    pyprof_sink_free_buffer(&sink);
    pyprof_lprof_free(again);
    pyprof_lprof_free(model);
}
