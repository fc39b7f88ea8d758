/* refgraph.c - reference graphs as Graphviz DOT, the way objgraph draws
 * them.
 *
 * Breadth-first from the given objects; each node is written once (a
 * pointer map remembers its depth), so a cycle ends the walk instead of
 * looping.  The queue and the depth map are C memory, invisible to the
 * collector, so unlike objgraph nothing of ours shows up as a referrer
 * except the neighbour lists gc hands back, which are ignored.  Labels
 * are objgraph's (type name, short repr; a broken __repr__ gives
 * "(unrepresentable)") and every string is escaped for a DOT quoted
 * string.  The text is built in a memory sink and written at the end.
 */
#include "refgraph.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/output.h"
#include "../core/ptrmap.h"
#include "../core/sink.h"
#include "../engine/compat.h" /* frameobject.h below 3.11 */
#include "census.h"

typedef struct {
    int backrefs;
    Py_ssize_t max_depth;
    Py_ssize_t too_many;
    PyObject *filter;       /* borrowed or NULL */
    PyObject *highlight;    /* borrowed or NULL */
    PyObject *extra_info;   /* borrowed or NULL */
    int refcounts;
    int shortnames;
    PyObject *edges;        /* gc.get_referrers or gc.get_referents */
    PyObject *sys_modules;  /* borrowed */
    pyprof_sink_t out;
    pyprof_ptrmap_t depth;  /* object -> depth, once queued */
    pyprof_ptrmap_t ignore; /* objects never drawn */
    PyObject **queue;       /* new references */
    Py_ssize_t queued;
    Py_ssize_t capacity;
    PyObject *keep;         /* neighbour lists, alive so ids stay unique */
} graph_t;

/* Append `text` (str) escaped for a DOT quoted string: objgraph's _quote.
 */
static void
put_quoted(pyprof_sink_t *out, PyObject *text)
{
    PyObject *bytes = PyUnicode_AsEncodedString(text, "utf-8",
                                                "backslashreplace");
    if (bytes == NULL) {
        PyErr_Clear();
        pyprof_sink_puts(out, "?");
        return;
    }
    const char *s = PyBytes_AS_STRING(bytes);
    Py_ssize_t n = PyBytes_GET_SIZE(bytes);
    for (Py_ssize_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '\\': pyprof_sink_puts(out, "\\\\"); break;
        case '"': pyprof_sink_puts(out, "\\\""); break;
        case '\n': pyprof_sink_puts(out, "\\n"); break;
        case '\0': pyprof_sink_puts(out, "\\\\0"); break;
        default: pyprof_sink_putc(out, s[i]);
        }
    }
    Py_DECREF(bytes);
}

static void
put_node_id(pyprof_sink_t *out, PyObject *obj)
{
    pyprof_sink_printf(out, "o%llu", (unsigned long long)(uintptr_t)obj);
}

/* __name__ when it is a str, else repr()[:40]: objgraph's _name_or_repr.
 * New reference or NULL with an exception set. */
static PyObject *
name_or_repr(PyObject *obj)
{
    PyObject *name = PyObject_GetAttrString(obj, "__name__");
    if (name != NULL && PyUnicode_Check(name)) {
        return name;
    }
    Py_XDECREF(name);
    if (PyErr_Occurred() && !PyErr_ExceptionMatches(PyExc_AttributeError)) {
        return NULL;
    }
    PyErr_Clear();
    PyObject *repr = PyObject_Repr(obj);
    if (repr == NULL) {
        return NULL;
    }
    PyObject *cut = PyUnicode_Substring(repr, 0, 40);
    Py_DECREF(repr);
    return cut;
}

/* objgraph's _short_repr.  New reference or NULL with an exception. */
static PyObject *
short_repr(PyObject *obj)
{
    if (PyType_Check(obj) || PyModule_Check(obj) || PyCFunction_Check(obj)) {
        return name_or_repr(obj);
    }
    if (PyMethod_Check(obj)) {
        PyObject *name = name_or_repr(PyMethod_GET_FUNCTION(obj));
        if (name == NULL) {
            return NULL;
        }
        int bound = PyObject_IsTrue(PyMethod_GET_SELF(obj));
        if (bound < 0) {
            Py_DECREF(name);
            return NULL;
        }
        if (!bound) {
            return name;
        }
        PyObject *label = PyUnicode_FromFormat("%U (bound)", name);
        Py_DECREF(name);
        return label;
    }
    if (PyFunction_Check(obj)) {
        PyObject *name = PyObject_GetAttrString(obj, "__name__");
        if (name == NULL) {
            return NULL;
        }
        int is_lambda = PyUnicode_Check(name) &&
                        PyUnicode_CompareWithASCIIString(name, "<lambda>") ==
                            0;
        Py_DECREF(name);
        if (is_lambda) {
            PyCodeObject *code = (PyCodeObject *)PyFunction_GET_CODE(obj);
            PyObject *base = PyObject_CallMethod(code->co_filename,
                                                 "rpartition", "s", "/");
            if (base == NULL) {
                return NULL;
            }
            PyObject *label = PyUnicode_FromFormat(
                "lambda: %S:%d", PyTuple_GET_ITEM(base, 2),
                code->co_firstlineno);
            Py_DECREF(base);
            return label;
        }
    }
    if (PyFrame_Check(obj)) {
        PyFrameObject *frame = (PyFrameObject *)obj;
        PyCodeObject *code = PyFrame_GetCode(frame); /* new reference */
        PyObject *label = PyUnicode_FromFormat(
            "%S:%d", code->co_filename, PyFrame_GetLineNumber(frame));
        Py_DECREF(code);
        return label;
    }
    if (PyTuple_Check(obj) || PyList_Check(obj) || PyDict_Check(obj) ||
        PyAnySet_Check(obj)) {
        Py_ssize_t n = PyObject_Length(obj);
        if (n < 0) {
            return NULL;
        }
        return PyUnicode_FromFormat("%zd items", n);
    }
    PyObject *repr = PyObject_Repr(obj);
    if (repr == NULL) {
        return NULL;
    }
    PyObject *cut = PyUnicode_Substring(repr, 0, 40);
    Py_DECREF(repr);
    return cut;
}

/* short_repr(), or "(unrepresentable)" when the object's own code fails:
 * a broken __repr__ or __len__ must not stop the graph.  NULL only when
 * out of memory. */
static PyObject *
safe_repr(PyObject *obj)
{
    PyObject *label = short_repr(obj);
    if (label == NULL) {
        if (PyErr_ExceptionMatches(PyExc_MemoryError)) {
            return NULL;
        }
        PyErr_Clear();
        label = PyUnicode_FromString("(unrepresentable)");
    }
    return label;
}

/* Type name, optional refcount, short repr, optional extra info. */
static int
put_label(graph_t *graph, PyObject *obj)
{
    PyObject *name = pyprof_census_type_name(Py_TYPE(obj),
                                             graph->shortnames);
    PyObject *repr = name == NULL ? NULL : safe_repr(obj);
    if (repr == NULL) {
        Py_XDECREF(name);
        return -1;
    }
    PyObject *label;
    if (graph->refcounts) {
        /* Minus the queue's reference, which only this walk holds. */
        label = PyUnicode_FromFormat("%U [%zd]\n%U", name,
                                     Py_REFCNT(obj) - 1, repr);
    }
    else {
        label = PyUnicode_FromFormat("%U\n%U", name, repr);
    }
    Py_DECREF(name);
    Py_DECREF(repr);
    if (label == NULL) {
        return -1;
    }
    if (graph->extra_info != NULL) {
        PyObject *info = PyObject_CallOneArg(graph->extra_info, obj);
        PyObject *text = info == NULL ? NULL : PyObject_Str(info);
        Py_XDECREF(info);
        PyObject *joined = text == NULL ? NULL : PyUnicode_FromFormat(
            "%U\n%U", label, text);
        Py_XDECREF(text);
        Py_DECREF(label);
        if (joined == NULL) {
            return -1;
        }
        label = joined;
    }
    put_quoted(&graph->out, label);
    Py_DECREF(label);
    return 0;
}

/* An ASCII identifier, as objgraph's regex [a-zA-Z_][a-zA-Z_0-9]*$. */
static int
is_identifier(PyObject *key)
{
    if (!PyUnicode_Check(key) || !PyUnicode_IS_ASCII(key) ||
        PyUnicode_GET_LENGTH(key) == 0) {
        return 0;
    }
    const char *s = (const char *)PyUnicode_DATA(key);
    Py_ssize_t n = PyUnicode_GET_LENGTH(key);
    for (Py_ssize_t i = 0; i < n; i++) {
        char c = s[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    c == '_';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) {
            return 0;
        }
    }
    return 1;
}

/* The attribute `name` of obj is `target`; lookups that fail are false. */
static int
attribute_is(PyObject *obj, const char *name, PyObject *target)
{
    PyObject *value = PyObject_GetAttrString(obj, name);
    if (value == NULL) {
        PyErr_Clear();
        return 0;
    }
    int same = value == target;
    Py_DECREF(value);
    return same;
}

/* objgraph's _edge_label: why `source` refers to `target`. */
static int
put_edge_label(graph_t *graph, PyObject *source, PyObject *target)
{
    pyprof_sink_t *out = &graph->out;
    if (PyDict_Check(target) && attribute_is(source, "__dict__", target)) {
        pyprof_sink_puts(out, " [label=\"__dict__\",weight=10]");
        return 0;
    }
    if (PyFrame_Check(source) && attribute_is(source, "f_globals", target)) {
        pyprof_sink_puts(out, " [label=\"f_globals\",weight=10]");
        return 0;
    }
    if (PyMethod_Check(source)) {
        if (PyMethod_GET_SELF(source) == target) {
            pyprof_sink_puts(out, " [label=\"__self__\",weight=10]");
            return 0;
        }
        if (PyMethod_GET_FUNCTION(source) == target) {
            pyprof_sink_puts(out, " [label=\"__func__\",weight=10]");
            return 0;
        }
    }
    if (PyFunction_Check(source)) {
        PyObject *names = PyObject_Dir(source);
        if (names == NULL) {
            PyErr_Clear();
        }
        for (Py_ssize_t i = 0; names != NULL && i < PyList_GET_SIZE(names);
             i++) {
            PyObject *name = PyList_GET_ITEM(names, i);
            PyObject *value = PyObject_GetAttr(source, name);
            if (value == NULL) {
                PyErr_Clear();
                continue;
            }
            int same = value == target;
            Py_DECREF(value);
            if (same) {
                pyprof_sink_puts(out, " [label=\"");
                put_quoted(out, name);
                pyprof_sink_puts(out, "\",weight=10]");
                Py_DECREF(names);
                return 0;
            }
        }
        Py_XDECREF(names);
    }
    if (PyDict_Check(source)) {
        PyObject *key, *value;
        Py_ssize_t pos = 0;
        while (PyDict_Next(source, &pos, &key, &value)) {
            if (value != target) {
                continue;
            }
            if (is_identifier(key)) {
                pyprof_sink_puts(out, " [label=\"");
                put_quoted(out, key);
                pyprof_sink_puts(out, "\",weight=2]");
                return 0;
            }
            Py_INCREF(key);
            PyObject *name = pyprof_census_type_name(Py_TYPE(key),
                                                     graph->shortnames);
            PyObject *repr = name == NULL ? NULL : safe_repr(key);
            PyObject *label = repr == NULL ? NULL : PyUnicode_FromFormat(
                "%U\n%U", name, repr);
            Py_DECREF(key);
            Py_XDECREF(name);
            Py_XDECREF(repr);
            if (label == NULL) {
                return -1;
            }
            pyprof_sink_puts(out, " [label=\"");
            put_quoted(out, label);
            pyprof_sink_puts(out, "\"]");
            Py_DECREF(label);
            return 0;
        }
    }
    return 0;
}

static void
gradient(const double start[3], const double end[3], Py_ssize_t depth,
         Py_ssize_t max_depth, double hsv[3])
{
    double f = max_depth == 0 ? 0.0 : (double)depth / (double)max_depth;
    for (int i = 0; i < 3; i++) {
        hsv[i] = start[i] * (1 - f) + end[i] * f;
    }
}

static int
enqueue(graph_t *graph, PyObject *obj, Py_ssize_t depth)
{
    if (graph->queued == graph->capacity) {
        Py_ssize_t capacity = graph->capacity ? graph->capacity * 2 : 64;
        PyObject **queue = realloc(graph->queue,
                                   (size_t)capacity * sizeof(PyObject *));
        if (queue == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        graph->queue = queue;
        graph->capacity = capacity;
    }
    if (pyprof_ptrmap_set(&graph->depth, obj, (uint32_t)depth) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    graph->queue[graph->queued++] = Py_NewRef(obj);
    return 0;
}

/* A module of sys.modules: objgraph's is_proper_module, where
 * show_backrefs stops (else every graph ends in sys.modules). */
static int
is_proper_module(graph_t *graph, PyObject *obj)
{
    if (!PyModule_Check(obj) || graph->sys_modules == NULL) {
        return 0;
    }
    PyObject *name = PyObject_GetAttrString(obj, "__name__");
    if (name == NULL) {
        PyErr_Clear();
        return 0;
    }
    PyObject *found = PyObject_GetItem(graph->sys_modules, name);
    Py_DECREF(name);
    if (found == NULL) {
        PyErr_Clear();
        return 0;
    }
    Py_DECREF(found);
    return found == obj;
}

/* Draw one dequeued node and queue its neighbours. */
static int
visit_node(graph_t *graph, PyObject *target, Py_ssize_t tdepth)
{
    static const double white[3] = {0, 0, 1}, grey[3] = {0, 0, .3};
    static const double red[3] = {0, 1, 1}, dark[3] = {0, 1, .3};
    pyprof_sink_t *out = &graph->out;
    pyprof_sink_puts(out, "  ");
    put_node_id(out, target);
    pyprof_sink_puts(out, "[label=\"");
    if (put_label(graph, target) < 0) {
        return -1;
    }
    pyprof_sink_puts(out, "\"];\n");
    double hsv[3];
    gradient(white, grey, tdepth, graph->max_depth, hsv);
    if (PyModule_Check(target)) {
        hsv[0] = .3;
        hsv[1] = 1;
    }
    if (graph->highlight != NULL) {
        PyObject *hit = PyObject_CallOneArg(graph->highlight, target);
        int truth = hit == NULL ? -1 : PyObject_IsTrue(hit);
        Py_XDECREF(hit);
        if (truth < 0) {
            return -1;
        }
        if (truth) {
            hsv[0] = .6;
            hsv[1] = .6;
            hsv[2] = 0.5 + hsv[2] * 0.5;
        }
    }
    pyprof_sink_puts(out, "  ");
    put_node_id(out, target);
    pyprof_sink_printf(out, "[fillcolor=\"%g,%g,%g\"];\n", hsv[0], hsv[1],
                       hsv[2]);
    if (hsv[2] < 0.5) {
        pyprof_sink_puts(out, "  ");
        put_node_id(out, target);
        pyprof_sink_puts(out, "[fontcolor=white];\n");
    }
    if (PyObject_HasAttrString((PyObject *)Py_TYPE(target), "__del__")) {
        unsigned long long id = (unsigned long long)(uintptr_t)target;
        pyprof_sink_printf(out,
                           "  o%llu->o%llu_has_a_del[color=red,style=dotted,"
                           "len=0.25,weight=10];\n", id, id);
        pyprof_sink_printf(out,
                           "  o%llu_has_a_del[label=\"__del__\","
                           "shape=doublecircle,height=0.25,color=red,"
                           "fillcolor=\"0,.5,1\",fontsize=6];\n", id);
    }
    if (tdepth >= graph->max_depth ||
        (graph->backrefs && is_proper_module(graph, target))) {
        return 0;
    }
    PyObject *neighbours = PyObject_CallOneArg(graph->edges, target);
    if (neighbours == NULL) {
        return -1;
    }
    if (!PyList_Check(neighbours) || PyList_Append(graph->keep,
                                                   neighbours) < 0 ||
        pyprof_ptrmap_set(&graph->ignore, neighbours, 1) < 0) {
        if (!PyErr_Occurred()) {
            PyErr_NoMemory();
        }
        Py_DECREF(neighbours);
        return -1;
    }
    Py_ssize_t drawn = 0, skipped = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(neighbours); i++) {
        PyObject *source = PyList_GET_ITEM(neighbours, i);
        uint32_t seen;
        if (pyprof_ptrmap_get(&graph->ignore, source, &seen)) {
            continue;
        }
        if (graph->filter != NULL) {
            PyObject *keep = PyObject_CallOneArg(graph->filter, source);
            int truth = keep == NULL ? -1 : PyObject_IsTrue(keep);
            Py_XDECREF(keep);
            if (truth < 0) {
                Py_DECREF(neighbours);
                return -1;
            }
            if (!truth) {
                continue;
            }
        }
        if (drawn >= graph->too_many) {
            skipped++;
            continue;
        }
        PyObject *from = graph->backrefs ? source : target;
        PyObject *to = graph->backrefs ? target : source;
        pyprof_sink_puts(out, "  ");
        put_node_id(out, from);
        pyprof_sink_puts(out, " -> ");
        put_node_id(out, to);
        if (put_edge_label(graph, from, to) < 0) {
            Py_DECREF(neighbours);
            return -1;
        }
        pyprof_sink_puts(out, ";\n");
        if (!pyprof_ptrmap_get(&graph->depth, source, &seen) &&
            enqueue(graph, source, tdepth + 1) < 0) {
            Py_DECREF(neighbours);
            return -1;
        }
        drawn++;
    }
    Py_DECREF(neighbours);
    if (skipped > 0) {
        gradient(red, dark, tdepth + 1, graph->max_depth, hsv);
        unsigned long long id = (unsigned long long)(uintptr_t)target;
        if (graph->backrefs) {
            pyprof_sink_printf(out, "  too_many_o%llu->o%llu", id, id);
        }
        else {
            pyprof_sink_printf(out, "  o%llu->too_many_o%llu", id, id);
        }
        pyprof_sink_puts(out, "[color=red,style=dotted,len=0.25,"
                              "weight=10];\n");
        pyprof_sink_printf(out,
                           "  too_many_o%llu[label=\"%zd more %s\","
                           "shape=box,height=0.25,color=red,"
                           "fillcolor=\"%g,%g,%g\",fontsize=6];\n",
                           id, skipped,
                           graph->backrefs ? "backreferences" : "references",
                           hsv[0], hsv[1], hsv[2]);
        pyprof_sink_printf(out, "  too_many_o%llu[fontcolor=white];\n", id);
    }
    return 0;
}

/* print(text) on sys.stdout, as objgraph reports what it wrote. */
static int
say(PyObject *text)
{
    if (text == NULL) {
        return -1;
    }
    PyObject *out = PySys_GetObject("stdout"); /* borrowed */
    int rc = 0;
    if (out != NULL && out != Py_None) {
        PyObject *r = PyObject_CallMethod(out, "write", "O", text);
        rc = r == NULL ? -1 : 0;
        Py_XDECREF(r);
    }
    Py_DECREF(text);
    return rc;
}

/* Write `len` bytes of DOT to `path`.  0, or -1 with OSError naming it. */
static int
write_dot_file(const char *path, const char *data, size_t len)
{
    char errbuf[64];
    if (pyprof_output_write(path, data, len, errbuf, sizeof(errbuf)) < 0) {
        PyErr_SetFromErrnoWithFilename(PyExc_OSError, path);
        return -1;
    }
    return 0;
}

/* Render `dot_path` to `image_path` with Graphviz when `dot` is on PATH;
 * say what happened either way, as objgraph does. */
static int
render(const char *dot_path, const char *image_path)
{
    PyObject *shutil = PyImport_ImportModule("shutil");
    PyObject *which = shutil == NULL ? NULL : PyObject_CallMethod(
        shutil, "which", "s", "dot");
    Py_XDECREF(shutil);
    if (which == NULL) {
        return -1;
    }
    if (which == Py_None) {
        Py_DECREF(which);
        return say(PyUnicode_FromFormat(
            "Graphviz's dot program is not on PATH: %s not rendered "
            "(install graphviz, or open %s)\n", image_path, dot_path));
    }
    Py_DECREF(which);
    const char *ext = strrchr(image_path, '.');
    char format[64], output[4200];
    snprintf(format, sizeof(format), "-T%s", ext != NULL ? ext + 1 : "png");
    snprintf(output, sizeof(output), "-o%s", image_path);
    PyObject *subprocess = PyImport_ImportModule("subprocess");
    PyObject *status = subprocess == NULL ? NULL : PyObject_CallMethod(
        subprocess, "call", "([ssss])", "dot", format, output, dot_path);
    Py_XDECREF(subprocess);
    if (status == NULL) {
        return -1;
    }
    long code = PyLong_AsLong(status);
    Py_DECREF(status);
    if (code != 0) {
        return say(PyUnicode_FromFormat(
            "dot failed (exit code %ld) rendering %s\n", code, image_path));
    }
    return say(PyUnicode_FromFormat("Image generated as %s\n", image_path));
}

PyObject *
pyprof_refgraph_show(PyObject *args, PyObject *kwargs, int backrefs)
{
    static char *kwlist[] = {"objs", "max_depth", "extra_ignore", "filter",
                             "too_many", "highlight", "filename",
                             "extra_info", "refcounts", "shortnames",
                             "output", NULL};
    PyObject *objs, *extra_ignore = NULL, *filter = Py_None;
    PyObject *highlight = Py_None, *filename = Py_None;
    PyObject *extra_info = Py_None, *output = Py_None;
    graph_t graph;
    memset(&graph, 0, sizeof(graph));
    graph.backrefs = backrefs;
    graph.max_depth = 3;
    graph.too_many = 10;
    graph.shortnames = 1;
    if (!PyArg_ParseTupleAndKeywords(
            args, kwargs,
            backrefs ? "O|nOOnOOOppO:show_backrefs"
                     : "O|nOOnOOOppO:show_refs",
            kwlist, &objs, &graph.max_depth, &extra_ignore, &filter,
            &graph.too_many, &highlight, &filename, &extra_info,
            &graph.refcounts, &graph.shortnames, &output)) {
        return NULL;
    }
    if (filename != Py_None && output != Py_None) {
        PyErr_SetString(PyExc_ValueError,
                        "Cannot specify both output and filename.");
        return NULL;
    }
    graph.filter = filter == Py_None ? NULL : filter;
    graph.highlight = highlight == Py_None ? NULL : highlight;
    graph.extra_info = extra_info == Py_None ? NULL : extra_info;
    graph.sys_modules = PySys_GetObject("modules");
    PyObject *list = NULL, *filename_bytes = NULL, *result = NULL;
    /* objgraph's default extra_ignore is (), and it ignores id(()) -- the
     * empty tuple everyone shares -- along with the ids inside; do the
     * same so that both draw the same graph. */
    PyObject *default_ignore = NULL;
    if (extra_ignore == NULL) {
        extra_ignore = default_ignore = PyTuple_New(0);
        if (default_ignore == NULL) {
            return NULL;
        }
    }
    char *text = NULL;
    pyprof_sink_init_buffer(&graph.out);
    if (pyprof_ptrmap_init(&graph.depth) < 0 ||
        pyprof_ptrmap_init(&graph.ignore) < 0) {
        PyErr_NoMemory();
        goto done;
    }
    if (filename != Py_None &&
        !PyUnicode_FSConverter(filename, &filename_bytes)) {
        goto done;
    }
    PyObject *gc = PyImport_ImportModule("gc");
    if (gc == NULL) {
        goto done;
    }
    graph.edges = PyObject_GetAttrString(
        gc, backrefs ? "get_referrers" : "get_referents");
    Py_DECREF(gc);
    graph.keep = PyList_New(0);
    if (graph.edges == NULL || graph.keep == NULL) {
        goto done;
    }
    list = (PyList_Check(objs) || PyTuple_Check(objs))
               ? PySequence_List(objs) : PyList_New(0);
    if (list == NULL || (!(PyList_Check(objs) || PyTuple_Check(objs)) &&
                         PyList_Append(list, objs) < 0)) {
        goto done;
    }
    PyObject *ignored[] = {objs, list, graph.keep, extra_ignore};
    for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
        if (ignored[i] != NULL &&
            pyprof_ptrmap_set(&graph.ignore, ignored[i], 1) < 0) {
            PyErr_NoMemory();
            goto done;
        }
    }
    {
        /* objgraph's extra_ignore holds id()s. */
        PyObject *ids = PySequence_List(extra_ignore);
        if (ids == NULL) {
            goto done;
        }
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(ids); i++) {
            void *address = PyLong_AsVoidPtr(PyList_GET_ITEM(ids, i));
            if ((address == NULL && PyErr_Occurred()) ||
                (address != NULL &&
                 pyprof_ptrmap_set(&graph.ignore, address, 1) < 0)) {
                if (!PyErr_Occurred()) {
                    PyErr_NoMemory();
                }
                Py_DECREF(ids);
                goto done;
            }
        }
        Py_DECREF(ids);
    }
    pyprof_sink_puts(&graph.out,
                     "digraph ObjectGraph {\n"
                     "  node[shape=box, style=filled, fillcolor=white];\n");
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
        PyObject *obj = PyList_GET_ITEM(list, i);
        pyprof_sink_puts(&graph.out, "  ");
        put_node_id(&graph.out, obj);
        pyprof_sink_puts(&graph.out, "[fontcolor=red];\n");
        uint32_t seen;
        if (!pyprof_ptrmap_get(&graph.depth, obj, &seen) &&
            enqueue(&graph, obj, 0) < 0) {
            goto done;
        }
    }
    PyGC_Collect();
    Py_ssize_t nodes = 0;
    for (Py_ssize_t head = 0; head < graph.queued; head++) {
        PyObject *target = graph.queue[head];
        uint32_t depth = 0;
        pyprof_ptrmap_get(&graph.depth, target, &depth);
        nodes++;
        if (visit_node(&graph, target, (Py_ssize_t)depth) < 0) {
            goto done;
        }
    }
    pyprof_sink_puts(&graph.out, "}\n");
    size_t len;
    text = pyprof_sink_take(&graph.out, &len);
    if (text == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (output != Py_None) {
        PyObject *str = PyUnicode_DecodeUTF8(text, (Py_ssize_t)len,
                                             "replace");
        PyObject *r = str == NULL ? NULL : PyObject_CallMethod(
            output, "write", "O", str);
        Py_XDECREF(str);
        if (r == NULL) {
            goto done;
        }
        Py_DECREF(r);
        result = Py_NewRef(Py_None);
        goto done;
    }
    const char *path = filename_bytes != NULL
                           ? PyBytes_AS_STRING(filename_bytes) : NULL;
    size_t path_len = path != NULL ? strlen(path) : 0;
    char dot_path[4096];
    if (path != NULL && path_len >= 4 &&
        strcmp(path + path_len - 4, ".dot") == 0) {
        if (write_dot_file(path, text, len) < 0) {
            goto done;
        }
        snprintf(dot_path, sizeof(dot_path), "%s", path);
    }
    else {
        const char *tmp = getenv("TMPDIR");
        snprintf(dot_path, sizeof(dot_path), "%s/pyprof-graph-XXXXXX.dot",
                 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
        int fd = mkstemps(dot_path, 4);
        if (fd < 0) {
            PyErr_SetFromErrnoWithFilename(PyExc_OSError, dot_path);
            goto done;
        }
        close(fd);
        if (write_dot_file(dot_path, text, len) < 0) {
            goto done;
        }
    }
    if (say(PyUnicode_FromFormat("Graph written to %s (%zd nodes)\n",
                                 dot_path, nodes)) < 0) {
        goto done;
    }
    if (path == NULL || strcmp(path, dot_path) != 0) {
        char image[4096];
        if (path == NULL) {
            snprintf(image, sizeof(image), "%.*s.png",
                     (int)(strlen(dot_path) - 4), dot_path);
            path = image;
        }
        if (render(dot_path, path) < 0) {
            goto done;
        }
    }
    result = Py_NewRef(Py_None);
done:
    free(text);
    pyprof_sink_free_buffer(&graph.out);
    for (Py_ssize_t i = 0; i < graph.queued; i++) {
        Py_DECREF(graph.queue[i]);
    }
    free(graph.queue);
    pyprof_ptrmap_free(&graph.depth);
    pyprof_ptrmap_free(&graph.ignore);
    Py_XDECREF(graph.edges);
    Py_XDECREF(graph.keep);
    Py_XDECREF(list);
    Py_XDECREF(filename_bytes);
    Py_XDECREF(default_ignore);
    return result;
}
