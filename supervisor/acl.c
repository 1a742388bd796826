/*
 * acl.c: topic access rules per user and group (acl.h).
 */
#include "supervisor/acl.h"

#include "common/err.h"
#include "supervisor/config.h"
#include "supervisor/config_topic.h"

#include <fnmatch.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

/* NAME's uid or gid: a number, or a name the user (group) database
 * knows.  Looked up once, when the configuration is read. */
static int acl_id(bool group, const char *name, long *id)
{
    char *end;
    long v = strtol(name, &end, 10);

    if (*name && !*end && v >= 0) {
        *id = v;
        return 0;
    }
    if (group) {
        const struct group *g = getgrnam(name);
        if (g) {
            *id = (long)g->gr_gid;
            return 0;
        }
    } else {
        const struct passwd *pw = getpwnam(name);
        if (pw) {
            *id = (long)pw->pw_uid;
            return 0;
        }
    }
    return err_set(CHUTE_ERR_INVALID, "no %s named \"%s\"",
                   group ? "group" : "user", name);
}

/* Each comma-separated pattern must be a topic name or glob. */
static int acl_check_patterns(const char *value)
{
    char *copy = strdup(value), *save = NULL;
    int rc = copy ? 0 : err_set(CHUTE_ERR_SYSTEM, "out of memory");

    for (char *p = copy ? strtok_r(copy, ",", &save) : NULL; p && rc == 0;
         p = strtok_r(NULL, ",", &save)) {
        while (*p == ' ')
            p++;
        size_t n = strlen(p);
        while (n && p[n - 1] == ' ')
            p[--n] = '\0';
        rc = config_topic_check_pattern(p);
    }
    free(copy);
    return rc;
}

static int acl_put(struct config *cfg, bool group, const char *name, long id,
                   const char *value)
{
    struct config_acl *a = NULL;

    for (size_t i = 0; i < cfg->acl_count && !a; i++)
        if (cfg->acls[i].group == group && !strcmp(cfg->acls[i].name, name))
            a = &cfg->acls[i];
    if (!a) {
        struct config_acl *more =
            realloc(cfg->acls, (cfg->acl_count + 1) * sizeof(*more));
        if (!more)
            return err_set(CHUTE_ERR_SYSTEM, "out of memory");
        cfg->acls = more;
        a = &cfg->acls[cfg->acl_count++];
        *a = (struct config_acl){group, strdup(name), id, NULL};
    }
    free(a->patterns);
    a->patterns = strdup(value);
    a->id = id;
    if (!a->name || !a->patterns)
        return err_set(CHUTE_ERR_SYSTEM, "out of memory");
    return 0;
}

int acl_set(struct config *cfg, const char *key, const char *value)
{
    bool group = strncmp(key, ACL_GROUP_PREFIX, strlen(ACL_GROUP_PREFIX)) == 0;
    const char *name =
        key + strlen(group ? ACL_GROUP_PREFIX : ACL_USER_PREFIX);
    long id = -1;
    int rc = *name ? acl_id(group, name, &id)
                   : err_set(CHUTE_ERR_INVALID, "no %s named",
                             group ? "group" : "user");

    if (rc == 0)
        rc = acl_check_patterns(value);
    if (rc == 0)
        rc = acl_put(cfg, group, name, id, value);
    return rc < 0 ? err_prefix(rc, "\"%s\"", key) : 0;
}

int acl_copy(struct config *to, const struct config *from)
{
    int rc = 0;

    acl_release(to);
    for (size_t i = 0; i < from->acl_count && rc == 0; i++) {
        const struct config_acl *a = &from->acls[i];
        rc = acl_put(to, a->group, a->name, a->id, a->patterns);
    }
    return rc;
}

void acl_release(struct config *cfg)
{
    for (size_t i = 0; i < cfg->acl_count; i++) {
        free(cfg->acls[i].name);
        free(cfg->acls[i].patterns);
    }
    free(cfg->acls);
    cfg->acls = NULL;
    cfg->acl_count = 0;
}

bool acl_configured(const struct config *cfg)
{
    return cfg->acl_count > 0;
}

static bool acl_matches(const char *patterns, const char *topic)
{
    const char *p = patterns;

    while (*p) {
        char one[TOPIC_NAME_MAX + 1];
        size_t n = strcspn(p, ",");
        const char *start = p;
        while (start < p + n && *start == ' ')
            start++;
        size_t len = (size_t)(p + n - start);
        while (len && start[len - 1] == ' ')
            len--;
        if (len > 0 && len <= TOPIC_NAME_MAX) {
            memcpy(one, start, len);
            one[len] = '\0';
            if (fnmatch(one, topic, 0) == 0)
                return true;
        }
        p += n + (p[n] == ',');
    }
    return false;
}

static bool in_groups(long gid, gid_t primary, const gid_t *groups, size_t n)
{
    if (gid == (long)primary)
        return true;
    for (size_t i = 0; i < n; i++)
        if (gid == (long)groups[i])
            return true;
    return false;
}

bool acl_allows(const struct config *cfg, uid_t uid, gid_t gid,
                const gid_t *groups, size_t n_groups, const char *topic)
{
    if (!acl_configured(cfg))
        return true;
    for (size_t i = 0; i < cfg->acl_count; i++) {
        const struct config_acl *a = &cfg->acls[i];
        bool mine = a->group ? in_groups(a->id, gid, groups, n_groups)
                             : a->id == (long)uid;
        if (mine && acl_matches(a->patterns, topic))
            return true;
    }
    return false;
}
