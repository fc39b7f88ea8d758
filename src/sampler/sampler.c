/* sampler.c - one sample: every interpreter, every thread, every frame.
 *
 * The walk reads, per sample: the interpreter list head, per interpreter
 * its id, thread list head, next pointer (and GIL state); per thread one
 * block of its PyThreadState; per frame one frame block and the head of
 * its code object.  The code head is compared with the code cache entry
 * (codecache.h): on a hit nothing else is read -- names, file names and
 * line tables come from the cache, lines are decoded locally.
 *
 * Lists in the target are walked with caps (interpreters, threads,
 * frames), so a cycle made by memory changing under the reader ends the
 * walk; any read that fails makes the sample INCONSISTENT (or GONE).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "linetable.h"
#include "pause.h"
#include "permission.h"
#include "sampler_internal.h"

#define MAX_INTERPRETERS 256
#define MAX_THREADS 4096
#define MAX_FRAME_STEPS (2 * PYPROF_SAMPLER_MAX_FRAMES) /* shims included */
#define BUFFER_BYTES 4096
#define TASK_PRUNE_EVERY 256
/* glibc keeps the kernel tid at this offset of struct pthread (whose
 * address is pthread_t, what 3.10 stores as thread_id); checked against
 * /proc/PID/task before use */
#define GLIBC_PTHREAD_TID_OFFSET 720
#define MAX_CODE_BYTES (1 << 24)
/* internal flag: take `running` from task->running_before */
#define SAMPLE_RUNNING_BEFORE (1u << 30)

const char *
pyprof_sampler_status_name(int status)
{
    switch (status) {
    case PYPROF_SAMPLER_OK: return "ok";
    case PYPROF_SAMPLER_PERMISSION: return "permission denied";
    case PYPROF_SAMPLER_NOT_PYTHON: return "not python";
    case PYPROF_SAMPLER_UNSUPPORTED: return "unsupported python";
    case PYPROF_SAMPLER_NOT_READY: return "python not initialized";
    case PYPROF_SAMPLER_GONE: return "process gone";
    case PYPROF_SAMPLER_INCONSISTENT: return "inconsistent memory";
    case PYPROF_SAMPLER_NO_MEMORY: return "out of memory";
    case PYPROF_SAMPLER_BAD_ARGUMENT: return "bad argument";
    default: return "unknown error";
    }
}

static int
fail(pyprof_sampler_t *sampler, int status, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(sampler->error, sizeof(sampler->error), format, args);
    va_end(args);
    return status;
}

static void
set_error(int *status_out, char *err, size_t errlen, int status,
          const char *message)
{
    if (status_out) {
        *status_out = status;
    }
    if (err && errlen) {
        snprintf(err, errlen, "%s", message);
    }
}

pyprof_sampler_t *
pyprof_sampler_open(const pyprof_memory_reader_t *reader,
                    uint64_t runtime_addr, uint32_t version_hex, pid_t pid,
                    int *status, char *err, size_t errlen)
{
    char message[PYPROF_SAMPLER_ERROR_MAX] = "";
    unsigned char head[PYPROF_LAYOUT_HEAD_BYTES];
    pyprof_sampler_t *sampler = calloc(1, sizeof(*sampler));
    if (sampler == NULL) {
        set_error(status, err, errlen, PYPROF_SAMPLER_NO_MEMORY,
                  "out of memory");
        return NULL;
    }
    sampler->remote.reader = *reader;
    sampler->runtime_addr = runtime_addr;
    sampler->pid = pid;
    pyprof_codecache_init(&sampler->codes);
    /* a reader with a gather is a live process's (memory.h): the bytes
     * between two frames of its data stack can be read too */
    pyprof_snapshot_init(&sampler->snapshot, reader->gather != NULL);
    pyprof_tasks_init(&sampler->tasks, pid);
    pyprof_threadnames_init(&sampler->names);
    sampler->frames = calloc(PYPROF_SAMPLER_MAX_FRAMES,
                             sizeof(*sampler->frames));
    sampler->buffer = malloc(4 * BUFFER_BYTES);
    if (sampler->frames == NULL || sampler->buffer == NULL) {
        set_error(status, err, errlen, PYPROF_SAMPLER_NO_MEMORY,
                  "out of memory");
        goto error;
    }
    sampler->steps = malloc(MAX_FRAME_STEPS * sizeof(*sampler->steps));
    sampler->code_heads = malloc(PYPROF_MEMORY_MAX_READV * BUFFER_BYTES);
    if (sampler->steps == NULL || sampler->code_heads == NULL) {
        set_error(status, err, errlen, PYPROF_SAMPLER_NO_MEMORY,
                  "out of memory");
        goto error;
    }
    const unsigned char *head_bytes = NULL;
    size_t head_len = 0;
    if (version_hex >= 0x030D0000) {
        int rc = pyprof_remote_read(&sampler->remote, runtime_addr, head,
                                    sizeof(head));
        if (rc) {
            snprintf(message, sizeof(message),
                     "cannot read the target's _PyRuntime at %#llx (%s)",
                     (unsigned long long)runtime_addr,
                     pyprof_sampler_status_name(rc));
            set_error(status, err, errlen, rc, message);
            goto error;
        }
        head_bytes = head;
        head_len = sizeof(head);
    }
    int rc = pyprof_layout_get(version_hex, head_bytes, head_len,
                               &sampler->layout, message, sizeof(message));
    if (rc) {
        set_error(status, err, errlen, rc, message);
        goto error;
    }
    if (status) {
        *status = PYPROF_SAMPLER_OK;
    }
    return sampler;
error:
    pyprof_sampler_detach(sampler);
    return NULL;
}

void
pyprof_sampler_detach(pyprof_sampler_t *sampler)
{
    if (sampler == NULL) {
        return;
    }
    pyprof_codecache_clear(&sampler->codes);
    pyprof_snapshot_clear(&sampler->snapshot);
    pyprof_tasks_clear(&sampler->tasks);
    pyprof_threadnames_clear(&sampler->names);
    free(sampler->frames);
    free(sampler->buffer);
    free(sampler->steps);
    free(sampler->code_heads);
    free(sampler);
}

static uint64_t
get_u64(const unsigned char *block, uint64_t offset)
{
    uint64_t value;
    memcpy(&value, block + offset, sizeof(value));
    return value;
}

static int32_t
get_i32(const unsigned char *block, uint64_t offset)
{
    int32_t value;
    memcpy(&value, block + offset, sizeof(value));
    return value;
}

/* [addr, addr + len) of the target: a pointer into the snapshot when it
 * holds the range, else the bytes read now into `scratch` (len bytes).
 * Either way the range is noted for the next snapshot (snapshot.h). */
static int
fetch(pyprof_sampler_t *sampler, uint64_t addr, size_t len, void *scratch,
      const unsigned char **bytes)
{
    pyprof_snapshot_want(&sampler->snapshot, addr, len, 0);
    const unsigned char *held =
        pyprof_snapshot_find(&sampler->snapshot, addr, len);
    if (held) {
        *bytes = held;
        return 0;
    }
    *bytes = scratch;
    return pyprof_remote_read(&sampler->remote, addr, scratch, len);
}

/* reads[0..n) (n <= PYPROF_MEMORY_MAX_READV) copied into their buffers:
 * from the snapshot what it holds, the rest in one readv now. */
static int
fetch_many(pyprof_sampler_t *sampler, const pyprof_memory_read_t *reads,
           size_t n)
{
    pyprof_memory_read_t missing[PYPROF_MEMORY_MAX_READV];
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        pyprof_snapshot_want(&sampler->snapshot, reads[i].addr, reads[i].len,
                             0);
        const unsigned char *held = pyprof_snapshot_find(
            &sampler->snapshot, reads[i].addr, reads[i].len);
        if (held) {
            memcpy(reads[i].buf, held, reads[i].len);
        }
        else {
            missing[m++] = reads[i];
        }
    }
    return m ? pyprof_remote_readv(&sampler->remote, missing, m) : 0;
}

static int
fetch_u64(pyprof_sampler_t *sampler, uint64_t addr, uint64_t *value)
{
    pyprof_memory_read_t read = {addr, value, sizeof(*value)};
    return fetch_many(sampler, &read, 1);
}

/* The cache entry of the code object at `code_addr`, whose head was read
 * into `head` (code_size bytes); the rest is read on a miss. */
static int
resolve_code(pyprof_sampler_t *sampler, uint64_t code_addr,
             const unsigned char *head, pyprof_code_entry_t **out)
{
    const pyprof_layout_t *layout = &sampler->layout;
    int rc;
    pyprof_code_key_t key = {
        .name = get_u64(head, layout->code_qualname ? layout->code_qualname
                                                    : layout->code_name),
        .filename = get_u64(head, layout->code_filename),
        .linetable = get_u64(head, layout->code_linetable),
        .firstlineno = get_i32(head, layout->code_firstlineno),
    };
    *out = pyprof_codecache_find(&sampler->codes, code_addr, &key);
    if (*out) {
        (*out)->checked = sampler->stats.samples;
        return 0;
    }
    sampler->stats.code_cache_misses++;
    char *name = NULL, *filename = NULL;
    uint8_t *linetable = NULL;
    size_t linetable_len = 0;
    rc = pyprof_remote_unicode(&sampler->remote, layout, key.name, &name);
    if (rc == 0) {
        rc = pyprof_remote_unicode(&sampler->remote, layout, key.filename,
                                   &filename);
    }
    if (rc == 0) {
        rc = pyprof_remote_bytes(&sampler->remote, layout, key.linetable,
                                 &linetable, &linetable_len);
    }
    pyprof_line_range_t *lines = NULL;
    size_t nlines = 0;
    if (rc == 0
        && pyprof_linetable_decode(layout->linetable_format, linetable,
                                   linetable_len, key.firstlineno, &lines,
                                   &nlines) < 0) {
        rc = PYPROF_SAMPLER_NO_MEMORY;
    }
    free(linetable);
    if (rc) {
        free(name);
        free(filename);
        return rc;
    }
    *out = pyprof_codecache_store(&sampler->codes, code_addr, &key, name,
                                  filename, lines, nlines);
    if (*out == NULL) {
        return PYPROF_SAMPLER_NO_MEMORY;
    }
    (*out)->checked = sampler->stats.samples;
    return 0;
}

/* The line of frame: `instr` is 3.10's f_lasti (in code units) or the
 * 3.11+ instruction pointer. */
static int
frame_line(const pyprof_layout_t *layout, const pyprof_code_entry_t *entry,
           uint64_t code_addr, uint64_t instr, int firstlineno)
{
    int64_t addr;
    if (layout->frame_is_object) {
        addr = (int64_t)(int32_t)instr * 2;
    }
    else {
        addr = (int64_t)(instr - (code_addr + layout->code_adaptive));
    }
    if (addr >= MAX_CODE_BYTES || addr < -MAX_CODE_BYTES) {
        return 0;
    }
    int line = pyprof_linetable_find(entry->lines, entry->nlines,
                                     firstlineno, (int)addr);
    return line < 0 ? 0 : line;
}

/* The frame at `addr` (frame_size bytes) out of the window of target
 * memory last read into `window` (at *window_addr, *window_len long), or
 * read now.  From 3.11 on frames live in the thread's data stack, the
 * caller's below the callee's: one read of what lies below the frame, in
 * its page, serves the next frames too.  A window that cannot be read
 * (an image holds the exact frames only) falls back to the frame alone.
 * The snapshot (snapshot.h) comes first: a stack like the last sample's
 * is read with the sample's first read. */
static int
frame_bytes(pyprof_sampler_t *sampler, uint64_t addr,
            unsigned char *window, uint64_t *window_addr, size_t *window_len,
            const unsigned char **frame)
{
    size_t size = sampler->layout.frame_size;
    pyprof_snapshot_want(&sampler->snapshot, addr, size, 1);
    const unsigned char *held =
        pyprof_snapshot_find(&sampler->snapshot, addr, size);
    if (held) {
        *frame = held;
        return 0;
    }
    if (*window_len >= size && addr >= *window_addr
        && addr - *window_addr <= *window_len - size) {
        *frame = window + (addr - *window_addr);
        return 0;
    }
    if (!sampler->layout.frame_is_object && addr >= BUFFER_BYTES
        && addr + size > addr) {
        uint64_t page = addr & ~(uint64_t)(BUFFER_BYTES - 1);
        uint64_t low = addr + size - BUFFER_BYTES;
        low = low > page ? low : page;
        size_t len = (size_t)(addr + size - low);
        if (len > size && pyprof_remote_read(&sampler->remote, low, window,
                                             len) == 0) {
            *window_addr = low;
            *window_len = len;
            *frame = window + (addr - low);
            return 0;
        }
    }
    *window_len = 0;
    int rc = pyprof_remote_read(&sampler->remote, addr, window, size);
    if (rc == 0) {
        *window_addr = addr;
        *window_len = size;
        *frame = window;
    }
    return rc;
}

/* Check (and on a miss, read) the code objects of steps[0..n) not yet
 * checked in this sample, each code object once: the heads the snapshot
 * holds at once, the others read PYPROF_MEMORY_MAX_READV at a time. */
static int
check_codes(pyprof_sampler_t *sampler, const pyprof_frame_step_t *steps,
            size_t n)
{
    const pyprof_layout_t *layout = &sampler->layout;
    pyprof_memory_read_t reads[PYPROF_MEMORY_MAX_READV];
    size_t batched = 0;
    for (size_t i = 0; i <= n; i++) {
        uint64_t code = i < n ? steps[i].code : 0;
        if (code != 0
            && pyprof_codecache_checked(&sampler->codes, code,
                                        sampler->stats.samples) == NULL) {
            int queued = 0;
            for (size_t k = 0; k < batched && !queued; k++) {
                queued = reads[k].addr == code;
            }
            pyprof_snapshot_want(&sampler->snapshot, code, layout->code_size,
                                 0);
            const unsigned char *held = pyprof_snapshot_find(
                &sampler->snapshot, code, layout->code_size);
            pyprof_code_entry_t *entry;
            if (held && !queued) {
                int rc = resolve_code(sampler, code, held, &entry);
                if (rc) {
                    return rc;
                }
            }
            else if (!queued) {
                reads[batched] = (pyprof_memory_read_t){
                    code, sampler->code_heads + batched * BUFFER_BYTES,
                    layout->code_size};
                batched++;
            }
        }
        if (batched == PYPROF_MEMORY_MAX_READV || (i == n && batched > 0)) {
            int rc = pyprof_remote_readv(&sampler->remote, reads, batched);
            for (size_t k = 0; rc == 0 && k < batched; k++) {
                pyprof_code_entry_t *entry;
                rc = resolve_code(sampler, reads[k].addr, reads[k].buf,
                                  &entry);
            }
            if (rc) {
                return rc;
            }
            batched = 0;
        }
    }
    return 0;
}

/* Read the frames of one thread, innermost first, into sampler->frames:
 * the frame chain first (few reads: see frame_bytes), then the code
 * objects (see check_codes), then each frame's function and line. */
static int
walk_frames(pyprof_sampler_t *sampler, uint64_t frame_addr,
            size_t *nframes, int *truncated)
{
    const pyprof_layout_t *layout = &sampler->layout;
    pyprof_frame_step_t *steps = sampler->steps;
    uint64_t window_addr = 0;
    size_t window_len = 0, n = 0;
    *truncated = 0;
    for (int count = 0; frame_addr != 0; count++) {
        if (n == PYPROF_SAMPLER_MAX_FRAMES || count == MAX_FRAME_STEPS) {
            *truncated = 1;
            break;
        }
        const unsigned char *frame;
        int rc = frame_bytes(sampler, frame_addr, sampler->buffer,
                             &window_addr, &window_len, &frame);
        if (rc) {
            return rc;
        }
        frame_addr = get_u64(frame, layout->frame_previous);
        uint64_t code_addr = get_u64(frame, layout->frame_code);
        if (layout->frame_owner) {
            int owner = (signed char)frame[layout->frame_owner];
            if (owner == layout->owner_skip_a
                || owner == layout->owner_skip_b) {
                continue;
            }
        }
        if (layout->code_is_tagged) {
            code_addr &= ~(uint64_t)7;
        }
        if (code_addr == 0 && frame_addr != 0) {
            /* a frame without code inside the stack, frames before it:
             * skipped (3.14 and 3.15 stacks have such frames, and taking
             * them for torn fails 2-4% of their deep samples) */
            continue;
        }
        if (code_addr == 0) {
            /* a last frame without code, nothing before it: memory the
             * target unmapped and mapped again (a data stack chunk freed
             * as the stack unwound, all zeros now) while the walk read
             * older bytes that led here -- not the end of a stack */
            return fail(sampler, PYPROF_SAMPLER_INCONSISTENT,
                        "a frame without code: the stack changed while "
                        "read");
        }
        steps[n].code = code_addr;
        steps[n].instr = layout->frame_is_object
                             ? (uint64_t)(uint32_t)get_i32(frame,
                                                           layout->frame_instr)
                             : get_u64(frame, layout->frame_instr);
        n++;
    }
    int rc = check_codes(sampler, steps, n);
    if (rc) {
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        pyprof_code_entry_t *entry = pyprof_codecache_checked(
            &sampler->codes, steps[i].code, sampler->stats.samples);
        if (entry == NULL) {
            return PYPROF_SAMPLER_INCONSISTENT;
        }
        const pyprof_function_t *function =
            pyprof_codecache_function(&sampler->codes, entry->function_id);
        pyprof_frame_t *out = &sampler->frames[i];
        out->name = function->name;
        out->filename = function->filename;
        out->firstlineno = function->firstlineno;
        out->function_id = entry->function_id;
        out->line = frame_line(layout, entry, steps[i].code, steps[i].instr,
                               function->firstlineno);
    }
    *nframes = n;
    return 0;
}

typedef struct {
    int known;            /* the GIL state could be read */
    int locked;
    uint64_t holder;      /* the PyThreadState that holds (or last held) it */
} gil_state_t;

static int
read_gil(pyprof_sampler_t *sampler, uint64_t base, uint64_t locked_offset,
         uint64_t holder_offset, gil_state_t *gil)
{
    int32_t locked;
    pyprof_memory_read_t reads[2] = {
        {base + locked_offset, &locked, sizeof(locked)},
        {base + holder_offset, &gil->holder, sizeof(gil->holder)},
    };
    int rc = fetch_many(sampler, reads, 2);
    if (rc == 0) {
        gil->known = 1;
        gil->locked = locked != 0;
    }
    return rc;
}

/* The kernel tid of a 3.10 thread: from glibc's struct pthread. */
static long
tid_from_pthread(pyprof_sampler_t *sampler, uint64_t pthread_self)
{
    int32_t tid;
    pyprof_memory_read_t read = {pthread_self + GLIBC_PTHREAD_TID_OFFSET,
                                 &tid, sizeof(tid)};
    if (pthread_self == 0 || fetch_many(sampler, &read, 1) || tid <= 0) {
        return 0;
    }
    /* a tid already known needs no look at /proc each sample */
    if (sampler->pid > 0 && !pyprof_tasks_find(&sampler->tasks, tid)
        && !pyprof_tasks_exists(sampler->pid, tid)) {
        return 0;
    }
    return tid;
}

typedef struct {
    unsigned flags;
    pyprof_sample_cb cb;
    void *ctx;
    gil_state_t gil;
    int64_t interpreter_id;
    uint64_t interp_addr;
    uint64_t now_ns;      /* when the sample started (CLOCK_MONOTONIC) */
    int names_due;        /* read the threading names at the first thread */
    int names_done;       /* ... and they were read in this sample */
    uint64_t main_interp; /* the main interpreter, once walked */
} walk_t;

/* The threading name of the thread `ident` (borrowed), or NULL: names
 * are read for the main interpreter only, rarely (threadnames.h). */
static const char *
thread_name(pyprof_sampler_t *sampler, walk_t *walk, uint64_t ident)
{
    if (walk->interpreter_id != 0) {
        return NULL;
    }
    walk->main_interp = walk->interp_addr;
    uint64_t refreshes = sampler->names.refreshes;
    if (walk->names_due) {
        walk->names_due = 0;
        pyprof_threadnames_read(&sampler->names, &sampler->remote,
                                &sampler->layout, walk->interp_addr,
                                walk->now_ns);
    }
    const char *name = pyprof_threadnames_get(
        &sampler->names, &sampler->remote, &sampler->layout,
        walk->interp_addr, ident, walk->now_ns);
    walk->names_done |= sampler->names.refreshes != refreshes;
    return name;
}

static int
sample_thread(pyprof_sampler_t *sampler, walk_t *walk, uint64_t tstate_addr,
              uint64_t *next)
{
    const pyprof_layout_t *layout = &sampler->layout;
    unsigned char local[BUFFER_BYTES];
    const unsigned char *tstate;
    int rc = fetch(sampler, tstate_addr, layout->tstate_size, local, &tstate);
    if (rc) {
        return rc;
    }
    if (get_u64(tstate, layout->tstate_interp) != walk->interp_addr) {
        return fail(sampler, PYPROF_SAMPLER_INCONSISTENT,
                    "a thread state changed interpreter while read");
    }
    *next = get_u64(tstate, layout->tstate_next);
    uint64_t frame_addr;
    if (layout->has_cframe) {
        uint64_t cframe = get_u64(tstate, layout->tstate_cframe);
        frame_addr = 0;
        if (cframe != 0) {
            rc = fetch_u64(sampler, cframe + layout->cframe_current_frame,
                           &frame_addr);
            if (rc) {
                return rc;
            }
        }
    }
    else {
        frame_addr = get_u64(tstate, layout->tstate_frame);
    }
    pyprof_thread_sample_t thread = {
        .pid = sampler->pid,
        .thread_id = get_u64(tstate, layout->tstate_thread_id),
        .interpreter_id = walk->interpreter_id,
        .holds_gil = -1,
        .running = -1,
        .name = "",
        .os_name = "",
    };
    if (layout->tstate_native_thread_id) {
        thread.native_id =
            (long)get_u64(tstate, layout->tstate_native_thread_id);
    }
    else {
        thread.native_id = tid_from_pthread(sampler, thread.thread_id);
    }
    thread.is_main = sampler->pid > 0 && thread.native_id == sampler->pid;
    if (walk->gil.known) {
        thread.holds_gil = walk->gil.locked && walk->gil.holder == tstate_addr;
    }
    rc = walk_frames(sampler, frame_addr, &thread.nframes, &thread.truncated);
    if (rc) {
        return fail(sampler, rc, "reading the stack of thread %ld: %s",
                    thread.native_id, pyprof_sampler_status_name(rc));
    }
    thread.frames = sampler->frames;
    if (thread.native_id > 0 && sampler->pid > 0) {
        pyprof_task_t *task = pyprof_tasks_get(
            &sampler->tasks, thread.native_id, sampler->stats.samples);
        if (task) {
            thread.os_name = pyprof_tasks_name(
                &sampler->tasks, task, walk->flags & PYPROF_SAMPLE_NAMES);
            if (walk->flags & SAMPLE_RUNNING_BEFORE) {
                thread.running = task->running_before;
            }
            else if ((walk->flags & PYPROF_SAMPLE_RUNNING)
                     && thread.holds_gil == 1) {
                /* the GIL holder runs Python code (a thread releases the
                 * GIL before it waits): no /proc read needed */
                thread.running = 1;
            }
            else if (walk->flags & PYPROF_SAMPLE_RUNNING) {
                thread.running = pyprof_tasks_running(&sampler->tasks, task);
            }
        }
    }
    thread.name = thread_name(sampler, walk, thread.thread_id);
    if (thread.name == NULL) {
        thread.name = thread.os_name;
    }
    return walk->cb(walk->ctx, &thread);
}

/* The reads of an interpreter's next, threads head, id and GIL pointer
 * (the last only where the layout has one) into fields[0..4). */
static void
interp_reads(const pyprof_layout_t *layout, uint64_t interp,
             uint64_t fields[4], pyprof_memory_read_t reads[4])
{
    const uint64_t offsets[4] = {layout->interp_next,
                                 layout->interp_threads_head,
                                 layout->interp_id, layout->interp_ceval_gil};
    for (int i = 0; i < 4; i++) {
        reads[i] = (pyprof_memory_read_t){interp + offsets[i], &fields[i],
                                          sizeof(fields[i])};
    }
}

static int
sample_interpreter(pyprof_sampler_t *sampler, walk_t *walk, uint64_t interp,
                   uint64_t *next)
{
    const pyprof_layout_t *layout = &sampler->layout;
    /* the interpreter's fields in one read: next, threads, id, GIL */
    uint64_t fields[4] = {0, 0, 0, 0};
    pyprof_memory_read_t reads[4];
    interp_reads(layout, interp, fields, reads);
    int rc = fetch_many(sampler, reads, layout->interp_ceval_gil ? 4 : 3);
    if (rc) {
        return rc;
    }
    *next = fields[0];
    uint64_t threads = fields[1], gil_addr = fields[3];
    walk->interp_addr = interp;
    walk->interpreter_id = (int64_t)fields[2];
    if (layout->interp_ceval_gil) {
        walk->gil.known = 0;
        if (gil_addr != 0) {
            /* unreadable GIL state is "unknown", not a failed sample */
            read_gil(sampler, gil_addr, layout->gil_locked,
                     layout->gil_holder, &walk->gil);
        }
    }
    uint64_t tstate = threads;
    for (int count = 0; tstate != 0; count++) {
        if (count == MAX_THREADS) {
            return fail(sampler, PYPROF_SAMPLER_INCONSISTENT,
                        "more than %d threads in one interpreter",
                        MAX_THREADS);
        }
        uint64_t tstate_next;
        rc = sample_thread(sampler, walk, tstate, &tstate_next);
        if (rc) {
            return rc;
        }
        tstate = tstate_next;
    }
    return 0;
}

/* The first reads of a sample: the snapshot of what the last sample read
 * (one syscall for a steady target, snapshot.h), then from it or the
 * target the interpreter list head and the runtime's GIL (3.10-3.11). */
static int
read_heads(pyprof_sampler_t *sampler, gil_state_t *gil, uint64_t *interp)
{
    const pyprof_layout_t *layout = &sampler->layout;
    pyprof_snapshot_fill(&sampler->snapshot, &sampler->remote);
    int rc = fetch_u64(sampler,
                       sampler->runtime_addr
                           + layout->runtime_interpreters_head,
                       interp);
    if (rc == 0 && layout->runtime_gil_locked) {
        /* unreadable GIL state is "unknown", not a failed sample */
        read_gil(sampler, sampler->runtime_addr, layout->runtime_gil_locked,
                 layout->runtime_gil_holder, gil);
    }
    return rc;
}

/* The whole walk: every interpreter, thread and frame. */
static int
walk_all(pyprof_sampler_t *sampler, unsigned flags, pyprof_sample_cb cb,
         void *ctx)
{
    walk_t walk = {.flags = flags, .cb = cb, .ctx = ctx};
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    walk.now_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
    /* a periodic read of the names comes after the walk (and after a
     * blocking sample let the threads go: pyprof_sampler_sample), not in
     * the middle of it, where it would delay the reads of later threads;
     * a first or forced read comes at the first thread */
    int names_due = pyprof_threadnames_tick(&sampler->names, walk.now_ns,
                                            flags & PYPROF_SAMPLE_NAMES);
    walk.names_due = names_due && (!sampler->names.refreshed
                                   || (flags & PYPROF_SAMPLE_NAMES));
    uint64_t interp;
    int rc = read_heads(sampler, &walk.gil, &interp);
    if (rc == 0 && interp == 0) {
        rc = fail(sampler, PYPROF_SAMPLER_NOT_READY,
                  "the target's interpreter is not initialized (or is "
                  "finalized)");
    }
    for (int count = 0; rc == 0 && interp != 0; count++) {
        if (count == MAX_INTERPRETERS) {
            rc = fail(sampler, PYPROF_SAMPLER_INCONSISTENT,
                      "more than %d interpreters", MAX_INTERPRETERS);
            break;
        }
        rc = sample_interpreter(sampler, &walk, interp, &interp);
    }
    sampler->names_due_interp = 0;
    if (rc == 0 && names_due && !walk.names_done) {
        sampler->names_due_interp = walk.main_interp;
        sampler->names_due_ns = walk.now_ns;
    }
    return rc;
}

/* The kernel tids of every Python thread, into tids[0..*count). */
static int
collect_tids(pyprof_sampler_t *sampler, long *tids, size_t *count)
{
    const pyprof_layout_t *layout = &sampler->layout;
    uint64_t interp;
    *count = 0;
    int rc = pyprof_remote_u64(
        &sampler->remote,
        sampler->runtime_addr + layout->runtime_interpreters_head, &interp);
    for (int i = 0; rc == 0 && interp != 0 && i < MAX_INTERPRETERS; i++) {
        uint64_t tstate;
        rc = pyprof_remote_u64(&sampler->remote,
                               interp + layout->interp_threads_head, &tstate);
        for (int k = 0; rc == 0 && tstate != 0 && k < MAX_THREADS; k++) {
            uint64_t id = 0;
            if (layout->tstate_native_thread_id) {
                rc = pyprof_remote_u64(
                    &sampler->remote,
                    tstate + layout->tstate_native_thread_id, &id);
            }
            else {
                uint64_t pthread_self = 0;
                rc = pyprof_remote_u64(&sampler->remote,
                                       tstate + layout->tstate_thread_id,
                                       &pthread_self);
                id = (uint64_t)tid_from_pthread(sampler, pthread_self);
            }
            if (rc == 0 && id > 0 && id < (1u << 30)
                && *count < MAX_THREADS) {
                tids[(*count)++] = (long)id;
            }
            if (rc == 0) {
                rc = pyprof_remote_u64(&sampler->remote,
                                       tstate + layout->tstate_next, &tstate);
            }
        }
        if (rc == 0) {
            rc = pyprof_remote_u64(&sampler->remote,
                                   interp + layout->interp_next, &interp);
        }
    }
    return rc;
}

/* A walk with the Python threads stopped for its duration. */
static int
walk_blocking(pyprof_sampler_t *sampler, unsigned flags, pyprof_sample_cb cb,
              void *ctx)
{
    if (sampler->pid <= 0) {
        return fail(sampler, PYPROF_SAMPLER_BAD_ARGUMENT,
                    "a blocking sample needs a live process");
    }
    long *tids = malloc(2 * MAX_THREADS * sizeof(*tids));
    if (tids == NULL) {
        return PYPROF_SAMPLER_NO_MEMORY;
    }
    long *paused = tids + MAX_THREADS;
    size_t count, npaused = 0;
    int rc = collect_tids(sampler, tids, &count);
    if (rc == 0 && (flags & PYPROF_SAMPLE_RUNNING)) {
        /* a stopped thread is never running: ask before stopping it; with
         * BUSY_ONLY a thread found idle is left out (not stopped) */
        size_t kept = 0;
        for (size_t i = 0; i < count; i++) {
            pyprof_task_t *task = pyprof_tasks_get(&sampler->tasks, tids[i],
                                                   sampler->stats.samples);
            if (task) {
                task->running_before =
                    pyprof_tasks_running(&sampler->tasks, task);
            }
            if (!(flags & PYPROF_SAMPLE_BUSY_ONLY) || task == NULL
                || task->running_before != 0) {
                tids[kept++] = tids[i];
            }
        }
        count = kept;
        flags |= SAMPLE_RUNNING_BEFORE;
    }
    if (rc == 0) {
        rc = pyprof_pause_threads(sampler->pid, tids, count, paused,
                                  &npaused);
    }
    if (rc == 0) {
        rc = walk_all(sampler, flags, cb, ctx);
        pyprof_resume_threads(paused, npaused);
    }
    free(tids);
    return rc;
}

int
pyprof_sampler_sample(pyprof_sampler_t *sampler, unsigned flags,
                      pyprof_sample_cb cb, void *ctx)
{
    sampler->stats.samples++;
    sampler->error[0] = '\0';
    int rc = (flags & PYPROF_SAMPLE_BLOCKING)
                 ? walk_blocking(sampler, flags, cb, ctx)
                 : walk_all(sampler, flags, cb, ctx);
    if (sampler->names_due_interp) {
        pyprof_threadnames_read(&sampler->names, &sampler->remote,
                                &sampler->layout, sampler->names_due_interp,
                                sampler->names_due_ns);
        sampler->names_due_interp = 0;
    }
    if (sampler->stats.samples % TASK_PRUNE_EVERY == 0
        && sampler->stats.samples > TASK_PRUNE_EVERY) {
        pyprof_tasks_prune(&sampler->tasks,
                           sampler->stats.samples - TASK_PRUNE_EVERY);
    }
    if (rc > 0) {
        sampler->stats.failed++;
        if (rc == PYPROF_SAMPLER_PERMISSION && sampler->pid > 0) {
            pyprof_permission_explain(sampler->pid, sampler->error,
                                      sizeof(sampler->error));
        }
        else if (sampler->error[0] == '\0') {
            fail(sampler, rc, "%s", pyprof_sampler_status_name(rc));
        }
    }
    return rc;
}

uint32_t
pyprof_sampler_version(const pyprof_sampler_t *sampler)
{
    return sampler->layout.version;
}

uint64_t
pyprof_sampler_runtime_address(const pyprof_sampler_t *sampler)
{
    return sampler->runtime_addr;
}

pid_t
pyprof_sampler_pid(const pyprof_sampler_t *sampler)
{
    return sampler->pid;
}

const char *
pyprof_sampler_binary(const pyprof_sampler_t *sampler)
{
    return sampler->binary;
}

const char *
pyprof_sampler_error(const pyprof_sampler_t *sampler)
{
    return sampler->error;
}

void
pyprof_sampler_get_stats(const pyprof_sampler_t *sampler,
                         pyprof_sampler_stats_t *stats)
{
    *stats = sampler->stats;
    stats->reads = sampler->remote.reads;
    stats->bytes_read = sampler->remote.bytes;
}
