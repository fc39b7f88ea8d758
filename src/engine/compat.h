/* compat.h - every CPython version difference the engine depends on.
 *
 * All PY_VERSION_HEX tests live here; the rest of the engine calls these
 * accessors, which return the same ownership on every version.
 */
#ifndef PYPROF_COMPAT_H
#define PYPROF_COMPAT_H

#include <Python.h>
#include <frameobject.h>

/* 3.12+: PEP 669 sys.monitoring; below: PyEval_SetProfile. */
#if PY_VERSION_HEX >= 0x030C0000
#define PYPROF_USE_MONITORING 1
#else
#define PYPROF_USE_MONITORING 0
#endif

/* The code object a frame runs.  Borrowed: the frame keeps it alive. */
static inline PyCodeObject *
pyprof_frame_code(PyFrameObject *frame)
{
#if PY_VERSION_HEX >= 0x030B0000
    PyCodeObject *code = PyFrame_GetCode(frame); /* new reference */
    Py_DECREF(code);
    return code;
#else
    return frame->f_code;
#endif
}

/* Method resolution the way cProfile names built-in methods: the
 * attribute `name` found on `type`'s MRO without running descriptors or
 * __getattr__ hooks (PyObject_GetAttr could run user code inside a
 * profiler hook).  Borrowed reference or NULL, no exception set.
 * _PyType_Lookup is underscore-named but exported on 3.10-3.13; it is the
 * lookup cProfile itself uses. */
static inline PyObject *
pyprof_type_lookup(PyTypeObject *type, PyObject *name)
{
    return _PyType_Lookup(type, name);
}

/* Take the raised exception out of the error indicator: a new reference
 * to the (normalized) exception object, or NULL when none is set. */
static inline PyObject *
pyprof_error_take(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    if (type == NULL) {
        return NULL;
    }
    PyErr_NormalizeException(&type, &value, &traceback);
    if (value != NULL && traceback != NULL) {
        PyException_SetTraceback(value, traceback);
    }
    if (value == NULL) {
        value = Py_NewRef(type);
    }
    Py_DECREF(type);
    Py_XDECREF(traceback);
    return value;
#endif
}

/* Put an exception taken by pyprof_error_take back in the error
 * indicator; steals the reference (NULL does nothing). */
static inline void
pyprof_error_restore(PyObject *exc)
{
    if (exc == NULL) {
        return;
    }
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(exc);
#else
    PyObject *type = Py_NewRef((PyObject *)Py_TYPE(exc));
    PyErr_Restore(type, exc, PyException_GetTraceback(exc));
#endif
}

/* What python's own __main__ starts with (pylifecycle.c add_main_module,
 * pythonrun.c for a script).  Up to 3.13 an empty __annotations__ dict;
 * from 3.14 (PEP 649/749) none: the compiler stores __annotate__ and
 * reading module.__annotations__ creates the dict.  Up to 3.14 a script's
 * __main__ has __cached__ = None; 3.15 sets none. */
#if PY_VERSION_HEX < 0x030E0000
#define PYPROF_MAIN_HAS_ANNOTATIONS 1
#else
#define PYPROF_MAIN_HAS_ANNOTATIONS 0
#endif
#if PY_VERSION_HEX < 0x030F0000
#define PYPROF_MAIN_HAS_CACHED 1
#else
#define PYPROF_MAIN_HAS_CACHED 0
#endif

/* Free-threaded builds (PEP 703: 3.13t, 3.14t; Py_GIL_DISABLED).  pyprof
 * needs the GIL.  Its engines keep shared tables that every thread's hook
 * writes -- the calling-context tree and its function table
 * (engine/profiler.c), the line engine's selection and per-code tables
 * (lines/), the heap census's walk and the mprof call queue -- and each
 * thread's shadow stack is read by enable/disable/export from another
 * thread; the GIL is the one lock they all rely on (every such global says
 * so where it is defined).  The allocation hook's own mutex covers only the
 * block map.  So the module declares Py_MOD_GIL_USED (the Py_mod_gil slot
 * exists since 3.13; without it, 3.13t re-enables the GIL anyway and warns
 * in general terms), and on a free-threaded build says once, at import,
 * what happened and why (binding/module.c). */
#if PY_VERSION_HEX >= 0x030D0000
#define PYPROF_HAS_MOD_GIL 1
#else
#define PYPROF_HAS_MOD_GIL 0
#endif
#ifdef Py_GIL_DISABLED
#define PYPROF_FREE_THREADED_BUILD 1
#else
#define PYPROF_FREE_THREADED_BUILD 0
#endif

/* Whether the GIL is enabled now: always on a GIL build; on a
 * free-threaded one, sys._is_gil_enabled() (3.13+).  1, 0, or -1 when it
 * cannot be told (no exception left set). */
static inline int
pyprof_gil_enabled(void)
{
#if PYPROF_FREE_THREADED_BUILD
    PyObject *is_enabled = PySys_GetObject("_is_gil_enabled"); /* borrowed */
    PyObject *answer = is_enabled == NULL ? NULL
                                          : PyObject_CallNoArgs(is_enabled);
    int enabled = answer == NULL ? -1 : PyObject_IsTrue(answer);
    Py_XDECREF(answer);
    if (enabled < 0) {
        PyErr_Clear();
    }
    return enabled;
#else
    return 1;
#endif
}

/* The sort `python -m cProfile` prints with when -s is not given: standard
 * name up to 3.10, cumulative time from 3.11. */
#if PY_VERSION_HEX >= 0x030B0000
#define PYPROF_CPROFILE_DEFAULT_SORT "cumulative"
#else
#define PYPROF_CPROFILE_DEFAULT_SORT "stdname"
#endif

/* The calling thread's state, or NULL when it has none (no fatal error,
 * unlike PyThreadState_Get).  Borrowed. */
static inline PyThreadState *
pyprof_thread_state_unchecked(void)
{
#if PY_VERSION_HEX >= 0x030D0000
    return PyThreadState_GetUnchecked();
#else
    return _PyThreadState_UncheckedGet();
#endif
}

/* Bytes the allocator handed out before an object's address: the GC
 * header of a GC-tracked type, and from 3.11 the two pointers of the
 * managed-dict pre-header (3.12+: also the managed weakref list), as
 * CPython's _PyType_PreHeaderSize computes them.  The GC header is two
 * words on every supported version (PyGC_Head is not public). */
static inline size_t
pyprof_object_preheader_size(PyTypeObject *type)
{
    size_t size = PyType_IS_GC(type) ? 2 * sizeof(uintptr_t) : 0;
#if PY_VERSION_HEX >= 0x030C0000
    if (PyType_HasFeature(type, Py_TPFLAGS_MANAGED_DICT |
                                    Py_TPFLAGS_MANAGED_WEAKREF)) {
        size += 2 * sizeof(PyObject *);
    }
#elif PY_VERSION_HEX >= 0x030B0000
    if (PyType_HasFeature(type, Py_TPFLAGS_MANAGED_DICT)) {
        size += 2 * sizeof(PyObject *);
    }
#endif
    return size;
}

/* A code object's qualified name ("Class.method"); below 3.11, where code
 * objects do not know it, its plain name.  Borrowed. */
static inline PyObject *
pyprof_code_qualname(PyCodeObject *code)
{
#if PY_VERSION_HEX >= 0x030B0000
    return code->co_qualname;
#else
    return code->co_name;
#endif
}

#if !PYPROF_USE_MONITORING
/* Non-zero when the calling thread already has a C-level profile function
 * (cProfile, a debugger); PyThreadState's fields are public below 3.12. */
static inline int
pyprof_thread_profile_func_set(PyThreadState *tstate, Py_tracefunc ours)
{
    return tstate->c_profilefunc != NULL && tstate->c_profilefunc != ours;
}
#endif

/* A C wrapper's call into a Python function enters a new evaluation,
 * which 3.12 and 3.13 count against their C recursion limit (separate from
 * the Python one, and lower on 3.12): a recursion through a wrapper would
 * raise RecursionError long before the limit the program set.  Giving the
 * count back around the call (`credit` levels, then -credit) keeps the
 * program's limit; the caller gives none once the C stack is deep
 * (engine/cstack.h), so the C limit still stops a runaway recursion before
 * the stack overflows.  Other versions count no C level for it (3.10/3.11
 * share one limit; 3.14 checks the stack pointer itself).  Returns the
 * credit given. */
static inline int
pyprof_c_recursion_credit(PyThreadState *tstate, int credit)
{
#if PY_VERSION_HEX >= 0x030C0000 && PY_VERSION_HEX < 0x030E0000
    tstate->c_recursion_remaining += credit;
    return credit;
#else
    (void)tstate;
    (void)credit;
    return 0;
#endif
}

/* ---- line-level access, for the line engine (src/lines/) ------------- */

/* The line a frame is at during a trace event: set by the interpreter
 * before it calls a C trace function (3.10: the public field; 3.11: the
 * accessor returns the same field without a line-table walk). */
static inline int
pyprof_frame_trace_line(PyFrameObject *frame)
{
#if PY_VERSION_HEX >= 0x030B0000
    return PyFrame_GetLineNumber(frame);
#else
    return frame->f_lineno;
#endif
}

/* Non-zero when the frame has executed an instruction before (a resumed
 * generator or coroutine), zero at its first 'call' event. */
static inline int
pyprof_frame_started(PyFrameObject *frame)
{
#if PY_VERSION_HEX >= 0x030B0000
    return PyFrame_GetLasti(frame) >= 0;
#else
    return frame->f_lasti >= 0;
#endif
}

/* Non-zero when a 'return' trace event of a coroutine frame is a
 * suspension (await), not the end of the coroutine.  May run attribute
 * lookups; never leaves an exception set. */
static inline int
pyprof_frame_suspending(PyFrameObject *frame)
{
#if PY_VERSION_HEX >= 0x030B0000
    PyObject *gen = PyFrame_GetGenerator(frame); /* new reference */
    if (gen == NULL) {
        return 0;
    }
    PyObject *flag = PyObject_GetAttrString(gen, "cr_suspended");
    Py_DECREF(gen);
    if (flag == NULL) {
        PyErr_Clear();
        return 0;
    }
    int suspended = PyObject_IsTrue(flag) > 0;
    Py_DECREF(flag);
    PyErr_Clear();
    return suspended;
#else
    return frame->f_state == FRAME_SUSPENDED;
#endif
}

/* Per-code-object scratch slots (co_extra), freed with the code object.
 * Index: -1 on failure; get/set: 0, or -1 with an exception set. */
static inline Py_ssize_t
pyprof_code_extra_index(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyUnstable_Eval_RequestCodeExtraIndex(NULL);
#else
    return _PyEval_RequestCodeExtraIndex(NULL);
#endif
}

static inline int
pyprof_code_get_extra(PyObject *code, Py_ssize_t index, void **extra)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyUnstable_Code_GetExtra(code, index, extra);
#else
    return _PyCode_GetExtra(code, index, extra);
#endif
}

static inline int
pyprof_code_set_extra(PyObject *code, Py_ssize_t index, void *extra)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyUnstable_Code_SetExtra(code, index, extra);
#else
    return _PyCode_SetExtra(code, index, extra);
#endif
}

/* 1 and *out = the value when `value` is an exact int of at most 30 bits
 * (read inline, from 3.12), else 0: never fails, never sets an error. */
static inline int
pyprof_long_as_compact_int(PyObject *value, int *out)
{
#if PY_VERSION_HEX >= 0x030C0000
    if (PyLong_CheckExact(value)
        && PyUnstable_Long_IsCompact((PyLongObject *)value)) {
        *out = (int)PyUnstable_Long_CompactValue((PyLongObject *)value);
        return 1;
    }
#endif
    (void)value;
    (void)out;
    return 0;
}

/* 1 and *out = the value when `value` is an exact positive int of one
 * digit (1 to 2**30 - 1: every line number sys.monitoring hands a LINE
 * callback), else 0; never fails.  From 3.12 one test of the tag (sign
 * 0, one digit; the small-int bit 3.14 added masked out); below, always
 * 0. */
static inline int
pyprof_long_as_line(PyObject *value, int *out)
{
#if PY_VERSION_HEX >= 0x030C0000
    const PyLongObject *v = (const PyLongObject *)value;
    if (PyLong_CheckExact(value)
        && (v->long_value.lv_tag & ~(uintptr_t)4)
               == ((uintptr_t)1 << _PyLong_NON_SIZE_BITS)) {
        *out = (int)v->long_value.ob_digit[0];
        return 1;
    }
#endif
    (void)value;
    (void)out;
    return 0;
}

/* Ints up to this are the interpreter's cached small ints (3.12-3.15:
 * -5 to at least 256), never allocated for an event: an event's int of
 * at most this need not be disowned (alloc_hook.h). */
#define PYPROF_CACHED_INT_MAX 256

/* A Python int as a C int (-1 with an exception set on overflow).  From
 * 3.12 an exact int of at most 30 bits (every line number and offset
 * sys.monitoring hands a callback) is read inline: a LINE event is
 * otherwise a call into libpython and its overflow checks, a few percent
 * of what `pyprof lines` adds per line. */
static inline int
pyprof_long_as_int(PyObject *value)
{
    int compact;
    if (pyprof_long_as_compact_int(value, &compact)) {
        return compact;
    }
#if PY_VERSION_HEX >= 0x030D0000
    return PyLong_AsInt(value);
#else
    return _PyLong_AsInt(value);
#endif
}

/* The heap census walks the collector's object lists: 3.12 added
 * PyUnstable_GC_VisitObjects, which visits every tracked object without
 * building anything; below 3.12 no public API reaches the generation
 * lists, so src/heap/walk.c walks them through the internal headers
 * (pyprof_gc_visit_lists, at the end of this file). */
#if PY_VERSION_HEX >= 0x030C0000
#define PYPROF_HAVE_GC_VISIT_OBJECTS 1
#else
#define PYPROF_HAVE_GC_VISIT_OBJECTS 0
#endif

/* Stop the 'line' events of a frame a C trace function does not care
 * about.  3.10: the public field, free.  3.11 keeps it behind a generic
 * attribute setter that costs about what the line events it saves in a
 * small function, so there this does nothing. */
static inline void
pyprof_frame_skip_lines(PyFrameObject *frame)
{
#if PY_VERSION_HEX < 0x030B0000
    frame->f_trace_lines = 0;
#else
    (void)frame;
#endif
}

/* ---- the PEP 523 frame hook (line events below 3.12) ----------------
 *
 * Below 3.12 the line engine can keep tracing mode to the selected frames
 * by wrapping the interpreter's frame evaluation (_PyInterpreterState_
 * SetEvalFrameFunc, underscore-named but exported on 3.10 and 3.11 and
 * what debuggers use).  The hook is handed a PyFrameObject on 3.10 and an
 * _PyInterpreterFrame on 3.11, whose layout only the internal headers
 * give; a file that wants it defines PYPROF_WANT_EVAL_FRAME before
 * including this header, so no other file sees an internal header. */
#if defined(PYPROF_WANT_EVAL_FRAME) && !PYPROF_USE_MONITORING
#if PY_VERSION_HEX >= 0x030B0000
#define Py_BUILD_CORE 1
#include <internal/pycore_frame.h>
#undef Py_BUILD_CORE
typedef struct _PyInterpreterFrame pyprof_eval_frame_t;
typedef _PyCFrame pyprof_cframe_t;
/* 3.11 or's use_tracing into the opcode, so "on" is all ones. */
#define PYPROF_USE_TRACING_ON 255
#else
typedef PyFrameObject pyprof_eval_frame_t;
typedef CFrame pyprof_cframe_t;
#define PYPROF_USE_TRACING_ON 1
#endif

/* The code object the frame about to be evaluated runs.  Borrowed. */
static inline PyObject *
pyprof_eval_frame_code(pyprof_eval_frame_t *frame)
{
    return (PyObject *)frame->f_code;
}

/* A frame of a plain function has ended (its 'return' trace event, or
 * its evaluation returned to a frame hook): drop its references to its
 * locals, cells and locals() dict now, as the interpreter does a moment
 * later when it frees the frame, so that a census taken at the end of
 * the call sees what the caller sees once the call has returned.  Unless
 * someone else holds the frame object (a traceback of a raising frame,
 * sys._getframe()): then the locals live on with it, under plain python
 * too.  The slots are set to NULL before each reference goes (what
 * frame.clear() does), so a finalizer that reaches the frame finds
 * unbound locals, never a freed object. */
#if PY_VERSION_HEX >= 0x030B0000
static inline void
pyprof_eval_frame_release_locals(pyprof_eval_frame_t *frame)
{
    if (frame->owner != FRAME_OWNED_BY_THREAD
        || (frame->frame_obj != NULL && Py_REFCNT(frame->frame_obj) > 1)) {
        return;
    }
    for (int i = 0; i < frame->stacktop; i++) {
        Py_CLEAR(frame->localsplus[i]);
    }
    Py_CLEAR(frame->f_locals);
}

/* The same, from a trace event's frame object. */
static inline void
pyprof_frame_release_locals(PyFrameObject *frame)
{
    pyprof_eval_frame_release_locals(frame->f_frame);
}
#else
static inline void
pyprof_eval_frame_release_locals(pyprof_eval_frame_t *frame)
{
    /* one reference: the evaluation's own (_PyEval_Vector's) */
    if (Py_REFCNT(frame) > 1 || frame->f_gen != NULL) {
        return;
    }
    for (PyObject **slot = frame->f_localsplus; slot < frame->f_valuestack;
         slot++) {
        Py_CLEAR(*slot);
    }
    Py_CLEAR(frame->f_locals);
}

static inline void
pyprof_frame_release_locals(PyFrameObject *frame)
{
    pyprof_eval_frame_release_locals(frame);
}
#endif
#endif

/* ---- a failed flush of sys.stdout at exit ----
 *
 * From 3.14 python reports it (pylifecycle.c flush_std_files) as
 * "Exception ignored while flushing sys.stdout:" and the exception alone,
 * no traceback: no frame runs at that point.  Before, as
 * PyErr_WriteUnraisable(stream) does.  The runner reports it the same way
 * from inside pyprof's own frames, so it must drop their traceback. */
#if PY_VERSION_HEX >= 0x030E0000
#define PYPROF_FLUSH_FAILURE_BY_NAME 1
#endif

/* ---- where a thread is, read without allocating (allocation hooks) ----
 *
 * An allocation hook must not create a frame object (PyThreadState_GetFrame
 * does from 3.11: it allocates, through the very hooks, possibly while
 * tracemalloc holds its lock).  So the hook reads the thread's frame stack
 * as tracemalloc itself does: below 3.11 the PyFrameObject chain (public
 * fields), from 3.11 the _PyInterpreterFrame chain, whose layout only the
 * internal headers give (3.11-3.13 pycore_frame.h, 3.14+
 * pycore_interpframe.h).  A file that wants it defines
 * PYPROF_WANT_THREAD_LOCATION before including this header. */
#if defined(PYPROF_WANT_THREAD_LOCATION)
#if PY_VERSION_HEX >= 0x030B0000
#define Py_BUILD_CORE 1
#if PY_VERSION_HEX >= 0x030E0000
#include <internal/pycore_interpframe.h>
#else
#include <internal/pycore_frame.h>
#endif
#undef Py_BUILD_CORE
#endif

/* The innermost complete Python frame of `tstate` (the one tracemalloc
 * charges), or NULL when the thread runs none: an opaque pointer (an
 * _PyInterpreterFrame from 3.11, a PyFrameObject below), valid while the
 * frame runs.  Allocates nothing, calls nothing; the caller holds the
 * GIL (so do the two accessors below). */
static inline void *
pyprof_thread_top_frame(PyThreadState *tstate)
{
#if PY_VERSION_HEX >= 0x030C0000
    return _PyThreadState_GetFrame(tstate);
#elif PY_VERSION_HEX >= 0x030B0000
    _PyInterpreterFrame *frame = tstate->cframe->current_frame;
    while (frame != NULL && _PyFrame_IsIncomplete(frame)) {
        frame = frame->previous;
    }
    return frame;
#else
    return tstate->frame;
#endif
}

/* The complete frame that called `frame` (from pyprof_thread_top_frame),
 * or NULL. */
static inline void *
pyprof_frame_below(void *frame)
{
#if PY_VERSION_HEX >= 0x030C0000
    return _PyFrame_GetFirstComplete(((_PyInterpreterFrame *)frame)->previous);
#elif PY_VERSION_HEX >= 0x030B0000
    _PyInterpreterFrame *below = ((_PyInterpreterFrame *)frame)->previous;
    while (below != NULL && _PyFrame_IsIncomplete(below)) {
        below = below->previous;
    }
    return below;
#else
    return ((PyFrameObject *)frame)->f_back;
#endif
}

/* The code object `frame` runs (borrowed: the frame holds it), with *addr
 * set to the byte offset of the instruction it runs (negative before the
 * first one). */
static inline PyCodeObject *
pyprof_frame_location(void *frame, int *addr)
{
#if PY_VERSION_HEX >= 0x030B0000
    _PyInterpreterFrame *f = frame;
    *addr = _PyInterpreterFrame_LASTI(f) * (int)sizeof(_Py_CODEUNIT);
#if PY_VERSION_HEX >= 0x030D0000
    return _PyFrame_GetCode(f);
#else
    return f->f_code;
#endif
#else
    PyFrameObject *f = frame;
    *addr = f->f_lasti * (int)sizeof(_Py_CODEUNIT);
    return f->f_code;
#endif
}
#endif

/* ---- the collector's generation lists below 3.12 ----------------------
 *
 * 3.12 visits them with PyUnstable_GC_VisitObjects; below, they live in
 * the interpreter's internal state.  A file that walks them defines
 * PYPROF_WANT_GC_LISTS before including this header (the only other user
 * of internal headers is the frame hook above). */
#if defined(PYPROF_WANT_GC_LISTS) && !PYPROF_HAVE_GC_VISIT_OBJECTS
#define Py_BUILD_CORE 1
#undef _PyGC_FINALIZED /* redefined, identically, by pycore_gc.h */
#include <internal/pycore_interp.h>
#undef Py_BUILD_CORE

/* Call visit(obj, arg) for every object of every generation list, young
 * to old (gc.get_objects()'s order), until it returns non-zero.  The
 * visitor must not create or free objects the collector tracks. */
static inline void
pyprof_gc_visit_lists(int (*visit)(PyObject *, void *), void *arg)
{
    PyInterpreterState *interp = PyInterpreterState_Get();
    for (int gen = 0; gen < NUM_GENERATIONS; gen++) {
        PyGC_Head *head = &interp->gc.generations[gen].head;
        for (PyGC_Head *node = (PyGC_Head *)head->_gc_next; node != head;
             node = (PyGC_Head *)node->_gc_next) {
            if (visit((PyObject *)(node + 1), arg) != 0) {
                return;
            }
        }
    }
}
#endif

#endif
