/* image.h - memory images: a target's memory saved to a file and read back.
 *
 * An image holds the ranges a sampler read from a live process plus where
 * its _PyRuntime was and its version, so a sample can be replayed without
 * the process: the plain-C tests sample images of real 3.10-3.15 targets,
 * and the fuzzer mutates them.  File format (little endian):
 *
 *   "PYPIMG01"  u32 version_hex  u32 nranges  u64 runtime_addr
 *   nranges x { u64 addr  u32 len  len bytes }
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_SAMPLER_IMAGE_H
#define PYPROF_SAMPLER_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "memory.h"

#define PYPROF_IMAGE_MAX_RANGES 65536

typedef struct {
    uint32_t version_hex;
    uint64_t runtime_addr;
    pyprof_memory_range_t *ranges;  /* owned array; data points into the
                                       parsed buffer (borrowed) */
    pyprof_memory_image_t image;    /* over `ranges` */
} pyprof_image_file_t;

/* Parse data[0..len) (borrowed: must outlive *file).  Returns 0, or -1
 * when it is not a whole image.  Release with pyprof_image_file_free. */
int pyprof_image_parse(const uint8_t *data, size_t len,
                       pyprof_image_file_t *file);
void pyprof_image_file_free(pyprof_image_file_t *file);

/* A reader that passes reads to `inner` and keeps a copy of each distinct
 * range read successfully. */
typedef struct {
    pyprof_memory_reader_t inner;
    pyprof_memory_range_t *ranges;  /* owned, with owned data */
    size_t count, capacity;
    int out_of_memory;
} pyprof_image_recorder_t;

void pyprof_image_recorder_init(pyprof_image_recorder_t *recorder,
                                const pyprof_memory_reader_t *inner,
                                pyprof_memory_reader_t *reader);
void pyprof_image_recorder_free(pyprof_image_recorder_t *recorder);

/* Write what `recorder` saw as an image file.  Returns 0 or -1. */
int pyprof_image_write(const pyprof_image_recorder_t *recorder,
                       uint32_t version_hex, uint64_t runtime_addr,
                       FILE *out);

#endif
