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

#endif
