/*
 * module.c: the chute._chute extension module: its types (Future,
 * Producer), the objects of the Python side it calls (set once by
 * _setup), the mapping of chute_err codes to exceptions (through
 * chute.errors), and the fork hook.
 */
#include "chute_py.h"

unsigned chpy_fork_gen = 1;
struct chpy_refs chpy;

PyObject *chpy_raise(int code, const char *msg)
{
    PyObject *e;

    if (!chpy.chute_error) {
        PyErr_SetString(PyExc_RuntimeError, "chute._chute is not set up");
        return NULL;
    }
    e = PyObject_CallFunction(chpy.chute_error, "is", code,
                              msg ? msg : chute_errmsg());
    if (!e)
        return NULL;
    PyErr_SetObject((PyObject *)Py_TYPE(e), e);
    Py_DECREF(e);
    return NULL;
}

/* os.register_at_fork(after_in_child=...): producers and futures made
 * before the fork see a new generation and act on it at their next use. */
static PyObject *after_fork_child(PyObject *mod, PyObject *unused)
{
    (void)mod;
    (void)unused;
    if (++chpy_fork_gen == 0)
        chpy_fork_gen = 1;
    Py_RETURN_NONE;
}

/* _setup(chute_error, kafka_error, RecordMetadata, TopicPartition,
 *        callback_failed, BrokerResponseError) */
static PyObject *setup(PyObject *mod, PyObject *args)
{
    PyObject *ce, *ke, *rm, *tp, *cf, *be, *functools;

    (void)mod;
    if (!PyArg_ParseTuple(args, "OOOOOO:_setup", &ce, &ke, &rm, &tp, &cf, &be))
        return NULL;
    functools = PyImport_ImportModule("functools");
    if (!functools)
        return NULL;
    Py_XSETREF(chpy.partial, PyObject_GetAttrString(functools, "partial"));
    Py_DECREF(functools);
    if (!chpy.partial)
        return NULL;
    Py_XSETREF(chpy.chute_error, Py_NewRef(ce));
    Py_XSETREF(chpy.kafka_error, Py_NewRef(ke));
    Py_XSETREF(chpy.record_metadata, Py_NewRef(rm));
    Py_XSETREF(chpy.topic_partition, Py_NewRef(tp));
    Py_XSETREF(chpy.callback_failed, Py_NewRef(cf));
    Py_XSETREF(chpy.broker_error, Py_NewRef(be));
    Py_RETURN_NONE;
}

static PyObject *err_name(PyObject *mod, PyObject *arg)
{
    long code = PyLong_AsLong(arg);

    (void)mod;
    if (code == -1 && PyErr_Occurred())
        return NULL;
    return PyUnicode_FromString(chute_err_name((int)code));
}

static PyMethodDef module_methods[] = {
    {"_setup", setup, METH_VARARGS, NULL},
    {"_after_fork_child", after_fork_child, METH_NOARGS, NULL},
    {"err_name", err_name, METH_O,
     "err_name(code): the name of a chute_err code, e.g. "
     "\"CHUTE_ERR_TOO_LARGE\"."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "chute._chute",
    .m_doc = "C extension of chute's Python client, over libchute.",
    .m_size = -1,
    .m_methods = module_methods,
};

int chpy_producer_ready(void);

static int register_fork_hook(PyObject *m)
{
    PyObject *os = PyImport_ImportModule("os"), *reg, *hook, *kw, *r = NULL;

    if (!os)
        return -1;
    reg = PyObject_GetAttrString(os, "register_at_fork");
    Py_DECREF(os);
    hook = PyObject_GetAttrString(m, "_after_fork_child");
    kw = Py_BuildValue("{sO}", "after_in_child", hook);
    if (reg && hook && kw) {
        PyObject *noargs = PyTuple_New(0);
        if (noargs)
            r = PyObject_Call(reg, noargs, kw);
        Py_XDECREF(noargs);
    }
    Py_XDECREF(reg);
    Py_XDECREF(hook);
    Py_XDECREF(kw);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

PyMODINIT_FUNC PyInit__chute(void)
{
    PyObject *m;

    if (PyType_Ready(&chpy_future_type) < 0 ||
        PyType_Ready(&chpy_producer_type) < 0 || chpy_producer_ready() < 0)
        return NULL;
    m = PyModule_Create(&module_def);
    if (!m)
        return NULL;
    if (PyModule_AddObjectRef(m, "FutureRecordMetadata",
                              (PyObject *)&chpy_future_type) < 0 ||
        PyModule_AddObjectRef(m, "Producer", (PyObject *)&chpy_producer_type) <
            0 ||
        PyModule_AddIntConstant(m, "ERR_INVALID", CHUTE_ERR_INVALID) < 0 ||
        register_fork_hook(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
