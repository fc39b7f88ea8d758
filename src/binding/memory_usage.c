/* memory_usage.c - pyprof.memory_usage(), memory_profiler's function.
 *
 * memory_usage(proc=-1, interval=0.1, timeout=None, timestamps=False,
 *              include_children=False, max_usage=False, retval=False)
 * samples memory (RSS, MiB) with the C sampler thread (memory/rss_sampler.c):
 *   - proc a callable, or a tuple (f, args[, kwargs]): while f runs in
 *     this thread, so the samples cover exactly the call;
 *   - proc -1 / None / this pid: this process, once, or every interval
 *     for `timeout` seconds (the GIL released meanwhile);
 *   - proc another pid: that process, until it ends or `timeout`.
 * Returns a list of MiB values ((MiB, time) pairs with timestamps), their
 * maximum with max_usage, and (that, f's result) with retval -- as
 * memory_profiler returns them.
 */
#include <Python.h>

#include <errno.h>
#include <math.h>
#include <time.h>
#include <unistd.h>

#include "../memory/rss.h"
#include "../memory/rss_sampler.h"
#include "memory_binding.h"

/* The samples as memory_profiler's return value: a new reference. */
static PyObject *
samples_result(pyprof_rss_sampler_t *sampler, int timestamps, int max_usage)
{
    size_t count;
    const pyprof_sample_t *samples = pyprof_rss_sampler_samples(sampler, &count);
    if (max_usage) {
        double top = 0;
        double at = 0;
        for (size_t i = 0; i < count; i++) {
            double mib = pyprof_rss_mib(samples[i].rss);
            if (mib > top) {
                top = mib;
                at = samples[i].timestamp;
            }
        }
        return timestamps ? Py_BuildValue("(dd)", top, at)
                          : PyFloat_FromDouble(top);
    }
    PyObject *list = PyList_New((Py_ssize_t)count);
    if (list == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        double mib = pyprof_rss_mib(samples[i].rss);
        PyObject *item = timestamps
                             ? Py_BuildValue("(dd)", mib,
                                             samples[i].timestamp)
                             : PyFloat_FromDouble(mib);
        if (item == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, item);
    }
    return list;
}

static PyObject *
memory_usage(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"proc", "interval", "timeout", "timestamps",
                               "include_children", "max_usage", "retval",
                               NULL};
    PyObject *proc = Py_None, *timeout_obj = Py_None;
    double interval = 0.1;
    int timestamps = 0, include_children = 0, max_usage = 0, retval = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OdOpppp:memory_usage",
                                     keywords, &proc, &interval,
                                     &timeout_obj, &timestamps,
                                     &include_children, &max_usage,
                                     &retval)) {
        return NULL;
    }
    if (!isfinite(interval) || interval <= 0) {
        PyErr_SetString(PyExc_ValueError,
                        "interval must be a positive number of seconds");
        return NULL;
    }
    double timeout = -1;
    if (timeout_obj != Py_None) {
        timeout = PyFloat_AsDouble(timeout_obj);
        if (timeout == -1 && PyErr_Occurred()) {
            return NULL;
        }
        if (!(timeout >= 0)) {
            PyErr_SetString(PyExc_ValueError, "timeout must be >= 0");
            return NULL;
        }
    }

    PyObject *func = NULL, *fargs = NULL, *fkwargs = NULL;
    long pid = 0;
    if (PyTuple_Check(proc) && PyTuple_GET_SIZE(proc) >= 1 &&
        PyTuple_GET_SIZE(proc) <= 3) {
        func = PyTuple_GET_ITEM(proc, 0);
        if (PyTuple_GET_SIZE(proc) >= 2) {
            fargs = PySequence_Tuple(PyTuple_GET_ITEM(proc, 1));
            if (fargs == NULL) {
                return NULL;
            }
        }
        if (PyTuple_GET_SIZE(proc) == 3) {
            fkwargs = PyTuple_GET_ITEM(proc, 2);
            if (!PyDict_Check(fkwargs)) {
                Py_XDECREF(fargs);
                PyErr_SetString(PyExc_TypeError,
                                "memory_usage: kwargs must be a dict");
                return NULL;
            }
        }
    }
    else if (PyCallable_Check(proc)) {
        func = proc;
    }
    else if (proc != Py_None) {
        pid = PyLong_AsLong(proc);
        if (pid == -1 && PyErr_Occurred()) {
            PyErr_Format(PyExc_TypeError, "memory_usage: proc must be -1, "
                         "a pid, a callable or (f, args, kwargs), not %.100s",
                         Py_TYPE(proc)->tp_name);
            return NULL;
        }
        if (pid == -1 || pid == (long)getpid()) {
            pid = 0;
        }
        else if (pid <= 0) {
            PyErr_Format(PyExc_ValueError, "memory_usage: no process %ld",
                         pid);
            return NULL;
        }
    }
    if (func != NULL && !PyCallable_Check(func)) {
        Py_XDECREF(fargs);
        PyErr_SetString(PyExc_TypeError, "memory_usage: f is not callable");
        return NULL;
    }

    pyprof_rss_sampler_config_t cfg = {(pid_t)pid, interval, include_children,
                                   NULL};
    pyprof_rss_sampler_t *sampler = pyprof_rss_sampler_start(&cfg);
    if (sampler == NULL) {
        Py_XDECREF(fargs);
        if (errno == ESRCH) {
            return PyErr_Format(PyExc_ProcessLookupError,
                                "memory_usage: no process %ld", pid);
        }
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    PyObject *result = NULL, *value = NULL;
    if (func != NULL) {
        if (fargs == NULL) {
            fargs = PyTuple_New(0);
        }
        value = fargs != NULL ? PyObject_Call(func, fargs, fkwargs) : NULL;
        pyprof_rss_sampler_stop(sampler);
        if (value == NULL) {
            goto done;
        }
    }
    else if (pid == 0 && timeout < 0) {
        /* One reading, as memory_profiler takes: the first sample. */
        pyprof_rss_sampler_stop(sampler);
        size_t count;
        const pyprof_sample_t *first = pyprof_rss_sampler_samples(sampler,
                                                              &count);
        double mib = pyprof_rss_mib(first[0].rss);
        double at = first[0].timestamp;
        if (max_usage) {
            result = timestamps ? Py_BuildValue("(dd)", mib, at)
                                : PyFloat_FromDouble(mib);
        }
        else {
            result = timestamps ? Py_BuildValue("[(dd)]", mib, at)
                                : Py_BuildValue("[d]", mib);
        }
        goto done;
    }
    else {
        Py_BEGIN_ALLOW_THREADS
        if (pid == 0) {
            struct timespec pause = {(time_t)timeout,
                                     (long)((timeout - floor(timeout)) *
                                            1e9)};
            while (nanosleep(&pause, &pause) != 0 && errno == EINTR) {
            }
        }
        else {
            pyprof_rss_sampler_wait(sampler, timeout);
        }
        Py_END_ALLOW_THREADS
        pyprof_rss_sampler_stop(sampler);
    }
    result = samples_result(sampler, timestamps, max_usage);
    if (result != NULL && retval) {
        PyObject *pair = PyTuple_Pack(2, result, value != NULL ? value
                                                                : Py_None);
        Py_SETREF(result, pair);
    }
done:
    pyprof_rss_sampler_free(sampler);
    Py_XDECREF(fargs);
    Py_XDECREF(value);
    return result;
}

static PyMethodDef usage_methods[] = {
    {"memory_usage", (PyCFunction)(void (*)(void))memory_usage,
     METH_VARARGS | METH_KEYWORDS,
     "memory_usage(proc=-1, interval=0.1, timeout=None, timestamps=False,\n"
     "             include_children=False, max_usage=False, retval=False)\n"
     "\n"
     "Memory (RSS, MiB) of a call, this process or another one, sampled\n"
     "every interval seconds by a thread that does not hold the GIL, as\n"
     "memory_profiler.memory_usage returns it."},
    {NULL, NULL, 0, NULL},
};

int
pyprof_memory_usage_add_functions(PyObject *module)
{
    return PyModule_AddFunctions(module, usage_methods);
}
