/* test_sink.c - buffer sinks grow, take hands over, errors stick. */
#include <stdlib.h>

#include "check.h"
#include "core/sink.h"

void
test_sink(void)
{
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    pyprof_sink_puts(&sink, "ab");
    pyprof_sink_putc(&sink, 'c');
    pyprof_sink_printf(&sink, "%d-%s", 42, "x");
    /* Longer than the 256-byte stack buffer of vprintf. */
    char big[1000];
    memset(big, 'y', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    pyprof_sink_printf(&sink, "%s", big);
    pyprof_sink_write(&sink, "\0z", 2);
    size_t len;
    char *text = pyprof_sink_take(&sink, &len);
    CHECK(text != NULL);
    CHECK(len == 3 + 4 + 999 + 2);
    CHECK(text != NULL && memcmp(text, "abc42-xyyy", 10) == 0);
    CHECK(text != NULL && text[len - 2] == '\0' && text[len - 1] == 'z');
    CHECK(text != NULL && text[len] == '\0');
    free(text);
    /* After take the sink is empty and usable again. */
    CHECK(sink.len == 0 && sink.data == NULL);
    text = pyprof_sink_take(&sink, &len);
    CHECK(text != NULL && len == 0 && text[0] == '\0');
    free(text);

    /* A failed sink ignores later writes and take reports the failure. */
    pyprof_sink_init_buffer(&sink);
    pyprof_sink_puts(&sink, "kept");
    sink.failed = 1;
    pyprof_sink_puts(&sink, "dropped");
    CHECK(pyprof_sink_failed(&sink));
    CHECK(sink.len == 4);
    CHECK(pyprof_sink_take(&sink, &len) == NULL);
    pyprof_sink_free_buffer(&sink);

    /* A file sink whose stream cannot be written fails and stays failed. */
    FILE *ro = fopen("/dev/null", "r");
    if (ro != NULL) {
        pyprof_sink_init_file(&sink, ro);
        pyprof_sink_puts(&sink, "x");
        CHECK(pyprof_sink_failed(&sink));
        fclose(ro);
    }
}
