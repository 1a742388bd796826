/*
 * ctlclient.h: the client side of the control socket, as libchute uses it:
 * register the process as a client, turn its delivery reports on or off,
 * resolve a topic, say goodbye.
 */
#ifndef CHUTE_SHM_CTLCLIENT_H
#define CHUTE_SHM_CTLCLIENT_H

#include <stdbool.h>
#include <stdint.h>

/* Connects to instance `name` and exchanges hellos; returns the fd.  While
 * the service refuses the connection for want of room (this user's
 * connections, or all of them: CHUTE_ERR_TOO_MANY), tries again until
 * timeout_ms has passed (not at all when it is negative, "forever"). */
int ctlclient_connect(const char *name, int timeout_ms);
/* Registers the calling process as a client of instance `name`; returns
 * its entry's index, with its uid's user space in *user and a descriptor
 * of that space's object in *user_fd (the connection is closed again). */
int ctlclient_register(const char *name, int timeout_ms, uint32_t *user,
                       int *user_fd);
/* Turns delivery reports on or off for client entry `idx`; returns the
 * report ring's index (0 when turned off). */
int ctlclient_reports(const char *name, uint32_t idx, bool enable,
                      int timeout_ms);
/* Gives client entry `idx` back. */
int ctlclient_bye(const char *name, uint32_t idx, int timeout_ms);
/* Asks the service to resolve `topic`; returns the topic id (>= 0). */
int ctlclient_resolve(int fd, const char *topic, int timeout_ms);

#endif
