/* rss_sampler.c - the RSS sampling thread (see rss_sampler.h). */
#include "rss_sampler.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mprof_file.h"
#include "rss.h"

#define MAX_CHILDREN 256

/* Queued calls that wake the thread to write them before its next tick:
 * bounds the queue (48 bytes a call) when a profiled function is called
 * in a tight loop. */
#define DRAIN_AT 4096

struct pyprof_rss_sampler {
    pyprof_rss_sampler_config_t cfg;
    pyprof_rss_reader_t reader;
    pthread_t thread;
    int running;                /* the thread was started and not joined */
    /* `lock` protects everything below, and the stream. */
    pthread_mutex_t lock;
    pthread_cond_t wake;        /* signalled by stop */
    int stopping;
    int gone;                   /* the sampled process has ended */
    int failed;
    pyprof_sample_t *samples;
    size_t count, cap;
    pid_t child_ids[MAX_CHILDREN];  /* CHLD index = position here */
    int nchild_ids;
    pyprof_rss_sampler_call_t *calls;   /* queued by pyprof_rss_sampler_add_call */
    size_t ncalls, calls_cap;
    int drain;                      /* DRAIN_AT calls wait: write them */
    char **names;                   /* pyprof_rss_sampler_name's copies */
    size_t nnames, names_cap;
    /* The other half of the call queue's double buffer: owned by the one
     * thread writing the stream (see write_calls), so used without the
     * lock; always empty between two write_calls. */
    pyprof_rss_sampler_call_t *spare;
    size_t spare_cap;
};

double
pyprof_rss_sampler_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CHLD's index of child `pid`: its order of first appearance, as mprof
 * numbers children. */
static int
child_index_unlocked(pyprof_rss_sampler_t *s, pid_t pid)
{
    for (int i = 0; i < s->nchild_ids; i++) {
        if (s->child_ids[i] == pid) {
            return i;
        }
    }
    if (s->nchild_ids == MAX_CHILDREN) {
        return -1;
    }
    s->child_ids[s->nchild_ids] = pid;
    return s->nchild_ids++;
}

/* Write the queued calls as FUNC lines.  Called without the lock by the
 * one thread writing the stream (the sampler's, or the caller's before
 * the thread starts and after it is joined): the queue is swapped for the
 * empty spare under the lock, so the program's threads go on queuing
 * while the lines are formatted. */
static void
write_calls(pyprof_rss_sampler_t *s)
{
    pthread_mutex_lock(&s->lock);
    pyprof_rss_sampler_call_t *calls = s->calls;
    size_t count = s->ncalls, cap = s->calls_cap;
    s->calls = s->spare;
    s->calls_cap = s->spare_cap;
    s->ncalls = 0;
    s->drain = 0;
    pthread_mutex_unlock(&s->lock);
    int failed = 0;
    FILE *out = s->cfg.stream;
    for (size_t i = 0; i < count && out != NULL; i++) {
        const pyprof_rss_sampler_call_t *call = &calls[i];
        char line[PYPROF_MPROF_FUNC_LINE_MAX];
        pyprof_mprof_format_func(line, sizeof(line), call->name,
                                 pyprof_rss_mib(call->rss_start),
                                 call->t_start,
                                 pyprof_rss_mib(call->rss_end),
                                 call->t_end, call->level);
        if (fputs(line, out) < 0) {
            failed = 1;
        }
    }
    s->spare = calls;
    s->spare_cap = cap;
    if (failed) {
        pthread_mutex_lock(&s->lock);
        s->failed = 1;
        pthread_mutex_unlock(&s->lock);
    }
}

/* Read the RSS (and the children's), store and write one sample, after
 * the calls queued so far.  Called without the lock; takes it to store. */
static void
take_sample(pyprof_rss_sampler_t *s)
{
    write_calls(s);
    int64_t rss = pyprof_rss_read(&s->reader);
    double now = pyprof_rss_sampler_now();
    /* A zombie (ended, not yet reaped) reads as 0 resident pages: gone. */
    if (rss <= 0) {
        pthread_mutex_lock(&s->lock);
        s->gone = 1;
        pthread_mutex_unlock(&s->lock);
        return;
    }
    pid_t kids[MAX_CHILDREN];
    int64_t kid_rss[MAX_CHILDREN];
    int nkids = 0;
    if (s->cfg.include_children || s->cfg.child_lines) {
        pid_t self = s->cfg.pid != 0 ? s->cfg.pid : getpid();
        nkids = pyprof_rss_descendants(self, kids, MAX_CHILDREN);
        if (nkids > MAX_CHILDREN) {
            nkids = MAX_CHILDREN;
        }
        for (int i = 0; i < nkids; i++) {
            kid_rss[i] = pyprof_rss_of_pid(kids[i]);
            if (kid_rss[i] > 0 && s->cfg.include_children) {
                rss += kid_rss[i];
            }
        }
    }
    pthread_mutex_lock(&s->lock);
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        pyprof_sample_t *grown = realloc(s->samples, cap * sizeof(*grown));
        if (grown == NULL) {
            s->failed = 1;
        }
        else {
            s->samples = grown;
            s->cap = cap;
        }
    }
    if (s->count < s->cap) {
        s->samples[s->count++] = (pyprof_sample_t){now, rss};
    }
    FILE *out = s->cfg.stream;
    if (out != NULL) {
        /* Each line flushed at once: a killed program leaves them all. */
        fprintf(out, "MEM %.6f %.4f\n", pyprof_rss_mib(rss), now);
        for (int i = 0; i < nkids && s->cfg.child_lines; i++) {
            int index = child_index_unlocked(s, kids[i]);
            if (index >= 0 && kid_rss[i] > 0) {
                fprintf(out, "CHLD %d %.6f %.4f\n", index,
                        pyprof_rss_mib(kid_rss[i]), now);
            }
        }
        if (fflush(out) != 0) {
            s->failed = 1;
        }
    }
    pthread_mutex_unlock(&s->lock);
}

static void
add_seconds(struct timespec *ts, double seconds)
{
    long long ns = (long long)(seconds * 1e9);
    ts->tv_sec += (time_t)(ns / 1000000000LL);
    ts->tv_nsec += (long)(ns % 1000000000LL);
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *
sampler_main(void *arg)
{
    pyprof_rss_sampler_t *s = arg;
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (;;) {
        /* Ticks on a fixed grid (not "interval after the last read"), so
         * slow reads do not stretch the interval. */
        add_seconds(&next, s->cfg.interval);
        for (;;) {
            pthread_mutex_lock(&s->lock);
            int tick = 0;
            while (!s->stopping && !s->gone && !s->drain && !tick) {
                tick = pthread_cond_timedwait(&s->wake, &s->lock, &next) ==
                       ETIMEDOUT;
            }
            int done = s->stopping || s->gone;
            pthread_mutex_unlock(&s->lock);
            if (done) {
                return NULL;
            }
            if (tick) {
                break;
            }
            write_calls(s);     /* drain, then wait for the same tick */
        }
        take_sample(s);
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > next.tv_sec + 1) {
            next = now;     /* suspended (SIGSTOP): do not burst to catch up */
        }
    }
}

pyprof_rss_sampler_t *
pyprof_rss_sampler_start(const pyprof_rss_sampler_config_t *cfg)
{
    if (!(cfg->interval > 0)) {
        errno = EINVAL;
        return NULL;
    }
    pyprof_rss_sampler_t *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return NULL;
    }
    s->cfg = *cfg;
    s->reader.fd = -1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (pyprof_rss_open(&s->reader, cfg->pid) < 0) {
        int saved = errno;
        pyprof_rss_sampler_free(s);
        errno = saved;
        return NULL;
    }
    take_sample(s);
    /* The thread blocks every signal, so Ctrl-C and friends reach the
     * interpreter's main thread and interrupt what it is waiting on. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&s->thread, NULL, sampler_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pyprof_rss_sampler_free(s);
        errno = rc;
        return NULL;
    }
    s->running = 1;
    return s;
}

void
pyprof_rss_sampler_stop(pyprof_rss_sampler_t *s)
{
    if (!s->running) {
        return;
    }
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    s->running = 0;
    take_sample(s);
}

int
pyprof_rss_sampler_wait(pyprof_rss_sampler_t *s, double timeout)
{
    double deadline = pyprof_rss_sampler_now() + timeout;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        int gone = s->gone;
        pthread_mutex_unlock(&s->lock);
        if (gone) {
            return 1;
        }
        if (timeout >= 0 && pyprof_rss_sampler_now() >= deadline) {
            return 0;
        }
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

const pyprof_sample_t *
pyprof_rss_sampler_samples(pyprof_rss_sampler_t *s, size_t *count)
{
    pthread_mutex_lock(&s->lock);
    *count = s->count;
    const pyprof_sample_t *samples = s->samples;
    pthread_mutex_unlock(&s->lock);
    return samples;
}

int64_t
pyprof_rss_sampler_read_now(pyprof_rss_sampler_t *s)
{
    int64_t rss = pyprof_rss_read(&s->reader);
    if (rss >= 0 && s->cfg.include_children) {
        pid_t kids[MAX_CHILDREN];
        int n = pyprof_rss_descendants(s->cfg.pid ? s->cfg.pid : getpid(),
                                       kids, MAX_CHILDREN);
        for (int i = 0; i < n && i < MAX_CHILDREN; i++) {
            int64_t k = pyprof_rss_of_pid(kids[i]);
            if (k > 0) {
                rss += k;
            }
        }
    }
    return rss;
}

const char *
pyprof_rss_sampler_name(pyprof_rss_sampler_t *s, const char *name)
{
    const char *copy = NULL;
    pthread_mutex_lock(&s->lock);
    /* A linear search: callers cache the answer per function, and a
     * program profiles a handful of functions. */
    for (size_t i = 0; i < s->nnames && copy == NULL; i++) {
        if (strcmp(s->names[i], name) == 0) {
            copy = s->names[i];
        }
    }
    if (copy == NULL && s->nnames == s->names_cap) {
        size_t cap = s->names_cap ? s->names_cap * 2 : 16;
        char **grown = realloc(s->names, cap * sizeof(*grown));
        if (grown != NULL) {
            s->names = grown;
            s->names_cap = cap;
        }
    }
    if (copy == NULL && s->nnames < s->names_cap) {
        char *made = strdup(name);
        if (made != NULL) {
            s->names[s->nnames++] = made;
            copy = made;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return copy;
}

void
pyprof_rss_sampler_add_call(pyprof_rss_sampler_t *s,
                        const pyprof_rss_sampler_call_t *call)
{
    pthread_mutex_lock(&s->lock);
    if (s->ncalls == s->calls_cap) {
        size_t cap = s->calls_cap ? s->calls_cap * 2 : 1024;
        pyprof_rss_sampler_call_t *grown =
            realloc(s->calls, cap * sizeof(*grown));
        if (grown != NULL) {
            s->calls = grown;
            s->calls_cap = cap;
        }
    }
    if (s->ncalls < s->calls_cap) {
        s->calls[s->ncalls++] = *call;
        if (s->ncalls == DRAIN_AT) {
            /* No waiter (thread stopped or busy) makes this a no-op; the
             * next write_calls takes the queue anyway. */
            s->drain = 1;
            pthread_cond_signal(&s->wake);
        }
    }
    else {
        s->failed = 1;      /* out of memory: this call is lost */
    }
    pthread_mutex_unlock(&s->lock);
}

int
pyprof_rss_sampler_failed(const pyprof_rss_sampler_t *s)
{
    return s->failed;
}

void
pyprof_rss_sampler_free(pyprof_rss_sampler_t *s)
{
    if (s == NULL) {
        return;
    }
    pyprof_rss_sampler_stop(s);
    pyprof_rss_close(&s->reader);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s->samples);
    free(s->calls);
    free(s->spare);
    for (size_t i = 0; i < s->nnames; i++) {
        free(s->names[i]);
    }
    free(s->names);
    free(s);
}
