/* linetable.h - line numbers from a code object's co_linetable.
 *
 * The same answers as CPython's PyCode_Addr2Line(), decoded from a copy of
 * the table (never trusted: a truncated or garbage table gives some line
 * or -1, never a read out of bounds).
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_SAMPLER_LINETABLE_H
#define PYPROF_SAMPLER_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

/* The line of the instruction at byte offset `addr` of the bytecode whose
 * co_linetable is table[0..len) and co_firstlineno is `firstlineno`;
 * `format` is PYPROF_LINETABLE_310 (3.10's (bytes, line) delta pairs) or
 * PYPROF_LINETABLE_311 (3.11+'s location table).  Returns firstlineno for
 * addr < 0 (a frame that has not started), -1 for an instruction without a
 * line or an offset past the table. */
int pyprof_linetable_line(int format, const uint8_t *table, size_t len,
                          int firstlineno, int addr);

/* Addresses at or past this (bytes) have no line: no code object is that
 * long, and it keeps a garbage table's ranges in 32 bits. */
#define PYPROF_LINETABLE_MAX_ADDRESS (1L << 30)

/* A table decoded once, for a lookup per sample without a walk over the
 * table: range i covers [ranges[i-1].end, ranges[i].end) (range 0 starts
 * at 0) and holds `line` (-1: none); neighbours differ in line. */
typedef struct {
    uint32_t end;
    int32_t line;
} pyprof_line_range_t;

/* Decode table[0..len) (as pyprof_linetable_line reads it) into a new
 * malloc'd array *ranges of *count ranges (the caller frees it).  Returns
 * 0, or -1 when out of memory. */
int pyprof_linetable_decode(int format, const uint8_t *table, size_t len,
                            int firstlineno, pyprof_line_range_t **ranges,
                            size_t *count);

/* The line of byte offset `addr` in decoded ranges: the same answer as
 * pyprof_linetable_line on the table they came from. */
int pyprof_linetable_find(const pyprof_line_range_t *ranges, size_t count,
                          int firstlineno, int addr);

#endif
