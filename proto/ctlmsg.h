/*
 * ctlmsg.h: framing of the supervisor's control socket.
 *
 * The control socket is a Unix stream socket at ctlmsg_socket_path(name).
 * Each message on it is a 4-byte big-endian length followed by that many
 * bytes of one packed protobuf-c message from proto/control.proto: a
 * Request from the client, a Reply from the supervisor.  A length above
 * CTLMSG_MAX is an error and is never allocated.
 *
 * The blocking calls (send, recv) restart after EINTR, finish partial reads
 * and writes, and wait with poll(), so they also work on a non-blocking fd.
 * The server side reads with a struct ctlmsg_reader instead, which never
 * blocks.  Sending uses MSG_NOSIGNAL: a closed peer is an error, not
 * SIGPIPE.
 *
 * This file is part of libchute: it uses only libc, protobuf-c and common/.
 */
#ifndef CHUTE_PROTO_CTLMSG_H
#define CHUTE_PROTO_CTLMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/control.pb-c.h"

#define CTLMSG_MAX              (1u << 20) /* largest message body, in bytes */
#define CTLMSG_REQUEST_MAX      (16u << 10) /* largest request chuted reads */
#define CTLMSG_PROTOCOL_VERSION 1          /* Hello.protocol_version */
#define CTLMSG_SEND_TIMEOUT_MS  5000       /* longest time one send may take */

/* Writes "DIR/chute-NAME.sock" (DIR: common/rundir.h; name NULL:
 * "default") into buf.  Returns 0, or CHUTE_ERR_INVALID for a
 * bad name or a path too long for buf or for a Unix socket address. */
int ctlmsg_socket_path(const char *name, char *buf, size_t size);

/* Connects to the control socket of instance name, waiting up to
 * timeout_ms (< 0: forever) if the service is slow to accept.  Returns the
 * fd (close-on-exec), CHUTE_ERR_NO_SERVICE if nothing listens there,
 * CHUTE_ERR_TIMED_OUT, CHUTE_ERR_INVALID or CHUTE_ERR_SYSTEM. */
int ctlmsg_connect(const char *name, int timeout_ms);

/* Send one framed message.  Return 0, CHUTE_ERR_TOO_LARGE (nothing is
 * written), CHUTE_ERR_TIMED_OUT if the peer has not taken it all within
 * CTLMSG_SEND_TIMEOUT_MS, or CHUTE_ERR_SYSTEM (e.g. the peer closed). */
int ctlmsg_send_request(int fd, const Chute__Ctl__Request *req);
int ctlmsg_send_reply(int fd, const Chute__Ctl__Reply *reply);

/* Receive one framed message within timeout_ms (< 0: forever) and store it
 * in *out, to be freed with ctlmsg_*_free().  Return 0, CHUTE_ERR_CLOSED
 * if the peer closed before the first byte, CHUTE_ERR_PROTOCOL if it closed
 * in the middle or sent a body that does not decode, CHUTE_ERR_TOO_LARGE,
 * CHUTE_ERR_TIMED_OUT (the rest of the stream is then out of step) or
 * CHUTE_ERR_SYSTEM. */
/* Passes descriptor fd over sock (SCM_RIGHTS, with one byte), after a
 * reply that announced it. */
int ctlmsg_send_fd(int sock, int fd);
/* Receives a descriptor ctlmsg_send_fd() passed (close-on-exec); returns
 * it, or an error. */
int ctlmsg_recv_fd(int sock, int timeout_ms);
int ctlmsg_recv_request(int fd, Chute__Ctl__Request **out, int timeout_ms);
int ctlmsg_recv_reply(int fd, Chute__Ctl__Reply **out, int timeout_ms);

/* One request and its reply on a blocking or non-blocking fd: sends req,
 * then waits up to timeout_ms for the reply (*out, to be freed with
 * ctlmsg_reply_free(); its error_code is the caller's to look at).  The
 * service refuses a connection by writing a reply and closing it, maybe
 * before it read req: when the send fails for that, the reply already
 * received is returned all the same.  0, or the errors of send and recv. */
int ctlmsg_call(int fd, const Chute__Ctl__Request *req,
                Chute__Ctl__Reply **out, int timeout_ms);

/* Free a received message; NULL is fine. */
void ctlmsg_request_free(Chute__Ctl__Request *req);
void ctlmsg_reply_free(Chute__Ctl__Reply *reply);

/* Server side: collects one request at a time from a non-blocking fd. */
struct ctlmsg_reader {
    uint8_t head[4];
    size_t head_got; /* bytes of head[] read so far */
    uint8_t *body;   /* len bytes, once head is complete */
    size_t len;
    size_t body_got;
    Chute__Ctl__Request *request; /* decoded, until ctlmsg_reader_take() */
    int error;                    /* the first error, returned ever after */
    size_t max;                   /* largest body it takes */
};

/* A reader that takes bodies of up to CTLMSG_MAX bytes. */
void ctlmsg_reader_init(struct ctlmsg_reader *r);

/* Lowers the largest body r takes (at most CTLMSG_MAX): a longer length in
 * a head is CHUTE_ERR_TOO_LARGE, before anything is allocated for it. */
void ctlmsg_reader_set_max(struct ctlmsg_reader *r, size_t max);

/* True while a message is partly read: some of its head or body came, not
 * all of it.  A peer that stops there holds the body's buffer. */
bool ctlmsg_reader_busy(const struct ctlmsg_reader *r);

/* Reads what fd has, but never past the end of the current message.
 * Returns 1 when a whole request is ready for ctlmsg_reader_take(), 0 when
 * fd has no more bytes for now, CHUTE_ERR_CLOSED at a clean end of stream,
 * or CHUTE_ERR_PROTOCOL, CHUTE_ERR_TOO_LARGE or CHUTE_ERR_SYSTEM.  An error
 * sticks (the stream is out of step): close the connection.  While a
 * request waits to be taken, it returns 1 and reads nothing. */
int ctlmsg_reader_feed(struct ctlmsg_reader *r, int fd);

/* The request that feed() announced, now the caller's to free; NULL if
 * none is ready.  The reader is then ready for the next message. */
Chute__Ctl__Request *ctlmsg_reader_take(struct ctlmsg_reader *r);

/* Frees a partial or untaken message. */
void ctlmsg_reader_release(struct ctlmsg_reader *r);

#endif
