/* hook_install.h - installing interpreter hooks, shared by the function
 * profiler (tracer_*.c) and the line engine (src/lines/).
 *
 * sys.monitoring's module and tool ids (3.12+), and threading's
 * setprofile/settrace, through which threads started later get a C hook.
 * All functions require the GIL.
 */
#ifndef PYPROF_HOOK_INSTALL_H
#define PYPROF_HOOK_INSTALL_H

#include <Python.h>

#include "compat.h"

/* sys.monitoring: a new reference, or NULL with an exception set. */
PyObject *pyprof_monitoring_module(void);

/* Claim the first free tool id of `ids` (n of them) under `name`.
 * Returns the id, or -1 with an exception set (RuntimeError naming
 * `what` when every id is taken). */
int pyprof_monitoring_claim_tool(PyObject *monitoring, const int *ids,
                                 size_t n, const char *name,
                                 const char *what);

/* threading.<setter>(func), setter being "setprofile" or "settrace".
 * Returns 0, or -1 with an exception set. */
int pyprof_threading_set_hook(const char *setter, PyObject *func);


/* threading.<setter>(func) put off until the program imports threading:
 * importing it for pyprof would be an import in the middle of the
 * program (the program would find it in sys.modules, a heap census would
 * show its functions as grown).  Until then no thread can be started
 * through it, so the owner calls pyprof_thread_hook_retry at each call
 * event it sees.  `func` is the owner's, kept alive while `due` or `set`.
 * Protected by the GIL. */
typedef struct {
    const char *setter;     /* "setprofile" or "settrace" */
    PyObject *func;         /* borrowed */
    int due;                /* to be set once threading is imported */
    int set;                /* threading's hook of that kind is func */
    Py_ssize_t modules_seen; /* len(sys.modules) when last tried, -1 to
                                try at the next call (threading half
                                imported): a call event costs a compare
                                until an import changes sys.modules */
} pyprof_thread_hook_t;

/* Want threading.<setter>(func) from now on, set at once if threading is
 * imported.  Never raises; the pending exception, if any, is kept. */
void pyprof_thread_hook_want(pyprof_thread_hook_t *hook, const char *setter,
                             PyObject *func);

/* The set of pyprof_thread_hook_want, if still due and threading is now
 * imported (far enough to have the setter).  Never raises; the pending
 * exception, if any, is kept. */
void pyprof_thread_hook_try(pyprof_thread_hook_t *hook);

/* len(sys.modules), or -2 when it is not a dict (try every time). */
static inline Py_ssize_t
pyprof_modules_size(void)
{
    PyObject *modules = PyImport_GetModuleDict();   /* borrowed */
    return modules != NULL && PyDict_Check(modules)
               ? PyDict_GET_SIZE(modules) : -2;
}

static inline void
pyprof_thread_hook_retry(pyprof_thread_hook_t *hook)
{
    if (hook->due && pyprof_modules_size() != hook->modules_seen) {
        pyprof_thread_hook_try(hook);
    }
}

/* threading.<setter>(None) if ours was set; nothing is due any more.
 * Never raises; the pending exception, if any, is kept. */
void pyprof_thread_hook_drop(pyprof_thread_hook_t *hook);

#if !PYPROF_USE_MONITORING
/* Below 3.12: the PEP 523 frame hook of `tstate`'s interpreter gives way
 * for good (a thread went deep, engine/cstack.h): the default frame
 * evaluation comes back and `each` runs on every thread of the
 * interpreter, its hook installs bracketed as pyprof's own
 * (hook_guard.h).  The pending exception, if any (a throw() into a
 * generator), is kept. */
void pyprof_frame_hook_give_way(PyThreadState *tstate,
                                void (*each)(PyThreadState *));

/* Below 3.12: on every thread of the calling thread's interpreter except
 * `skip` (may be NULL) whose profile function (trace == 0) or trace
 * function (trace != 0) is `from`, install `to` (NULL removes it).  This
 * is what 3.12's PyEval_Set*AllThreads do, through _PyEval_SetProfile /
 * _PyEval_SetTrace, which take any thread state and are exported on 3.10
 * and 3.11.  An audit hook's refusal is cleared (that thread keeps what
 * it had); never raises. */
void pyprof_threads_swap_hook(PyThreadState *skip, int trace,
                              Py_tracefunc from, Py_tracefunc to);
#endif

#endif
