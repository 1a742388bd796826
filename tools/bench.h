/*
 * bench.h: what the parts of chute-bench share: its options, the workload,
 * one producing child's share of the work and what the child reports back.
 * chute-bench.c runs the children and prints the figures; bench_peer.c is
 * the child's side for producers that are programs of their own (Kafka's
 * Java producer, kafka-python); bench_floor.c measures the work floor.
 */
#ifndef CHUTE_TOOLS_BENCH_H
#define CHUTE_TOOLS_BENCH_H

#include "chute/chute.h"

#include <librdkafka/rdkafka.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BENCH_SAMPLE_EVERY 16
#define BENCH_KEY_LEN      16

/* In the order a run goes through them. */
enum bench_producer {
    BENCH_CHUTE,
    BENCH_RDKAFKA,
    BENCH_JAVA,
    BENCH_KAFKA_PYTHON,
    BENCH_PRODUCERS
};

#define BENCH_RDK_CONF_MAX 16
#define BENCH_MAX_WORKERS  256

/* What a run measures: throughput (the default) or one of the modes of
 * bench_latency.c, bench_idle.c and bench_soak.c. */
enum bench_mode {
    BENCH_MODE_THROUGHPUT,
    BENCH_MODE_LATENCY, /* --latency: end to end at half the peak */
    BENCH_MODE_WAKE,    /* --wake COUNT: send to consumed, one at a time */
    BENCH_MODE_IDLE,    /* --idle SECS: CPU idle, after a burst, paced */
    BENCH_MODE_SOAK,    /* --soak SECS: memory under steady load */
};

struct bench_opts {
    const char *bootstrap;
    const char *name;
    const char *topic;
    long records[BENCH_PRODUCERS]; /* -N, or -N PRODUCER=RECORDS */
    long size;
    long keys;
    long clients;
    const char *pids; /* -P, or NULL to ask the instance */
    unsigned only;    /* bit (1 << producer) for each that runs */
    long runs;
    long warmup;              /* records the peers send before the start */
    const char *java_jar;     /* --java-jar, else found by peer_locate() */
    const char *python_bench; /* --kafka-python, else likewise */
    const char *codec;        /* --codec: the peers' compression (lz4) */
    const char *rdk_conf[BENCH_RDK_CONF_MAX]; /* -X key=value: librdkafka's */
    int rdk_conf_count;
    enum bench_mode mode;
    double rate;      /* -R: records/s of the paced modes, 0: find it */
    long linger_ms;   /* --linger: librdkafka's (chute's is chuted's) */
    double secs;      /* --secs: paced span of --latency */
    long count;       /* --wake COUNT */
    double mode_secs; /* --idle SECS, --soak SECS */
    double fraction;  /* --fraction: of the peak, for --soak */
    long rdk_producers;    /* -C: librdkafka producer processes */
    int floor;             /* BENCH_FLOOR_* */
    long partitions;       /* --partitions, else the topic's (0: ask) */
    long floor_batch_size; /* --floor-batch-size */
    double floor_ns; /* the floor: measured before the run, --floor-ns, or 0 */
};

/* --floor: the floor alone; default: the floor, then the run; --no-floor:
 * the run alone. */
enum { BENCH_FLOOR_ONLY = 1, BENCH_FLOOR_BEFORE = 0, BENCH_FLOOR_NONE = -1 };

/* What the workload looks like, built before any clock starts. */
struct bench_load {
    char *keys; /* keys * BENCH_KEY_LEN bytes, each NUL-padded */
    size_t *key_lens;
    char *value;
};

/* What one child process sends back through its pipe, then its samples.
 * setup_cpu_ns is the CPU its side spent outside the measured span (before
 * the start, and a peer program's exit), which the parent takes off the
 * children's total; end_ns (CLOCK_MONOTONIC) is when its last record was
 * resolved. */
struct bench_report {
    uint64_t sent;
    uint64_t failed;
    uint64_t bytes;
    uint64_t nsamples;
    uint64_t setup_cpu_ns;
    uint64_t end_ns;
};

/* One child's share of the work and where it keeps its numbers. */
struct bench_share {
    const struct bench_opts *o;
    const struct bench_load *load;
    long first, step, count; /* records first, first+step, ... */
    uint64_t *samples;       /* room for count / BENCH_SAMPLE_EVERY + 1 */
    struct bench_report rep;
    int ready_fd, go_fd;
};

/* The work floor of a workload (bench_floor.c). */
struct bench_floor {
    long records;
    int passes;
    double cpu_ns_per_rec; /* median over the passes */
    double min_ns, max_ns;
    uint64_t batches;   /* per pass */
    double wire_ratio;  /* bytes sent / bytes of records, over batches */
    bool stages;        /* the three below were measured */
    double client_ns;   /* libchute's half: partition, encode, ring */
    double batch_ns;    /* the worker's half: batches, header, CRC */
    double compress_ns; /* compression */
    double xcore_ns;    /* the whole with the two halves on two cores, 0
                           when there is one */
    double clock_ns;    /* one CLOCK_REALTIME read (the vDSO's) */
    double cas_ns;      /* one locked compare-and-swap, in cache */
};

struct rusage;

uint64_t bench_now_ns(void);

/* user + sys of a struct rusage, in ns. */
uint64_t bench_cpu_ns(const struct rusage *ru);

/* Reports ready, waits for the common start and notes the CPU used so
 * far as set-up; -1 if the parent is gone. */
int bench_wait_go(struct bench_share *sh);

/* Points *key at record i's key, stamps i into value (room for SIZE + 8
 * bytes) and returns the key's length. */
size_t bench_record(const struct bench_share *sh, long i, char *value,
                    const char **key);

/* Measures the floor of o's workload: `records` records, `passes` times
 * (at most 32), in this process, and with `stages` where it goes and what
 * splitting it across two cores adds (four times the passes).  0, or -1
 * (logged). */
int floor_run(const struct bench_opts *o, const struct bench_load *l,
              long records, int passes, bool stages, struct bench_floor *f);
/* "producer=floor ... cpu_ns_per_rec=..." */
void floor_print(const struct bench_opts *o, const struct bench_floor *f);
/* Measures and prints the floor and keeps it in o->floor_ns; first asks
 * the instance for the topic's partitions unless o has them.  0 or -1
 * (logged). */
int floor_before(struct bench_opts *o, const struct bench_load *l, long records,
                 int passes, bool stages);

/* Child bodies of the producers that are programs of their own: start the
 * program, relay ready and start, read its figures.  0, or -1 with the
 * reason logged. */
int peer_java_body(struct bench_share *sh);
int peer_python_body(struct bench_share *sh);

/* Fills in the program paths o does not give, from where chute-bench runs,
 * and checks that the selected peers' programs exist; -1 (logged, naming
 * what builds it) if one does not. */
int peer_locate(struct bench_opts *o);

/* librdkafka's producer as every run has it: --codec, --linger, acks=all,
 * idempotence, Java's partitioner and -X; delivery reports to dr with
 * opaque.  NULL (logged) if it cannot be made. */
typedef void (*bench_rdk_dr_fn)(rd_kafka_t *rk, const rd_kafka_message_t *m,
                                void *opaque);
rd_kafka_t *bench_rdk_make(const struct bench_opts *o, bench_rdk_dr_fn dr,
                           void *opaque);

/* ---- the modes other than throughput ------------------------------------ */

/* Runs o->mode; 0, or -1 if a record failed or a step could not run. */
int bench_run_mode(const struct bench_opts *o, const struct bench_load *l);

/* bench_latency.c: --latency, and what the other modes borrow from it. */
int bench_latency(const struct bench_opts *o, const struct bench_load *l);
/* Records/s chute reaches for about a second, unpaced, with delivery
 * reports on (every record acknowledged); 0 if it could not run. */
double bench_chute_peak(const struct bench_opts *o, const struct bench_load *l);
/* Sends records first, first + 1, ... paced at rate (records/s, sleeping
 * between them; 0: unpaced) on an open client without delivery reports,
 * until count records or until_ns (CLOCK_MONOTONIC); returns how many it
 * sent, counts refusals in *failed. */
long bench_chute_paced(const struct bench_opts *o, const struct bench_load *l,
                       chute_t *c, int topic, long first, long count,
                       double rate, uint64_t until_ns, uint64_t *failed);
/* Opens a client of o->name and resolves o->topic; -1 (logged) if not. */
int bench_chute_open(const struct bench_opts *o, chute_t **c, int *topic);

/* bench_idle.c: --wake and --idle. */
int bench_wake(const struct bench_opts *o, const struct bench_load *l);
int bench_idle(const struct bench_opts *o, const struct bench_load *l);

/* bench_soak.c: --soak. */
int bench_soak(const struct bench_opts *o, const struct bench_load *l);

/* Sorts v, then gives its p-th percentile (p in 0..100, may be 99.9). */
void bench_sort_u64(uint64_t *v, size_t n);
uint64_t bench_pct(const uint64_t *sorted, size_t n, double p);

/* bench_proc.c: the instance's processes and what they use. */
/* utime + stime of a process in ns, or -1 if it is gone. */
int64_t bench_proc_cpu_ns(pid_t pid);
/* Asks the instance's control socket for its supervisor's pid (into *sup
 * unless NULL) and its workers' pids (at most BENCH_MAX_WORKERS); returns
 * how many workers, 0 if it does not answer. */
int bench_instance_pids(const char *name, pid_t *sup, pid_t *pids);
/* The workers' pids (see bench_instance_pids). */
int bench_status_workers(const char *name, pid_t *pids);
/* Time on a CPU in ns of all of a process's threads, from schedstat
 * (ns, where /proc/PID/stat counts 10 ms ticks), or -1 if it is gone. */
int64_t bench_proc_run_ns(pid_t pid);
/* CPU (ns, bench_proc_run_ns) the supervisor and workers used in all, -1
 * if one is gone. */
int64_t bench_instance_cpu_ns(pid_t sup, const pid_t *pids, int n);

#endif
