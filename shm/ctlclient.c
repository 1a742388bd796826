/*
 * ctlclient.c: libchute's requests on the control socket.
 */
#include "shm/ctlclient.h"

#include "common/err.h"
#include "common/proc.h"
#include "proto/ctlmsg.h"
#include "shm/layout.h"

#include <unistd.h>

#define CONNECT_RETRY_MS 20

/* Sends one request and waits for its reply; the caller frees it. */
static int roundtrip(int fd, const Chute__Ctl__Request *q,
                     Chute__Ctl__Reply **out, int timeout_ms)
{
    int rc = ctlmsg_call(fd, q, out, timeout_ms);

    if (rc < 0)
        return rc;
    if ((*out)->error_code < 0) {
        rc = err_set((*out)->error_code, "%s",
                     (*out)->error_message ? (*out)->error_message : "error");
        ctlmsg_reply_free(*out);
        *out = NULL;
    }
    return rc;
}

/* What registering gives: the entry, its user space and that space's
 * object, passed after the reply. */
struct registration {
    int idx;
    uint32_t user;
    bool fd_follows;
};

/* A hello on fd (registering the process as a client if reg is not
 * NULL). */
static int hello(int fd, int timeout_ms, struct registration *reg)
{
    Chute__Ctl__Request q = CHUTE__CTL__REQUEST__INIT;
    Chute__Ctl__Hello h = CHUTE__CTL__HELLO__INIT;
    Chute__Ctl__Reply *r = NULL;
    int rc;

    h.client_pid = (uint32_t)getpid();
    h.protocol_version = CTLMSG_PROTOCOL_VERSION;
    h.register_client = reg != NULL;
    q.body_case = CHUTE__CTL__REQUEST__BODY_HELLO;
    q.hello = &h;
    rc = roundtrip(fd, &q, &r, timeout_ms);
    if (rc == 0 && (r->body_case != CHUTE__CTL__REPLY__BODY_HELLO ||
                    (reg && (r->hello->client_index < 0 ||
                             r->hello->client_index >= CLIENT_MAX ||
                             r->hello->user >= USER_MAX ||
                             !r->hello->user_fd_follows))))
        rc = err_set(CHUTE_ERR_PROTOCOL, "service answered hello oddly");
    if (rc == 0 && reg) {
        reg->idx = r->hello->client_index;
        reg->user = r->hello->user;
        reg->fd_follows = r->hello->user_fd_follows;
    }
    ctlmsg_reply_free(r);
    return rc;
}

/* One connection and its hello. */
static int connect_once(const char *name, int timeout_ms)
{
    int fd = ctlmsg_connect(name, timeout_ms), rc;

    if (fd < 0)
        return fd;
    rc = hello(fd, timeout_ms, NULL);
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}

int ctlclient_connect(const char *name, int timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;
    int rc = connect_once(name, timeout_ms);

    /* The service refuses a connection with CHUTE_ERR_TOO_MANY while this
     * user has control.connections.per.user open, or the table is full:
     * connections are short, so wait for room. */
    while (rc == CHUTE_ERR_TOO_MANY && timeout_ms >= 0 &&
           mono_ms() + 2 * CONNECT_RETRY_MS < deadline) {
        usleep(CONNECT_RETRY_MS * 1000);
        rc = connect_once(name, (int)(deadline - mono_ms()));
    }
    return rc;
}

int ctlclient_register(const char *name, int timeout_ms, uint32_t *user,
                       int *user_fd)
{
    struct registration reg = {-1, 0, false};
    int fd = ctlclient_connect(name, timeout_ms), rc;

    if (fd < 0)
        return fd;
    /* On a connection the service accepted: a refusal now is for the
     * client table (or this user's share of it), which waiting does not
     * empty. */
    rc = hello(fd, timeout_ms, &reg);
    if (rc == 0) {
        rc = ctlmsg_recv_fd(fd, timeout_ms);
        *user_fd = rc;
    }
    close(fd);
    *user = reg.user;
    return rc < 0 ? rc : reg.idx;
}

/* One request on a connection of its own; the reply in *out. */
static int call(const char *name, Chute__Ctl__Request *q,
                Chute__Ctl__Reply **out, int timeout_ms)
{
    int fd = ctlclient_connect(name, timeout_ms), rc;

    if (fd < 0)
        return fd;
    rc = roundtrip(fd, q, out, timeout_ms);
    close(fd);
    return rc;
}

int ctlclient_reports(const char *name, uint32_t idx, bool enable,
                      int timeout_ms)
{
    Chute__Ctl__Request q = CHUTE__CTL__REQUEST__INIT;
    Chute__Ctl__ReportsRequest rq = CHUTE__CTL__REPORTS_REQUEST__INIT;
    Chute__Ctl__Reply *r = NULL;
    int rc;

    rq.client_index = idx;
    rq.enable = enable;
    q.body_case = CHUTE__CTL__REQUEST__BODY_REPORTS;
    q.reports = &rq;
    rc = call(name, &q, &r, timeout_ms);
    if (rc < 0)
        return rc;
    if (r->body_case != CHUTE__CTL__REPLY__BODY_REPORTS ||
        r->reports->report_ring >= REPORT_RINGS ||
        r->reports->report_ring < (enable ? 0 : -1))
        rc = err_set(CHUTE_ERR_PROTOCOL, "service answered reports oddly");
    else
        rc = enable ? r->reports->report_ring : 0;
    ctlmsg_reply_free(r);
    return rc;
}

int ctlclient_bye(const char *name, uint32_t idx, int timeout_ms)
{
    Chute__Ctl__Request q = CHUTE__CTL__REQUEST__INIT;
    Chute__Ctl__ByeRequest bq = CHUTE__CTL__BYE_REQUEST__INIT;
    Chute__Ctl__Reply *r = NULL;
    int rc;

    bq.client_index = idx;
    q.body_case = CHUTE__CTL__REQUEST__BODY_BYE;
    q.bye = &bq;
    rc = call(name, &q, &r, timeout_ms);
    ctlmsg_reply_free(r);
    return rc;
}

int ctlclient_resolve(int fd, const char *topic, int timeout_ms)
{
    Chute__Ctl__Request q = CHUTE__CTL__REQUEST__INIT;
    Chute__Ctl__ResolveTopic rt = CHUTE__CTL__RESOLVE_TOPIC__INIT;
    Chute__Ctl__Reply *r = NULL;
    int rc;

    rt.name = (char *)topic;
    q.body_case = CHUTE__CTL__REQUEST__BODY_RESOLVE_TOPIC;
    q.resolve_topic = &rt;
    rc = roundtrip(fd, &q, &r, timeout_ms);
    if (rc < 0)
        return rc;
    if (r->body_case != CHUTE__CTL__REPLY__BODY_TOPIC || r->topic->topic_id < 0)
        rc = err_set(CHUTE_ERR_PROTOCOL, "service answered resolve oddly");
    else
        rc = r->topic->topic_id;
    ctlmsg_reply_free(r);
    return rc;
}
