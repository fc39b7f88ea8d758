/* module.c - the pyprof._pyprof extension module: init and main().
 *
 * Multi-phase init; the Profile type is a heap type created per module
 * (profile_type.c).  main(argv) hands the command line to the C CLI.
 * The module needs the GIL (Py_MOD_GIL_USED; why: engine/compat.h).
 */
#include <Python.h>

#include "../cli/cli.h"
#include "../engine/compat.h"
#include "heap_api.h"
#include "lines_type.h"
#include "memory_binding.h"
#include "profile_type.h"

/* main(argv: list[str]) -> int: run the pyprof command line. */
static PyObject *
module_main(PyObject *module, PyObject *argv_list)
{
    PyObject *seq = PySequence_Fast(argv_list, "main() takes a list of str");
    if (seq == NULL) {
        return NULL;
    }
    Py_ssize_t argc = PySequence_Fast_GET_SIZE(seq);
    PyObject **encoded = PyMem_Calloc((size_t)argc + 1, sizeof(PyObject *));
    char **argv = PyMem_Calloc((size_t)argc + 1, sizeof(char *));
    PyObject *result = NULL;
    if (encoded == NULL || argv == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    for (Py_ssize_t i = 0; i < argc; i++) {
        encoded[i] = PyUnicode_EncodeFSDefault(
            PySequence_Fast_GET_ITEM(seq, i));
        if (encoded[i] == NULL) {
            goto error;
        }
        argv[i] = PyBytes_AS_STRING(encoded[i]);
    }
    fflush(stdout);
    int status = pyprof_cli_main((int)argc, argv);
    fflush(stdout);
    fflush(stderr);
    result = PyLong_FromLong(status);
error:
    if (encoded != NULL) {
        for (Py_ssize_t i = 0; i < argc; i++) {
            Py_XDECREF(encoded[i]);
        }
    }
    PyMem_Free(encoded);
    PyMem_Free(argv);
    Py_DECREF(seq);
    return result;
}

#if PYPROF_FREE_THREADED_BUILD
/* Whether the GIL was enabled when the import began (PyInit__pyprof runs
 * before the interpreter reads the module's Py_mod_gil slot): 1, 0, or -1
 * unknown.  Written once, under the import lock. */
static int gil_enabled_before_import = -1;

/* On a free-threaded build, one line on stderr saying what importing
 * pyprof did to the GIL, and why; nothing when the GIL was on already. */
static void
report_gil(void)
{
    int now = pyprof_gil_enabled();
    if (gil_enabled_before_import != 0 || now < 0) {
        return;
    }
    if (now) {
        PySys_WriteStderr(
            "pyprof: re-enabled the GIL, which pyprof needs: its engines' "
            "shared tables and per-thread stacks have no other lock "
            "(free-threaded CPython is not supported yet)\n");
    }
    else {
        PySys_WriteStderr(
            "pyprof: running without the GIL (PYTHON_GIL=0 or -X gil=0), "
            "which pyprof needs: its engines' shared tables and per-thread "
            "stacks have no other lock; results may be wrong and the "
            "process may crash\n");
    }
}
#endif

static int
module_exec(PyObject *module)
{
#if PYPROF_FREE_THREADED_BUILD
    report_gil();
#endif
    PyTypeObject *profile_type = pyprof_profile_type_create(module);
    if (profile_type == NULL) {
        return -1;
    }
    int rc = PyModule_AddType(module, profile_type);
    Py_DECREF(profile_type);
    if (rc < 0) {
        return -1;
    }
    PyTypeObject *lines_type = pyprof_lines_type_create(module);
    if (lines_type == NULL) {
        return -1;
    }
    rc = PyModule_AddType(module, lines_type);
    Py_DECREF(lines_type);
    if (rc < 0) {
        return -1;
    }
    if (pyprof_heap_api_add(module) < 0 ||
        pyprof_memory_alloc_add_functions(module) < 0 ||
        pyprof_memory_usage_add_functions(module) < 0 ||
        pyprof_memory_profile_add_functions(module) < 0) {
        return -1;
    }
    return 0;
}

static PyMethodDef module_methods[] = {
    {"main", module_main, METH_O,
     "main(argv) -> int\n\nRun the pyprof command line; argv[0] is the "
     "program name.  Returns the exit status."},
    {"profile", pyprof_lines_profile_decorator, METH_O,
     "profile(func) -> func\n\nkernprof's @profile: profile func line by "
     "line under the line profiler that is recording, and return func "
     "itself; without one, do nothing."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
#if PYPROF_HAS_MOD_GIL
    {Py_mod_gil, Py_MOD_GIL_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "pyprof._pyprof",
    .m_doc = "pyprof's C engine, file formats, reports and CLI.",
    .m_size = 0,
    .m_methods = module_methods,
    .m_slots = module_slots,
};

PyMODINIT_FUNC
PyInit__pyprof(void)
{
#if PYPROF_FREE_THREADED_BUILD
    gil_enabled_before_import = pyprof_gil_enabled();
#endif
    return PyModuleDef_Init(&module_def);
}
