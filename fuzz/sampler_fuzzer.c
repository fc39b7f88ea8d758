/* sampler_fuzzer.c - libFuzzer target for every reader of a target's
 * memory: the sampler walked over a memory image.
 *
 * An input that parses as an image file (src/sampler/image.h; the corpus
 * holds images of real 3.10-3.15 targets, so mutations start deep in real
 * structures) is sampled as it says.  Any other input is random memory:
 * one range at a fixed address holding _PyRuntime, with the version taken
 * from its first byte.  Every image is sampled three times (the later
 * ones through the code cache and the snapshot, see snapshot.h; inputs of
 * odd size through a reader with a gather, as a live process has, so
 * neighbouring frames are merged).  The
 * sampler must never crash, hang, leak or read out of bounds; any status
 * is a fine answer.  A sample reads the threading names too (an image of
 * a real target holds them); random memory is also read as an
 * interpreter whose sys.modules leads to threading._active, with the
 * layout of every version.  The ELF reader gets each input as a file too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sampler/elf.h"
#include "sampler/image.h"
#include "sampler/sampler.h"
#include "sampler/threadnames.h"

#define RANDOM_BASE 0x10000

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size);

static int
touch_thread(void *ctx, const pyprof_thread_sample_t *thread)
{
    size_t *total = ctx;
    for (size_t i = 0; i < thread->nframes; i++) {
        /* read every string handed out, as a consumer would */
        const pyprof_frame_t *frame = &thread->frames[i];
        for (const char *p = frame->name; *p; p++) {
            *total += (unsigned char)*p;
        }
        for (const char *p = frame->filename; *p; p++) {
            *total += (unsigned char)*p;
        }
        *total += (size_t)frame->line;
    }
    return 0;
}

/* The image as a live process shows it (a gather, so the snapshot merges
 * neighbouring frames): bytes between its ranges read as zeros when a
 * read starts and ends inside it. */
static int
gap_gather(void *ctx, const pyprof_memory_read_t *reads, size_t count,
           unsigned char *ok)
{
    const pyprof_memory_image_t *image = ctx;
    for (size_t i = 0; i < count; i++) {
        uint64_t low = reads[i].addr, high = low + reads[i].len;
        int first = 0, last = 0;
        memset(reads[i].buf, 0, reads[i].len);
        for (size_t k = 0; k < image->nranges && high > low; k++) {
            const pyprof_memory_range_t *r = &image->ranges[k];
            uint64_t from = r->addr > low ? r->addr : low;
            uint64_t to = r->addr + r->len < high ? r->addr + r->len : high;
            if (from < to) {
                memcpy((unsigned char *)reads[i].buf + (from - low),
                       r->data + (from - r->addr), (size_t)(to - from));
                first |= from == low;
                last |= to == high;
            }
        }
        ok[i] = high > low && first && last;
    }
    return 0;
}

static void
sample_image(const pyprof_memory_image_t *image, uint64_t runtime,
             uint32_t version, int live)
{
    pyprof_memory_reader_t reader;
    pyprof_memory_image(&reader, image);
    if (live) {
        reader.gather = gap_gather;
    }
    pyprof_sampler_t *sampler =
        pyprof_sampler_open(&reader, runtime, version, 0, NULL, NULL, 0);
    if (sampler == NULL) {
        return;
    }
    size_t total = 0;
    for (int i = 0; i < 3; i++) {
        pyprof_sampler_sample(sampler, PYPROF_SAMPLE_RUNNING, touch_thread,
                              &total);
    }
    pyprof_sampler_detach(sampler);
}

/* threading._active read from random memory, as an interpreter at its
 * start, with a layout of a table (3.10-3.12) and that layout with the
 * 3.13+ instance attributes. */
static void
read_names(const pyprof_memory_image_t *image, uint32_t version)
{
    pyprof_layout_t layout;
    char err[128];
    if (pyprof_layout_get(version, NULL, 0, &layout, err, sizeof(err))) {
        return;
    }
    for (int pass = 0; pass < 2; pass++) {
        if (pass) {
            layout.attrs_format = PYPROF_ATTRS_313;
            layout.values_header = 8;
        }
        pyprof_remote_t remote = {0};
        pyprof_memory_image(&remote.reader, image);
        pyprof_threadnames_t names;
        pyprof_threadnames_init(&names);
        pyprof_threadnames_read(&names, &remote, &layout, RANDOM_BASE, 0);
        for (size_t i = 0; i < names.count; i++) {
            const char *name = pyprof_threadnames_get(
                &names, &remote, &layout, RANDOM_BASE, names.names[i].ident,
                0);
            for (const char *p = name; p && *p; p++) {
                remote.bytes += (unsigned char)*p;
            }
        }
        pyprof_threadnames_clear(&names);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
    static const uint32_t versions[] = {0x030A0DF0, 0x030B07F0, 0x030C01F0,
                                        0x030D00F0, 0x030E0AF0, 0x030F02F0};
    pyprof_image_file_t file;
    if (pyprof_image_parse(bytes, size, &file) == 0) {
        sample_image(&file.image, file.runtime_addr, file.version_hex,
                     size % 2);
        pyprof_image_file_free(&file);
    }
    else if (size > 0) {
        pyprof_memory_range_t range = {RANDOM_BASE, bytes, size};
        pyprof_memory_image_t image = {&range, 1};
        sample_image(&image, RANDOM_BASE, versions[bytes[0] % 6], size % 2);
        read_names(&image, versions[bytes[0] % 3]);
    }
    pyprof_elf_symbol_t syms[] = {{"_PyRuntime", 0, 0}, {"Py_Version", 0, 0}};
    uint64_t vaddr;
    pyprof_elf_lookup(bytes, size, syms, 2, &vaddr);
    return 0;
}
