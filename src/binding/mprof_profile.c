/* mprof_profile.c - the `profile` builtin of `pyprof mprof run` (see
 * mprof_profile.h). */
#include "mprof_profile.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memory_wrapper.h"

/* Functions whose FUNC name is known: a direct-mapped cache on the
 * function's address, so a profiled function called in a loop (or two
 * that call each other) is named once, not per call. */
#define NAME_CACHE_SIZE 64

typedef struct {
    PyObject *func;         /* strong, or NULL: keeps the address unique */
    const char *name;       /* the sampler's copy (pyprof_rss_sampler_name) */
} named_func_t;

/* The recording in progress.  Global because the wrappers and blocks,
 * which may outlive it, reach it from the program's calls; protected by
 * the GIL. */
static struct {
    pyprof_rss_sampler_t *sampler;  /* NULL when not recording */
    int depth;                  /* calls and blocks running */
    named_func_t names[NAME_CACHE_SIZE];
} recording;

/* A call or block that started while recording. */
typedef struct call_token {
    int64_t rss_start;
    double t_start;
    int level;
    struct call_token *next;    /* a block entered again before its exit */
} call_token_t;

/* Memory and time at the start of a call or block: a new token for
 * end_call, or NULL when not recording (or out of memory: the call goes
 * unrecorded). */
static call_token_t *
start_call(void)
{
    if (recording.sampler == NULL) {
        return NULL;
    }
    call_token_t *token = malloc(sizeof(*token));
    if (token == NULL) {
        return NULL;
    }
    token->t_start = pyprof_rss_sampler_now();
    token->rss_start = pyprof_rss_sampler_read_now(recording.sampler);
    token->level = recording.depth++;
    token->next = NULL;
    return token;
}

/* memory_profiler's name for a function: "module.name".  Writes into buf
 * (spaces, a field separator in the file, made underscores). */
static void
func_name(PyObject *func, char *buf, size_t size)
{
    PyObject *module = PyObject_GetAttrString(func, "__module__");
    PyObject *name = module != NULL ? PyObject_GetAttrString(func,
                                                             "__name__")
                                    : NULL;
    const char *m = module != NULL && PyUnicode_Check(module)
                        ? PyUnicode_AsUTF8(module) : NULL;
    const char *n = name != NULL && PyUnicode_Check(name)
                        ? PyUnicode_AsUTF8(name) : NULL;
    snprintf(buf, size, "%s.%s", m != NULL ? m : "?", n != NULL ? n : "?");
    PyErr_Clear();
    Py_XDECREF(module);
    Py_XDECREF(name);
}

static void
blanks_to_underscores(char *text)
{
    for (char *p = text; *p; p++) {
        if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') {
            *p = '_';
        }
    }
}

/* The sampler's copy of func's FUNC name (borrowed), or NULL when out of
 * memory or the recording ended.  Needs a recording when called. */
static const char *
cached_name(PyObject *func)
{
    named_func_t *slot =
        &recording.names[((uintptr_t)func >> 4) % NAME_CACHE_SIZE];
    if (slot->func != func) {
        char buf[512];
        func_name(func, buf, sizeof(buf));
        blanks_to_underscores(buf);
        if (recording.sampler == NULL) {
            return NULL;    /* the recording ended while Python code ran */
        }
        const char *name = pyprof_rss_sampler_name(recording.sampler, buf);
        if (name == NULL) {
            return NULL;
        }
        Py_XSETREF(slot->func, Py_NewRef(func));
        slot->name = name;
    }
    return slot->name;
}

/* The end of a call (of `func`) or block (named `block`, already as
 * mprof names it): memory and time are read, and its FUNC line queued.
 * Frees the token; NULL is ignored. */
static void
end_call(call_token_t *token, PyObject *func, const char *block)
{
    if (token == NULL) {
        return;
    }
    if (recording.sampler != NULL) {
        pyprof_rss_sampler_call_t call;
        call.rss_end = pyprof_rss_sampler_read_now(recording.sampler);
        call.t_end = pyprof_rss_sampler_now();
        recording.depth--;
        call.name = func != NULL
                        ? cached_name(func)
                        : pyprof_rss_sampler_name(recording.sampler, block);
        call.level = token->level;
        call.rss_start = token->rss_start;
        call.t_start = token->t_start;
        /* Naming a callable may run Python code (its __module__), which
         * lets another thread end the recording meanwhile. */
        if (call.name != NULL && recording.sampler != NULL) {
            pyprof_rss_sampler_add_call(recording.sampler, &call);
        }
    }
    free(token);
}

static void *
func_enter(PyObject *func)
{
    (void)func;
    return start_call();
}

static void
func_exit(PyObject *func, void *token)
{
    end_call(token, func, NULL);
}

static const pyprof_call_hooks_t func_hooks = {func_enter, func_exit};

/* ------------------------------------------------------------------ */
/* `with profile.timestamp(name):` */

typedef struct {
    PyObject_HEAD
    char *name;                 /* owned: ".name", as mprof names blocks */
    call_token_t *running;      /* entered and not exited, newest first */
} TimestampObject;

/* The types, created on first use.  Global because their objects outlive
 * any recording; protected by the GIL. */
static PyTypeObject *timestamp_type;
static PyTypeObject *profile_type;

static PyObject *
timestamp_enter(TimestampObject *self, PyObject *unused)
{
    call_token_t *token = start_call();
    if (token != NULL) {
        token->next = self->running;
        self->running = token;
    }
    Py_RETURN_NONE;
}

static PyObject *
timestamp_exit(TimestampObject *self, PyObject *args)
{
    call_token_t *token = self->running;
    if (token != NULL) {
        self->running = token->next;
        end_call(token, NULL, self->name);
    }
    Py_RETURN_FALSE;    /* exceptions propagate */
}

static void
timestamp_dealloc(TimestampObject *self)
{
    PyTypeObject *type = Py_TYPE(self);
    while (self->running != NULL) {
        call_token_t *next = self->running->next;
        free(self->running);
        self->running = next;
    }
    free(self->name);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

static PyMethodDef timestamp_methods[] = {
    {"__enter__", (PyCFunction)timestamp_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)timestamp_exit, METH_VARARGS, NULL},
    {NULL},
};

static PyType_Slot timestamp_slots[] = {
    {Py_tp_methods, timestamp_methods},
    {Py_tp_dealloc, timestamp_dealloc},
    {0, NULL},
};

static PyType_Spec timestamp_spec = {
    .name = "pyprof._pyprof.MprofTimestamp",
    .basicsize = sizeof(TimestampObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = timestamp_slots,
};

/* profile.timestamp(name="<block>") -> a context manager recording the
 * block it runs as a FUNC line. */
static PyObject *
profile_timestamp(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"name", NULL};
    const char *name = "<block>";
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|s:timestamp", kwlist,
                                     &name)) {
        return NULL;
    }
    TimestampObject *cm = PyObject_New(TimestampObject, timestamp_type);
    if (cm == NULL) {
        return NULL;
    }
    cm->running = NULL;
    /* memory_profiler gives the block a function whose __module__ is ""
     * and __name__ is `name`: "%s.%s" makes it ".name". */
    size_t length = strlen(name);
    cm->name = malloc(length + 2);
    if (cm->name == NULL) {
        Py_DECREF(cm);
        return PyErr_NoMemory();
    }
    cm->name[0] = '.';
    memcpy(cm->name + 1, name, length + 1);
    blanks_to_underscores(cm->name);
    return (PyObject *)cm;
}

/* ------------------------------------------------------------------ */
/* `profile` itself. */

/* profile(func=None, precision=None): a wrapper of func recording each
 * call; with no func (`@profile(precision=2)`), the decorator itself. */
static PyObject *
profile_call(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"func", "precision", NULL};
    PyObject *func = Py_None, *precision = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OO:profile", kwlist,
                                     &func, &precision)) {
        return NULL;
    }
    if (func == Py_None) {
        return Py_NewRef(self);
    }
    if (!PyCallable_Check(func)) {
        /* memory_profiler's TimeStamper raises the same */
        PyErr_SetString(PyExc_ValueError, "Value must be callable");
        return NULL;
    }
    /* The function itself where its calls can be watched (no wrapper to
     * cost the program recursion depth), else a wrapper. */
    int watched = pyprof_call_watch_add(func, &func_hooks);
    if (watched != 0) {
        return watched > 0 ? Py_NewRef(func) : NULL;
    }
    return pyprof_call_wrapper_new(func, &func_hooks);
}

static PyObject *
profile_repr(PyObject *self)
{
    return PyUnicode_FromString("<pyprof mprof run: profile>");
}

static void
profile_dealloc(PyObject *self)
{
    PyTypeObject *type = Py_TYPE(self);
    type->tp_free(self);
    Py_DECREF(type);
}

static PyMethodDef profile_methods[] = {
    {"timestamp", (PyCFunction)(void (*)(void))profile_timestamp,
     METH_VARARGS | METH_KEYWORDS,
     "timestamp(name='<block>'): a context manager recording its block "
     "as one profiled call named '.name'."},
    {NULL},
};

static PyType_Slot profile_slots[] = {
    {Py_tp_call, profile_call},
    {Py_tp_methods, profile_methods},
    {Py_tp_repr, profile_repr},
    {Py_tp_dealloc, profile_dealloc},
    {Py_tp_doc, "profile(func): record each call of func in the mprof "
                "profile (memory and time at entry and at return)."},
    {0, NULL},
};

static PyType_Spec profile_spec = {
    .name = "pyprof._pyprof.MprofProfile",
    .basicsize = sizeof(PyObject),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = profile_slots,
};

PyObject *
pyprof_mprof_profile_start(pyprof_rss_sampler_t *sampler)
{
    if (profile_type == NULL) {
        profile_type = (PyTypeObject *)PyType_FromSpec(&profile_spec);
        if (profile_type == NULL) {
            return NULL;
        }
    }
    if (timestamp_type == NULL) {
        timestamp_type = (PyTypeObject *)PyType_FromSpec(&timestamp_spec);
        if (timestamp_type == NULL) {
            return NULL;
        }
    }
    PyObject *profile = PyObject_New(PyObject, profile_type);
    if (profile == NULL) {
        return NULL;
    }
    recording.sampler = sampler;
    recording.depth = 0;
    return profile;
}

void
pyprof_mprof_profile_stop(void)
{
    pyprof_call_watch_remove(&func_hooks);  /* the due exits first */
    recording.sampler = NULL;
    for (int i = 0; i < NAME_CACHE_SIZE; i++) {
        Py_CLEAR(recording.names[i].func);
        recording.names[i].name = NULL;
    }
}
