/*
 * chute_py.h: what the parts of the _chute extension module share: the
 * Future and Producer types, the Python objects the module looks up once
 * (error constructors, RecordMetadata), and the fork generation.
 */
#ifndef CHUTE_PY_H
#define CHUTE_PY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "chute/chute.h"
#include "pending.h"

#include <pthread.h>
#include <stdint.h>

/* ---- module-wide ---------------------------------------------------- */

/* Bumped in a child after each os.fork(): a producer or a future whose
 * generation differs was made by an ancestor process. */
extern unsigned chpy_fork_gen;

/* Objects of the Python side, set by _chute._setup(): chute.errors'
 * chute_error(code, message) and kafka_error(code, name), the
 * RecordMetadata and TopicPartition classes, functools.partial, the
 * function that logs a failed callback, and BrokerResponseError. */
struct chpy_refs {
    PyObject *chute_error;
    PyObject *kafka_error;
    PyObject *record_metadata;
    PyObject *topic_partition;
    PyObject *partial;
    PyObject *callback_failed;
    PyObject *broker_error; /* chute.errors.BrokerResponseError */
};
extern struct chpy_refs chpy;

/* Raises the exception chute.errors maps the chute_err `code` to, with
 * chute_errmsg() (or `msg` if not NULL) as its text.  Returns NULL. */
PyObject *chpy_raise(int code, const char *msg);

/* ---- futures ----------------------------------------------------------- */

enum future_state { FUTURE_PENDING, FUTURE_DONE, FUTURE_FAILED };

struct producer;

typedef struct future {
    PyObject_HEAD PyObject *topic; /* str */
    PyObject *callbacks;           /* list, or NULL */
    PyObject *errbacks;            /* list, or NULL */
    PyObject *exception;           /* when failed */
    PyObject *metadata;            /* RecordMetadata, built on first use */
    struct producer *owner;        /* while pending: whose reports resolve it */
    int64_t offset;
    int64_t timestamp;
    int32_t partition;
    int32_t key_size, value_size, header_size;
    uint64_t seq; /* the producer's send count when sent */
    unsigned fork_gen;
    uint8_t state;
} future_t;

extern PyTypeObject chpy_future_type;

/* A pending future for a record of `topic` (a str, referenced). */
future_t *future_new(PyObject *topic);
/* Resolves f: delivered at offset, or failed with the new reference exc.
 * Runs its callbacks or errbacks in the calling thread. */
void future_resolve(future_t *f, int32_t partition, int64_t offset,
                    PyObject *exc);
/* Frees what only a pending future holds (its callbacks), without running
 * them: the child's copy of a future its parent sent. */
void future_orphan(future_t *f);
/* A future already failed with exc (a new reference, stolen). */
future_t *future_failed_now(PyObject *topic, PyObject *exc);

/* ---- producers --------------------------------------------------------- */

typedef struct producer {
    PyObject_HEAD chute_t *c; /* NULL: not open, or closed */
    PyObject *instance;       /* str, or None for "default" */
    PyObject *key_serializer, *value_serializer, *partitioner;
    PyObject *topics;       /* dict str -> topic id */
    PyObject *start_thread; /* bound method that starts the callback thread */
    int max_block_ms;
    int closed;
    int opened_once;
    int adopt;          /* fork child: c is the parent's until used */
    int thread_running; /* a callback thread runs in this process */
    int thread_idle;    /* it waits for a send (kick_cv) */
    int stopping;       /* close(): the callback thread is to end */
    int waiters;        /* threads waiting on progress_cv */
    unsigned fork_gen;
    pthread_mutex_t cmu; /* serializes every chute_* call on c */
    pthread_mutex_t pmu; /* guards progress and kicks */
    pthread_cond_t progress_cv;
    pthread_cond_t kick_cv;
    uint64_t progress; /* dispatch rounds that resolved something */
    struct pending pending;
    uint64_t seq; /* records sent (in this process) */
    uint64_t acked, failed, send_errors, unmatched;
    uint64_t blocked_ns; /* time send() waited for room */
    long thread_id;      /* the callback thread's ident, 0 if none */
} producer_t;

extern PyTypeObject chpy_producer_type;

/* Waits (the GIL released) until the producer made progress or timeout_s
 * passed; from the callback thread itself it dispatches instead.  Returns
 * -1 with an exception set if the wait was interrupted. */
int producer_wait_progress(producer_t *p, double timeout_s);

#endif
