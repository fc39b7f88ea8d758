/* sampler.h - read the Python stacks of another process, from outside it.
 *
 * The sampler core behind `pyprof dump`, `pyprof record` and `pyprof top`.
 * It never stops the target (unless asked to) and never runs code in it: it
 * copies bytes out of the target's memory (process_vm_readv for a live
 * process, an in-memory image in tests and the fuzzer, see memory.h) and
 * interprets them with the struct layout of the target's CPython version,
 * which need not be the version pyprof itself was built for:
 *
 *   - the interpreter is found from the `_PyRuntime` symbol of the python
 *     binary or libpython mapped in /proc/PID/maps (ELF files read through
 *     /proc/PID/root/, so chroot and container targets work), plus the load
 *     bias from the maps;
 *   - the version from the `Py_Version` symbol (3.11+), else the file name;
 *   - from 3.13 on the offsets come from the target's own `_Py_DebugOffsets`
 *     (the head of `_PyRuntime`), so a new patch release needs no change;
 *     3.10-3.12 use the tables in offsets.c.
 *
 * Nothing read from the target is trusted: every read is bounded and
 * checked, every walk over a remote list has a cap, and memory that changes
 * under the reader yields PYPROF_SAMPLER_INCONSISTENT (retry at the next
 * sample), never a crash or a hang.
 *
 * Threads: a pyprof_sampler_t is used by one thread at a time.
 * Plain C: never includes Python.h.
 */
#ifndef PYPROF_SAMPLER_H
#define PYPROF_SAMPLER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memory.h"

/* What went wrong.  Every function that can fail returns one of these
 * (0 is success) and, where it takes or has an error buffer, a one-line
 * message naming the actual cause and its fix. */
typedef enum {
    PYPROF_SAMPLER_OK = 0,
    PYPROF_SAMPLER_PERMISSION,    /* the target's memory or /proc entries may
                                     not be read: Yama ptrace_scope (and its
                                     value), missing CAP_SYS_PTRACE, another
                                     user's process, a container -- the
                                     message says which */
    PYPROF_SAMPLER_NOT_PYTHON,    /* no CPython interpreter in the process */
    PYPROF_SAMPLER_UNSUPPORTED,   /* a CPython, but a version (or build, e.g.
                                     free-threaded) this sampler cannot read */
    PYPROF_SAMPLER_NOT_READY,     /* CPython found, but its runtime is not
                                     initialized yet (or already finalized):
                                     a just-started child; retry shortly */
    PYPROF_SAMPLER_GONE,          /* no such process, or it exited */
    PYPROF_SAMPLER_INCONSISTENT,  /* memory changed under the reader, or
                                     holds nonsense: drop this sample and
                                     retry at the next one */
    PYPROF_SAMPLER_NO_MEMORY,     /* malloc failed in pyprof */
    PYPROF_SAMPLER_BAD_ARGUMENT,  /* a caller error (e.g. flags) */
} pyprof_sampler_status_t;

/* A static English name of `status` ("permission", "not python", ...). */
const char *pyprof_sampler_status_name(int status);

typedef struct pyprof_sampler pyprof_sampler_t;

/* One Python frame.  The strings are UTF-8, NUL-terminated, interned by the
 * sampler: they stay valid, unchanged, until pyprof_sampler_detach(), so a
 * consumer may keep the pointers (or key on function_id) without copying. */
typedef struct {
    const char *name;        /* co_qualname from 3.11, co_name before */
    const char *filename;    /* co_filename */
    int line;                /* the line being executed; 0 when unknown */
    int firstlineno;         /* co_firstlineno (the def line) */
    uint32_t function_id;    /* small dense id >= 1 of (name, filename,
                                firstlineno), stable for the sampler's
                                lifetime: equal ids, equal strings */
} pyprof_frame_t;

/* One thread of one sample.  Everything is borrowed from the sampler and
 * valid only during the callback (except the frame strings, see above). */
typedef struct {
    pid_t pid;               /* the target process */
    long native_id;          /* the kernel thread id (TID); 0 if unknown */
    uint64_t thread_id;      /* threading.get_ident() of the thread */
    int64_t interpreter_id;  /* 0 for the main interpreter */
    const char *name;        /* the threading name (Thread.name, as
                                threading._active has it), else the OS
                                name; "" when neither is known */
    const char *os_name;     /* the OS thread name (/proc/PID/task/TID/comm)
                                or "" when unknown */
    int holds_gil;           /* 1, 0, or -1 when unknown */
    int running;             /* on a CPU (state R in /proc/.../stat, or
                                holds the GIL): 1, 0, or -1 when not
                                asked for or unknown */
    int is_main;             /* the process's first thread (TID == PID) */
    int truncated;           /* the stack was deeper than the cap: frames
                                holds the innermost nframes */
    size_t nframes;
    const pyprof_frame_t *frames; /* innermost first */
} pyprof_thread_sample_t;

/* Called once per Python thread of a sample.  Return 0 to go on; a
 * negative return stops the sample, and pyprof_sampler_sample() returns
 * that value (statuses are positive, so the two never mix). */
typedef int (*pyprof_sample_cb)(void *ctx,
                                const pyprof_thread_sample_t *thread);

/* pyprof_sampler_sample() flags. */
enum {
    PYPROF_SAMPLE_RUNNING = 1 << 0, /* fill `running`: 1 for the thread
                                       that holds the GIL, else one pread
                                       of /proc/PID/task/TID/stat (kept
                                       open) per thread */
    PYPROF_SAMPLE_NAMES = 1 << 1,   /* re-read every thread's name now;
                                       else an OS name is read when a TID
                                       is first seen and then reused, and
                                       the threading names when a new
                                       thread appears and about once a
                                       second (threadnames.h) */
    PYPROF_SAMPLE_BLOCKING = 1 << 2, /* stop the target's Python threads
                                       (ptrace) while the stacks are read,
                                       for consistent stacks; costs the
                                       target time */
    PYPROF_SAMPLE_BUSY_ONLY = 1 << 3, /* with RUNNING and BLOCKING: only
                                       the threads on a CPU are wanted, so
                                       a thread found idle is not stopped
                                       (stopping a sleeping thread wakes
                                       it: its sleep restarts, and it
                                       waits runnable for a CPU) */
};

/* The maximum number of frames reported per thread. */
#define PYPROF_SAMPLER_MAX_FRAMES 4096

/* Attach to the live process `pid`: find its interpreter, version and
 * offsets.  Does not stop the process.  Returns a new sampler (free it with
 * pyprof_sampler_detach) and sets *status to PYPROF_SAMPLER_OK; or returns
 * NULL, sets *status and writes a one-line message (no trailing newline)
 * into err[0..errlen).  `status` and `err` may be NULL.
 * A process that is about to exec python (a child just forked) gives
 * NOT_PYTHON or NOT_READY until it has: a caller that started it retries. */
pyprof_sampler_t *pyprof_sampler_attach(pid_t pid, int *status, char *err,
                                        size_t errlen);

/* A sampler over `reader` (copied; its ctx must outlive the sampler), for tests
 * and fuzzing: the `_PyRuntime` structure is at remote address
 * `runtime_addr` and the target is CPython `version_hex` (PY_VERSION_HEX
 * layout, e.g. 0x030C01F0).  `pid` is used only for /proc reads (thread
 * names, running state); pass 0 to skip them.  Same results as attach. */
pyprof_sampler_t *pyprof_sampler_open(const pyprof_memory_reader_t *reader,
                                      uint64_t runtime_addr,
                                      uint32_t version_hex, pid_t pid,
                                      int *status, char *err, size_t errlen);

/* Release everything the sampler holds (NULL is fine).  The target is not
 * touched. */
void pyprof_sampler_detach(pyprof_sampler_t *sampler);

/* Take one sample: walk every interpreter's thread states and call `cb`
 * once per thread, in the interpreter's order.  `flags` is a mask of
 * PYPROF_SAMPLE_*.  Returns 0; or a negative value from `cb`; or a
 * pyprof_sampler_status_t (GONE, PERMISSION, INCONSISTENT, NOT_READY,
 * NO_MEMORY), with pyprof_sampler_error() saying why.  On INCONSISTENT
 * some threads may already have been reported: a caller that wants all or
 * nothing buffers in `cb` and drops the buffer.  Steady-state sampling
 * reads each frame and its code object's head, nothing else: names, file
 * names and line tables are cached per remote code object. */
int pyprof_sampler_sample(pyprof_sampler_t *sampler, unsigned flags,
                          pyprof_sample_cb cb, void *ctx);

/* The target's CPython version, PY_VERSION_HEX layout (0x030D00F0). */
uint32_t pyprof_sampler_version(const pyprof_sampler_t *sampler);

/* The remote address of the target's _PyRuntime. */
uint64_t pyprof_sampler_runtime_address(const pyprof_sampler_t *sampler);

/* The target's pid (0 for an image). */
pid_t pyprof_sampler_pid(const pyprof_sampler_t *sampler);

/* The ELF file (python binary or libpython) the interpreter was found in,
 * as the target sees its path; "" for an image (borrowed). */
const char *pyprof_sampler_binary(const pyprof_sampler_t *sampler);

/* The message of the last failure of pyprof_sampler_sample(), "" if none
 * (borrowed; valid until the next call on the sampler). */
const char *pyprof_sampler_error(const pyprof_sampler_t *sampler);

/* Counters since attach, for benchmarks and for saying how many samples
 * were dropped. */
typedef struct {
    uint64_t samples;        /* pyprof_sampler_sample() calls */
    uint64_t failed;         /* of which returned a sampler error */
    uint64_t reads;          /* remote reads (syscalls for a live pid) */
    uint64_t bytes_read;
    uint64_t code_cache_misses; /* code objects read in full */
} pyprof_sampler_stats_t;

void pyprof_sampler_get_stats(const pyprof_sampler_t *sampler,
                              pyprof_sampler_stats_t *stats);

#endif
