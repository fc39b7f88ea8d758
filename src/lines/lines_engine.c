/* lines_engine.c - the line-event engine: selection, line tables, thread
 * stacks, export.  The per-event work is inline in lines_internal.h; the
 * hooks that call it are lines_legacy.c (below 3.12) and
 * lines_monitoring.c (3.12+).
 */
#include "lines_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../engine/compat.h"

pyprof_lines_t *pyprof_lines_active = NULL;
__attribute__((visibility("hidden"))) pyprof_lines_t *pyprof_lines_straight =
    NULL;
_Thread_local lines_tls_t pyprof_lines_tls[LINES_TLS_SLOTS]
    __attribute__((tls_model("initial-exec")));

/* Epoch source, so a new engine never matches a thread-local pointer (or
 * a rejected-code mark) left by an older one.  Protected by the GIL. */
static uint64_t next_epoch = 1;

/* The co_extra slot where rule matching marks code objects it rejected
 * (with the engine's epoch), so each code object is examined once per
 * engine and the mark dies with the code object.  Requested once per
 * process; protected by the GIL. */
static Py_ssize_t rejected_extra_index = -2;

#define INITIAL_FRAMES 32

/* ---- life cycle --------------------------------------------------------- */

pyprof_lines_t *
pyprof_lines_new(int wall_await)
{
    pyprof_lines_t *lines = PyMem_RawCalloc(1, sizeof(*lines));
    if (lines == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    lines->codes = PyList_New(0);
    if (lines->codes == NULL) {
        PyMem_RawFree(lines);
        return NULL;
    }
    if (pyprof_ptrmap_init(&lines->code_fn) < 0) {
        Py_DECREF(lines->codes);
        PyMem_RawFree(lines);
        PyErr_NoMemory();
        return NULL;
    }
    lines->epoch = next_epoch++;
    lines->wall_await = wall_await;
    lines->comprehension_lines = 1;
    lines->ns_per_tick = 1.0;
    pyprof_clock_init(&lines->clock, 0);
    return lines;
}

void
pyprof_lines_set_comprehension_lines(pyprof_lines_t *lines,
                                     int every_iteration)
{
    lines->comprehension_lines = every_iteration;
}

/* A comprehension's or generator expression's own code object (below
 * 3.12 all four kinds; from 3.12 only genexprs have one, PEP 709). */
static int
is_comprehension(PyObject *code)
{
    static const char *const names[] = {"<listcomp>", "<setcomp>",
                                        "<dictcomp>", "<genexpr>"};
    PyObject *name = ((PyCodeObject *)code)->co_name;
    for (size_t i = 0; i < 4; i++) {
        if (PyUnicode_CompareWithASCIIString(name, names[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

void
pyprof_lines_set_wall_await(pyprof_lines_t *lines, int wall_await)
{
    if (!lines->enabled) {
        lines->wall_await = wall_await;
    }
}

static void
release_suspended(pyprof_lines_t *lines)
{
    for (size_t i = 0; i < lines->nsuspended; i++) {
        Py_DECREF(lines->suspended[i].frame);
    }
    lines->nsuspended = 0;
}

void
pyprof_lines_free(pyprof_lines_t *lines)
{
    if (lines == NULL) {
        return;
    }
    pyprof_lines_disable(lines);
    release_suspended(lines);
    PyMem_RawFree(lines->suspended);
    for (uint32_t i = 0; i < lines->nfuncs; i++) {
        Py_XDECREF(lines->funcs[i].code);
        PyMem_RawFree(lines->funcs[i].hits);
        PyMem_RawFree(lines->funcs[i].ticks);
    }
    PyMem_RawFree(lines->funcs);
    for (size_t i = 0; i < lines->nrules; i++) {
        PyMem_RawFree(lines->rules[i].text);
        free(lines->rules[i].file);
        PyMem_RawFree(lines->rules[i].func);
    }
    PyMem_RawFree(lines->rules);
    free(lines->main_file);
    free(lines->last_realpath);
    Py_XDECREF(lines->last_filename);
    pyprof_ptrmap_free(&lines->code_fn);
    Py_XDECREF(lines->codes);
    lines_thread_t *t = lines->threads;
    while (t != NULL) {
        lines_thread_t *next = t->next;
        PyMem_RawFree(t->frames);
        PyMem_RawFree(t);
        t = next;
    }
    PyMem_RawFree(lines);
}

int
pyprof_lines_traverse(pyprof_lines_t *lines, visitproc visit, void *arg)
{
    Py_VISIT(lines->codes);
    return 0;
}

void
pyprof_lines_set_consumer(pyprof_lines_t *lines,
                          const pyprof_lines_consumer_t *consumer)
{
    if (lines->enabled) {
        return;
    }
    lines->has_consumer = consumer != NULL;
    if (consumer != NULL) {
        lines->consumer = *consumer;
    }
}

int
pyprof_lines_enabled(const pyprof_lines_t *lines)
{
    return lines->enabled;
}

pyprof_lines_t *
pyprof_lines_current(void)
{
    return pyprof_lines_active;
}

int
pyprof_lines_out_of_memory(const pyprof_lines_t *lines)
{
    return lines->out_of_memory;
}

uint32_t
pyprof_lines_function_count(const pyprof_lines_t *lines)
{
    return lines->nfuncs;
}

int
pyprof_lines_function_info(const pyprof_lines_t *lines, uint32_t fn,
                           PyCodeObject **code, int *first_line, int *nlines)
{
    if (fn >= lines->nfuncs) {
        return -1;
    }
    *code = (PyCodeObject *)lines->funcs[fn].code;
    *first_line = lines->funcs[fn].first_line;
    *nlines = lines->funcs[fn].nlines;
    return 0;
}

/* ---- selection ---------------------------------------------------------- */

/* The highest line number any instruction of `code` or of the code
 * objects nested in it maps to (co_lines()), at least `floor`.  -1 with an
 * exception set on failure. */
static int
last_line_of(PyObject *code, int floor)
{
    int last = floor;
    PyObject *iter = PyObject_CallMethod(code, "co_lines", NULL);
    if (iter == NULL) {
        return -1;
    }
    PyObject *item;
    PyObject *it = PyObject_GetIter(iter);
    Py_DECREF(iter);
    if (it == NULL) {
        return -1;
    }
    while ((item = PyIter_Next(it)) != NULL) {
        PyObject *line = PyTuple_Check(item) && PyTuple_GET_SIZE(item) == 3
                             ? PyTuple_GET_ITEM(item, 2) : NULL;
        if (line != NULL && PyLong_Check(line)) {
            long value = PyLong_AsLong(line);
            if (value > last && value < INT_MAX) {
                last = (int)value;
            }
        }
        Py_DECREF(item);
    }
    Py_DECREF(it);
    if (PyErr_Occurred()) {
        return -1;
    }
    PyObject *consts = ((PyCodeObject *)code)->co_consts;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(consts); i++) {
        PyObject *item = PyTuple_GET_ITEM(consts, i);
        if (PyCode_Check(item)) {
            last = last_line_of(item, last);
            if (last < 0) {
                return -1;
            }
        }
    }
    return last;
}

/* Map `code` and the code objects nested in it to `fn` (those already
 * selected keep their function).  0, or -1 with an exception set. */
static int
map_code_tree(pyprof_lines_t *lines, PyObject *code, uint32_t fn)
{
    if (lines_lookup(lines, code) < 0) {
        if (PyList_Append(lines->codes, code) < 0) {
            return -1;
        }
        if (pyprof_ptrmap_set(&lines->code_fn, code, fn) < 0) {
            PyErr_NoMemory();
            return -1;
        }
        if (lines->enabled && pyprof_lines_backend_watch(lines, code) < 0) {
            return -1;
        }
    }
    PyObject *consts = ((PyCodeObject *)code)->co_consts;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(consts); i++) {
        PyObject *item = PyTuple_GET_ITEM(consts, i);
        if (PyCode_Check(item)
            && (lines->comprehension_lines || !is_comprehension(item))
            && map_code_tree(lines, item, fn) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Select a code object as a function of its own.  Returns its fn, or -1
 * with an exception set. */
static int64_t
select_code(pyprof_lines_t *lines, PyObject *code)
{
    int64_t known = lines_lookup(lines, code);
    if (known >= 0) {
        return known;
    }
    PyCodeObject *co = (PyCodeObject *)code;
    int first = co->co_firstlineno;
    int last = last_line_of(code, first);
    if (last < 0) {
        return -1;
    }
    if (lines->nfuncs == lines->funcs_capacity) {
        uint32_t capacity = lines->funcs_capacity ? lines->funcs_capacity * 2
                                                  : 16;
        lines_func_t *funcs = PyMem_RawRealloc(lines->funcs,
                                               capacity * sizeof(*funcs));
        if (funcs == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        lines->funcs = funcs;
        lines->funcs_capacity = capacity;
    }
    lines_func_t *func = &lines->funcs[lines->nfuncs];
    func->nlines = last - first + 1;
    func->hits = PyMem_RawCalloc((size_t)func->nlines, sizeof(uint64_t));
    func->ticks = PyMem_RawCalloc((size_t)func->nlines,
                                  sizeof(pyprof_ticks_t));
    if (func->hits == NULL || func->ticks == NULL) {
        PyMem_RawFree(func->hits);
        PyMem_RawFree(func->ticks);
        PyErr_NoMemory();
        return -1;
    }
    func->code = Py_NewRef(code);
    func->first_line = first;
    func->is_coroutine = (co->co_flags & (CO_COROUTINE | CO_ITERABLE_COROUTINE
                                          | CO_ASYNC_GENERATOR)) != 0;
    uint32_t fn = lines->nfuncs++;
    if (map_code_tree(lines, code, fn) < 0) {
        return -1; /* the table entry stays, harmlessly empty */
    }
    return fn;
}

/* The code object behind a callable-ish object: new reference, or NULL
 * (no exception) when there is none. */
static PyObject *
code_of(PyObject *obj, int depth)
{
    if (depth > 8) {
        return NULL;
    }
    if (PyCode_Check(obj)) {
        return Py_NewRef(obj);
    }
    if (PyFunction_Check(obj)) {
        return Py_NewRef(PyFunction_GET_CODE(obj));
    }
    static const char *const attrs[] = {"__func__", "func", "__wrapped__"};
    for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
        PyObject *inner = PyObject_GetAttrString(obj, attrs[i]);
        if (inner == NULL) {
            PyErr_Clear();
            continue;
        }
        PyObject *code = code_of(inner, depth + 1);
        Py_DECREF(inner);
        if (code != NULL) {
            return code;
        }
    }
    return NULL;
}

int
pyprof_lines_add(pyprof_lines_t *lines, PyObject *obj)
{
    if (PyObject_TypeCheck(obj, &PyProperty_Type)) {
        static const char *const accessors[] = {"fget", "fset", "fdel"};
        int any = 0;
        for (size_t i = 0; i < 3; i++) {
            PyObject *f = PyObject_GetAttrString(obj, accessors[i]);
            if (f == NULL) {
                return -1;
            }
            int rc = f == Py_None ? 0 : pyprof_lines_add(lines, f);
            Py_DECREF(f);
            if (rc < 0) {
                return -1;
            }
            any |= rc;
        }
        return any;
    }
    PyObject *code = code_of(obj, 0);
    if (code == NULL) {
        return 0;
    }
    int64_t fn = select_code(lines, code);
    Py_DECREF(code);
    return fn < 0 ? -1 : 1;
}

/* A malloc'd realpath() of `path`, or a malloc'd copy when it does not
 * resolve; NULL when out of memory. */
static char *
resolve_path(const char *path)
{
    char *resolved = realpath(path, NULL);
    return resolved != NULL ? resolved : strdup(path);
}

static char *
raw_strdup(const char *text, size_t n)
{
    char *copy = PyMem_RawMalloc(n + 1);
    if (copy != NULL) {
        memcpy(copy, text, n);
        copy[n] = '\0';
    }
    return copy;
}

int
pyprof_lines_add_rule(pyprof_lines_t *lines, pyprof_lines_rule_kind_t kind,
                      const char *text)
{
    lines_rule_t *rules = PyMem_RawRealloc(
        lines->rules, (lines->nrules + 1) * sizeof(*rules));
    if (rules == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    lines->rules = rules;
    lines_rule_t *rule = &rules[lines->nrules];
    memset(rule, 0, sizeof(*rule));
    rule->kind = kind;
    rule->text = raw_strdup(text, strlen(text));
    if (rule->text == NULL) {
        goto nomem;
    }
    const char *colon = strrchr(text, ':');
    if (kind == PYPROF_LINES_RULE_PATH) {
        rule->file = resolve_path(text);
        if (rule->file == NULL) {
            goto nomem;
        }
    }
    else if (kind == PYPROF_LINES_RULE_FUNCTION && colon != NULL) {
        char *file = raw_strdup(text, (size_t)(colon - text));
        if (file == NULL) {
            goto nomem;
        }
        rule->file = resolve_path(file);
        PyMem_RawFree(file);
        rule->func = raw_strdup(colon + 1, strlen(colon + 1));
        if (rule->file == NULL || rule->func == NULL) {
            goto nomem;
        }
    }
    lines->nrules++;
    return 0;
nomem:
    PyMem_RawFree(rule->text);
    free(rule->file);
    PyMem_RawFree(rule->func);
    PyErr_NoMemory();
    return -1;
}

int
pyprof_lines_set_main_file(pyprof_lines_t *lines, const char *path)
{
    free(lines->main_file);
    lines->main_file = NULL;
    if (path != NULL) {
        lines->main_file = resolve_path(path);
        if (lines->main_file == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    return 0;
}

static int
ends_with(const char *text, const char *suffix)
{
    size_t n = strlen(text), m = strlen(suffix);
    return n >= m && memcmp(text + n - m, suffix, m) == 0;
}

/* Does `file` (a realpath) hold module `module` ("a.b"): a/b.py,
 * a/b/__init__.py, or (packages) a file below a/b/?  By path suffix, so
 * nothing is imported; "__main__" is the program's own file. */
static int
file_in_module(const pyprof_lines_t *lines, const char *file,
               const char *module, size_t module_len, int with_submodules)
{
    if (module_len == 8 && memcmp(module, "__main__", 8) == 0) {
        return lines->main_file != NULL
               && strcmp(file, lines->main_file) == 0;
    }
    char path[PATH_MAX];
    if (module_len + 16 >= sizeof(path)) {
        return 0;
    }
    path[0] = '/';
    for (size_t i = 0; i < module_len; i++) {
        path[i + 1] = module[i] == '.' ? '/' : module[i];
    }
    path[module_len + 1] = '\0';
    size_t base = module_len + 1;
    strcpy(path + base, ".py");
    if (ends_with(file, path)) {
        return 1;
    }
    strcpy(path + base, "/__init__.py");
    if (ends_with(file, path)) {
        return 1;
    }
    if (with_submodules) {
        path[base] = '/';
        path[base + 1] = '\0';
        return strstr(file, path) != NULL;
    }
    return 0;
}

/* Does the function named `qualname`/`name` match `want` ("f" or
 * "Class.f")? */
static int
name_matches(const char *want, size_t want_len, const char *qualname,
             const char *name)
{
    if (strlen(qualname) == want_len && memcmp(qualname, want, want_len) == 0) {
        return 1;
    }
    /* Python 3.10 code objects have no qualified name: match the last
     * component against co_name. */
    const char *dot = memchr(want, '.', want_len);
    if (dot == NULL || strcmp(qualname, name) == 0) {
        const char *last = want;
        for (const char *p = want; p < want + want_len; p++) {
            if (*p == '.') {
                last = p + 1;
            }
        }
        size_t n = (size_t)(want + want_len - last);
        return strlen(name) == n && memcmp(name, last, n) == 0;
    }
    return 0;
}

static int
rule_matches(const pyprof_lines_t *lines, lines_rule_t *rule,
             const char *file, const char *qualname, const char *name)
{
    const char *text = rule->text;
    switch (rule->kind) {
    case PYPROF_LINES_RULE_PATH: {
        size_t n = strlen(rule->file);
        return strcmp(file, rule->file) == 0
               || (strncmp(file, rule->file, n) == 0
                   && (file[n] == '/' || rule->file[n - 1] == '/'));
    }
    case PYPROF_LINES_RULE_MODULE:
        return file_in_module(lines, file, text, strlen(text), 1);
    case PYPROF_LINES_RULE_FUNCTION:
        if (rule->file != NULL) {
            return strcmp(file, rule->file) == 0
                   && name_matches(rule->func, strlen(rule->func), qualname,
                                   name);
        }
        if (strchr(text, '.') == NULL) {
            return strcmp(name, text) == 0;
        }
        /* "a.b.C.f": try every split into module and qualified name. */
        for (const char *dot = strchr(text, '.'); dot != NULL;
             dot = strchr(dot + 1, '.')) {
            const char *func = dot + 1;
            if (name_matches(func, strlen(func), qualname, name)
                && file_in_module(lines, file, text, (size_t)(dot - text),
                                  0)) {
                return 1;
            }
        }
        return 0;
    }
    return 0;
}

/* The object a dotted name ("pkg.mod.Class.meth", "Class.meth", "f")
 * names as Python would resolve it once the program runs: the longest
 * prefix that is a loaded module (the program's own file is __main__),
 * else __main__, then getattr for the rest -- so a name a package
 * re-exports from another module, or a qualified name in the program, is
 * found.  Nothing is imported: a module the program has not imported is
 * not its business yet, and importing the program's own file would run
 * it twice.  New reference, or NULL with no exception set. */
static PyObject *
resolve_dotted(const pyprof_lines_t *lines, const char *text)
{
    PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
    PyObject *found = NULL;
    const char *rest = text;
    for (const char *dot = strrchr(text, '.'); dot != NULL;) {
        PyObject *name = PyUnicode_FromStringAndSize(
            text, (Py_ssize_t)(dot - text));
        if (name == NULL) {
            PyErr_Clear();
            return NULL;
        }
        PyObject *module = PyDict_GetItemWithError(modules, name);
        Py_DECREF(name);
        PyErr_Clear();
        if (module == NULL && lines->main_file != NULL
            && file_in_module(lines, lines->main_file, text,
                              (size_t)(dot - text), 0)) {
            module = PyDict_GetItemString(modules, "__main__");
        }
        if (module != NULL) {
            found = Py_NewRef(module);
            rest = dot + 1;
            break;
        }
        const char *prev = NULL;
        for (const char *p = text; p < dot; p++) {
            if (*p == '.') {
                prev = p;
            }
        }
        dot = prev;
    }
    if (found == NULL) {
        found = Py_XNewRef(PyDict_GetItemString(modules, "__main__"));
    }
    while (found != NULL && *rest != '\0') {
        const char *dot = strchr(rest, '.');
        size_t len = dot != NULL ? (size_t)(dot - rest) : strlen(rest);
        PyObject *name = PyUnicode_FromStringAndSize(rest, (Py_ssize_t)len);
        PyObject *next = name != NULL ? PyObject_GetAttr(found, name) : NULL;
        Py_XDECREF(name);
        Py_DECREF(found);
        found = next;
        rest += len + (dot != NULL);
    }
    PyErr_Clear();
    return found;
}

/* The function a name stands for: through functools.wraps' __wrapped__
 * chain (the body the user wrote, not the wrapper), as inspect.unwrap
 * does.  Steals `obj`; new reference. */
static PyObject *
unwrap(PyObject *obj)
{
    for (int depth = 0; obj != NULL && depth < 16; depth++) {
        PyObject *inner = PyObject_GetAttrString(obj, "__wrapped__");
        if (inner == NULL) {
            PyErr_Clear();
            break;
        }
        Py_SETREF(obj, inner);
    }
    return obj;
}

/* Does FUNCTION rule `rule` (a dotted name) name `code` once resolved as
 * Python would (see resolve_dotted)?  Only asked for code whose co_name
 * is the name's last part, so the lookup runs for few code objects. */
static int
rule_names_code(pyprof_lines_t *lines, const lines_rule_t *rule,
                PyObject *code, const char *name)
{
    const char *last = strrchr(rule->text, '.');
    last = last != NULL ? last + 1 : rule->text;
    if (lines->resolving || strcmp(last, name) != 0) {
        return 0;
    }
    lines->resolving = 1;
    PyObject *target = unwrap(resolve_dotted(lines, rule->text));
    int same = 0;
    if (target != NULL && PyObject_TypeCheck(target, &PyProperty_Type)) {
        Py_SETREF(target, PyObject_GetAttrString(target, "fget"));
        PyErr_Clear();
    }
    PyObject *target_code = target != NULL ? code_of(target, 0) : NULL;
    same = target_code == code;
    Py_XDECREF(target_code);
    Py_XDECREF(target);
    PyErr_Clear();
    lines->resolving = 0;
    return same;
}

/* Mark `code` as rejected by this engine (co_extra). */
static void
mark_rejected(pyprof_lines_t *lines, PyObject *code)
{
    if (rejected_extra_index >= 0) {
        void *mark = (void *)(uintptr_t)(lines->epoch * 2 + 1);
        if (pyprof_code_set_extra(code, rejected_extra_index, mark) < 0) {
            PyErr_Clear();
        }
    }
}

int64_t
pyprof_lines_select_by_rules(pyprof_lines_t *lines, PyObject *code)
{
    if (lines->nrules == 0) {
        return -1;
    }
    PyCodeObject *co = (PyCodeObject *)code;
    if (rejected_extra_index >= 0) {
        void *mark = NULL;
        if (pyprof_code_get_extra(code, rejected_extra_index, &mark) < 0) {
            PyErr_Clear();
        }
        else if (mark == (void *)(uintptr_t)(lines->epoch * 2 + 1)) {
            return -1;
        }
    }
    /* Module and class bodies are not functions (no CO_OPTIMIZED): the
     * functions defined in them are selected one by one. */
    if (!(co->co_flags & CO_OPTIMIZED)
        || (!lines->comprehension_lines && is_comprehension(code))) {
        mark_rejected(lines, code);
        return -1;
    }
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    int64_t fn = -1;
    const char *filename = PyUnicode_AsUTF8(co->co_filename);
    const char *name = PyUnicode_AsUTF8(co->co_name);
    PyObject *qualobj = PyObject_GetAttrString(code, "co_qualname");
    if (qualobj == NULL) {
        PyErr_Clear();
    }
    const char *qualname = qualobj != NULL && PyUnicode_Check(qualobj)
                               ? PyUnicode_AsUTF8(qualobj) : name;
    if (filename == NULL || name == NULL || qualname == NULL) {
        PyErr_Clear();
        goto done;
    }
    if (lines->last_filename != co->co_filename) {
        char *resolved = resolve_path(filename);
        if (resolved == NULL) {
            lines->out_of_memory = 1;
            goto done;
        }
        free(lines->last_realpath);
        lines->last_realpath = resolved;
        Py_XSETREF(lines->last_filename, Py_NewRef(co->co_filename));
    }
    int selected = 0;
    for (size_t i = 0; i < lines->nrules; i++) {
        lines_rule_t *rule = &lines->rules[i];
        if (rule_matches(lines, rule, lines->last_realpath, qualname, name)
            || (rule->kind == PYPROF_LINES_RULE_FUNCTION
                && rule->file == NULL
                && rule_names_code(lines, rule, code, name))) {
            lines->rules[i].matched = 1;
            selected = 1;
        }
    }
    if (selected) {
        fn = select_code(lines, code);
        if (fn < 0) {
            PyErr_Clear();
            lines->out_of_memory = 1;
        }
    }
    else {
        mark_rejected(lines, code);
    }
done:
    Py_XDECREF(qualobj);
    PyErr_Restore(type, value, traceback);
    return fn;
}

/* Look a FUNCTION rule that matched nothing up, so that a function that
 * exists but never ran is listed with zero hits. */
static void
resolve_unmatched(pyprof_lines_t *lines, lines_rule_t *rule)
{
    PyObject *found = NULL;
    if (rule->file != NULL) {
        PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
        PyObject *key, *module;
        Py_ssize_t pos = 0;
        while (found == NULL && PyDict_Next(modules, &pos, &key, &module)) {
            PyObject *file = PyObject_GetAttrString(module, "__file__");
            if (file == NULL || !PyUnicode_Check(file)) {
                PyErr_Clear();
                Py_XDECREF(file);
                continue;
            }
            const char *path = PyUnicode_AsUTF8(file);
            char *resolved = path != NULL ? resolve_path(path) : NULL;
            if (resolved != NULL && strcmp(resolved, rule->file) == 0) {
                found = Py_NewRef(module);
            }
            free(resolved);
            Py_DECREF(file);
            PyErr_Clear();
        }
        for (const char *text = rule->func; found != NULL && *text;) {
            const char *dot = strchr(text, '.');
            size_t len = dot != NULL ? (size_t)(dot - text) : strlen(text);
            PyObject *name = PyUnicode_FromStringAndSize(text,
                                                         (Py_ssize_t)len);
            PyObject *next = name != NULL ? PyObject_GetAttr(found, name)
                                          : NULL;
            Py_XDECREF(name);
            Py_DECREF(found);
            found = next;
            text += len + (dot != NULL);
        }
        PyErr_Clear();
    }
    else {
        found = resolve_dotted(lines, rule->text);
    }
    found = unwrap(found);
    if (found != NULL) {
        int rc = pyprof_lines_add(lines, found);
        if (rc > 0) {
            rule->matched = 1;
        }
        PyErr_Clear();
        Py_DECREF(found);
    }
}

const char *
pyprof_lines_unmatched_function(const pyprof_lines_t *lines, size_t i)
{
    for (size_t r = 0; r < lines->nrules; r++) {
        const lines_rule_t *rule = &lines->rules[r];
        if (rule->kind == PYPROF_LINES_RULE_FUNCTION && !rule->matched) {
            if (i == 0) {
                return rule->text;
            }
            i--;
        }
    }
    return NULL;
}

/* ---- enable / disable --------------------------------------------------- */

/* Recompute pyprof_lines_straight after the engines recording changed. */
static void
update_straight(void)
{
    pyprof_lines_t *only = pyprof_lines_active;
    pyprof_lines_straight =
        only != NULL && only->next_enabled == NULL && !only->has_consumer
                && pyprof_clock_is_straight(&only->clock)
            ? only
            : NULL;
}

int
pyprof_lines_enable(pyprof_lines_t *lines)
{
    if (lines->enabled) {
        return 0;
    }
    if (rejected_extra_index == -2) {
        rejected_extra_index = pyprof_code_extra_index();
    }
    lines->next_enabled = NULL;
    if (pyprof_lines_active == NULL) {
        pyprof_lines_active = lines;
        if (pyprof_lines_backend_start(lines) < 0) {
            pyprof_lines_active = NULL;
            return -1;
        }
    }
    else {
        /* Others record: the hooks serve this one too, from the end of
         * the list (the first enabled stays pyprof_lines_current()). */
        if (pyprof_lines_backend_join(lines) < 0) {
            return -1;
        }
        pyprof_lines_t **link = &pyprof_lines_active;
        while (*link != NULL) {
            link = &(*link)->next_enabled;
        }
        *link = lines;
    }
    lines->enabled = 1;
    update_straight();
    return 0;
}

/* Take `lines` out of the list of engines recording. */
static void
unlink_enabled(pyprof_lines_t *lines)
{
    for (pyprof_lines_t **link = &pyprof_lines_active; *link != NULL;
         link = &(*link)->next_enabled) {
        if (*link == lines) {
            *link = lines->next_enabled;
            break;
        }
    }
    lines->next_enabled = NULL;
    update_straight();
}

/* Charge every open frame of every thread up to now and empty the
 * stacks. */
static void
close_open_frames(pyprof_lines_t *lines)
{
    pyprof_ticks_t now = pyprof_clock_ticks(&lines->clock);
    for (lines_thread_t *t = lines->threads; t != NULL; t = t->next) {
        while (t->depth > 0) {
            lines_pop(lines, t, now);
        }
    }
}

void
pyprof_lines_disable(pyprof_lines_t *lines)
{
    if (!lines->enabled) {
        return;
    }
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    unlink_enabled(lines);
    if (pyprof_lines_active == NULL) {
        pyprof_lines_backend_stop(lines);   /* the last one recording */
    }
    lines->enabled = 0;
    close_open_frames(lines);
    release_suspended(lines);
    lines->ns_per_tick = pyprof_clock_ns_per_tick(&lines->clock);
    for (size_t i = 0; i < lines->nrules; i++) {
        if (lines->rules[i].kind == PYPROF_LINES_RULE_FUNCTION
            && !lines->rules[i].matched) {
            resolve_unmatched(lines, &lines->rules[i]);
        }
    }
    PyErr_Clear();
    PyErr_Restore(type, value, traceback);
}

void
pyprof_lines_clear(pyprof_lines_t *lines)
{
    for (uint32_t i = 0; i < lines->nfuncs; i++) {
        lines_func_t *func = &lines->funcs[i];
        memset(func->hits, 0, (size_t)func->nlines * sizeof(*func->hits));
        memset(func->ticks, 0, (size_t)func->nlines * sizeof(*func->ticks));
    }
    for (lines_thread_t *t = lines->threads; t != NULL; t = t->next) {
        t->depth = 0;
    }
    release_suspended(lines);
    lines->out_of_memory = 0;
}

/* ---- slow paths of the hooks -------------------------------------------- */

lines_thread_t *
pyprof_lines_thread_attach(pyprof_lines_t *lines)
{
    lines_tls_t *slot = &pyprof_lines_tls[lines->epoch % LINES_TLS_SLOTS];
    PyThreadState *tstate = PyThreadState_Get();
    /* Known already when another engine recording took the slot. */
    for (lines_thread_t *t = lines->threads; t != NULL; t = t->next) {
        if (t->tstate == (const void *)tstate) {
            slot->thread = t;
            slot->epoch = lines->epoch;
            return t;
        }
    }
    lines_thread_t *thread = PyMem_RawCalloc(1, sizeof(*thread));
    lines_frame_t *frames = PyMem_RawCalloc(INITIAL_FRAMES, sizeof(*frames));
    if (thread == NULL || frames == NULL) {
        PyMem_RawFree(thread);
        PyMem_RawFree(frames);
        lines->out_of_memory = 1;
        return NULL;
    }
    thread->frames = frames;
    thread->capacity = INITIAL_FRAMES;
    thread->tstate = tstate;
    thread->next = lines->threads;
    lines->threads = thread;
    slot->thread = thread;
    slot->epoch = lines->epoch;
    return thread;
}

int
pyprof_lines_thread_grow(pyprof_lines_t *lines, lines_thread_t *thread)
{
    uint32_t capacity = thread->capacity * 2;
    lines_frame_t *frames = PyMem_RawRealloc(thread->frames,
                                             capacity * sizeof(*frames));
    if (frames == NULL) {
        lines->out_of_memory = 1;
        return -1;
    }
    thread->frames = frames;
    thread->capacity = capacity;
    return 0;
}

void
pyprof_lines_suspend(pyprof_lines_t *lines, lines_thread_t *thread,
                     PyObject *frame)
{
    lines_frame_t *top = &thread->frames[thread->depth - 1];
    if (lines->nsuspended == lines->suspended_capacity) {
        size_t capacity = lines->suspended_capacity
                              ? lines->suspended_capacity * 2 : 16;
        lines_suspended_t *records = PyMem_RawRealloc(
            lines->suspended, capacity * sizeof(*records));
        if (records == NULL) {
            lines->out_of_memory = 1;
            lines_on_leave(lines, thread, top->key);
            return;
        }
        lines->suspended = records;
        lines->suspended_capacity = capacity;
    }
    lines_suspended_t *record = &lines->suspended[lines->nsuspended++];
    record->frame = Py_NewRef(frame);
    record->fn = top->fn;
    record->line = top->line;
    record->start = top->start + top->nested;
    thread->depth--; /* the line's interval goes on while suspended */
}

int
pyprof_lines_resume(pyprof_lines_t *lines, lines_frame_t *top,
                    PyObject *frame)
{
    for (size_t i = lines->nsuspended; i > 0; i--) {
        lines_suspended_t *record = &lines->suspended[i - 1];
        if (record->frame == frame && record->fn == top->fn) {
            top->line = record->line;
            top->start = record->start;
            PyObject *held = record->frame;
            *record = lines->suspended[--lines->nsuspended];
            Py_DECREF(held); /* the running frame keeps it alive */
            return 1;
        }
    }
    return 0;
}

/* ---- export -------------------------------------------------------------- */

pyprof_lprof_t *
pyprof_lines_export(pyprof_lines_t *lines)
{
    double ns_per_tick = lines->enabled
                             ? pyprof_clock_ns_per_tick(&lines->clock)
                             : lines->ns_per_tick;
    pyprof_lprof_t *model = pyprof_lprof_new();
    if (model == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    model->wall_await = lines->wall_await;
    for (uint32_t i = 0; i < lines->nfuncs; i++) {
        const lines_func_t *func = &lines->funcs[i];
        PyCodeObject *co = (PyCodeObject *)func->code;
        const char *filename = PyUnicode_AsUTF8(co->co_filename);
        const char *name = PyUnicode_AsUTF8(co->co_name);
        if (filename == NULL || name == NULL) {
            pyprof_lprof_free(model);
            return NULL;
        }
        pyprof_lprof_func_t *out = pyprof_lprof_add(
            model, filename, name, func->first_line, (size_t)func->nlines);
        if (out == NULL) {
            pyprof_lprof_free(model);
            PyErr_NoMemory();
            return NULL;
        }
        out->is_coroutine = func->is_coroutine;
        for (int j = 0; j < func->nlines; j++) {
            out->lines[j].hits = func->hits[j];
            out->lines[j].time_ns =
                (pyprof_ns_t)((double)func->ticks[j] * ns_per_tick + 0.5);
        }
    }
    pyprof_lprof_sort(model);
    return model;
}

/* ---- source text ------------------------------------------------------- */

char *
pyprof_lines_source_text(void *ctx, const char *filename, size_t *len)
{
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    char *copy = NULL;
    PyObject *linecache = PyImport_ImportModule("linecache");
    PyObject *lines = linecache != NULL
                          ? PyObject_CallMethod(linecache, "getlines", "s",
                                                filename)
                          : NULL;
    PyObject *empty = lines != NULL ? PyUnicode_FromString("") : NULL;
    PyObject *text = empty != NULL ? PyUnicode_Join(empty, lines) : NULL;
    Py_ssize_t size = 0;
    const char *utf8 = text != NULL ? PyUnicode_AsUTF8AndSize(text, &size)
                                    : NULL;
    if (utf8 != NULL && size > 0) {
        copy = malloc((size_t)size + 1);
        if (copy != NULL) {
            memcpy(copy, utf8, (size_t)size + 1);
            *len = (size_t)size;
        }
        else {
            errno = ENOMEM;
        }
    }
    else {
        errno = ENOENT;
    }
    Py_XDECREF(text);
    Py_XDECREF(empty);
    Py_XDECREF(lines);
    Py_XDECREF(linecache);
    PyErr_Clear();
    PyErr_Restore(type, value, traceback);
    return copy;
}
