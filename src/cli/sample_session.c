/* sample_session.c - samplers of a process tree feeding a recording.
 *
 * Each target maps the sampler's dense function ids to the recording's
 * function indices (one array probe per frame) and its thread ids to
 * thread pseudo-functions, so a steady-state sample allocates nothing.
 * A process that has exited is detached and stays in the list (its pid is
 * never attached again).  Descendants are found by reading the parent pid
 * of every /proc entry and closing over the first targets; a descendant
 * that is not (yet) Python is retried at the next scans, a few times.
 */
#include "sample_session.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/ptrmap.h"
#include "../sampler/sampler.h"

#define PENDING_TRIES 30    /* scans a non-Python descendant is retried */

typedef struct {
    pid_t pid;
    pyprof_sampler_t *sampler;  /* owned; NULL once the process is gone */
    uint32_t process_func;      /* PYPROF_NO_FUNCTION until first used */
    uint32_t *func_map;         /* function_id -> recording index + 1 */
    size_t func_cap;
    pyprof_ptrmap_t threads;    /* thread id + 1 -> recording index */
    char command[160];
    int64_t failing;            /* the last rounds' failures in a row that
                                   an exit looks like (see exit_shaped) */
    int sampled;                /* a sample of it has been read */
} target_t;

typedef struct {
    pid_t pid;
    int tries;                  /* scans left; 0 = given up */
} pending_t;

struct pyprof_session {
    pyprof_recording_t *rec;    /* borrowed */
    unsigned flags;
    target_t *targets;
    size_t ntargets, targets_cap;
    pid_t *roots;               /* the pids asked for, whose descendants
                                   --subprocesses follows */
    size_t nroots, roots_cap;
    pending_t *pending;
    size_t npending, pending_cap;
    target_t *current;          /* the target being sampled */
    pyprof_frame_ref_t *frames; /* buffered stacks of the current sample */
    size_t nframes, frames_cap;
    size_t *ends;               /* end of each buffered stack in frames */
    size_t nends, ends_cap;
    int64_t errors;
    char last_error[256];
};

static int
grow(void **array, size_t *cap, size_t need, size_t item)
{
    if (need <= *cap) {
        return 0;
    }
    size_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need) {
        ncap *= 2;
    }
    void *grown = realloc(*array, ncap * item);
    if (grown == NULL) {
        return -1;
    }
    *array = grown;
    *cap = ncap;
    return 0;
}

pyprof_session_t *
pyprof_session_new(pyprof_recording_t *rec, unsigned flags)
{
    pyprof_session_t *session = calloc(1, sizeof(*session));
    if (session != NULL) {
        session->rec = rec;
        session->flags = flags;
    }
    return session;
}

static void
forget_mappings(target_t *target)
{
    target->process_func = PYPROF_NO_FUNCTION;
    if (target->func_map != NULL) {
        memset(target->func_map, 0, target->func_cap * sizeof(uint32_t));
    }
    pyprof_ptrmap_clear(&target->threads);
}

void
pyprof_session_set_recording(pyprof_session_t *session,
                             pyprof_recording_t *rec)
{
    session->rec = rec;
    for (size_t i = 0; i < session->ntargets; i++) {
        forget_mappings(&session->targets[i]);
    }
}

void
pyprof_session_free(pyprof_session_t *session)
{
    if (session == NULL) {
        return;
    }
    for (size_t i = 0; i < session->ntargets; i++) {
        pyprof_sampler_detach(session->targets[i].sampler);
        free(session->targets[i].func_map);
        pyprof_ptrmap_free(&session->targets[i].threads);
    }
    free(session->targets);
    free(session->roots);
    free(session->pending);
    free(session->frames);
    free(session->ends);
    free(session);
}

/* The process's command line, arguments joined by spaces, shortened. */
static void
read_command(pid_t pid, char *out, size_t size)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    out[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return;
    }
    ssize_t n = read(fd, out, size - 1);
    close(fd);
    if (n <= 0) {
        out[0] = '\0';
        return;
    }
    while (n > 0 && out[n - 1] == '\0') {
        n--;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (out[i] == '\0' || !isprint((unsigned char)out[i])) {
            out[i] = ' ';
        }
    }
    out[n] = '\0';
}

/* The state letter and parent pid of `pid` from /proc/PID/stat; 0 when
 * the process is gone. */
static int
read_stat(pid_t pid, char *state, pid_t *ppid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) {
        return 0;
    }
    buf[n] = '\0';
    char *close_paren = strrchr(buf, ')');
    int parent = 0;
    if (close_paren == NULL
        || sscanf(close_paren + 1, " %c %d", state, &parent) != 2) {
        return 0;
    }
    *ppid = (pid_t)parent;
    return 1;
}

static int
alive(pid_t pid)
{
    char state;
    pid_t ppid;
    return read_stat(pid, &state, &ppid) && state != 'Z' && state != 'X';
}

static int
known_pid(const pyprof_session_t *session, pid_t pid)
{
    for (size_t i = 0; i < session->ntargets; i++) {
        if (session->targets[i].pid == pid) {
            return 1;
        }
    }
    return 0;
}

static int
add_target(pyprof_session_t *session, pid_t pid, pyprof_sampler_t *sampler)
{
    if (grow((void **)&session->targets, &session->targets_cap,
             session->ntargets + 1, sizeof(target_t)) < 0) {
        return -1;
    }
    target_t *target = &session->targets[session->ntargets];
    memset(target, 0, sizeof(*target));
    if (pyprof_ptrmap_init(&target->threads) < 0) {
        return -1;
    }
    target->pid = pid;
    target->sampler = sampler;
    target->process_func = PYPROF_NO_FUNCTION;
    read_command(pid, target->command, sizeof(target->command));
    session->ntargets++;
    return 0;
}

static int
add_root(pyprof_session_t *session, pid_t pid)
{
    if (grow((void **)&session->roots, &session->roots_cap,
             session->nroots + 1, sizeof(pid_t)) < 0) {
        return -1;
    }
    session->roots[session->nroots++] = pid;
    return 0;
}

int
pyprof_session_attach(pyprof_session_t *session, pid_t pid, int wait_ms,
                      char *errbuf, size_t errlen)
{
    if (add_root(session, pid) < 0) {
        snprintf(errbuf, errlen, "out of memory");
        return PYPROF_SAMPLER_NO_MEMORY;
    }
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int status = 0;
        pyprof_sampler_t *sampler = pyprof_sampler_attach(pid, &status,
                                                          errbuf, errlen);
        if (sampler != NULL) {
            if (add_target(session, pid, sampler) < 0) {
                pyprof_sampler_detach(sampler);
                snprintf(errbuf, errlen, "out of memory");
                return PYPROF_SAMPLER_NO_MEMORY;
            }
            return 0;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        long waited = (now.tv_sec - start.tv_sec) * 1000
                      + (now.tv_nsec - start.tv_nsec) / 1000000;
        if ((status != PYPROF_SAMPLER_NOT_PYTHON
             && status != PYPROF_SAMPLER_NOT_READY)
            || waited >= wait_ms || !alive(pid)) {
            return status;
        }
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

/* The recording index of the sampler's function; PYPROF_NO_FUNCTION when
 * out of memory. */
static uint32_t
map_function(pyprof_session_t *session, target_t *target,
             const pyprof_frame_t *frame)
{
    uint32_t id = frame->function_id;
    if (id >= target->func_cap) {
        size_t old = target->func_cap;
        if (grow((void **)&target->func_map, &target->func_cap,
                 (size_t)id + 1, sizeof(uint32_t)) < 0) {
            return PYPROF_NO_FUNCTION;
        }
        memset(target->func_map + old, 0,
               (target->func_cap - old) * sizeof(uint32_t));
    }
    if (target->func_map[id] == 0) {
        uint32_t func = pyprof_recording_function(
            session->rec, frame->filename ? frame->filename : "",
            frame->firstlineno, frame->name ? frame->name : "");
        if (func == PYPROF_NO_FUNCTION) {
            return func;
        }
        target->func_map[id] = func + 1;
    }
    return target->func_map[id] - 1;
}

static uint32_t
map_thread(pyprof_session_t *session, target_t *target,
           const pyprof_thread_sample_t *thread)
{
    uint64_t tid = thread->native_id > 0 ? (uint64_t)thread->native_id
                                         : thread->thread_id;
    const void *key = (const void *)(uintptr_t)(tid + 1);
    uint32_t func;
    if (pyprof_ptrmap_get(&target->threads, key, &func)) {
        return func;
    }
    func = pyprof_recording_thread(session->rec, (long)tid, thread->name);
    if (func != PYPROF_NO_FUNCTION
        && pyprof_ptrmap_set(&target->threads, key, func) < 0) {
        return PYPROF_NO_FUNCTION;
    }
    return func;
}

/* The sampler's callback: keep the thread's stack, outermost first. */
static int
on_thread(void *ctx, const pyprof_thread_sample_t *thread)
{
    pyprof_session_t *session = ctx;
    target_t *target = session->current;
    if (thread->nframes == 0
        || (!(session->flags & PYPROF_RECORD_IDLE) && thread->running == 0)
        || ((session->flags & PYPROF_RECORD_GIL) && thread->holds_gil != 1)) {
        return 0;
    }
    if (target->process_func == PYPROF_NO_FUNCTION) {
        target->process_func = pyprof_recording_process(
            session->rec, (long)target->pid, target->command);
    }
    uint32_t thread_func = map_thread(session, target, thread);
    if (grow((void **)&session->frames, &session->frames_cap,
             session->nframes + thread->nframes + 2,
             sizeof(pyprof_frame_ref_t)) < 0
        || grow((void **)&session->ends, &session->ends_cap,
                session->nends + 1, sizeof(size_t)) < 0
        || target->process_func == PYPROF_NO_FUNCTION
        || thread_func == PYPROF_NO_FUNCTION) {
        return PYPROF_SAMPLER_NO_MEMORY;
    }
    pyprof_frame_ref_t *out = session->frames + session->nframes;
    out[0] = (pyprof_frame_ref_t){target->process_func, 0};
    out[1] = (pyprof_frame_ref_t){thread_func, 0};
    for (size_t i = 0; i < thread->nframes; i++) {
        const pyprof_frame_t *frame = &thread->frames[thread->nframes - 1 - i];
        uint32_t func = map_function(session, target, frame);
        if (func == PYPROF_NO_FUNCTION) {
            return PYPROF_SAMPLER_NO_MEMORY;
        }
        out[2 + i] = (pyprof_frame_ref_t){func, frame->line};
    }
    session->nframes += thread->nframes + 2;
    session->ends[session->nends++] = session->nframes;
    return 0;
}

/* Reads of one target per sampling round at most (see
 * pyprof_session_sample). */
#define SAMPLE_ATTEMPTS 5

/* Whether a failed sample is what a target that is exiting gives: its
 * interpreter finalized (or its runtime torn down under the reader), its
 * stacks unwinding while read, or the process gone.  A run of these that
 * ends in the target's exit is the exit, not errors; a permission or
 * version error stays an error. */
static int
exit_shaped(int rc)
{
    return rc == PYPROF_SAMPLER_NOT_READY || rc == PYPROF_SAMPLER_GONE
           || rc == PYPROF_SAMPLER_INCONSISTENT;
}

/* Add the buffered stacks of one sample to the recording. */
static void
commit(pyprof_session_t *session)
{
    size_t begin = 0;
    for (size_t i = 0; i < session->nends; i++) {
        size_t end = session->ends[i];
        if (pyprof_recording_add(session->rec, session->frames + begin,
                                 end - begin, 1) < 0) {
            session->errors++;
        }
        begin = end;
    }
}

int
pyprof_session_sample(pyprof_session_t *session)
{
    unsigned flags = 0;
    if (!(session->flags & PYPROF_RECORD_IDLE)) {
        flags |= PYPROF_SAMPLE_RUNNING | PYPROF_SAMPLE_BUSY_ONLY;
    }
    if (session->flags & PYPROF_RECORD_BLOCKING) {
        flags |= PYPROF_SAMPLE_BLOCKING;
    }
    int live = 0;
    for (size_t i = 0; i < session->ntargets; i++) {
        target_t *target = &session->targets[i];
        if (target->sampler == NULL) {
            continue;
        }
        session->current = target;
        int rc = PYPROF_SAMPLER_INCONSISTENT;
        /* a stack that changed while it was read is read again at once:
         * a few microseconds later is the same moment to a sampler, and
         * dropping it would under-count the code that churns the stack
         * most (deep recursion that unwinds) */
        for (int attempt = 0; attempt < SAMPLE_ATTEMPTS
                              && rc == PYPROF_SAMPLER_INCONSISTENT;
             attempt++) {
            session->nframes = session->nends = 0;
            rc = pyprof_sampler_sample(target->sampler, flags, on_thread,
                                       session);
        }
        if (rc == 0) {
            commit(session);
            target->failing = 0;
            target->sampled = 1;
            live++;
            continue;
        }
        /* a child starting (its runtime not initialized yet) is not a
         * failed sample either */
        if (rc != PYPROF_SAMPLER_NOT_READY || target->sampled) {
            session->errors++;
            target->failing = exit_shaped(rc) ? target->failing + 1 : 0;
        }
        snprintf(session->last_error, sizeof(session->last_error), "%s",
                 rc == PYPROF_SAMPLER_NO_MEMORY
                     ? "out of memory"
                     : pyprof_sampler_error(target->sampler));
        if (rc == PYPROF_SAMPLER_GONE || !alive(target->pid)) {
            pyprof_sampler_detach(target->sampler);
            target->sampler = NULL;
            /* an exit is not a failed sample, nor are the rounds just
             * before it that found the interpreter finalizing */
            session->errors -= target->failing;
        }
        else {
            live++;
        }
    }
    return live;
}

/* Every (pid, ppid) in /proc; a new array in *out, its length returned,
 * -1 when /proc cannot be read. */
static long
list_processes(pid_t (**out)[2])
{
    DIR *dir = opendir("/proc");
    if (dir == NULL) {
        return -1;
    }
    pid_t (*list)[2] = NULL;
    size_t n = 0, cap = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (!isdigit((unsigned char)entry->d_name[0])) {
            continue;
        }
        pid_t pid = (pid_t)atoi(entry->d_name);
        char state;
        pid_t ppid;
        if (!read_stat(pid, &state, &ppid) || state == 'Z') {
            continue;
        }
        if (grow((void **)&list, &cap, n + 1, sizeof(*list)) < 0) {
            break;
        }
        list[n][0] = pid;
        list[n][1] = ppid;
        n++;
    }
    closedir(dir);
    *out = list;
    return (long)n;
}

static pending_t *
find_pending(pyprof_session_t *session, pid_t pid)
{
    for (size_t i = 0; i < session->npending; i++) {
        if (session->pending[i].pid == pid) {
            return &session->pending[i];
        }
    }
    if (grow((void **)&session->pending, &session->pending_cap,
             session->npending + 1, sizeof(pending_t)) < 0) {
        return NULL;
    }
    session->pending[session->npending] = (pending_t){pid, PENDING_TRIES};
    return &session->pending[session->npending++];
}

static void
try_descendant(pyprof_session_t *session, pid_t pid)
{
    if (known_pid(session, pid)) {
        return;
    }
    pending_t *pending = find_pending(session, pid);
    if (pending == NULL || pending->tries == 0) {
        return;
    }
    int status = 0;
    char err[256];
    pyprof_sampler_t *sampler = pyprof_sampler_attach(pid, &status, err,
                                                      sizeof(err));
    if (sampler != NULL) {
        if (add_target(session, pid, sampler) < 0) {
            pyprof_sampler_detach(sampler);
        }
        pending->tries = 0;
        return;
    }
    pending->tries = status == PYPROF_SAMPLER_NOT_PYTHON
                     || status == PYPROF_SAMPLER_NOT_READY
                     ? pending->tries - 1 : 0;
}

void
pyprof_session_rescan(pyprof_session_t *session)
{
    pid_t (*procs)[2] = NULL;
    long n = list_processes(&procs);
    if (n <= 0) {
        free(procs);
        return;
    }
    /* mark[i]: process i descends from a root.  Parents usually come
     * before children in /proc, so few passes are needed. */
    char *mark = calloc((size_t)n, 1);
    if (mark == NULL) {
        free(procs);
        return;
    }
    for (int changed = 1; changed;) {
        changed = 0;
        for (long i = 0; i < n; i++) {
            if (mark[i]) {
                continue;
            }
            int descends = 0;
            for (size_t r = 0; r < session->nroots && !descends; r++) {
                descends = procs[i][1] == session->roots[r];
            }
            for (long j = 0; j < n && !descends; j++) {
                descends = mark[j] && procs[j][0] == procs[i][1];
            }
            if (descends) {
                mark[i] = 1;
                changed = 1;
            }
        }
    }
    for (long i = 0; i < n; i++) {
        if (mark[i]) {
            try_descendant(session, procs[i][0]);
        }
    }
    free(mark);
    free(procs);
}

int
pyprof_session_process_count(const pyprof_session_t *session)
{
    return (int)session->ntargets;
}

int64_t
pyprof_session_errors(const pyprof_session_t *session)
{
    return session->errors;
}

const char *
pyprof_session_last_error(const pyprof_session_t *session)
{
    return session->last_error;
}
