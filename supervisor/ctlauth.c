/*
 * ctlauth.c: the control socket's peer identity and its one table of who
 * may send which request (see ctlauth.h).
 *
 * Supplementary groups come from SO_PEERGROUPS (Linux 4.13): the groups
 * the peer process had when it called connect(), recorded by the kernel
 * with SO_PEERCRED's uid and gid.  Not /proc/PID/status "Groups:": the
 * pid may have exited and been reused between connect() and the read, and
 * hidepid mounts hide other users' entries.  Not getgrouplist() of the
 * uid's name: it asks NSS (files, LDAP, ...) from the supervisor's event
 * loop, which may block, answers for the group database rather than the
 * process (a process that dropped or gained groups, a uid without a
 * passwd entry), and can be stale.
 */
#include "supervisor/ctlauth.h"

#include "common/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

static const struct ctlauth_rule {
    Chute__Ctl__Request__BodyCase body;
    const char *name;
    bool admin;
} ctlauth_rules[] = {
    {CHUTE__CTL__REQUEST__BODY__NOT_SET, "empty request", false},
    {CHUTE__CTL__REQUEST__BODY_HELLO, "hello", false},
    {CHUTE__CTL__REQUEST__BODY_RESOLVE_TOPIC, "resolve", false},
    {CHUTE__CTL__REQUEST__BODY_STATUS, "status", false},
    {CHUTE__CTL__REQUEST__BODY_TOPICS, "topics", false},
    {CHUTE__CTL__REQUEST__BODY_REPORTS, "reports", false},
    {CHUTE__CTL__REQUEST__BODY_BYE, "bye", false},
    {CHUTE__CTL__REQUEST__BODY_SCALE, "scale", true},
    {CHUTE__CTL__REQUEST__BODY_FLUSH, "flush", true},
    {CHUTE__CTL__REQUEST__BODY_DRAIN, "drain", true},
    {CHUTE__CTL__REQUEST__BODY_RELOAD, "reload", true},
};

static const struct ctlauth_rule *ctlauth_rule(
    Chute__Ctl__Request__BodyCase body)
{
    for (size_t i = 0; i < sizeof(ctlauth_rules) / sizeof(ctlauth_rules[0]);
         i++)
        if (ctlauth_rules[i].body == body)
            return &ctlauth_rules[i];
    return NULL;
}

bool ctlauth_needs_admin(Chute__Ctl__Request__BodyCase body)
{
    const struct ctlauth_rule *r = ctlauth_rule(body);

    return !r || r->admin;
}

const char *ctlauth_request_name(Chute__Ctl__Request__BodyCase body)
{
    const struct ctlauth_rule *r = ctlauth_rule(body);

    return r ? r->name : "unknown request";
}

bool ctlauth_is_admin(const struct ctlauth_policy *pol, uid_t uid, gid_t gid,
                      const gid_t *groups, size_t n_groups)
{
    if (uid == 0 || uid == pol->self)
        return true;
    if (pol->admin_gid < 0)
        return false;
    if ((long)gid == pol->admin_gid)
        return true;
    for (size_t i = 0; i < n_groups; i++)
        if ((long)groups[i] == pol->admin_gid)
            return true;
    return false;
}

/* The peer's supplementary groups into *groups (buf, or a heap copy when
 * it has more than fit: free it if it is not buf); their count. */
static size_t ctlauth_peer_groups(int fd, gid_t *buf, socklen_t size,
                                  gid_t **groups)
{
    socklen_t len = size;

    *groups = buf;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, buf, &len) == 0)
        return len / sizeof(gid_t);
    if (errno != ERANGE || !(*groups = malloc(len)))
        goto none;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, *groups, &len) == 0)
        return len / sizeof(gid_t);
    free(*groups);
none:
    *groups = buf; /* then only the primary group counts */
    return 0;
}

int ctlauth_peer_read(int fd, const struct ctlauth_policy *pol,
                      struct ctlauth_peer *p)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    gid_t buf[CTLAUTH_GROUPS_MAX], *groups;
    size_t n;

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
        len != sizeof(cred))
        return err_sys("control socket: cannot read the peer's credentials");
    p->uid = cred.uid;
    p->gid = cred.gid;
    p->pid = cred.pid;
    n = ctlauth_peer_groups(fd, buf, sizeof(buf), &groups);
    p->admin = ctlauth_is_admin(pol, p->uid, p->gid, groups, n);
    p->n_groups = n < CTLAUTH_GROUPS_MAX ? n : CTLAUTH_GROUPS_MAX;
    for (size_t i = 0; i < p->n_groups; i++)
        p->groups[i] = groups[i];
    if (groups != buf)
        free(groups);
    return 0;
}

int ctlauth_check(const struct ctlauth_policy *pol,
                  const struct ctlauth_peer *p,
                  Chute__Ctl__Request__BodyCase body)
{
    char group[96] = "";

    if (p->admin || !ctlauth_needs_admin(body))
        return 0;
    if (pol->admin_gid >= 0)
        snprintf(group, sizeof(group), " or a member of admin.group \"%s\"",
                 pol->admin_group);
    return err_set(CHUTE_ERR_DENIED,
                   "\"%s\" changes the service: only root, chuted's own "
                   "user (uid %u)%s may ask for it, not uid %u (gid %u, "
                   "pid %d)",
                   ctlauth_request_name(body), (unsigned)pol->self, group,
                   (unsigned)p->uid, (unsigned)p->gid, (int)p->pid);
}
