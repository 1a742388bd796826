/*
 * wake.h: waking a sleeping worker.  Each worker binds a datagram socket
 * DIR/chute-NAME.wN in the runtime directory (common/rundir.h: chuted's
 * own, so nobody else can bind the name first); a client that commits a
 * record into a slot whose owner sleeps sends it one byte.  The socket is
 * only a doorbell: the records themselves are in the ring.
 */
#ifndef CHUTE_SHM_WAKE_H
#define CHUTE_SHM_WAKE_H

#include <stdint.h>

/* Worker: binds its doorbell (replacing a predecessor's), mode 0660 and
 * group gid (-1: keep); returns a non-blocking fd or a negative error. */
int wake_bind(const char *name, uint32_t worker, int gid);
/* chuted, at exit: removes worker `worker`'s doorbell. */
void wake_unlink(const char *name, uint32_t worker);
/* Client: a socket to ring doorbells with. */
int wake_socket(void);
/* Rings worker `worker`'s doorbell; never blocks, ignores a full queue. */
void wake_ring(int fd, const char *name, uint32_t worker);
/* Worker: empties the doorbell queue. */
void wake_drain(int fd);

#endif
