/* image.c - the image file format, its reader and the recording reader
 * (see image.h).  The parser is fed fuzzer input: every length is checked
 * against what is left before it is used. */
#include <stdlib.h>
#include <string.h>

#include "image.h"

#define MAGIC "PYPIMG01"
#define HEADER_BYTES (8 + 4 + 4 + 8)
#define MAX_RECORDED_RANGE (1u << 24)

static uint32_t
get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16
           | (uint32_t)p[3] << 24;
}

static uint64_t
get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

int
pyprof_image_parse(const uint8_t *data, size_t len, pyprof_image_file_t *file)
{
    memset(file, 0, sizeof(*file));
    if (len < HEADER_BYTES || memcmp(data, MAGIC, 8) != 0) {
        return -1;
    }
    file->version_hex = get_u32(data + 8);
    uint32_t nranges = get_u32(data + 12);
    file->runtime_addr = get_u64(data + 16);
    if (nranges > PYPROF_IMAGE_MAX_RANGES) {
        return -1;
    }
    file->ranges = calloc(nranges ? nranges : 1, sizeof(*file->ranges));
    if (file->ranges == NULL) {
        return -1;
    }
    size_t at = HEADER_BYTES;
    for (uint32_t i = 0; i < nranges; i++) {
        if (len - at < 12) {
            goto error;
        }
        uint64_t addr = get_u64(data + at);
        uint32_t size = get_u32(data + at + 8);
        at += 12;
        if (size > len - at) {
            goto error;
        }
        file->ranges[i].addr = addr;
        file->ranges[i].data = data + at;
        file->ranges[i].len = size;
        at += size;
    }
    file->image.ranges = file->ranges;
    file->image.nranges = nranges;
    return 0;
error:
    pyprof_image_file_free(file);
    return -1;
}

void
pyprof_image_file_free(pyprof_image_file_t *file)
{
    free(file->ranges);
    memset(file, 0, sizeof(*file));
}

static int
recorded(const pyprof_image_recorder_t *recorder, uint64_t addr, size_t len)
{
    for (size_t i = 0; i < recorder->count; i++) {
        if (recorder->ranges[i].addr == addr && recorder->ranges[i].len == len) {
            return 1;
        }
    }
    return 0;
}

static int
recording_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
    pyprof_image_recorder_t *recorder = ctx;
    int rc = recorder->inner.read(recorder->inner.ctx, addr, buf, len);
    if (rc != 0 || len > MAX_RECORDED_RANGE || recorded(recorder, addr, len)) {
        return rc;
    }
    if (recorder->count == recorder->capacity) {
        size_t capacity = recorder->capacity ? recorder->capacity * 2 : 64;
        pyprof_memory_range_t *grown =
            realloc(recorder->ranges, capacity * sizeof(*grown));
        if (grown == NULL || capacity > PYPROF_IMAGE_MAX_RANGES) {
            if (grown) {
                recorder->ranges = grown;
            }
            recorder->out_of_memory = 1;
            return rc;
        }
        recorder->ranges = grown;
        recorder->capacity = capacity;
    }
    unsigned char *copy = malloc(len ? len : 1);
    if (copy == NULL) {
        recorder->out_of_memory = 1;
        return rc;
    }
    memcpy(copy, buf, len);
    recorder->ranges[recorder->count].addr = addr;
    recorder->ranges[recorder->count].data = copy;
    recorder->ranges[recorder->count].len = len;
    recorder->count++;
    return rc;
}

void
pyprof_image_recorder_init(pyprof_image_recorder_t *recorder,
                           const pyprof_memory_reader_t *inner,
                           pyprof_memory_reader_t *reader)
{
    memset(recorder, 0, sizeof(*recorder));
    recorder->inner = *inner;
    reader->read = recording_read;
    reader->readv = NULL;   /* one by one, so each read is recorded */
    reader->ctx = recorder;
}

void
pyprof_image_recorder_free(pyprof_image_recorder_t *recorder)
{
    for (size_t i = 0; i < recorder->count; i++) {
        free((void *)recorder->ranges[i].data);
    }
    free(recorder->ranges);
    memset(recorder, 0, sizeof(*recorder));
}

static void
put_u32(FILE *out, uint32_t value)
{
    unsigned char bytes[4] = {value & 0xff, (value >> 8) & 0xff,
                              (value >> 16) & 0xff, value >> 24};
    fwrite(bytes, 1, 4, out);
}

static void
put_u64(FILE *out, uint64_t value)
{
    put_u32(out, (uint32_t)value);
    put_u32(out, (uint32_t)(value >> 32));
}

int
pyprof_image_write(const pyprof_image_recorder_t *recorder,
                   uint32_t version_hex, uint64_t runtime_addr, FILE *out)
{
    fwrite(MAGIC, 1, 8, out);
    put_u32(out, version_hex);
    put_u32(out, (uint32_t)recorder->count);
    put_u64(out, runtime_addr);
    for (size_t i = 0; i < recorder->count; i++) {
        put_u64(out, recorder->ranges[i].addr);
        put_u32(out, (uint32_t)recorder->ranges[i].len);
        fwrite(recorder->ranges[i].data, 1, recorder->ranges[i].len, out);
    }
    return ferror(out) ? -1 : 0;
}
