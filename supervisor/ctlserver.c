/*
 * ctlserver.c: the supervisor's control socket.  A Unix stream socket at
 * ctlmsg_socket_path(name); each connection sends length-prefixed
 * Request messages and gets one Reply each.  Bad input closes the
 * connection; it never reaches further than this file.
 */
#include "supervisor/sup.h"

#include "common/err.h"
#include "common/log.h"
#include "common/proc.h"
#include "worker/mdfetch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>


static void client_close(struct sup_ctl_client *c)
{
    struct sup *s = c->sup;

    for (int i = 0; i < SUP_CTL_CLIENTS_MAX; i++)
        if (s->clients[i] == c)
            s->clients[i] = NULL;
    ev_io_stop(s->loop, &c->io);
    close(c->fd);
    topics_resolve_cancel(c->resolving);
    free(c->resolving_name);
    ctlmsg_reader_release(&c->reader);
    free(c);
}

static void reply_error(Chute__Ctl__Reply *r, int err)
{
    r->error_code = err;
    r->error_message = (char *)chute_errmsg();
}

static void handle_hello(struct sup *s, Chute__Ctl__Reply *r,
                         Chute__Ctl__HelloReply *h)
{
    h->service_name = s->cfg.name;
    h->layout_version = LAYOUT_VERSION;
    h->supervisor_pid = (uint32_t)getpid();
    h->protocol_version = CTLMSG_PROTOCOL_VERSION;
    r->body_case = CHUTE__CTL__REPLY__BODY_HELLO;
    r->hello = h;
}

static int send_reply(struct sup_ctl_client *c, Chute__Ctl__Reply *r);

/* The cluster answered a client's resolve: reply, and read its next
 * request (reading stopped while it waited, to keep replies in order). */
static void resolved(void *arg, int id)
{
    struct sup_ctl_client *c = arg;
    Chute__Ctl__Reply r = CHUTE__CTL__REPLY__INIT;
    Chute__Ctl__TopicInfo t = CHUTE__CTL__TOPIC_INFO__INIT;
    struct sup *s = c->sup;

    c->resolving = NULL;
    if (id < 0) {
        reply_error(&r, id);
    } else {
        t.name = c->resolving_name;
        t.topic_id = id;
        t.partition_count = (int32_t)atomic_load(
            &instance_topic(&s->in, (uint32_t)id)->partitions);
        r.body_case = CHUTE__CTL__REPLY__BODY_TOPIC;
        r.topic = &t;
    }
    int rc = send_reply(c, &r);
    bool waited = !c->starting; /* else handle() is still on the stack */

    free(c->resolving_name);
    c->resolving_name = NULL;
    if (rc < 0)
        c->broken = true;
    if (c->broken && waited)
        client_close(c);
    else if (!c->broken)
        ev_io_start(s->loop, &c->io);
}

static int handle_resolve(struct sup_ctl_client *c,
                          const Chute__Ctl__ResolveTopic *q)
{
    c->resolving_name = strdup(q->name ? q->name : "");
    if (!c->resolving_name)
        return -1;
    ev_io_stop(c->sup->loop, &c->io);
    c->starting = true;
    c->resolving = topics_resolve(c->sup, c->resolving_name, resolved, c);
    c->starting = false;
    return c->broken ? -1 : 0;
}

/* status.c builds the status reply; it lives apart for its size. */
int sup_status_reply(struct sup *s, Chute__Ctl__Reply *r);
void sup_status_free(Chute__Ctl__Reply *r);

static int send_reply(struct sup_ctl_client *c, Chute__Ctl__Reply *r)
{
    int rc = ctlmsg_send_reply(c->fd, r);

    sup_status_free(r);
    return rc;
}

/* Answers one request; a resolve may answer later (see resolved()). */
static int handle(struct sup_ctl_client *c, const Chute__Ctl__Request *q)
{
    Chute__Ctl__Reply r = CHUTE__CTL__REPLY__INIT;
    Chute__Ctl__HelloReply h = CHUTE__CTL__HELLO_REPLY__INIT;

    switch (q->body_case) {
    case CHUTE__CTL__REQUEST__BODY_HELLO:
        handle_hello(c->sup, &r, &h);
        break;
    case CHUTE__CTL__REQUEST__BODY_RESOLVE_TOPIC:
        return handle_resolve(c, q->resolve_topic);
    case CHUTE__CTL__REQUEST__BODY_STATUS:
        if (sup_status_reply(c->sup, &r) < 0)
            reply_error(&r, CHUTE_ERR_SYSTEM);
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
        rc = q ? handle(c, q) : -1;
        ctlmsg_request_free(q);
        if (rc < 0 || c->resolving_name)
            break; /* closing, or waiting for the cluster */
    }
    if (rc < 0)
        client_close(c);
}

static void accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct sup *s = io->data;
    int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    struct sup_ctl_client *c;

    (void)revents;
    if (fd < 0)
        return;
    for (int i = 0; i < SUP_CTL_CLIENTS_MAX; i++) {
        if (s->clients[i])
            continue;
        c = calloc(1, sizeof(*c));
        if (!c)
            break;
        c->fd = fd;
        c->sup = s;
        ctlmsg_reader_init(&c->reader);
        ev_io_init(&c->io, client_cb, fd, EV_READ);
        c->io.data = c;
        ev_io_start(loop, &c->io);
        s->clients[i] = c;
        return;
    }
    log_warn("control socket: too many connections; refusing one");
    close(fd);
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

int ctlserver_start(struct sup *s)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int rc;

    if (ctlmsg_socket_path(s->cfg.name, s->socket_path,
                           sizeof(s->socket_path)) < 0)
        return err_set(CHUTE_ERR_INVALID, "socket path too long");
    rc = check_not_running(s);
    if (rc < 0)
        return rc;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->socket_path);
    s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                          0);
    if (s->listen_fd < 0 ||
        bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        chmod(s->socket_path, 0660) < 0 || listen(s->listen_fd, 64) < 0)
        return err_sys("cannot listen on \"%s\"", s->socket_path);
    ev_io_init(&s->listen_io, accept_cb, s->listen_fd, EV_READ);
    s->listen_io.data = s;
    ev_io_start(s->loop, &s->listen_io);
    return 0;
}

void ctlserver_stop(struct sup *s)
{
    if (s->listen_fd < 0)
        return;
    ev_io_stop(s->loop, &s->listen_io);
    close(s->listen_fd);
    s->listen_fd = -1;
    unlink(s->socket_path);
    for (int i = 0; i < SUP_CTL_CLIENTS_MAX; i++)
        if (s->clients[i])
            client_close(s->clients[i]);
}
