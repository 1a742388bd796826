/*
 * acl.h: which topics a user may write (properties acl.user.NAME and
 * acl.group.NAME, each a comma-separated list of topic names or globs).
 *
 * With no acl.* property every user may write every topic, as before.
 * Once any is set, a user may write a topic only when a rule of its uid,
 * or of its primary or a supplementary group (as the kernel gave them for
 * its connection), matches the topic's name; everything else is refused:
 * chute_topic() gets CHUTE_ERR_DENIED (and nothing is looked up, so no
 * topic is auto-created for it), and a record a client writes into its
 * ring anyway is refused by the worker.  Refusals are counted per user
 * space (status, /metrics).
 */
#ifndef CHUTE_SUPERVISOR_ACL_H
#define CHUTE_SUPERVISOR_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct config;

/* One rule as configured. */
struct config_acl {
    bool group;          /* acl.group.NAME, else acl.user.NAME */
    char *name;          /* NAME as written */
    long id;             /* its uid or gid */
    char *patterns;      /* the value, comma-separated */
};

#define ACL_USER_PREFIX "acl.user."
#define ACL_GROUP_PREFIX "acl.group."

/* Sets one acl.user.NAME / acl.group.NAME (a later one of the same key
 * replaces it): NAME must be a user (group) or a number, each pattern a
 * valid topic name or glob.  0, or CHUTE_ERR_INVALID saying why. */
int acl_set(struct config *cfg, const char *key, const char *value);
/* Copies every rule of `from` into `to` (a reload). */
int acl_copy(struct config *to, const struct config *from);
void acl_release(struct config *cfg);
/* True when any rule is set. */
bool acl_configured(const struct config *cfg);
/* Whether this identity may write `topic`. */
bool acl_allows(const struct config *cfg, uid_t uid, gid_t gid,
                const gid_t *groups, size_t n_groups, const char *topic);

#endif
