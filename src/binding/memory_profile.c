/* memory_profile.c - pyprof.memory_profile: the per-line memory profiler
 * as a decorator in code, as `from memory_profiler import profile` is.
 *
 * @pyprof.memory_profile (or @pyprof.memory_profile(precision=3,
 * stream=f)) profiles each call of the function line by line and prints
 * memory_profiler's table, with the allocation columns, when the call
 * returns.  Under `pyprof memory` (an engine already recording) the
 * function is simply selected and reported at the end with the others.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdlib.h>

#include "../engine/alloc_hook.h"
#include "../engine/compat.h"
#include "../lines/lines_engine.h"
#include "../memory/line_memory.h"
#include "../report/memory_report.h"
#include "memory_binding.h"
#include "memory_wrapper.h"

/* A call that started its own profile, reported when it returns. */
typedef struct {
    pyprof_lines_t *lines;
    pyprof_line_memory_t *memory;
    void *inner;            /* token of the line_memory hooks */
} own_session_t;

/* Per-decoration settings (stream, precision) are kept as attributes of
 * the decorated function (_pyprof_stream, _pyprof_precision): the
 * wrapper's hooks receive only the function. */

static void
print_report(PyObject *func, const pyprof_memprof_t *profile)
{
    PyObject *stream = PyObject_GetAttrString(func, "_pyprof_stream");
    long precision = 1;
    PyObject *p = PyObject_GetAttrString(func, "_pyprof_precision");
    if (p != NULL && PyLong_Check(p)) {
        precision = PyLong_AsLong(p);
    }
    Py_XDECREF(p);
    PyErr_Clear();
    if (stream == NULL || stream == Py_None) {
        Py_XDECREF(stream);
        stream = Py_XNewRef(PySys_GetObject("stdout"));
    }
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    pyprof_memory_report_text(&sink, profile, 0,
                              precision < 0 || precision > 9 ? 1
                                                             : (int)precision,
                              pyprof_lines_source_text, NULL);
    size_t len;
    char *text = pyprof_sink_take(&sink, &len);
    if (text != NULL && stream != NULL && stream != Py_None) {
        PyObject *done = PyObject_CallMethod(stream, "write", "s#", text,
                                             (Py_ssize_t)len);
        Py_XDECREF(done);
    }
    PyErr_Clear();
    free(text);
    Py_XDECREF(stream);
}

static void *
own_enter(PyObject *func)
{
    const pyprof_call_hooks_t *hooks = pyprof_line_memory_call_hooks();
    if (pyprof_lines_current() != NULL) {
        /* Someone records already (pyprof memory, an outer call). */
        pyprof_lines_add(pyprof_lines_current(), func);
        PyErr_Clear();
        return hooks->enter(func);
    }
    own_session_t *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return NULL;
    }
    s->lines = pyprof_lines_new(0);
    if (s->lines == NULL) {
        goto error;
    }
    s->memory = pyprof_line_memory_new(s->lines);
    if (s->memory == NULL || pyprof_lines_add(s->lines, func) < 0 ||
        pyprof_line_memory_start(s->memory) < 0) {
        goto error;
    }
    if (pyprof_lines_enable(s->lines) < 0) {
        goto error;
    }
    s->inner = hooks->enter(func);
    /* Tag the token so exit knows this call owns the session. */
    return (void *)((uintptr_t)s | 1);
error:
    /* The call runs unprofiled rather than fail the program. */
    PyErr_Clear();
    if (s->memory != NULL) {
        pyprof_line_memory_free(s->memory);
    }
    if (s->lines != NULL) {
        pyprof_lines_free(s->lines);
    }
    free(s);
    return NULL;
}

static void
own_exit(PyObject *func, void *token)
{
    const pyprof_call_hooks_t *hooks = pyprof_line_memory_call_hooks();
    if (((uintptr_t)token & 1) == 0) {
        hooks->exit(func, token);
        return;
    }
    own_session_t *s = (own_session_t *)((uintptr_t)token & ~(uintptr_t)1);
    pyprof_lines_disable(s->lines);
    hooks->exit(func, s->inner);
    pyprof_memprof_t *profile = pyprof_line_memory_export(s->memory);
    pyprof_line_memory_stop(s->memory);
    if (profile != NULL) {
        print_report(func, profile);
        pyprof_memprof_free(profile);
    }
    PyErr_Clear();
    pyprof_line_memory_free(s->memory);
    pyprof_lines_free(s->lines);
    free(s);
}

static const pyprof_call_hooks_t own_hooks = {own_enter, own_exit};

static PyObject *
decorate(PyObject *func, PyObject *stream, PyObject *precision)
{
    if (!PyFunction_Check(func)) {
        PyErr_Format(PyExc_TypeError, "memory_profile() decorates a "
                     "Python function, not %.100s", Py_TYPE(func)->tp_name);
        return NULL;
    }
    if (PyObject_SetAttrString(func, "_pyprof_stream", stream) < 0 ||
        PyObject_SetAttrString(func, "_pyprof_precision", precision) < 0) {
        return NULL;
    }
    return pyprof_call_wrapper_new(func, &own_hooks);
}

/* memory_profile(func=None, *, stream=None, precision=1). */
static PyObject *
memory_profile(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"func", "stream", "precision", NULL};
    PyObject *func = Py_None, *stream = Py_None, *precision = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O$OO:memory_profile",
                                     keywords, &func, &stream, &precision)) {
        return NULL;
    }
    PyObject *prec = precision != NULL ? Py_NewRef(precision)
                                       : PyLong_FromLong(1);
    if (prec == NULL) {
        return NULL;
    }
    PyObject *result;
    if (func != Py_None) {
        result = decorate(func, stream, prec);
    }
    else {
        /* @memory_profile(precision=3): return a decorator,
         * functools.partial(memory_profile, stream=..., precision=...). */
        PyObject *functools = PyImport_ImportModule("functools");
        PyObject *partial = functools != NULL
                                ? PyObject_GetAttrString(functools, "partial")
                                : NULL;
        PyObject *self_func = PyObject_GetAttrString(module,
                                                     "memory_profile");
        PyObject *pargs = self_func != NULL ? PyTuple_Pack(1, self_func)
                                            : NULL;
        PyObject *kw = Py_BuildValue("{sOsO}", "stream", stream,
                                     "precision", prec);
        result = partial != NULL && pargs != NULL && kw != NULL
                     ? PyObject_Call(partial, pargs, kw) : NULL;
        Py_XDECREF(functools);
        Py_XDECREF(partial);
        Py_XDECREF(self_func);
        Py_XDECREF(pargs);
        Py_XDECREF(kw);
    }
    Py_DECREF(prec);
    return result;
}

/* The report of `profile` as text: a new str, or NULL with an exception
 * set. */
static PyObject *
report_text(const pyprof_memprof_t *profile, int precision)
{
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    pyprof_memory_report_text(&sink, profile, 0, precision,
                              pyprof_lines_source_text, NULL);
    size_t len;
    char *text = pyprof_sink_take(&sink, &len);
    if (text == NULL) {
        return PyErr_NoMemory();
    }
    PyObject *str = PyUnicode_DecodeUTF8(text, (Py_ssize_t)len, "replace");
    free(text);
    return str;
}

/* Select each of `funcs` in `lines`.  Returns 0, or -1 with an exception
 * set (one of them holds no Python code). */
static int
select_all(pyprof_lines_t *lines, PyObject *funcs)
{
    PyObject *seq = PySequence_Fast(funcs, "_mprun: funcs is a sequence");
    if (seq == NULL) {
        return -1;
    }
    int rc = 0;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq) && rc == 0;
         i++) {
        PyObject *func = PySequence_Fast_GET_ITEM(seq, i);  /* borrowed */
        rc = pyprof_lines_add(lines, func);
        if (rc == 0) {
            PyErr_Format(PyExc_TypeError, "could not extract a code object "
                         "for the object %R", func);
            rc = -1;
        }
        rc = rc < 0 ? -1 : 0;
    }
    Py_DECREF(seq);
    return rc;
}

/* _mprun(funcs, run, precision=1) -> (report, exception or None).
 *
 * %mprun's engine: call run() with the functions in `funcs` profiled line
 * by line for memory (the engine of `pyprof memory`), and return
 * memory_profiler's table as text.  What run() raises is returned, not
 * raised, so that the caller can show what was profiled first. */
static PyObject *
mprun(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"funcs", "run", "precision", NULL};
    PyObject *funcs, *run;
    int precision = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|i:_mprun", keywords,
                                     &funcs, &run, &precision)) {
        return NULL;
    }
    if (pyprof_lines_current() != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "a line or memory profiler is "
                        "recording already");
        return NULL;
    }
    PyObject *result = NULL, *raised = NULL, *text = NULL;
    pyprof_memprof_t *profile = NULL;
    int started = 0;
    pyprof_lines_t *lines = pyprof_lines_new(0);
    pyprof_line_memory_t *memory =
        lines != NULL ? pyprof_line_memory_new(lines) : NULL;
    if (memory == NULL || select_all(lines, funcs) < 0 ||
        pyprof_line_memory_start(memory) < 0) {
        goto error;
    }
    started = 1;
    /* Only run() is the program's: what enabling and disabling the
     * engine allocates is not charged to its lines. */
    pyprof_alloc_suspend();
    int enabled = pyprof_lines_enable(lines);
    pyprof_alloc_resume();
    if (enabled < 0) {
        goto error;
    }
    PyObject *value = PyObject_CallNoArgs(run);
    pyprof_alloc_suspend();
    pyprof_lines_disable(lines);
    pyprof_alloc_resume();
    if (value == NULL) {
        raised = pyprof_error_take();
    }
    Py_XDECREF(value);
    profile = pyprof_line_memory_export(memory);
    if (profile == NULL) {
        goto error;
    }
    text = report_text(profile, precision < 0 || precision > 9 ? 1
                                                                : precision);
    if (text != NULL) {
        result = PyTuple_Pack(2, text, raised != NULL ? raised : Py_None);
    }
error:
    if (started) {
        pyprof_line_memory_stop(memory);
    }
    pyprof_memprof_free(profile);
    if (memory != NULL) {
        pyprof_line_memory_free(memory);
    }
    if (lines != NULL) {
        pyprof_lines_free(lines);
    }
    Py_XDECREF(text);
    Py_XDECREF(raised);
    return result;
}

static PyMethodDef profile_methods[] = {
    {"_mprun", (PyCFunction)(void (*)(void))mprun,
     METH_VARARGS | METH_KEYWORDS,
     "_mprun(funcs, run, precision=1) -> (report, exception or None)\n"
     "\n"
     "%mprun's engine: run() with funcs profiled line by line for memory;\n"
     "memory_profiler's table as text, and what run() raised."},
    {"memory_profile", (PyCFunction)(void (*)(void))memory_profile,
     METH_VARARGS | METH_KEYWORDS,
     "memory_profile(func=None, *, stream=None, precision=1)\n"
     "\n"
     "Decorator: profile each call of func's memory line by line and\n"
     "print memory_profiler's table (plus bytes allocated and alive per\n"
     "line) when it returns, as memory_profiler.profile does."},
    {NULL, NULL, 0, NULL},
};

int
pyprof_memory_profile_add_functions(PyObject *module)
{
    return PyModule_AddFunctions(module, profile_methods);
}
