/* cmd_heap.c - `pyprof heap`: objgraph's growth check around functions.
 *
 * The program runs with a `profile` builtin (the decorator name kernprof
 * and the blog use).  Every call of a decorated function is bracketed by
 * two censuses after a full collection -- counts and sys.getsizeof bytes
 * per type name -- and the types that grew become one table per call:
 * type, before, after, +delta, +bytes.  With --trace-allocations the
 * allocator hooks of engine/alloc_hook.h run for the whole program, and
 * each grown type's row names the source line that allocated most of its
 * new objects (objects alive after the call that were not alive before
 * it).  When the program ends, however it ends, the tables of the calls
 * that grew, one line per function for its calls where no type grew, a
 * census of the heap at exit and where the time went are printed, and the
 * exit status is the program's.
 *
 * A call costs two full collections and two censuses.  The census after
 * the call counts first and sizes (sys.getsizeof, most of a census's
 * cost) only when some type grew, which most calls of a loop do not.
 *
 * `profile` returns the function itself below 3.12, its calls watched
 * (engine/call_watch.h), else the memory decorators' wrapper (binding/
 * memory_wrapper.h), calling the census hooks around each call.  The
 * session is owned by a capsule that the `profile` builtin holds; a call
 * after the command has returned (an atexit handler) finds no running
 * session and runs unmeasured.
 */
#include <Python.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/ptrmap.h"
#include "../core/sink.h"
#include "../binding/memory_wrapper.h"
#include "../engine/alloc_hook.h"
#include "../engine/call_watch.h"
#include "../heap/census.h"
#include "../core/clock.h"
#include "../heap/walk.h"
#include "../core/output.h"
#include "cmd_heap.h"
#include "options.h"
#include "progress.h"
#include "runner.h"

/* The allocation tracker comes with the memory feature; until it is
 * linked in, these resolve to NULL and --trace-allocations says so. */
#pragma weak pyprof_alloc_start
#pragma weak pyprof_alloc_stop
#pragma weak pyprof_alloc_site_of_object

static const char usage[] =
    "usage: pyprof heap [--limit N] [--trace-allocations]\n"
    "                   (script.py | -m module | -c code) [args...]\n";

static const char help_text[] =
    "\n"
    "Run a program and show what it leaves on the heap, as objgraph's\n"
    "show_growth() does: for every call of a function decorated with\n"
    "@profile, the object types that grew between its entry and its exit\n"
    "(type, before, after, +delta, +bytes), and the objects the garbage\n"
    "collector tracks when the program ends (type, count, bytes).  Counts\n"
    "are taken after a full collection; bytes are sys.getsizeof() sums.\n"
    "\n"
    "options:\n"
    "  --limit N            at most N rows per table (default 10)\n"
    "  --trace-allocations  name the source line that allocated most of\n"
    "                       each grown type's new objects\n"
    "  -h, --help           show this help\n"
    "\n"
    "The exit status is the program's own (130 after Ctrl-C).\n";

typedef struct {
    long limit;
    int trace_allocations;
    pyprof_target_t target;
} heap_options_t;

typedef struct {
    int active;             /* 0 once the command has reported */
    long limit;
    int trace_allocations;
    PyObject *calls;        /* list of (qualname, call number, rows) */
    PyObject *call_numbers; /* dict qualname -> calls so far */
    PyObject *quiet_calls;  /* dict qualname -> calls where nothing grew */
    PyObject *exit_rows;    /* census at exit: (name, count, bytes) */
    pyprof_ns_t collecting;     /* in full collections, all calls */
    pyprof_ns_t counting;       /* in censuses, all calls */
    pyprof_ns_t program_start;  /* when the program started */
    pyprof_ns_t program_wall;   /* how long it ran, censuses included */
    long ncensused;             /* calls measured */
    pyprof_progress_t progress;
} session_t;

#define SESSION_CAPSULE "pyprof.heap.session"

static void
session_capsule_free(PyObject *capsule)
{
    session_t *session = PyCapsule_GetPointer(capsule, SESSION_CAPSULE);
    if (session == NULL) {
        PyErr_Clear();
        return;
    }
    Py_XDECREF(session->calls);
    Py_XDECREF(session->call_numbers);
    Py_XDECREF(session->quiet_calls);
    Py_XDECREF(session->exit_rows);
    free(session);
}

/* ---- the census of one side of a call -------------------------------- */

typedef struct {
    PyObject *counts;   /* name -> count */
    PyObject *bytes;    /* name -> bytes */
    pyprof_ptrmap_t alive;  /* with --trace-allocations: objects alive */
    int has_alive;
} side_t;

static void
side_clear(side_t *side)
{
    Py_CLEAR(side->counts);
    Py_CLEAR(side->bytes);
    if (side->has_alive) {
        pyprof_ptrmap_free(&side->alive);
        side->has_alive = 0;
    }
}

typedef struct {
    pyprof_ptrmap_t *alive;
    int failed;
} alive_walk_t;

static int
alive_visit(PyObject *obj, void *arg)
{
    alive_walk_t *walk = arg;
    if (pyprof_ptrmap_set(walk->alive, obj, 1) < 0) {
        walk->failed = 1;
        return 1;
    }
    return 0;
}

/* What one side of a call measures. */
enum {
    SIDE_COLLECT = 1,       /* run a full collection first */
    SIDE_SIZES = 2,         /* sys.getsizeof() sums, not counts only */
    SIDE_ALIVE = 4,         /* remember every object alive */
};

/* Collect (with SIDE_COLLECT), then count (and with SIDE_SIZES size)
 * every tracked object by short name, but for the result dicts of the
 * `before` census (NULL for the census before the call), which exist only to be
 * compared with this one: from 3.14 the collector tracks every dict, and
 * they showed as `dict +2` per call.  The time it takes is added to
 * `session` (may be NULL). */
static int
side_take(side_t *side, const side_t *before, int what, session_t *session)
{
    memset(side, 0, sizeof(*side));
    pyprof_ns_t start = pyprof_clock_read_ns(CLOCK_MONOTONIC);
    if (what & SIDE_COLLECT) {
        PyGC_Collect();
    }
    pyprof_ns_t collected = pyprof_clock_read_ns(CLOCK_MONOTONIC);
    pyprof_census_t census;
    if (pyprof_census_init(&census) < 0) {
        return -1;
    }
    if (before != NULL) {
        pyprof_census_skip(&census, before->counts);
        pyprof_census_skip(&census, before->bytes);
    }
    int rc = -1;
    int sizes = (what & SIDE_SIZES) != 0;
    if (pyprof_census_take(&census, NULL, NULL, sizes) == 0) {
        side->counts = pyprof_census_by_name(&census, 1,
                                             sizes ? &side->bytes : NULL);
        rc = side->counts == NULL ? -1 : 0;
    }
    pyprof_census_clear(&census);
    int remember_alive = (what & SIDE_ALIVE) != 0;
    if (rc == 0 && remember_alive) {
        if (pyprof_ptrmap_init(&side->alive) < 0) {
            PyErr_NoMemory();
            return -1;
        }
        side->has_alive = 1;
        alive_walk_t walk = {&side->alive, 0};
        if (pyprof_heap_walk(alive_visit, &walk) < 0) {
            return -1;
        }
        if (walk.failed) {
            PyErr_NoMemory();
            return -1;
        }
    }
    if (session != NULL) {
        pyprof_ns_t done = pyprof_clock_read_ns(CLOCK_MONOTONIC);
        session->collecting += collected - start;
        session->counting += done - collected;
    }
    return rc;
}

static Py_ssize_t
dict_ssize(PyObject *dict, PyObject *key)
{
    PyObject *value = PyDict_GetItemWithError(dict, key); /* borrowed */
    return value != NULL ? PyLong_AsSsize_t(value) : 0;
}

/* Where most new objects of each grown type were allocated: sets item 5
 * of each row to "file:line (k of n new)" or leaves None. */
static int
attach_sites(PyObject *rows, const side_t *before)
{
    PyObject **items;
    Py_ssize_t count;
    PyObject *grown = PyDict_New();     /* name -> row index */
    PyObject *tally = PyDict_New();     /* (name, file, line) -> k */
    PyObject *fresh = PyDict_New();     /* name -> n new objects */
    int rc = -1;
    if (grown == NULL || tally == NULL || fresh == NULL) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(rows); i++) {
        PyObject *index = PyLong_FromSsize_t(i);
        if (index == NULL ||
            PyDict_SetItem(grown, PyTuple_GET_ITEM(PyList_GET_ITEM(rows, i),
                                                   0), index) < 0) {
            Py_XDECREF(index);
            goto done;
        }
        Py_DECREF(index);
    }
    if (pyprof_heap_snapshot(&items, &count) < 0) {
        goto done;
    }
    pyprof_ptrmap_t names;  /* type -> 1 grown, 2 not */
    if (pyprof_ptrmap_init(&names) < 0) {
        pyprof_heap_snapshot_free(items, count);
        PyErr_NoMemory();
        goto done;
    }
    int failed = 0;
    for (Py_ssize_t i = 0; i < count && !failed; i++) {
        PyObject *obj = items[i];
        uint32_t seen;
        if (pyprof_ptrmap_get(&before->alive, obj, &seen)) {
            continue;
        }
        PyObject *name = pyprof_census_type_name(Py_TYPE(obj), 1);
        if (name == NULL) {
            failed = 1;
            break;
        }
        if (!PyDict_Contains(grown, name)) {
            Py_DECREF(name);
            continue;
        }
        PyObject *n = PyLong_FromSsize_t(dict_ssize(fresh, name) + 1);
        failed = n == NULL || PyDict_SetItem(fresh, name, n) < 0;
        Py_XDECREF(n);
        PyCodeObject *code;
        int lineno;
        if (!failed && pyprof_alloc_site_of_object(obj, &code, &lineno)) {
            PyObject *key = Py_BuildValue("(OOi)", name, code->co_filename,
                                          lineno);
            PyObject *k = key == NULL ? NULL : PyLong_FromSsize_t(
                dict_ssize(tally, key) + 1);
            failed = k == NULL || PyDict_SetItem(tally, key, k) < 0;
            Py_XDECREF(key);
            Py_XDECREF(k);
        }
        Py_DECREF(name);
    }
    pyprof_ptrmap_free(&names);
    pyprof_heap_snapshot_free(items, count);
    if (failed) {
        goto done;
    }
    /* The busiest site per name; ties go to the first seen. */
    PyObject *key, *k;
    Py_ssize_t pos = 0;
    PyObject *best = PyDict_New();  /* name -> (k, file, line) */
    if (best == NULL) {
        goto done;
    }
    while (PyDict_Next(tally, &pos, &key, &k)) {
        PyObject *name = PyTuple_GET_ITEM(key, 0);
        PyObject *old = PyDict_GetItemWithError(best, name);
        if (old != NULL && PyLong_AsSsize_t(PyTuple_GET_ITEM(old, 0)) >=
                               PyLong_AsSsize_t(k)) {
            continue;
        }
        PyObject *entry = PyTuple_Pack(3, k, PyTuple_GET_ITEM(key, 1),
                                       PyTuple_GET_ITEM(key, 2));
        if (entry == NULL || PyDict_SetItem(best, name, entry) < 0) {
            Py_XDECREF(entry);
            Py_DECREF(best);
            goto done;
        }
        Py_DECREF(entry);
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(rows); i++) {
        PyObject *row = PyList_GET_ITEM(rows, i);
        PyObject *name = PyTuple_GET_ITEM(row, 0);
        PyObject *entry = PyDict_GetItemWithError(best, name);
        if (entry == NULL) {
            continue;
        }
        PyObject *site = PyUnicode_FromFormat(
            "%S:%S (%S of %zd new)", PyTuple_GET_ITEM(entry, 1),
            PyTuple_GET_ITEM(entry, 2), PyTuple_GET_ITEM(entry, 0),
            dict_ssize(fresh, name));
        if (site == NULL) {
            Py_DECREF(best);
            goto done;
        }
        PyTuple_SetItem(row, 5, site); /* steals; the row is ours alone */
    }
    Py_DECREF(best);
    rc = PyErr_Occurred() ? -1 : 0;
done:
    Py_XDECREF(grown);
    Py_XDECREF(tally);
    Py_XDECREF(fresh);
    return rc;
}

/* Non-zero when some name counts more objects in `after` than in
 * `before`; -1 with an exception set. */
static int
any_grew(const side_t *before, const side_t *after)
{
    PyObject *name, *count;
    Py_ssize_t pos = 0;
    while (PyDict_Next(after->counts, &pos, &name, &count)) {
        Py_ssize_t was = dict_ssize(before->counts, name);
        if (PyErr_Occurred()) {
            return -1;
        }
        if (PyLong_AsSsize_t(count) > was) {
            return 1;
        }
    }
    return 0;
}

/* One table: (name, before, after, delta, +bytes, site or None) of the
 * names that grew, most first, cut to the limit. */
static PyObject *
growth_rows(const session_t *session, const side_t *before,
            const side_t *after)
{
    PyObject *rows = PyList_New(0);
    if (rows == NULL) {
        return NULL;
    }
    PyObject *name, *count;
    Py_ssize_t pos = 0;
    while (PyDict_Next(after->counts, &pos, &name, &count)) {
        Py_ssize_t was = dict_ssize(before->counts, name);
        Py_ssize_t now = PyLong_AsSsize_t(count);
        if (now <= was) {
            continue;
        }
        Py_ssize_t bytes = dict_ssize(after->bytes, name) -
                           dict_ssize(before->bytes, name);
        PyObject *row = PyErr_Occurred() ? NULL : Py_BuildValue(
            "(OnnnnO)", name, was, now, now - was, bytes, Py_None);
        if (row == NULL || PyList_Append(rows, row) < 0) {
            Py_XDECREF(row);
            Py_DECREF(rows);
            return NULL;
        }
        Py_DECREF(row);
    }
    if (pyprof_census_sort_desc(rows, 3) < 0 ||
        (PyList_GET_SIZE(rows) > session->limit &&
         PyList_SetSlice(rows, session->limit, PyList_GET_SIZE(rows),
                         NULL) < 0) ||
        (session->trace_allocations && attach_sites(rows, before) < 0)) {
        Py_DECREF(rows);
        return NULL;
    }
    return rows;
}

/* ---- the hooks around each @profile call ---------------------------- */

/* The session the hooks report to while the command runs, else NULL.
 * Global because wrappers reach it with no context of their own (and may
 * be called after the command has returned); protected by the GIL. */
static session_t *running_session;

static int
record_call(session_t *session, PyObject *func, const side_t *before)
{
    side_t after;
    if (side_take(&after, before, SIDE_COLLECT, session) < 0) {
        side_clear(&after);
        return -1;
    }
    int grew = any_grew(before, &after);
    if (grew > 0) {
        /* Sized now, on the heap just counted: nothing ran since. */
        side_clear(&after);
        if (side_take(&after, before, SIDE_SIZES, session) < 0) {
            side_clear(&after);
            return -1;
        }
    }
    PyObject *rows = grew < 0    ? NULL
                     : grew == 0 ? Py_NewRef(Py_None)
                                 : growth_rows(session, before, &after);
    side_clear(&after);
    if (rows == NULL) {
        return -1;
    }
    if (rows != Py_None && PyList_GET_SIZE(rows) == 0) {
        Py_SETREF(rows, Py_NewRef(Py_None));
    }
    PyObject *name = PyObject_GetAttrString(func, "__qualname__");
    if (name == NULL || !PyUnicode_Check(name)) {
        PyErr_Clear();
        Py_XDECREF(name);
        name = PyObject_Repr(func);
    }
    PyObject *number = name == NULL ? NULL : PyLong_FromSsize_t(
        dict_ssize(session->call_numbers, name) + 1);
    int rc = number == NULL ||
                     PyDict_SetItem(session->call_numbers, name, number) < 0
                 ? -1 : 0;
    if (rc == 0 && rows == Py_None) {
        /* Only counted: a table per call would say "no type grew" each
         * time, and an entry per call would itself grow the heap. */
        PyObject *quiet = PyLong_FromSsize_t(
            dict_ssize(session->quiet_calls, name) + 1);
        rc = quiet == NULL ||
                     PyDict_SetItem(session->quiet_calls, name, quiet) < 0
                 ? -1 : 0;
        Py_XDECREF(quiet);
    }
    else if (rc == 0) {
        PyObject *entry = PyTuple_Pack(3, name, number, rows);
        rc = entry == NULL || PyList_Append(session->calls, entry) < 0
                 ? -1 : 0;
        Py_XDECREF(entry);
    }
    Py_XDECREF(number);
    Py_XDECREF(name);
    Py_DECREF(rows);
    return rc;
}

/* A call starts: the census before it, as the token (NULL when the
 * command is not running, or when the census failed, which is reported:
 * the call runs unmeasured). */
static void *
heap_enter(PyObject *func)
{
    (void)func;
    session_t *session = running_session;
    if (session == NULL || !session->active) {
        return NULL;
    }
    side_t *before = malloc(sizeof(*before));
    if (before == NULL) {
        return NULL;
    }
    int what = SIDE_COLLECT | SIDE_SIZES |
               (session->trace_allocations ? SIDE_ALIVE : 0);
    /* the census's objects are pyprof's, not the program's (a watched
     * call has no wrapper to say so) */
    pyprof_alloc_suspend();
    int taken = side_take(before, NULL, what, session);
    pyprof_alloc_resume();
    if (taken < 0) {
        side_clear(before);
        free(before);
        pyprof_progress_clear(&session->progress);
        pyprof_runner_print_error("pyprof heap: cannot take the census");
        return NULL;
    }
    return before;
}

/* The call returned or raised (the wrapper or the call watch keeps its
 * exception aside; a watched frame has released its locals):
 * the census after it, and its table.  Frees the token. */
static void
heap_exit(PyObject *func, void *token)
{
    side_t *before = token;
    if (before == NULL) {
        return;
    }
    session_t *session = running_session;
    if (session != NULL && session->active) {
        /* drawn before the census, so that a line erased when the
         * program resumes is seen while the census runs */
        pyprof_progress_program_paused(&session->progress);
        pyprof_progress_status(&session->progress, 0,
                               "%ld calls measured (2 full collections and "
                               "2 censuses each)", session->ncensused);
        pyprof_alloc_suspend();
        int recorded = record_call(session, func, before);
        pyprof_alloc_resume();
        if (recorded < 0) {
            pyprof_progress_clear(&session->progress);
            pyprof_runner_print_error("pyprof heap: cannot take the census");
        }
        session->ncensused++;
        pyprof_progress_program_resumes(&session->progress);
    }
    side_clear(before);
    free(before);
}

static const pyprof_call_hooks_t heap_hooks = {
    .enter = heap_enter,
    .exit = heap_exit,
    .frame_released = 1,
};

/* profile(func): the decorator installed as a builtin.  Returns a new
 * reference: below 3.12 to the function itself, its calls watched
 * (engine/call_watch.h) with its frame's locals released before the
 * census after a call, so that the census sees the call gone, locals and
 * all; a wrapper would cost a recursive function C stack on every call
 * (3.11 inlines no call through it: a recursion 20,000 deep overflowed
 * the C stack at about 15,700).  Else (from 3.12, where PY_RETURN comes
 * with the locals alive; another frame hook set; not a plain function)
 * the memory decorators' vectorcall wrapper (binding/memory_wrapper.h),
 * which gives back the C recursion it costs. */
static PyObject *
profile_decorator(PyObject *capsule, PyObject *func)
{
    (void)capsule;
    if (!PyCallable_Check(func)) {
        PyErr_SetString(PyExc_TypeError,
                        "@profile decorates a function or a callable");
        return NULL;
    }
    int watched = pyprof_call_watch_add(func, &heap_hooks);
    if (watched != 0) {
        return watched > 0 ? Py_NewRef(func) : NULL;
    }
    return pyprof_call_wrapper_new(func, &heap_hooks);
}

static PyMethodDef profile_def = {
    "profile", profile_decorator, METH_O,
    "profile(func): report the heap growth of every call of func "
    "(pyprof heap)."};

/* ---- running and reporting ------------------------------------------- */

typedef struct {
    session_t *session;
    int started;
} run_state_t;

static int
run_start(void *ctx)
{
    run_state_t *state = ctx;
    if (state->session->trace_allocations && pyprof_alloc_start() < 0) {
        return -1;
    }
    state->started = 1;
    state->session->program_start = pyprof_clock_read_ns(CLOCK_MONOTONIC);
    return 0;
}

static void
run_stop(void *ctx)
{
    run_state_t *state = ctx;
    session_t *session = state->session;
    /* The census at exit is taken while the program's globals still
     * exist: what it leaves, not what the interpreter keeps. */
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    session->program_wall =
        pyprof_clock_read_ns(CLOCK_MONOTONIC) - session->program_start;
    pyprof_progress_clear(&session->progress);
    side_t side;
    if (side_take(&side, NULL, SIDE_COLLECT | SIDE_SIZES, NULL) == 0) {
        PyObject *rows = PyList_New(0);
        PyObject *name, *count;
        Py_ssize_t pos = 0;
        while (rows != NULL && PyDict_Next(side.counts, &pos, &name,
                                           &count)) {
            PyObject *row = PyTuple_Pack(
                3, name, count, PyDict_GetItem(side.bytes, name));
            if (row == NULL || PyList_Append(rows, row) < 0) {
                Py_CLEAR(rows);
            }
            Py_XDECREF(row);
        }
        if (rows != NULL && pyprof_census_sort_desc(rows, 1) == 0) {
            session->exit_rows = rows;
        }
        else {
            Py_XDECREF(rows);
        }
    }
    side_clear(&side);
    if (PyErr_Occurred()) {
        pyprof_runner_print_error("pyprof heap: cannot take the census");
    }
    PyErr_Restore(type, value, traceback);
    session->active = 0;
    if (session->trace_allocations) {
        pyprof_alloc_stop();
    }
}

static const char *
utf8_or(PyObject *text, const char *fallback)
{
    const char *s = PyUnicode_Check(text) ? PyUnicode_AsUTF8(text) : NULL;
    if (s == NULL) {
        PyErr_Clear();
        return fallback;
    }
    return s;
}

static Py_ssize_t
widest_name(PyObject *rows, Py_ssize_t limit)
{
    Py_ssize_t width = 4;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(rows) && i < limit; i++) {
        PyObject *name = PyTuple_GET_ITEM(PyList_GET_ITEM(rows, i), 0);
        if (PyUnicode_Check(name) && PyUnicode_GET_LENGTH(name) > width) {
            width = PyUnicode_GET_LENGTH(name);
        }
    }
    return width;
}

/* "1,980": `value` with thousands separators, as the summaries print
 * counts of calls. */
static const char *
with_commas(char *buf, size_t size, long value)
{
    char digits[32];
    int n = snprintf(digits, sizeof(digits), "%ld", value);
    size_t used = 0;
    for (int i = 0; i < n && used + 2 < size; i++) {
        if (i > 0 && digits[i - 1] != '-' && (n - i) % 3 == 0) {
            buf[used++] = ',';
        }
        buf[used++] = digits[i];
    }
    buf[used] = '\0';
    return buf;
}

/* One line per function that had calls where no type grew: "== heap
 * growth in NAME: 1,980 of 2,000 calls: no type grew", in the order the
 * functions first had one.  Their tables would all say the same. */
static void
print_calls_without_growth(const session_t *session, pyprof_sink_t *out)
{
    PyObject *name, *n;
    Py_ssize_t pos = 0;
    while (PyDict_Next(session->quiet_calls, &pos, &name, &n)) {
        char some[32], all[32];
        long total = (long)dict_ssize(session->call_numbers, name);
        pyprof_sink_printf(out, "== heap growth in %s: %s of %s call%s: "
                                "no type grew\n",
                           utf8_or(name, "?"),
                           with_commas(some, sizeof(some), PyLong_AsLong(n)),
                           with_commas(all, sizeof(all), total),
                           total == 1 ? "" : "s");
    }
    if (PyDict_GET_SIZE(session->quiet_calls) > 0) {
        pyprof_sink_putc(out, '\n');
    }
    PyErr_Clear();
}

/* Where the time went: the program, and what measuring its calls added
 * (a full collection and a census on each side of every call). */
static void
print_time_spent(const session_t *session, pyprof_sink_t *out)
{
    if (session->ncensused == 0) {
        return;
    }
    char calls[32];
    pyprof_ns_t measuring = session->collecting + session->counting;
    pyprof_ns_t program = session->program_wall > measuring
                              ? session->program_wall - measuring : 0;
    pyprof_sink_printf(
        out,
        "== time: the program %.3f s; measuring its %s call%s %.3f s "
        "(full collections %.3f s, censuses %.3f s: two of each per "
        "call)\n\n",
        pyprof_ns_to_seconds(program),
        with_commas(calls, sizeof(calls), session->ncensused),
        session->ncensused == 1 ? "" : "s", pyprof_ns_to_seconds(measuring),
        pyprof_ns_to_seconds(session->collecting),
        pyprof_ns_to_seconds(session->counting));
}

static void
print_report(const session_t *session, pyprof_sink_t *out)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(session->calls); i++) {
        PyObject *call = PyList_GET_ITEM(session->calls, i);
        PyObject *rows = PyTuple_GET_ITEM(call, 2);
        pyprof_sink_printf(out, "== heap growth in %s, call %ld\n",
                           utf8_or(PyTuple_GET_ITEM(call, 0), "?"),
                           PyLong_AsLong(PyTuple_GET_ITEM(call, 1)));
        int width = (int)widest_name(rows, PY_SSIZE_T_MAX);
        pyprof_sink_printf(out, "%-*s %9s %9s %9s %11s%s\n", width, "type",
                           "before", "after", "+delta", "+bytes",
                           session->trace_allocations ? "  allocated at"
                                                      : "");
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(rows); j++) {
            PyObject *row = PyList_GET_ITEM(rows, j);
            PyObject *site = PyTuple_GET_ITEM(row, 5);
            pyprof_sink_printf(
                out, "%-*s %9zd %9zd %+9zd %+11zd", width,
                utf8_or(PyTuple_GET_ITEM(row, 0), "?"),
                PyLong_AsSsize_t(PyTuple_GET_ITEM(row, 1)),
                PyLong_AsSsize_t(PyTuple_GET_ITEM(row, 2)),
                PyLong_AsSsize_t(PyTuple_GET_ITEM(row, 3)),
                PyLong_AsSsize_t(PyTuple_GET_ITEM(row, 4)));
            if (session->trace_allocations) {
                pyprof_sink_printf(out, "  %s",
                                   site == Py_None
                                       ? "(not tracked)"
                                       : utf8_or(site, "?"));
            }
            pyprof_sink_putc(out, '\n');
        }
        pyprof_sink_putc(out, '\n');
    }
    print_calls_without_growth(session, out);
    print_time_spent(session, out);
    if (session->exit_rows == NULL) {
        return;
    }
    PyObject *rows = session->exit_rows;
    Py_ssize_t shown = PyList_GET_SIZE(rows) < session->limit
                           ? PyList_GET_SIZE(rows) : session->limit;
    int width = (int)widest_name(rows, shown);
    pyprof_sink_printf(out,
                       "== heap at exit: %zd of %zd types (objects the "
                       "garbage collector tracks)\n%-*s %9s %11s\n",
                       shown, PyList_GET_SIZE(rows), width, "type", "count",
                       "bytes");
    for (Py_ssize_t i = 0; i < shown; i++) {
        PyObject *row = PyList_GET_ITEM(rows, i);
        pyprof_sink_printf(out, "%-*s %9zd %11zd\n", width,
                           utf8_or(PyTuple_GET_ITEM(row, 0), "?"),
                           PyLong_AsSsize_t(PyTuple_GET_ITEM(row, 1)),
                           PyLong_AsSsize_t(PyTuple_GET_ITEM(row, 2)));
    }
    PyErr_Clear();
}

/* Returns 0 to go on, 1 after printing help, 2 after a usage error. */
static int
parse_options(int argc, char **argv, heap_options_t *opts)
{
    pyprof_options_t scan;
    pyprof_options_init(&scan, "pyprof heap", argc, argv);
    memset(opts, 0, sizeof(*opts));
    opts->limit = 10;
    while (!pyprof_options_at_program(&scan)) {
        const char *value = NULL;
        int rc;
        if (pyprof_options_flag(&scan, "-h", "--help")) {
            printf("%s%s", usage, help_text);
            return 1;
        }
        if (pyprof_options_flag(&scan, NULL, "--trace-allocations")) {
            opts->trace_allocations = 1;
        }
        else if ((rc = pyprof_options_value(&scan, NULL, "--limit",
                                            &value)) != 0) {
            if (rc < 0 || pyprof_options_parse_long(&scan, "--limit", value,
                                                    1, LONG_MAX,
                                                    &opts->limit) < 0) {
                return 2;
            }
        }
        else {
            pyprof_options_unknown(&scan);
            return 2;
        }
    }
    if (pyprof_runner_parse_target("pyprof heap", argc - scan.index,
                                   argv + scan.index, &opts->target) < 0) {
        fputs(usage, stderr);
        return 2;
    }
    return 0;
}

int
pyprof_cmd_heap(int argc, char **argv)
{
    heap_options_t opts;
    int rc = parse_options(argc, argv, &opts);
    if (rc != 0) {
        return rc == 1 ? 0 : 2;
    }
    if (opts.trace_allocations && pyprof_alloc_start == NULL) {
        fprintf(stderr,
                "pyprof heap: --trace-allocations needs the allocation "
                "tracker, which this build of pyprof lacks\n");
        return 2;
    }
    session_t *session = calloc(1, sizeof(session_t));
    if (session == NULL) {
        fprintf(stderr, "pyprof heap: out of memory\n");
        return 1;
    }
    session->limit = opts.limit;
    session->trace_allocations = opts.trace_allocations;
    pyprof_progress_init(&session->progress, "pyprof heap",
                         PYPROF_NS_PER_SEC / 2);
    pyprof_progress_watch_program(&session->progress);
    PyObject *capsule = PyCapsule_New(session, SESSION_CAPSULE,
                                      session_capsule_free);
    if (capsule == NULL) {
        free(session);
        pyprof_runner_print_error("pyprof heap");
        return 1;
    }
    int status = 1;
    PyObject *decorator = NULL, *builtins = NULL, *saved = NULL;
    session->calls = PyList_New(0);
    session->call_numbers = PyDict_New();
    session->quiet_calls = PyDict_New();
    decorator = PyCFunction_New(&profile_def, capsule);
    builtins = PyEval_GetBuiltins(); /* borrowed */
    if (session->calls == NULL || session->call_numbers == NULL ||
        session->quiet_calls == NULL || decorator == NULL ||
        builtins == NULL) {
        pyprof_runner_print_error("pyprof heap");
        goto done;
    }
    saved = PyDict_GetItemString(builtins, "profile"); /* borrowed */
    Py_XINCREF(saved);
    if (PyDict_SetItemString(builtins, "profile", decorator) < 0) {
        pyprof_runner_print_error("pyprof heap");
        goto done;
    }
    session->active = 1;
    running_session = session;
    run_state_t state = {session, 0};
    pyprof_run_hooks_t hooks = {run_start, run_stop, &state};
    pyprof_outcome_t outcome = pyprof_runner_run(&opts.target, &hooks,
                                                 &status);
    session->active = 0;
    /* calls still running (in a thread the program left behind) end
     * unmeasured */
    pyprof_call_watch_remove(&heap_hooks);
    running_session = NULL;
    if (saved != NULL) {
        PyDict_SetItemString(builtins, "profile", saved);
    }
    else if (PyDict_DelItemString(builtins, "profile") < 0) {
        PyErr_Clear();
    }
    if (state.started && outcome != PYPROF_OUTCOME_NOT_FOUND) {
        fflush(stdout);
        PyObject *py_stdout = PySys_GetObject("stdout");
        if (py_stdout != NULL && py_stdout != Py_None) {
            PyObject *r = PyObject_CallMethod(py_stdout, "flush", NULL);
            Py_XDECREF(r);
            PyErr_Clear();
        }
        pyprof_sink_t out;
        pyprof_sink_init_file(&out, stdout);
        print_report(session, &out);
        if (fflush(stdout) != 0 || pyprof_sink_failed(&out)) {
            if (!pyprof_output_pipe_closed(errno)) {
                fprintf(stderr, "pyprof heap: cannot print the report\n");
            }
            if (status == 0) {
                status = pyprof_output_failure_status();
            }
        }
    }
done:
    Py_XDECREF(saved);
    Py_XDECREF(decorator);
    Py_DECREF(capsule);
    return status;
}
