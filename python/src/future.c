/*
 * future.c: chute's FutureRecordMetadata, the future send() returns.  It
 * follows kafka-python's: is_done, value, exception, succeeded(), failed(),
 * retriable(), add_callback/add_errback/add_both, get(timeout).  A report
 * resolves it on the producer's callback thread (future_resolve), which
 * runs its callbacks there; the RecordMetadata is built only when someone
 * asks for it, so a future nobody looks at costs one small object.
 */
#include "chute_py.h"

#include <math.h>
#include <time.h>

future_t *future_new(PyObject *topic)
{
    future_t *f = PyObject_GC_New(future_t, &chpy_future_type);

    if (!f)
        return NULL;
    Py_INCREF(topic);
    f->topic = topic;
    f->callbacks = f->errbacks = f->exception = f->metadata = NULL;
    f->owner = NULL;
    f->offset = -1;
    f->timestamp = -1;
    f->partition = -1;
    f->key_size = f->value_size = f->header_size = -1;
    f->seq = 0;
    f->fork_gen = chpy_fork_gen;
    f->state = FUTURE_PENDING;
    /* Not tracked by the collector until it holds objects that could
     * make a cycle (callbacks, an exception): most futures never do. */
    return f;
}

static void future_track(future_t *f)
{
    if (!PyObject_GC_IsTracked((PyObject *)f))
        PyObject_GC_Track(f);
}

static PyObject *future_metadata(future_t *f)
{
    PyObject *tp;

    if (f->metadata)
        return Py_NewRef(f->metadata);
    tp = PyObject_CallFunction(chpy.topic_partition, "Oi", f->topic,
                               (int)f->partition);
    if (!tp)
        return NULL;
    /* log_start_offset -1 and checksum None: a delivery report carries
     * neither (kafka-python gives None as checksum for v2 batches too). */
    f->metadata = PyObject_CallFunction(
        chpy.record_metadata, "OiNLLiOiii", f->topic, (int)f->partition, tp,
        (long long)f->offset, (long long)f->timestamp, -1, Py_None,
        (int)f->key_size, (int)f->value_size, (int)f->header_size);
    return f->metadata ? Py_NewRef(f->metadata) : NULL;
}

/* Runs one callback; its exception is logged, as kafka-python does. */
static void run_back(const char *kind, PyObject *fn, PyObject *arg)
{
    PyObject *r = PyObject_CallOneArg(fn, arg);
    PyObject *type, *val, *tb;

    if (r) {
        Py_DECREF(r);
        return;
    }
    PyErr_Fetch(&type, &val, &tb);
    PyErr_NormalizeException(&type, &val, &tb);
    if (tb)
        PyException_SetTraceback(val, tb);
    r = PyObject_CallFunction(chpy.callback_failed, "sO", kind,
                              val ? val : Py_None);
    if (!r)
        PyErr_WriteUnraisable(fn);
    Py_XDECREF(r);
    Py_XDECREF(type);
    Py_XDECREF(val);
    Py_XDECREF(tb);
}

/* A callback slot holds nothing, one callable, or a list of them (the
 * common single callback costs no list). */
static void run_backs(future_t *f, PyObject *backs, const char *kind)
{
    PyObject *arg;

    if (!backs)
        return;
    arg =
        f->state == FUTURE_DONE ? future_metadata(f) : Py_NewRef(f->exception);
    if (!arg) {
        PyErr_WriteUnraisable((PyObject *)f);
        return;
    }
    if (!PyList_CheckExact(backs))
        run_back(kind, backs, arg);
    else
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(backs); i++)
            run_back(kind, PyList_GET_ITEM(backs, i), arg);
    Py_DECREF(arg);
}

void future_resolve(future_t *f, int32_t partition, int64_t offset,
                    PyObject *exc)
{
    PyObject *cbs = f->callbacks, *ebs = f->errbacks;
    producer_t *owner = f->owner;

    f->callbacks = f->errbacks = NULL;
    f->owner = NULL;
    f->partition = partition;
    if (exc) {
        f->state = FUTURE_FAILED;
        f->exception = exc;
        future_track(f);
        run_backs(f, ebs, "errback");
    } else {
        f->state = FUTURE_DONE;
        f->offset = offset;
        run_backs(f, cbs, "callback");
    }
    Py_XDECREF(cbs);
    Py_XDECREF(ebs);
    Py_XDECREF(owner);
}

future_t *future_failed_now(PyObject *topic, PyObject *exc)
{
    future_t *f = future_new(topic);

    if (!f) {
        Py_DECREF(exc);
        return NULL;
    }
    f->state = FUTURE_FAILED;
    f->exception = exc;
    future_track(f);
    return f;
}

void future_orphan(future_t *f)
{
    Py_CLEAR(f->callbacks);
    Py_CLEAR(f->errbacks);
    Py_CLEAR(f->owner);
}

static int future_traverse(future_t *f, visitproc visit, void *arg)
{
    Py_VISIT(f->callbacks);
    Py_VISIT(f->errbacks);
    Py_VISIT(f->exception);
    Py_VISIT(f->metadata);
    return 0;
}

static int future_clear(future_t *f)
{
    Py_CLEAR(f->callbacks);
    Py_CLEAR(f->errbacks);
    Py_CLEAR(f->exception);
    Py_CLEAR(f->metadata);
    return 0;
}

static void future_dealloc(future_t *f)
{
    PyObject_GC_UnTrack(f);
    future_clear(f);
    Py_XDECREF(f->owner);
    Py_XDECREF(f->topic);
    PyObject_GC_Del(f);
}

/* ---- callbacks ----------------------------------------------------------- */

/* fn with args and kwargs bound, as kafka-python does with partial. */
static PyObject *bind_back(PyObject *const *args, Py_ssize_t nargs,
                           PyObject *kwnames)
{
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "a callable is required");
        return NULL;
    }
    if (!PyCallable_Check(args[0])) {
        PyErr_Format(PyExc_TypeError, "%R is not callable", args[0]);
        return NULL;
    }
    if (nargs == 1 && !kwnames)
        return Py_NewRef(args[0]);
    return PyObject_Vectorcall(chpy.partial, args, (size_t)nargs, kwnames);
}

/* Adds fn to *slot, or runs it now if the future already ended in
 * `when`.  Returns the future (kafka-python's methods chain). */
static PyObject *add_back(future_t *f, PyObject **slot, int when,
                          const char *kind, PyObject *const *args,
                          Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *fn = bind_back(args, nargs, kwnames);

    if (!fn)
        return NULL;
    if (f->state == when) {
        PyObject *arg =
            when == FUTURE_DONE ? future_metadata(f) : Py_NewRef(f->exception);
        if (arg)
            run_back(kind, fn, arg);
        Py_XDECREF(arg);
        Py_DECREF(fn);
        if (!arg)
            return NULL;
        return Py_NewRef(f);
    }
    if (f->state != FUTURE_PENDING) {
        Py_DECREF(fn); /* ended the other way: never called */
        return Py_NewRef(f);
    }
    future_track(f);
    if (!*slot) {
        *slot = fn;
        return Py_NewRef(f);
    }
    if (!PyList_CheckExact(*slot)) {
        PyObject *list = PyList_New(1);
        if (!list) {
            Py_DECREF(fn);
            return NULL;
        }
        PyList_SET_ITEM(list, 0, *slot);
        *slot = list;
    }
    if (PyList_Append(*slot, fn) < 0) {
        Py_DECREF(fn);
        return NULL;
    }
    Py_DECREF(fn);
    return Py_NewRef(f);
}

static PyObject *future_add_callback(future_t *f, PyObject *const *args,
                                     Py_ssize_t nargs, PyObject *kwnames)
{
    return add_back(f, &f->callbacks, FUTURE_DONE, "callback", args, nargs,
                    kwnames);
}

static PyObject *future_add_errback(future_t *f, PyObject *const *args,
                                    Py_ssize_t nargs, PyObject *kwnames)
{
    return add_back(f, &f->errbacks, FUTURE_FAILED, "errback", args, nargs,
                    kwnames);
}

static PyObject *future_add_both(future_t *f, PyObject *const *args,
                                 Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *r = future_add_callback(f, args, nargs, kwnames);

    if (!r)
        return NULL;
    Py_DECREF(r);
    return future_add_errback(f, args, nargs, kwnames);
}

/* ---- state ----------------------------------------------------------------
 */

static PyObject *future_succeeded(future_t *f, PyObject *unused)
{
    (void)unused;
    return PyBool_FromLong(f->state == FUTURE_DONE);
}

static PyObject *future_failed(future_t *f, PyObject *unused)
{
    (void)unused;
    return PyBool_FromLong(f->state == FUTURE_FAILED);
}

static PyObject *future_retriable(future_t *f, PyObject *unused)
{
    PyObject *r;

    (void)unused;
    if (f->state != FUTURE_FAILED)
        Py_RETURN_FALSE;
    r = PyObject_GetAttrString(f->exception, "retriable");
    if (!r) {
        PyErr_Clear();
        Py_RETURN_FALSE;
    }
    return r;
}

static PyObject *future_is_done(future_t *f, void *unused)
{
    (void)unused;
    return PyBool_FromLong(f->state != FUTURE_PENDING);
}

static PyObject *future_value(future_t *f, void *unused)
{
    (void)unused;
    if (f->state != FUTURE_DONE)
        Py_RETURN_NONE;
    return future_metadata(f);
}

static PyObject *future_exception(future_t *f, void *unused)
{
    (void)unused;
    return Py_NewRef(f->exception ? f->exception : Py_None);
}

/* ---- get ------------------------------------------------------------------
 */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits until f is resolved or timeout (seconds, < 0: none) passes.
 * Returns 1 if resolved, 0 on time-out, -1 with an exception set. */
static int future_wait(future_t *f, double timeout)
{
    double deadline = timeout >= 0 ? now_s() + timeout : 0;

    while (f->state == FUTURE_PENDING) {
        double left = timeout >= 0 ? deadline - now_s() : 1.0;
        producer_t *owner = f->owner;
        int rc;

        if (f->fork_gen != chpy_fork_gen) {
            chpy_raise(CHUTE_ERR_CLOSED,
                       "this future belongs to the process that sent the "
                       "record (before a fork): its outcome is known there "
                       "only");
            return -1;
        }
        if (left <= 0)
            return 0;
        if (!owner) {
            PyErr_SetString(PyExc_RuntimeError,
                            "a pending future has no producer");
            return -1;
        }
        Py_INCREF(owner);
        rc = producer_wait_progress(owner, left < 1.0 ? left : 1.0);
        Py_DECREF(owner);
        if (rc < 0)
            return -1;
    }
    return 1;
}

static PyObject *future_get(future_t *f, PyObject *args, PyObject *kwargs)
{
    static char *kw[] = {"timeout", NULL};
    PyObject *timeout = Py_None;
    double t = -1;
    int rc;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:get", kw, &timeout))
        return NULL;
    if (timeout != Py_None) {
        t = PyFloat_AsDouble(timeout);
        if (t == -1 && PyErr_Occurred())
            return NULL;
        if (isnan(t) || t < 0) {
            PyErr_SetString(PyExc_ValueError,
                            "timeout must be None or >= 0 seconds");
            return NULL;
        }
    }
    rc = future_wait(f, t);
    if (rc < 0)
        return NULL;
    if (rc == 0) {
        PyObject *msg =
            PyUnicode_FromFormat("Timeout after waiting for %R secs.", timeout);
        if (msg) {
            chpy_raise(CHUTE_ERR_TIMED_OUT, PyUnicode_AsUTF8(msg));
            Py_DECREF(msg);
        }
        return NULL;
    }
    if (f->state == FUTURE_FAILED) {
        PyErr_SetObject((PyObject *)Py_TYPE(f->exception), f->exception);
        return NULL;
    }
    return future_metadata(f);
}

static PyObject *future_repr(future_t *f)
{
    static const char *names[] = {"pending", "done", "failed"};

    return PyUnicode_FromFormat("<FutureRecordMetadata %s topic=%R "
                                "partition=%d offset=%lld>",
                                names[f->state], f->topic, (int)f->partition,
                                (long long)f->offset);
}

static PyMethodDef future_methods[] = {
    {"get", (PyCFunction)(void (*)(void))future_get,
     METH_VARARGS | METH_KEYWORDS,
     "get(timeout=None): wait for the outcome; return the RecordMetadata or "
     "raise the error (KafkaTimeoutError if it did not come in time)."},
    {"add_callback", (PyCFunction)(void (*)(void))future_add_callback,
     METH_FASTCALL | METH_KEYWORDS,
     "add_callback(f, *args, **kwargs): call f(*args, record_metadata, "
     "**kwargs) on success, on the producer's callback thread."},
    {"add_errback", (PyCFunction)(void (*)(void))future_add_errback,
     METH_FASTCALL | METH_KEYWORDS,
     "add_errback(f, *args, **kwargs): call f(*args, exception, **kwargs) "
     "on failure."},
    {"add_both", (PyCFunction)(void (*)(void))future_add_both,
     METH_FASTCALL | METH_KEYWORDS,
     "add_both(f, *args, **kwargs): add_callback and add_errback."},
    {"succeeded", (PyCFunction)future_succeeded, METH_NOARGS,
     "True once the record is delivered."},
    {"failed", (PyCFunction)future_failed, METH_NOARGS,
     "True once the record failed."},
    {"retriable", (PyCFunction)future_retriable, METH_NOARGS,
     "Whether the error is one Kafka calls retriable."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef future_getset[] = {
    {"is_done", (getter)future_is_done, NULL, "Whether the outcome is known.",
     NULL},
    {"value", (getter)future_value, NULL,
     "The RecordMetadata once delivered, else None.", NULL},
    {"exception", (getter)future_exception, NULL,
     "The error once failed, else None.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject chpy_future_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "chute.FutureRecordMetadata",
    .tp_basicsize = sizeof(future_t),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The outcome of one send(): resolves to a RecordMetadata.",
    .tp_dealloc = (destructor)future_dealloc,
    .tp_traverse = (traverseproc)future_traverse,
    .tp_clear = (inquiry)future_clear,
    .tp_repr = (reprfunc)future_repr,
    .tp_methods = future_methods,
    .tp_getset = future_getset,
};
