/* threadnames.h - the target's threading names, by thread ident.
 *
 * What `threading.Thread(name=...)` (and "MainThread") calls a thread, as
 * py-spy shows it: the `_name` attribute of each Thread object in the
 * `_active` dict (ident -> Thread) of the `threading` module in the
 * interpreter's sys.modules.  Reading that takes a few dozen remote reads,
 * so it is never done per sample: the names are kept per ident and read
 * again when a thread ident never seen before appears (at most every
 * PYPROF_THREADNAMES_MIN_NS), and once a while (at least
 * PYPROF_THREADNAMES_EVERY_NS and PYPROF_THREADNAMES_EVERY_SAMPLES
 * apart), since a thread can be renamed.  The addresses of the keys
 * "threading", "_active" and "_name" found once are tried first after.
 *
 * Anything that fails (no threading module yet, memory changing under
 * the reader, a layout this reader does not know) leaves a thread without
 * a name here: the sampler then shows its OS name.
 *
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_SAMPLER_THREADNAMES_H
#define PYPROF_SAMPLER_THREADNAMES_H

#include <stddef.h>
#include <stdint.h>

#include "objects.h"
#include "offsets.h"

#define PYPROF_THREADNAMES_MIN_NS 50000000ull    /* 50 ms */
#define PYPROF_THREADNAMES_EVERY_NS 1000000000ull /* 1 s */
#define PYPROF_THREADNAMES_EVERY_SAMPLES 8
#define PYPROF_THREADNAME_MAX 256  /* bytes kept of a name, NUL included */

typedef struct {
    uint64_t ident;      /* threading.get_ident() */
    char *name;          /* malloc'd UTF-8; NULL: not in _active when read */
} pyprof_thread_name_t;

typedef struct {
    pyprof_thread_name_t *names;
    size_t count, capacity;
    uint64_t key_threading, key_active, key_name; /* remote key strs */
    int refreshed;                /* read at least once */
    uint64_t refreshed_ns;        /* when last read (CLOCK_MONOTONIC) */
    uint64_t samples_since;       /* samples since then */
    uint64_t refreshes;           /* reads of _active, for tests */
} pyprof_threadnames_t;

void pyprof_threadnames_init(pyprof_threadnames_t *names);
void pyprof_threadnames_clear(pyprof_threadnames_t *names);

/* Read the names in the `_active` dict of the threading module of the
 * interpreter at `interp_addr` now (`now_ns`), replacing those held (with
 * none when the program has not imported threading).  Returns 0; or a
 * status, the names held before kept.  Either way the next read is due
 * only as pyprof_threadnames_tick and _get say. */
int pyprof_threadnames_read(pyprof_threadnames_t *names,
                            pyprof_remote_t *remote,
                            const pyprof_layout_t *layout,
                            uint64_t interp_addr, uint64_t now_ns);

/* Count a sample taken at `now_ns`; returns 1 when the names are due to
 * be read again in it (never read, or the periodic refresh; `force`
 * always). */
int pyprof_threadnames_tick(pyprof_threadnames_t *names, uint64_t now_ns,
                            int force);

/* The name of thread `ident` (borrowed, valid until the next read), or
 * NULL.  When the ident was never seen and a read is allowed at `now_ns`
 * (PYPROF_THREADNAMES_MIN_NS after the last), the names are read again
 * first through `remote` (interp_addr as in pyprof_threadnames_read);
 * an ident still missing is remembered as nameless until the next read. */
const char *pyprof_threadnames_get(pyprof_threadnames_t *names,
                                   pyprof_remote_t *remote,
                                   const pyprof_layout_t *layout,
                                   uint64_t interp_addr, uint64_t ident,
                                   uint64_t now_ns);

#endif
