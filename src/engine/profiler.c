/* profiler.c - the deterministic function profiler: state, slow paths,
 * export.
 *
 * Hooks (tracer_legacy.c, tracer_monitoring.c) turn CPython's events into
 * pyprof_on_enter()/pyprof_on_exit() on the calling thread's shadow stack;
 * each call path is a node of a calling-context tree that accumulates
 * calls, tottime and cumtime.  cProfile's per-function view is derived at
 * export: walking the tree while counting how often each function (and
 * each caller->callee pair) is already on the path gives exactly
 * cProfile's primitive-call counts and its "outermost call only" cumtime.
 */
#include "profiler_internal.h"

#include <stdlib.h>
#include <string.h>

#include "compat.h"

PYPROF_HOT_INTERNAL pyprof_profiler_t *pyprof_active[PYPROF_MAX_ACTIVE];
PYPROF_HOT_INTERNAL int pyprof_nactive = 0;
PYPROF_HOT_INTERNAL pyprof_profiler_t *pyprof_straight = NULL;
PYPROF_HOT_INTERNAL _Thread_local pyprof_tls_t pyprof_tls[PYPROF_MAX_ACTIVE]
    __attribute__((tls_model("initial-exec")));

/* The hooks are installed (with C function events when
 * `tracer_builtins`).  Protected by the GIL. */
static int tracer_running = 0;
static int tracer_builtins = 0;

/* Epoch source: a new profiler never matches a thread-local pointer left
 * by an older one.  Protected by the GIL. */
static uint64_t next_epoch = 1;

#define INITIAL_FRAMES 64

pyprof_profiler_t *
pyprof_profiler_new(pyprof_clock_kind_t clock, int builtins)
{
    pyprof_profiler_t *prof = PyMem_RawCalloc(1, sizeof(*prof));
    if (prof == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    if (pyprof_calltree_init(&prof->tree) < 0
        || pyprof_ptrmap_init(&prof->func_index) < 0) {
        pyprof_calltree_free(&prof->tree);
        pyprof_ptrmap_free(&prof->func_index);
        PyMem_RawFree(prof);
        PyErr_NoMemory();
        return NULL;
    }
    prof->epoch = next_epoch++;
    pyprof_clock_init(&prof->clock, clock == PYPROF_CLOCK_CPU);
    prof->ns_per_tick = 1.0;
    prof->builtins = builtins;
    prof->slot = 0;
    return prof;
}

/* The clock of a timer profiler: one call of its timer.  The events
 * around it may carry a pending exception (an unwinding frame), which is
 * kept. */
static pyprof_ticks_t
read_timer(void *ctx)
{
    pyprof_profiler_t *prof = ctx;
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    pyprof_ticks_t ticks = 0;
    PyObject *result = PyObject_CallNoArgs(prof->timer);
    if (result != NULL) {
        if (prof->timeunit > 0.0) {
            ticks = (pyprof_ticks_t)PyLong_AsLongLong(result);
        }
        else {
            ticks = (pyprof_ticks_t)(PyFloat_AsDouble(result) * 1e9);
        }
        Py_DECREF(result);
    }
    if (PyErr_Occurred()) {
        PyErr_WriteUnraisable(prof->timer);
        ticks = 0;
    }
    PyErr_Restore(type, value, traceback);
    return ticks;
}

pyprof_profiler_t *
pyprof_profiler_new_timer(PyObject *timer, double timeunit, int builtins)
{
    pyprof_profiler_t *prof = pyprof_profiler_new(PYPROF_CLOCK_WALL,
                                                  builtins);
    if (prof == NULL) {
        return NULL;
    }
    prof->timer = Py_NewRef(timer);
    prof->timeunit = timeunit;
    pyprof_clock_init_function(&prof->clock, read_timer, prof,
                               timeunit > 0.0 ? timeunit * 1e9 : 1.0);
    return prof;
}

PyObject *
pyprof_profiler_objects(pyprof_profiler_t *prof)
{
    PyObject *objects = PyDict_New();
    for (uint32_t i = 0; objects != NULL && i < prof->nfuncs; i++) {
        const pyprof_funcinfo_t *info = &prof->funcs[i];
        const char *filename, *funcname;
        long lineno;
        pyprof_funcinfo_name(info, &filename, &lineno, &funcname);
        PyObject *key = Py_BuildValue("(sls)", filename, lineno, funcname);
        PyObject *object = info->code != NULL ? info->code : info->label;
        if (key == NULL || object == NULL
            || PyDict_SetDefault(objects, key, object) == NULL) {
            Py_XDECREF(key);
            Py_CLEAR(objects);
            break;
        }
        Py_DECREF(key);
    }
    return objects;
}

static void
free_funcs(pyprof_profiler_t *prof)
{
    for (uint32_t i = 0; i < prof->nfuncs; i++) {
        Py_XDECREF(prof->funcs[i].code);
        Py_XDECREF(prof->funcs[i].label);
    }
    prof->nfuncs = 0;
    pyprof_ptrmap_clear(&prof->func_index);
}

/* Forget every shadow stack's open frames (their nodes are gone). */
static void
reset_threads(pyprof_profiler_t *prof)
{
    for (pyprof_thread_t *t = prof->threads; t != NULL; t = t->next) {
        t->depth = 1;
        t->frames[0].cached_key = NULL;
        t->frames[0].children = 0;
    }
}

void
pyprof_profiler_free(pyprof_profiler_t *prof)
{
    if (prof == NULL) {
        return;
    }
    pyprof_profiler_disable(prof);
    free_funcs(prof);
    PyMem_RawFree(prof->funcs);
    pyprof_ptrmap_free(&prof->func_index);
    pyprof_calltree_free(&prof->tree);
    Py_CLEAR(prof->timer);
    pyprof_thread_t *t = prof->threads;
    while (t != NULL) {
        pyprof_thread_t *next = t->next;
        PyMem_RawFree(t->frames);
        PyMem_RawFree(t);
        t = next;
    }
    PyMem_RawFree(prof);
}

/* Recompute pyprof_straight after the profilers recording changed. */
static void
update_straight(void)
{
    pyprof_straight = pyprof_nactive == 1
                              && pyprof_clock_is_straight(
                                  &pyprof_active[0]->clock)
                          ? pyprof_active[0]
                          : NULL;
}

/* A TLS slot no recording profiler holds, `prof`'s previous one first
 * (its threads' stacks are still cached there); -1 when all are taken. */
static int
free_slot(const pyprof_profiler_t *prof)
{
    int taken[PYPROF_MAX_ACTIVE] = {0};
    for (int i = 0; i < pyprof_nactive; i++) {
        taken[pyprof_active[i]->slot] = 1;
    }
    if (!taken[prof->slot]) {
        return prof->slot;
    }
    for (int slot = 0; slot < PYPROF_MAX_ACTIVE; slot++) {
        if (!taken[slot]) {
            return slot;
        }
    }
    return -1;
}

int
pyprof_profiler_enable(pyprof_profiler_t *prof)
{
    if (prof->enabled) {
        return 0;
    }
    int slot = free_slot(prof);
    if (slot < 0) {
        PyErr_Format(PyExc_RuntimeError,
                     "at most %d pyprof profilers can record at once",
                     PYPROF_MAX_ACTIVE);
        return -1;
    }
    /* The hooks are shared: installed by the first profiler, re-installed
     * when one that records C functions joins profilers that do not. */
    int builtins = tracer_builtins || prof->builtins;
    if (tracer_running && builtins != tracer_builtins) {
        pyprof_tracer_stop();
        tracer_running = 0;
    }
    if (!tracer_running) {
        if (pyprof_tracer_start(builtins) < 0) {
            if (pyprof_nactive > 0
                && pyprof_tracer_start(tracer_builtins) == 0) {
                tracer_running = 1; /* the others keep recording */
            }
            return -1;
        }
        tracer_running = 1;
        tracer_builtins = builtins;
    }
    else if (pyprof_tracer_join() < 0) {
        return -1;
    }
    prof->slot = slot;
    pyprof_active[pyprof_nactive++] = prof;
    update_straight();
    prof->enabled = 1;
    return 0;
}

/* Close every open frame of every thread at the current time, as
 * cProfile's flush_unmatched() does on disable.  Frames of other threads
 * are closed with this thread's clock reading: for the wall clock that is
 * exact; a CPU clock is per thread, so their open time is dropped. */
static void
close_open_frames(pyprof_profiler_t *prof)
{
    pyprof_ticks_t now = pyprof_clock_ticks(&prof->clock);
    int per_thread = prof->clock.id == CLOCK_THREAD_CPUTIME_ID;
    pyprof_thread_t *self = pyprof_tls[prof->slot].epoch == prof->epoch
                                ? pyprof_tls[prof->slot].thread : NULL;
    for (pyprof_thread_t *t = prof->threads; t != NULL; t = t->next) {
        while (t->depth > 1) {
            if (t != self && per_thread) {
                pyprof_ns_t start = t->frames[t->depth - 1].start;
                pyprof_close_top(prof, t, start);
            }
            else {
                pyprof_close_top(prof, t, now);
            }
        }
        t->frames[0].cached_key = NULL;
    }
}

void
pyprof_profiler_disable(pyprof_profiler_t *prof)
{
    if (!prof->enabled) {
        return;
    }
    int i = 0;
    while (i < pyprof_nactive && pyprof_active[i] != prof) {
        i++;
    }
    for (; i + 1 < pyprof_nactive; i++) {
        pyprof_active[i] = pyprof_active[i + 1];
    }
    pyprof_nactive--;
    update_straight();
    if (pyprof_nactive == 0 && tracer_running) {
        pyprof_tracer_stop();
        tracer_running = 0;
        tracer_builtins = 0;
    }
    prof->enabled = 0;
    prof->ns_per_tick = pyprof_clock_ns_per_tick(&prof->clock);
    close_open_frames(prof);
}

void
pyprof_profiler_clear(pyprof_profiler_t *prof)
{
    pyprof_calltree_reset(&prof->tree);
    free_funcs(prof);
    reset_threads(prof);
    prof->out_of_memory = 0;
}

int
pyprof_profiler_traverse(pyprof_profiler_t *prof, visitproc visit, void *arg)
{
    for (uint32_t i = 0; i < prof->nfuncs; i++) {
        Py_VISIT(prof->funcs[i].code);
        Py_VISIT(prof->funcs[i].label);
    }
    Py_VISIT(prof->timer);
    return 0;
}

/* ---- slow paths called from the hooks ---------------------------------- */

pyprof_thread_t *
pyprof_thread_attach(pyprof_profiler_t *prof)
{
    pyprof_thread_t *thread = PyMem_RawCalloc(1, sizeof(*thread));
    pyprof_frame_t *frames = PyMem_RawCalloc(INITIAL_FRAMES,
                                             sizeof(*frames));
    if (thread == NULL || frames == NULL) {
        PyMem_RawFree(thread);
        PyMem_RawFree(frames);
        prof->out_of_memory = 1;
        return NULL;
    }
    thread->frames = frames;
    thread->capacity = INITIAL_FRAMES;
    thread->depth = 1; /* the root sentinel, all zeros */
    thread->next = prof->threads;
    prof->threads = thread;
    pyprof_tls[prof->slot].thread = thread;
    pyprof_tls[prof->slot].epoch = prof->epoch;
    return thread;
}

int
pyprof_thread_grow(pyprof_profiler_t *prof, pyprof_thread_t *thread)
{
    if (thread->capacity > UINT32_MAX / 2) {
        prof->out_of_memory = 1;
        return -1;
    }
    uint32_t capacity = thread->capacity * 2;
    pyprof_frame_t *frames = PyMem_RawRealloc(thread->frames,
                                              capacity * sizeof(*frames));
    if (frames == NULL) {
        prof->out_of_memory = 1;
        return -1;
    }
    thread->frames = frames;
    thread->capacity = capacity;
    return 0;
}

void
pyprof_thread_unwind_to(pyprof_profiler_t *prof, pyprof_thread_t *thread,
                        const void *key, pyprof_ticks_t now)
{
    /* An exit for a frame below the top: the frames above it ended
     * without telling us (a hook missed while another tool held it, a
     * C function left by longjmp-like unwinding).  Close them with it.
     * An exit for a frame we never saw begin is ignored. */
    uint32_t depth = thread->depth;
    while (depth > 1
           && prof->tree.nodes[thread->frames[depth - 1].node].key != key) {
        depth--;
    }
    if (depth <= 1) {
        return;
    }
    while (thread->depth >= depth) {
        pyprof_close_top(prof, thread, now);
    }
}

/* cProfile's label for a C function object (its normalizeUserObj): a new
 * reference, or NULL with an exception set. */
static PyObject *
cfunction_label(PyCFunctionObject *fn)
{
    const char *name = fn->m_ml->ml_name;
    PyObject *self = fn->m_self;
    if (self == NULL || PyModule_Check(self)) {
        /* A module-level function: "<built-in method module.name>" is
         * what cProfile prints for these, via the __module__ string. */
        PyObject *modname = NULL;
        PyObject *mod = fn->m_module;
        if (mod != NULL && PyUnicode_Check(mod)) {
            modname = Py_NewRef(mod);
        }
        else if (mod != NULL && PyModule_Check(mod)) {
            modname = PyModule_GetNameObject(mod);
            if (modname == NULL) {
                PyErr_Clear();
            }
        }
        if (self == NULL) {
            PyObject *label;
            if (modname != NULL
                && PyUnicode_CompareWithASCIIString(modname, "builtins")) {
                label = PyUnicode_FromFormat("<%U.%s>", modname, name);
            }
            else {
                label = PyUnicode_FromFormat("<%s>", name);
            }
            Py_XDECREF(modname);
            return label;
        }
        PyObject *label = modname != NULL
            ? PyUnicode_FromFormat("<built-in method %U.%s>", modname, name)
            : PyUnicode_FromFormat("<built-in method %s>", name);
        Py_XDECREF(modname);
        return label;
    }
    /* A bound built-in method: repr(getattr(type(self), name)), e.g.
     * "<method 'append' of 'list' objects>". */
    PyObject *attr_name = PyUnicode_FromString(name);
    if (attr_name == NULL) {
        return NULL;
    }
    PyObject *attr = pyprof_type_lookup(Py_TYPE(self), attr_name);
    Py_DECREF(attr_name);
    if (attr != NULL) {
        PyObject *label = PyObject_Repr(attr);
        if (label != NULL) {
            return label;
        }
        PyErr_Clear();
    }
    PyObject *mod = fn->m_module;
    if (mod != NULL && PyUnicode_Check(mod)) {
        return PyUnicode_FromFormat("<built-in method %U.%s>", mod, name);
    }
    return PyUnicode_FromFormat("<built-in method %s>", name);
}

/* The label of a C callable as the hooks see it: a PyCFunction, or (3.12+)
 * a method descriptor with the object it is called on.  New reference or
 * NULL with an exception set. */
static PyObject *
c_callable_label(PyObject *callable, PyObject *self_arg)
{
    if (PyCFunction_Check(callable)) {
        return cfunction_label((PyCFunctionObject *)callable);
    }
    if (self_arg != NULL) {
        /* What cProfile names after binding the descriptor to self. */
        PyMethodDescrObject *descr = (PyMethodDescrObject *)callable;
        PyObject *attr_name = PyUnicode_FromString(descr->d_method->ml_name);
        if (attr_name == NULL) {
            return NULL;
        }
        PyObject *attr = pyprof_type_lookup(Py_TYPE(self_arg), attr_name);
        Py_DECREF(attr_name);
        if (attr != NULL) {
            PyObject *label = PyObject_Repr(attr);
            if (label != NULL) {
                return label;
            }
            PyErr_Clear();
        }
    }
    return PyObject_Repr(callable);
}

/* The function-table index for `key`, adding it when new.  -1 when out of
 * memory or when a label cannot be made. */
static int64_t
intern_function(pyprof_profiler_t *prof, const void *key, PyObject *callable,
                PyObject *self_arg)
{
    uint32_t index;
    if (pyprof_ptrmap_get(&prof->func_index, key, &index)) {
        return index;
    }
    if (prof->nfuncs == prof->funcs_capacity) {
        uint32_t capacity = prof->funcs_capacity ? prof->funcs_capacity * 2
                                                 : 256;
        pyprof_funcinfo_t *funcs = PyMem_RawRealloc(
            prof->funcs, capacity * sizeof(*funcs));
        if (funcs == NULL) {
            return -1;
        }
        prof->funcs = funcs;
        prof->funcs_capacity = capacity;
    }
    pyprof_funcinfo_t info = {NULL, NULL};
    if (pyprof_key_is_c(key)) {
        info.label = c_callable_label(callable, self_arg);
        if (info.label == NULL) {
            PyErr_Clear();
            return -1;
        }
    }
    else {
        info.code = Py_NewRef(callable);
    }
    index = prof->nfuncs;
    if (pyprof_ptrmap_set(&prof->func_index, key, index) < 0) {
        Py_XDECREF(info.code);
        Py_XDECREF(info.label);
        return -1;
    }
    prof->funcs[prof->nfuncs++] = info;
    return index;
}

pyprof_node_id_t
pyprof_profiler_new_path(pyprof_profiler_t *prof, pyprof_node_id_t parent,
                         const void *key, PyObject *callable,
                         PyObject *self_arg)
{
    /* Labels are made with Python calls: keep the program's own pending
     * exception (a C_RAISE or an unwinding frame) intact around them. */
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    int64_t func = intern_function(prof, key, callable, self_arg);
    PyErr_Restore(type, value, traceback);
    if (func < 0) {
        prof->out_of_memory = 1;
        return PYPROF_ROOT_NODE;
    }
    pyprof_node_id_t node = pyprof_calltree_add(&prof->tree, parent, key,
                                                (uint32_t)func);
    if (node == PYPROF_ROOT_NODE) {
        prof->out_of_memory = 1;
    }
    return node;
}

pyprof_node_id_t
pyprof_profiler_find_child(pyprof_profiler_t *prof, pyprof_frame_t *top,
                           const void *key, PyObject *callable,
                           PyObject *self_arg)
{
    /* The guess that missed: of the child entered last, or of the frame's
     * own node for its first call (pyprof_on_enter_as). */
    pyprof_node_id_t parent = top->node;
    int after = top->cached_key != NULL;
    pyprof_node_id_t from = after ? top->cached_child : parent;
    pyprof_node_id_t node = pyprof_calltree_find(&prof->tree, parent, key);
    if (node == PYPROF_ROOT_NODE) {
        node = pyprof_profiler_new_path(prof, parent, key, callable,
                                        self_arg);
        if (node == PYPROF_ROOT_NODE) {
            return node;
        }
    }
    /* new_path may have moved the nodes (and run Python code): by id. */
    if (from < prof->tree.count) {
        pyprof_node_t *guesser = &prof->tree.nodes[from];
        guesser->guess_key[after] = key;
        guesser->guess_child[after] = node;
    }
    return node;
}

/* ---- export ------------------------------------------------------------- */

/* UTF-8 of a str, or `fallback` when it has none (lone surrogates). */
static const char *
utf8_or(PyObject *str, const char *fallback)
{
    const char *utf8 = str != NULL && PyUnicode_Check(str)
                           ? PyUnicode_AsUTF8(str) : NULL;
    if (utf8 == NULL) {
        PyErr_Clear();
        return fallback;
    }
    return utf8;
}

void
pyprof_funcinfo_name(const pyprof_funcinfo_t *info, const char **filename,
                     long *lineno, const char **funcname)
{
    if (info->code != NULL) {
        PyCodeObject *code = (PyCodeObject *)info->code;
        *filename = utf8_or(code->co_filename, "?");
        *lineno = code->co_firstlineno;
        *funcname = utf8_or(code->co_name, "?");
        return;
    }
    *filename = "~";
    *lineno = 0;
    *funcname = utf8_or(info->label, "<?>");
}

/* Intern function `i` into the model; (size_t)-1 when out of memory. */
static size_t
intern_in_model(pyprof_stats_t *stats, const pyprof_funcinfo_t *info)
{
    const char *filename, *funcname;
    long lineno;
    pyprof_funcinfo_name(info, &filename, &lineno, &funcname);
    return pyprof_stats_intern(stats, filename, lineno, funcname);
}

/* Key of a caller->callee pair in a ptrmap: never NULL. */
static const void *
pair_key(uint32_t caller, uint32_t callee)
{
    return (const void *)(uintptr_t)((((uint64_t)caller << 32) | callee) + 1);
}

typedef struct {
    const pyprof_profiler_t *prof;
    double seconds_per_tick;
    pyprof_stats_t *stats;
    size_t *model_index;        /* function index -> model index */
    uint32_t *active;           /* function index -> times on the path */
    pyprof_ptrmap_t active_pairs; /* (caller, callee) -> times on path */
} export_walk_t;

/* Entering `id` on the depth-first walk: add its numbers under cProfile's
 * recursion rules, then mark it as on the path. */
static int
walk_enter(export_walk_t *walk, pyprof_node_id_t id)
{
    const pyprof_node_t *node = &walk->prof->tree.nodes[id];
    uint32_t f = node->func;
    int primitive = walk->active[f] == 0;
    pyprof_stats_add(walk->stats, walk->model_index[f],
                     primitive ? node->calls : 0, node->calls,
                     node->tottime * walk->seconds_per_tick,
                     primitive ? node->cumtime * walk->seconds_per_tick : 0.0);
    walk->active[f]++;
    if (node->parent == PYPROF_ROOT_NODE) {
        return 0;
    }
    uint32_t pf = walk->prof->tree.nodes[node->parent].func;
    uint32_t pair_active = 0;
    pyprof_ptrmap_get(&walk->active_pairs, pair_key(pf, f), &pair_active);
    int pair_primitive = pair_active == 0;
    if (pyprof_stats_add_caller(
            walk->stats, walk->model_index[f], walk->model_index[pf],
            node->calls, pair_primitive ? node->calls : 0,
            node->tottime * walk->seconds_per_tick,
            pair_primitive ? node->cumtime * walk->seconds_per_tick : 0.0) < 0) {
        return -1;
    }
    return pyprof_ptrmap_set(&walk->active_pairs, pair_key(pf, f),
                             pair_active + 1);
}

static void
walk_leave(export_walk_t *walk, pyprof_node_id_t id)
{
    const pyprof_node_t *node = &walk->prof->tree.nodes[id];
    uint32_t f = node->func;
    walk->active[f]--;
    if (node->parent != PYPROF_ROOT_NODE) {
        uint32_t pf = walk->prof->tree.nodes[node->parent].func;
        uint32_t pair_active = 0;
        pyprof_ptrmap_get(&walk->active_pairs, pair_key(pf, f), &pair_active);
        /* Cannot fail: the key exists, so no growth. */
        pyprof_ptrmap_set(&walk->active_pairs, pair_key(pf, f),
                          pair_active - 1);
    }
}

/* Depth-first walk of the whole tree without recursion (call paths can be
 * thousands deep).  Children lists are built from parent links. */
static int
walk_tree(export_walk_t *walk)
{
    const pyprof_calltree_t *tree = &walk->prof->tree;
    uint32_t n = tree->count;
    int rc = -1;
    uint32_t *first_child = PyMem_RawMalloc(n * sizeof(uint32_t));
    uint32_t *next_sibling = PyMem_RawMalloc(n * sizeof(uint32_t));
    uint32_t *stack = PyMem_RawMalloc(n * sizeof(uint32_t));
    uint32_t *cursor = PyMem_RawMalloc(n * sizeof(uint32_t));
    if (first_child == NULL || next_sibling == NULL || stack == NULL
        || cursor == NULL) {
        goto done;
    }
    for (uint32_t i = 0; i < n; i++) {
        first_child[i] = PYPROF_ROOT_NODE; /* 0 = no child: root is no child */
    }
    /* Backwards, so siblings come out in creation order. */
    for (uint32_t i = n; i-- > 1;) {
        uint32_t parent = tree->nodes[i].parent;
        next_sibling[i] = first_child[parent];
        first_child[parent] = i;
    }
    uint32_t sp = 0;
    stack[sp] = PYPROF_ROOT_NODE;
    cursor[sp] = first_child[PYPROF_ROOT_NODE];
    sp++;
    while (sp > 0) {
        uint32_t child = cursor[sp - 1];
        if (child == PYPROF_ROOT_NODE) {
            sp--;
            if (stack[sp] != PYPROF_ROOT_NODE) {
                walk_leave(walk, stack[sp]);
            }
            continue;
        }
        cursor[sp - 1] = next_sibling[child];
        if (walk_enter(walk, child) < 0) {
            goto done;
        }
        stack[sp] = child;
        cursor[sp] = first_child[child];
        sp++;
    }
    rc = 0;
done:
    PyMem_RawFree(first_child);
    PyMem_RawFree(next_sibling);
    PyMem_RawFree(stack);
    PyMem_RawFree(cursor);
    return rc;
}

pyprof_stats_t *
pyprof_profiler_export(pyprof_profiler_t *prof)
{
    export_walk_t walk = {
        .prof = prof,
        .seconds_per_tick = (prof->enabled
                                 ? pyprof_clock_ns_per_tick(&prof->clock)
                                 : prof->ns_per_tick) / 1e9,
    };
    pyprof_stats_t *stats = pyprof_stats_new();
    uint32_t nfuncs = prof->nfuncs ? prof->nfuncs : 1;
    walk.model_index = PyMem_RawMalloc(nfuncs * sizeof(size_t));
    walk.active = PyMem_RawCalloc(nfuncs, sizeof(uint32_t));
    if (stats == NULL || walk.model_index == NULL || walk.active == NULL
        || pyprof_ptrmap_init(&walk.active_pairs) < 0) {
        goto error;
    }
    walk.stats = stats;
    for (uint32_t i = 0; i < prof->nfuncs; i++) {
        walk.model_index[i] = intern_in_model(stats, &prof->funcs[i]);
        if (walk.model_index[i] == (size_t)-1) {
            goto error;
        }
    }
    if (walk_tree(&walk) < 0) {
        goto error;
    }
    if (prof->out_of_memory
        && PyErr_WarnEx(PyExc_RuntimeWarning,
                        "pyprof ran out of memory while profiling: the "
                        "profile misses some calls", 1) < 0) {
        goto error_keep_exception;
    }
    PyMem_RawFree(walk.model_index);
    PyMem_RawFree(walk.active);
    pyprof_ptrmap_free(&walk.active_pairs);
    return stats;
error:
    PyErr_NoMemory();
error_keep_exception:
    PyMem_RawFree(walk.model_index);
    PyMem_RawFree(walk.active);
    pyprof_ptrmap_free(&walk.active_pairs);
    pyprof_stats_free(stats);
    return NULL;
}
