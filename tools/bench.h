/*
 * bench.h: what the parts of chute-bench share: its options, the workload,
 * one producing child's share of the work and what the child reports back.
 * chute-bench.c runs the children and prints the figures; bench_peer.c is
 * the child's side for producers that are programs of their own (Kafka's
 * Java producer, kafka-python); bench_floor.c measures the work floor.
 */
#ifndef CHUTE_TOOLS_BENCH_H
#define CHUTE_TOOLS_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
 * (at most 32), in this process, and with `stages` where it goes (three
 * times the passes).  0, or -1 (logged). */
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

#endif
