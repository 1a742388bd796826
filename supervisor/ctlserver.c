/*
 * ctlserver.c: the supervisor's control socket.  A Unix stream socket at
 * ctlmsg_socket_path(name); each connection sends length-prefixed
 * Request messages and gets one Reply each, in order: a request answered
 * later (resolve, flush, topics) stops reading its connection until then,
 * and never holds up another connection.  Bad input closes the
 * connection; it never reaches further than this file.
 *
 * No client can take the socket from the others (docs/security.md):
 * - who a peer is comes from the kernel at accept (ctlauth.c); requests
 *   that change the service are answered CHUTE_ERR_DENIED unless it is an
 *   admin;
 * - one uid holds at most control.connections.per.user connections, and
 *   the last CONFIG_CONTROL_ADMIN_RESERVE of control.connections.max are
 *   for admins; a connection over either limit gets an error reply and is
 *   closed;
 * - a connection that sends no request for control.idle.timeout.ms, or
 *   takes longer than control.request.timeout.ms to send one whole, is
 *   closed (its buffer with it); a request may be CTLMSG_REQUEST_MAX long;
 * - when accept() fails for want of descriptors or memory, the listening
 *   socket is left alone for a while (100 ms, doubling to 1 s) instead of
 *   being polled again at once, and the log says so once.
 * Each refusal is counted (struct sup_ctl_stats: status and /metrics).
 */
#include "supervisor/sup.h"
#include "supervisor/acl.h"
#include "supervisor/clients.h"

#include "common/err.h"
#include "common/log.h"
#include "common/proc.h"
#include "broker/mdfetch.h"

#include <stddef.h>

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define FLUSH_POLL_S 0.005
#define FLUSH_TIMEOUT_DEFAULT_MS 30000
#define ACCEPT_PAUSE_MIN_S 0.1
#define ACCEPT_PAUSE_MAX_S 1.0
#define ACCEPT_BATCH 64       /* connections taken per turn of the loop */
#define REFUSAL_LOG_MS 1000   /* at most one refusal logged per second */


/* A connection: the table in struct sup holds &conn->c.  The state of the
 * requests that are answered later lives here. */
struct ctl_conn {
    struct sup_ctl_client c;
    ev_timer deadline;               /* idle or request time-out */
    int64_t idle_since_ms;           /* last request, or its answer */
    int64_t msg_start_ms;            /* first byte of a partial request */
    bool waiting;                    /* a reply is due later: not reading */
    struct sup_describe *describing; /* Topics: the cluster's answers */
    bool flushing;
    ev_timer flush_poll;
    int64_t flush_start_ms, flush_deadline_ms;
    uint64_t flush_acked0, flush_failed0;
    uint64_t flush_tail[SLOT_MAX];   /* every slot's tail at the request */
};

_Static_assert(offsetof(struct ctl_conn, c) == 0, "ctl_conn starts with c");

static struct ctl_conn *conn_of(struct sup_ctl_client *c)
{
    return (struct ctl_conn *)c;
}

static void client_close(struct sup_ctl_client *c)
{
    struct sup *s = c->sup;
    struct ctl_conn *k = conn_of(c);

    for (int i = 0; i < SUP_CTL_CLIENTS_MAX; i++)
        if (s->clients[i] == c)
            s->clients[i] = NULL;
    ev_io_stop(s->loop, &c->io);
    close(c->fd);
    topics_resolve_cancel(c->resolving);
    topics_describe_cancel(k->describing);
    ev_timer_stop(s->loop, &k->flush_poll);
    ev_timer_stop(s->loop, &k->deadline);
    free(c->resolving_name);
    ctlmsg_reader_release(&c->reader);
    free(k);
}

static void reply_error(Chute__Ctl__Reply *r, int err)
{
    r->error_code = err;
    r->error_message = (char *)chute_errmsg();
}

/* Logs a refusal, at most one a second: a client that is refused in a
 * loop must not flood the log. */
static void log_refusal(const char *what)
{
    static int64_t last_ms;
    static unsigned long quiet;
    int64_t now = mono_ms();

    if (last_ms && now - last_ms < REFUSAL_LOG_MS) {
        quiet++;
        return;
    }
    if (quiet)
        log_warn("control socket: %s (and %lu more refusals not logged)",
                 what, quiet);
    else
        log_warn("control socket: %s", what);
    last_ms = now;
    quiet = 0;
}

/* ---- time limits ---------------------------------------------------- */

/* (Re)arms k's deadline: the end of the request it began, or of its idle
 * time.  None while it waits for an answer: that request has its own
 * limits (flush's timeout, the cluster's for resolve and topics). */
static void conn_arm(struct ctl_conn *k)
{
    const struct config *cfg = &k->c.sup->cfg;
    int64_t now = mono_ms(), due;

    ev_timer_stop(k->c.sup->loop, &k->deadline);
    if (k->waiting || k->c.broken)
        return;
    if (ctlmsg_reader_busy(&k->c.reader)) {
        if (!k->msg_start_ms)
            k->msg_start_ms = now;
        due = k->msg_start_ms + cfg->control_request_timeout_ms;
    } else {
        k->msg_start_ms = 0;
        due = k->idle_since_ms + cfg->control_idle_timeout_ms;
    }
    ev_timer_set(&k->deadline, due > now ? (double)(due - now) / 1000.0 : 0,
                 0);
    ev_timer_start(k->c.sup->loop, &k->deadline);
}

static void deadline_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct ctl_conn *k = t->data;
    struct sup *s = k->c.sup;

    (void)loop;
    (void)revents;
    if (ctlmsg_reader_busy(&k->c.reader)) {
        s->ctl_stats.closed_request_timeout++;
        log_debug("control socket: uid %u (pid %d) did not finish a request "
                  "within %d ms; closing", (unsigned)k->c.peer.uid,
                  (int)k->c.peer.pid, s->cfg.control_request_timeout_ms);
    } else {
        s->ctl_stats.closed_idle++;
        log_debug("control socket: closing a connection of uid %u (pid %d), "
                  "idle for %d ms", (unsigned)k->c.peer.uid,
                  (int)k->c.peer.pid, s->cfg.control_idle_timeout_ms);
    }
    client_close(&k->c);
}

/* Returns the descriptor to pass after the reply (the registered
 * client's user object), or -1. */
static int handle_hello(struct sup_ctl_client *c, const Chute__Ctl__Hello *q,
                        Chute__Ctl__Reply *r, Chute__Ctl__HelloReply *h)
{
    struct sup *s = c->sup;
    uint32_t user = 0;
    int idx = -1;

    if (q->register_client) {
        idx = clients_register(&s->in, &c->peer,
                               (uint32_t)s->cfg.clients_per_user, &user);
        if (idx < 0) {
            log_refusal(chute_errmsg());
            reply_error(r, idx);
            return -1;
        }
        h->user = user;
        h->user_fd_follows = true;
        s->user_peer[user] = c->peer;
    }
    h->service_name = s->cfg.name;
    h->layout_version = LAYOUT_VERSION;
    h->supervisor_pid = (uint32_t)getpid();
    h->protocol_version = CTLMSG_PROTOCOL_VERSION;
    h->client_index = idx;
    r->body_case = CHUTE__CTL__REPLY__BODY_HELLO;
    r->hello = h;
    return idx < 0 ? -1 : s->in.user_fd[user];
}

static void handle_reports(struct sup_ctl_client *c,
                           const Chute__Ctl__ReportsRequest *q,
                           Chute__Ctl__Reply *r, Chute__Ctl__ReportsReply *rr)
{
    int ring = clients_reports(&c->sup->in, &c->peer, q->client_index,
                               q->enable);

    if (ring < 0) {
        reply_error(r, ring);
        return;
    }
    rr->report_ring = q->enable ? ring : -1;
    r->body_case = CHUTE__CTL__REPLY__BODY_REPORTS;
    r->reports = rr;
}

static void handle_bye(struct sup_ctl_client *c, const Chute__Ctl__ByeRequest *q,
                       Chute__Ctl__Reply *r, Chute__Ctl__ByeReply *br)
{
    int rc = clients_bye(&c->sup->in, &c->peer, q->client_index);

    if (rc < 0) {
        reply_error(r, rc);
        return;
    }
    r->body_case = CHUTE__CTL__REPLY__BODY_BYE;
    r->bye = br;
}

static int send_reply(struct sup_ctl_client *c, Chute__Ctl__Reply *r);

/* Stops reading c until answer_later() sent the reply it now owes, so
 * that replies keep the order of the requests. */
static void wait_for_answer(struct sup_ctl_client *c)
{
    conn_of(c)->waiting = true;
    ev_io_stop(c->sup->loop, &c->io);
}

/* Sends a reply that waited; then reads c's next request, or closes c if
 * it is broken (unless the handler that began the wait is still on the
 * stack: then client_cb closes it). */
static void answer_later(struct sup_ctl_client *c, Chute__Ctl__Reply *r)
{
    int rc = send_reply(c, r);
    bool waited = !c->starting;

    conn_of(c)->waiting = false;
    conn_of(c)->idle_since_ms = mono_ms();
    if (rc < 0)
        c->broken = true;
    if (c->broken && waited) {
        client_close(c);
    } else if (!c->broken) {
        ev_io_start(c->sup->loop, &c->io);
        conn_arm(conn_of(c));
    }
}

/* The cluster answered a client's resolve. */
static void resolved(void *arg, int id)
{
    struct sup_ctl_client *c = arg;
    Chute__Ctl__Reply r = CHUTE__CTL__REPLY__INIT;
    Chute__Ctl__TopicInfo t = CHUTE__CTL__TOPIC_INFO__INIT;
    struct sup *s = c->sup;
    char *name = c->resolving_name;

    c->resolving = NULL;
    c->resolving_name = NULL;
    if (id < 0) {
        reply_error(&r, id);
    } else {
        t.name = name;
        t.topic_id = id;
        t.partition_count = (int32_t)atomic_load(
            &instance_topic(&s->in, (uint32_t)id)->partitions);
        clients_allow_topic(&s->in, c->peer.uid, (uint32_t)id);
        r.body_case = CHUTE__CTL__REPLY__BODY_TOPIC;
        r.topic = &t;
    }
    answer_later(c, &r);
    free(name);
}

/* Topic access control (supervisor/acl.h): refused before anything is
 * looked up, so that no topic is auto-created for a user who may not
 * write it; counted for the uid's user space. */
static int check_acl(struct sup_ctl_client *c, const char *topic)
{
    struct sup *s = c->sup;
    const struct ctlauth_peer *p = &c->peer;
    int user = clients_user_of(&s->in, p->uid);

    if (acl_allows(&s->cfg, p->uid, p->gid, p->groups, p->n_groups, topic))
        return 0;
    if (user >= 0)
        atomic_fetch_add(&instance_user(&s->in, (uint32_t)user)->refused, 1);
    err_set(CHUTE_ERR_DENIED, "uid %u may not write topic \"%s\": no "
            "acl.user or acl.group rule allows it", (unsigned)p->uid, topic);
    log_refusal(chute_errmsg());
    return CHUTE_ERR_DENIED;
}

static int handle_resolve(struct sup_ctl_client *c,
                          const Chute__Ctl__ResolveTopic *q)
{
    int rc = check_acl(c, q->name ? q->name : "");

    if (rc < 0) {
        Chute__Ctl__Reply r = CHUTE__CTL__REPLY__INIT;
        reply_error(&r, rc);
        return send_reply(c, &r);
    }
    c->resolving_name = strdup(q->name ? q->name : "");
    if (!c->resolving_name)
        return -1;
    wait_for_answer(c);
    c->starting = true;
    c->resolving = topics_resolve(c->sup, c->resolving_name, resolved, c);
    c->starting = false;
    return c->broken ? -1 : 0;
}

/* ---- Scale ---------------------------------------------------------- */

static void handle_scale(struct sup *s, const Chute__Ctl__ScaleRequest *q,
                         Chute__Ctl__Reply *r, Chute__Ctl__ScaleReply *sr)
{
    uint32_t most = s->in.slots < WORKER_MAX ? s->in.slots : WORKER_MAX;
    int rc;

    if (q->workers < 1 || q->workers > most) {
        reply_error(r, err_set(CHUTE_ERR_INVALID,
                               "cannot scale to %u workers: 1..%u", q->workers,
                               most));
        return;
    }
    if (s->stopping) {
        reply_error(r, err_set(CHUTE_ERR_CLOSED, "the service is draining"));
        return;
    }
    rc = sup_scale(s, q->workers);
    if (rc < 0) {
        reply_error(r, rc);
        return;
    }
    log_info("control socket: scaling to %u workers", q->workers);
    sr->workers = q->workers;
    r->body_case = CHUTE__CTL__REPLY__BODY_SCALE;
    r->scale = sr;
}

/* ---- Flush ---------------------------------------------------------- */

static void workers_counted(const struct sup *s, uint64_t *acked,
                            uint64_t *failed)
{
    *acked = *failed = 0;
    for (uint32_t i = 0; i < WORKER_MAX; i++) {
        struct state_worker *st = instance_worker(&s->in, i);
        *acked += atomic_load(&st->records_acked);
        *failed += atomic_load(&st->records_failed);
    }
}

/* True when every slot resolved what it held at the request. */
static bool flush_done(const struct ctl_conn *k)
{
    const struct sup *s = k->c.sup;

    for (uint32_t i = 0; i < s->in.slots; i++) {
        struct ring r;
        instance_ring(&s->in, i, &r);
        if (atomic_load(&r.cons->resolved) < k->flush_tail[i])
            return false;
    }
    return true;
}

/* Fills the flush reply, or the time-out error. */
static void flush_answer(struct ctl_conn *k, bool done, Chute__Ctl__Reply *r,
                         Chute__Ctl__FlushReply *fr)
{
    uint64_t acked, failed;

    if (!done) {
        reply_error(r, err_set(CHUTE_ERR_TIMED_OUT,
                               "flush: records still unresolved after %lld ms",
                               (long long)(k->flush_deadline_ms -
                                           k->flush_start_ms)));
        return;
    }
    workers_counted(k->c.sup, &acked, &failed);
    fr->records_acked = acked - k->flush_acked0;
    fr->records_failed = failed - k->flush_failed0;
    fr->waited_ms = (uint64_t)(mono_ms() - k->flush_start_ms);
    r->body_case = CHUTE__CTL__REPLY__BODY_FLUSH;
    r->flush = fr;
}

static void flush_poll_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct ctl_conn *k = t->data;
    Chute__Ctl__Reply r = CHUTE__CTL__REPLY__INIT;
    Chute__Ctl__FlushReply fr = CHUTE__CTL__FLUSH_REPLY__INIT;
    bool done = flush_done(k);

    (void)revents;
    if (!done && mono_ms() < k->flush_deadline_ms)
        return;
    ev_timer_stop(loop, t);
    k->flushing = false;
    flush_answer(k, done, &r, &fr);
    answer_later(&k->c, &r);
}

/* Answers at once when nothing is outstanding, else polls. */
static int handle_flush(struct sup_ctl_client *c,
                        const Chute__Ctl__FlushRequest *q,
                        Chute__Ctl__Reply *r, Chute__Ctl__FlushReply *fr)
{
    struct ctl_conn *k = conn_of(c);
    struct sup *s = c->sup;
    uint32_t timeout = q->timeout_ms ? q->timeout_ms
                                     : FLUSH_TIMEOUT_DEFAULT_MS;

    workers_counted(s, &k->flush_acked0, &k->flush_failed0);
    for (uint32_t i = 0; i < s->in.slots; i++) {
        struct ring ring;
        instance_ring(&s->in, i, &ring);
        k->flush_tail[i] = atomic_load(&ring.prod->tail);
    }
    k->flush_start_ms = mono_ms();
    k->flush_deadline_ms = k->flush_start_ms + timeout;
    if (flush_done(k)) {
        flush_answer(k, true, r, fr);
        return 1;
    }
    k->flushing = true;
    wait_for_answer(c);
    ev_timer_start(s->loop, &k->flush_poll);
    return 0;
}

/* ---- Drain ---------------------------------------------------------- */

static void drain_cb(int revents, void *arg)
{
    (void)revents;
    sup_stop(arg);
}

/* The reply goes first; sup_stop() closes every connection, so it runs
 * from the loop once this handler is off the stack. */
static void handle_drain(struct sup *s, Chute__Ctl__Reply *r,
                         Chute__Ctl__DrainReply *dr)
{
    log_info("control socket: drain requested; stopping intake");
    dr->state = "draining";
    r->body_case = CHUTE__CTL__REPLY__BODY_DRAIN;
    r->drain = dr;
    ev_once(s->loop, -1, 0, 0.0, drain_cb, s);
}

/* ---- Reload --------------------------------------------------------- */

static void handle_reload(struct sup *s, Chute__Ctl__Reply *r,
                          Chute__Ctl__ReloadReply *rr)
{
    const char *restart;
    int rc;

    log_info("control socket: reload requested");
    rc = sup_reload_apply(s, &restart);
    if (rc < 0) {
        reply_error(r, rc);
        return;
    }
    rr->restart_needed = (char *)(restart ? restart : "");
    r->body_case = CHUTE__CTL__REPLY__BODY_RELOAD;
    r->reload = rr;
}

/* ---- Topics --------------------------------------------------------- */

static void described(void *arg, Chute__Ctl__TopicsReply *tr)
{
    struct sup_ctl_client *c = arg;
    Chute__Ctl__Reply r = CHUTE__CTL__REPLY__INIT;

    conn_of(c)->describing = NULL;
    if (!tr) {
        reply_error(&r, CHUTE_ERR_SYSTEM);
    } else {
        r.body_case = CHUTE__CTL__REPLY__BODY_TOPICS;
        r.topics = tr;
    }
    answer_later(c, &r);
}

static int handle_topics(struct sup_ctl_client *c)
{
    struct ctl_conn *k = conn_of(c);

    wait_for_answer(c);
    c->starting = true;
    k->describing = topics_describe(c->sup, described, c);
    c->starting = false;
    return c->broken ? -1 : 0;
}

/* status.c builds the status reply; it lives apart for its size. */

static int send_reply(struct sup_ctl_client *c, Chute__Ctl__Reply *r)
{
    int rc = ctlmsg_send_reply(c->fd, r);

    sup_status_free(r);
    return rc;
}

/* Answers one request; some answer later (answer_later()). */
static int handle(struct sup_ctl_client *c, const Chute__Ctl__Request *q)
{
    Chute__Ctl__Reply r = CHUTE__CTL__REPLY__INIT;
    Chute__Ctl__HelloReply h = CHUTE__CTL__HELLO_REPLY__INIT;
    Chute__Ctl__ScaleReply sr = CHUTE__CTL__SCALE_REPLY__INIT;
    Chute__Ctl__FlushReply fr = CHUTE__CTL__FLUSH_REPLY__INIT;
    Chute__Ctl__DrainReply dr = CHUTE__CTL__DRAIN_REPLY__INIT;
    Chute__Ctl__ReloadReply rr = CHUTE__CTL__RELOAD_REPLY__INIT;
    Chute__Ctl__ReportsReply rp = CHUTE__CTL__REPORTS_REPLY__INIT;
    Chute__Ctl__ByeReply br = CHUTE__CTL__BYE_REPLY__INIT;

    conn_of(c)->idle_since_ms = mono_ms();
    if (ctlauth_check(&c->sup->ctl_policy, &c->peer, q->body_case) < 0) {
        c->sup->ctl_stats.refused_not_admin++;
        log_refusal(chute_errmsg());
        reply_error(&r, CHUTE_ERR_DENIED);
        return send_reply(c, &r);
    }
    switch (q->body_case) {
    case CHUTE__CTL__REQUEST__BODY_HELLO:
    {
        int pass = handle_hello(c, q->hello, &r, &h);
        int rc = send_reply(c, &r);
        return rc < 0 || pass < 0 ? rc : ctlmsg_send_fd(c->fd, pass);
    }
    case CHUTE__CTL__REQUEST__BODY_REPORTS:
        handle_reports(c, q->reports, &r, &rp);
        break;
    case CHUTE__CTL__REQUEST__BODY_BYE:
        handle_bye(c, q->bye, &r, &br);
        break;
    case CHUTE__CTL__REQUEST__BODY_RESOLVE_TOPIC:
        return handle_resolve(c, q->resolve_topic);
    case CHUTE__CTL__REQUEST__BODY_STATUS:
        if (sup_status_reply(c->sup, &r) < 0)
            reply_error(&r, err_set(CHUTE_ERR_SYSTEM, "out of memory"));
        break;
    case CHUTE__CTL__REQUEST__BODY_SCALE:
        handle_scale(c->sup, q->scale, &r, &sr);
        break;
    case CHUTE__CTL__REQUEST__BODY_FLUSH:
        if (handle_flush(c, q->flush, &r, &fr) == 0)
            return 0;
        break;
    case CHUTE__CTL__REQUEST__BODY_DRAIN:
        handle_drain(c->sup, &r, &dr);
        break;
    case CHUTE__CTL__REQUEST__BODY_TOPICS:
        return handle_topics(c);
    case CHUTE__CTL__REQUEST__BODY_RELOAD:
        handle_reload(c->sup, &r, &rr);
        break;
    default:
        reply_error(&r, err_set(CHUTE_ERR_INVALID, "unknown request"));
        break;
    }
    return send_reply(c, &r);
}

static void client_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct sup_ctl_client *c = io->data;
    int rc;

    (void)loop;
    (void)revents;
    while ((rc = ctlmsg_reader_feed(&c->reader, c->fd)) == 1) {
        Chute__Ctl__Request *q = ctlmsg_reader_take(&c->reader);
        conn_of(c)->msg_start_ms = 0;
        rc = q ? handle(c, q) : -1;
        ctlmsg_request_free(q);
        if (rc < 0 || conn_of(c)->waiting)
            break; /* closing, or a reply is due later */
    }
    if (rc == CHUTE_ERR_TOO_LARGE)
        c->sup->ctl_stats.closed_too_large++;
    if (rc < 0)
        client_close(c);
    else
        conn_arm(conn_of(c));
}

/* ---- who may connect -------------------------------------------------- */

uint32_t ctlserver_connections(const struct sup *s)
{
    uint32_t n = 0;

    for (int i = 0; i < SUP_CTL_CLIENTS_MAX; i++)
        n += s->clients[i] != NULL;
    return n;
}

uint32_t ctlserver_connections_of(const struct sup *s, uid_t uid)
{
    uint32_t n = 0;

    for (int i = 0; i < SUP_CTL_CLIENTS_MAX; i++)
        n += s->clients[i] && s->clients[i]->peer.uid == uid;
    return n;
}

/* 0 when the table has room for p, else CHUTE_ERR_TOO_MANY, counted. */
static int admit(struct sup *s, const struct ctlauth_peer *p)
{
    uint32_t per_user = (uint32_t)s->cfg.control_connections_per_user;
    uint32_t most = (uint32_t)s->cfg.control_connections_max;
    uint32_t open = ctlserver_connections(s);

    if (ctlserver_connections_of(s, p->uid) >= per_user) {
        s->ctl_stats.refused_user_limit++;
        return err_set(CHUTE_ERR_TOO_MANY,
                       "uid %u (pid %d) has %u control connections open, "
                       "the most one user may have "
                       "(control.connections.per.user)",
                       (unsigned)p->uid, (int)p->pid, per_user);
    }
    if (!p->admin && most > CONFIG_CONTROL_ADMIN_RESERVE)
        most -= CONFIG_CONTROL_ADMIN_RESERVE;
    if (open >= most) {
        s->ctl_stats.refused_full++;
        return err_set(CHUTE_ERR_TOO_MANY,
                       "%u control connections are open, the most chuted "
                       "takes%s (control.connections.max); refusing uid %u "
                       "(pid %d)",
                       open, p->admin ? "" : " from users who are not admins",
                       (unsigned)p->uid, (int)p->pid);
    }
    return 0;
}

/* Tells the peer why, then closes: the reply fits an empty socket. */
static void refuse(int fd, int err)
{
    Chute__Ctl__Reply r = CHUTE__CTL__REPLY__INIT;

    log_refusal(chute_errmsg());
    reply_error(&r, err);
    ctlmsg_send_reply(fd, &r);
    close(fd);
}

static void conn_open(struct sup *s, int fd, const struct ctlauth_peer *p)
{
    struct ctl_conn *k = calloc(1, sizeof(*k));
    struct sup_ctl_client *c;
    int i;

    for (i = 0; i < SUP_CTL_CLIENTS_MAX && s->clients[i]; i++)
        ;
    if (!k || i == SUP_CTL_CLIENTS_MAX) { /* admit() keeps a slot free */
        free(k);
        close(fd);
        return;
    }
    c = &k->c;
    ev_timer_init(&k->flush_poll, flush_poll_cb, FLUSH_POLL_S, FLUSH_POLL_S);
    k->flush_poll.data = k;
    ev_timer_init(&k->deadline, deadline_cb, 0, 0);
    k->deadline.data = k;
    k->idle_since_ms = mono_ms();
    c->fd = fd;
    c->sup = s;
    c->peer = *p;
    ctlmsg_reader_init(&c->reader);
    ctlmsg_reader_set_max(&c->reader, CTLMSG_REQUEST_MAX);
    ev_io_init(&c->io, client_cb, fd, EV_READ);
    c->io.data = c;
    ev_io_start(s->loop, &c->io);
    s->clients[i] = c;
    conn_arm(k);
}

static void take(struct sup *s, int fd)
{
    struct ctlauth_peer p;
    int rc = ctlauth_peer_read(fd, &s->ctl_policy, &p);

    if (rc < 0) {
        log_refusal(chute_errmsg());
        close(fd);
        return;
    }
    rc = admit(s, &p);
    if (rc < 0)
        refuse(fd, rc);
    else
        conn_open(s, fd, &p);
}

/* ---- accepting -------------------------------------------------------- */

static void accept_resume_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct sup *s = t->data;

    (void)revents;
    if (s->listen_fd >= 0)
        ev_io_start(loop, &s->listen_io);
}

/* accept() failed for want of descriptors or memory.  The socket stays
 * readable, so polling it again would spin: leave it alone for a while,
 * longer each time it fails again. */
static void accept_pause(struct sup *s, int err)
{
    if (s->accept_backoff_s == 0) {
        s->accept_backoff_s = ACCEPT_PAUSE_MIN_S;
        log_warn("control socket: cannot accept connections: %s; trying "
                 "again every %.1f to %.1f s until that passes",
                 strerror(err), ACCEPT_PAUSE_MIN_S, ACCEPT_PAUSE_MAX_S);
    } else if (s->accept_backoff_s < ACCEPT_PAUSE_MAX_S) {
        s->accept_backoff_s *= 2;
        if (s->accept_backoff_s > ACCEPT_PAUSE_MAX_S)
            s->accept_backoff_s = ACCEPT_PAUSE_MAX_S;
    }
    s->ctl_stats.accept_pauses++;
    ev_io_stop(s->loop, &s->listen_io);
    ev_timer_set(&s->accept_pause, s->accept_backoff_s, 0);
    ev_timer_start(s->loop, &s->accept_pause);
}

static void accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct sup *s = io->data;

    (void)loop;
    (void)revents;
    for (int n = 0; n < ACCEPT_BATCH && s->listen_fd >= 0; n++) {
        int fd = accept4(s->listen_fd, NULL, NULL,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EINTR || errno == ECONNABORTED))
            continue;
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                accept_pause(s, errno);
            return;
        }
        if (s->accept_backoff_s != 0) {
            log_info("control socket: accepting connections again");
            s->accept_backoff_s = 0;
        }
        take(s, fd);
    }
}

/* Refuses to start beside a running chuted of the same name. */
static int check_not_running(struct sup *s)
{
    int fd = ctlmsg_connect(s->cfg.name, 1000);

    if (fd >= 0) {
        close(fd);
        return err_set(CHUTE_ERR_INVALID,
                       "a chuted named \"%s\" is already running (%s answers)",
                       s->cfg.name, s->socket_path);
    }
    unlink(s->socket_path); /* stale: nobody listens */
    return 0;
}

/* Who is an admin: root, chuted's effective uid, admin.group. */
static int admin_policy(struct sup *s)
{
    const char *name = s->cfg.admin_group;
    const struct group *g;

    s->ctl_policy.self = geteuid();
    s->ctl_policy.admin_gid = -1;
    s->ctl_policy.admin_group = name;
    if (!name || !*name)
        return 0;
    g = getgrnam(name);
    if (!g)
        return err_set(CHUTE_ERR_INVALID,
                       "\"admin.group\": no group named \"%s\"", name);
    s->ctl_policy.admin_gid = (long)g->gr_gid;
    return 0;
}

int ctlserver_start(struct sup *s)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int rc, gid;

    if (ctlmsg_socket_path(s->cfg.name, s->socket_path,
                           sizeof(s->socket_path)) < 0)
        return err_set(CHUTE_ERR_INVALID, "socket path too long");
    rc = sup_intake_gid(s, &gid);
    if (rc == 0)
        rc = admin_policy(s);
    if (rc < 0)
        return rc;
    rc = check_not_running(s);
    if (rc < 0)
        return rc;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->socket_path);
    s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                          0);
    if (s->listen_fd < 0 ||
        bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        chmod(s->socket_path, 0660) < 0 ||
        (gid >= 0 && chown(s->socket_path, (uid_t)-1, (gid_t)gid) < 0) ||
        listen(s->listen_fd, 64) < 0)
        return err_sys("cannot listen on \"%s\"", s->socket_path);
    ev_io_init(&s->listen_io, accept_cb, s->listen_fd, EV_READ);
    s->listen_io.data = s;
    ev_timer_init(&s->accept_pause, accept_resume_cb, 0, 0);
    s->accept_pause.data = s;
    ev_io_start(s->loop, &s->listen_io);
    return 0;
}

void ctlserver_stop(struct sup *s)
{
    if (s->listen_fd < 0)
        return;
    ev_io_stop(s->loop, &s->listen_io);
    ev_timer_stop(s->loop, &s->accept_pause);
    close(s->listen_fd);
    s->listen_fd = -1;
    unlink(s->socket_path);
    for (int i = 0; i < SUP_CTL_CLIENTS_MAX; i++)
        if (s->clients[i])
            client_close(s->clients[i]);
}
