/* json_fuzzer.c - libFuzzer target for the JSON reader and the line
 * profile page built from what it accepts.
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    pyprof_json_t *doc = pyprof_json_parse((const char *)data, size, err,
                                           sizeof(err));
    if (doc == NULL) {
        return 0;
    }
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    if (pyprof_lines_report(&sink, doc, "<t>", err, sizeof(err)) == 0
        && sink.data != NULL) {
        const char *start = strstr(sink.data, "id=\"profile-data\">");
        if (start != NULL) {
            start += strlen("id=\"profile-data\">");
            const char *end = strstr(start, "</script>");
            for (const char *p = start; end != NULL && p < end; p++) {
                if (*p == '<') {
                    abort();
                }
            }
        }
    }
    pyprof_sink_free_buffer(&sink);
    pyprof_json_free(doc);
    return 0;
}
