/* mprof_fuzzer.c - libFuzzer target for the mprof .dat reader.
 *
 * Whatever the reader accepts is drawn as the SVG timeline (the renderer
 * `pyprof mprof plot` and `pyprof view` use), so the numbers and names it
 * lets through are exercised too.  The reader must never crash, leak or
 * read out of bounds on any input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/sink.h"
#include "memory/mprof_file.h"
#include "report/mprof_svg.h"

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    if (size == 0) {
        return 0;
    }
    FILE *f = fmemopen((void *)bytes, size, "r");
    if (f == NULL) {
        return 0;
    }
    char errbuf[256];
    pyprof_mprof_data_t *data = pyprof_mprof_read_stream(f, "input", errbuf,
                                                         sizeof(errbuf));
    fclose(f);
    if (data == NULL) {
        return 0;
    }
    if (data->nmem > 0) {
        pyprof_sink_t sink;
        pyprof_sink_init_buffer(&sink);
        pyprof_mprof_svg_write(&sink, data, NULL);
        pyprof_sink_free_buffer(&sink);
    }
    pyprof_mprof_data_free(data);
    return 0;
}
