/*
 * ctlclient.h: the client side of the control socket, as libchute uses it:
 * say hello when attaching and ask the service to resolve a topic.
 */
#ifndef CHUTE_SHM_CTLCLIENT_H
#define CHUTE_SHM_CTLCLIENT_H

#include <stdint.h>

/* Connects to instance `name` and exchanges hellos; returns the fd.  While
 * the service refuses the connection for want of room (this user's
 * connections, or all of them: CHUTE_ERR_TOO_MANY), tries again until
 * timeout_ms has passed (not at all when it is negative, "forever"). */
int ctlclient_connect(const char *name, int timeout_ms);
/* Asks the service to resolve `topic`; returns the topic id (>= 0). */
int ctlclient_resolve(int fd, const char *topic, int timeout_ms);

#endif
