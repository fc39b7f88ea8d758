/* lines_type.c - pyprof.LineProfiler: line_profiler.LineProfiler's API
 * over the line engine, and the `profile` decorator.
 *
 * LineProfiler(*funcs, wall_await=False): add_function(), use as a
 * decorator (registers the function, returns it unwrapped, and starts
 * recording -- line_profiler's decorator records whenever the function
 * runs), enable()/disable() (and the *_by_count spellings), the context
 * manager, runcall()/runctx()/run(), print_stats(), dump_stats() (a .lprof
 * that `python -m line_profiler` loads), get_stats().  Rendering and files
 * are the plain-C writers the CLI uses.
 */
#include <Python.h>

#include "../core/lprof_model.h"
#include "../core/lprof_pickle.h"
#include "../core/lprof_text.h"
#include "../core/sink.h"
#include "../lines/lines_engine.h"
#include "lines_type.h"

typedef struct {
    PyObject_HEAD
    pyprof_lines_t *lines;  /* owned; NULL only if init failed */
} LineProfilerObject;

static int
check_ready(LineProfilerObject *self)
{
    if (self->lines == NULL) {
        PyErr_SetString(PyExc_RuntimeError,
                        "LineProfiler.__init__ was not called");
        return -1;
    }
    return 0;
}

static int
add_or_raise(pyprof_lines_t *lines, PyObject *func)
{
    int rc = pyprof_lines_add(lines, func);
    if (rc == 0) {
        PyErr_Format(PyExc_TypeError,
                     "LineProfiler: %R has no Python code to profile", func);
        return -1;
    }
    return rc < 0 ? -1 : 0;
}

static int
lines_init(LineProfilerObject *self, PyObject *args, PyObject *kwargs)
{
    int wall_await = 0;
    if (kwargs != NULL) {
        PyObject *value = PyDict_GetItemString(kwargs, "wall_await");
        if (value != NULL) {
            wall_await = PyObject_IsTrue(value);
            if (wall_await < 0) {
                return -1;
            }
        }
        if (PyDict_GET_SIZE(kwargs) > (value != NULL)) {
            PyErr_SetString(PyExc_TypeError,
                            "LineProfiler() takes functions and "
                            "wall_await= only");
            return -1;
        }
    }
    pyprof_lines_t *lines = pyprof_lines_new(wall_await);
    if (lines == NULL) {
        return -1;
    }
    pyprof_lines_set_comprehension_lines(lines, 0);     /* line_profiler's */
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(args); i++) {
        if (add_or_raise(lines, PyTuple_GET_ITEM(args, i)) < 0) {
            pyprof_lines_free(lines);
            return -1;
        }
    }
    pyprof_lines_free(self->lines);
    self->lines = lines;
    return 0;
}

static int
lines_traverse(LineProfilerObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    if (self->lines != NULL) {
        return pyprof_lines_traverse(self->lines, visit, arg);
    }
    return 0;
}

static void
lines_dealloc(LineProfilerObject *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    pyprof_lines_free(self->lines);
    self->lines = NULL;
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

static PyObject *
lines_add_function(LineProfilerObject *self, PyObject *func)
{
    if (check_ready(self) < 0 || add_or_raise(self->lines, func) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ---- add_module / add_class ------------------------------------------ */

/* Which members a namespace's scan takes, as line_profiler's default
 * scoping policies ("siblings" for functions and classes, "exact" for
 * modules): in a class, what its own module defines; in a module "a.b",
 * what modules below package "a" define; in a top-level module "a", what
 * "a" and its submodules define.  Submodules are never descended into. */
typedef struct {
    PyObject *prefix;   /* new reference: module name, or "a." */
    int exact;          /* the member's module must equal prefix */
} scope_t;

/* 1 if `module_name` (a str or anything) is in scope, else 0. */
static int
in_scope(const scope_t *scope, PyObject *module_name)
{
    if (module_name == NULL || !PyUnicode_Check(module_name)) {
        return 0;
    }
    int equal = PyUnicode_Compare(module_name, scope->prefix) == 0;
    if (scope->exact || equal) {
        return equal;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(scope->prefix);
    if (PyUnicode_READ_CHAR(scope->prefix, n - 1) != '.') {
        PyObject *dotted = PyUnicode_FromFormat("%U.", scope->prefix);
        if (dotted == NULL) {
            PyErr_Clear();
            return 0;
        }
        int below = PyUnicode_Tailmatch(module_name, dotted, 0, n + 1, -1)
                    == 1;
        Py_DECREF(dotted);
        return below;
    }
    return PyUnicode_Tailmatch(module_name, scope->prefix, 0, n, -1) == 1;
}

/* The __module__ of a member, looking through staticmethod/classmethod
 * (__func__), property (fget) and partial (func): new reference or
 * NULL, no exception set. */
static PyObject *
member_module(PyObject *value)
{
    static const char *const inner[] = {"__func__", "fget", "func"};
    PyObject *module = NULL;
    Py_INCREF(value);
    for (int depth = 0; depth < 4 && module == NULL; depth++) {
        module = PyObject_GetAttrString(value, "__module__");
        if (module != NULL && module != Py_None) {
            break;
        }
        Py_CLEAR(module);
        PyErr_Clear();
        PyObject *next = NULL;
        for (size_t i = 0; i < 3 && next == NULL; i++) {
            next = PyObject_GetAttrString(value, inner[i]);
            if (next == NULL) {
                PyErr_Clear();
            }
        }
        Py_SETREF(value, next);
        if (value == NULL) {
            break;
        }
    }
    Py_XDECREF(value);
    return module;
}

static Py_ssize_t add_class_members(pyprof_lines_t *lines, PyObject *cls,
                                    PyObject *seen);

/* Select the members of `namespace` (a module or class) in `scope`; the
 * number of members added, a class counting once when it added any, as
 * line_profiler counts.  -1 with an exception set. */
static Py_ssize_t
add_members(pyprof_lines_t *lines, PyObject *namespace,
            const scope_t *scope, PyObject *seen)
{
    PyObject *dict = PyObject_GetAttrString(namespace, "__dict__");
    PyObject *items = dict != NULL ? PyMapping_Items(dict) : NULL;
    Py_XDECREF(dict);
    if (items == NULL) {
        return -1;
    }
    Py_ssize_t count = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *value = PyTuple_GET_ITEM(PyList_GET_ITEM(items, i), 1);
        PyObject *id = PyLong_FromVoidPtr(value);
        int known = id != NULL ? PySet_Contains(seen, id) : -1;
        if (known == 0) {
            known = PySet_Add(seen, id) < 0 ? -1 : 0;
        }
        Py_XDECREF(id);
        if (known < 0) {
            count = -1;
            break;
        }
        if (known || PyModule_Check(value)) {
            continue;
        }
        PyObject *module = member_module(value);
        int wanted = in_scope(scope, module);
        Py_XDECREF(module);
        if (!wanted) {
            continue;
        }
        Py_ssize_t added = PyType_Check(value)
                               ? add_class_members(lines, value, seen)
                               : pyprof_lines_add(lines, value);
        if (added < 0) {
            count = -1;
            break;
        }
        count += added > 0;
    }
    Py_DECREF(items);
    return count;
}

static Py_ssize_t
add_class_members(pyprof_lines_t *lines, PyObject *cls, PyObject *seen)
{
    scope_t scope = {member_module(cls), 1};
    if (scope.prefix == NULL) {
        return 0;
    }
    Py_ssize_t count = add_members(lines, cls, &scope, seen);
    Py_DECREF(scope.prefix);
    return count;
}

/* add_module(module) / add_class(cls): the number of members added. */
static PyObject *
add_namespace(LineProfilerObject *self, PyObject *namespace, int is_class)
{
    if (check_ready(self) < 0) {
        return NULL;
    }
    if (is_class ? !PyType_Check(namespace) : !PyModule_Check(namespace)) {
        return PyErr_Format(PyExc_TypeError, "%s() takes a %s, not %R",
                            is_class ? "add_class" : "add_module",
                            is_class ? "class" : "module", namespace);
    }
    PyObject *seen = PySet_New(NULL);
    if (seen == NULL) {
        return NULL;
    }
    Py_ssize_t count;
    if (is_class) {
        count = add_class_members(self->lines, namespace, seen);
    }
    else {
        PyObject *name = PyModule_GetNameObject(namespace);
        if (name == NULL) {
            Py_DECREF(seen);
            return NULL;
        }
        Py_ssize_t dot = PyUnicode_FindChar(name, '.', 0,
                                            PyUnicode_GET_LENGTH(name), -1);
        scope_t scope = {dot >= 0 ? PyUnicode_Substring(name, 0, dot + 1)
                                  : Py_NewRef(name), 0};
        Py_DECREF(name);
        count = scope.prefix != NULL
                    ? add_members(self->lines, namespace, &scope, seen) : -1;
        Py_XDECREF(scope.prefix);
    }
    Py_DECREF(seen);
    return count < 0 ? NULL : PyLong_FromSsize_t(count);
}

static PyObject *
lines_add_module(LineProfilerObject *self, PyObject *module)
{
    return add_namespace(self, module, 0);
}

static PyObject *
lines_add_class(LineProfilerObject *self, PyObject *cls)
{
    return add_namespace(self, cls, 1);
}

static PyObject *
lines_enable(LineProfilerObject *self, PyObject *unused)
{
    if (check_ready(self) < 0 || pyprof_lines_enable(self->lines) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
lines_disable(LineProfilerObject *self, PyObject *unused)
{
    if (check_ready(self) < 0) {
        return NULL;
    }
    pyprof_lines_disable(self->lines);
    Py_RETURN_NONE;
}

static PyObject *
lines_exit(LineProfilerObject *self, PyObject *args)
{
    return lines_disable(self, NULL);
}

static PyObject *
lines_enter(LineProfilerObject *self, PyObject *unused)
{
    if (lines_enable(self, NULL) == NULL) {
        return NULL;
    }
    Py_DECREF(Py_None);
    return Py_NewRef(self);
}

/* profiler(func): select func, start recording, return func itself. */
static PyObject *
lines_call(LineProfilerObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *func;
    if (check_ready(self) < 0
        || !PyArg_ParseTuple(args, "O:LineProfiler.__call__", &func)) {
        return NULL;
    }
    if (add_or_raise(self->lines, func) < 0) {
        return NULL;
    }
    /* recording alongside any other profiler recording, as line_profiler
     * lets each of its profilers count its own functions */
    if (!pyprof_lines_enabled(self->lines)
        && pyprof_lines_enable(self->lines) < 0) {
        return NULL;
    }
    return Py_NewRef(func);
}

static PyObject *
lines_runcall(LineProfilerObject *self, PyObject *const *args,
              Py_ssize_t nargs, PyObject *kwnames)
{
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "runcall() needs a function");
        return NULL;
    }
    if (lines_enable(self, NULL) == NULL) {
        return NULL;
    }
    Py_DECREF(Py_None);
    PyObject *result = PyObject_Vectorcall(args[0], args + 1, nargs - 1,
                                           kwnames);
    pyprof_lines_disable(self->lines);
    return result;
}

static PyObject *
lines_runctx(LineProfilerObject *self, PyObject *args)
{
    PyObject *cmd, *globals, *locals;
    if (!PyArg_ParseTuple(args, "OOO:runctx", &cmd, &globals, &locals)) {
        return NULL;
    }
    PyObject *builtins = PyEval_GetBuiltins(); /* borrowed */
    PyObject *exec = PyDict_GetItemString(builtins, "exec");
    if (exec == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "no builtin exec");
        return NULL;
    }
    if (lines_enable(self, NULL) == NULL) {
        return NULL;
    }
    Py_DECREF(Py_None);
    PyObject *res = PyObject_CallFunctionObjArgs(exec, cmd, globals, locals,
                                                 NULL);
    pyprof_lines_disable(self->lines);
    if (res == NULL) {
        return NULL;
    }
    Py_DECREF(res);
    return Py_NewRef(self);
}

static PyObject *
lines_run(LineProfilerObject *self, PyObject *cmd)
{
    PyObject *main = PyImport_AddModule("__main__"); /* borrowed */
    if (main == NULL) {
        return NULL;
    }
    PyObject *dict = PyModule_GetDict(main);
    PyObject *args = Py_BuildValue("(OOO)", cmd, dict, dict);
    if (args == NULL) {
        return NULL;
    }
    PyObject *res = lines_runctx(self, args);
    Py_DECREF(args);
    return res;
}

static pyprof_lprof_t *
export(LineProfilerObject *self)
{
    if (check_ready(self) < 0) {
        return NULL;
    }
    return pyprof_lines_export(self->lines);
}

static PyObject *
lines_print_stats(LineProfilerObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"stream", "output_unit", "stripzeros", NULL};
    PyObject *stream = Py_None, *unit = Py_None;
    int strip = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OOp:print_stats", kwlist,
                                     &stream, &unit, &strip)) {
        return NULL;
    }
    pyprof_lprof_text_options_t options;
    pyprof_lprof_text_options_init(&options);
    options.strip_zeros = strip;
    options.source = pyprof_lines_source_text;
    if (unit != Py_None) {
        options.unit = PyFloat_AsDouble(unit);
        if (options.unit == -1.0 && PyErr_Occurred()) {
            return NULL;
        }
        if (!(options.unit > 0)) {
            PyErr_SetString(PyExc_ValueError, "output_unit must be > 0");
            return NULL;
        }
    }
    pyprof_lprof_t *model = export(self);
    if (model == NULL) {
        return NULL;
    }
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    pyprof_lprof_write_text(&sink, model, &options);
    pyprof_lprof_free(model);
    size_t len;
    char *text = pyprof_sink_take(&sink, &len);
    if (text == NULL) {
        return PyErr_NoMemory();
    }
    PyObject *str = PyUnicode_DecodeUTF8(text, (Py_ssize_t)len, "replace");
    free(text);
    if (str == NULL) {
        return NULL;
    }
    PyObject *res;
    if (stream == Py_None) {
        stream = PySys_GetObject("stdout"); /* borrowed */
        if (stream == NULL || stream == Py_None) {
            Py_DECREF(str);
            Py_RETURN_NONE;
        }
    }
    res = PyObject_CallMethod(stream, "write", "O", str);
    Py_DECREF(str);
    if (res == NULL) {
        return NULL;
    }
    Py_DECREF(res);
    Py_RETURN_NONE;
}

static PyObject *
lines_dump_stats(LineProfilerObject *self, PyObject *arg)
{
    PyObject *path = NULL;
    if (!PyUnicode_FSConverter(arg, &path)) {
        return NULL;
    }
    pyprof_lprof_t *model = export(self);
    if (model == NULL) {
        Py_DECREF(path);
        return NULL;
    }
    char errbuf[256];
    int rc = pyprof_lprof_write_pickle_file(model, PyBytes_AS_STRING(path),
                                            errbuf, sizeof(errbuf));
    pyprof_lprof_free(model);
    if (rc < 0) {
        PyErr_Format(PyExc_OSError, "cannot write %s", errbuf);
        Py_DECREF(path);
        return NULL;
    }
    Py_DECREF(path);
    Py_RETURN_NONE;
}

/* line_profiler.LineStats' shape: .timings and .unit.  Created once, the
 * first time get_stats() runs; a global because a struct sequence type
 * has no module to live in.  Protected by the GIL. */
static PyTypeObject *line_stats_type = NULL;

static PyStructSequence_Field line_stats_fields[] = {
    {"timings", "{(filename, first line, name): [(lineno, hits, time)]}, "
                "hit lines only"},
    {"unit", "seconds per time unit of the timings"},
    {NULL, NULL},
};

static PyStructSequence_Desc line_stats_desc = {
    "pyprof.LineStats",
    "What line_profiler.LineProfiler.get_stats() returns: "
    "line_profiler.show_text(stats.timings, stats.unit) prints it.",
    line_stats_fields, 2,
};

/* A new LineStats(timings, unit), stealing `timings`; NULL with an
 * exception set (timings released). */
static PyObject *
new_line_stats(PyObject *timings, double unit)
{
    if (line_stats_type == NULL) {
        line_stats_type = PyStructSequence_NewType(&line_stats_desc);
        if (line_stats_type == NULL) {
            Py_DECREF(timings);
            return NULL;
        }
    }
    PyObject *stats = PyStructSequence_New(line_stats_type);
    PyObject *unit_obj = PyFloat_FromDouble(unit);
    if (stats == NULL || unit_obj == NULL) {
        Py_XDECREF(stats);
        Py_XDECREF(unit_obj);
        Py_DECREF(timings);
        return NULL;
    }
    PyStructSequence_SetItem(stats, 0, timings);    /* steals */
    PyStructSequence_SetItem(stats, 1, unit_obj);   /* steals */
    return stats;
}

/* Seconds per unit of get_stats()' times: ns, what line_profiler's
 * timer_unit is on Linux. */
#define TIMER_UNIT 1e-9

/* get_stats(): a LineStats with line_profiler's .timings {(file, line,
 * name): [(lineno, hits, time)]} (hit lines only) and .unit (1e-9). */
static PyObject *
lines_get_stats(LineProfilerObject *self, PyObject *unused)
{
    pyprof_lprof_t *model = export(self);
    if (model == NULL) {
        return NULL;
    }
    PyObject *timings = PyDict_New();
    PyObject *result = NULL;
    if (timings == NULL) {
        goto done;
    }
    for (size_t i = 0; i < model->nfuncs; i++) {
        const pyprof_lprof_func_t *func = &model->funcs[i];
        PyObject *list = PyList_New(0);
        PyObject *key = Py_BuildValue("(sis)", func->filename,
                                      func->first_line, func->name);
        if (list == NULL || key == NULL
            || PyDict_SetItem(timings, key, list) < 0) {
            Py_XDECREF(list);
            Py_XDECREF(key);
            goto done;
        }
        Py_DECREF(key);
        Py_DECREF(list);
        for (size_t j = 0; j < func->nlines; j++) {
            const pyprof_lprof_line_t *line = &func->lines[j];
            if (line->hits == 0) {
                continue;
            }
            PyObject *entry = Py_BuildValue("(iKL)", line->lineno,
                                            (unsigned long long)line->hits,
                                            (long long)line->time_ns);
            if (entry == NULL || PyList_Append(list, entry) < 0) {
                Py_XDECREF(entry);
                goto done;
            }
            Py_DECREF(entry);
        }
    }
    result = new_line_stats(timings, TIMER_UNIT);
    timings = NULL;
done:
    Py_XDECREF(timings);
    pyprof_lprof_free(model);
    return result;
}

static PyObject *
lines_to_json(LineProfilerObject *self, PyObject *unused)
{
    pyprof_lprof_t *model = export(self);
    if (model == NULL) {
        return NULL;
    }
    pyprof_sink_t sink;
    pyprof_sink_init_buffer(&sink);
    pyprof_lprof_write_json(&sink, model);
    pyprof_lprof_free(model);
    size_t len;
    char *text = pyprof_sink_take(&sink, &len);
    if (text == NULL) {
        return PyErr_NoMemory();
    }
    PyObject *str = PyUnicode_DecodeUTF8(text, (Py_ssize_t)len, "replace");
    free(text);
    return str;
}

static PyObject *
lines_functions(LineProfilerObject *self, void *closure)
{
    if (check_ready(self) < 0) {
        return NULL;
    }
    uint32_t n = pyprof_lines_function_count(self->lines);
    PyObject *list = PyList_New(n);
    if (list == NULL) {
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++) {
        PyCodeObject *code;
        int first, nlines;
        pyprof_lines_function_info(self->lines, i, &code, &first, &nlines);
        PyList_SET_ITEM(list, i, Py_NewRef((PyObject *)code));
    }
    return list;
}

static PyObject *
lines_enabled(LineProfilerObject *self, void *closure)
{
    return PyBool_FromLong(self->lines != NULL
                           && pyprof_lines_enabled(self->lines));
}

static PyObject *
lines_timer_unit(LineProfilerObject *self, void *closure)
{
    return PyFloat_FromDouble(TIMER_UNIT);
}

static PyGetSetDef lines_getset[] = {
    {"timer_unit", (getter)lines_timer_unit, NULL,
     "Seconds per unit of get_stats()' times (1e-9).", NULL},
    {"functions", (getter)lines_functions, NULL,
     "The code objects of the selected functions.", NULL},
    {"enabled", (getter)lines_enabled, NULL, "True while recording.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef lines_methods[] = {
    {"add_function", (PyCFunction)lines_add_function, METH_O,
     "add_function(func)\n\nProfile func (a function, method, "
     "staticmethod, classmethod, property or code object) line by line."},
    {"add_module", (PyCFunction)lines_add_module, METH_O,
     "add_module(module) -> int\n\nProfile the functions and classes the "
     "module (or its package) defines, as line_profiler's add_module."},
    {"add_class", (PyCFunction)lines_add_class, METH_O,
     "add_class(cls) -> int\n\nProfile the methods (and nested classes) "
     "the class defines, as line_profiler's add_class."},
    {"enable", (PyCFunction)lines_enable, METH_NOARGS, "Start recording."},
    {"disable", (PyCFunction)lines_disable, METH_NOARGS, "Stop recording."},
    {"enable_by_count", (PyCFunction)lines_enable, METH_NOARGS,
     "line_profiler's name for enable()."},
    {"disable_by_count", (PyCFunction)lines_disable, METH_NOARGS,
     "line_profiler's name for disable()."},
    {"__enter__", (PyCFunction)lines_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)lines_exit, METH_VARARGS, NULL},
    {"runcall", (PyCFunction)(void (*)(void))lines_runcall,
     METH_FASTCALL | METH_KEYWORDS,
     "runcall(func, *args, **kwargs)\n\nCall func while recording."},
    {"runctx", (PyCFunction)lines_runctx, METH_VARARGS,
     "runctx(cmd, globals, locals)\n\nexec(cmd) while recording; returns "
     "self."},
    {"run", (PyCFunction)lines_run, METH_O,
     "run(cmd)\n\nexec(cmd) in __main__ while recording; returns self."},
    {"print_stats", (PyCFunction)(void (*)(void))lines_print_stats,
     METH_VARARGS | METH_KEYWORDS,
     "print_stats(stream=None, output_unit=None, stripzeros=False)\n\n"
     "Print line_profiler's table for every selected function."},
    {"dump_stats", (PyCFunction)lines_dump_stats, METH_O,
     "dump_stats(path)\n\nWrite a .lprof file (python -m line_profiler "
     "reads it)."},
    {"get_stats", (PyCFunction)lines_get_stats, METH_NOARGS,
     "get_stats() -> LineStats(timings, unit), as line_profiler's: "
     "line_profiler.show_text(stats.timings, stats.unit) prints it."},
    {"to_json", (PyCFunction)lines_to_json, METH_NOARGS,
     "to_json() -> str: every line of every function, times in ns."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot lines_slots[] = {
    {Py_tp_doc,
     "LineProfiler(*functions, wall_await=False)\n\n"
     "Time and count every line of the selected functions, in every "
     "thread, with line_profiler.LineProfiler's API."},
    {Py_tp_init, lines_init},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, lines_dealloc},
    {Py_tp_traverse, lines_traverse},
    {Py_tp_call, lines_call},
    {Py_tp_methods, lines_methods},
    {Py_tp_getset, lines_getset},
    {0, NULL},
};

static PyType_Spec lines_spec = {
    .name = "pyprof.LineProfiler",
    .basicsize = sizeof(LineProfilerObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = lines_slots,
};

PyTypeObject *
pyprof_lines_type_create(PyObject *module)
{
    return (PyTypeObject *)PyType_FromModuleAndSpec(module, &lines_spec,
                                                    NULL);
}

PyObject *
pyprof_lines_profile_decorator(PyObject *module, PyObject *func)
{
    pyprof_lines_t *lines = pyprof_lines_current();
    if (lines != NULL && pyprof_lines_add(lines, func) < 0) {
        return NULL;
    }
    return Py_NewRef(func);
}
