/*
 * bench_soak.c: chute-bench --soak SECS: the memory of an instance under
 * a steady load, to show that it does not grow.
 *
 * One client sends at --fraction (0.25) of chute's peak (found as
 * --latency finds it) or at -R RATE, sleeping between records, for SECS.
 * Before the load and every 10 s of it, the resident (RSS) and
 * proportional (PSS) set of the supervisor and of each worker are read
 * from /proc, with its private anonymous part (RssAnon: heap and stacks,
 * where a leak would show, while RSS and PSS also count the shared rings
 * and pool chunks a worker touched); a line per sample and process, then
 * per process its first, warm (after the first 10 s, when the rings and
 * pool chunks the load uses have been touched), last and largest figures
 * and the growth from warm to last.
 */
#include "tools/bench.h"
#include "common/log.h"
#include "common/procmem.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#define SOAK_EVERY_NS (10 * 1000000000ull)
#define SOAK_PROCS    (BENCH_MAX_WORKERS + 1)

struct soak_proc {
    pid_t pid;
    char name[24];
    int64_t rss[3], pss[3], anon[3]; /* first, warm, last */
    int64_t rss_max, pss_max, anon_max;
};

struct soak {
    struct soak_proc p[SOAK_PROCS];
    int n;
    long samples;
};

static int soak_procs(struct soak *s, const char *name)
{
    pid_t sup = 0, w[BENCH_MAX_WORKERS];
    int nw = bench_instance_pids(name, &sup, w);

    if (!nw)
        return -1;
    s->p[0].pid = sup;
    snprintf(s->p[0].name, sizeof(s->p[0].name), "supervisor");
    for (int i = 0; i < nw; i++) {
        s->p[i + 1].pid = w[i];
        snprintf(s->p[i + 1].name, sizeof(s->p[i + 1].name), "worker%d", i);
    }
    s->n = nw + 1;
    return 0;
}

/* One sample of every process at t; -1 if one is gone. */
static int soak_sample(struct soak *s, double t)
{
    int idx = s->samples == 0 ? 0 : s->samples == 1 ? 1 : 2;

    for (int i = 0; i < s->n; i++) {
        struct soak_proc *p = &s->p[i];
        int64_t rss = procmem_rss(p->pid), pss = procmem_pss(p->pid);
        int64_t anon = procmem_anon(p->pid);

        if (rss < 0) {
            log_error("%s (pid %ld) is gone", p->name, (long)p->pid);
            return -1;
        }
        for (int k = idx; k < 3; k++) { /* warm and last start as first */
            p->rss[k] = rss;
            p->pss[k] = pss;
            p->anon[k] = anon;
        }
        if (anon > p->anon_max)
            p->anon_max = anon;
        if (rss > p->rss_max)
            p->rss_max = rss;
        if (pss > p->pss_max)
            p->pss_max = pss;
        printf("soak t_s=%.0f proc=%s pid=%ld rss_kb=%lld pss_kb=%lld "
               "anon_kb=%lld\n",
               t, p->name, (long)p->pid, (long long)rss / 1024,
               (long long)pss / 1024, (long long)anon / 1024);
    }
    s->samples++;
    fflush(stdout);
    return 0;
}

/* " WHAT_kb_start=... WHAT_kb_warm=... WHAT_kb_end=... WHAT_kb_max=...
 * WHAT_growth_kb=..." (warm to end). */
static void soak_figure(const char *what, const int64_t *v, int64_t max)
{
    printf(" %s_kb_start=%lld %s_kb_warm=%lld %s_kb_end=%lld %s_kb_max=%lld "
           "%s_growth_kb=%lld",
           what, (long long)v[0] / 1024, what, (long long)v[1] / 1024, what,
           (long long)v[2] / 1024, what, (long long)max / 1024, what,
           (long long)(v[2] - v[1]) / 1024);
}

static void soak_summary(const struct soak *s)
{
    for (int i = 0; i < s->n; i++) {
        const struct soak_proc *p = &s->p[i];

        printf("soak summary proc=%s", p->name);
        soak_figure("rss", p->rss, p->rss_max);
        soak_figure("pss", p->pss, p->pss_max);
        soak_figure("anon", p->anon, p->anon_max);
        printf("\n");
    }
}

/* The load, a sample every 10 s. */
static int soak_run(const struct bench_opts *o, const struct bench_load *l,
                    struct soak *s, double rate, long *sent, uint64_t *failed)
{
    uint64_t start = bench_now_ns(),
             end = start + (uint64_t)(o->mode_secs * 1e9);
    chute_t *c;
    int topic, rc = 0;

    if (bench_chute_open(o, &c, &topic) < 0)
        return -1;
    for (uint64_t next = start; rc == 0 && next < end;) {
        next = next + SOAK_EVERY_NS < end ? next + SOAK_EVERY_NS : end;
        *sent += bench_chute_paced(o, l, c, topic, *sent, LONG_MAX, rate, next,
                                   failed);
        rc = soak_sample(s, (double)(bench_now_ns() - start) / 1e9);
    }
    if (chute_flush(c, 60000) != 0) {
        log_error("chute_flush: records failed or timed out");
        rc = -1;
    }
    chute_close(c);
    return rc;
}

int bench_soak(const struct bench_opts *o, const struct bench_load *l)
{
    static struct soak s;
    double rate = o->rate, peak = 0;
    uint64_t failed = 0;
    long sent = 0;
    int rc;

    if (rate <= 0) {
        peak = bench_chute_peak(o, l);
        if (peak <= 0) {
            log_error("could not find chute's peak rate");
            return -1;
        }
        rate = peak * o->fraction;
    }
    if (soak_procs(&s, o->name) < 0) {
        log_error("%s did not say its pids", o->name);
        return -1;
    }
    printf("soak secs=%.0f peak=%.0f rate=%.0f size=%ld\n", o->mode_secs, peak,
           rate, o->size);
    rc = soak_sample(&s, 0);
    if (rc == 0)
        rc = soak_run(o, l, &s, rate, &sent, &failed);
    printf("soak records=%ld failed=%llu samples=%ld\n", sent,
           (unsigned long long)failed, s.samples);
    if (rc == 0)
        soak_summary(&s);
    return rc || failed ? -1 : 0;
}
