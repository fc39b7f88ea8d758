/* json_fuzzer.c - libFuzzer target for the JSON reader and the line and
 * memory profile pages built from what it accepts.
 *
 * Whatever parses must render without crashing, and the page's embedded
 * data must never contain a raw '<' (it sits in a <script> element).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/sink.h"
#include "report/json_reader.h"
#include "report/lines_report.h"
#include "report/memory_page.h"

/* The page's embedded data must hold no raw '<'. */
static void
check_embedded_data(const char *page)
{
    const char *start = strstr(page, "id=\"profile-data\">");
    if (start == NULL) {
        return;
    }
    start += strlen("id=\"profile-data\">");
    const char *end = strstr(start, "</script>");
    for (const char *p = start; end != NULL && p < end; p++) {
        if (*p == '<') {
            abort();
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    pyprof_json_t *doc = pyprof_json_parse((const char *)data, size, err,
                                           sizeof(err));
    if (doc == NULL) {
        return 0;
    }
    for (int memory = 0; memory <= 1; memory++) {
        pyprof_sink_t sink;
        pyprof_sink_init_buffer(&sink);
        int rc = memory ? pyprof_memory_page(&sink, doc, "<t>", err,
                                             sizeof(err))
                        : pyprof_lines_report(&sink, doc, "<t>", err,
                                              sizeof(err));
        if (rc == 0 && sink.data != NULL) {
            check_embedded_data(sink.data);
        }
        pyprof_sink_free_buffer(&sink);
    }
    (void)pyprof_memory_page_is_profile(doc);
    pyprof_json_free(doc);
    return 0;
}
