/*
 * bench_idle.c: chute-bench --wake and --idle: how fast a sleeping worker
 * wakes for a record, and what an instance costs when little or nothing
 * is sent.
 *
 * --wake COUNT sends COUNT records one at a time, each after a pause of
 * 2 to 20 ms (longer than a worker polls before it sleeps), and times how
 * long after chute_send() returned the worker consumed the record: the
 * head of a ring, in the instance's status object (read-only, as clients
 * map it), moves only when its worker consumes.  The heads of all slots
 * are read before each send and watched after it; nothing else sends.
 *
 * It then times the machine itself the same way (wake_floor): a child
 * process sleeping in epoll_wait() on a datagram socket, as a worker sleeps
 * on its doorbell, woken by one datagram after the same pauses.  No
 * design that sleeps instead of spinning wakes faster than that.
 *
 * --idle SECS measures the CPU of the supervisor and the workers (from
 * /proc/PID/stat) as a percentage of one core: with no traffic for SECS;
 * in the first second and the first SECS after a burst of records was
 * flushed (a worker that polls before sleeping shows there); and while a
 * client sends one record per millisecond for SECS (a worker that spun
 * between records would show there), with the client's own CPU.
 */
#include "tools/bench.h"
#include "common/log.h"
#include "shm/instance.h"

#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAKE_GAP_MIN_NS 2000000ull
#define WAKE_GAP_MAX_NS 20000000ull
#define WAKE_TIMEOUT_NS 1000000000ull
#define IDLE_BURST      100000
#define IDLE_TAIL_NS    1000000000ull

/* ---- --wake ---------------------------------------------------------------
 */

struct wake_view {
    struct instance in;
    const struct ring_cons *cons; /* one per slot, in the status object */
    uint64_t *before;
};

static int wake_attach(struct wake_view *v, const char *name)
{
    int rc = instance_attach_status(&v->in, name);

    if (rc < 0) {
        log_error("cannot map the status of %s: %s", name, chute_errmsg());
        return -1;
    }
    v->cons = (const struct ring_cons *)((const uint8_t *)v->in.status +
                                         v->in.rings_off);
    v->before = calloc(v->in.slots, sizeof(*v->before));
    return v->before ? 0 : -1;
}

static void wake_snapshot(struct wake_view *v)
{
    for (uint32_t s = 0; s < v->in.slots; s++)
        v->before[s] =
            atomic_load_explicit(&v->cons[s].head, memory_order_acquire);
}

/* Spins until a head moved; the time it saw it, 0 after the timeout. */
static uint64_t wake_watch(const struct wake_view *v, uint64_t from)
{
    for (;;) {
        uint64_t now = bench_now_ns();

        for (uint32_t s = 0; s < v->in.slots; s++)
            if (atomic_load_explicit(&v->cons[s].head, memory_order_acquire) !=
                v->before[s])
                return now;
        if (now - from > WAKE_TIMEOUT_NS)
            return 0;
    }
}

static void wake_pause(unsigned *seed)
{
    uint64_t ns = WAKE_GAP_MIN_NS +
                  (uint64_t)rand_r(seed) % (WAKE_GAP_MAX_NS - WAKE_GAP_MIN_NS);
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ns};

    nanosleep(&ts, NULL);
}

static void wake_print(const char *what, uint64_t *v, size_t n)
{
    bench_sort_u64(v, n);
    printf(" %s_us_p50=%.1f %s_us_p99=%.1f %s_us_max=%.1f", what,
           (double)bench_pct(v, n, 50) / 1e3, what,
           (double)bench_pct(v, n, 99) / 1e3, what,
           (double)bench_pct(v, n, 100) / 1e3);
}

/* Sends the records; fills the two latencies of each seen one. */
static long wake_loop(const struct bench_opts *o, const struct bench_load *l,
                      struct wake_view *v, chute_t *c, int topic,
                      uint64_t *from_return, uint64_t *from_call,
                      uint64_t *send)
{
    chute_record_t rec = {.topic = topic,
                          .partition = CHUTE_PARTITION_UA,
                          .value = l->value,
                          .value_len = (size_t)o->size,
                          .timestamp_ms = CHUTE_TIMESTAMP_NOW};
    unsigned seed = 1;
    long seen = 0;

    for (long i = 0; i < o->count; i++) {
        uint64_t t0, t1, t2;
        int rc;

        wake_pause(&seed);
        rec.key = l->keys + (i % o->keys) * BENCH_KEY_LEN;
        rec.key_len = l->key_lens[i % o->keys];
        wake_snapshot(v);
        t0 = bench_now_ns();
        rc = chute_send(c, &rec);
        t1 = bench_now_ns();
        if (rc < 0) {
            log_error("chute_send: %s: %s", chute_err_name(rc), chute_errmsg());
            return -1;
        }
        if (!(t2 = wake_watch(v, t1)))
            continue;
        send[seen] = t1 - t0;
        from_return[seen] = t2 - t1;
        from_call[seen++] = t2 - t0;
    }
    return seen;
}

/* The child of wake_floor(): sleeps in epoll_wait() until a datagram
 * comes, then counts it in *woken; killed when done. */
_Noreturn static void wake_sleeper(int fd, _Atomic uint64_t *woken)
{
    struct epoll_event ev = {.events = EPOLLIN}, got;
    int ep = epoll_create1(0);
    char b;

    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
        _exit(1);
    for (;;) {
        if (epoll_wait(ep, &got, 1, -1) < 0)
            continue;
        if (recv(fd, &b, 1, MSG_DONTWAIT) < 0)
            continue;
        atomic_fetch_add_explicit(woken, 1, memory_order_release);
    }
}

/* The machine's own wake-up: COUNT datagrams to a sleeping child, each
 * after a pause as wake_loop() makes; fills lat[] with the time from
 * the send call to the parent seeing the child run.  Returns how many it
 * saw, -1 if it could not start or the child died. */
static long wake_floor(long count, uint64_t *lat)
{
    _Atomic uint64_t *woken = mmap(NULL, sizeof(*woken),
                                   PROT_READ | PROT_WRITE,
                                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int sv[2], status;
    unsigned seed = 2;
    long seen = 0;
    pid_t child;

    if (woken == MAP_FAILED)
        return -1;
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0) {
        munmap((void *)woken, sizeof(*woken));
        return -1;
    }
    child = fork();
    if (child == 0) {
        close(sv[0]);
        wake_sleeper(sv[1], woken);
    }
    close(sv[1]);
    for (long i = 0; child > 0 && i < count; i++) {
        uint64_t before = atomic_load(woken), t0, now;

        wake_pause(&seed);
        t0 = bench_now_ns();
        if (send(sv[0], "w", 1, 0) != 1)
            break;
        do
            now = bench_now_ns();
        while (atomic_load_explicit(woken, memory_order_acquire) == before &&
               now - t0 < WAKE_TIMEOUT_NS);
        if (atomic_load(woken) == before) {
            log_error("wake floor: the sleeping child did not run in 1 s");
            seen = -1;
            break;
        }
        lat[seen++] = now - t0;
    }
    close(sv[0]);
    /* Still asleep, or it failed: it exits only by our kill. */
    if (child > 0 && (kill(child, SIGKILL) < 0 ||
                      waitpid(child, &status, 0) != child ||
                      !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)) {
        log_error("wake floor: the sleeping child failed");
        seen = -1;
    }
    munmap((void *)woken, sizeof(*woken));
    return child > 0 ? seen : -1;
}

int bench_wake(const struct bench_opts *o, const struct bench_load *l)
{
    struct wake_view v = {0};
    uint64_t *ret = calloc((size_t)o->count, sizeof(*ret));
    uint64_t *call = calloc((size_t)o->count, sizeof(*call));
    uint64_t *send = calloc((size_t)o->count, sizeof(*send));
    pid_t sup = 0, workers[BENCH_MAX_WORKERS];
    int nw = bench_instance_pids(o->name, &sup, workers), topic, rc = -1;
    int64_t cpu0, cpu1;
    uint64_t t0, t1;
    chute_t *c;
    long seen = -1;

    if (!ret || !call || !send || !nw || wake_attach(&v, o->name) < 0 ||
        bench_chute_open(o, &c, &topic) < 0)
        goto out;
    cpu0 = bench_instance_cpu_ns(sup, workers, nw);
    t0 = bench_now_ns();
    seen = wake_loop(o, l, &v, c, topic, ret, call, send);
    t1 = bench_now_ns();
    cpu1 = bench_instance_cpu_ns(sup, workers, nw);
    if (chute_flush(c, 60000) != 0)
        log_error("chute_flush: records failed or timed out");
    else if (seen > 0)
        rc = 0;
    chute_close(c);
    if (seen < 0)
        goto out;
    printf("wake records=%ld seen=%ld missed=%ld gap_ms=2-20", o->count, seen,
           o->count - seen);
    wake_print("consumed_after_return", ret, (size_t)seen);
    wake_print("consumed_after_call", call, (size_t)seen);
    wake_print("send", send, (size_t)seen);
    printf(" instance_cpu_pct=%.2f\n",
           cpu0 < 0 || cpu1 < 0
               ? -1.0
               : (double)(cpu1 - cpu0) * 100.0 / (double)(t1 - t0));
    if (seen < o->count)
        log_error("%ld records not consumed within 1 s", o->count - seen);
    else if ((seen = wake_floor(o->count, ret)) != o->count)
        rc = -1;
    else {
        printf("wake_floor records=%ld gap_ms=2-20", seen);
        wake_print("woken_after_call", ret, (size_t)seen);
        printf("\n");
    }
out:
    if (!nw)
        log_error("%s did not say its pids", o->name);
    instance_detach(&v.in);
    free(v.before);
    free(ret);
    free(call);
    free(send);
    return seen == o->count ? rc : -1;
}

/* ---- --idle
 * ------------------------------------------------------------------ */

struct idle_procs {
    pid_t sup;
    pid_t workers[BENCH_MAX_WORKERS];
    int n;
    int64_t sup_ns, workers_ns; /* at the last idle_mark */
    uint64_t at_ns;
};

/* Notes the CPU used so far; -1 if a process is gone. */
static int idle_mark(struct idle_procs *p)
{
    p->sup_ns = bench_proc_run_ns(p->sup);
    p->workers_ns = bench_instance_cpu_ns(p->sup, p->workers, p->n);
    p->at_ns = bench_now_ns();
    if (p->sup_ns < 0 || p->workers_ns < 0) {
        log_error("a chute process is gone");
        return -1;
    }
    p->workers_ns -= p->sup_ns;
    return 0;
}

/* "idle phase=WHAT ... cpu_pct=..." since mark m; extra goes after secs. */
static int idle_print(struct idle_procs *p, const struct idle_procs *m,
                      const char *what, const char *extra)
{
    double wall;

    if (idle_mark(p) < 0)
        return -1;
    wall = (double)(p->at_ns - m->at_ns);
    printf("idle phase=%s secs=%.1f%s cpu_pct=%.3f supervisor_pct=%.3f "
           "workers_pct=%.3f (of one core)\n",
           what, wall / 1e9, extra,
           (double)(p->sup_ns + p->workers_ns - m->sup_ns - m->workers_ns) *
               100.0 / wall,
           (double)(p->sup_ns - m->sup_ns) * 100.0 / wall,
           (double)(p->workers_ns - m->workers_ns) * 100.0 / wall);
    fflush(stdout);
    return 0;
}

static void idle_sleep(uint64_t ns)
{
    struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u),
                          .tv_nsec = (long)(ns % 1000000000u)};

    while (nanosleep(&ts, &ts) < 0)
        ;
}

/* A burst, flushed; then the CPU of its first second and first SECS. */
static int idle_after_burst(const struct bench_opts *o,
                            const struct bench_load *l, chute_t *c, int topic,
                            struct idle_procs *p, uint64_t span)
{
    struct idle_procs m;
    uint64_t failed = 0;
    char extra[64];
    long n = bench_chute_paced(o, l, c, topic, 0, IDLE_BURST, 0, UINT64_MAX,
                               &failed);

    if (failed || chute_flush(c, 60000) != 0) {
        log_error("the burst's records failed");
        return -1;
    }
    if (idle_mark(p) < 0)
        return -1;
    m = *p;
    snprintf(extra, sizeof(extra), " burst=%ld", n);
    idle_sleep(IDLE_TAIL_NS);
    if (idle_print(p, &m, "after_burst_1s", extra) < 0)
        return -1;
    idle_sleep(span > IDLE_TAIL_NS ? span - IDLE_TAIL_NS : 0);
    return idle_print(p, &m, "after_burst", extra);
}

/* One record per ms for span: the instance's CPU and the client's. */
static int idle_paced(const struct bench_opts *o, const struct bench_load *l,
                      chute_t *c, int topic, struct idle_procs *p,
                      uint64_t span)
{
    struct idle_procs m;
    struct rusage r0, r1;
    uint64_t failed = 0;
    char extra[96];
    long n;

    if (idle_mark(p) < 0)
        return -1;
    m = *p;
    getrusage(RUSAGE_SELF, &r0);
    n = bench_chute_paced(o, l, c, topic, IDLE_BURST, LONG_MAX, 1000,
                          bench_now_ns() + span, &failed);
    getrusage(RUSAGE_SELF, &r1);
    snprintf(extra, sizeof(extra), " records=%ld client_pct=%.3f", n,
             (double)(bench_cpu_ns(&r1) - bench_cpu_ns(&r0)) * 100.0 /
                 (double)span);
    if (failed || chute_flush(c, 60000) != 0) {
        log_error("the paced records failed");
        return -1;
    }
    return idle_print(p, &m, "paced_1_per_ms", extra);
}

int bench_idle(const struct bench_opts *o, const struct bench_load *l)
{
    struct idle_procs p = {0}, m;
    uint64_t span = (uint64_t)(o->mode_secs * 1e9);
    chute_t *c;
    int topic, rc;

    p.n = bench_instance_pids(o->name, &p.sup, p.workers);
    if (!p.n || idle_mark(&p) < 0) {
        log_error("%s did not say its pids", o->name);
        return -1;
    }
    m = p;
    idle_sleep(span);
    if (idle_print(&p, &m, "idle", "") < 0 ||
        bench_chute_open(o, &c, &topic) < 0)
        return -1;
    rc = idle_after_burst(o, l, c, topic, &p, span);
    if (rc == 0)
        rc = idle_paced(o, l, c, topic, &p, span);
    chute_close(c);
    return rc;
}
