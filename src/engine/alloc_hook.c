/* alloc_hook.c - Python's allocators, hooked (see alloc_hook.h).
 *
 * Design, after CPython's Python/tracemalloc.c:
 *   - The three domains' allocators are saved, then replaced by wrappers
 *     that call the saved ones (so whatever was installed before us --
 *     tracemalloc, a debug allocator -- keeps working underneath).
 *   - A thread-local guard makes an allocation made while recording one
 *     (a frame object materialised to read the line, pymalloc falling back
 *     to PyMem_RawMalloc for a large block) pass straight through: each
 *     block is recorded once, by the outermost hook.
 *   - One mutex protects the block map and the site table, because the
 *     RAW domain is called by threads that do not hold the GIL.  Nothing
 *     inside the lock calls Python's allocators (the tables use libc
 *     malloc), so it cannot deadlock against itself.
 *   - A site is (code object, line) of the innermost Python frame of the
 *     allocating thread, as tracemalloc's 'lineno' statistics see it.
 *     Sites hold a strong reference to their code object (so an address
 *     is never reused for another function while tracking); the
 *     references are taken only by threads holding the GIL.
 *   - Running out of memory for a record never fails the user's
 *     allocation: a sticky flag says the counters are lower bounds.
 */
#include "alloc_hook.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../memory/blockmap.h"
#include "compat.h"

typedef struct {
    PyCodeObject *code;         /* strong reference; NULL for site 0 */
    int lineno;
    pyprof_alloc_counts_t counts;
} site_t;

/* The state of tracking.  Global because CPython's allocator hooks are
 * process-wide and take only a context pointer per domain.  `users`,
 * `saved` and installing/removing the hooks are protected by the GIL
 * (start/stop require it); `blocks`, `sites`, `site_index`, `totals` and
 * `lost` by `lock`. */
static struct {
    int users;                          /* start() calls not yet stopped */
    PyMemAllocatorEx saved[3];          /* RAW, MEM, OBJ before hooking */
    pthread_mutex_t lock;
    pyprof_blockmap_t blocks;
    site_t *sites;                      /* sites[0] = no Python frame */
    uint32_t nsites, sites_cap;
    uint32_t *site_index;               /* hash of (code, line) -> site+1 */
    size_t site_index_mask;
    pyprof_alloc_counts_t totals;
    int lost;
} state = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Non-zero while this thread is inside a hook: allocations made by the
 * hook itself pass through unrecorded.  Thread-local, so unshared. */
static _Thread_local int in_hook;

/* The call pyprof_alloc_call_before_next left for this thread's next
 * allocation.  Thread-local, so unshared. */
static _Thread_local struct {
    void (*fn)(void *arg);
    void *arg;
} pending __attribute__((tls_model("initial-exec")));  /* checked at every
                                                          allocation */

static const PyMemAllocatorDomain domains[3] = {
    PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ};

/* ------------------------------------------------------------------ */
/* The site table (under state.lock). */

static size_t
hash_site(const PyCodeObject *code, int lineno)
{
    uint64_t h = (uint64_t)(uintptr_t)code ^ ((uint64_t)(unsigned)lineno
                                               * UINT64_C(0x9E3779B97F4A7C15));
    h ^= h >> 33;
    h *= UINT64_C(0xFF51AFD7ED558CCD);
    h ^= h >> 33;
    return (size_t)h;
}

/* Rebuild the index with room for `cap` sites at most half full. */
static int
rebuild_index_unlocked(size_t nslots)
{
    uint32_t *index = calloc(nslots, sizeof(*index));
    if (index == NULL) {
        return -1;
    }
    for (uint32_t s = 1; s < state.nsites; s++) {
        size_t i = hash_site(state.sites[s].code, state.sites[s].lineno) &
                   (nslots - 1);
        while (index[i] != 0) {
            i = (i + 1) & (nslots - 1);
        }
        index[i] = s + 1;
    }
    free(state.site_index);
    state.site_index = index;
    state.site_index_mask = nslots - 1;
    return 0;
}

/* The index of site (code, lineno), made if new; a new site takes a
 * reference to `code` (the caller holds the GIL).  Returns 0 (the
 * unknown site) when out of memory, after setting the sticky flag. */
static uint32_t
find_site_unlocked(PyCodeObject *code, int lineno, int create)
{
    if (state.site_index == NULL) {
        return 0;
    }
    size_t i = hash_site(code, lineno) & state.site_index_mask;
    for (;;) {
        uint32_t entry = state.site_index[i];
        if (entry == 0) {
            break;
        }
        site_t *site = &state.sites[entry - 1];
        if (site->code == code && site->lineno == lineno) {
            return entry - 1;
        }
        i = (i + 1) & state.site_index_mask;
    }
    if (!create) {
        return UINT32_MAX;
    }
    if (state.nsites == state.sites_cap) {
        uint32_t cap = state.sites_cap * 2;
        site_t *sites = realloc(state.sites, cap * sizeof(*sites));
        if (sites == NULL) {
            state.lost = 1;
            return 0;
        }
        state.sites = sites;
        state.sites_cap = cap;
    }
    if ((size_t)(state.nsites + 1) * 2 > state.site_index_mask + 1) {
        if (rebuild_index_unlocked((state.site_index_mask + 1) * 2) < 0) {
            state.lost = 1;
            return 0;
        }
        i = hash_site(code, lineno) & state.site_index_mask;
        while (state.site_index[i] != 0) {
            i = (i + 1) & state.site_index_mask;
        }
    }
    uint32_t s = state.nsites++;
    Py_INCREF(code);
    state.sites[s].code = code;
    state.sites[s].lineno = lineno;
    memset(&state.sites[s].counts, 0, sizeof(state.sites[s].counts));
    state.site_index[i] = s + 1;
    return s;
}

/* ------------------------------------------------------------------ */
/* Recording (called by the hooks, guard set). */

/* The innermost Python frame's code and line, or (NULL, 0).  The caller
 * holds the GIL; on 3.11+ this may materialise the frame object, which
 * allocates through the hooks (passed through by the guard). */
static void
current_location(PyCodeObject **code, int *lineno)
{
    *code = NULL;
    *lineno = 0;
    PyThreadState *tstate = pyprof_thread_state_unchecked();
    if (tstate == NULL) {
        return;
    }
    PyFrameObject *frame = PyThreadState_GetFrame(tstate); /* new ref */
    if (frame == NULL) {
        return;
    }
    *code = pyprof_frame_code(frame);
    *lineno = PyFrame_GetLineNumber(frame);
    Py_DECREF(frame);   /* the interpreter frame keeps it alive */
}

/* Charge a new block (or a realloc from `old`, 0 for none) of `size`
 * bytes at `ptr`.  `with_gil` says whether the site may be looked up. */
static void
record(void *old, void *ptr, size_t size, int with_gil)
{
    PyCodeObject *code = NULL;
    int lineno = 0;
    if (with_gil) {
        current_location(&code, &lineno);
    }
    pthread_mutex_lock(&state.lock);
    if (state.sites == NULL) {
        /* Tracking stopped while this thread (RAW, no GIL) was inside. */
        pthread_mutex_unlock(&state.lock);
        return;
    }
    uint32_t site = code != NULL ? find_site_unlocked(code, lineno, 1) : 0;
    pyprof_block_t previous;
    int had_previous = old != NULL &&
        pyprof_blockmap_remove(&state.blocks, (uintptr_t)old, &previous);
    pyprof_alloc_counts_t *now = &state.sites[site].counts;
    if (had_previous && previous.site == site) {
        /* Resized where it was made: only the change counts. */
        if (size >= previous.size) {
            now->allocated += size - previous.size;
            state.totals.allocated += size - previous.size;
        }
        else {
            now->freed += previous.size - size;
            state.totals.freed += previous.size - size;
        }
    }
    else {
        if (had_previous) {
            state.sites[previous.site].counts.freed += previous.size;
            state.totals.freed += previous.size;
        }
        now->allocated += size;
        now->blocks++;
        state.totals.allocated += size;
        state.totals.blocks++;
    }
    if (pyprof_blockmap_put(&state.blocks, (uintptr_t)ptr, size, site) < 0) {
        /* Unrecorded from now on: its free will not be seen either. */
        state.lost = 1;
    }
    pthread_mutex_unlock(&state.lock);
}

static void
forget(void *ptr)
{
    pthread_mutex_lock(&state.lock);
    pyprof_block_t block;
    if (state.sites != NULL && pyprof_blockmap_remove(&state.blocks, (uintptr_t)ptr, &block)) {
        state.sites[block.site].counts.freed += block.size;
        state.totals.freed += block.size;
    }
    pthread_mutex_unlock(&state.lock);
}

/* ------------------------------------------------------------------ */
/* The hooks.  ctx points at the saved allocator of the domain. */

static int
domain_has_gil(const PyMemAllocatorEx *saved)
{
    /* MEM and OBJ are always called with the GIL held; RAW may not be. */
    return saved != &state.saved[0] || PyGILState_Check();
}

/* Run this thread's pending call when `saved`'s domain holds the GIL
 * here.  Inside a hook (in_hook set), before the allocation. */
static void
run_pending(const PyMemAllocatorEx *saved)
{
    if (pending.fn != NULL && domain_has_gil(saved)) {
        void (*fn)(void *) = pending.fn;
        pending.fn = NULL;
        fn(pending.arg);
    }
}

static void *
hook_malloc(void *ctx, size_t size)
{
    PyMemAllocatorEx *saved = ctx;
    if (in_hook) {
        return saved->malloc(saved->ctx, size);
    }
    in_hook = 1;
    run_pending(saved);
    void *ptr = saved->malloc(saved->ctx, size);
    if (ptr != NULL) {
        record(NULL, ptr, size, domain_has_gil(saved));
    }
    in_hook = 0;
    return ptr;
}

static void *
hook_calloc(void *ctx, size_t nelem, size_t elsize)
{
    PyMemAllocatorEx *saved = ctx;
    if (in_hook) {
        return saved->calloc(saved->ctx, nelem, elsize);
    }
    in_hook = 1;
    run_pending(saved);
    void *ptr = saved->calloc(saved->ctx, nelem, elsize);
    if (ptr != NULL) {
        /* calloc checked nelem * elsize for overflow before succeeding. */
        record(NULL, ptr, nelem * elsize, domain_has_gil(saved));
    }
    in_hook = 0;
    return ptr;
}

static void *
hook_realloc(void *ctx, void *old, size_t size)
{
    PyMemAllocatorEx *saved = ctx;
    if (in_hook) {
        return saved->realloc(saved->ctx, old, size);
    }
    in_hook = 1;
    run_pending(saved);
    void *ptr = saved->realloc(saved->ctx, old, size);
    if (ptr != NULL) {
        record(old, ptr, size, domain_has_gil(saved));
    }
    in_hook = 0;
    return ptr;
}

static void
hook_free(void *ctx, void *ptr)
{
    PyMemAllocatorEx *saved = ctx;
    /* Forget before freeing: once freed, another thread may get the same
     * address from the allocator and record it. */
    if (ptr != NULL && !in_hook) {
        in_hook = 1;
        forget(ptr);
        in_hook = 0;
    }
    saved->free(saved->ctx, ptr);
}

/* ------------------------------------------------------------------ */
/* Public API. */

void
pyprof_alloc_call_before_next(void (*fn)(void *arg), void *arg)
{
    pending.fn = fn;
    pending.arg = arg;
}

void
pyprof_alloc_cancel_pending(void)
{
    pending.fn = NULL;
}

static void
drop_records(void)
{
    pthread_mutex_lock(&state.lock);
    site_t *sites = state.sites;
    uint32_t nsites = state.nsites;
    pyprof_blockmap_free(&state.blocks);
    free(state.site_index);
    state.sites = NULL;
    state.site_index = NULL;
    state.nsites = state.sites_cap = 0;
    state.site_index_mask = 0;
    memset(&state.totals, 0, sizeof(state.totals));
    state.lost = 0;
    pthread_mutex_unlock(&state.lock);
    /* Outside the lock: a code object's deallocation frees memory. */
    if (sites != NULL) {
        for (uint32_t s = 1; s < nsites; s++) {
            Py_DECREF(sites[s].code);
        }
        free(sites);
    }
}

/* fork() while another thread holds the lock would leave the child's
 * lock held forever: take it around fork, release it on both sides. */
static void
fork_prepare(void)
{
    pthread_mutex_lock(&state.lock);
}

static void
fork_release(void)
{
    pthread_mutex_unlock(&state.lock);
}

int
pyprof_alloc_start(void)
{
    /* Registered once per process; set under the GIL. */
    static int atfork_registered;
    if (!atfork_registered) {
        if (pthread_atfork(fork_prepare, fork_release, fork_release) != 0) {
            PyErr_SetString(PyExc_RuntimeError, "pthread_atfork failed");
            return -1;
        }
        atfork_registered = 1;
    }
    if (state.users > 0) {
        state.users++;
        return 0;
    }
    pthread_mutex_lock(&state.lock);
    int failed = pyprof_blockmap_init(&state.blocks) < 0;
    state.sites_cap = 256;
    state.sites = calloc(state.sites_cap, sizeof(*state.sites));
    state.nsites = 1;   /* site 0: no Python frame */
    failed |= state.sites == NULL;
    pthread_mutex_unlock(&state.lock);
    if (failed || rebuild_index_unlocked(1024) < 0) {
        drop_records();
        PyErr_NoMemory();
        return -1;
    }
    for (int d = 0; d < 3; d++) {
        PyMem_GetAllocator(domains[d], &state.saved[d]);
    }
    for (int d = 0; d < 3; d++) {
        PyMemAllocatorEx hook = {&state.saved[d], hook_malloc, hook_calloc,
                                 hook_realloc, hook_free};
        PyMem_SetAllocator(domains[d], &hook);
    }
    state.users = 1;
    return 0;
}

void
pyprof_alloc_stop(void)
{
    if (state.users == 0) {
        return;
    }
    if (--state.users > 0) {
        return;
    }
    for (int d = 0; d < 3; d++) {
        PyMem_SetAllocator(domains[d], &state.saved[d]);
    }
    drop_records();
}

int
pyprof_alloc_active(void)
{
    return state.users > 0;
}

int
pyprof_alloc_site_of_object(PyObject *obj, PyCodeObject **code, int *lineno)
{
    if (state.users == 0 || obj == NULL) {
        return 0;
    }
    uintptr_t block = (uintptr_t)obj -
                      pyprof_object_preheader_size(Py_TYPE(obj));
    int found = 0;
    pthread_mutex_lock(&state.lock);
    pyprof_block_t *entry = pyprof_blockmap_get(&state.blocks, block);
    if (entry != NULL && entry->site != 0) {
        *code = state.sites[entry->site].code;
        *lineno = state.sites[entry->site].lineno;
        found = 1;
    }
    pthread_mutex_unlock(&state.lock);
    return found;
}

void
pyprof_alloc_totals(pyprof_alloc_counts_t *out)
{
    /* Racy on purpose: called on every line event, where taking the lock
     * would cost more than the rest of the event.  Each field is a
     * naturally aligned 64-bit word, only ever incremented. */
    out->allocated = __atomic_load_n(&state.totals.allocated,
                                     __ATOMIC_RELAXED);
    out->freed = __atomic_load_n(&state.totals.freed, __ATOMIC_RELAXED);
    out->blocks = __atomic_load_n(&state.totals.blocks, __ATOMIC_RELAXED);
}

int
pyprof_alloc_site_counts(PyCodeObject *code, int lineno,
                         pyprof_alloc_counts_t *out)
{
    memset(out, 0, sizeof(*out));
    if (state.users == 0) {
        return 0;
    }
    pthread_mutex_lock(&state.lock);
    uint32_t site = find_site_unlocked(code, lineno, 0);
    int found = site != UINT32_MAX && site != 0;
    if (found) {
        *out = state.sites[site].counts;
    }
    pthread_mutex_unlock(&state.lock);
    return found;
}

int
pyprof_alloc_foreach_site(int (*visit)(PyCodeObject *, int,
                                       const pyprof_alloc_counts_t *, void *),
                          void *ctx)
{
    if (state.users == 0) {
        return 0;
    }
    /* Copy under the lock, visit outside it: the visitor allocates, and
     * its allocations come back through the hooks, which take the lock. */
    pthread_mutex_lock(&state.lock);
    uint32_t n = state.nsites;
    site_t *copy = malloc((n ? n : 1) * sizeof(*copy));
    if (copy != NULL) {
        memcpy(copy, state.sites, n * sizeof(*copy));
    }
    pthread_mutex_unlock(&state.lock);
    if (copy == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    int rc = 0;
    for (uint32_t s = 0; s < n && rc == 0; s++) {
        rc = visit(copy[s].code, copy[s].lineno, &copy[s].counts, ctx);
    }
    free(copy);
    return rc;
}

int
pyprof_alloc_lost(void)
{
    return state.lost;
}
