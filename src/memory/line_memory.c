/* line_memory.c - per-line memory accounting (see line_memory.h).
 *
 * Why RSS is not read at every line: one read of /proc/self/statm costs a
 * system call (~1-2 us), more than the rest of a line event; the Julia
 * set's calc_point_val runs 2.3 million lines in about a second, so
 * reading at each would cost several times the program.  RSS can only
 * grow or shrink noticeably when memory is allocated or freed, so it is
 * re-read when the allocation hooks have seen REREAD_BYTES allocated or
 * freed since the last read, or when the (coarse, ~4 ms) clock moved on
 * (memory that Python's allocators do not see: C libraries calling
 * malloc, mmap).  Between reads, a line is charged the last value read.
 * A line that builds a 100 MB list allocates through the hooks, so RSS
 * is re-read when it ends and its increment is the real one.
 */
#include "line_memory.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../engine/alloc_hook.h"
#include "../engine/compat.h"
#include "../memory/rss.h"
#include "../binding/memory_wrapper.h"

#define REREAD_BYTES (64 * 1024)

typedef struct {
    double usage;           /* MiB; valid when occurrences > 0 */
    double increment;       /* MiB */
    uint64_t occurrences;
    int64_t alive;          /* bytes, at the last return */
    int alive_set;
} row_t;

typedef struct {
    PyCodeObject *code;     /* borrowed from the engine */
    int first_line, nlines;
    row_t *rows;            /* nlines */
    int pending_def;        /* a call started: charge the def line */
    PyCodeObject **codes;   /* code and the code objects nested in it
                               (borrowed: code's co_consts holds them) */
    int ncodes;             /* 0 until first needed, -1 if unknown */
} func_t;

struct pyprof_line_memory {
    pyprof_lines_t *lines;
    func_t *funcs;          /* indexed by the engine's fn */
    uint32_t nfuncs;
    int prev_lineno;        /* memory_profiler's prev_lineno (0: none);
                               one for the process, as memory_profiler
                               keeps it: used while one thread runs
                               profiled lines (see trace) */
    uint32_t threads_seen;  /* threads that ran profiled lines */
    int64_t rss;            /* last value read, bytes */
    uint64_t churn_at_read; /* allocated + freed when it was read */
    struct timespec read_at;
    pyprof_rss_reader_t reader;
    int tracking;           /* pyprof_alloc_start succeeded */
    int oom;
    uint64_t epoch;         /* which start this is (see alive_due) */
};

/* The accountant the `profile` decorator reports to while it runs.
 * Global because decorated functions reach it from the program's calls;
 * protected by the GIL. */
static pyprof_line_memory_t *current;

/* Counts starts, so a stale alive_due is recognised.  Protected by the
 * GIL. */
static uint64_t starts;

/* A call that returned and whose Alive is to be read once its frame has
 * released its locals: at the thread's next allocation or engine event
 * (see on_frame_return).  Thread-local: each thread's own call. */
static _Thread_local struct {
    pyprof_line_memory_t *m;
    uint64_t epoch;
    uint32_t fn;
    int set;
} alive_due __attribute__((tls_model("initial-exec")));   /* checked at
                                                             every line */

/* ------------------------------------------------------------------ */

static func_t *
func_of(pyprof_line_memory_t *m, uint32_t fn)
{
    if (fn >= m->nfuncs) {
        uint32_t n = pyprof_lines_function_count(m->lines);
        if (fn >= n) {
            return NULL;
        }
        func_t *grown = realloc(m->funcs, n * sizeof(*grown));
        if (grown == NULL) {
            m->oom = 1;
            return NULL;
        }
        memset(grown + m->nfuncs, 0, (n - m->nfuncs) * sizeof(*grown));
        m->funcs = grown;
        m->nfuncs = n;
    }
    func_t *f = &m->funcs[fn];
    if (f->rows == NULL) {
        if (pyprof_lines_function_info(m->lines, fn, &f->code,
                                       &f->first_line, &f->nlines) < 0 ||
            f->nlines <= 0) {
            return NULL;
        }
        f->rows = calloc((size_t)f->nlines, sizeof(row_t));
        if (f->rows == NULL) {
            m->oom = 1;
            return NULL;
        }
    }
    return f;
}

/* The RSS now, re-read only when it may have changed (see the top). */
static double
current_mib(pyprof_line_memory_t *m)
{
    pyprof_alloc_counts_t totals;
    pyprof_alloc_totals(&totals);
    uint64_t churn = totals.allocated + totals.freed;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    if (churn - m->churn_at_read >= REREAD_BYTES ||
        now.tv_sec != m->read_at.tv_sec ||
        now.tv_nsec != m->read_at.tv_nsec || m->rss <= 0) {
        int64_t rss = pyprof_rss_read(&m->reader);
        if (rss > 0) {
            m->rss = rss;
        }
        m->churn_at_read = churn;
        m->read_at = now;
    }
    return pyprof_rss_mib(m->rss);
}

/* The calling thread's part in the accounting: which start it is of, and
 * the thread's net allocated bytes (pyprof_alloc_thread_net) when it last
 * charged a line.  Thread-local, initial-exec (read at every line). */
static _Thread_local struct {
    uint64_t epoch;
    int64_t net_at_line;
} thread_line __attribute__((tls_model("initial-exec")));

/* The increment of a line that just ended in the calling thread, in MiB.
 * While one thread runs profiled lines: memory_profiler's
 * CodeMap.trace(code, lineno, prev_lineno), RSS now minus the usage of
 * the previous line.  RSS is the process's: once a second thread runs
 * profiled lines, that formula charges every thread's allocations and
 * frees to whichever line happens to end next (ten threads freeing
 * showed -17 GiB on a 14 MiB process, and lines that allocate nothing
 * showed gigabytes).  From then on a line's increment is what its own
 * thread allocated minus what it freed while the line ran, from the
 * hooks' per-thread count. */
static double
increment_mib(pyprof_line_memory_t *m, func_t *f, double mem)
{
    int64_t net = pyprof_alloc_thread_net;
    int64_t since = net - thread_line.net_at_line;
    thread_line.net_at_line = net;
    if (thread_line.epoch != m->epoch) {
        thread_line.epoch = m->epoch;
        since = 0;
        m->threads_seen++;
    }
    if (m->threads_seen > 1) {
        return pyprof_rss_mib(since);
    }
    double prev_mem = 0;
    int p = m->prev_lineno - f->first_line;
    if (m->prev_lineno > 0 && p >= 0 && p < f->nlines &&
        f->rows[p].occurrences > 0) {
        prev_mem = f->rows[p].usage;
    }
    return mem - prev_mem;
}

/* Charge line `lineno` of f, which just ended in the calling thread. */
static void
trace(pyprof_line_memory_t *m, func_t *f, int lineno)
{
    int i = lineno - f->first_line;
    if (i < 0 || i >= f->nlines) {
        return;
    }
    double mem = current_mib(m);
    row_t *row = &f->rows[i];
    row->increment += increment_mib(m, f, mem);
    if (row->occurrences == 0 || mem > row->usage) {
        row->usage = mem;
    }
    row->occurrences++;
    m->prev_lineno = lineno;
}

static void record_alive(pyprof_line_memory_t *m, func_t *f);

/* Read the Alive of the call alive_due holds, if any (and still of the
 * running accountant).  `unused`: the signature of
 * pyprof_alloc_call_before_next, which calls it inside an allocation
 * hook. */
static void
read_alive_due(void *unused)
{
    if (!alive_due.set) {
        return;
    }
    alive_due.set = 0;
    pyprof_line_memory_t *m = alive_due.m;
    if (m == NULL || m != current || m->epoch != alive_due.epoch ||
        !m->tracking) {
        return;
    }
    func_t *f = func_of(m, alive_due.fn);
    if (f != NULL) {
        record_alive(m, f);
    }
}

static void
on_line_begin(void *ctx, uint32_t fn, int line)
{
    pyprof_line_memory_t *m = ctx;
    if (alive_due.set) {
        read_alive_due(NULL);
    }
    func_t *f = func_of(m, fn);
    if (f != NULL && f->pending_def) {
        /* The call event: memory_profiler charges the def line when the
         * first line of the body begins. */
        f->pending_def = 0;
        trace(m, f, f->first_line);
    }
}

/* A call of a profiled function starts, however it was chosen (the
 * decorator, --function, %mprun): memory_profiler charges its def line
 * when the first line of the body begins. */
static void
on_frame_start(void *ctx, uint32_t fn)
{
    if (alive_due.set) {
        read_alive_due(NULL);
    }
    func_t *f = func_of(ctx, fn);
    if (f != NULL) {
        f->pending_def = 1;
    }
}

static void
on_line_end(void *ctx, uint32_t fn, int line)
{
    pyprof_line_memory_t *m = ctx;
    if (alive_due.set) {
        read_alive_due(NULL);
    }
    func_t *f = func_of(m, fn);
    if (f != NULL) {
        trace(m, f, line);
    }
}

/* ------------------------------------------------------------------ */
/* The decorator's hooks. */

static void *
decorated_enter(PyObject *func)
{
    return NULL;    /* the def line is charged from on_frame_start */
}

/* Append `code` and the code objects nested in it to f->codes.
 * Returns 0, or -1 when out of memory. */
static int
collect_codes(func_t *f, PyCodeObject *code, int *cap)
{
    if (f->ncodes == *cap) {
        int ncap = *cap ? *cap * 2 : 8;
        PyCodeObject **grown = realloc(f->codes, ncap * sizeof(*grown));
        if (grown == NULL) {
            return -1;
        }
        f->codes = grown;
        *cap = ncap;
    }
    f->codes[f->ncodes++] = code;
    PyObject *consts = code->co_consts;
    for (Py_ssize_t i = 0; consts != NULL && i < PyTuple_GET_SIZE(consts);
         i++) {
        PyObject *item = PyTuple_GET_ITEM(consts, i);
        if (PyCode_Check(item) &&
            collect_codes(f, (PyCodeObject *)item, cap) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The bytes from each line of f (its own code and the code nested in it:
 * comprehensions below 3.12, lambdas, generator expressions) still alive
 * now. */
static void
record_alive(pyprof_line_memory_t *m, func_t *f)
{
    if (f->ncodes == 0) {
        int cap = 0;
        if (collect_codes(f, f->code, &cap) < 0) {
            free(f->codes);
            f->codes = NULL;
            f->ncodes = -1;
            m->oom = 1;
        }
    }
    for (int i = 0; i < f->nlines; i++) {
        int64_t alive = 0;
        int found = 0;
        for (int k = 0; k < f->ncodes; k++) {
            pyprof_alloc_counts_t c;
            if (pyprof_alloc_site_counts(f->codes[k], f->first_line + i,
                                         &c)) {
                alive += (int64_t)(c.allocated - c.freed);
                found = 1;
            }
        }
        if (found) {
            f->rows[i].alive = alive;
            f->rows[i].alive_set = 1;
        }
    }
}

static void
decorated_exit(PyObject *func, void *token)
{
    /* The call's frame returned (frame_return left its reading due) and
     * has released its locals by now: read it at once. */
    read_alive_due(NULL);
    pyprof_alloc_cancel_pending();
}

/* A call of a profiled function is over, however it was chosen.  Its
 * frame still holds its locals, which are released right after: so its
 * Alive is read at the thread's next allocation (or engine event, or
 * the decorator's exit, or the export), when they are gone and before
 * the caller builds anything new. */
static void
on_frame_return(void *ctx, uint32_t fn)
{
    pyprof_line_memory_t *m = ctx;
    read_alive_due(NULL);       /* an earlier call's first */
    if (!m->tracking) {
        return;
    }
    alive_due.m = m;
    alive_due.epoch = m->epoch;
    alive_due.fn = fn;
    alive_due.set = 1;
    pyprof_alloc_call_before_next(read_alive_due, NULL);
}

static const pyprof_call_hooks_t decorated_hooks = {decorated_enter,
                                                    decorated_exit};

const struct pyprof_call_hooks *
pyprof_line_memory_call_hooks(void)
{
    return &decorated_hooks;
}

/* The decorator runs as pyprof's own code: selecting the function is not
 * the program's allocation. */
PyObject *
pyprof_line_memory_decorate(PyObject *func)
{
    pyprof_alloc_suspend();
    PyObject *result = NULL;
    pyprof_lines_t *lines = pyprof_lines_current();
    if (lines != NULL && pyprof_lines_add(lines, func) < 0) {
        goto done;
    }
    /* The function itself, not a wrapper: the engine already sees each
     * call start and return (frame_start, frame_return), and a wrapper
     * would cost the program recursion depth (3.12+ count a C call from
     * the wrapper against the C recursion limit) and C stack (3.11
     * inlines no call through it). */
    result = Py_NewRef(func);
done:
    pyprof_alloc_resume();
    return result;
}

/* ------------------------------------------------------------------ */

pyprof_line_memory_t *
pyprof_line_memory_new(pyprof_lines_t *lines)
{
    pyprof_line_memory_t *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    m->lines = lines;
    if (pyprof_rss_open(&m->reader, 0) < 0) {
        PyErr_SetFromErrnoWithFilename(PyExc_OSError, "/proc/self/statm");
        free(m);
        return NULL;
    }
    pyprof_lines_consumer_t consumer = {m, on_line_begin, on_line_end,
                                        on_frame_start, on_frame_return};
    pyprof_lines_set_consumer(lines, &consumer);
    return m;
}

int
pyprof_line_memory_start(pyprof_line_memory_t *m)
{
    if (pyprof_alloc_start() < 0) {
        return -1;
    }
    m->tracking = 1;
    m->epoch = ++starts;
    current = m;
    return 0;
}

void
pyprof_line_memory_stop(pyprof_line_memory_t *m)
{
    if (current == m) {
        current = NULL;
    }
    if (m->tracking) {
        pyprof_alloc_stop();
        m->tracking = 0;
    }
}

void
pyprof_line_memory_free(pyprof_line_memory_t *m)
{
    if (m == NULL) {
        return;
    }
    pyprof_line_memory_stop(m);
    pyprof_lines_set_consumer(m->lines, NULL);
    for (uint32_t i = 0; i < m->nfuncs; i++) {
        free(m->funcs[i].rows);
        free(m->funcs[i].codes);
    }
    free(m->funcs);
    pyprof_rss_close(&m->reader);
    free(m);
}

int
pyprof_line_memory_out_of_memory(const pyprof_line_memory_t *m)
{
    return m->oom || pyprof_alloc_lost();
}

typedef struct {
    pyprof_memprof_t *profile;
    pyprof_line_memory_t *m;
} export_ctx_t;

/* Charge a site's counters to every exported function whose file and line
 * range hold it (nested code objects count in the enclosing function, as
 * their line times do). */
static int
add_site(PyCodeObject *code, int lineno, const pyprof_alloc_counts_t *c,
         void *opaque)
{
    export_ctx_t *ctx = opaque;
    if (code == NULL) {
        return 0;
    }
    for (size_t k = 0; k < ctx->profile->nfuncs; k++) {
        pyprof_memfunc_t *out = &ctx->profile->funcs[k];
        func_t *f = k < ctx->m->nfuncs ? &ctx->m->funcs[k] : NULL;
        int i = lineno - out->first_line;
        if (i < 0 || i >= out->nlines || f == NULL || f->code == NULL) {
            continue;
        }
        /* A nested code object starts inside the function (the module's
         * code, which also has lines there, starts before it). */
        if (code != f->code &&
            (code->co_firstlineno <= f->first_line ||
             code->co_firstlineno >= f->first_line + f->nlines)) {
            continue;
        }
        if (code != f->code) {
            int same = PyObject_RichCompareBool(code->co_filename,
                                                f->code->co_filename, Py_EQ);
            if (same <= 0) {
                PyErr_Clear();
                continue;
            }
        }
        out->rows[i].allocated += c->allocated;
        if (!f->rows[i].alive_set) {
            out->rows[i].alive += (int64_t)(c->allocated - c->freed);
        }
    }
    return 0;
}

static char *
utf8_copy(PyObject *text)
{
    const char *s = text != NULL && PyUnicode_Check(text)
                        ? PyUnicode_AsUTF8(text) : NULL;
    if (s == NULL) {
        PyErr_Clear();
        s = "?";
    }
    return strdup(s);
}

pyprof_memprof_t *
pyprof_line_memory_export(pyprof_line_memory_t *m)
{
    read_alive_due(NULL);   /* this thread's last call, if due */
    uint32_t n = pyprof_lines_function_count(m->lines);
    if (n > 0) {
        func_of(m, n - 1);     /* size the table to every function */
    }
    pyprof_memprof_t *profile = calloc(1, sizeof(*profile));
    if (profile == NULL) {
        return (pyprof_memprof_t *)PyErr_NoMemory();
    }
    profile->funcs = calloc(m->nfuncs ? m->nfuncs : 1,
                            sizeof(*profile->funcs));
    if (profile->funcs == NULL) {
        goto nomem;
    }
    for (uint32_t k = 0; k < m->nfuncs; k++) {
        func_t *f = func_of(m, k);
        pyprof_memfunc_t *out = &profile->funcs[profile->nfuncs++];
        if (f == NULL) {
            continue;   /* nlines 0: printed as never run */
        }
        out->filename = utf8_copy(f->code->co_filename);
        out->name = utf8_copy(pyprof_code_qualname(f->code));
        out->first_line = f->first_line;
        out->nlines = f->nlines;
        out->rows = calloc((size_t)f->nlines, sizeof(*out->rows));
        if (out->filename == NULL || out->name == NULL || out->rows == NULL) {
            goto nomem;
        }
        for (int i = 0; i < f->nlines; i++) {
            const row_t *row = &f->rows[i];
            out->rows[i].measured = row->occurrences > 0;
            out->rows[i].usage_mib = row->usage;
            out->rows[i].increment_mib = row->increment;
            out->rows[i].occurrences = row->occurrences;
            out->rows[i].alive = row->alive_set ? row->alive : 0;
        }
    }
    if (m->tracking) {
        export_ctx_t ctx = {profile, m};
        if (pyprof_alloc_foreach_site(add_site, &ctx) < 0) {
            pyprof_memprof_free(profile);
            return NULL;
        }
    }
    return profile;
nomem:
    pyprof_memprof_free(profile);
    return (pyprof_memprof_t *)PyErr_NoMemory();
}
