/* test_memory.c - the plain-C memory units: the block map against a
 * brute-force list, the .dat reader on good, cut and bad files, the SVG's
 * escaping, and the per-line report layout. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "core/sink.h"
#include "memory/blockmap.h"
#include "memory/mprof_file.h"
#include "report/memory_report.h"
#include "report/mprof_svg.h"

static void
test_blockmap_random(void)
{
    enum { N = 20000 };
    static uintptr_t keys[N];
    static int present[N];
    pyprof_blockmap_t map;
    CHECK(pyprof_blockmap_init(&map) == 0);
    unsigned seed = 12345;
    size_t live = 0;
    int ok = 1;
    for (int i = 0; i < N; i++) {
        /* Addresses clustered like an allocator's (16-byte aligned), and
         * pairs 8 bytes apart (one home slot for both), and some far
         * apart: the probes must compare whole addresses. */
        keys[i] = i % 4 == 3 ? ((uintptr_t)0x7f0000000000 + (uintptr_t)i *
                                UINT64_C(0x100001000))
                : i % 4 == 2 ? keys[i - 1] + 8
                             : 0x10000 + 16 * (uintptr_t)i;
    }
    for (int step = 0; step < 200000; step++) {
        seed = seed * 1103515245 + 12345;
        int i = (int)((seed >> 8) % N);
        if (present[i]) {
            pyprof_block_t removed;
            ok &= pyprof_blockmap_remove(&map, keys[i], &removed) == 1;
            ok &= removed.size == (size_t)i && removed.site == (uint32_t)i;
            present[i] = 0;
            live--;
        }
        else {
            ok &= pyprof_blockmap_put(&map, keys[i], (size_t)i, (uint32_t)i)
                  == 0;
            present[i] = 1;
            live++;
        }
    }
    CHECK(ok);
    CHECK(map.count == live);
    for (int i = 0; i < N; i++) {
        pyprof_block_t b;
        int found = pyprof_blockmap_get(&map, keys[i], &b);
        ok &= present[i] ? found && b.size == (size_t)i : !found;
    }
    CHECK(ok);
    pyprof_block_t none;
    CHECK(pyprof_blockmap_remove(&map, 0xdead0, &none) == 0);
    pyprof_blockmap_free(&map);
}

/* A put replaces; sizes up to 2^40 - 1 and sites up to 2^24 - 1 are kept
 * exactly, larger ones refused (the caller counts them as lost). */
static void
test_blockmap_limits(void)
{
    pyprof_blockmap_t map;
    pyprof_block_t b;
    CHECK(pyprof_blockmap_init(&map) == 0);
    CHECK(pyprof_blockmap_put(&map, 0x1000, 10, 1) == 0);
    CHECK(pyprof_blockmap_put(&map, 0x1000, PYPROF_BLOCK_MAX_SIZE,
                              PYPROF_BLOCK_MAX_SITE) == 0);
    CHECK(map.count == 1);
    CHECK(pyprof_blockmap_get(&map, 0x1000, &b) == 1);
    CHECK(b.size == PYPROF_BLOCK_MAX_SIZE && b.site == PYPROF_BLOCK_MAX_SITE);
    CHECK(pyprof_blockmap_put(&map, 0x2000, PYPROF_BLOCK_MAX_SIZE + 1, 0)
          == -1);
    CHECK(pyprof_blockmap_put(&map, 0x2000, 1, PYPROF_BLOCK_MAX_SITE + 1)
          == -1);
    CHECK(pyprof_blockmap_get(&map, 0x2000, &b) == 0 && map.count == 1);
    CHECK(pyprof_blockmap_remove(&map, 0x1000, &b) == 1 && map.count == 0);
    CHECK(pyprof_blockmap_get(&map, 0x1000, &b) == 0);
    pyprof_blockmap_free(&map);
}

static char *
write_temp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/pyprof-ctest-%d.dat", (int)getpid());
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void
test_mprof_reader(void)
{
    char err[256];
    char *path = write_temp("CMDLINE python a b.py\n"
                            "MEM 10.5 100.0\n"
                            "CHLD 0 3.25 100.05\n"
                            "FUNC __main__.f 10.0 100.01 12.0 100.09 1\n"
                            "FUNC __main__.g 10.0 100.02 11.0 100.03\n"
                            "OTHER ignored as mprof ignores it\n"
                            "MEM 12.25 100.1\n");
    pyprof_mprof_data_t *d = pyprof_mprof_read(path, err, sizeof(err));
    CHECK(d != NULL);
    if (d != NULL) {
        CHECK_STR(d->cmdline, "python a b.py");
        CHECK(d->nmem == 2 && d->mem[1].mib == 12.25);
        CHECK(d->nchld == 1 && d->chld_index[0] == 0);
        CHECK(d->nfuncs == 2 && d->funcs[0].level == 1);
        CHECK(d->funcs[1].level == 0 && d->funcs[1].t_end == 100.03);
        CHECK(!d->truncated);
        pyprof_sink_t sink;
        pyprof_sink_init_buffer(&sink);
        pyprof_mprof_svg_write(&sink, d, "<&\"'>");
        size_t len;
        char *svg = pyprof_sink_take(&sink, &len);
        CHECK(svg != NULL && strstr(svg, "&lt;&amp;&quot;&#39;&gt;") != NULL);
        CHECK(svg != NULL && strstr(svg, "peak 12.250 MiB at 0.10 s"));
        free(svg);
        pyprof_mprof_data_free(d);
    }
    path = write_temp("MEM 1.0 1.0\nMEM 2.0 2.0\nMEM 3.");
    d = pyprof_mprof_read(path, err, sizeof(err));
    CHECK(d != NULL && d->truncated && d->nmem == 2);
    pyprof_mprof_data_free(d);
    path = write_temp("MEM 1.0 1.0\nMEM 2.0\n");
    CHECK(pyprof_mprof_read(path, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "line 2") != NULL);
    path = write_temp("FUNC name-only\n");
    CHECK(pyprof_mprof_read(path, err, sizeof(err)) == NULL);
    path = write_temp("MEM nan 1.0\n");
    CHECK(pyprof_mprof_read(path, err, sizeof(err)) == NULL);
    unlink(path);
    CHECK(pyprof_mprof_read(path, err, sizeof(err)) == NULL);
    CHECK(pyprof_mprof_is_profile_name("mprofile_20240101120000.dat"));
    CHECK(!pyprof_mprof_is_profile_name("mprofile_2024010112000.dat"));
    CHECK(!pyprof_mprof_is_profile_name("mprofile_20240101120000.dat~"));
}

static void
test_memory_report_layout(void)
{
    pyprof_memrow_t rows[2] = {
        {1, 31.461, 31.461, 1, 0, 0},
        {1, 131.5, 100.039, 3, 104857600, -1048576},
    };
    pyprof_memfunc_t func = {(char *)"/nonexistent.py", (char *)"f", 26, 2,
                             rows};
    pyprof_memprof_t profile = {&func, 1};
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    pyprof_memory_report_text(&sink, &profile, 1, 3, NULL, NULL);
    size_t len;
    char *text = pyprof_sink_take(&sink, &len);
    CHECK_STR(text,
              "Filename: /nonexistent.py\n\n"
              "Line #    Mem usage    Increment  Occurrences   "
              "Line Contents\n"
              "============================================================="
              "\n"
              "    26   31.461 MiB   31.461 MiB           1   \n"
              "    27  131.500 MiB  100.039 MiB           3   \n"
              "\n\n");
    free(text);
    pyprof_sink_init_buffer(&sink);
    pyprof_memory_report_json(&sink, &profile, NULL, NULL);
    text = pyprof_sink_take(&sink, &len);
    CHECK(text != NULL && strstr(text, "\"allocated_bytes\": 104857600, "
                                       "\"alive_bytes\": -1048576") != NULL);
    free(text);
}

void
test_memory(void)
{
    test_blockmap_random();
    test_blockmap_limits();
    test_mprof_reader();
    test_memory_report_layout();
}
