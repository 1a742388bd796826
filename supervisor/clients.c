/*
 * clients.c: registering client processes in the status object's client
 * table (clients.h).
 */
#include "supervisor/clients.h"

#include "common/err.h"
#include "common/log.h"
#include "common/proc.h"
#include "supervisor/acl.h"
#include "shm/instance.h"

/* An entry whose process is gone is free again; so is its report ring. */
static bool entry_free(const struct instance *in, uint32_t i)
{
    int32_t pid = atomic_load(&instance_client(in, i)->pid);

    return pid == 0 || !pid_alive(pid);
}

static void release(struct instance *in, uint32_t i)
{
    struct status_client *c = instance_client(in, i);
    int32_t pid = atomic_load(&c->pid);

    atomic_store(&c->report_ring, -1);
    /* Its report ring, unless another client took it over since. */
    for (uint32_t r = 0; r < REPORT_RINGS && pid != 0; r++) {
        struct status_report_owner *o = instance_report_owner(in, r);
        if (atomic_load(&o->pid) == pid && o->client == i)
            atomic_store(&o->pid, 0);
    }
    atomic_store(&c->pid, 0);
}

uint32_t clients_count(const struct instance *in, int64_t uid)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < CLIENT_MAX; i++)
        if (!entry_free(in, i) &&
            (uid < 0 || atomic_load(&instance_client(in, i)->uid) == uid))
            n++;
    return n;
}

/* The user space of peer's uid: the one bound to it, else a free one,
 * which is bound to it now (and stays so while the instance lives). */
static int user_space(struct instance *in, uid_t uid)
{
    int free_user = -1;

    for (uint32_t u = 0; u < in->users; u++) {
        struct status_user *su = instance_user(in, u);
        if (!atomic_load(&su->bound)) {
            if (free_user < 0)
                free_user = (int)u;
        } else if (atomic_load(&su->uid) == uid) {
            return (int)u;
        }
    }
    if (free_user < 0)
        return err_set(CHUTE_ERR_TOO_MANY, "all %u user spaces are bound to "
                       "other uids (users.max): uid %u cannot send",
                       in->users, (unsigned)uid);
    struct status_user *su = instance_user(in, (uint32_t)free_user);
    atomic_store(&su->uid, (uint32_t)uid);
    atomic_store_explicit(&su->bound, 1, memory_order_release);
    return free_user;
}

int clients_register(struct instance *in, const struct ctlauth_peer *peer,
                     uint32_t per_user, uint32_t *user)
{
    int64_t found = -1;
    int u;

    if (clients_count(in, peer->uid) >= per_user)
        return err_set(CHUTE_ERR_TOO_MANY, "uid %u already has %u client "
                       "processes registered (clients.per.user)",
                       (unsigned)peer->uid, per_user);
    for (uint32_t i = 0; i < CLIENT_MAX && found < 0; i++)
        if (entry_free(in, i))
            found = i;
    if (found < 0)
        return err_set(CHUTE_ERR_TOO_MANY, "all %d client entries are taken",
                       CLIENT_MAX);
    u = user_space(in, peer->uid);
    if (u < 0)
        return u;
    struct status_client *c = instance_client(in, (uint32_t)found);
    release(in, (uint32_t)found); /* a dead process's leftovers */
    atomic_store(&c->uid, (uint32_t)peer->uid);
    atomic_store(&c->user, (uint32_t)u);
    atomic_store(&c->records_acked, 0);
    atomic_store(&c->records_failed, 0);
    atomic_store(&c->reports_lost, 0);
    atomic_store(&instance_client_stat(in, (uint32_t)u, (uint32_t)found)
                      ->records_sent,
                 0);
    *user = (uint32_t)u;
    atomic_store_explicit(&c->pid, (int32_t)peer->pid, memory_order_release);
    return (int)found;
}

/* Entry idx, if it is the peer's process's. */
static struct status_client *own_entry(struct instance *in,
                                       const struct ctlauth_peer *peer,
                                       uint32_t idx)
{
    struct status_client *c;

    if (idx >= CLIENT_MAX)
        return NULL;
    c = instance_client(in, idx);
    return atomic_load(&c->pid) == (int32_t)peer->pid ? c : NULL;
}

int clients_reports(struct instance *in, const struct ctlauth_peer *peer,
                    uint32_t idx, bool enable)
{
    struct status_client *c = own_entry(in, peer, idx);
    int32_t ring;

    if (!c)
        return err_set(CHUTE_ERR_DENIED, "client entry %u is not pid %d's",
                       idx, (int)peer->pid);
    ring = atomic_load(&c->report_ring);
    if (!enable) {
        atomic_store(&c->report_ring, -1); /* the ring stays its own */
        return 0;
    }
    if (ring >= 0)
        return ring;
    uint32_t first = atomic_load(&c->user) * REPORT_RINGS_PER_USER;
    for (uint32_t i = first; i < first + REPORT_RINGS_PER_USER; i++) {
        struct status_report_owner *o = instance_report_owner(in, i);
        int32_t pid = atomic_load(&o->pid);
        if (pid == (int32_t)peer->pid && o->client == idx) {
            atomic_store(&c->report_ring, (int32_t)i); /* on again */
            return (int)i;
        }
        if (pid != 0 && pid_alive(pid))
            continue;
        o->client = idx;
        atomic_store(&o->pid, (int32_t)peer->pid);
        atomic_store(&c->report_ring, (int32_t)i);
        return (int)i;
    }
    return err_set(CHUTE_ERR_TOO_MANY,
                   "all %d delivery-report rings of uid %u are taken",
                   REPORT_RINGS_PER_USER, (unsigned)peer->uid);
}

int clients_bye(struct instance *in, const struct ctlauth_peer *peer,
                uint32_t idx)
{
    if (!own_entry(in, peer, idx))
        return err_set(CHUTE_ERR_DENIED, "client entry %u is not pid %d's",
                       idx, (int)peer->pid);
    release(in, idx);
    return 0;
}

int clients_user_of(const struct instance *in, uid_t uid)
{
    for (uint32_t u = 0; u < in->users; u++) {
        struct status_user *su = instance_user(in, u);
        if (atomic_load(&su->bound) && atomic_load(&su->uid) == uid)
            return (int)u;
    }
    return -1;
}

void clients_allow_topic(struct instance *in, uid_t uid, uint32_t topic)
{
    int user = clients_user_of(in, uid);

    if (user >= 0 && topic < TOPIC_MAX)
        atomic_fetch_or(&instance_user(in, (uint32_t)user)->topics[topic / 64],
                        1ULL << (topic % 64));
}

void clients_recheck_topics(struct instance *in, const struct config *cfg,
                            const struct ctlauth_peer *peers)
{
    for (uint32_t u = 0; u < in->users; u++) {
        struct status_user *su = instance_user(in, u);
        const struct ctlauth_peer *p = &peers[u];
        if (!atomic_load(&su->bound) || p->uid != atomic_load(&su->uid))
            continue;
        for (uint32_t t = 0; t < TOPIC_MAX; t++) {
            uint64_t bit = 1ULL << (t % 64);
            const struct status_topic *st = instance_topic(in, t);
            if (!(atomic_load(&su->topics[t / 64]) & bit) ||
                acl_allows(cfg, p->uid, p->gid, p->groups, p->n_groups,
                           st->name))
                continue;
            atomic_fetch_and(&su->topics[t / 64], ~bit);
            log_warn("uid %u may no longer write topic \"%s\" (acl): its "
                     "records of it are refused from now on",
                     (unsigned)p->uid, st->name);
        }
    }
}
