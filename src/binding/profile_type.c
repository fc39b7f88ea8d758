/* profile_type.c - pyprof.Profile: cProfile.Profile's API over our engine.
 *
 * Profile(timer=None, timeunit=0.0, subcalls=True, builtins=True),
 * enable()/disable(), the context manager, runcall(), run(), runctx(),
 * create_stats() (so pstats.Stats(profile) works), getstats() (cProfile's
 * profiler_entry list), print_stats() and dump_stats().  Several may
 * record at once (nested, one per thread, a program's own under
 * `pyprof run`); each sees every thread.  The
 * numbers come from the engine (engine/profiler.c) as a plain-C model; the
 * rendering and file writing are the plain-C ones the CLI uses too.
 */
#include <Python.h>
#include <structmember.h>

#include "../core/pstats_file.h"
#include "../core/report.h"
#include "../core/sink.h"
#include "../engine/export_tree.h"
#include "../engine/profiler.h"
#include "profile_type.h"

typedef struct {
    PyObject_HEAD
    pyprof_profiler_t *profiler;    /* owned; NULL only if init failed */
    PyObject *stats;                /* pstats dict from create_stats() */
} ProfileObject;

/* pstats' legacy integer sort codes. */
static const char *
legacy_sort_key(long code)
{
    switch (code) {
    case -1: return "stdname";
    case 0: return "calls";
    case 1: return "time";
    case 2: return "cumulative";
    default: return NULL;
    }
}

static int
profile_init(ProfileObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"timer", "timeunit", "subcalls", "builtins",
                             "clock", NULL};
    PyObject *timer = Py_None;
    double timeunit = 0.0;
    int subcalls = 1, builtins = 1;
    const char *clock = "wall";
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|Odpps:Profile", kwlist,
                                     &timer, &timeunit, &subcalls, &builtins,
                                     &clock)) {
        return -1;
    }
    pyprof_clock_kind_t kind;
    if (strcmp(clock, "wall") == 0) {
        kind = PYPROF_CLOCK_WALL;
    }
    else if (strcmp(clock, "cpu") == 0) {
        kind = PYPROF_CLOCK_CPU;
    }
    else {
        PyErr_Format(PyExc_ValueError,
                     "clock must be 'wall' or 'cpu', not '%s'", clock);
        return -1;
    }
    if (timer != Py_None && !PyCallable_Check(timer)) {
        PyErr_SetString(PyExc_TypeError, "timer must be callable");
        return -1;
    }
    pyprof_profiler_t *profiler =
        timer != Py_None
            ? pyprof_profiler_new_timer(timer, timeunit, builtins)
            : pyprof_profiler_new(kind, builtins);
    if (profiler == NULL) {
        return -1;
    }
    if (self->profiler != NULL) {
        pyprof_profiler_free(self->profiler);
    }
    self->profiler = profiler;
    return 0;
}

static int
profile_traverse(ProfileObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->stats);
    if (self->profiler != NULL) {
        return pyprof_profiler_traverse(self->profiler, visit, arg);
    }
    return 0;
}

static int
profile_clear_refs(ProfileObject *self)
{
    Py_CLEAR(self->stats);
    return 0;
}

static void
profile_dealloc(ProfileObject *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (self->profiler != NULL) {
        pyprof_profiler_free(self->profiler);
        self->profiler = NULL;
    }
    profile_clear_refs(self);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

static int
check_ready(ProfileObject *self)
{
    if (self->profiler == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Profile.__init__ was not called");
        return -1;
    }
    return 0;
}

static PyObject *
profile_enable(ProfileObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"subcalls", "builtins", NULL};
    int subcalls = 1, builtins = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|pp:enable", kwlist,
                                     &subcalls, &builtins)) {
        return NULL;
    }
    if (check_ready(self) < 0 || pyprof_profiler_enable(self->profiler) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
profile_disable(ProfileObject *self, PyObject *unused)
{
    if (check_ready(self) < 0) {
        return NULL;
    }
    pyprof_profiler_disable(self->profiler);
    Py_RETURN_NONE;
}

static PyObject *
profile_clear(ProfileObject *self, PyObject *unused)
{
    if (check_ready(self) < 0) {
        return NULL;
    }
    pyprof_profiler_clear(self->profiler);
    Py_CLEAR(self->stats);
    Py_RETURN_NONE;
}

static PyObject *
profile_enter(ProfileObject *self, PyObject *unused)
{
    if (check_ready(self) < 0 || pyprof_profiler_enable(self->profiler) < 0) {
        return NULL;
    }
    return Py_NewRef(self);
}

static PyObject *
profile_exit(ProfileObject *self, PyObject *args)
{
    if (check_ready(self) < 0) {
        return NULL;
    }
    pyprof_profiler_disable(self->profiler);
    Py_RETURN_FALSE;
}

/* create_stats(): disable and fill self.stats, as cProfile does. */
static PyObject *
profile_create_stats(ProfileObject *self, PyObject *unused)
{
    if (check_ready(self) < 0) {
        return NULL;
    }
    pyprof_profiler_disable(self->profiler);
    pyprof_stats_t *stats = pyprof_profiler_export(self->profiler);
    if (stats == NULL) {
        return NULL;
    }
    PyObject *dict = pyprof_stats_to_dict(stats);
    pyprof_stats_free(stats);
    if (dict == NULL) {
        return NULL;
    }
    Py_XSETREF(self->stats, dict);
    Py_RETURN_NONE;
}

/* Write `text` to sys.stdout (so capture and notebooks see it). */
static int
write_stdout(const char *text, size_t len)
{
    PyObject *out = PySys_GetObject("stdout"); /* borrowed */
    if (out == NULL || out == Py_None) {
        return 0;
    }
    PyObject *str = PyUnicode_DecodeUTF8(text, (Py_ssize_t)len, "replace");
    if (str == NULL) {
        return -1;
    }
    PyObject *res = PyObject_CallMethod(out, "write", "O", str);
    Py_DECREF(str);
    if (res == NULL) {
        return -1;
    }
    Py_DECREF(res);
    return 0;
}

/* print_stats(sort=-1): pstats.Stats(self).strip_dirs().sort_stats(sort)
 * .print_stats(), rendered in C. */
static PyObject *
profile_print_stats(ProfileObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"sort", NULL};
    PyObject *sort = NULL;
    pyprof_stats_t *stats = NULL, *stripped = NULL;
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    PyObject *result = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:print_stats", kwlist,
                                     &sort)) {
        return NULL;
    }
    pyprof_report_options_t opts;
    pyprof_report_options_init(&opts);
    opts.print_header = 0;
    if (sort == NULL || PyLong_Check(sort)) {
        long code = sort == NULL ? -1 : PyLong_AsLong(sort);
        opts.sort[0] = legacy_sort_key(code);
        if (opts.sort[0] == NULL) {
            PyErr_Format(PyExc_ValueError, "unknown sort code %ld", code);
            return NULL;
        }
        opts.nsort = 1;
    }
    else if (PyUnicode_Check(sort)) {
        opts.sort[0] = PyUnicode_AsUTF8(sort);  /* borrowed from sort */
        if (opts.sort[0] == NULL) {
            return NULL;
        }
        opts.nsort = 1;
    }
    else {
        PyErr_SetString(PyExc_TypeError, "sort must be an int or a str");
        return NULL;
    }
    if (check_ready(self) < 0) {
        return NULL;
    }
    pyprof_profiler_disable(self->profiler);
    stats = pyprof_profiler_export(self->profiler);
    if (stats == NULL) {
        goto error;
    }
    stripped = pyprof_stats_strip_dirs(stats);
    if (stripped == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    char errbuf[256];
    if (pyprof_report_print_stats(&sink, stripped, &opts, errbuf,
                                  sizeof(errbuf)) < 0) {
        PyErr_SetString(PyExc_ValueError, errbuf);
        goto error;
    }
    size_t len;
    char *text = pyprof_sink_take(&sink, &len);
    if (text == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    int rc = write_stdout(text, len);
    free(text);
    if (rc < 0) {
        goto error;
    }
    result = Py_NewRef(Py_None);
error:
    pyprof_sink_free_buffer(&sink);
    pyprof_stats_free(stripped);
    pyprof_stats_free(stats);
    return result;
}

static PyObject *
profile_dump_stats(ProfileObject *self, PyObject *path_arg)
{
    PyObject *path = NULL;
    if (!PyUnicode_FSConverter(path_arg, &path)) {
        return NULL;
    }
    if (check_ready(self) < 0) {
        Py_DECREF(path);
        return NULL;
    }
    pyprof_profiler_disable(self->profiler);
    pyprof_stats_t *stats = pyprof_profiler_export(self->profiler);
    if (stats == NULL) {
        Py_DECREF(path);
        return NULL;
    }
    char errbuf[512];
    int paths_saved;
    int rc = pyprof_profiler_write_pstats(self->profiler, stats,
                                          PyBytes_AS_STRING(path),
                                          &paths_saved, errbuf,
                                          sizeof(errbuf));
    pyprof_stats_free(stats);
    Py_DECREF(path);
    if (rc < 0) {
        PyErr_SetString(PyExc_OSError, errbuf);
        return NULL;
    }
    Py_RETURN_NONE;
}

/* runcall(func, /, *args, **kwargs): call func with profiling enabled. */
static PyObject *
profile_runcall(ProfileObject *self, PyObject *args, PyObject *kwargs)
{
    if (PyTuple_GET_SIZE(args) < 1) {
        PyErr_SetString(PyExc_TypeError, "runcall() needs a callable");
        return NULL;
    }
    PyObject *func = PyTuple_GET_ITEM(args, 0); /* borrowed */
    PyObject *rest = PyTuple_GetSlice(args, 1, PyTuple_GET_SIZE(args));
    if (rest == NULL) {
        return NULL;
    }
    if (check_ready(self) < 0 || pyprof_profiler_enable(self->profiler) < 0) {
        Py_DECREF(rest);
        return NULL;
    }
    PyObject *result = PyObject_Call(func, rest, kwargs);
    pyprof_profiler_disable(self->profiler);
    Py_DECREF(rest);
    return result;
}

/* runctx(cmd, globals, locals): exec(cmd) under the profiler, returning
 * self, as cProfile's does; the profiler is disabled however cmd ends. */
static PyObject *
profile_runctx(ProfileObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"cmd", "globals", "locals", NULL};
    PyObject *cmd, *globals, *locals;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO:runctx", kwlist,
                                     &cmd, &globals, &locals)) {
        return NULL;
    }
    PyObject *exec = PyDict_GetItemString(PyEval_GetBuiltins(), "exec");
    if (exec == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "no builtin exec");
        return NULL;
    }
    Py_INCREF(exec);
    if (check_ready(self) < 0 || pyprof_profiler_enable(self->profiler) < 0) {
        Py_DECREF(exec);
        return NULL;
    }
    PyObject *res = PyObject_CallFunctionObjArgs(exec, cmd, globals, locals,
                                                 NULL);
    pyprof_profiler_disable(self->profiler);
    Py_DECREF(exec);
    if (res == NULL) {
        return NULL;
    }
    Py_DECREF(res);
    return Py_NewRef(self);
}

/* run(cmd): runctx(cmd, __main__.__dict__, __main__.__dict__). */
static PyObject *
profile_run(ProfileObject *self, PyObject *cmd)
{
    PyObject *main = PyImport_AddModule("__main__"); /* borrowed */
    if (main == NULL) {
        return NULL;
    }
    PyObject *dict = PyModule_GetDict(main); /* borrowed */
    PyObject *args = PyTuple_Pack(3, cmd, dict, dict);
    if (args == NULL) {
        return NULL;
    }
    PyObject *res = profile_runctx(self, args, NULL);
    Py_DECREF(args);
    return res;
}

/* cProfile's getstats() entry for `func`: a new reference, or NULL. */
static PyObject *
stats_entry(PyObject *entry_type, PyObject *code, const pyprof_func_t *func,
            PyObject *calls)
{
    return PyObject_CallFunction(
        entry_type, "((OLLddO))", code, (long long)func->nc,
        (long long)(func->nc - func->cc), func->ct, func->tt, calls);
}

/* The object cProfile puts in an entry for model function `i`: the code
 * object, or the C function's label (borrowed from `objects`, or a new
 * str kept in it). */
static PyObject *
entry_code(PyObject *objects, const pyprof_func_t *func)
{
    PyObject *key = Py_BuildValue("(sls)", func->filename, func->lineno,
                                  func->funcname);
    if (key == NULL) {
        return NULL;
    }
    PyObject *code = PyDict_GetItemWithError(objects, key); /* borrowed */
    if (code == NULL && !PyErr_Occurred()) {
        PyObject *name = PyUnicode_FromString(func->funcname);
        if (name != NULL && PyDict_SetItem(objects, key, name) == 0) {
            code = name;
        }
        Py_XDECREF(name);
    }
    Py_DECREF(key);
    return code;
}

/* getstats(): cProfile's list of _lsprof.profiler_entry (code,
 * callcount, reccallcount, totaltime, inlinetime, calls), calls being
 * profiler_subentry per callee or None. */
static PyObject *
profile_getstats(ProfileObject *self, PyObject *unused)
{
    if (check_ready(self) < 0) {
        return NULL;
    }
    PyObject *lsprof = NULL, *entry_type = NULL, *sub_type = NULL;
    PyObject *objects = NULL, *codes = NULL, *calls = NULL, *result = NULL;
    pyprof_stats_t *stats = pyprof_profiler_export(self->profiler);
    if (stats == NULL) {
        return NULL;
    }
    size_t n = pyprof_stats_count(stats);
    lsprof = PyImport_ImportModule("_lsprof");
    entry_type = lsprof ? PyObject_GetAttrString(lsprof, "profiler_entry")
                        : NULL;
    sub_type = lsprof ? PyObject_GetAttrString(lsprof, "profiler_subentry")
                      : NULL;
    objects = pyprof_profiler_objects(self->profiler);
    codes = PyList_New((Py_ssize_t)n);
    calls = PyList_New((Py_ssize_t)n);
    if (entry_type == NULL || sub_type == NULL || objects == NULL
        || codes == NULL || calls == NULL) {
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        PyObject *code = entry_code(objects, pyprof_stats_func(stats, i));
        if (code == NULL) {
            goto done;
        }
        PyList_SET_ITEM(codes, i, Py_NewRef(code));
        PyList_SET_ITEM(calls, i, Py_NewRef(Py_None));
    }
    /* The model keeps callers per callee; cProfile lists callees. */
    for (size_t i = 0; i < n; i++) {
        const pyprof_func_t *func = pyprof_stats_func(stats, i);
        for (size_t j = 0; j < func->ncallers; j++) {
            const pyprof_caller_t *c = &func->callers[j];
            PyObject *list = PyList_GET_ITEM(calls, c->caller);
            if (list == Py_None) {
                list = PyList_New(0);
                if (list == NULL) {
                    goto done;
                }
                PyList_SetItem(calls, c->caller, list); /* steals */
            }
            PyObject *sub = PyObject_CallFunction(
                sub_type, "((OLLdd))", PyList_GET_ITEM(codes, i),
                (long long)c->nc, (long long)(c->nc - c->cc), c->ct, c->tt);
            if (sub == NULL || PyList_Append(list, sub) < 0) {
                Py_XDECREF(sub);
                goto done;
            }
            Py_DECREF(sub);
        }
    }
    result = PyList_New((Py_ssize_t)n);
    for (size_t i = 0; result != NULL && i < n; i++) {
        PyObject *entry = stats_entry(entry_type, PyList_GET_ITEM(codes, i),
                                      pyprof_stats_func(stats, i),
                                      PyList_GET_ITEM(calls, i));
        if (entry == NULL) {
            Py_CLEAR(result);
            break;
        }
        PyList_SET_ITEM(result, i, entry);
    }
done:
    Py_XDECREF(lsprof);
    Py_XDECREF(entry_type);
    Py_XDECREF(sub_type);
    Py_XDECREF(objects);
    Py_XDECREF(codes);
    Py_XDECREF(calls);
    pyprof_stats_free(stats);
    return result;
}

static PyMethodDef profile_methods[] = {
    {"enable", (PyCFunction)(void (*)(void))profile_enable,
     METH_VARARGS | METH_KEYWORDS,
     "enable(subcalls=True, builtins=True)\n\nStart collecting profiling "
     "data, in every thread."},
    {"disable", (PyCFunction)profile_disable, METH_NOARGS,
     "disable()\n\nStop collecting profiling data."},
    {"clear", (PyCFunction)profile_clear, METH_NOARGS,
     "clear()\n\nDrop all profiling data collected so far."},
    {"create_stats", (PyCFunction)profile_create_stats, METH_NOARGS,
     "create_stats()\n\nDisable and store the pstats dict in .stats."},
    {"print_stats", (PyCFunction)(void (*)(void))profile_print_stats,
     METH_VARARGS | METH_KEYWORDS,
     "print_stats(sort=-1)\n\nPrint the cProfile table to sys.stdout."},
    {"dump_stats", (PyCFunction)profile_dump_stats, METH_O,
     "dump_stats(path)\n\nWrite a pstats file that pstats.Stats reads."},
    {"runcall", (PyCFunction)(void (*)(void))profile_runcall,
     METH_VARARGS | METH_KEYWORDS,
     "runcall(func, /, *args, **kwargs)\n\nCall func under the profiler."},
    {"run", (PyCFunction)profile_run, METH_O,
     "run(cmd)\n\nexec(cmd) in __main__ under the profiler; returns self."},
    {"runctx", (PyCFunction)(void (*)(void))profile_runctx,
     METH_VARARGS | METH_KEYWORDS,
     "runctx(cmd, globals, locals)\n\nexec(cmd, globals, locals) under "
     "the profiler; returns self."},
    {"getstats", (PyCFunction)profile_getstats, METH_NOARGS,
     "getstats()\n\ncProfile's list of _lsprof.profiler_entry."},
    {"__enter__", (PyCFunction)profile_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)profile_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef profile_members[] = {
    {"stats", T_OBJECT, offsetof(ProfileObject, stats), 0,
     "The pstats dict filled by create_stats(), or None."},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot profile_slots[] = {
    {Py_tp_doc,
     "Profile(timer=None, timeunit=0.0, subcalls=True, builtins=True, "
     "clock='wall')\n\n"
     "A deterministic function profiler with cProfile.Profile's API: every "
     "call of Python and C functions in every thread is counted and timed."},
    {Py_tp_init, profile_init},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, profile_dealloc},
    {Py_tp_traverse, profile_traverse},
    {Py_tp_clear, profile_clear_refs},
    {Py_tp_methods, profile_methods},
    {Py_tp_members, profile_members},
    {0, NULL},
};

static PyType_Spec profile_spec = {
    .name = "pyprof.Profile",
    .basicsize = sizeof(ProfileObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = profile_slots,
};

PyTypeObject *
pyprof_profile_type_create(PyObject *module)
{
    return (PyTypeObject *)PyType_FromModuleAndSpec(module, &profile_spec,
                                                    NULL);
}

/* (filename, lineno, funcname) as a new tuple, or NULL. */
static PyObject *
key_tuple(const pyprof_func_t *func)
{
    return Py_BuildValue("(sls)", func->filename, func->lineno,
                         func->funcname);
}

PyObject *
pyprof_stats_to_dict(pyprof_stats_t *stats)
{
    size_t n = pyprof_stats_count(stats);
    PyObject *dict = PyDict_New();
    PyObject **keys = PyMem_Calloc(n ? n : 1, sizeof(PyObject *));
    if (dict == NULL || keys == NULL) {
        goto error;
    }
    for (size_t i = 0; i < n; i++) {
        keys[i] = key_tuple(pyprof_stats_func(stats, i));
        if (keys[i] == NULL) {
            goto error;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const pyprof_func_t *func = pyprof_stats_func(stats, i);
        PyObject *callers = PyDict_New();
        if (callers == NULL) {
            goto error;
        }
        for (size_t j = 0; j < func->ncallers; j++) {
            const pyprof_caller_t *c = &func->callers[j];
            PyObject *edge = Py_BuildValue("(LLdd)", (long long)c->nc,
                                           (long long)c->cc, c->tt, c->ct);
            if (edge == NULL
                || PyDict_SetItem(callers, keys[c->caller], edge) < 0) {
                Py_XDECREF(edge);
                Py_DECREF(callers);
                goto error;
            }
            Py_DECREF(edge);
        }
        PyObject *value = Py_BuildValue("(LLddN)", (long long)func->cc,
                                        (long long)func->nc, func->tt,
                                        func->ct, callers);
        if (value == NULL || PyDict_SetItem(dict, keys[i], value) < 0) {
            Py_XDECREF(value);
            goto error;
        }
        Py_DECREF(value);
    }
    for (size_t i = 0; i < n; i++) {
        Py_DECREF(keys[i]);
    }
    PyMem_Free(keys);
    return dict;
error:
    if (keys != NULL) {
        for (size_t i = 0; i < n; i++) {
            Py_XDECREF(keys[i]);
        }
    }
    PyMem_Free(keys);
    Py_XDECREF(dict);
    if (!PyErr_Occurred()) {
        PyErr_NoMemory();
    }
    return NULL;
}
