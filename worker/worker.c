/*
 * worker.c: a worker process.  Its libev loop drains the owned rings while
 * they have records (an idle watcher), sleeps on its doorbell when they are
 * empty, seals batches when linger.ms runs out, and sends them.  On
 * SIGTERM it drains everything still in its rings and the pool, then exits.
 */
#include "common/err.h"
#include "common/log.h"
#include "common/proc.h"
#include "shm/wake.h"
#include "worker/wrk.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define TICK_S 0.1
/*
 * The drain's pace.  A pass that found fewer than DRAIN_FEW records naps
 * before the next, so that what the loop costs per pass (and the
 * producers' lines crossing from their cores to ours) is paid once per
 * batch of records rather than per record, and a worker faster than its
 * clients neither spins nor takes their cores: the nap doubles while
 * passes stay thin and halves when one is full, so that passes find about
 * DRAIN_FEW records, but never exceeds a quarter of the least linger.ms
 * (a record waits no longer in the ring than the batch would have waited
 * anyway) nor NAP_MAX_NS.  After the last record the worker keeps looking
 * every NAP_MIN_NS for IDLE_POLL_NS, so that a client sending steadily
 * finds it awake and makes no system call, and then sleeps on its
 * doorbell: a client sending a record a millisecond rings for each rather
 * than keep the worker napping 20,000 times a second.
 */
#define DRAIN_FEW              256
#define NAP_MIN_NS             50000
#define NAP_MAX_NS             250000
#define IDLE_POLL_NS           250000
#define NAP_TIMER_SLACK_NS     1000
#define DRAIN_PENDING_GRACE_MS 1000

static void update_linger(struct wrk *w)
{
    int64_t ms = accum_seal_due(w, false);

    ev_timer_stop(w->loop, &w->linger);
    if (ms >= 0) {
        ev_timer_set(&w->linger, (double)ms / 1000.0, 0);
        ev_timer_start(w->loop, &w->linger);
    }
}

/* Moves each owned slot's `sleeping` generation: to a new odd value
 * (asleep: a producer that sees it rings once), or to the next even one
 * (awake).  Only the slot's owner writes it. */
static void set_sleeping(struct wrk *w, bool asleep)
{
    for (uint32_t s = 0; s < w->slot_count; s++) {
        if (!w->owned[s])
            continue;
        _Atomic uint32_t *g = &w->rings[s].cons->sleeping;
        uint32_t v = atomic_load_explicit(g, memory_order_relaxed);
        if (asleep)
            v += (v & 1) ? 2 : 1;
        else if (v & 1)
            v++;
        atomic_store_explicit(g, v, memory_order_relaxed);
    }
    w->asleep = asleep;
}

/* No records right now: tell producers to ring, then look once more so a
 * record committed meanwhile is not left waiting. */
static bool go_to_sleep(struct wrk *w)
{
    set_sleeping(w, true);
    atomic_thread_fence(memory_order_seq_cst);
    if (accum_idle(w))
        return true;
    set_sleeping(w, false);
    return false;
}

static void nap(int64_t ns)
{
    struct timespec t = {0, ns};

    nanosleep(&t, NULL);
}

/* The nap after a pass that found `found` steps' worth (see above). */
static void pace(struct wrk *w, unsigned found)
{
    int64_t most = (int64_t)w->linger_min_ms * 1000000 / 4, n;

    most = most > NAP_MAX_NS   ? NAP_MAX_NS
           : most < NAP_MIN_NS ? NAP_MIN_NS
                               : most;
    n = w->nap_ns < NAP_MIN_NS ? NAP_MIN_NS
        : w->nap_ns > most     ? most
                               : w->nap_ns;
    if (found >= DRAIN_FEW) { /* a full pass: no nap, shorter ones next */
        w->nap_ns = n / 2;
        return;
    }
    nap(n);
    w->nap_ns = n * 2;
}

static void drain_cb(struct ev_loop *loop, ev_idle *idle, int revents)
{
    struct wrk *w = idle->data;
    unsigned found;

    (void)revents;
    if (w->asleep)
        set_sleeping(w, false);
    found = accum_drain(w);
    update_linger(w);
    sender_pump(w);
    if (found) {
        w->last_record_ns = clock_ns(CLOCK_MONOTONIC);
        pace(w, found);
        return;
    }
    /* A starved pool waits for a chunk to come free (before_sleep_cb, or
     * another worker's, seen by the tick) without spinning; what it holds
     * open is sealed and sent now, so that its own answers free some. */
    if (w->pool_starved) {
        accum_seal_due(w, true);
        sender_pump(w);
        ev_idle_stop(loop, idle);
        return;
    }
    if (clock_ns(CLOCK_MONOTONIC) - w->last_record_ns < IDLE_POLL_NS) {
        nap(NAP_MIN_NS);
        return;
    }
    if (go_to_sleep(w))
        ev_idle_stop(loop, idle);
    else
        nap(NAP_MIN_NS); /* not idle, yet nothing to take: no tight loop */
}

/* Before the loop sleeps, once per turn: what the modules asked for
 * while it ran (see wrk.h) is done here, so that no module calls back up
 * into another in the middle of its own work. */
static void before_sleep_cb(struct ev_loop *loop, ev_prepare *prep, int revents)
{
    struct wrk *w = prep->data;

    (void)revents;
    if (w->chunk_freed) {
        /* A chunk freed by an answer lets a starved drain go on. */
        w->chunk_freed = false;
        if (w->pool_starved)
            ev_idle_start(loop, &w->drain_idle);
    }
    if (w->drain_wanted) {
        w->drain_wanted = false;
        ev_idle_start(loop, &w->drain_idle);
    }
    cluster_turn(w);
    if (w->pump_wanted)
        sender_pump(w);
}

static void wake_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct wrk *w = io->data;

    (void)revents;
    wake_drain(w->wake_fd);
    ev_idle_start(loop, &w->drain_idle);
}

static void linger_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct wrk *w = t->data;

    (void)loop;
    (void)revents;
    update_linger(w);
    sender_pump(w);
}

static void check_stop(struct wrk *w)
{
    if (!w->stopping || !accum_idle(w))
        return;
    accum_seal_due(w, true);
    sender_pump(w);
    if (resolve_empty(w))
        ev_break(w->loop, EVBREAK_ALL);
}

/* Tests only: CHUTE_TEST_POISON=crash:TEXT (or hang:TEXT) makes a record
 * whose tail holds TEXT crash (or hang) this worker as it drains it, so
 * that tests can show a slot whose data kills workers being quarantined
 * (supervisor/health.c). */
static void test_poison(struct wrk *w, const char *spec)
{
    if (spec && strncmp(spec, "crash:", 6) == 0 && spec[6])
        w->test_poison = spec + 6;
    if (spec && strncmp(spec, "hang:", 5) == 0 && spec[5]) {
        w->test_poison = spec + 5;
        w->test_poison_hang = true;
    }
}

/* Tests only: CHUTE_TEST_REPORT_DEATH=half:FILE (or unmarked:FILE) kills
 * the first worker that writes a span of two or more delivery reports
 * once FILE can be made, in the middle of the span (resolve.c), so that
 * tests can show its successor reporting the span again. */
static void test_report_death(struct wrk *w, const char *spec)
{
    if (spec && strncmp(spec, "half:", 5) == 0 && spec[5]) {
        w->test_report_death = REPORT_DEATH_HALF;
        w->test_report_death_file = spec + 5;
    }
    if (spec && strncmp(spec, "unmarked:", 9) == 0 && spec[9]) {
        w->test_report_death = REPORT_DEATH_UNMARKED;
        w->test_report_death_file = spec + 9;
    }
}

static struct wrk_settings settings; /* this worker's, changed by reloads */
static struct conn_faults faults;    /* counted in the worker's state */

/* The security settings are this process's copy (the fork's): their
 * failures count in the worker's own state_worker. */
static void count_faults(struct wrk *w)
{
    if (!settings.security)
        return;
    faults.tls_failures = &w->stats->tls_failures;
    faults.sasl_failures = &w->stats->sasl_failures;
    faults.reauths = &w->stats->reauths;
    settings.security->faults = &faults;
}
static uint32_t live_seen;

/* Picks up settings a reload changed (state_live, state_topics).  Every
 * reload bumps the live generation: certificates and keys are read again
 * then, for the connections made from now on. */
static void apply_live(struct wrk *w)
{
    part_topics_apply(w);
    if (live_apply(&settings, w->in, &live_seen) && settings.security &&
        settings.security->tls && tls_reload(settings.security->tls) < 0)
        log_error("%s", chute_errmsg());
}

static void tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct wrk *w = t->data;

    (void)revents;
    atomic_store(&w->stats->heartbeat_ms, (uint64_t)mono_ms());
    /* A pending record, a starved pool or a lost doorbell: look again. */
    ev_idle_start(loop, &w->drain_idle);
    apply_live(w);
    sender_expire(w);
    shard_tick(w);
    cluster_tick(w);
    sender_pump(w);
    check_stop(w);
}

static void term_cb(struct ev_loop *loop, ev_signal *sig, int revents)
{
    struct wrk *w = sig->data;

    (void)revents;
    if (!w->stopping)
        log_info("stopping: draining rings and batches");
    w->stopping = true;
    ev_idle_start(loop, &w->drain_idle);
}

static void start_watchers(struct wrk *w)
{
    ev_idle_init(&w->drain_idle, drain_cb);
    w->drain_idle.data = w;
    ev_idle_start(w->loop, &w->drain_idle);
    ev_io_init(&w->wake_io, wake_cb, w->wake_fd, EV_READ);
    w->wake_io.data = w;
    ev_io_start(w->loop, &w->wake_io);
    ev_timer_init(&w->tick, tick_cb, TICK_S, TICK_S);
    w->tick.data = w;
    ev_timer_start(w->loop, &w->tick);
    ev_prepare_init(&w->before_sleep, before_sleep_cb);
    w->before_sleep.data = w;
    ev_prepare_start(w->loop, &w->before_sleep);
    ev_init(&w->linger, linger_cb);
    w->linger.data = w;
    ev_signal_init(&w->sigterm, term_cb, SIGTERM);
    w->sigterm.data = w;
    ev_signal_start(w->loop, &w->sigterm);
    ev_signal_init(&w->sigint, term_cb, SIGINT);
    w->sigint.data = w;
    ev_signal_start(w->loop, &w->sigint);
    /* The supervisor forked us with these blocked (sup.c stop_signals): one
     * that came since is delivered now, to the watchers above.  SIGHUP
     * stays blocked: reloads reach workers through the state object. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_UNBLOCK, &stop, NULL);
}

/* The worker's own memory, its connections, and what a predecessor left
 * in the pool.  0 or a chute_err with chute_errmsg() saying what failed. */
static int start(struct wrk *w)
{
    int rc;

    if ((rc = chunk_pool_init(&w->pool, w->in, (int32_t)w->index,
                              w->s->worker_count)) < 0 ||
        (rc = part_init(w)) < 0 || (rc = resolve_init(w)) < 0)
        return rc;
    if ((rc = cluster_init(w)) < 0)
        return rc;
    return recover_slots(w, w->owned);
}

int worker_main(struct instance *in, const struct wrk_settings *s,
                uint32_t index)
{
    static struct wrk w;
    char role[16];
    int rc = 1;

    snprintf(role, sizeof(role), "w%u", index);
    log_set_role(role);
    prctl(PR_SET_NAME, "chute-worker");
    /* Naps are tens of microseconds: the default slack (50 us) would
     * double them. */
    prctl(PR_SET_TIMERSLACK, NAP_TIMER_SLACK_NS);
    /* The supervisor's death stops us the way SIGTERM does: drain. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    memset(&w, 0, sizeof(w));
    settings = *s;
    live_seen = s->live_generation; /* a later reload: the first tick */
    w.in = in;
    w.topics_seen = live_topics_generation(in); /* before any topic's */
    w.s = &settings;
    w.index = index;
    w.pid = getpid();
    /* Tests only: break the sequence bookkeeping on purpose (accum.c). */
    const char *skew = getenv("CHUTE_TEST_SEQUENCE_SKEW");
    w.test_seq_skew = skew && strcmp(skew, "1") == 0;
    test_poison(&w, getenv("CHUTE_TEST_POISON"));
    test_report_death(&w, getenv("CHUTE_TEST_REPORT_DEATH"));
    w.stats = instance_worker(in, index);
    count_faults(&w);
    w.metrics = instance_metrics(in, index);
    w.loop = ev_loop_new(EVFLAG_AUTO);
    w.wake_fd = wake_bind(s->name, index, s->intake_gid);
    if (!w.loop || w.wake_fd < 0) {
        log_error("cannot start: %s", chute_errmsg());
        return 1;
    }
    shard_init(&w);
    if (start(&w) < 0) {
        log_error("cannot start: %s", chute_errmsg());
        goto out;
    }
    start_watchers(&w);
    log_info("started, pid %d", getpid());
    ev_run(w.loop, 0);
    log_info("drained; exiting");
    rc = 0;
out:
    cluster_release(&w);
    resolve_release(&w);
    part_release(&w);
    chunk_pool_release(&w.pool);
    close(w.wake_fd);
    ev_loop_destroy(w.loop);
    return rc;
}
