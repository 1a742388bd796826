/*
 * bootstrap.c: parsing bootstrap.servers.
 */
#include "broker/bootstrap.h"

#include "common/err.h"

#include <stdlib.h>
#include <string.h>

#define SEPARATORS ", \t"

/* One "host:port" entry of n bytes into *out. */
static int parse_entry(const char *s, size_t n, struct bootstrap_server *out)
{
    const char *colon = memrchr(s, ':', n);
    const char *host = s;
    size_t host_len;
    long port = 0;

    if (!colon || colon == s || colon + 1 == s + n)
        return -1;
    for (const char *d = colon + 1; d < s + n; d++) {
        if (*d < '0' || *d > '9' || port > 65535)
            return -1;
        port = port * 10 + (*d - '0');
    }
    host_len = (size_t)(colon - s);
    if (host[0] == '[' && host[host_len - 1] == ']') {
        host++; /* [::1]:9092 */
        host_len -= 2;
    }
    if (port < 1 || port > 65535 || host_len == 0 ||
        host_len > BOOTSTRAP_HOST_MAX)
        return -1;
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    out->port = (int)port;
    return 0;
}

int bootstrap_parse(struct bootstrap *b, const char *list)
{
    size_t max = 1;

    memset(b, 0, sizeof(*b));
    for (const char *p = list; *p; p++)
        max += strchr(SEPARATORS, *p) != NULL;
    b->servers = calloc(max, sizeof(*b->servers));
    if (!b->servers)
        return err_set(CHUTE_ERR_SYSTEM, "out of memory");
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, SEPARATORS);
        if (n && parse_entry(p, n, &b->servers[b->count]) < 0) {
            int rc = err_set(CHUTE_ERR_INVALID,
                             "bootstrap.servers: \"%.*s\" is not host:port",
                             (int)n, p);
            bootstrap_release(b);
            return rc;
        }
        b->count += n > 0;
        p += n;
        p += strspn(p, SEPARATORS);
    }
    if (b->count == 0) {
        bootstrap_release(b);
        return err_set(CHUTE_ERR_INVALID, "bootstrap.servers names no server");
    }
    return 0;
}

void bootstrap_release(struct bootstrap *b)
{
    free(b->servers);
    memset(b, 0, sizeof(*b));
}

const struct bootstrap_server *bootstrap_next(struct bootstrap *b)
{
    const struct bootstrap_server *s = &b->servers[b->next];

    b->next = (b->next + 1) % b->count;
    return s;
}
