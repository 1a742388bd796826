/*
 * ctlmsg.c: length-prefixed protobuf-c messages over the control socket.
 *
 * Every read and write uses MSG_DONTWAIT and waits in poll() when the
 * socket has no room or no data, so one code path serves blocking and
 * non-blocking sockets, honours timeouts and survives EINTR.
 */
#include "proto/ctlmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/name.h"
#include "common/rundir.h"

/* What ctlmsg_io() returns besides 0 and errors: end of stream, and (with
 * the deadline CTLMSG_NO_WAIT) no more bytes for now. */
#define CTLMSG_EOF     1
#define CTLMSG_AGAIN   2
#define CTLMSG_NO_WAIT (-2)

static int64_t ctlmsg_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t ctlmsg_deadline(int timeout_ms)
{
    return timeout_ms < 0 ? -1 : ctlmsg_now_ms() + timeout_ms;
}

/* Waits until fd has events or the deadline (-1: none) passes. */
static int ctlmsg_wait(int fd, short events, int64_t deadline)
{
    struct pollfd pfd = {.fd = fd, .events = events};
    int64_t left;
    int n;

    for (;;) {
        left = deadline < 0 ? -1 : deadline - ctlmsg_now_ms();
        if (deadline >= 0 && left < 0)
            left = 0;
        n = poll(&pfd, 1, (int)left);
        if (n > 0)
            return 0;
        if (n == 0)
            return err_set(CHUTE_ERR_TIMED_OUT,
                           "the control socket's peer did not %s in time",
                           events == POLLIN ? "answer" : "read");
        if (errno != EINTR)
            return err_sys("cannot poll the control socket");
    }
}

/* Sends or receives all len bytes (counted in *done), waiting up to the
 * deadline (-1: forever).  Returns 0, CTLMSG_EOF if the peer closed first,
 * CTLMSG_AGAIN if the deadline is CTLMSG_NO_WAIT and fd has nothing, or an
 * error. */
static int ctlmsg_io(int fd, bool sending, void *buf, size_t len, size_t *done,
                     int64_t deadline)
{
    ssize_t n;
    int rc;

    while (*done < len) {
        if (sending)
            n = send(fd, (char *)buf + *done, len - *done,
                     MSG_NOSIGNAL | MSG_DONTWAIT);
        else
            n = recv(fd, (char *)buf + *done, len - *done, MSG_DONTWAIT);
        if (n > 0) {
            *done += (size_t)n;
        } else if (n == 0) {
            return CTLMSG_EOF;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (deadline == CTLMSG_NO_WAIT)
                return CTLMSG_AGAIN;
            rc = ctlmsg_wait(fd, sending ? POLLOUT : POLLIN, deadline);
            if (rc < 0)
                return rc;
        } else if (errno != EINTR) {
            return err_sys("cannot %s the control socket",
                           sending ? "write to" : "read from");
        }
    }
    return 0;
}

static int ctlmsg_too_large(size_t len, size_t max)
{
    return err_set(CHUTE_ERR_TOO_LARGE,
                   "control message of %zu bytes is larger than the limit "
                   "of %zu",
                   len, max);
}

static int ctlmsg_eof(size_t got)
{
    if (got == 0)
        return err_set(CHUTE_ERR_CLOSED,
                       "the peer closed the control connection");
    return err_set(CHUTE_ERR_PROTOCOL, "the peer closed the control "
                                       "connection in the middle of a "
                                       "message");
}

static size_t ctlmsg_head_len(const uint8_t head[4])
{
    return (size_t)head[0] << 24 | (size_t)head[1] << 16 |
           (size_t)head[2] << 8 | head[3];
}

static int ctlmsg_decode(const ProtobufCMessageDescriptor *desc,
                         const uint8_t *body, size_t len,
                         ProtobufCMessage **out)
{
    *out = protobuf_c_message_unpack(desc, NULL, len, body);
    if (!*out)
        return err_set(CHUTE_ERR_PROTOCOL,
                       "control message of %zu bytes is not a valid \"%s\"",
                       len, desc->name);
    return 0;
}

static int ctlmsg_send(int fd, const ProtobufCMessage *msg)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    size_t done = 0;
    uint8_t *buf;
    int rc;

    if (len > CTLMSG_MAX)
        return ctlmsg_too_large(len, CTLMSG_MAX);
    buf = malloc(4 + len);
    if (!buf)
        return err_set(CHUTE_ERR_SYSTEM, "out of memory");
    buf[0] = (uint8_t)(len >> 24);
    buf[1] = (uint8_t)(len >> 16);
    buf[2] = (uint8_t)(len >> 8);
    buf[3] = (uint8_t)len;
    protobuf_c_message_pack(msg, buf + 4);
    rc = ctlmsg_io(fd, true, buf, 4 + len, &done,
                   ctlmsg_deadline(CTLMSG_SEND_TIMEOUT_MS));
    free(buf);
    if (rc == CTLMSG_EOF) /* send() never returns 0 bytes; be safe */
        rc = err_set(CHUTE_ERR_SYSTEM, "the control socket is closed");
    return rc;
}

static int ctlmsg_recv(int fd, const ProtobufCMessageDescriptor *desc,
                       ProtobufCMessage **out, int timeout_ms)
{
    int64_t deadline = ctlmsg_deadline(timeout_ms);
    uint8_t head[4], *body;
    size_t len, got = 0;
    int rc;

    *out = NULL;
    rc = ctlmsg_io(fd, false, head, 4, &got, deadline);
    if (rc != 0)
        return rc == CTLMSG_EOF ? ctlmsg_eof(got) : rc;
    len = ctlmsg_head_len(head);
    if (len > CTLMSG_MAX)
        return ctlmsg_too_large(len, CTLMSG_MAX);
    body = malloc(len + 1);
    if (!body)
        return err_set(CHUTE_ERR_SYSTEM, "out of memory");
    got = 0;
    rc = ctlmsg_io(fd, false, body, len, &got, deadline);
    if (rc == 0)
        rc = ctlmsg_decode(desc, body, len, out);
    else if (rc == CTLMSG_EOF)
        rc = ctlmsg_eof(4 + got);
    free(body);
    return rc;
}

int ctlmsg_send_request(int fd, const Chute__Ctl__Request *req)
{
    return ctlmsg_send(fd, &req->base);
}

int ctlmsg_send_reply(int fd, const Chute__Ctl__Reply *reply)
{
    return ctlmsg_send(fd, &reply->base);
}

int ctlmsg_recv_request(int fd, Chute__Ctl__Request **out, int timeout_ms)
{
    return ctlmsg_recv(fd, &chute__ctl__request__descriptor,
                       (ProtobufCMessage **)out, timeout_ms);
}

int ctlmsg_recv_reply(int fd, Chute__Ctl__Reply **out, int timeout_ms)
{
    return ctlmsg_recv(fd, &chute__ctl__reply__descriptor,
                       (ProtobufCMessage **)out, timeout_ms);
}

int ctlmsg_call(int fd, const Chute__Ctl__Request *req,
                Chute__Ctl__Reply **out, int timeout_ms)
{
    char why[256];
    int rc = ctlmsg_send_request(fd, req);

    *out = NULL;
    if (rc == 0)
        return ctlmsg_recv_reply(fd, out, timeout_ms);
    if (rc != CHUTE_ERR_SYSTEM)
        return rc;
    /* The service refuses a connection by writing why and closing it,
     * perhaps before it read the request: that reply is already here. */
    snprintf(why, sizeof(why), "%s", chute_errmsg());
    if (ctlmsg_recv_reply(fd, out, 0) == 0)
        return 0;
    return err_set(rc, "%s", why);
}

void ctlmsg_request_free(Chute__Ctl__Request *req)
{
    if (req)
        chute__ctl__request__free_unpacked(req, NULL);
}

void ctlmsg_reply_free(Chute__Ctl__Reply *reply)
{
    if (reply)
        chute__ctl__reply__free_unpacked(reply, NULL);
}

/* ---- the non-blocking reader ------------------------------------------ */

void ctlmsg_reader_init(struct ctlmsg_reader *r)
{
    memset(r, 0, sizeof(*r));
    r->max = CTLMSG_MAX;
}

void ctlmsg_reader_set_max(struct ctlmsg_reader *r, size_t max)
{
    r->max = max < CTLMSG_MAX ? max : CTLMSG_MAX;
}

bool ctlmsg_reader_busy(const struct ctlmsg_reader *r)
{
    return r->head_got > 0;
}

void ctlmsg_reader_release(struct ctlmsg_reader *r)
{
    free(r->body);
    ctlmsg_request_free(r->request);
    ctlmsg_reader_init(r);
}

/* Called when the 4-byte head is complete: allocates the body. */
static int ctlmsg_reader_start_body(struct ctlmsg_reader *r)
{
    r->len = ctlmsg_head_len(r->head);
    if (r->len > r->max)
        return ctlmsg_too_large(r->len, r->max);
    r->body = malloc(r->len + 1);
    if (!r->body)
        return err_set(CHUTE_ERR_SYSTEM, "out of memory");
    r->body_got = 0;
    return 0;
}

/* Called when the body is complete: decodes it into r->request. */
static int ctlmsg_reader_finish(struct ctlmsg_reader *r)
{
    int rc = ctlmsg_decode(&chute__ctl__request__descriptor, r->body, r->len,
                           (ProtobufCMessage **)&r->request);

    free(r->body);
    r->body = NULL;
    r->head_got = 0;
    r->len = r->body_got = 0;
    return rc;
}

int ctlmsg_reader_feed(struct ctlmsg_reader *r, int fd)
{
    int rc = 0;

    if (r->request)
        return 1;
    if (r->error)
        return err_set(r->error, "the control connection failed before");
    if (r->head_got < 4) {
        rc = ctlmsg_io(fd, false, r->head, 4, &r->head_got, CTLMSG_NO_WAIT);
        if (rc == 0)
            rc = ctlmsg_reader_start_body(r);
    }
    if (rc == 0) {
        rc =
            ctlmsg_io(fd, false, r->body, r->len, &r->body_got, CTLMSG_NO_WAIT);
        if (rc == 0)
            rc = ctlmsg_reader_finish(r);
        if (rc == 0)
            return 1;
    }
    if (rc == CTLMSG_EOF)
        rc = ctlmsg_eof(r->head_got);
    if (rc == CTLMSG_AGAIN)
        return 0;
    r->error = rc;
    return rc;
}

Chute__Ctl__Request *ctlmsg_reader_take(struct ctlmsg_reader *r)
{
    Chute__Ctl__Request *req = r->request;

    r->request = NULL;
    return req;
}

/* ---- passing a descriptor ---------------------------------------------- */

int ctlmsg_send_fd(int sock, int fd)
{
    int64_t deadline = ctlmsg_deadline(CTLMSG_SEND_TIMEOUT_MS);
    char byte = 'F', ctl[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1,
                       .msg_control = ctl, .msg_controllen = sizeof(ctl)};
    struct cmsghdr *c;
    int rc;

    memset(ctl, 0, sizeof(ctl));
    c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    for (;;) {
        if (sendmsg(sock, &m, MSG_NOSIGNAL | MSG_DONTWAIT) == 1)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return err_sys("cannot pass a descriptor on the control socket");
        rc = ctlmsg_wait(sock, POLLOUT, deadline);
        if (rc < 0)
            return rc;
    }
}

int ctlmsg_recv_fd(int sock, int timeout_ms)
{
    int64_t deadline = ctlmsg_deadline(timeout_ms);
    char byte, ctl[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1,
                       .msg_control = ctl, .msg_controllen = sizeof(ctl)};
    struct cmsghdr *c;
    ssize_t n;
    int fd, rc;

    for (;;) {
        n = recvmsg(sock, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
                       errno != EINTR))
            break;
        if (errno == EINTR)
            continue;
        rc = ctlmsg_wait(sock, POLLIN, deadline);
        if (rc < 0)
            return rc;
    }
    if (n < 0)
        return err_sys("cannot read a descriptor from the control socket");
    c = CMSG_FIRSTHDR(&m);
    if (n != 1 || byte != 'F' || !c || c->cmsg_level != SOL_SOCKET ||
        c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int)) ||
        (m.msg_flags & MSG_CTRUNC))
        return err_set(CHUTE_ERR_PROTOCOL, "the service did not pass the "
                       "descriptor it announced");
    memcpy(&fd, CMSG_DATA(c), sizeof(int));
    return fd;
}

/* ---- the socket's address ---------------------------------------------- */

int ctlmsg_socket_path(const char *name, char *buf, size_t size)
{
    int rc;

    if (!name)
        name = CHUTE_NAME_DEFAULT;
    rc = name_check(name);
    if (rc < 0)
        return rc;
    return rundir_path(buf, size, name, ".sock");
}

/* One connect() attempt: 0, 1 to try again (the backlog is full), or an
 * error. */
static int ctlmsg_try_connect(int fd, const struct sockaddr_un *sa,
                              const char *name)
{
    if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 ||
        errno == EISCONN)
        return 0;
    if (errno == EINTR || errno == EAGAIN)
        return 1;
    if (errno == ENOENT || errno == ECONNREFUSED)
        return err_set(CHUTE_ERR_NO_SERVICE,
                       "no chute service named \"%s\" is running (cannot "
                       "connect to %s: %s)",
                       name, sa->sun_path, strerror(errno));
    return err_sys("cannot connect to \"%s\"", sa->sun_path);
}

int ctlmsg_connect(const char *name, int timeout_ms)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int64_t deadline = ctlmsg_deadline(timeout_ms);
    int fd, rc;

    if (!name)
        name = CHUTE_NAME_DEFAULT;
    rc = ctlmsg_socket_path(name, sa.sun_path, sizeof(sa.sun_path));
    if (rc < 0)
        return rc;
    /* Non-blocking, so that a full backlog fails at once and the retry
     * loop below keeps the timeout. */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return err_sys("cannot create a Unix socket");
    while ((rc = ctlmsg_try_connect(fd, &sa, name)) == 1) {
        if (deadline >= 0 && ctlmsg_now_ms() >= deadline) {
            rc = err_set(CHUTE_ERR_TIMED_OUT,
                         "chute service \"%s\" did not accept a control "
                         "connection within %d ms",
                         name, timeout_ms);
            break;
        }
        usleep(10000);
    }
    if (rc == 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
        rc = err_sys("cannot make the control socket blocking");
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}
