/*
 * ctlclient.h: the client side of the control socket, as libchute uses it:
 * say hello when attaching and ask the service to resolve a topic.
 */
#ifndef CHUTE_SHM_CTLCLIENT_H
#define CHUTE_SHM_CTLCLIENT_H

#include <stdint.h>

/* Connects to instance `name` and exchanges hellos; returns the fd. */
int ctlclient_connect(const char *name, int timeout_ms);
/* Asks the service to resolve `topic`; returns the topic id (>= 0). */
int ctlclient_resolve(int fd, const char *topic, int timeout_ms);

#endif
