/* lines_engine.h - the line-event engine: which code runs line by line
 * under the profiler, and what happens at each line.
 *
 * An engine holds
 *   - a selection: code objects added explicitly (the `profile` builtin,
 *     pyprof.profile, LineProfiler.add_function) and rules (--function,
 *     --module, --path) applied to each code object the first time it
 *     runs.  Code objects nested in a selected one (inner functions,
 *     lambdas, comprehensions, generator expressions) belong to it: their
 *     lines are counted in the enclosing function's table.
 *   - per selected function, hits and time per source line;
 *   - per thread, a stack of the selected frames that are running, each
 *     with its current line and when that line's interval began.
 * Line events come from PyEval_SetTrace below 3.12 (lines_legacy.c) and
 * from sys.monitoring LINE/JUMP events enabled only on the selected code
 * objects from 3.12 (lines_monitoring.c), so the rest of the program runs
 * untouched there.
 *
 * A line's interval runs from its line event to the frame's next line
 * event, return, yield or exception; the interval is charged to the line
 * (callees included, as line_profiler does), minus the time of nested
 * frames of the same function (recursion, comprehensions, lambdas), which
 * charge their own lines: so a function's line times add up to its total
 * time.  A generator's or coroutine's suspended time is not charged,
 * except, with `wall_await`, on the line of a coroutine that awaits.
 *
 * Consumers: time and hits are always accounted.  Another feature (per-line
 * memory) plugs a pyprof_lines_consumer_t in to see the same intervals.
 *
 * Several engines may record at once, each counting the code it
 * selected (two LineProfilers, or a program's own under `pyprof lines`,
 * as line_profiler allows): the hooks are installed once and hand each
 * event to every engine recording.  All functions require the GIL.
 */
#ifndef PYPROF_LINES_ENGINE_H
#define PYPROF_LINES_ENGINE_H

#include <Python.h>
#include <stdint.h>

#include "../core/lprof_model.h"

typedef struct pyprof_lines pyprof_lines_t;

typedef enum {
    PYPROF_LINES_RULE_FUNCTION, /* "pkg.mod.func", "mod.Class.meth",
                                   "path/to/file.py:func", "func" */
    PYPROF_LINES_RULE_MODULE,   /* "pkg.mod": every function in it (and in
                                   its submodules when it is a package) */
    PYPROF_LINES_RULE_PATH,     /* "dir" or "file.py": every function
                                   defined in a file below it */
} pyprof_lines_rule_kind_t;

/* Sees each line interval of a selected frame in the calling thread.
 * Called from the hooks with the GIL held; must not raise or call Python
 * code. */
typedef struct {
    void *ctx;
    /* The top selected frame of the calling thread starts running `line`
     * of function `fn` (a line event, or a resume). */
    void (*line_begin)(void *ctx, uint32_t fn, int line);
    /* That interval ends (next line, return, yield, exception). */
    void (*line_end)(void *ctx, uint32_t fn, int line);
    /* A frame of function `fn`'s own code (not of code nested in it)
     * starts: a call, not a generator or coroutine resuming.  Comes
     * before the frame's first line_begin.  May be NULL. */
    void (*frame_start)(void *ctx, uint32_t fn);
    /* A frame of function `fn`'s own code returned or raised: its call
     * is over (its locals are released right after).  Not called when a
     * generator or coroutine suspends.  May be NULL. */
    void (*frame_return)(void *ctx, uint32_t fn);
} pyprof_lines_consumer_t;

/* A new, disabled engine with an empty selection.  `wall_await`: a line
 * of a coroutine that awaits is charged the wall time until the coroutine
 * resumes.  NULL with an exception set on failure. */
pyprof_lines_t *pyprof_lines_new(int wall_await);

/* Change the await accounting (see pyprof_lines_new); only while
 * disabled. */
void pyprof_lines_set_wall_await(pyprof_lines_t *lines, int wall_await);

/* How comprehensions and generator expressions count (before anything
 * is selected): `every_iteration` (the default) maps their code objects
 * to the enclosing function and, from 3.12, counts a backward jump within
 * a line as a line event, as sys.settrace (and memory_profiler) see them;
 * 0 counts as kernprof does on the same Python -- their code objects are
 * not profiled (their time is the line's), and from 3.12 a line is hit
 * when the line changes (sys.monitoring LINE alone). */
void pyprof_lines_set_comprehension_lines(pyprof_lines_t *lines,
                                          int every_iteration);

/* Disable (if enabled) and free the engine and every reference it holds. */
void pyprof_lines_free(pyprof_lines_t *lines);

/* Select a function, a method, a staticmethod/classmethod, a property's
 * accessors, a functools.partial's function, or a code object, with the
 * code objects nested in it.  Returns 1 when something was selected, 0
 * when `obj` holds no Python code (nothing set), -1 with an exception
 * set.  Works while enabled (the code is instrumented at once). */
int pyprof_lines_add(pyprof_lines_t *lines, PyObject *obj);

/* Add a selection rule (the text is copied).  Returns 0, or -1 with an
 * exception set. */
int pyprof_lines_add_rule(pyprof_lines_t *lines,
                          pyprof_lines_rule_kind_t kind, const char *text);

/* The file of the program run as __main__ (so "__main__.func" rules can
 * match it), copied; NULL forgets it.  Returns 0, or -1 with an exception
 * set. */
int pyprof_lines_set_main_file(pyprof_lines_t *lines, const char *path);

/* Plug a consumer in (copied; NULL removes it).  Only while disabled. */
void pyprof_lines_set_consumer(pyprof_lines_t *lines,
                               const pyprof_lines_consumer_t *consumer);

/* Start recording in every thread (on 3.10/3.11: the calling one and
 * those started later with threading), alongside the engines recording
 * already.  Returns 0, or -1 with an exception set (no free
 * sys.monitoring tool id). */
int pyprof_lines_enable(pyprof_lines_t *lines);

/* Stop recording: open frames are charged up to now; FUNCTION rules that
 * matched nothing that ran are looked up in sys.modules, so a function
 * that exists but never ran is listed with zero hits.  Never fails; safe
 * when not enabled. */
void pyprof_lines_disable(pyprof_lines_t *lines);

/* Non-zero while enabled. */
int pyprof_lines_enabled(const pyprof_lines_t *lines);

/* The first engine of those recording (the one enabled first), or NULL
 * (borrowed).  The `profile` builtin registers functions with it. */
pyprof_lines_t *pyprof_lines_current(void);

/* Drop every hit and time recorded (the selection stays). */
void pyprof_lines_clear(pyprof_lines_t *lines);

/* The selected functions, numbered 0..count-1 in the order they were
 * selected (the `fn` consumers see). */
uint32_t pyprof_lines_function_count(const pyprof_lines_t *lines);

/* Function `fn`'s code object (borrowed, alive as long as the engine), its
 * first line and how many lines its table covers.  Returns 0, or -1 when
 * fn is out of range. */
int pyprof_lines_function_info(const pyprof_lines_t *lines, uint32_t fn,
                               PyCodeObject **code, int *first_line,
                               int *nlines);

/* The rules of `kind` FUNCTION that matched no function at all (not even
 * in sys.modules at disable): the i-th such rule's text (borrowed), or
 * NULL past the last one. */
const char *pyprof_lines_unmatched_function(const pyprof_lines_t *lines,
                                            size_t i);

/* Non-zero if a hook could not allocate (some events were dropped). */
int pyprof_lines_out_of_memory(const pyprof_lines_t *lines);

/* What was recorded, as the plain-C model (times calibrated to ns).
 * Returns a new model owned by the caller, or NULL with an exception
 * set. */
pyprof_lprof_t *pyprof_lines_export(pyprof_lines_t *lines);

/* A pyprof_lprof_source_fn (core/lprof_text.h) reading source through
 * Python's linecache, so that IPython cells, and files linecache already
 * holds, show their text.  `ctx` is unused.  Requires the GIL; never
 * leaves an exception set. */
char *pyprof_lines_source_text(void *ctx, const char *filename, size_t *len);

/* Visit the engine's references for the GC of an owning Python object. */
int pyprof_lines_traverse(pyprof_lines_t *lines, visitproc visit, void *arg);

#endif
