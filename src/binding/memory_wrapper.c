/* memory_wrapper.c - the call wrapper of the memory decorators.
 *
 * A heap type created once per process on first use: it needs no module
 * state (the hooks are in the instance), and wrappers can outlive the
 * module's state anyway (a decorated function stored by the program).
 */
#include "memory_wrapper.h"

#include "../engine/alloc_hook.h"

#include <stddef.h>
#include <structmember.h>

#include "../engine/compat.h"
#include "../engine/cstack.h"

/* C recursion levels a call through the wrapper costs on 3.12/3.13 (the
 * evaluation it enters counts twice: measured, a recursion of depth N
 * through it with no credit stops at N = C limit / 2). */
#define WRAPPER_C_LEVELS 2

typedef struct {
    PyObject_HEAD
    PyObject *func;                     /* strong */
    const pyprof_call_hooks_t *hooks;   /* static storage */
    PyObject *dict;                     /* __dict__ (update_wrapper) */
    vectorcallfunc vectorcall;
} WrapperObject;

/* The type, created on first use.  Global because wrappers are made from
 * the CLI and the API alike; protected by the GIL. */
static PyTypeObject *wrapper_type;

static PyObject *
wrapper_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf,
                   PyObject *kwnames)
{
    WrapperObject *self = (WrapperObject *)callable;
    /* The hooks are pyprof's own code: their allocations (a session, the
     * report) are not the program's. */
    pyprof_alloc_suspend();
    void *token = self->hooks->enter(self->func);
    pyprof_alloc_resume();
    PyThreadState *tstate = PyThreadState_Get();
    /* the program's recursion limit, not one lowered by this wrapper */
    int credit = pyprof_cstack_deep()
                     ? 0 : pyprof_c_recursion_credit(tstate, WRAPPER_C_LEVELS);
    PyObject *result = PyObject_Vectorcall(self->func, args, nargsf,
                                           kwnames);
    pyprof_c_recursion_credit(tstate, -credit);
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    pyprof_alloc_suspend();
    self->hooks->exit(self->func, token);
    pyprof_alloc_resume();
    PyErr_Restore(type, value, traceback);
    return result;
}

static PyObject *
wrapper_descr_get(PyObject *self, PyObject *obj, PyObject *type)
{
    if (obj == NULL || obj == Py_None) {
        return Py_NewRef(self);
    }
    return PyMethod_New(self, obj);
}

static int
wrapper_traverse(WrapperObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->func);
    Py_VISIT(self->dict);
    return 0;
}

static int
wrapper_clear(WrapperObject *self)
{
    Py_CLEAR(self->func);
    Py_CLEAR(self->dict);
    return 0;
}

static void
wrapper_dealloc(WrapperObject *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    wrapper_clear(self);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

static PyObject *
wrapper_repr(WrapperObject *self)
{
    return PyUnicode_FromFormat("<pyprof memory wrapper of %R>", self->func);
}

static PyMemberDef wrapper_members[] = {
    {"__dictoffset__", T_PYSSIZET, offsetof(WrapperObject, dict), READONLY},
    {"__vectorcalloffset__", T_PYSSIZET,
     offsetof(WrapperObject, vectorcall), READONLY},
    {NULL},
};

static PyGetSetDef wrapper_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL,
     NULL},
    {NULL},
};

static PyType_Slot wrapper_slots[] = {
    {Py_tp_getset, wrapper_getset},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_descr_get, wrapper_descr_get},
    {Py_tp_traverse, wrapper_traverse},
    {Py_tp_clear, wrapper_clear},
    {Py_tp_dealloc, wrapper_dealloc},
    {Py_tp_repr, wrapper_repr},
    {Py_tp_members, wrapper_members},
    {0, NULL},
};

static PyType_Spec wrapper_spec = {
    .name = "pyprof._pyprof.MemoryWrapper",
    .basicsize = sizeof(WrapperObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC |
             Py_TPFLAGS_HAVE_VECTORCALL,
    .slots = wrapper_slots,
};

PyObject *
pyprof_call_wrapper_new(PyObject *func, const pyprof_call_hooks_t *hooks)
{
    if (!PyCallable_Check(func)) {
        PyErr_Format(PyExc_TypeError, "profile() takes a callable, not %.100s",
                     Py_TYPE(func)->tp_name);
        return NULL;
    }
    if (wrapper_type == NULL) {
        wrapper_type = (PyTypeObject *)PyType_FromSpec(&wrapper_spec);
        if (wrapper_type == NULL) {
            return NULL;
        }
    }
    WrapperObject *self = PyObject_GC_New(WrapperObject, wrapper_type);
    if (self == NULL) {
        return NULL;
    }
    self->func = Py_NewRef(func);
    self->hooks = hooks;
    self->dict = NULL;
    self->vectorcall = wrapper_vectorcall;
    PyObject_GC_Track(self);
    PyObject *functools = PyImport_ImportModule("functools");
    PyObject *done = NULL;
    if (functools != NULL) {
        done = PyObject_CallMethod(functools, "update_wrapper", "OO", self,
                                   func);
        Py_DECREF(functools);
    }
    if (done == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    Py_DECREF(done);
    return (PyObject *)self;
}
