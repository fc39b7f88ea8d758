/* runner.c - run a user's program as `python script.py` would.
 *
 * What the program can observe is made the same as under plain `python`
 * (CPython's Modules/main.c and Python/pythonrun.c are the reference):
 *
 *   sys.argv      [script as given, args...]; ["-m", args...] while a module
 *                 is being found, then [its file, args...]; ["-c", args...].
 *   sys.path[0]   the script's real directory; the current directory for
 *                 -m; '' for -c.  It replaces the entry python put there for
 *                 pyprof itself, and is left alone under -I / -P, where
 *                 python adds none.
 *   __main__      a fresh module in sys.modules for every run (so classes
 *                 defined by the program pickle, and a second run of
 *                 `pyprof time` starts clean), holding what python's holds:
 *                 __builtins__, __loader__, __annotations__ = {} up to
 *                 3.13 (not from 3.14, PEP 649), and for a script an
 *                 absolute __file__ and, up to 3.14, __cached__ = None.
 *   source        read as bytes and compiled with the absolute file name,
 *                 so PEP 263 cookies and tracebacks behave as in python.
 *   profile       a builtin for every command, as `kernprof -b` gives it:
 *                 when none is defined yet, a pass-through (`@profile` and
 *                 `@profile(precision=3)` return the function unchanged);
 *                 a command that uses it (lines, memory, heap, mprof run)
 *                 installs its own, before the run or from its start hook.
 *
 * Modules (-m) and directories or zip files with a __main__.py go through
 * runpy as python does; the search is split from the run so that "No
 * module named x" or "can't find '__main__' module" is told apart from
 * the program failing (so a traceback lacks python's outermost
 * _run_module_as_main line).  A directory's search runs before the hooks:
 * it runs none of the program's code, and when it fails there is nothing
 * to report but python's message.
 *
 * After the run sys.argv, sys.path (object and items), the standard
 * streams and __main__ are put back, so pyprof's own output still reaches
 * the terminal and the next run of `pyprof time` starts where this one did.
 *
 * The hooks bracket exactly the program's own execution -- including, for
 * -m, the import of its parent packages, which python -m cProfile profiles
 * too.  However the program ends, SystemExit never ends this process: the
 * caller still has a profile to write.  Threads the program leaves running
 * are not waited for here (python waits at interpreter exit, which pyprof
 * reaches later); atexit handlers likewise run when pyprof exits.
 */
#include <Python.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../engine/compat.h"
#include "runner.h"

/* Exit statuses python itself uses. */
#define EXIT_CANNOT_OPEN 2      /* "can't open file" */
#define EXIT_INTERRUPTED 130    /* 128 + SIGINT, what a shell reports */
#define EXIT_FLUSH_FAILED 120   /* Py_FinalizeEx could not flush stdout */

typedef enum {
    RUN_SOURCE,         /* a script file or -c code, compiled here */
    RUN_MODULE,         /* -m: found and run through runpy */
    RUN_MAIN_OF_PATH,   /* a directory or zip file holding __main__.py */
} run_mode_t;

/* Everything one run of a target installs, built before anything of the
 * interpreter's state is touched. */
typedef struct {
    run_mode_t mode;
    const char *script;     /* RUN_SOURCE from a file: the path as given */
    PyObject *filename;     /* code's file name: absolute path, "<string>" */
    PyObject *argv;         /* the program's sys.argv */
    PyObject *path0;        /* its sys.path[0], or NULL to leave sys.path */
    PyObject *module;       /* its fresh __main__ */
    PyObject *name;         /* RUN_MODULE: the module name */
    PyObject *runpy;        /* the runpy module, for the runpy modes */
    const char *code;       /* -c: the code string (borrowed from argv) */
} program_t;

/* sys attributes a program may rebind and pyprof relies on afterwards
 * (the reports of `pyprof time` go to sys.stdout). */
static const char *const saved_streams[] = {"stdin", "stdout", "stderr"};
#define SAVED_STREAMS (sizeof(saved_streams) / sizeof(saved_streams[0]))

/* What the run replaced or may replace, to be put back. */
typedef struct {
    PyObject *argv;         /* sys.argv, or NULL if it was unset */
    PyObject *path;         /* the sys.path list object, or NULL */
    PyObject *path_items;   /* a copy of its items, or NULL */
    PyObject *main;         /* sys.modules["__main__"], or NULL */
    PyObject *streams[SAVED_STREAMS];   /* sys.stdin/stdout/stderr */
    PyObject *profile;      /* builtins.profile, or NULL if it was unset */
} saved_state_t;

/* ---------------------------------------------------------------------- */
/* Exceptions */

/* Print `exc` (borrowed) as an uncaught exception, the way PyErr_Print
 * does -- through sys.excepthook, falling back to the built-in display --
 * but without PyErr_Print's exit on SystemExit and without keeping the
 * program alive in sys.last_value. */
static void
display_exception(PyObject *exc)
{
    PyObject *type = (PyObject *)Py_TYPE(exc);                  /* borrowed */
    PyObject *traceback = PyException_GetTraceback(exc);        /* new */
    PyObject *hook = PySys_GetObject("excepthook");             /* borrowed */
    fflush(stdout);
    if (hook != NULL && hook != Py_None) {
        PyObject *result = PyObject_CallFunctionObjArgs(
            hook, type, exc, traceback != NULL ? traceback : Py_None, NULL);
        if (result != NULL) {
            Py_DECREF(result);
            goto done;
        }
        PyObject *hook_exc = pyprof_error_take();                  /* new */
        PySys_WriteStderr("Error in sys.excepthook:\n");
        if (hook_exc != NULL) {
            PyObject *hook_tb = PyException_GetTraceback(hook_exc);
            PyErr_Display((PyObject *)Py_TYPE(hook_exc), hook_exc, hook_tb);
            Py_XDECREF(hook_tb);
            Py_DECREF(hook_exc);
        }
        PySys_WriteStderr("\nOriginal exception was:\n");
    }
    else {
        PySys_WriteStderr("sys.excepthook is missing\n");
    }
    PyErr_Display(type, exc, traceback);
done:
    Py_XDECREF(traceback);
    PyErr_Clear();
}

/* The exit status python gives a SystemExit `exc` (borrowed), printing
 * its code first when that is neither None nor an int, as
 * _Py_HandleSystemExit does. */
static int
system_exit_status(PyObject *exc)
{
    PyObject *code = PyObject_GetAttrString(exc, "code");       /* new */
    if (code == NULL) {
        PyErr_Clear();
        code = Py_NewRef(exc);
    }
    int status;
    if (code == Py_None) {
        status = 0;
    }
    else if (PyLong_Check(code)) {
        long value = PyLong_AsLong(code);
        if (value == -1 && PyErr_Occurred()) {
            PyErr_Clear();
        }
        status = (int)value;
    }
    else {
        PyObject *err = PySys_GetObject("stderr");              /* borrowed */
        if (err != NULL && err != Py_None) {
            if (PyFile_WriteObject(code, err, Py_PRINT_RAW) < 0) {
                PyErr_Clear();
            }
        }
        else if (PyObject_Print(code, stderr, Py_PRINT_RAW) < 0) {
            PyErr_Clear();
        }
        PySys_WriteStderr("\n");
        status = 1;
    }
    Py_DECREF(code);
    return status;
}

/* Report `exc` (borrowed; NULL when none could be taken) as python
 * reports an uncaught exception.  Returns the exit status python would
 * have and sets *outcome.  Leaves no exception set. */
static int
report_exception(PyObject *exc, pyprof_outcome_t *outcome)
{
    if (exc == NULL) {
        *outcome = PYPROF_OUTCOME_EXCEPTION;
        return 1;
    }
    if (PyErr_GivenExceptionMatches(exc, PyExc_SystemExit)) {
        *outcome = PYPROF_OUTCOME_EXIT;
        return system_exit_status(exc);
    }
    display_exception(exc);
    if (PyErr_GivenExceptionMatches(exc, PyExc_KeyboardInterrupt)) {
        *outcome = PYPROF_OUTCOME_INTERRUPT;
        return EXIT_INTERRUPTED;
    }
    *outcome = PYPROF_OUTCOME_EXCEPTION;
    return 1;
}

/* Report an exception raised in the runner's own bookkeeping, where there
 * is no outcome left to change. */
static void
report_internal_error(void)
{
    if (PyErr_Occurred()) {
        PyErr_WriteUnraisable(NULL);
    }
}

/* ---------------------------------------------------------------------- */
/* Building the program */

/* The absolute form of `path` that python gives __file__: the current
 * directory joined to a relative path, without normalising it.  New
 * reference, or NULL with an exception set. */
static PyObject *
absolute_path(const char *path)
{
    char cwd[PATH_MAX];
    if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL) {
        return PyUnicode_DecodeFSDefault(path);
    }
    const char *separator = strcmp(cwd, "/") == 0 ? "" : "/";
    size_t size = strlen(cwd) + strlen(separator) + strlen(path) + 1;
    char *joined = PyMem_Malloc(size);
    if (joined == NULL) {
        return PyErr_NoMemory();
    }
    snprintf(joined, size, "%s%s%s", cwd, separator, path);
    PyObject *result = PyUnicode_DecodeFSDefault(joined);
    PyMem_Free(joined);
    return result;
}

/* sys.path[0] for a script, as python computes it: the directory of the
 * script's real path (all symlinks resolved), "/" for a file at the root.
 * New reference, or NULL with an exception set. */
static PyObject *
script_directory(const char *script)
{
    char resolved[PATH_MAX];
    const char *path = realpath(script, resolved) ? resolved : script;
    const char *slash = strrchr(path, '/');
    size_t len = 0;
    if (slash != NULL) {
        len = (size_t)(slash - path);
        if (len == 0) {
            len = 1;                                /* keep the root "/" */
        }
    }
    return PyUnicode_DecodeFSDefaultAndSize(path, (Py_ssize_t)len);
}

/* sys.path[0] for -m: the current directory, '' if it cannot be read.
 * New reference, or NULL with an exception set. */
static PyObject *
current_directory(void)
{
    char cwd[PATH_MAX];
    return PyUnicode_DecodeFSDefault(getcwd(cwd, sizeof(cwd)) ? cwd : "");
}

/* Non-zero when python would not put the program's directory on sys.path
 * (-I, -P or PYTHONSAFEPATH); -1 with an exception set on failure. */
static int
path0_disabled(void)
{
    PyObject *flags = PySys_GetObject("flags");                 /* borrowed */
    if (flags == NULL) {
        return 0;
    }
    static const char *const names[] = {"isolated", "safe_path"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        PyObject *value = PyObject_GetAttrString(flags, names[i]);
        if (value == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
                return -1;
            }
            PyErr_Clear();                  /* safe_path is new in 3.11 */
            continue;
        }
        int set = PyObject_IsTrue(value);
        Py_DECREF(value);
        if (set != 0) {
            return set;
        }
    }
    return 0;
}

/* An attribute of an already imported module.  New reference, or NULL
 * with an exception set. */
static PyObject *
module_attribute(const char *module_name, const char *attribute)
{
    PyObject *module = PyImport_ImportModule(module_name);      /* new */
    if (module == NULL) {
        return NULL;
    }
    PyObject *value = PyObject_GetAttrString(module, attribute);
    Py_DECREF(module);
    return value;
}

/* A fresh __main__ with the names python's own __main__ starts with
 * (pylifecycle.c add_main_module), and for a script file the ones
 * _PyRun_SimpleFileObject adds.  New reference, or NULL with an exception
 * set. */
static PyObject *
new_main_module(PyObject *file)
{
    PyObject *builtins = NULL, *annotations = NULL, *loader = NULL;
    PyObject *module = PyModule_New("__main__");                /* new */
    if (module == NULL) {
        return NULL;
    }
    PyObject *dict = PyModule_GetDict(module);                  /* borrowed */
    if (PYPROF_MAIN_HAS_ANNOTATIONS) {
        annotations = PyDict_New();
        if (annotations == NULL ||
            PyDict_SetItemString(dict, "__annotations__", annotations) < 0) {
            goto error;
        }
    }
    builtins = PyImport_ImportModule("builtins");
    if (builtins == NULL ||
        PyDict_SetItemString(dict, "__builtins__", builtins) < 0) {
        goto error;
    }
    if (file == NULL) {
        loader = module_attribute("_frozen_importlib", "BuiltinImporter");
    }
    else {
        PyObject *loader_type = module_attribute("_frozen_importlib_external",
                                                 "SourceFileLoader");
        if (loader_type != NULL) {
            loader = PyObject_CallFunction(loader_type, "sO", "__main__",
                                           file);
            Py_DECREF(loader_type);
        }
    }
    if (loader == NULL ||
        PyDict_SetItemString(dict, "__loader__", loader) < 0) {
        goto error;
    }
    if (file != NULL &&
        (PyDict_SetItemString(dict, "__file__", file) < 0 ||
         (PYPROF_MAIN_HAS_CACHED &&
          PyDict_SetItemString(dict, "__cached__", Py_None) < 0))) {
        goto error;
    }
    Py_DECREF(builtins);
    Py_XDECREF(annotations);
    Py_DECREF(loader);
    return module;
error:
    Py_XDECREF(builtins);
    Py_XDECREF(annotations);
    Py_XDECREF(loader);
    Py_DECREF(module);
    return NULL;
}

/* sys.argv for the program: argv0 then the target's arguments.  New
 * reference, or NULL with an exception set. */
static PyObject *
new_argv(const char *argv0, const pyprof_target_t *target)
{
    PyObject *list = PyList_New(target->argc + 1);
    if (list == NULL) {
        return NULL;
    }
    for (int i = 0; i <= target->argc; i++) {
        const char *arg = i == 0 ? argv0 : target->argv[i - 1];
        PyObject *item = PyUnicode_DecodeFSDefault(arg);
        if (item == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, item);                 /* steals item */
    }
    return list;
}

static void
program_clear(program_t *prog)
{
    Py_CLEAR(prog->filename);
    Py_CLEAR(prog->argv);
    Py_CLEAR(prog->path0);
    Py_CLEAR(prog->module);
    Py_CLEAR(prog->name);
    Py_CLEAR(prog->runpy);
}

/* Fill *prog for `target`.  Returns 0, or -1 with an exception set (prog
 * then holds what was built so far; program_clear releases it). */
static int
program_init(program_t *prog, const pyprof_target_t *target)
{
    memset(prog, 0, sizeof(*prog));
    int no_path0 = path0_disabled();
    if (no_path0 < 0) {
        return -1;
    }
    PyObject *file = NULL;      /* __file__ of a script, borrowed */
    switch (target->kind) {
    case PYPROF_TARGET_SCRIPT: {
        prog->filename = absolute_path(target->name);
        if (prog->filename == NULL) {
            return -1;
        }
        /* As python: a path with an importer (a directory, a zip file)
         * is put on sys.path and its __main__ module run. */
        PyObject *importer = PyImport_GetImporter(prog->filename);
        if (importer == NULL) {
            return -1;
        }
        prog->mode = importer == Py_None ? RUN_SOURCE : RUN_MAIN_OF_PATH;
        Py_DECREF(importer);
        if (prog->mode == RUN_SOURCE) {
            prog->script = target->name;
            prog->path0 = script_directory(target->name);
            file = prog->filename;
        }
        else {
            prog->path0 = Py_NewRef(prog->filename);
        }
        prog->argv = new_argv(target->name, target);
        break;
    }
    case PYPROF_TARGET_MODULE:
        prog->mode = RUN_MODULE;
        prog->name = PyUnicode_DecodeFSDefault(target->name);
        if (prog->name == NULL) {
            return -1;
        }
        prog->path0 = current_directory();
        prog->argv = new_argv("-m", target);
        break;
    case PYPROF_TARGET_CODE:
        prog->mode = RUN_SOURCE;
        prog->code = target->name;
        prog->filename = PyUnicode_FromString("<string>");
        prog->path0 = PyUnicode_FromString("");
        prog->argv = new_argv("-c", target);
        break;
    }
    if (prog->argv == NULL || prog->path0 == NULL ||
        (prog->mode == RUN_SOURCE && prog->filename == NULL)) {
        return -1;
    }
    if (no_path0) {
        Py_CLEAR(prog->path0);
    }
    if (prog->mode != RUN_SOURCE) {
        prog->runpy = PyImport_ImportModule("runpy");
        if (prog->runpy == NULL) {
            return -1;
        }
    }
    prog->module = new_main_module(file);
    return prog->module == NULL ? -1 : 0;
}

/* ---------------------------------------------------------------------- */
/* Interpreter state */

static void
saved_state_clear(saved_state_t *saved)
{
    Py_CLEAR(saved->argv);
    Py_CLEAR(saved->path);
    Py_CLEAR(saved->path_items);
    Py_CLEAR(saved->main);
    for (size_t i = 0; i < SAVED_STREAMS; i++) {
        Py_CLEAR(saved->streams[i]);
    }
    Py_CLEAR(saved->profile);
}

/* Remember sys.argv, sys.path and sys.modules["__main__"].  Returns 0, or
 * -1 with an exception set. */
static int
save_state(saved_state_t *saved)
{
    saved->argv = Py_XNewRef(PySys_GetObject("argv"));
    PyObject *path = PySys_GetObject("path");                   /* borrowed */
    if (path != NULL && PyList_Check(path)) {
        saved->path = Py_NewRef(path);
        saved->path_items = PyList_GetSlice(path, 0, PY_SSIZE_T_MAX);
        if (saved->path_items == NULL) {
            return -1;
        }
    }
    saved->main = Py_XNewRef(
        PyDict_GetItemString(PyImport_GetModuleDict(), "__main__"));
    for (size_t i = 0; i < SAVED_STREAMS; i++) {
        saved->streams[i] = Py_XNewRef(PySys_GetObject(saved_streams[i]));
    }
    saved->profile = Py_XNewRef(
        PyDict_GetItemString(PyEval_GetBuiltins(), "profile"));
    return 0;
}

static PyMethodDef profile_passthrough_def;

/* The pass-through `profile` builtin: profile(func) is func; profile()
 * and profile(precision=..., stream=...) -- memory_profiler's spellings --
 * are a pass-through again.  New reference. */
static PyObject *
profile_passthrough(PyObject *self, PyObject *args, PyObject *kwargs)
{
    if (PyTuple_GET_SIZE(args) == 1 && PyCallable_Check(
            PyTuple_GET_ITEM(args, 0))) {
        return Py_NewRef(PyTuple_GET_ITEM(args, 0));
    }
    if (PyTuple_GET_SIZE(args) == 0
        || (PyTuple_GET_SIZE(args) == 1
            && PyTuple_GET_ITEM(args, 0) == Py_None)) {
        return PyCFunction_New(&profile_passthrough_def, NULL);
    }
    PyErr_SetString(PyExc_TypeError, "profile() takes a function");
    return NULL;
}

static PyMethodDef profile_passthrough_def = {
    "profile", (PyCFunction)(void (*)(void))profile_passthrough,
    METH_VARARGS | METH_KEYWORDS,
    "profile(func): func itself (this command does not use @profile).",
};

/* builtins.profile = the pass-through.  0, or -1 with an exception set. */
static int
install_profile_builtin(void)
{
    PyObject *decorator = PyCFunction_New(&profile_passthrough_def, NULL);
    if (decorator == NULL) {
        return -1;
    }
    int rc = PyDict_SetItemString(PyEval_GetBuiltins(), "profile",
                                  decorator);
    Py_DECREF(decorator);
    return rc;
}

/* Give the interpreter the program's sys.argv, sys.path[0] and __main__.
 * Returns 0, or -1 with an exception set (restore_state undoes a part). */
static int
install_program(const program_t *prog, const saved_state_t *saved)
{
    if (PySys_SetObject("argv", prog->argv) < 0) {
        return -1;
    }
    if (prog->path0 != NULL && saved->path != NULL) {
        int rc = PyList_GET_SIZE(saved->path) > 0
                     ? PyList_SetItem(saved->path, 0,       /* steals */
                                      Py_NewRef(prog->path0))
                     : PyList_Insert(saved->path, 0, prog->path0);
        if (rc < 0) {
            return -1;
        }
    }
    if (saved->profile == NULL && install_profile_builtin() < 0) {
        return -1;
    }
    return PyDict_SetItemString(PyImport_GetModuleDict(), "__main__",
                                prog->module);
}

/* Put back what save_state remembered: the same sys.argv, sys.path and
 * standard stream objects, sys.path's items as they were (the program may
 * have inserted its own), and the caller's __main__. */
static void
restore_state(const saved_state_t *saved)
{
    if (PySys_SetObject("argv", saved->argv) < 0) {
        report_internal_error();
    }
    for (size_t i = 0; i < SAVED_STREAMS; i++) {
        if (PySys_GetObject(saved_streams[i]) != saved->streams[i] &&
            PySys_SetObject(saved_streams[i], saved->streams[i]) < 0) {
            report_internal_error();
        }
    }
    if (saved->path != NULL) {
        if ((PySys_GetObject("path") != saved->path &&
             PySys_SetObject("path", saved->path) < 0) ||
            PyList_SetSlice(saved->path, 0, PY_SSIZE_T_MAX,
                            saved->path_items) < 0) {
            report_internal_error();
        }
    }
    PyObject *builtins = PyEval_GetBuiltins();                  /* borrowed */
    if (saved->profile != NULL) {
        if (PyDict_SetItemString(builtins, "profile", saved->profile) < 0) {
            report_internal_error();
        }
    }
    else if (PyDict_GetItemString(builtins, "profile") != NULL &&
             PyDict_DelItemString(builtins, "profile") < 0) {
        report_internal_error();
    }
    PyObject *modules = PyImport_GetModuleDict();               /* borrowed */
    if (saved->main != NULL) {
        if (PyDict_SetItemString(modules, "__main__", saved->main) < 0) {
            report_internal_error();
        }
    }
    else if (PyDict_GetItemString(modules, "__main__") != NULL &&
             PyDict_DelItemString(modules, "__main__") < 0) {
        report_internal_error();
    }
}

/* Non-zero when `stream` says it is closed (python skips flushing it). */
static int
stream_is_closed(PyObject *stream)
{
    PyObject *closed = PyObject_GetAttrString(stream, "closed");
    if (closed == NULL) {
        PyErr_Clear();
        return 0;
    }
    int is_closed = PyObject_IsTrue(closed);
    Py_DECREF(closed);
    if (is_closed < 0) {
        PyErr_Clear();
        return 0;
    }
    return is_closed;
}

/* Report the failed flush of sys.stdout (the exception set) as python
 * does at exit on this version, and clear it. */
static void
report_stdout_flush_failure(PyObject *stream)
{
#ifdef PYPROF_FLUSH_FAILURE_BY_NAME
    (void)stream;
    PyObject *exc = PyErr_GetRaisedException();             /* new */
    if (exc == NULL) {
        return;
    }
    PyException_SetTraceback(exc, Py_None);
    PySys_WriteStderr("Exception ignored while flushing sys.stdout:\n");
    PyErr_DisplayException(exc);
    Py_DECREF(exc);
#else
    PyErr_WriteUnraisable(stream);
#endif
}

/* Flush sys.stdout and sys.stderr, then C's stdio, as python does before
 * it exits (pylifecycle.c flush_std_files): a failure on stdout is
 * reported, one on stderr is not.  Returns 0, or -1 if either failed. */
static int
flush_std_streams(void)
{
    static const char *const names[] = {"stdout", "stderr"};
    int status = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        PyObject *stream = PySys_GetObject(names[i]);           /* borrowed */
        if (stream == NULL || stream == Py_None || stream_is_closed(stream)) {
            continue;
        }
        PyObject *result = PyObject_CallMethod(stream, "flush", NULL);
        if (result == NULL) {
            if (i == 0) {
                report_stdout_flush_failure(stream);
            }
            PyErr_Clear();
            status = -1;
            continue;
        }
        Py_DECREF(result);
    }
    fflush(stdout);
    fflush(stderr);
    return status;
}

/* ---------------------------------------------------------------------- */
/* Running */

/* The whole content of `path` in a PyMem buffer with a NUL after it, its
 * length in *len.  NULL with errno set when it cannot be read. */
static char *
read_file(const char *path, size_t *len)
{
    FILE *file = fopen(path, "rbe");
    if (file == NULL) {
        return NULL;
    }
    size_t used = 0, capacity = 16384;
    char *data = PyMem_Malloc(capacity);
    while (data != NULL) {
        if (capacity - used < 2) {
            char *bigger = capacity <= PY_SSIZE_T_MAX / 2
                               ? PyMem_Realloc(data, capacity * 2)
                               : NULL;
            if (bigger == NULL) {
                PyMem_Free(data);
                data = NULL;
                errno = ENOMEM;
                break;
            }
            data = bigger;
            capacity *= 2;
        }
        size_t n = fread(data + used, 1, capacity - used - 1, file);
        used += n;
        if (n == 0) {
            if (ferror(file)) {
                int saved_errno = errno;
                PyMem_Free(data);
                data = NULL;
                errno = saved_errno;
            }
            break;
        }
    }
    if (data == NULL && errno == 0) {
        errno = ENOMEM;
    }
    int saved_errno = errno;
    fclose(file);
    errno = saved_errno;
    if (data != NULL) {
        data[used] = '\0';
        *len = used;
    }
    return data;
}

/* Print python's one line for a script it cannot read ("can't open file
 * 'x.py': [Errno 2] ...").  0, or -1 with an exception set. */
static int
report_cannot_open(const char *script, int err)
{
    PyObject *name = PyUnicode_DecodeFSDefault(script);     /* new */
    if (name == NULL) {
        return -1;
    }
    PySys_FormatStderr("pyprof: can't open file %R: [Errno %d] %s\n",
                       name, err, strerror(err));
    Py_DECREF(name);
    return 0;
}

/* Compile a script file or -c code.  Returns a new reference to the code
 * object; NULL with an exception set, or NULL with *cannot_open set after
 * printing python's one-line message for a script that cannot be read. */
static PyObject *
compile_program(const program_t *prog, int *cannot_open)
{
    if (prog->script == NULL) {
        /* -c: python compiles the UTF-8 text of the argument and ignores
         * coding cookies in it. */
        PyObject *text = PyUnicode_DecodeFSDefault(prog->code);
        if (text == NULL) {
            return NULL;
        }
        PyObject *code = NULL;
        const char *utf8 = PyUnicode_AsUTF8(text);      /* owned by text */
        if (utf8 != NULL) {
            PyCompilerFlags flags = {.cf_flags = PyCF_IGNORE_COOKIE,
                                     .cf_feature_version = PY_MINOR_VERSION};
            code = Py_CompileStringObject(utf8, prog->filename, Py_file_input,
                                          &flags, -1);
        }
        Py_DECREF(text);
        return code;
    }
    size_t len = 0;
    char *source = read_file(prog->script, &len);
    if (source == NULL) {
        if (report_cannot_open(prog->script, errno) < 0) {
            return NULL;
        }
        *cannot_open = 1;
        return NULL;
    }
    PyObject *code = NULL;
    if (memchr(source, '\0', len) != NULL) {
        PyErr_SetString(PyExc_SyntaxError,
                        "source code cannot contain null bytes");
    }
    else {
        /* Bytes without PyCF_IGNORE_COOKIE: the parser honours a BOM and a
         * PEP 263 coding line, as it does for `python script.py`. */
        code = Py_CompileStringObject(source, prog->filename, Py_file_input,
                                      NULL, -1);
    }
    PyMem_Free(source);
    return code;
}

/* Run what runpy's search found -- details (borrowed) is its (name,
 * spec, code) -- in `globals` (borrowed) as runpy._run_module_as_main
 * does, sys.argv[0] set to the module's file when `alter_argv`.  New
 * reference, or NULL with an exception set. */
static PyObject *
run_found_module(const program_t *prog, PyObject *details, PyObject *globals,
                 int alter_argv)
{
    if (!PyTuple_Check(details) || PyTuple_GET_SIZE(details) != 3) {
        PyErr_SetString(PyExc_RuntimeError,
                        "runpy's module search returned an unexpected "
                        "value");
        return NULL;
    }
    PyObject *spec = PyTuple_GET_ITEM(details, 1);              /* borrowed */
    PyObject *code = PyTuple_GET_ITEM(details, 2);              /* borrowed */
    if (alter_argv) {
        PyObject *origin = PyObject_GetAttrString(spec, "origin");
        PyObject *argv = PySys_GetObject("argv");               /* borrowed */
        int rc = origin == NULL || argv == NULL
                     ? -1 : PySequence_SetItem(argv, 0, origin);
        Py_XDECREF(origin);
        if (rc < 0) {
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_RuntimeError, "lost sys.argv");
            }
            return NULL;
        }
    }
    return PyObject_CallMethod(prog->runpy, "_run_code", "OOOsO", code,
                               globals, Py_None, "__main__", spec);
}

/* runpy's search for the program: -m's module (_get_module_details) or
 * the __main__ of a directory or zip file (_get_main_module_details).
 * New reference to (name, spec, code), or NULL with an exception set;
 * *search_failed tells that the exception is runpy's "not found" (which
 * python reports as "EXECUTABLE: message", exit status 1). */
static PyObject *
find_module(const program_t *prog, int *search_failed)
{
    PyObject *error_type = PyObject_GetAttrString(prog->runpy, "_Error");
    if (error_type == NULL) {
        return NULL;
    }
    PyObject *details =
        prog->mode == RUN_MODULE
            ? PyObject_CallMethod(prog->runpy, "_get_module_details", "OO",
                                  prog->name, error_type)
            : PyObject_CallMethod(prog->runpy, "_get_main_module_details",
                                  "O", error_type);
    if (details == NULL) {
        *search_failed = PyErr_ExceptionMatches(error_type);
    }
    Py_DECREF(error_type);
    return details;
}

/* -m: find the module as runpy._run_module_as_main does, set sys.argv[0]
 * to its file and run it in `globals` (borrowed).  New reference, or NULL
 * with an exception set; *search_failed tells that the exception says the
 * module could not be found. */
static PyObject *
run_module(const program_t *prog, PyObject *globals, int *search_failed)
{
    PyObject *details = find_module(prog, search_failed);
    if (details == NULL) {
        return NULL;
    }
    PyObject *result = run_found_module(prog, details, globals, 1);
    Py_DECREF(details);
    return result;
}

/* Print runpy's "not found" exception `exc` (borrowed) as python does
 * (runpy exits with "%s: %s" % (sys.executable, exc)). */
static void
report_not_found(PyObject *exc)
{
    PyObject *executable = PySys_GetObject("executable");      /* borrowed */
    if (executable != NULL) {
        PySys_FormatStderr("%S: %S\n", executable, exc);
    }
    else {
        PySys_FormatStderr("pyprof: %S\n", exc);
    }
}

/* -m NAME whose top-level package no finder knows: runpy's search fails
 * without importing anything (nothing of the program exists to run), so
 * it is done before the hooks, and python's message printed: "EXECUTABLE:
 * No module named NAME", exit status 1.  Returns 1 then (*exit_code set),
 * 0 when the program can start or is no module, -1 with an exception set.
 * A dotted name's parents are not imported here: that is the program's
 * work, profiled. */
static int
module_missing(const program_t *prog, int *exit_code)
{
    if (prog->mode != RUN_MODULE) {
        return 0;
    }
    PyObject *top = NULL, *util = NULL, *spec = NULL;
    int missing = -1;
    Py_ssize_t dot = PyUnicode_FindChar(prog->name, '.', 0,
                                        PyUnicode_GET_LENGTH(prog->name), 1);
    if (dot == -2) {
        return -1;
    }
    top = dot < 0 ? Py_NewRef(prog->name)
                  : PyUnicode_Substring(prog->name, 0, dot);
    util = PyImport_ImportModule("importlib.util");
    if (top == NULL || util == NULL) {
        goto done;
    }
    spec = PyUnicode_GET_LENGTH(top) == 0
               ? Py_NewRef(Py_None)
               : PyObject_CallMethod(util, "find_spec", "O", top);
    if (spec == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_ImportError)
            && !PyErr_ExceptionMatches(PyExc_ValueError)) {
            goto done;
        }
        PyErr_Clear();      /* runpy's search below says it as python */
    }
    else if (spec != Py_None) {
        missing = 0;
        goto done;
    }
    int search_failed = 0;
    PyObject *details = find_module(prog, &search_failed);
    if (details != NULL) {      /* found after all: let the program run */
        Py_DECREF(details);
        missing = 0;
        goto done;
    }
    if (!search_failed) {
        goto done;
    }
    PyObject *exc = pyprof_error_take();
    report_not_found(exc);
    Py_XDECREF(exc);
    *exit_code = 1;
    missing = 1;
done:
    Py_XDECREF(spec);
    Py_XDECREF(util);
    Py_XDECREF(top);
    return missing;
}

/* Run the installed program between the hooks and report how it ended. */
static pyprof_outcome_t
execute(const program_t *prog, const pyprof_run_hooks_t *hooks,
        int *exit_code)
{
    pyprof_outcome_t outcome = PYPROF_OUTCOME_OK;
    PyObject *code = NULL, *result = NULL, *exc = NULL;
    int cannot_open = 0, search_failed = 0;
    if (prog->mode == RUN_SOURCE) {
        code = compile_program(prog, &cannot_open);
        if (code == NULL) {
            if (cannot_open) {
                *exit_code = EXIT_CANNOT_OPEN;
                return PYPROF_OUTCOME_NOT_FOUND;
            }
            exc = pyprof_error_take();
            *exit_code = report_exception(exc, &outcome);
            Py_XDECREF(exc);
            return outcome;
        }
    }
    /* A directory's __main__ is found before the program starts: the
     * search runs no code of the program's, and when there is none the
     * command has nothing to report (python: "can't find '__main__'
     * module in 'DIR'", exit status 1). */
    int missing = module_missing(prog, exit_code);
    if (missing != 0) {
        if (missing < 0) {
            exc = pyprof_error_take();
            *exit_code = report_exception(exc, &outcome);
            Py_XDECREF(exc);
            return outcome;
        }
        return PYPROF_OUTCOME_NOT_FOUND;
    }
    PyObject *main_details = NULL;
    if (prog->mode == RUN_MAIN_OF_PATH) {
        main_details = find_module(prog, &search_failed);
        if (main_details == NULL) {
            exc = pyprof_error_take();
            if (search_failed) {
                report_not_found(exc);
                *exit_code = 1;
                outcome = PYPROF_OUTCOME_NOT_FOUND;
            }
            else {
                *exit_code = report_exception(exc, &outcome);
            }
            Py_XDECREF(exc);
            return outcome;
        }
    }
    if (hooks != NULL && hooks->start != NULL &&
        hooks->start(hooks->ctx) < 0) {
        Py_XDECREF(main_details);
        Py_XDECREF(code);
        exc = pyprof_error_take();
        *exit_code = report_exception(exc, &outcome);
        Py_XDECREF(exc);
        return outcome;
    }

    PyObject *globals = PyModule_GetDict(prog->module);         /* borrowed */
    switch (prog->mode) {
    case RUN_SOURCE:
        result = PyEval_EvalCode(code, globals, globals);
        break;
    case RUN_MODULE:
        result = run_module(prog, globals, &search_failed);
        break;
    case RUN_MAIN_OF_PATH:
        result = run_found_module(prog, main_details, globals, 0);
        break;
    }
    if (result == NULL) {
        exc = pyprof_error_take();
    }
    if (hooks != NULL && hooks->stop != NULL) {
        hooks->stop(hooks->ctx);
    }

    if (exc == NULL) {
        *exit_code = 0;
    }
    else if (search_failed) {
        report_not_found(exc);
        outcome = PYPROF_OUTCOME_NOT_FOUND;
        *exit_code = 1;
    }
    else {
        *exit_code = report_exception(exc, &outcome);
    }
    Py_XDECREF(exc);
    Py_XDECREF(result);
    Py_XDECREF(main_details);
    Py_XDECREF(code);
    return outcome;
}

/* The program `prog` names cannot start (see
 * pyprof_runner_program_missing): 1 after python's message, 0 when it can
 * or is -c code, -1 with an exception set. */
static int
program_missing(const program_t *prog, int *exit_code)
{
    if (prog->mode == RUN_MODULE) {
        return module_missing(prog, exit_code);
    }
    if (prog->mode == RUN_SOURCE) {
        if (prog->script == NULL || access(prog->script, R_OK) == 0) {
            return 0;
        }
        if (report_cannot_open(prog->script, errno) < 0) {
            return -1;
        }
        *exit_code = EXIT_CANNOT_OPEN;
        return 1;
    }
    int search_failed = 0;
    PyObject *details = find_module(prog, &search_failed);      /* new */
    if (details != NULL) {
        Py_DECREF(details);
        return 0;
    }
    if (!search_failed) {
        return -1;
    }
    PyObject *exc = pyprof_error_take();
    report_not_found(exc);
    Py_XDECREF(exc);
    *exit_code = 1;
    return 1;
}

int
pyprof_runner_program_missing(const pyprof_target_t *target, int *exit_code)
{
    if (target->kind == PYPROF_TARGET_CODE) {
        return 0;
    }
    program_t prog;
    saved_state_t saved;
    int missing = 0;
    memset(&saved, 0, sizeof(saved));
    if (program_init(&prog, target) == 0 && save_state(&saved) == 0) {
        if (install_program(&prog, &saved) == 0) {
            missing = program_missing(&prog, exit_code) == 1;
        }
        restore_state(&saved);
    }
    saved_state_clear(&saved);
    program_clear(&prog);
    PyErr_Clear();      /* any other failure: the run itself reports it */
    return missing;
}

pyprof_outcome_t
pyprof_runner_run(const pyprof_target_t *target,
                  const pyprof_run_hooks_t *hooks, int *exit_code)
{
    program_t prog;
    saved_state_t saved;
    pyprof_outcome_t outcome = PYPROF_OUTCOME_EXCEPTION;
    memset(&saved, 0, sizeof(saved));
    if (program_init(&prog, target) < 0 || save_state(&saved) < 0) {
        goto failed;
    }
    if (install_program(&prog, &saved) < 0) {
        restore_state(&saved);
        goto failed;
    }
    outcome = execute(&prog, hooks, exit_code);
    /* The program's own streams, as python flushes them at exit. */
    if (flush_std_streams() < 0) {
        *exit_code = EXIT_FLUSH_FAILED;
    }
    restore_state(&saved);
    goto done;
failed:
    {
        PyObject *exc = pyprof_error_take();
        *exit_code = report_exception(exc, &outcome);
        Py_XDECREF(exc);
    }
    flush_std_streams();
done:
    saved_state_clear(&saved);
    program_clear(&prog);
    PyErr_Clear();
    return outcome;
}

int
pyprof_runner_parse_target(const char *command, int argc, char **argv,
                           pyprof_target_t *target)
{
    if (argc < 1) {
        fprintf(stderr,
                "%s: no program given: a script, -m module or -c code "
                "(try '%s --help')\n",
                command, command);
        return -1;
    }
    const char *arg = argv[0];
    int used = 1;
    if (arg[0] == '-' && (arg[1] == 'm' || arg[1] == 'c')) {
        target->kind = arg[1] == 'm' ? PYPROF_TARGET_MODULE
                                     : PYPROF_TARGET_CODE;
        if (arg[2] != '\0') {
            target->name = arg + 2;
        }
        else if (argc >= 2) {
            target->name = argv[1];
            used = 2;
        }
        else {
            fprintf(stderr, "%s: argument expected for the %s option\n",
                    command, arg);
            return -1;
        }
    }
    else if (strcmp(arg, "-") == 0) {
        fprintf(stderr,
                "%s: cannot read the program from standard input; give a "
                "script, -m module or -c code\n",
                command);
        return -1;
    }
    else if (arg[0] == '-') {
        fprintf(stderr, "%s: unknown option '%s' (try '%s --help')\n",
                command, arg, command);
        return -1;
    }
    else {
        target->kind = PYPROF_TARGET_SCRIPT;
        target->name = arg;
    }
    target->argc = argc - used;
    target->argv = argv + used;
    return 0;
}

void
pyprof_runner_print_error(const char *prefix)
{
    PyObject *exc = pyprof_error_take();                           /* new */
    if (exc == NULL) {
        PySys_WriteStderr("%s\n", prefix);
        return;
    }
    PySys_FormatStderr("%s: %s: %S\n", prefix, Py_TYPE(exc)->tp_name, exc);
    Py_DECREF(exc);
    PyErr_Clear();
}
