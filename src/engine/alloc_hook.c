/* alloc_hook.c - Python's allocators, hooked (see alloc_hook.h).
 *
 * Design, after CPython's Python/tracemalloc.c:
 *   - The three domains' allocators are saved, then replaced by wrappers
 *     that call the saved ones (so whatever was installed before us --
 *     tracemalloc, a debug allocator -- keeps working underneath).
 *   - A hook never allocates through Python's allocators, never calls
 *     Python code and never takes a lock another allocator path may hold
 *     (tracemalloc's own lock included): the allocating thread's location
 *     is read off its frame stack without materialising anything
 *     (pyprof_thread_top_frame in compat.h), its line decoded from the line
 *     table once per (code, instruction) and cached; the tables use libc
 *     memory.  A thread-local guard makes anything called from inside the
 *     hook (pymalloc falling back to PyMem_RawMalloc for a large block)
 *     pass straight through: each block is recorded once, by the
 *     outermost hook.
 *   - One lock (a spinlock: see lock_state) protects the block map and
 *     the site tables, because the RAW domain is called by threads that
 *     do not hold the GIL.  Nothing inside it calls Python's allocators,
 *     so it cannot deadlock.
 *   - A site is (code object, line) of the innermost complete Python
 *     frame of the allocating thread, as tracemalloc's 'lineno' statistics
 *     see it.  Sites hold a strong reference to their code object (so an
 *     address is never reused for another function while tracking); the
 *     references are taken only by threads holding the GIL.
 *   - Other tools install and remove hooks too, in any order.  Ours come
 *     in layers (static storage, never freed): stopping restores what was
 *     underneath only where our hook is still on top.  Where another tool
 *     wrapped ours (it holds our hook as its "saved" allocator), the layer
 *     stays, passing through, for good: restoring under it would hand it
 *     an allocator it does not expect, and tracemalloc.stop() would later
 *     put our freed hook back.  A later start puts a new layer on top.
 *   - Running out of memory for a record never fails the user's
 *     allocation: a sticky flag says the counters are lower bounds.
 */
#define PYPROF_WANT_THREAD_LOCATION 1
#include "alloc_hook.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "../memory/blockmap.h"
#include "compat.h"

typedef struct {
    PyCodeObject *code;         /* strong reference; NULL for site 0 */
    int lineno;
    pyprof_alloc_counts_t counts;
} site_t;

/* A (code, instruction offset) seen allocating, and its site: the line
 * is decoded once per instruction, never per allocation. */
typedef struct {
    PyCodeObject *code;         /* borrowed from its site; NULL: empty */
    int addr;
    uint32_t site;
} location_t;

typedef struct layer layer_t;

/* The context of one domain's hook: the allocator it calls. */
typedef struct {
    PyMemAllocatorEx below;
    layer_t *layer;
} hook_ctx_t;

struct layer {
    hook_ctx_t domain[3];       /* RAW, MEM, OBJ */
    int recording;              /* 0: passes through (read by the hooks
                                   with relaxed atomics) */
    int in_chain;               /* may still be called: not reusable */
};

/* Layers of hooks.  Static storage because another tool may keep calling
 * a layer it wrapped long after we stopped; set under the GIL. */
#define MAX_LAYERS 64
static layer_t layers[MAX_LAYERS];

/* The state of tracking.  Global because CPython's allocator hooks are
 * process-wide and take only a context pointer per domain.  `users`,
 * `layer`, `removed` and installing/removing the hooks are protected by
 * the GIL (start/stop require it); `blocks`, the site and location
 * tables, `totals` and `lost` by `lock`. */
static struct {
    int users;                          /* start() calls not yet stopped */
    layer_t *layer;                     /* the recording layer */
    int removed;                        /* see pyprof_alloc_was_removed */
    int lock;                           /* see lock_state */
    pyprof_blockmap_t blocks;
    site_t *sites;                      /* sites[0] = no Python frame */
    uint32_t nsites, sites_cap;
    uint32_t *site_index;               /* hash of (code, line) -> site+1 */
    size_t site_index_mask;
    location_t *locations;              /* hash of (code, addr) */
    size_t locations_mask, nlocations;
    pyprof_alloc_counts_t totals;
    int lost;
    uint64_t generation;                /* which start (see last_location) */
} state;

/* Non-zero while this thread is inside a hook: allocations made by the
 * hook itself pass through unrecorded.  Thread-local, so unshared. */
static _Thread_local int in_hook __attribute__((tls_model("initial-exec")));

/* The layer this thread probes (is it still in the chain? see
 * still_called), and whether its hook saw the probe.  Thread-local. */
static _Thread_local const layer_t *probing
    __attribute__((tls_model("initial-exec")));
static _Thread_local int probe_seen
    __attribute__((tls_model("initial-exec")));

_Thread_local unsigned pyprof_alloc_suspended
    __attribute__((tls_model("initial-exec")));
_Thread_local uintptr_t pyprof_alloc_recent[2]
    __attribute__((tls_model("initial-exec")));
_Thread_local int64_t pyprof_alloc_thread_net
    __attribute__((tls_model("initial-exec")));

/* The call pyprof_alloc_call_before_next left for this thread's next
 * allocation.  Thread-local, so unshared. */
static _Thread_local struct {
    void (*fn)(void *arg);
    void *arg;
    void *caller;       /* the frame below the one returning, or NULL */
} pending __attribute__((tls_model("initial-exec")));  /* checked at every
                                                          allocation */

static const PyMemAllocatorDomain domains[3] = {
    PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ};

/* ------------------------------------------------------------------ */
/* The lock.  A spinlock, not a pthread mutex: taken twice per allocation
 * and free pair, uncontended nearly always (the GIL serialises every
 * allocator call but the RAW domain's without it), where a mutex's lock
 * and unlock cost about 50 instructions and an atomic exchange 5.  What
 * it guards is held for a few hundred instructions at most, never across
 * a call that could block or allocate through Python; a waiter that
 * spins long yields the CPU (the holder may be descheduled). */

static inline void
lock_state(void)
{
    while (__atomic_exchange_n(&state.lock, 1, __ATOMIC_ACQUIRE)) {
        for (int spins = 0; __atomic_load_n(&state.lock, __ATOMIC_RELAXED);
             spins++) {
            if (spins >= 100) {
                sched_yield();
                spins = 0;
            }
        }
    }
}

static inline void
unlock_state(void)
{
    __atomic_store_n(&state.lock, 0, __ATOMIC_RELEASE);
}

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

/* The location table (under state.lock): open addressing, never
 * deleted from while tracking. */

static size_t
hash_location(const PyCodeObject *code, int addr)
{
    return hash_site(code, addr ^ 0x5bd1e995);
}

static int
grow_locations_unlocked(void)
{
    size_t nslots = state.locations_mask ? (state.locations_mask + 1) * 2
                                         : 1024;
    location_t *slots = calloc(nslots, sizeof(*slots));
    if (slots == NULL) {
        return -1;
    }
    for (size_t j = 0; state.locations && j <= state.locations_mask; j++) {
        location_t *old = &state.locations[j];
        if (old->code == NULL) {
            continue;
        }
        size_t i = hash_location(old->code, old->addr) & (nslots - 1);
        while (slots[i].code != NULL) {
            i = (i + 1) & (nslots - 1);
        }
        slots[i] = *old;
    }
    free(state.locations);
    state.locations = slots;
    state.locations_mask = nslots - 1;
    return 0;
}

/* The site of instruction `addr` of `code`: cached, else its line is
 * decoded from the line table (PyCode_Addr2Line allocates nothing) and
 * the site found or made.  0 (the unknown site) when out of memory. */
static uint32_t
find_location_unlocked(PyCodeObject *code, int addr)
{
    size_t i = hash_location(code, addr) & state.locations_mask;
    for (;;) {
        location_t *slot = &state.locations[i];
        if (slot->code == code && slot->addr == addr) {
            return slot->site;
        }
        if (slot->code == NULL) {
            break;
        }
        i = (i + 1) & state.locations_mask;
    }
    uint32_t site = find_site_unlocked(code, PyCode_Addr2Line(code, addr),
                                       1);
    if (site == 0) {
        return 0;
    }
    if ((state.nlocations + 1) * 2 > state.locations_mask + 1) {
        if (grow_locations_unlocked() < 0) {
            return site;    /* charged right, just not cached */
        }
        i = hash_location(code, addr) & state.locations_mask;
        while (state.locations[i].code != NULL) {
            i = (i + 1) & state.locations_mask;
        }
    }
    state.locations[i] = (location_t){code, addr, site};
    state.nlocations++;
    return site;
}

/* ------------------------------------------------------------------ */
/* Recording (called by the hooks, guard set). */

/* The location this thread last allocated from, and its site: a loop's
 * allocation comes from the same instruction round after round, and this
 * saves the hash lookup then.  Valid for the start `generation` names (a
 * site holds a reference to its code, so the code cannot be freed and its
 * address reused while it is).  Thread-local. */
static _Thread_local struct {
    uint64_t generation;
    PyCodeObject *code;
    int addr;
    uint32_t site;
} last_location __attribute__((tls_model("initial-exec")));

/* The site of the calling thread's innermost Python frame, or 0.  The
 * caller holds the GIL and state.lock.  Inline: it is on the path of
 * every allocation, and nearly always answered by last_location. */
static inline uint32_t
current_site_unlocked(void)
{
    PyThreadState *tstate = pyprof_thread_state_unchecked();
    if (tstate == NULL) {
        return 0;
    }
    void *frame = pyprof_thread_top_frame(tstate);
    if (frame == NULL) {
        return 0;
    }
    int addr;
    PyCodeObject *code = pyprof_frame_location(frame, &addr);
    if (__builtin_expect(last_location.code == code &&
                         last_location.addr == addr &&
                         last_location.generation == state.generation, 1)) {
        return last_location.site;
    }
    uint32_t site = find_location_unlocked(code, addr);
    last_location.generation = state.generation;
    last_location.code = code;
    last_location.addr = addr;
    last_location.site = site;
    return site;
}

/* After a block of the program's was recorded at `ptr` (outside the
 * lock): the thread's net bytes, and its recent blocks (see
 * pyprof_alloc_disown). */
static inline void
note_recorded(void *ptr, int64_t net)
{
    pyprof_alloc_thread_net += net;
    pyprof_alloc_recent[1] = pyprof_alloc_recent[0];
    pyprof_alloc_recent[0] = (uintptr_t)ptr;
}

/* Charge a new block of `size` bytes at `ptr`.  `with_gil` says whether
 * the site may be looked up.  Inline: malloc's and calloc's one path. */
static inline void
record_new(void *ptr, size_t size, int with_gil)
{
    lock_state();
    if (__builtin_expect(state.sites == NULL, 0)) {
        /* Tracking stopped while this thread (RAW, no GIL) was inside. */
        unlock_state();
        return;
    }
    uint32_t site = with_gil ? current_site_unlocked() : 0;
    pyprof_alloc_counts_t *now = &state.sites[site].counts;
    now->allocated += size;
    now->blocks++;
    state.totals.allocated += size;
    state.totals.blocks++;
    int64_t net = (int64_t)size;
    if (__builtin_expect(
            pyprof_blockmap_put(&state.blocks, (uintptr_t)ptr, size, site) < 0,
            0)) {
        /* Unrecorded: its free will not be seen either. */
        state.lost = 1;
        net = 0;
    }
    unlock_state();
    note_recorded(ptr, net);
}

/* Charge a realloc of `old` (NULL for none) to a block of `size` bytes at
 * `ptr`. */
static void
record_realloc(void *old, void *ptr, size_t size, int with_gil)
{
    lock_state();
    if (state.sites == NULL) {
        unlock_state();
        return;
    }
    uint32_t site = with_gil ? current_site_unlocked() : 0;
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
    int64_t net = (int64_t)size - (had_previous ? (int64_t)previous.size : 0);
    if (pyprof_blockmap_put(&state.blocks, (uintptr_t)ptr, size, site) < 0) {
        /* Unrecorded from now on: its free will not be seen either. */
        state.lost = 1;
        net = had_previous ? -(int64_t)previous.size : 0;
    }
    unlock_state();
    note_recorded(ptr, net);
}

/* A block freed (or moved by realloc while suspended).  Inline: free's
 * path. */
static inline void
forget(void *ptr)
{
    lock_state();
    pyprof_block_t block;
    if (state.sites != NULL &&
        pyprof_blockmap_remove(&state.blocks, (uintptr_t)ptr, &block)) {
        state.sites[block.site].counts.freed += block.size;
        state.totals.freed += block.size;
        pyprof_alloc_thread_net -= (int64_t)block.size;
    }
    unlock_state();
}

void
pyprof_alloc_disown_block(uintptr_t address)
{
    lock_state();
    pyprof_block_t block;
    if (state.sites != NULL &&
        pyprof_blockmap_remove(&state.blocks, address, &block)) {
        pyprof_alloc_counts_t *counts = &state.sites[block.site].counts;
        counts->allocated -= block.size;
        counts->blocks--;
        pyprof_alloc_thread_net -= (int64_t)block.size;
        /* The totals only grow (racy readers compare them): count it as
         * freed there, which keeps allocated - freed right. */
        state.totals.freed += block.size;
    }
    unlock_state();
    if (pyprof_alloc_recent[0] == address) {
        pyprof_alloc_recent[0] = pyprof_alloc_recent[1];
    }
    pyprof_alloc_recent[1] = 0;
}

/* ------------------------------------------------------------------ */
/* The hooks.  ctx is the domain's hook_ctx_t. */

static inline int
domain_has_gil(const hook_ctx_t *hook)
{
    /* MEM and OBJ are always called with the GIL held; RAW may not be. */
    return hook != &hook->layer->domain[0] || PyGILState_Check();
}

/* Non-zero when this call must only pass through: the hook itself is
 * allocating, the thread probes the chain (see still_called), or the layer
 * does not record (stopped, or wrapped by another tool after it stopped).
 * `in_hook` and `probing` are both thread-local and zero nearly always:
 * one test of the two covers them. */
static inline int
passing_through(const hook_ctx_t *hook)
{
    if (__builtin_expect(in_hook | (probing != NULL), 0)) {
        if (probing != NULL) {
            probe_seen |= probing == hook->layer;
        }
        return 1;
    }
    return !__atomic_load_n(&hook->layer->recording, __ATOMIC_RELAXED);
}

/* Non-zero when the returning frame is gone and nothing runs above its
 * caller: the thread is back in the caller (or the caller returned too).
 * An allocation made while the frame's locals are being released (a
 * weakref callback run by a dying local) comes from a frame above the
 * caller, and is too early. */
static int
back_in_caller(void)
{
    PyThreadState *tstate = pyprof_thread_state_unchecked();
    void *frame = tstate != NULL ? pyprof_thread_top_frame(tstate) : NULL;
    if (frame == pending.caller) {
        return 1;
    }
    /* A bounded walk: deeper than that, the caller is taken as gone. */
    for (int depth = 0; frame != NULL && depth < 64; depth++) {
        frame = pyprof_frame_below(frame);
        if (frame == pending.caller) {
            return 0;
        }
    }
    return pending.caller != NULL;
}

/* Run this thread's pending call when the domain holds the GIL here, no
 * pyprof code is running on this thread, and the thread is back in the
 * caller.  Inside a hook (in_hook set), before the allocation. */
static void
run_pending_slow(const hook_ctx_t *hook)
{
    if (!pyprof_alloc_suspended && domain_has_gil(hook) && back_in_caller()) {
        void (*fn)(void *) = pending.fn;
        pending.fn = NULL;
        fn(pending.arg);
    }
}

static inline void
run_pending(const hook_ctx_t *hook)
{
    if (__builtin_expect(pending.fn != NULL, 0)) {
        run_pending_slow(hook);
    }
}

static void *
hook_malloc(void *ctx, size_t size)
{
    hook_ctx_t *hook = ctx;
    const PyMemAllocatorEx *below = &hook->below;
    if (passing_through(hook)) {
        return below->malloc(below->ctx, size);
    }
    in_hook = 1;
    run_pending(hook);
    void *ptr = below->malloc(below->ctx, size);
    if (ptr != NULL && !pyprof_alloc_suspended) {
        record_new(ptr, size, domain_has_gil(hook));
    }
    in_hook = 0;
    return ptr;
}

static void *
hook_calloc(void *ctx, size_t nelem, size_t elsize)
{
    hook_ctx_t *hook = ctx;
    const PyMemAllocatorEx *below = &hook->below;
    if (passing_through(hook)) {
        return below->calloc(below->ctx, nelem, elsize);
    }
    in_hook = 1;
    run_pending(hook);
    void *ptr = below->calloc(below->ctx, nelem, elsize);
    if (ptr != NULL && !pyprof_alloc_suspended) {
        /* calloc checked nelem * elsize for overflow before succeeding. */
        record_new(ptr, nelem * elsize, domain_has_gil(hook));
    }
    in_hook = 0;
    return ptr;
}

static void *
hook_realloc(void *ctx, void *old, size_t size)
{
    hook_ctx_t *hook = ctx;
    const PyMemAllocatorEx *below = &hook->below;
    if (passing_through(hook)) {
        return below->realloc(below->ctx, old, size);
    }
    in_hook = 1;
    run_pending(hook);
    void *ptr = below->realloc(below->ctx, old, size);
    if (ptr != NULL) {
        if (!pyprof_alloc_suspended) {
            record_realloc(old, ptr, size, domain_has_gil(hook));
        }
        else if (old != NULL) {
            forget(old);    /* ours from now on: the old block is gone */
        }
    }
    in_hook = 0;
    return ptr;
}

static void
hook_free(void *ctx, void *ptr)
{
    hook_ctx_t *hook = ctx;
    /* Forget before freeing: once freed, another thread may get the same
     * address from the allocator and record it.  Frees are seen while
     * suspended too: a block of the program's may die in pyprof's code. */
    if (ptr != NULL && !passing_through(hook)) {
        in_hook = 1;
        forget(ptr);
        in_hook = 0;
    }
    hook->below.free(hook->below.ctx, ptr);
}

/* ------------------------------------------------------------------ */
/* Public API. */

void
pyprof_alloc_call_before_next(void (*fn)(void *arg), void *arg)
{
    PyThreadState *tstate = pyprof_thread_state_unchecked();
    void *returning = tstate != NULL ? pyprof_thread_top_frame(tstate)
                                     : NULL;
    pending.caller = returning != NULL ? pyprof_frame_below(returning)
                                       : NULL;
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
    lock_state();
    site_t *sites = state.sites;
    uint32_t nsites = state.nsites;
    pyprof_blockmap_free(&state.blocks);
    free(state.site_index);
    free(state.locations);
    state.sites = NULL;
    state.site_index = NULL;
    state.locations = NULL;
    state.nsites = state.sites_cap = 0;
    state.site_index_mask = 0;
    state.locations_mask = state.nlocations = 0;
    memset(&state.totals, 0, sizeof(state.totals));
    state.lost = 0;
    unlock_state();
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
    lock_state();
}

static void
fork_release(void)
{
    unlock_state();
}

static int
is_our_hook(const PyMemAllocatorEx *allocator, const hook_ctx_t *hook)
{
    return allocator->malloc == hook_malloc && allocator->ctx == hook;
}

/* Put a layer on top of each domain's allocator.  NULL when every layer
 * is taken (another tool wrapped pyprof's hooks that often). */
static layer_t *
install_layer(void)
{
    layer_t *layer = NULL;
    for (int i = 0; i < MAX_LAYERS && layer == NULL; i++) {
        if (!layers[i].in_chain) {
            layer = &layers[i];
        }
    }
    if (layer == NULL) {
        return NULL;
    }
    for (int d = 0; d < 3; d++) {
        PyMem_GetAllocator(domains[d], &layer->domain[d].below);
        layer->domain[d].layer = layer;
    }
    layer->in_chain = 1;
    __atomic_store_n(&layer->recording, 1, __ATOMIC_RELAXED);
    for (int d = 0; d < 3; d++) {
        PyMemAllocatorEx hook = {&layer->domain[d], hook_malloc, hook_calloc,
                                 hook_realloc, hook_free};
        PyMem_SetAllocator(domains[d], &hook);
    }
    return layer;
}

/* Non-zero when an allocation in domain d still reaches `layer`'s hook
 * (another tool wrapped it) rather than bypassing it (another tool took
 * it out of the chain).  Allocates one byte, through every hook above. */
static int
still_called(const layer_t *layer, int d)
{
    probing = layer;
    probe_seen = 0;
    void *p = d == 0 ? PyMem_RawMalloc(1) : d == 1 ? PyMem_Malloc(1)
                                                   : PyObject_Malloc(1);
    int seen = probe_seen;
    if (d == 0) {
        PyMem_RawFree(p);
    }
    else if (d == 1) {
        PyMem_Free(p);
    }
    else {
        PyObject_Free(p);
    }
    probing = NULL;
    return seen;
}

/* Take `layer` out where it is still on top; elsewhere leave it passing
 * through (it is wrapped) or unused (it was taken out by someone else,
 * which sets state.removed). */
static void
remove_layer(layer_t *layer)
{
    int restored = 0;
    for (int d = 0; d < 3; d++) {
        PyMemAllocatorEx now;
        PyMem_GetAllocator(domains[d], &now);
        if (is_our_hook(&now, &layer->domain[d])) {
            PyMem_SetAllocator(domains[d], &layer->domain[d].below);
            restored++;
        }
        else if (!still_called(layer, d)) {
            state.removed = 1;
        }
    }
    __atomic_store_n(&layer->recording, 0, __ATOMIC_RELAXED);
    /* A layer restored everywhere is called by no one any more (a thread
     * inside a RAW hook right now only reads `below`, unchanged until the
     * layer is reused). */
    layer->in_chain = restored < 3;
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
    lock_state();
    int failed = pyprof_blockmap_init(&state.blocks) < 0;
    state.sites_cap = 256;
    state.sites = calloc(state.sites_cap, sizeof(*state.sites));
    state.nsites = 1;   /* site 0: no Python frame */
    state.generation++;
    failed |= state.sites == NULL;
    failed = failed || rebuild_index_unlocked(1024) < 0 ||
             grow_locations_unlocked() < 0;
    unlock_state();
    if (failed) {
        drop_records();
        PyErr_NoMemory();
        return -1;
    }
    state.removed = 0;
    state.layer = install_layer();
    if (state.layer == NULL) {
        drop_records();
        PyErr_SetString(PyExc_RuntimeError,
                        "pyprof: too many allocator hooks layered over "
                        "pyprof's");
        return -1;
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
    remove_layer(state.layer);
    state.layer = NULL;
    drop_records();
    if (state.removed) {
        /* Said here, once, for every feature that tracks: the counters
         * it reported miss whatever was allocated after that point. */
        PySys_WriteStderr(
            "pyprof: another tool took pyprof's allocation hooks out "
            "while it ran (tracemalloc.stop() after an earlier "
            "tracemalloc.start()?): allocations after that were not "
            "counted\n");
    }
}

int
pyprof_alloc_was_removed(void)
{
    return state.removed;
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
    lock_state();
    pyprof_block_t entry;
    if (pyprof_blockmap_get(&state.blocks, block, &entry) &&
        entry.site != 0) {
        *code = state.sites[entry.site].code;
        *lineno = state.sites[entry.site].lineno;
        found = 1;
    }
    unlock_state();
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
    lock_state();
    uint32_t site = find_site_unlocked(code, lineno, 0);
    int found = site != UINT32_MAX && site != 0;
    if (found) {
        *out = state.sites[site].counts;
    }
    unlock_state();
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
    lock_state();
    uint32_t n = state.nsites;
    site_t *copy = malloc((n ? n : 1) * sizeof(*copy));
    if (copy != NULL) {
        memcpy(copy, state.sites, n * sizeof(*copy));
    }
    unlock_state();
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
