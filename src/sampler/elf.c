/* elf.c - bounded reading of ELF section and program headers, symbol
 * tables and their string tables (see elf.h).
 *
 * Only the structures are used, read with memcpy at checked offsets (the
 * buffer may be unaligned or short): <elf.h> gives the layouts.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf.h"

#define PAGE_MASK_4K (~(uint64_t)0xfff)
#define MAX_SECTIONS 65535

typedef struct {
    const uint8_t *data;
    size_t len;
} image_t;

/* Copy size bytes at offset into out: 0, or -1 when out of bounds. */
static int
take(const image_t *image, uint64_t offset, void *out, size_t size)
{
    if (offset > image->len || size > image->len - offset) {
        return -1;
    }
    memcpy(out, image->data + offset, size);
    return 0;
}

/* The NUL-terminated string at strtab[name], or NULL when it is not one. */
static const char *
string_at(const image_t *image, const Elf64_Shdr *strtab, uint32_t name)
{
    if (strtab->sh_offset > image->len
        || strtab->sh_size > image->len - strtab->sh_offset
        || name >= strtab->sh_size) {
        return NULL;
    }
    const char *start = (const char *)image->data + strtab->sh_offset + name;
    size_t room = strtab->sh_size - name;
    return memchr(start, '\0', room) ? start : NULL;
}

static int
section(const image_t *image, const Elf64_Ehdr *ehdr, size_t index,
        Elf64_Shdr *out)
{
    if (index >= ehdr->e_shnum) {
        return -1;
    }
    return take(image, ehdr->e_shoff + (uint64_t)index * sizeof(*out), out,
                sizeof(*out));
}

/* Look the still-missing symbols up in the symbol table `symtab`. */
static int
search_table(const image_t *image, const Elf64_Ehdr *ehdr,
             const Elf64_Shdr *symtab, pyprof_elf_symbol_t *syms,
             size_t nsyms)
{
    Elf64_Shdr strtab;
    if (section(image, ehdr, symtab->sh_link, &strtab) < 0
        || symtab->sh_entsize != sizeof(Elf64_Sym)) {
        return 0;
    }
    uint64_t count = symtab->sh_size / sizeof(Elf64_Sym);
    int found = 0;
    for (uint64_t i = 0; i < count; i++) {
        Elf64_Sym sym;
        if (take(image, symtab->sh_offset + i * sizeof(sym), &sym,
                 sizeof(sym)) < 0) {
            break;
        }
        if (sym.st_shndx == SHN_UNDEF || sym.st_value == 0) {
            continue;
        }
        const char *name = string_at(image, &strtab, sym.st_name);
        if (name == NULL) {
            continue;
        }
        for (size_t k = 0; k < nsyms; k++) {
            if (!syms[k].found && strcmp(name, syms[k].name) == 0) {
                syms[k].value = sym.st_value;
                syms[k].found = 1;
                found++;
            }
        }
    }
    return found;
}

static uint64_t
first_load_vaddr(const image_t *image, const Elf64_Ehdr *ehdr)
{
    for (size_t i = 0; i < ehdr->e_phnum; i++) {
        Elf64_Phdr phdr;
        if (take(image, ehdr->e_phoff + i * sizeof(phdr), &phdr,
                 sizeof(phdr)) < 0) {
            break;
        }
        if (phdr.p_type == PT_LOAD) {
            return phdr.p_vaddr & PAGE_MASK_4K;
        }
    }
    return 0;
}

int
pyprof_elf_lookup(const uint8_t *data, size_t len, pyprof_elf_symbol_t *syms,
                  size_t nsyms, uint64_t *first_vaddr)
{
    image_t image = {data, len};
    Elf64_Ehdr ehdr;
    if (take(&image, 0, &ehdr, sizeof(ehdr)) < 0
        || memcmp(ehdr.e_ident, ELFMAG, SELFMAG) != 0
        || ehdr.e_ident[EI_CLASS] != ELFCLASS64
        || ehdr.e_ident[EI_DATA] != ELFDATA2LSB
        || ehdr.e_shentsize != sizeof(Elf64_Shdr)) {
        return -1;
    }
    for (size_t k = 0; k < nsyms; k++) {
        syms[k].found = 0;
        syms[k].value = 0;
    }
    *first_vaddr = first_load_vaddr(&image, &ehdr);
    int found = 0;
    /* .dynsym first (never stripped), then .symtab */
    const uint32_t kinds[] = {SHT_DYNSYM, SHT_SYMTAB};
    for (size_t pass = 0; pass < 2 && (size_t)found < nsyms; pass++) {
        for (size_t i = 0; i < ehdr.e_shnum && i < MAX_SECTIONS; i++) {
            Elf64_Shdr shdr;
            if (section(&image, &ehdr, i, &shdr) < 0) {
                break;
            }
            if (shdr.sh_type == kinds[pass]) {
                found += search_table(&image, &ehdr, &shdr, syms, nsyms);
            }
        }
    }
    return found;
}

int
pyprof_elf_lookup_file(const char *path, pyprof_elf_symbol_t *syms,
                       size_t nsyms, uint64_t *first_vaddr)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size <= 0) {
        close(fd);
        errno = ENOEXEC;
        return -1;
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int saved = errno;
    close(fd);
    if (map == MAP_FAILED) {
        errno = saved;
        return -1;
    }
    int found = pyprof_elf_lookup(map, (size_t)st.st_size, syms, nsyms,
                                  first_vaddr);
    munmap(map, (size_t)st.st_size);
    if (found < 0) {
        errno = ENOEXEC;
    }
    return found;
}
