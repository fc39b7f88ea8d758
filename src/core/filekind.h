/* filekind.h - what kind of file this is, among those pyprof writes.
 *
 * Every command that takes a file asks here first, so each one either
 * reads the file or says in one line which command does ("prog.lprof:
 * a pickle, as line_profiler's .lprof is: use `pyprof view prog.lprof`
 * or `python -m line_profiler prog.lprof`") instead of failing in its own
 * reader with "bad marshal data".  The decision looks at the first bytes only:
 *   pstats         a marshalled dict ('{' or '{'|FLAG_REF, then a tuple
 *                  code or '0'): cProfile's, ours (with the call-path
 *                  trailer), a `pyprof record` recording (pstats + sample
 *                  section: it is read as pstats)
 *   lprof          a pickle, protocol 2-5 (ours or kernprof's)
 *   lines JSON     {"unit": "ns", ...}   (pyprof lines -o F.json)
 *   memory JSON    {"unit": "MiB ...     (pyprof memory -o F.json)
 *   mprof .dat     CMDLINE / MEM / CHLD / FUNC records
 *   other JSON     an object whose first member says nothing of the above
 *   and the outputs that are not profiles to read back: pprof (gzip),
 *   speedscope, Chrome trace, callgrind, line_profiler's and
 *   memory_profiler's text, HTML and SVG reports.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_FILEKIND_H
#define PYPROF_FILEKIND_H

#include <stddef.h>

typedef enum {
    PYPROF_FILE_UNKNOWN,
    PYPROF_FILE_EMPTY,
    PYPROF_FILE_PSTATS,
    PYPROF_FILE_LPROF,
    PYPROF_FILE_LINES_JSON,
    PYPROF_FILE_MEMORY_JSON,
    PYPROF_FILE_MPROF,
    PYPROF_FILE_JSON,           /* another JSON object: view tries it as a
                                   line profile and says what is wrong */
    PYPROF_FILE_PPROF,
    PYPROF_FILE_SPEEDSCOPE,
    PYPROF_FILE_CHROME_TRACE,
    PYPROF_FILE_CALLGRIND,
    PYPROF_FILE_LINES_TEXT,
    PYPROF_FILE_MEMORY_TEXT,
    PYPROF_FILE_HTML,
    PYPROF_FILE_SVG,
} pyprof_filekind_t;

/* How many leading bytes pyprof_filekind_sniff needs at most. */
#define PYPROF_FILEKIND_HEAD 512

/* The kind of a file that starts with `head` (`len` bytes, the whole file
 * when it is shorter than PYPROF_FILEKIND_HEAD). */
pyprof_filekind_t pyprof_filekind_sniff(const unsigned char *head,
                                        size_t len);

/* Sniff the file at `path`.  Returns 0 with *kind set, or -1 with "PATH:
 * strerror" in errbuf (a directory is EISDIR, whoever asks). */
int pyprof_filekind_of_path(const char *path, pyprof_filekind_t *kind,
                            char *errbuf, size_t errlen);

/* "a line profile", "a function profile (pstats)", ... */
const char *pyprof_filekind_name(pyprof_filekind_t kind);

/* One line for a command that does not read `kind`, in the "PATH:
 * reason" form of every reader's errors: "PATH: a memory timeline (mprof
 * .dat): use `pyprof view PATH`, `pyprof mprof plot PATH` or ...". */
void pyprof_filekind_advice(char *buf, size_t size, const char *path,
                            pyprof_filekind_t kind);

#endif
