/*
 * producer.c: the C half of chute.KafkaProducer (chute/producer.py is the
 * other): one chute_t with delivery reports per producer and process, the
 * send() fast path, the report dispatch the callback thread runs, and the
 * waits of flush() and Future.get().
 *
 * Locking: the GIL guards every Python object and the pending table.  A
 * chute_t is not thread-safe, so every chute_* call holds cmu too; cmu is
 * taken with trylock while holding the GIL, or else with the GIL released,
 * and a thread holding cmu never waits for anything but the GIL, so the
 * two cannot deadlock.  The only chute_* calls that can take long
 * (chute_open, chute_topic: control-socket round trips) run with the GIL
 * released.  chute_send never blocks (queue.full.policy is "fail"): when a
 * ring is full, send() waits here, the GIL released, up to max_block_ms.
 *
 * Fork: an os.fork() child bumps chpy_fork_gen (module.c).  The first use
 * of a producer in the child (check_fork) re-creates its locks, forgets
 * the parent's pending futures (their reports go to the parent), drops the
 * parent's chute_t and opens its own, with its own report ring, and
 * starts a callback thread of its own.
 */
#include "chute_py.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#define DISPATCH_BATCH   512
#define DISPATCH_ROUNDS  16
#define HEADERS_ON_STACK 16
#define MSG_MAX          512

/* ---- helpers ----------------------------------------------------------------
 */

static int64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ns(long ns)
{
    struct timespec ts = {0, ns};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void deadline_ts(struct timespec *ts, double timeout_s)
{
    clock_gettime(CLOCK_REALTIME, ts);
    long long ns = (long long)(timeout_s * 1e9) + ts->tv_nsec;
    ts->tv_sec += (time_t)(ns / 1000000000);
    ts->tv_nsec = (long)(ns % 1000000000);
}

/* Takes cmu; the GIL is released only if cmu is taken by another thread. */
static void lock_handle(producer_t *p)
{
    if (pthread_mutex_trylock(&p->cmu) == 0)
        return;
    Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&p->cmu);
    Py_END_ALLOW_THREADS
}

static void init_locks(producer_t *p)
{
    pthread_mutex_init(&p->cmu, NULL);
    pthread_mutex_init(&p->pmu, NULL);
    pthread_cond_init(&p->progress_cv, NULL);
    pthread_cond_init(&p->kick_cv, NULL);
}

static void signal_progress(producer_t *p)
{
    pthread_mutex_lock(&p->pmu);
    p->progress++;
    pthread_cond_broadcast(&p->progress_cv);
    pthread_mutex_unlock(&p->pmu);
}

/* ---- fork -----------------------------------------------------------------
 */

static void drop_pending(producer_t *p)
{
    for (uint32_t i = 0; i < p->pending.cap; i++) {
        future_t *f = pending_at(&p->pending, i);
        if (!f)
            continue;
        future_orphan(f);
        Py_DECREF(f);
    }
    pending_free(&p->pending);
}

/* In a child of os.fork(): the locks may have been held by threads that
 * do not exist here, and the pending futures are the parent's (their
 * reports go to the parent).  The chute_t is kept: libchute makes it the
 * child's own client at its first use, which ensure_open() makes with
 * the GIL released (adopt). */
static void check_fork(producer_t *p)
{
    if (p->fork_gen == chpy_fork_gen)
        return;
    p->fork_gen = chpy_fork_gen;
    init_locks(p);
    drop_pending(p);
    p->adopt = p->c != NULL;
    p->thread_running = p->thread_idle = p->stopping = p->waiters = 0;
    p->thread_id = 0;
    p->progress = 0;
    p->seq = p->acked = p->failed = p->send_errors = p->unmatched = 0;
    p->blocked_ns = 0;
}

/* ---- open -------------------------------------------------------------------
 */

static PyObject *raise_msg(int code, const char *fmt, ...)
{
    char msg[MSG_MAX * 2];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return chpy_raise(code, msg);
}

static int start_thread(producer_t *p)
{
    PyObject *r;

    if (p->thread_running || !p->start_thread)
        return 0;
    p->thread_running = 1;
    r = PyObject_CallNoArgs(p->start_thread);
    if (!r) {
        p->thread_running = 0;
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

static void raise_open(int rc, const char *name, const char *msg)
{
    if (rc == CHUTE_ERR_TOO_MANY && strstr(msg, "delivery-report"))
        raise_msg(rc,
                  "chute instance \"%s\": %s: at most that many producers "
                  "of one user can get delivery reports from one instance "
                  "at once (each KafkaProducer, and each process that uses "
                  "one after a fork, takes one); close producers you no "
                  "longer use",
                  name ? name : "default", msg);
    else
        chpy_raise(rc, msg);
}

/* Opens this process's chute_t if it has none: delivery reports on (one of
 * the 32 report rings of this user's space), the fail policy (send() does the waiting).
 * In a fork child, the first call on the inherited chute_t makes it the
 * child's client, with a report ring of its own; if that fails, the
 * handle is closed and the next use opens a new one. */
static int ensure_open(producer_t *p)
{
    const char *name = NULL;
    char msg[MSG_MAX] = "";
    int rc = 0;

    check_fork(p);
    if (p->closed) {
        chpy_raise(CHUTE_ERR_CLOSED, "the producer is closed");
        return -1;
    }
    if (p->c && !p->adopt)
        return start_thread(p);
    if (p->instance != Py_None && !(name = PyUnicode_AsUTF8(p->instance)))
        return -1;
    Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&p->cmu);
    if (p->c && p->adopt) {
        rc = chute_set(p->c, "queue.full.policy", "fail");
        if (rc < 0) {
            snprintf(msg, sizeof(msg), "%s", chute_errmsg());
            chute_close(p->c);
            p->c = NULL;
        }
        p->adopt = 0;
    } else if (!p->c) {
        chute_t *c = NULL;
        rc = chute_open(name, &c);
        if (rc == 0 && (rc = chute_set(c, "delivery.reports", "true")) == 0)
            rc = chute_set(c, "queue.full.policy", "fail");
        if (rc < 0) {
            snprintf(msg, sizeof(msg), "%s", chute_errmsg());
            chute_close(c);
        } else {
            p->c = c;
        }
    }
    pthread_mutex_unlock(&p->cmu);
    Py_END_ALLOW_THREADS if (rc < 0)
    {
        raise_open(rc, name, msg);
        return -1;
    }
    p->opened_once = 1;
    return start_thread(p);
}

/* ---- topics -----------------------------------------------------------------
 */

/* The topic's id, from the cache or asked of chuted (GIL released). */
static int topic_id(producer_t *p, PyObject *topic)
{
    PyObject *id = PyDict_GetItemWithError(p->topics, topic);
    const char *name;
    char msg[MSG_MAX] = "";
    int rc;

    if (id)
        return (int)PyLong_AsLong(id);
    if (PyErr_Occurred())
        return -1;
    if (!PyUnicode_Check(topic)) {
        PyErr_Format(PyExc_TypeError, "topic must be a str, not %.100s",
                     Py_TYPE(topic)->tp_name);
        return -1;
    }
    name = PyUnicode_AsUTF8(topic);
    if (!name)
        return -1;
    Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&p->cmu);
    rc = p->c ? chute_topic(p->c, name) : CHUTE_ERR_CLOSED;
    if (rc < 0)
        snprintf(msg, sizeof(msg), "%s",
                 p->c ? chute_errmsg() : "the producer is closed");
    pthread_mutex_unlock(&p->cmu);
    Py_END_ALLOW_THREADS if (rc < 0)
    {
        raise_msg(rc, "topic \"%s\": %s", name, msg);
        return -1;
    }
    id = PyLong_FromLong(rc);
    if (!id || PyDict_SetItem(p->topics, topic, id) < 0) {
        Py_XDECREF(id);
        return -1;
    }
    Py_DECREF(id);
    return rc;
}

static int topic_partitions(producer_t *p, int id)
{
    int n;
    char msg[MSG_MAX] = "";

    lock_handle(p);
    n = p->c ? chute_topic_partitions(p->c, id) : CHUTE_ERR_CLOSED;
    if (n < 0)
        snprintf(msg, sizeof(msg), "%s", chute_errmsg());
    pthread_mutex_unlock(&p->cmu);
    if (n < 0)
        chpy_raise(n, msg);
    return n;
}

/* ---- send
 * --------------------------------------------------------------------- */

struct buf {
    Py_buffer view;
    int has_view;
    const void *ptr; /* NULL for None */
    Py_ssize_t len;
};

static int buf_get(PyObject *o, struct buf *b, const char *what)
{
    b->has_view = 0;
    if (o == Py_None) {
        b->ptr = NULL;
        b->len = 0;
        return 0;
    }
    if (PyBytes_CheckExact(o)) {
        b->ptr = PyBytes_AS_STRING(o);
        b->len = PyBytes_GET_SIZE(o);
        return 0;
    }
    if (PyBytes_Check(o) || PyByteArray_Check(o) || PyMemoryView_Check(o)) {
        if (PyObject_GetBuffer(o, &b->view, PyBUF_SIMPLE) < 0)
            return -1;
        b->has_view = 1;
        b->ptr = b->view.buf ? b->view.buf : "";
        b->len = b->view.len;
        return 0;
    }
    PyErr_Format(PyExc_TypeError,
                 "%s must be bytes, bytearray, memoryview or None, not "
                 "%.100s (give the producer a %s_serializer)",
                 what, Py_TYPE(o)->tp_name, what);
    return -1;
}

static void buf_release(struct buf *b)
{
    if (b->has_view)
        PyBuffer_Release(&b->view);
    b->has_view = 0;
}

/* kafka-python's rule: a serializer is called with the data (None too);
 * one with a serialize method gets (topic, data). */
static PyObject *serialize(PyObject *ser, PyObject *topic, PyObject *data)
{
    if (!ser || ser == Py_None)
        return Py_NewRef(data);
    if (PyCallable_Check(ser))
        return PyObject_CallOneArg(ser, data);
    return PyObject_CallMethod(ser, "serialize", "OO", topic, data);
}

struct headers {
    chute_header_t stack[HEADERS_ON_STACK];
    struct buf stack_bufs[HEADERS_ON_STACK];
    chute_header_t *h;
    struct buf *bufs;
    PyObject *seq;
    Py_ssize_t n, got;
    Py_ssize_t size; /* kafka-python's serialized_header_size */
};

static void headers_release(struct headers *hs)
{
    for (Py_ssize_t i = 0; i < hs->got; i++)
        buf_release(&hs->bufs[i]);
    if (hs->h != hs->stack)
        PyMem_Free(hs->h);
    if (hs->bufs != hs->stack_bufs)
        PyMem_Free(hs->bufs);
    Py_CLEAR(hs->seq);
}

static int header_get(struct headers *hs, Py_ssize_t i, PyObject *item)
{
    PyObject *k, *v;
    Py_ssize_t klen;
    const char *key;

    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
        PyErr_SetString(PyExc_TypeError, "headers must be (str, bytes) pairs");
        return -1;
    }
    k = PyTuple_GET_ITEM(item, 0);
    v = PyTuple_GET_ITEM(item, 1);
    if (!PyUnicode_Check(k)) {
        PyErr_SetString(PyExc_TypeError, "a header key must be a str");
        return -1;
    }
    key = PyUnicode_AsUTF8AndSize(k, &klen);
    if (!key)
        return -1;
    if ((Py_ssize_t)strlen(key) != klen) {
        PyErr_SetString(PyExc_ValueError, "a header key contains a NUL");
        return -1;
    }
    if (buf_get(v, &hs->bufs[i], "a header value") < 0)
        return -1;
    hs->got = i + 1;
    hs->h[i] = (chute_header_t){key, hs->bufs[i].ptr, (size_t)hs->bufs[i].len};
    hs->size += klen + hs->bufs[i].len;
    return 0;
}

static int headers_get(PyObject *o, struct headers *hs)
{
    hs->h = hs->stack;
    hs->bufs = hs->stack_bufs;
    hs->seq = NULL;
    hs->n = hs->got = 0;
    hs->size = -1;
    if (o == Py_None)
        return 0;
    hs->seq = PySequence_Fast(o, "headers must be a list of (str, bytes)");
    if (!hs->seq)
        return -1;
    hs->n = PySequence_Fast_GET_SIZE(hs->seq);
    if (hs->n == 0)
        return 0;
    hs->size = 0;
    if (hs->n > HEADERS_ON_STACK) {
        hs->h = PyMem_Calloc((size_t)hs->n, sizeof(*hs->h));
        hs->bufs = PyMem_Calloc((size_t)hs->n, sizeof(*hs->bufs));
        if (!hs->h || !hs->bufs) {
            PyErr_NoMemory();
            return -1;
        }
    }
    for (Py_ssize_t i = 0; i < hs->n; i++)
        if (header_get(hs, i, PySequence_Fast_GET_ITEM(hs->seq, i)) < 0)
            return -1;
    return 0;
}

/* Kicks the callback thread if it waits for work. */
static void kick_thread(producer_t *p)
{
    if (!p->thread_idle)
        return;
    p->thread_idle = 0;
    pthread_mutex_lock(&p->pmu);
    pthread_cond_signal(&p->kick_cv);
    pthread_mutex_unlock(&p->pmu);
}

/* chute_send, waiting up to max_block_ms (the GIL released) while the
 * ring is full or the report ring has no room. */
static int send_blocking(producer_t *p, const chute_record_t *rec, char *msg)
{
    int64_t deadline = 0, start = 0;

    for (int tries = 0;; tries++) {
        int rc;

        lock_handle(p);
        rc = p->c ? chute_send(p->c, rec) : CHUTE_ERR_CLOSED;
        if (rc < 0)
            snprintf(msg, MSG_MAX, "%s",
                     p->c ? chute_errmsg() : "the producer is closed");
        pthread_mutex_unlock(&p->cmu);
        if (rc != CHUTE_ERR_QUEUE_FULL || p->max_block_ms == 0) {
            if (tries)
                p->blocked_ns += (uint64_t)(mono_ns() - start);
            return rc;
        }
        if (tries == 0) {
            start = mono_ns();
            deadline = start + (int64_t)p->max_block_ms * 1000000;
        } else if (mono_ns() >= deadline) {
            p->blocked_ns += (uint64_t)(mono_ns() - start);
            return rc;
        }
        kick_thread(p); /* reports taken free room in the report ring */
        Py_BEGIN_ALLOW_THREADS nap_ns(tries < 50 ? 100000 : 1000000);
        Py_END_ALLOW_THREADS if (p->closed || p->fork_gen != chpy_fork_gen)
        {
            snprintf(msg, MSG_MAX, "the producer was closed");
            return CHUTE_ERR_CLOSED;
        }
    }
}

static PyObject *raise_send(producer_t *p, int rc, const char *msg)
{
    p->send_errors++;
    if (rc == CHUTE_ERR_QUEUE_FULL)
        return raise_msg(rc,
                         p->max_block_ms
                             ? "no room for the record within max_block_ms "
                               "(%d ms): %s"
                             : "no room for the record and max_block_ms is "
                               "%d (do not wait): %s",
                         p->max_block_ms, msg);
    return chpy_raise(rc, msg);
}

static PyObject *send_args_error(const char *m)
{
    PyErr_SetString(PyExc_TypeError, m);
    return NULL;
}

static PyObject *str_topic, *str_value, *str_key, *str_headers, *str_partition,
    *str_timestamp_ms;

/* send(topic, value=None, key=None, headers=None, partition=None,
 *      timestamp_ms=None) -> FutureRecordMetadata */
static int send_parse(PyObject *const *args, Py_ssize_t nargs,
                      PyObject *kwnames, PyObject **out)
{
    PyObject *names[6] = {str_topic,   str_value,     str_key,
                          str_headers, str_partition, str_timestamp_ms};

    if (nargs > 6) {
        send_args_error("send() takes at most 6 arguments");
        return -1;
    }
    for (Py_ssize_t i = 0; i < nargs; i++)
        out[i] = args[i];
    for (Py_ssize_t k = 0; kwnames && k < PyTuple_GET_SIZE(kwnames); k++) {
        PyObject *kw = PyTuple_GET_ITEM(kwnames, k);
        int j;
        for (j = 0; j < 6 && kw != names[j]; j++) /* interned: the usual */
            ;
        if (j == 6)
            for (j = 0; j < 6; j++)
                if (PyUnicode_Compare(kw, names[j]) == 0)
                    break;
        if (j == 6) {
            PyErr_Format(PyExc_TypeError,
                         "send() got an unexpected keyword argument %R", kw);
            return -1;
        }
        if (out[j]) {
            PyErr_Format(PyExc_TypeError,
                         "send() got multiple values for argument %R", kw);
            return -1;
        }
        out[j] = args[nargs + k];
    }
    if (!out[0]) {
        send_args_error("send() missing required argument: 'topic'");
        return -1;
    }
    for (int j = 1; j < 6; j++)
        if (!out[j])
            out[j] = Py_None;
    return 0;
}

static int choose_partition(producer_t *p, int id, PyObject *arg,
                            PyObject *kbytes)
{
    PyObject *all, *r;
    long v;
    int n;

    if (arg != Py_None || !p->partitioner || p->partitioner == Py_None) {
        if (arg == Py_None)
            return CHUTE_PARTITION_UA;
        v = PyLong_AsLong(arg);
        if (v == -1 && PyErr_Occurred())
            return -2;
        if (v < 0 || v > INT32_MAX) {
            PyErr_Format(PyExc_ValueError, "partition %ld is out of range", v);
            return -2;
        }
        return (int)v;
    }
    /* A partitioner as kafka-python calls it: (key, all, available). */
    n = topic_partitions(p, id);
    if (n < 0)
        return -2;
    all = PyList_New(n);
    if (!all)
        return -2;
    for (int i = 0; i < n; i++)
        PyList_SET_ITEM(all, i, PyLong_FromLong(i));
    r = PyObject_CallFunctionObjArgs(p->partitioner, kbytes, all, all, NULL);
    Py_DECREF(all);
    if (!r)
        return -2;
    v = PyLong_AsLong(r);
    Py_DECREF(r);
    if (v == -1 && PyErr_Occurred())
        return -2;
    if (v < 0 || v >= n) {
        PyErr_Format(PyExc_ValueError,
                     "the partitioner chose partition %ld of %d", v, n);
        return -2;
    }
    return (int)v;
}

static int64_t timestamp_arg(PyObject *ts)
{
    long long v;

    if (ts == Py_None)
        return wall_ms();
    v = PyLong_AsLongLong(ts);
    if (v == -1 && PyErr_Occurred())
        return -2;
    if (v < 0) {
        PyErr_SetString(PyExc_ValueError, "timestamp_ms must be >= 0");
        return -2;
    }
    return v;
}

/* Hands the record to chute; returns the pending future. */
static PyObject *send_record(producer_t *p, PyObject *topic, int id,
                             int partition, int64_t ts, struct buf *kb,
                             struct buf *vb, struct headers *hs)
{
    chute_record_t rec = {
        .topic = id,
        .partition = partition,
        .key = kb->ptr,
        .key_len = (size_t)kb->len,
        .value = vb->ptr,
        .value_len = (size_t)vb->len,
        .headers = hs->h,
        .header_count = (size_t)hs->n,
        .timestamp_ms = ts,
    };
    char msg[MSG_MAX] = "";
    future_t *f = future_new(topic);
    int rc;

    if (!f)
        return NULL;
    f->timestamp = ts;
    f->key_size = kb->ptr ? (int32_t)kb->len : -1;
    f->value_size = vb->ptr ? (int32_t)vb->len : -1;
    f->header_size = (int32_t)hs->size;
    f->seq = p->seq + 1;
    rec.opaque = pending_add(&p->pending, f);
    if (!rec.opaque) {
        Py_DECREF(f);
        return PyErr_NoMemory();
    }
    Py_INCREF(f); /* the table's */
    rc = send_blocking(p, &rec, msg);
    if (rc < 0) {
        pending_take(&p->pending, rec.opaque);
        Py_DECREF(f);
        Py_DECREF(f);
        return raise_send(p, rc, msg);
    }
    p->seq++;
    f->partition = rc;
    Py_INCREF(p);
    f->owner = p;
    kick_thread(p);
    return (PyObject *)f;
}

/* kafka-python's rule: a BrokerResponseError that send() meets (a record
 * too large, a topic the cluster refuses) comes back as a failed future;
 * other errors are raised. */
static PyObject *broker_error_future(PyObject *topic)
{
    PyObject *type, *val, *tb;

    if (!PyErr_ExceptionMatches(chpy.broker_error))
        return NULL;
    PyErr_Fetch(&type, &val, &tb);
    PyErr_NormalizeException(&type, &val, &tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return (PyObject *)future_failed_now(topic, val);
}

static PyObject *producer_send(producer_t *p, PyObject *const *args,
                               Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *a[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
    PyObject *kobj = NULL, *vobj = NULL, *r = NULL;
    struct buf kb = {.has_view = 0}, vb = {.has_view = 0};
    struct headers hs = {.got = 0, .seq = NULL};
    int id, partition;
    int64_t ts;

    hs.h = hs.stack;
    hs.bufs = hs.stack_bufs;
    if (send_parse(args, nargs, kwnames, a) < 0)
        return NULL;
    /* Open, in this process, with its thread: the usual case, inline. */
    if (!(p->c && p->fork_gen == chpy_fork_gen && !p->adopt && !p->closed &&
          p->thread_running) &&
        ensure_open(p) < 0)
        return NULL;
    if (a[1] == Py_None && a[2] == Py_None) {
        PyErr_SetString(PyExc_ValueError, "Need at least one: key or value");
        return NULL;
    }
    if ((id = topic_id(p, a[0])) < 0)
        return NULL;
    kobj = serialize(p->key_serializer, a[0], a[2]);
    if (!kobj)
        goto out;
    vobj = serialize(p->value_serializer, a[0], a[1]);
    if (!vobj || buf_get(kobj, &kb, "key") < 0 ||
        buf_get(vobj, &vb, "value") < 0 || headers_get(a[3], &hs) < 0)
        goto out;
    partition = choose_partition(p, id, a[4], kobj);
    if (partition == -2 || (ts = timestamp_arg(a[5])) == -2)
        goto out;
    r = send_record(p, a[0], id, partition, ts, &kb, &vb, &hs);
out:
    if (!r)
        r = broker_error_future(a[0]);
    headers_release(&hs);
    buf_release(&kb);
    buf_release(&vb);
    Py_XDECREF(kobj);
    Py_XDECREF(vobj);
    return r;
}

/* ---- reports
 * ------------------------------------------------------------------ */

static PyObject *report_error(int32_t code)
{
    PyObject *e = PyObject_CallFunction(chpy.kafka_error, "is", (int)code,
                                        chute_kafka_err_name(code));

    if (!e) { /* still fail the future, with what went wrong */
        PyObject *type, *val, *tb;
        PyErr_Fetch(&type, &val, &tb);
        PyErr_NormalizeException(&type, &val, &tb);
        Py_XDECREF(type);
        Py_XDECREF(tb);
        e = val ? val : Py_NewRef(PyExc_RuntimeError);
    }
    return e;
}

/* Takes the reports that came and resolves their futures (running their
 * callbacks).  Returns how many; never blocks on cmu. */
static long dispatch(producer_t *p)
{
    chute_report_t reps[DISPATCH_BATCH];
    long total = 0;

    check_fork(p);
    for (int round = 0; round < DISPATCH_ROUNDS && p->c && !p->adopt; round++) {
        int n;

        if (pthread_mutex_trylock(&p->cmu) != 0)
            break;
        n = p->c ? chute_poll_reports(p->c, reps, DISPATCH_BATCH) : 0;
        pthread_mutex_unlock(&p->cmu);
        if (n <= 0)
            break;
        for (int i = 0; i < n; i++) {
            future_t *f = pending_take(&p->pending, reps[i].opaque);
            if (!f) {
                p->unmatched++;
                continue;
            }
            if (reps[i].error) {
                p->failed++;
                future_resolve(f, reps[i].partition, -1,
                               report_error(reps[i].error));
            } else {
                p->acked++;
                future_resolve(f, reps[i].partition, reps[i].offset, NULL);
            }
            Py_DECREF(f);
        }
        total += n;
        if (n < DISPATCH_BATCH)
            break;
    }
    if (total && p->waiters)
        signal_progress(p);
    return total;
}

int producer_wait_progress(producer_t *p, double timeout_s)
{
    struct timespec until;
    uint64_t seen;

    check_fork(p);
    if (!p->thread_running ||
        p->thread_id == (long)PyThread_get_thread_ident()) {
        /* No callback thread to wait for (or this is it): dispatch. */
        if (dispatch(p) == 0) {
            Py_BEGIN_ALLOW_THREADS nap_ns(1000000);
            Py_END_ALLOW_THREADS
        }
        return PyErr_CheckSignals();
    }
    p->waiters++;
    kick_thread(p);
    pthread_mutex_lock(&p->pmu);
    seen = p->progress;
    pthread_mutex_unlock(&p->pmu);
    deadline_ts(&until, timeout_s);
    Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&p->pmu);
    while (p->progress == seen &&
           pthread_cond_timedwait(&p->progress_cv, &p->pmu, &until) !=
               ETIMEDOUT)
        ;
    pthread_mutex_unlock(&p->pmu);
    Py_END_ALLOW_THREADS p->waiters--;
    return PyErr_CheckSignals();
}

/* The callback thread's loop (producer.py runs it in a daemon thread):
 * dispatch; sleep 1 ms while reports are owed (10 ms once none came for
 * 100 ms); wait for a send when nothing is pending. */
static PyObject *producer_run(producer_t *p, PyObject *unused)
{
    int empty = 0;

    (void)unused;
    check_fork(p);
    p->thread_id = (long)PyThread_get_thread_ident();
    while (!p->stopping && p->fork_gen == chpy_fork_gen) {
        if (dispatch(p) > 0) {
            empty = 0;
            continue;
        }
        if (PyErr_Occurred())
            PyErr_WriteUnraisable((PyObject *)p);
        if (p->pending.count == 0) {
            struct timespec until;
            p->thread_idle = 1;
            deadline_ts(&until, 0.1);
            Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&p->pmu);
            pthread_cond_timedwait(&p->kick_cv, &p->pmu, &until);
            pthread_mutex_unlock(&p->pmu);
            Py_END_ALLOW_THREADS p->thread_idle = 0;
            empty = 0;
        } else {
            long ns = ++empty < 100 ? 1000000 : 10000000;
            Py_BEGIN_ALLOW_THREADS nap_ns(ns);
            Py_END_ALLOW_THREADS
        }
    }
    if (p->fork_gen == chpy_fork_gen) {
        p->thread_id = 0;
        p->thread_running = 0;
    }
    Py_RETURN_NONE;
}

/* ---- flush, close ----------------------------------------------------------
 */

/* Whether a future sent as record number <= seq still waits. */
static int pending_upto(producer_t *p, uint64_t seq)
{
    for (uint32_t i = 0; i < p->pending.cap; i++) {
        future_t *f = pending_at(&p->pending, i);
        if (f && f->seq <= seq)
            return 1;
    }
    return 0;
}

/* _flush(timeout): waits until every record sent before the call has its
 * outcome (and its callbacks ran); False if timeout (seconds) passed. */
static PyObject *producer_flush(producer_t *p, PyObject *arg)
{
    double timeout = arg == Py_None ? -1 : PyFloat_AsDouble(arg);
    int64_t deadline;
    uint64_t upto;

    if (timeout == -1 && PyErr_Occurred())
        return NULL;
    check_fork(p);
    upto = p->seq;
    deadline = mono_ns() + (int64_t)(timeout * 1e9);
    while (pending_upto(p, upto)) {
        double left = timeout < 0 ? 1.0 : (double)(deadline - mono_ns()) / 1e9;
        if (left <= 0)
            Py_RETURN_FALSE;
        if (producer_wait_progress(p, left < 1.0 ? left : 1.0) < 0)
            return NULL;
    }
    Py_RETURN_TRUE;
}

/* _stop(): tells the callback thread to end (producer.py joins it). */
static PyObject *producer_stop(producer_t *p, PyObject *unused)
{
    (void)unused;
    check_fork(p);
    p->stopping = 1;
    pthread_mutex_lock(&p->pmu);
    pthread_cond_broadcast(&p->kick_cv);
    pthread_mutex_unlock(&p->pmu);
    Py_RETURN_NONE;
}

/* _release(): the end of close(): the futures still pending fail (their
 * records are chuted's: it delivers them, but this producer will not hear
 * of it), and the chute_t is closed. */
static PyObject *producer_release(producer_t *p, PyObject *unused)
{
    chute_t *c;

    (void)unused;
    check_fork(p);
    lock_handle(p);
    c = p->c;
    p->c = NULL;
    p->closed = 1;
    pthread_mutex_unlock(&p->cmu);
    for (uint32_t i = 0; i < p->pending.cap; i++) {
        future_t *f = pending_at(&p->pending, i);
        PyObject *e;
        if (!f)
            continue;
        pending_take(&p->pending, (uint64_t)p->pending.gens[i] << 32 | i);
        e = PyObject_CallFunction(chpy.chute_error, "is", CHUTE_ERR_CLOSED,
                                  "the producer was closed before this "
                                  "record's delivery report came (the record "
                                  "is chuted's, which still delivers it)");
        if (!e)
            PyErr_WriteUnraisable((PyObject *)p);
        p->failed++;
        future_resolve(f, f->partition, -1,
                       e ? e : Py_NewRef(PyExc_RuntimeError));
        Py_DECREF(f);
    }
    if (c)
        chute_close(c);
    signal_progress(p);
    Py_RETURN_NONE;
}

/* ---- partitions_for, metrics -------------------------------------------- */

static PyObject *producer_partitions(producer_t *p, PyObject *topic)
{
    int id, n;

    if (ensure_open(p) < 0 || (id = topic_id(p, topic)) < 0 ||
        (n = topic_partitions(p, id)) < 0)
        return NULL;
    return PyLong_FromLong(n);
}

static PyObject *producer_counters(producer_t *p, PyObject *unused)
{
    uint64_t lost = 0;

    (void)unused;
    check_fork(p);
    if (p->c) {
        lock_handle(p);
        lost = p->c ? chute_reports_lost(p->c) : 0;
        pthread_mutex_unlock(&p->cmu);
    }
    return Py_BuildValue(
        "{sKsKsKsIsKsKsKsK}", "sent", (unsigned long long)p->seq, "acked",
        (unsigned long long)p->acked, "failed", (unsigned long long)p->failed,
        "pending", (unsigned)p->pending.count, "send_errors",
        (unsigned long long)p->send_errors, "reports_unmatched",
        (unsigned long long)p->unmatched, "reports_lost",
        (unsigned long long)lost, "send_blocked_ns",
        (unsigned long long)p->blocked_ns);
}

/* ---- object
 * ------------------------------------------------------------------- */

/* _open(instance, max_block_ms, key_serializer, value_serializer,
 *       partitioner, start_thread) */
static PyObject *producer_open(producer_t *p, PyObject *args)
{
    PyObject *inst, *ks, *vs, *part, *st;
    int mb;

    if (!PyArg_ParseTuple(args, "OiOOOO:_open", &inst, &mb, &ks, &vs, &part,
                          &st))
        return NULL;
    if (inst != Py_None && !PyUnicode_Check(inst))
        return send_args_error("instance must be a str or None");
    if (mb < 0) {
        PyErr_SetString(PyExc_ValueError, "max_block_ms must be >= 0");
        return NULL;
    }
    Py_XSETREF(p->instance, Py_NewRef(inst));
    Py_XSETREF(p->key_serializer, Py_NewRef(ks));
    Py_XSETREF(p->value_serializer, Py_NewRef(vs));
    Py_XSETREF(p->partitioner, Py_NewRef(part));
    Py_XSETREF(p->start_thread, Py_NewRef(st));
    p->max_block_ms = mb;
    if (ensure_open(p) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *producer_new(PyTypeObject *type, PyObject *args,
                              PyObject *kwargs)
{
    producer_t *p = (producer_t *)type->tp_alloc(type, 0);

    (void)args;
    (void)kwargs;
    if (!p)
        return NULL;
    p->topics = PyDict_New();
    if (!p->topics) {
        Py_DECREF(p);
        return NULL;
    }
    p->instance = Py_NewRef(Py_None);
    p->fork_gen = chpy_fork_gen;
    init_locks(p);
    return (PyObject *)p;
}

static int producer_traverse(producer_t *p, visitproc visit, void *arg)
{
    Py_VISIT(p->key_serializer);
    Py_VISIT(p->value_serializer);
    Py_VISIT(p->partitioner);
    Py_VISIT(p->start_thread);
    Py_VISIT(p->topics);
    return 0;
}

static int producer_clear(producer_t *p)
{
    Py_CLEAR(p->key_serializer);
    Py_CLEAR(p->value_serializer);
    Py_CLEAR(p->partitioner);
    Py_CLEAR(p->start_thread);
    Py_CLEAR(p->topics);
    return 0;
}

static void producer_dealloc(producer_t *p)
{
    PyTypeObject *tp = Py_TYPE(p);

    PyObject_GC_UnTrack(p);
    /* Safe in a fork child too: libchute leaves the parent's entry be. */
    chute_close(p->c);
    p->c = NULL;
    if (p->fork_gen == chpy_fork_gen) {
        drop_pending(p);
        pthread_mutex_destroy(&p->cmu);
        pthread_mutex_destroy(&p->pmu);
        pthread_cond_destroy(&p->progress_cv);
        pthread_cond_destroy(&p->kick_cv);
    }
    producer_clear(p);
    Py_XDECREF(p->instance);
    tp->tp_free(p);
}

static PyObject *producer_closed(producer_t *p, void *unused)
{
    (void)unused;
    return PyBool_FromLong(p->closed);
}

static PyMethodDef producer_methods[] = {
    {"send", (PyCFunction)(void (*)(void))producer_send,
     METH_FASTCALL | METH_KEYWORDS,
     "send(topic, value=None, key=None, headers=None, partition=None, "
     "timestamp_ms=None) -> FutureRecordMetadata\n\n"
     "Hands one record to chute and returns a future that its delivery "
     "report resolves.  key and value are bytes (or what the serializers "
     "make bytes); headers a list of (str, bytes).  Waits up to "
     "max_block_ms while chute's ring is full, then raises "
     "KafkaTimeoutError; raises MessageSizeTooLargeError for a record "
     "larger than chuted's message.max.bytes."},
    {"_open", (PyCFunction)producer_open, METH_VARARGS, NULL},
    {"_run", (PyCFunction)producer_run, METH_NOARGS, NULL},
    {"_flush", (PyCFunction)producer_flush, METH_O, NULL},
    {"_stop", (PyCFunction)producer_stop, METH_NOARGS, NULL},
    {"_release", (PyCFunction)producer_release, METH_NOARGS, NULL},
    {"_partitions", (PyCFunction)producer_partitions, METH_O, NULL},
    {"_counters", (PyCFunction)producer_counters, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef producer_getset[] = {
    {"_closed", (getter)producer_closed, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject chpy_producer_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "chute._chute.Producer",
    .tp_basicsize = sizeof(producer_t),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The C half of chute.KafkaProducer.",
    .tp_new = producer_new,
    .tp_dealloc = (destructor)producer_dealloc,
    .tp_traverse = (traverseproc)producer_traverse,
    .tp_clear = (inquiry)producer_clear,
    .tp_methods = producer_methods,
    .tp_getset = producer_getset,
};

int chpy_producer_ready(void);
int chpy_producer_ready(void)
{
    str_topic = PyUnicode_InternFromString("topic");
    str_value = PyUnicode_InternFromString("value");
    str_key = PyUnicode_InternFromString("key");
    str_headers = PyUnicode_InternFromString("headers");
    str_partition = PyUnicode_InternFromString("partition");
    str_timestamp_ms = PyUnicode_InternFromString("timestamp_ms");
    return str_topic && str_value && str_key && str_headers && str_partition &&
                   str_timestamp_ms
               ? 0
               : -1;
}
