/*
 * sup.c: shared-memory set-up, the worker processes and the life cycle.
 */
#include "supervisor/sup.h"

#include "common/err.h"
#include "common/log.h"
#include "common/proc.h"
#include "common/rundir.h"
#include "shm/guard.h"
#include "shm/ring.h"
#include "shm/wake.h"

#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* A dead worker's slots wait for its replacement: restart within a
 * second even when workers keep dying, and from the minimum again once
 * one has lived a while. */
#define RESTART_BACKOFF_MIN_S 0.1
#define RESTART_BACKOFF_MAX_S 1.0
#define RESTART_STABLE_MS 5000

/* The settings of the workers to fork.  The reloadable ones come from the
 * same conversion as the live block (config_live_values), and
 * sup_publish_live() keeps them current. */
static void settings_from_config(struct sup *s)
{
    const struct config *c = &s->cfg;
    struct wrk_settings *w = &s->ws;
    int64_t values[LIVE_MAX];

    w->name = c->name;
    w->bootstrap_servers = c->bootstrap_servers;
    w->client_id = c->client_id;
    w->acks = (int16_t)c->acks;
    w->max_record = (uint32_t)c->message_max_bytes;
    w->max_in_flight = c->max_in_flight;
    w->idempotent = c->enable_idempotence;
    if (sup_intake_gid(s, &w->intake_gid) < 0)
        w->intake_gid = -1; /* ctlserver_start reports the bad group */
    w->worker_count = (uint32_t)c->workers;
    config_live_values(c, values);
    live_settings_fill(w, values);
}

int sup_intake_gid(const struct sup *s, int *gid)
{
    const struct group *g;

    *gid = -1;
    if (!s->cfg.intake_group || !*s->cfg.intake_group)
        return 0;
    g = getgrnam(s->cfg.intake_group);
    if (!g)
        return err_set(CHUTE_ERR_INVALID, "\"intake.group\": no group "
                       "named \"%s\"", s->cfg.intake_group);
    *gid = (int)g->gr_gid;
    return 0;
}

static int create_shm(struct sup *s)
{
    int gid, rc = sup_intake_gid(s, &gid);

    if (rc < 0)
        return rc;
    uint32_t batch_size, batch_num_messages;
    config_batch_limits(&s->cfg, &batch_size, &batch_num_messages);
    uint32_t chunk = worker_chunk_size(batch_size, s->ws.max_record,
                                       batch_num_messages);
    uint64_t count = s->cfg.buffer_memory / chunk;
    struct instance_params p = {
        .name = s->cfg.name,
        .slots = (uint32_t)s->cfg.slots,
        .users = (uint32_t)s->cfg.users_max,
        .ring_size = (uint32_t)s->cfg.ring_size,
        .max_record = s->ws.max_record,
        .chunk_size = chunk,
        .chunk_count = (uint32_t)count,
        .intake_gid = gid,
        .queue_full_fail = s->cfg.queue_full_policy == CONFIG_QUEUE_FULL_FAIL,
        .max_block_ms = (uint32_t)s->cfg.max_block_ms,
    };

    if (count < 2 * (uint64_t)s->cfg.workers)
        return err_set(CHUTE_ERR_INVALID,
                       "\"buffer.memory\" (%llu) holds %llu batches of %u "
                       "bytes; at least 2 per worker are needed",
                       (unsigned long long)s->cfg.buffer_memory,
                       (unsigned long long)count, chunk);
    rc = instance_reattach(&s->in, &p);
    if (rc == 0) {
        log_warn("took over the shared memory of a previous chuted named "
                 "\"%s\": its records will be delivered", s->cfg.name);
        s->reattached = true;
        return 0;
    }
    if (rc < 0)
        return err_prefix(rc, "cannot take over what a previous chuted left "
                          "(remove /dev/shm/chute.%s.* to discard it)",
                          s->cfg.name);
    return instance_create(&s->in, &p);
}

/* A client may cut its user object short (ftruncate on the descriptor it
 * was given): the guard keeps chuted and its workers (which inherit it)
 * from dying of SIGBUS when they touch it (shm/guard.h). */
static int guard_users(struct sup *s)
{
    int rc = guard_install();

    for (uint32_t u = 0; u < s->in.users && rc == 0; u++)
        rc = guard_add(s->in.user[u], s->in.user_size,
                       &instance_user(&s->in, u)->truncated);
    return rc;
}

/* Workers of a dead supervisor may still run (draining): they go, so that
 * the new ones can take over their slots. */
static void stop_orphans(struct sup *s)
{
    for (uint32_t i = 0; i < WORKER_MAX; i++) {
        struct state_worker *st = instance_worker(&s->in, i);
        int32_t pid = atomic_load(&st->pid);
        if (pid <= 0 || !pid_alive(pid))
            continue;
        log_warn("stopping worker %u (pid %d) of the previous chuted", i, pid);
        kill(pid, SIGKILL);
        for (int n = 0; n < 200 && pid_alive(pid); n++)
            usleep(10000);
        atomic_store(&st->pid, 0);
    }
}

static void child_cb(struct ev_loop *loop, ev_child *w, int revents);
static void restart_cb(struct ev_loop *loop, ev_timer *t, int revents);

/* The signals a worker handles itself.  They stay blocked from before the
 * fork until the worker's loop watches them (worker.c unblocks them), so a
 * SIGTERM sent right after the fork waits for the worker's handler instead
 * of killing it by the default action or reaching the supervisor's. */
static void stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
}

/* In the child: leave the supervisor's loop and signal set-up behind. */
static void become_worker(struct sup *s, uint32_t index)
{
    sigset_t blocked;

    /* libev ties each signal to one loop: release them before the worker
     * sets up its own. */
    ev_signal_stop(s->loop, &s->sigterm);
    ev_signal_stop(s->loop, &s->sigint);
    ev_signal_stop(s->loop, &s->sighup);
    ev_loop_destroy(EV_DEFAULT);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    for (int i = 0; i < SUP_CTL_CLIENTS_MAX; i++)
        if (s->clients[i])
            close(s->clients[i]->fd); /* the supervisor's, not ours */
    stop_signals(&blocked);
    sigprocmask(SIG_SETMASK, &blocked, NULL);
    _exit(worker_main(&s->in, &s->ws, index));
}

static int spawn(struct sup *s, uint32_t index)
{
    struct sup_worker *w = &s->workers[index];
    struct state_worker *st = instance_worker(&s->in, index);
    sigset_t blocked, old;
    pid_t pid;

    health_worker_started(s, index);
    stop_signals(&blocked);
    sigprocmask(SIG_BLOCK, &blocked, &old);
    pid = fork();
    if (pid == 0)
        become_worker(s, index);
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (pid < 0)
        return err_sys("cannot fork worker %u", index);
    w->pid = pid;
    atomic_store(&st->pid, pid);
    atomic_store(&st->started_ms, (uint64_t)mono_ms());
    ev_child_set(&w->child, pid, 0);
    ev_child_start(s->loop, &w->child);
    return 0;
}

static void restart_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct sup_worker *w = t->data;

    (void)loop;
    (void)revents;
    if (w->sup->stopping)
        return;
    if (spawn(w->sup, w->index) < 0)
        log_error("%s", chute_errmsg());
}

static bool all_exited(struct sup *s)
{
    for (uint32_t i = 0; i < WORKER_MAX; i++)
        if (s->workers[i].pid > 0)
            return false;
    return true;
}

static void child_cb(struct ev_loop *loop, ev_child *c, int revents)
{
    struct sup_worker *w = c->data;
    struct sup *s = w->sup;
    int st = c->rstatus;

    (void)revents;
    ev_child_stop(loop, c);
    w->pid = 0;
    atomic_store(&instance_worker(&s->in, w->index)->pid, 0);
    if (w->retiring && !s->stopping) {
        /* Told to go by a scale-down; a later scale-up may want it back. */
        w->retiring = false;
        log_info("worker %u (pid %d) retired", w->index, c->rpid);
        if (w->index < s->worker_count && sup_start_worker(s, w->index) < 0)
            log_error("%s", chute_errmsg());
        return;
    }
    if (s->stopping) {
        if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
            log_error("worker %u ended badly while stopping (status %d)",
                      w->index, st);
            s->exit_code = 1;
        }
        if (all_exited(s))
            ev_break(loop, EVBREAK_ALL);
        return;
    }
    if (WIFSIGNALED(st))
        log_error("worker %u (pid %d) killed by signal %d; restarting",
                  w->index, c->rpid, WTERMSIG(st));
    else
        log_error("worker %u (pid %d) exited with %d; restarting", w->index,
                  c->rpid, WEXITSTATUS(st));
    atomic_fetch_add(&instance_worker(&s->in, w->index)->restarts, 1);
    health_worker_died(s, w->index);
    if ((uint64_t)mono_ms() -
            atomic_load(&instance_worker(&s->in, w->index)->started_ms) >
        RESTART_STABLE_MS)
        w->backoff_s = RESTART_BACKOFF_MIN_S;
    ev_timer_set(&w->restart, w->backoff_s, 0);
    ev_timer_start(loop, &w->restart);
    w->backoff_s = w->backoff_s * 2 > RESTART_BACKOFF_MAX_S
                       ? RESTART_BACKOFF_MAX_S
                       : w->backoff_s * 2;
}

static void stop_cb(struct ev_loop *loop, ev_signal *sig, int revents)
{
    struct sup *s = sig->data;

    (void)loop;
    (void)revents;
    if (!s->stopping)
        log_info("signal %d: stopping intake, draining workers", sig->signum);
    sup_stop(s);
}

void sup_stop(struct sup *s)
{
    struct ev_loop *loop = s->loop;

    if (s->stopping)
        return;
    s->stopping = true;
    sup_notify("STOPPING=1");
    ev_timer_stop(loop, &s->refresh);
    topics_stop(s);
    metrics_stop(s);
    atomic_store(&s->in.status->accepting, 0);
    ctlserver_stop(s);
    shard_stop(s);
    for (uint32_t i = 0; i < WORKER_MAX; i++) {
        ev_timer_stop(loop, &s->workers[i].restart);
        if (s->workers[i].pid > 0)
            kill(s->workers[i].pid, SIGTERM);
    }
    if (all_exited(s))
        ev_break(loop, EVBREAK_ALL);
}

static void hup_cb(struct ev_loop *loop, ev_signal *sig, int revents)
{
    (void)loop;
    (void)revents;
    log_info("SIGHUP: reading the configuration again");
    sup_reload(sig->data);
}

static void refresh_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop;
    (void)revents;
    topics_refresh(t->data);
}

static void start_signals(struct sup *s)
{
    double age = s->cfg.metadata_max_age_ms / 1000.0;

    ev_timer_init(&s->refresh, refresh_cb, age, age);
    s->refresh.data = s;
    ev_timer_start(s->loop, &s->refresh);
    ev_signal_init(&s->sigterm, stop_cb, SIGTERM);
    ev_signal_init(&s->sigint, stop_cb, SIGINT);
    ev_signal_init(&s->sighup, hup_cb, SIGHUP);
    s->sigterm.data = s->sigint.data = s->sighup.data = s;
    ev_signal_start(s->loop, &s->sigterm);
    ev_signal_start(s->loop, &s->sigint);
    ev_signal_start(s->loop, &s->sighup);
}

int sup_start_worker(struct sup *s, uint32_t i)
{
    struct sup_worker *w = &s->workers[i];

    w->sup = s;
    w->index = i;
    w->backoff_s = RESTART_BACKOFF_MIN_S;
    ev_child_init(&w->child, child_cb, 0, 0);
    w->child.data = w;
    ev_timer_init(&w->restart, restart_cb, 0, 0);
    w->restart.data = w;
    return spawn(s, i);
}

static int start_workers(struct sup *s)
{
    s->worker_count = (uint32_t)s->cfg.workers;
    atomic_store(&s->in.state->worker_count, s->worker_count);
    shard_assign(s);
    for (uint32_t i = 0; i < s->worker_count; i++)
        if (sup_start_worker(s, i) < 0)
            return CHUTE_ERR_SYSTEM;
    return 0;
}

/* The directory of the sockets (common/rundir.h): runtime.dir if set,
 * made and checked before anything is put there. */
static int runtime_dir(struct sup *s)
{
    if (s->cfg.runtime_dir && *s->cfg.runtime_dir &&
        setenv("CHUTE_RUN_DIR", s->cfg.runtime_dir, 1) < 0)
        return err_sys("cannot set CHUTE_RUN_DIR");
    return rundir_prepare(rundir_dir());
}

int sup_run(struct sup *s)
{
    int rc;

    log_set_role("sup");
    s->listen_fd = -1;
    for (uint32_t u = 0; u < USER_MAX; u++)
        s->user_peer[u].uid = (uid_t)-1;
    settings_from_config(s);
    if (security_init(&s->sec, &s->cfg, s->config_path) < 0) {
        log_error("%s", chute_errmsg());
        return 1;
    }
    s->ws.security = &s->sec.conn;
    mdfetch_security(&s->sec.conn);
    s->loop = EV_DEFAULT;
    rc = runtime_dir(s);
    if (rc == 0)
        rc = ctlserver_start(s); /* first: it refuses a second chuted */
    if (rc < 0) {
        log_error("%s", chute_errmsg());
        return 1;
    }
    if (metrics_start(s) < 0) {
        log_error("%s", chute_errmsg());
        ctlserver_stop(s);
        return 1;
    }
    rc = create_shm(s);
    if (rc == 0)
        rc = guard_users(s);
    if (rc < 0) {
        log_error("%s", chute_errmsg());
        metrics_stop(s);
        ctlserver_stop(s);
        return 1;
    }
    sup_publish_live(s);
    start_signals(s);
    health_start(s);
    if (s->reattached)
        stop_orphans(s);
    if (start_workers(s) < 0) {
        log_error("%s", chute_errmsg());
        return 1;
    }
    sup_notify("READY=1");
    log_info("instance \"%s\": %u workers, %u slots of %u bytes, "
             "%u pool chunks of %u bytes",
             s->cfg.name, s->worker_count, s->in.slots, s->in.ring_size,
             s->in.chunk_count, s->in.chunk_size);
    ev_run(s->loop, 0);
    for (uint32_t i = 0; i < WORKER_MAX; i++)
        wake_unlink(s->cfg.name, i);
    instance_detach(&s->in);
    if (s->exit_code == 0)
        instance_unlink(s->cfg.name);
    security_release(&s->sec);
    log_info("stopped");
    return s->exit_code;
}
