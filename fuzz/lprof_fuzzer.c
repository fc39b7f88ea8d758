/* lprof_fuzzer.c - libFuzzer target for the .lprof (pickle) reader and the
 * file-kind sniffer every command asks first.
 *
 * Whatever the reader accepts is written back as JSON (what `pyprof view`
 * draws from), as line_profiler's text and as a pickle that must read
 * back to the same model, so the names and numbers it lets through are
 * exercised too.  Nothing may crash, leak or read out of bounds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/filekind.h"
#include "core/lprof_model.h"
#include "core/lprof_pickle.h"
#include "core/lprof_text.h"
#include "core/sink.h"

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size);

/* No source from disk: the input names the files. */
static char *
no_source(void *ctx, const char *filename, size_t *len)
{
    (void)ctx, (void)filename, (void)len;
    return NULL;
}

static void
same_model(const pyprof_lprof_t *a, const pyprof_lprof_t *b)
{
    /* The writer keeps hit lines only: compare those. */
    if (a->nfuncs != b->nfuncs) {
        abort();
    }
    for (size_t i = 0; i < a->nfuncs; i++) {
        uint64_t hits_a = 0, hits_b = 0;
        for (size_t j = 0; j < a->funcs[i].nlines; j++) {
            hits_a += a->funcs[i].lines[j].hits;
        }
        for (size_t j = 0; j < b->funcs[i].nlines; j++) {
            hits_b += b->funcs[i].lines[j].hits;
        }
        if (hits_a != hits_b
            || strcmp(a->funcs[i].name, b->funcs[i].name) != 0) {
            abort();
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    (void)pyprof_filekind_sniff(bytes, size);
    char errbuf[256], advice[512];
    pyprof_filekind_advice(advice, sizeof(advice), "input",
                           pyprof_filekind_sniff(bytes, size));
    pyprof_lprof_t *model = pyprof_lprof_read_pickle(bytes, size, errbuf,
                                                     sizeof(errbuf));
    if (model == NULL) {
        return 0;
    }
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    pyprof_lprof_write_json(&sink, model);
    pyprof_sink_free_buffer(&sink);
    pyprof_lprof_text_options_t text;
    pyprof_lprof_text_options_init(&text);
    text.source = no_source;
    pyprof_sink_init_buffer(&sink);
    pyprof_lprof_write_text(&sink, model, &text);
    pyprof_sink_free_buffer(&sink);
    pyprof_sink_init_buffer(&sink);
    pyprof_lprof_write_pickle(&sink, model);
    if (!pyprof_sink_failed(&sink)) {
        pyprof_lprof_t *again = pyprof_lprof_read_pickle(
            sink.data, sink.len, errbuf, sizeof(errbuf));
        if (again == NULL) {
            abort();        /* what we write, we read */
        }
        same_model(model, again);
        pyprof_lprof_free(again);
    }
    pyprof_sink_free_buffer(&sink);
    pyprof_lprof_free(model);
    return 0;
}
