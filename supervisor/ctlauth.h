/*
 * ctlauth.h: who is at the other end of a control connection, and what
 * they may ask.
 *
 * Identity comes from the kernel, once, when chuted accepts the
 * connection: SO_PEERCRED gives the uid, gid and pid the peer had when it
 * connected, SO_PEERGROUPS its supplementary groups at that same moment.
 * Nothing a client sends (Hello.client_pid included) says who it is.
 *
 * An admin is root, chuted's own user, or a member of admin.group (primary
 * or supplementary).  Requests that change the service (scale, drain,
 * reload, flush of everything) are for admins; the rest (hello, topic
 * resolution, status, topics) for anyone who can reach the socket.  The
 * table in ctlauth.c says which is which; a request type it does not list
 * is for admins.
 */
#ifndef CHUTE_SUPERVISOR_CTLAUTH_H
#define CHUTE_SUPERVISOR_CTLAUTH_H

#include "proto/control.pb-c.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CTLAUTH_GROUPS_MAX 64 /* groups read without an allocation */

struct ctlauth_peer {
    uid_t uid;
    gid_t gid;
    pid_t pid;
    bool admin;
    size_t n_groups;            /* supplementary groups, the first ones */
    gid_t groups[CTLAUTH_GROUPS_MAX];
};

/* Who chuted lets administer it: its own effective uid and the gid of
 * admin.group (-1 when unset). */
struct ctlauth_policy {
    uid_t self;
    long admin_gid;
    const char *admin_group; /* its name, for messages */
};

/* Whether a peer with these credentials is an admin under pol. */
bool ctlauth_is_admin(const struct ctlauth_policy *pol, uid_t uid, gid_t gid,
                      const gid_t *groups, size_t n_groups);

/* Reads the credentials of connected socket fd's peer from the kernel and
 * decides whether it is an admin.  0, or CHUTE_ERR_SYSTEM when the kernel
 * does not say (the connection must then be refused). */
int ctlauth_peer_read(int fd, const struct ctlauth_policy *pol,
                      struct ctlauth_peer *p);

/* True when a request of this type needs an admin. */
bool ctlauth_needs_admin(Chute__Ctl__Request__BodyCase body);

/* The request's name as chutectl calls it ("scale"), for messages. */
const char *ctlauth_request_name(Chute__Ctl__Request__BodyCase body);

/* 0 when p may send a request of this type, else CHUTE_ERR_DENIED with a
 * message that names the request, the peer and who may. */
int ctlauth_check(const struct ctlauth_policy *pol,
                  const struct ctlauth_peer *p,
                  Chute__Ctl__Request__BodyCase body);

#endif
