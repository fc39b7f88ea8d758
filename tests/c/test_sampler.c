/* test_sampler.c - the out-of-process sampler's plain-C parts.
 *
 * Oracles written by CPython itself: data/linetables-3.X.txt holds the
 * line of every instruction of some code as code.co_lines() gives it
 * (tools/dump_linetables.py, run by each version), and data/image-3.X.img
 * is what one sample of a real target read, with data/image-3.X.txt the
 * target's own traceback.extract_stack() of each thread
 * (tools/capture_images.sh).  Images are also mutated byte by byte: the
 * sampler must answer each with a status, never crash (ASan watches).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sampler/elf.h"
#include "sampler/image.h"
#include "sampler/linetable.h"
#include "sampler/objects.h"
#include "sampler/offsets.h"
#include "sampler/sampler.h"

static const char *const versions[] = {"3.10", "3.11", "3.12",
                                       "3.13", "3.14", "3.15"};

static uint8_t *
read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc(size > 0 ? (size_t)size + 1 : 1);
    if (data && fread(data, 1, (size_t)size, f) != (size_t)size) {
        free(data);
        data = NULL;
    }
    fclose(f);
    if (data) {
        data[size] = '\0';
        *len = (size_t)size;
    }
    return data;
}

static size_t
unhex(const char *hex, uint8_t *out, size_t room)
{
    size_t n = 0;
    if (strcmp(hex, "-") == 0) {
        return 0;
    }
    for (; hex[0] && hex[1] && n < room; hex += 2) {
        unsigned byte;
        sscanf(hex, "%2x", &byte);
        out[n++] = (uint8_t)byte;
    }
    return n;
}

static void
test_linetables(const char *version)
{
    char path[64];
    size_t len;
    snprintf(path, sizeof(path), "data/linetables-%s.txt", version);
    char *text = (char *)read_file(path, &len);
    CHECK(text != NULL);
    if (text == NULL) {
        return;
    }
    int format = strcmp(version, "3.10") == 0 ? PYPROF_LINETABLE_310
                                               : PYPROF_LINETABLE_311;
    static uint8_t table[1 << 16];
    int codes = 0, offsets = 0, wrong = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        int firstlineno;
        char hex[1 << 17];
        if (sscanf(line, "code %d %131071s", &firstlineno, hex) != 2) {
            continue;
        }
        size_t table_len = unhex(hex, table, sizeof(table));
        char *pairs = strtok_r(NULL, "\n", &save);
        pyprof_line_range_t *ranges = NULL;
        size_t nranges = 0;
        CHECK(pyprof_linetable_decode(format, table, table_len, firstlineno,
                                      &ranges, &nranges) == 0);
        codes++;
        for (char *p = pairs; p && *p;) {
            char *end;
            long offset = strtol(p, &end, 10);
            long want = strtol(end, &p, 10);
            if (end == p) {
                break;
            }
            int got = pyprof_linetable_line(format, table, table_len,
                                            firstlineno, (int)offset);
            int found = pyprof_linetable_find(ranges, nranges, firstlineno,
                                              (int)offset);
            offsets++;
            if (got != want || found != want) {
                if (wrong++ < 5) {
                    fprintf(stderr, "%s: code at line %d offset %ld: line "
                            "%d (decoded: %d), CPython says %ld\n", version,
                            firstlineno, offset, got, found, want);
                }
            }
        }
        free(ranges);
    }
    CHECK(codes > 20);
    CHECK(offsets > 1000);
    CHECK(wrong == 0);
    /* before the first instruction: the def line; past the end: none */
    CHECK(pyprof_linetable_line(format, table, 0, 7, -2) == 7);
    CHECK(pyprof_linetable_line(format, table, 0, 7, 4) == -1);
    free(text);
}

/* Garbage tables: the decoded ranges answer as the table walk does, for
 * every address (the walk is the one checked against CPython above). */
static void
test_linetable_ranges_match_walk(void)
{
    uint64_t random = 88172645463325252u;
    uint8_t table[64];
    int wrong = 0;
    for (int round = 0; round < 400; round++) {
        size_t len = (size_t)(round % 64);
        for (size_t i = 0; i < len; i++) {
            random ^= random << 13;
            random ^= random >> 7;
            random ^= random << 17;
            table[i] = (uint8_t)random;
        }
        int format = round % 2 ? PYPROF_LINETABLE_310 : PYPROF_LINETABLE_311;
        pyprof_line_range_t *ranges;
        size_t n;
        CHECK(pyprof_linetable_decode(format, table, len, 10, &ranges, &n)
              == 0);
        for (int addr = -2; addr < 64 * 256; addr++) {
            wrong += pyprof_linetable_find(ranges, n, 10, addr)
                     != pyprof_linetable_line(format, table, len, 10, addr);
        }
        free(ranges);
    }
    CHECK(wrong == 0);
}

/* One thread of a replayed sample, frames copied outermost first. */
typedef struct {
    long tid;
    char name[64];
    int holds_gil;
    size_t nframes;
    pyprof_frame_t frames[64];
} seen_thread_t;

typedef struct {
    seen_thread_t threads[16];
    size_t count;
} seen_t;

static int
keep_thread(void *ctx, const pyprof_thread_sample_t *thread)
{
    seen_t *seen = ctx;
    if (seen->count == 16) {
        return -1;
    }
    seen_thread_t *copy = &seen->threads[seen->count++];
    copy->tid = thread->native_id;
    copy->holds_gil = thread->holds_gil;
    snprintf(copy->name, sizeof(copy->name), "%s", thread->name);
    copy->nframes = thread->nframes < 64 ? thread->nframes : 64;
    for (size_t i = 0; i < copy->nframes; i++) {
        copy->frames[i] = thread->frames[thread->nframes - 1 - i];
    }
    return 0;
}

static const seen_thread_t *
find_thread(const seen_t *seen, long tid)
{
    for (size_t i = 0; i < seen->count; i++) {
        if (seen->threads[i].tid == tid) {
            return &seen->threads[i];
        }
    }
    return NULL;
}

static const char *
last_component(const char *qualname)
{
    const char *dot = strrchr(qualname, '.');
    return dot ? dot + 1 : qualname;
}

/* Compare the replayed sample with the target's own account. */
static void
check_against_report(const char *version, const seen_t *seen)
{
    char path[64];
    size_t len;
    snprintf(path, sizeof(path), "data/image-%s.txt", version);
    char *text = (char *)read_file(path, &len);
    CHECK(text != NULL);
    if (text == NULL) {
        return;
    }
    const seen_thread_t *thread = NULL;
    size_t frame = 0;
    int threads = 0, frames = 0, gil_holders = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        long tid;
        char name[256], filename[1024];
        int lineno;
        if (sscanf(line, "thread %ld %255s", &tid, name) == 2) {
            thread = find_thread(seen, tid);
            CHECK(thread != NULL);
            frame = 0;
            threads++;
            /* the threading name, read from the image (no /proc here) */
            if (thread) {
                CHECK_STR(thread->name, name);
            }
            if (thread && thread->holds_gil == 1) {
                gil_holders++;
                CHECK_STR(name, "spinner");
            }
        }
        else if (thread && sscanf(line, "frame\t%255[^\t]\t%1023[^\t]\t%d",
                                  name, filename, &lineno) == 3) {
            CHECK(frame < thread->nframes);
            if (frame < thread->nframes) {
                const pyprof_frame_t *got = &thread->frames[frame];
                CHECK_STR(last_component(got->name), name);
                CHECK_STR(got->filename, filename);
                CHECK(got->line == lineno);
            }
            frame++;
            frames++;
        }
    }
    CHECK(threads == 5 && (size_t)threads == seen->count);
    CHECK(frames >= 14);
    CHECK(gil_holders <= 1);
    free(text);
}

/* Flip bytes all over the image and sample each: any status, no crash. */
static void
sample_mutations(const pyprof_image_file_t *file, uint8_t *bytes,
                 size_t len)
{
    int answered = 0;
    for (size_t at = 24; at < len; at += 7) {
        uint8_t saved = bytes[at];
        bytes[at] ^= (uint8_t)(0x5a + at);
        pyprof_image_file_t mutated;
        if (pyprof_image_parse(bytes, len, &mutated) == 0) {
            pyprof_memory_reader_t reader;
            pyprof_memory_image(&reader, &mutated.image);
            pyprof_sampler_t *sampler = pyprof_sampler_open(
                &reader, mutated.runtime_addr, mutated.version_hex, 0, NULL,
                NULL, 0);
            seen_t seen = {0};
            if (sampler) {
                /* twice: the second reads the first one's guesses */
                for (int i = 0; i < 2; i++) {
                    seen.count = 0;
                    pyprof_sampler_sample(sampler, PYPROF_SAMPLE_RUNNING,
                                          keep_thread, &seen);
                }
                pyprof_sampler_detach(sampler);
            }
            answered++;
            pyprof_image_file_free(&mutated);
        }
        bytes[at] = saved;
    }
    CHECK(answered > 100);
    (void)file;
}

/* An image as a live process would show it, with a gather of its own:
 * the bytes between the image's ranges (between two frames of a data
 * stack: mapped in the process, not kept in the image) read as zeros, as
 * long as a read starts and ends inside the image. */
/* The reads of the last image_gather, as the kernel would get them. */
static struct {
    size_t count;
    int near;        /* two of them closer than 1 KiB (one range would do) */
    int scattered;   /* a buffer not right after the one before */
} last_gather;

static void
note_gather(const pyprof_memory_read_t *reads, size_t count)
{
    last_gather.count = count;
    last_gather.near = last_gather.scattered = 0;
    for (size_t i = 0; i < count; i++) {
        for (size_t k = 0; k < count; k++) {
            uint64_t end = reads[k].addr + reads[k].len;
            last_gather.near |= k != i && reads[i].addr >= reads[k].addr
                                && (reads[i].addr <= end
                                    || reads[i].addr - end <= 1024);
        }
        last_gather.scattered |=
            i > 0 && (const char *)reads[i].buf
                         != (const char *)reads[i - 1].buf + reads[i - 1].len;
    }
}

static int
image_gather(void *ctx, const pyprof_memory_read_t *reads, size_t count,
             unsigned char *ok)
{
    const pyprof_memory_image_t *image = ctx;
    note_gather(reads, count);
    for (size_t i = 0; i < count; i++) {
        uint64_t low = reads[i].addr, high = low + reads[i].len;
        int first = 0, last = 0;
        memset(reads[i].buf, 0, reads[i].len);
        for (size_t k = 0; k < image->nranges; k++) {
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
        ok[i] = reads[i].len > 0 && first && last;
    }
    return 0;
}

static int
image_read_through(void *ctx, uint64_t addr, void *buf, size_t len)
{
    pyprof_memory_reader_t image;
    pyprof_memory_image(&image, ctx);
    return image.read(image.ctx, addr, buf, len);
}

static void
test_snapshot_single_read(const pyprof_image_file_t *file,
                          const char *version)
{
    pyprof_memory_reader_t reader = {image_read_through, NULL,
                                     (void *)&file->image, image_gather};
    pyprof_sampler_t *sampler = pyprof_sampler_open(
        &reader, file->runtime_addr, file->version_hex, 0, NULL, NULL, 0);
    CHECK(sampler != NULL);
    if (sampler == NULL) {
        return;
    }
    seen_t seen = {0};
    pyprof_sampler_stats_t before, after;
    CHECK(pyprof_sampler_sample(sampler, 0, keep_thread, &seen) == 0);
    for (int i = 0; i < 2; i++) {
        pyprof_sampler_get_stats(sampler, &before);
        seen.count = 0;
        CHECK(pyprof_sampler_sample(sampler, 0, keep_thread, &seen) == 0);
        pyprof_sampler_get_stats(sampler, &after);
        check_against_report(version, &seen);
        CHECK(after.reads - before.reads == 1);
        /* ... of as few ranges as it can be: none within 1 KiB of
         * another (a range is a mapping lookup and a page pin in the
         * kernel), copied into one buffer (one local iovec) */
        CHECK(last_gather.count > 0);
        CHECK(!last_gather.near);
        CHECK(!last_gather.scattered);
    }
    pyprof_sampler_detach(sampler);
}

static void
test_image(const char *version)
{
    char path[64];
    size_t len;
    snprintf(path, sizeof(path), "data/image-%s.img", version);
    uint8_t *bytes = read_file(path, &len);
    CHECK(bytes != NULL);
    if (bytes == NULL) {
        return;
    }
    pyprof_image_file_t file;
    CHECK(pyprof_image_parse(bytes, len, &file) == 0);
    pyprof_memory_reader_t reader;
    pyprof_memory_image(&reader, &file.image);
    char err[256];
    int status;
    pyprof_sampler_t *sampler = pyprof_sampler_open(
        &reader, file.runtime_addr, file.version_hex, 0, &status, err,
        sizeof(err));
    CHECK(sampler != NULL);
    if (sampler) {
        seen_t seen = {0};
        CHECK(pyprof_sampler_sample(sampler, 0, keep_thread, &seen) == 0);
        check_against_report(version, &seen);
        /* a second sample hits the code cache: no code object re-read */
        pyprof_sampler_stats_t before, after;
        pyprof_sampler_get_stats(sampler, &before);
        seen.count = 0;
        CHECK(pyprof_sampler_sample(sampler, 0, keep_thread, &seen) == 0);
        pyprof_sampler_get_stats(sampler, &after);
        CHECK(after.code_cache_misses == before.code_cache_misses);
        /* ... and takes what the first sample read from the snapshot
         * (snapshot.h): the same stacks */
        check_against_report(version, &seen);
        CHECK(after.samples == 2 && after.failed == 0);
        pyprof_sampler_detach(sampler);
    }
    test_snapshot_single_read(&file, version);
    /* cut short: the sample fails cleanly */
    pyprof_image_file_t cut = file;
    cut.image.nranges = file.image.nranges / 2;
    pyprof_memory_image(&reader, &cut.image);
    sampler = pyprof_sampler_open(&reader, file.runtime_addr,
                                  file.version_hex, 0, &status, err,
                                  sizeof(err));
    if (sampler) {
        seen_t seen = {0};
        CHECK(pyprof_sampler_sample(sampler, 0, keep_thread, &seen)
              == PYPROF_SAMPLER_INCONSISTENT);
        pyprof_sampler_detach(sampler);
    }
    sample_mutations(&file, bytes, len);
    pyprof_image_file_free(&file);
    free(bytes);
}

/* A compact str object at `addr` in a fake 3.12 address space. */
static void
test_unicode(void)
{
    pyprof_layout_t layout;
    char err[128];
    CHECK(pyprof_layout_get(0x030C01F0, NULL, 0, &layout, err,
                            sizeof(err)) == 0);
    struct {
        unsigned kind, ascii;
        const void *chars;
        size_t length;
        const char *utf8;
    } cases[] = {
        {1, 1, "spam", 4, "spam"},
        {1, 0, "caf\xe9", 4, "caf\xc3\xa9"},
        {2, 0, (const uint16_t[]){0x3b1, 0x20ac}, 2, "\xce\xb1\xe2\x82\xac"},
        {4, 0, (const uint32_t[]){0x1f40d}, 1, "\xf0\x9f\x90\x8d"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t object[256] = {0};
        uint64_t length = cases[i].length;
        uint32_t state = (cases[i].kind << 2) | (1u << 5)
                         | (cases[i].ascii << 6);
        memcpy(object + layout.unicode_length, &length, 8);
        memcpy(object + layout.unicode_state, &state, 4);
        size_t data_at = cases[i].ascii ? layout.unicode_ascii_size
                                        : layout.unicode_compact_size;
        memcpy(object + data_at, cases[i].chars,
               cases[i].length * cases[i].kind);
        pyprof_memory_range_t range = {0x1000, object, sizeof(object)};
        pyprof_memory_image_t image = {&range, 1};
        pyprof_remote_t remote = {0};
        pyprof_memory_image(&remote.reader, &image);
        char *text = NULL;
        CHECK(pyprof_remote_unicode(&remote, &layout, 0x1000, &text) == 0);
        CHECK_STR(text, cases[i].utf8);
        free(text);
        /* a length past the cap is refused, not read */
        length = PYPROF_MAX_STRING_CHARS + 1;
        memcpy(object + layout.unicode_length, &length, 8);
        text = NULL;
        CHECK(pyprof_remote_unicode(&remote, &layout, 0x1000, &text)
              == PYPROF_SAMPLER_INCONSISTENT);
        CHECK(text == NULL);
    }
}

int elf_test_marker_symbol = 42;

static void
test_elf(void)
{
    pyprof_elf_symbol_t syms[] = {{"elf_test_marker_symbol", 0, 0},
                                  {"no_such_symbol_here", 0, 0}};
    uint64_t vaddr = 1;
    CHECK(pyprof_elf_lookup_file("/proc/self/exe", syms, 2, &vaddr) == 1);
    CHECK(syms[0].found && !syms[1].found);
    CHECK(vaddr == 0); /* a PIE links at 0 */
    size_t len;
    uint8_t *self = read_file("/proc/self/exe", &len);
    CHECK(self != NULL);
    if (self) {
        /* every truncation finds nothing or the symbol, never crashes */
        for (size_t cut = 0; cut < len; cut += len / 97 + 1) {
            int found = pyprof_elf_lookup(self, cut, syms, 2, &vaddr);
            CHECK(found <= 1);
        }
        free(self);
    }
    uint8_t junk[64] = "\x7f" "ELF";
    CHECK(pyprof_elf_lookup(junk, sizeof(junk), syms, 2, &vaddr) == -1);
}

static void
test_layouts(void)
{
    pyprof_layout_t layout;
    char err[256];
    CHECK(pyprof_layout_get(0x030900F0, NULL, 0, &layout, err,
                            sizeof(err)) == PYPROF_SAMPLER_UNSUPPORTED);
    CHECK(strstr(err, "3.9 is not supported") != NULL);
    unsigned char head[PYPROF_LAYOUT_HEAD_BYTES] = "xdebugpx";
    CHECK(pyprof_layout_get(0x030D00F0, head, sizeof(head), &layout, err,
                            sizeof(err)) == PYPROF_SAMPLER_INCONSISTENT);
    memcpy(head, "xdebugpy", 8);
    uint64_t version = 0x030D00F0, free_threaded = 1;
    memcpy(head + 8, &version, 8);
    memcpy(head + 16, &free_threaded, 8);
    CHECK(pyprof_layout_get(0x030D00F0, head, sizeof(head), &layout, err,
                            sizeof(err)) == PYPROF_SAMPLER_UNSUPPORTED);
    CHECK(strstr(err, "free-threaded") != NULL);
}

void
test_sampler(void)
{
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        test_linetables(versions[i]);
        test_image(versions[i]);
    }
    test_linetable_ranges_match_walk();
    test_unicode();
    test_elf();
    test_layouts();
}
