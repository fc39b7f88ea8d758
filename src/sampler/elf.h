/* elf.h - symbol values from an ELF file (the python binary, libpython).
 *
 * Reads 64-bit little-endian ELF only (x86-64, aarch64).  The file is
 * outside data: every header, table and string is bounds-checked against
 * the buffer, so a truncated or hostile file finds nothing rather than
 * crashing (fuzzed by fuzz/elf_fuzzer.c).
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_SAMPLER_ELF_H
#define PYPROF_SAMPLER_ELF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name;   /* in: the symbol's name */
    uint64_t value;     /* out: st_value (a link-time address) */
    int found;          /* out */
} pyprof_elf_symbol_t;

/* Look up syms[0..nsyms) in .dynsym, then .symtab, of the ELF image
 * data[0..len), and store in *first_vaddr the page-aligned virtual address
 * of its first PT_LOAD segment (the load bias is the address that segment
 * was mapped at minus this).  Returns the number of symbols found, or -1
 * when the data is not a 64-bit little-endian ELF file. */
int pyprof_elf_lookup(const uint8_t *data, size_t len,
                      pyprof_elf_symbol_t *syms, size_t nsyms,
                      uint64_t *first_vaddr);

/* The same on the file at `path` (mapped read-only, unmapped before
 * return).  Returns -1 too when the file cannot be opened (errno set). */
int pyprof_elf_lookup_file(const char *path, pyprof_elf_symbol_t *syms,
                           size_t nsyms, uint64_t *first_vaddr);

#endif
