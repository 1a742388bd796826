/*
 * clients.h: the client table of the status object, kept by the
 * supervisor.
 *
 * A client process registers on the control socket (Hello with
 * register_client); the entry takes the pid and uid the kernel gives for
 * the connection, never what the client says.  Clients map the table
 * read-only, so none can take another's entry, raise its counters or
 * fill the table with pids of its choosing; each uid may hold at most
 * clients.per.user entries.  An entry is freed when its process says
 * goodbye, or found dead when room is needed.
 */
#ifndef CHUTE_SUPERVISOR_CLIENTS_H
#define CHUTE_SUPERVISOR_CLIENTS_H

#include "supervisor/ctlauth.h"

#include <stdbool.h>
#include <stdint.h>

struct instance;

/* Registers `peer`'s process: the entry's index, or CHUTE_ERR_TOO_MANY
 * when the table or the uid's share of it (per_user) is full. */
int clients_register(struct instance *in, const struct ctlauth_peer *peer,
                     uint32_t per_user);
/* Turns delivery reports on or off for entry `idx` of `peer`'s process:
 * the report ring's index (0 when turned off), CHUTE_ERR_DENIED when the entry
 * is not that process's, CHUTE_ERR_TOO_MANY when no ring is free. */
int clients_reports(struct instance *in, const struct ctlauth_peer *peer,
                    uint32_t idx, bool enable);
/* Frees entry `idx` of `peer`'s process and its report ring: 0, or
 * CHUTE_ERR_DENIED when the entry is not that process's. */
int clients_bye(struct instance *in, const struct ctlauth_peer *peer,
                uint32_t idx);
/* Entries in use, and those of `uid`. */
uint32_t clients_count(const struct instance *in, int64_t uid);

#endif
