/*
 * guard.h: surviving a client that cuts its user object short.
 *
 * A client holds a read-write descriptor of its uid's user object (it
 * must, to map it writable), so it can also ftruncate() it: the service's
 * mappings of the cut-off pages then raise SIGBUS when touched.  The
 * guard catches SIGBUS inside a registered object and maps zero pages
 * over the whole object in the faulting process, so the access is
 * retried on zeros: the worker reads an empty or corrupt ring of that
 * user (its records are lost, nobody else's), and counts it.
 */
#ifndef CHUTE_SHM_GUARD_H
#define CHUTE_SHM_GUARD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Installs the SIGBUS handler (once per process; forked children keep
 * it).  0, or CHUTE_ERR_SYSTEM. */
int guard_install(void);
/* Guards [base, base + len); a fault there adds 1 to *hits.  At most
 * GUARD_MAX objects. */
#define GUARD_MAX 16
int guard_add(void *base, size_t len, _Atomic uint64_t *hits);
/* Forgets every object (before they are unmapped). */
void guard_clear(void);

#endif
