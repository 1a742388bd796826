/*
 * ctlclient.c: libchute's requests on the control socket.
 */
#include "shm/ctlclient.h"

#include "common/err.h"
#include "common/proc.h"
#include "proto/ctlmsg.h"

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

/* One connection and its hello. */
static int connect_once(const char *name, int timeout_ms)
{
    Chute__Ctl__Request q = CHUTE__CTL__REQUEST__INIT;
    Chute__Ctl__Hello hello = CHUTE__CTL__HELLO__INIT;
    Chute__Ctl__Reply *r = NULL;
    int fd = ctlmsg_connect(name, timeout_ms), rc;

    if (fd < 0)
        return fd;
    hello.client_pid = (uint32_t)getpid();
    hello.protocol_version = CTLMSG_PROTOCOL_VERSION;
    q.body_case = CHUTE__CTL__REQUEST__BODY_HELLO;
    q.hello = &hello;
    rc = roundtrip(fd, &q, &r, timeout_ms);
    if (rc == 0 && r->body_case != CHUTE__CTL__REPLY__BODY_HELLO)
        rc = err_set(CHUTE_ERR_PROTOCOL, "service answered hello oddly");
    ctlmsg_reply_free(r);
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
