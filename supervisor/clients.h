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

struct config;
struct instance;

/* Registers `peer`'s process: the entry's index (and in *user its uid's
 * user space, bound to the uid now if it had none), or CHUTE_ERR_TOO_MANY
 * when the table or the uid's share of it (per_user) is full, or every
 * user space is another uid's. */
int clients_register(struct instance *in, const struct ctlauth_peer *peer,
                     uint32_t per_user, uint32_t *user);
/* Turns delivery reports on or off for entry `idx` of `peer`'s process:
 * the report ring's index (0 when turned off), CHUTE_ERR_DENIED when the entry
 * is not that process's, CHUTE_ERR_TOO_MANY when no ring is free. */
int clients_reports(struct instance *in, const struct ctlauth_peer *peer,
                    uint32_t idx, bool enable);
/* Frees entry `idx` of `peer`'s process and its report ring: 0, or
 * CHUTE_ERR_DENIED when the entry is not that process's. */
int clients_bye(struct instance *in, const struct ctlauth_peer *peer,
                uint32_t idx);
/* The user space bound to `uid`, or -1. */
int clients_user_of(const struct instance *in, uid_t uid);
/* Lets the user space of `uid` (if it has one) write topic `topic`: the
 * workers refuse a record of a topic its user's bit is not set for. */
void clients_allow_topic(struct instance *in, uid_t uid, uint32_t topic);
/* After a reload: takes back each user space's topics that the rules no
 * longer allow it, judged by the credentials of the last client that
 * registered there (peers[user]; uid -1: none known). */
void clients_recheck_topics(struct instance *in, const struct config *cfg,
                            const struct ctlauth_peer *peers);
/* Entries in use, and those of `uid`. */
uint32_t clients_count(const struct instance *in, int64_t uid);

#endif
