/*
 * sup.h: the supervisor, chuted's main process.  It owns the shared memory,
 * forks and restarts the workers, answers the control socket and, on
 * SIGTERM or SIGINT, stops intake and waits for the workers to deliver
 * everything they hold.
 */
#ifndef CHUTE_SUPERVISOR_SUP_H
#define CHUTE_SUPERVISOR_SUP_H

#include "proto/ctlmsg.h"
#include "shm/instance.h"
#include "supervisor/config.h"
#include "supervisor/ctlauth.h"
#include "supervisor/security.h"
#include "broker/mdfetch.h"
#include "worker/worker.h"

#include <ev.h>
#include <stdbool.h>
#include <sys/types.h>

#define SUP_CTL_CLIENTS_MAX CONFIG_CONTROL_CONNECTIONS_MAX

struct sup_worker {
    pid_t pid;
    bool retiring;            /* told to go after scaling down */
    bool killed;              /* for a heartbeat too old (health.c) */
    ev_child child;
    ev_timer restart;
    double backoff_s;
    struct sup *sup;
    uint32_t index;
};

struct sup_ctl_client {
    int fd;
    ev_io io;
    struct ctlmsg_reader reader;
    struct sup *sup;
    struct sup_resolve *resolving; /* its request waits for the cluster */
    char *resolving_name;
    bool broken;               /* a reply could not be sent: close it */
    bool starting;             /* inside topics_resolve() */
    struct ctlauth_peer peer;  /* the kernel's word, at accept */
};

/* What the control socket refused or cut off since chuted started (status
 * and /metrics; the supervisor's own memory, not the shared one). */
struct sup_ctl_stats {
    uint64_t refused_not_admin;  /* requests only admins may send */
    uint64_t refused_user_limit; /* control.connections.per.user */
    uint64_t refused_full;       /* control.connections.max */
    uint64_t closed_idle;        /* control.idle.timeout.ms */
    uint64_t closed_request_timeout; /* control.request.timeout.ms */
    uint64_t closed_too_large;   /* a request over CTLMSG_REQUEST_MAX */
    uint64_t accept_pauses;      /* accept() out of descriptors or memory */
};

/* Deaths of workers draining one slot at one ring position in a row. */
struct health_suspect {
    uint64_t pos;
    uint32_t deaths;
};

struct sup_refresh {
    struct sup *sup;
    uint32_t topic;
    struct mdfetch *fetch;     /* NULL when idle */
};

struct sup {
    struct config cfg;
    /* The last client registered in each user space, for the access
     * rules after a reload (clients.c); uid -1: none yet. */
    struct ctlauth_peer user_peer[USER_MAX];
    const char *config_path;  /* -c, read again on SIGHUP */
    char **overrides;         /* -X arguments, applied again on SIGHUP */
    int override_count;
    struct wrk_settings ws;
    struct sup_security sec;  /* TLS and SASL to the brokers */
    struct instance in;
    struct ev_loop *loop;
    ev_signal sigterm, sigint, sighup;
    ev_timer refresh;         /* metadata.max.age.ms: partition counts */
    ev_timer shard_timer;     /* while slots move between workers */
    ev_timer health;          /* worker heartbeats (health.c) */
    bool stopping;
    bool reattached;          /* took over a dead supervisor's memory */
    int exit_code;
    struct sup_worker workers[WORKER_MAX];
    uint32_t worker_count;
    int listen_fd;
    char socket_path[108];
    ev_io listen_io;
    ev_timer accept_pause;    /* listen_io stopped after a failed accept */
    double accept_backoff_s;
    struct ctlauth_policy ctl_policy;
    struct sup_ctl_stats ctl_stats;
    struct sup_ctl_client *clients[SUP_CTL_CLIENTS_MAX];
    struct sup_refresh refreshes[TOPIC_MAX];
    struct health_suspect suspects[SLOT_MAX];
};

/* The group clients share the intake object and the control socket with
 * (intake.group): *gid = -1 when unset.  0 or a negative chute_err. */
int sup_intake_gid(const struct sup *s, int *gid);
/* Runs the service with a validated configuration; returns the exit code. */
int sup_run(struct sup *s);
/* Stops intake, lets the workers deliver everything, then sup_run returns
 * (what SIGTERM does; also the control socket's drain). */
void sup_stop(struct sup *s);

/* notify.c: "READY=1" etc. to $NOTIFY_SOCKET (systemd Type=notify). */
void sup_notify(const char *state);

/* reload.c: SIGHUP re-reads the configuration and applies what can
 * change while running; sup_publish_live() hands it to the workers. */
void sup_reload(struct sup *s);
void sup_publish_live(struct sup *s);
/* sup_reload() for the control socket: 0, or CHUTE_ERR_INVALID when the
 * file does not load or validate (nothing changed; chute_errmsg() says
 * why).  *restart_needed names a changed property only a restart applies,
 * or is NULL. */
int sup_reload_apply(struct sup *s, const char **restart_needed);

/* shard.c: changes the number of workers while running (1..slots).
 * Returns at once; slots move as their owners hand them over, and status
 * shows each slot's owner.  0 or a negative chute_err. */
int sup_scale(struct sup *s, uint32_t workers);
/* True when every slot is owned by the worker it is meant for. */
bool sup_scale_done(const struct sup *s);
/* Deals the slots to the configured workers (start-up, take-over). */
void shard_assign(struct sup *s);
void shard_stop(struct sup *s);
/* Forks worker i and watches it. */
int sup_start_worker(struct sup *s, uint32_t i);

/* health.c: kills a worker whose heartbeat is older than
 * worker.heartbeat.timeout.ms, and quarantines a slot's ring content when
 * workers die twice in a row at the same record of it. */
void health_start(struct sup *s);
/* Before worker `index` is forked again: forgets its predecessor's drain
 * position. */
void health_worker_started(struct sup *s, uint32_t index);
/* After worker `index` died unasked, before its replacement starts. */
void health_worker_died(struct sup *s, uint32_t index);
/* One death at ring position `pos` of a slot: true when it is the
 * HEALTH_DEATHS-th in a row there (the count starts again). */
bool health_suspect(struct health_suspect *h, uint64_t pos);
/* Skips what ring r holds (from the head to the tail seen now; a tail no
 * claim makes is put back), charging each record to the client that
 * wrote it as failed; *records gets how many.  Returns the bytes skipped.
 * The ring's consumer must be dead. */
uint64_t health_quarantine_ring(const struct instance *in, struct ring *r,
                                uint64_t *records);

/* ctlserver.c */
int ctlserver_start(struct sup *s);
void ctlserver_stop(struct sup *s);
/* Control connections open now: in all, and of uid. */
uint32_t ctlserver_connections(const struct sup *s);
uint32_t ctlserver_connections_of(const struct sup *s, uid_t uid);
/* metrics.c: GET /metrics on metrics.listen, if set. */
int metrics_start(struct sup *s);
void metrics_stop(struct sup *s);

/* topics.c */
struct sup_resolve;
typedef void topics_cb(void *arg, int id_or_error);
/* Finds or adds `name` to the topic table, asking the cluster without
 * blocking; cb gets the topic id or a negative error.  Returns NULL when
 * cb already ran, else a handle for topics_resolve_cancel(). */
struct sup_resolve *topics_resolve(struct sup *s, const char *name,
                                   topics_cb *cb, void *arg);
void topics_resolve_cancel(struct sup_resolve *r);
/* Asks the cluster for every known topic again and publishes partitions
 * that were added. */
void topics_refresh(struct sup *s);
/* Publishes every ready topic's settings (config_topic_values) in the
 * state object and bumps their generation, for the workers to read again
 * (start, reload).  A topic added later gets its own before it is ready. */
void topics_publish_settings(struct sup *s);
/* Adds a topic the cluster confirmed to the intake table, its settings
 * published first; returns its id, or CHUTE_ERR_TOO_MANY when the table
 * is full.  A name already there gives its id. */
int topics_add(struct sup *s, const char *name, int partitions);
void topics_stop(struct sup *s);
/* Asks the cluster for the metadata of every topic in the table at once;
 * cb gets the reply (NULL when out of memory), freed when cb returns; each
 * topic carries its own error.  Returns NULL when cb already ran, else a
 * handle for topics_describe_cancel(). */
struct sup_describe;
typedef void topics_describe_cb(void *arg, Chute__Ctl__TopicsReply *reply);
struct sup_describe *topics_describe(struct sup *s, topics_describe_cb *cb,
                                     void *arg);
void topics_describe_cancel(struct sup_describe *d);

/* status.c: the control socket's status reply and its release. */
int sup_status_reply(struct sup *s, Chute__Ctl__Reply *r);
void sup_status_free(Chute__Ctl__Reply *r);

#endif
