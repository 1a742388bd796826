/*
 * bootstrap.h: the bootstrap.servers list ("host:port,host:port"), parsed
 * once, for every connection that has to find the cluster: the workers'
 * and the supervisor's topic look-ups.  Each user walks the list in turn,
 * so one server that is down does not hide the others.
 */
#ifndef CHUTE_BROKER_BOOTSTRAP_H
#define CHUTE_BROKER_BOOTSTRAP_H

#define BOOTSTRAP_HOST_MAX 255

struct bootstrap_server {
    char host[BOOTSTRAP_HOST_MAX + 1];
    int port;
};

struct bootstrap {
    struct bootstrap_server *servers;
    int count;
    int next;                 /* the server bootstrap_next() gives next */
};

/* Parses `list` (servers separated by commas or spaces; IPv6 hosts as
 * [addr]:port).  Returns 0, or CHUTE_ERR_INVALID naming the first entry
 * that is not host:port with a port in 1..65535, or CHUTE_ERR_SYSTEM. */
int bootstrap_parse(struct bootstrap *b, const char *list);
void bootstrap_release(struct bootstrap *b);
/* The next server to try, round robin. */
const struct bootstrap_server *bootstrap_next(struct bootstrap *b);

#endif
