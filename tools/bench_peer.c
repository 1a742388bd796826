/*
 * bench_peer.c: chute-bench's producers that are programs of their own:
 * Kafka's Java producer (tools/java-bench, `make java-bench`) and
 * kafka-python (tools/bench_kafka_python.py under /usr/bin/python3).
 *
 * A bench child runs the program with the workload on its command line and
 * relays: the program sets up and warms up, prints "ready"; the child then
 * reports ready to chute-bench like any other producer and, at the common
 * start, writes a line to the program's stdin.  The program sends, flushes,
 * closes and prints "result sent=N failed=N bytes=N cpu_ns=N samples=K"
 * and K send durations.  cpu_ns is the program's own CPU time from the
 * start line to the end of its close(); the rest of what the program used
 * (VM or interpreter start-up, warm-up, exit), read from wait4(), becomes
 * the child's set-up CPU, so chute-bench counts only the measured span.
 */
#include "tools/bench.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* Debian's interpreter: python3-kafka and python3-lz4 are installed for it,
 * not for whatever python3 comes first on PATH. */
#define PEER_PYTHON "/usr/bin/python3"
#define PEER_ARGS   24

struct peer_proc {
    const char *what;
    pid_t pid;
    int in_fd; /* the program's stdin */
    FILE *out; /* the program's stdout */
};

/* In the forked child: stdin and stdout become the pipes, nothing else of
 * chute-bench stays open, and the program dies with its relay. */
static void peer_exec(char *const argv[], int in_fd, int out_fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (dup2(in_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0)
        _exit(127);
    close_range(3, ~0u, 0);
    execvp(argv[0], argv);
    fprintf(stderr, "chute-bench: cannot run %s: %s\n", argv[0],
            strerror(errno));
    _exit(127);
}

static int peer_start(struct peer_proc *p, char *const argv[])
{
    int in[2], out[2];

    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
        return -1;
    p->pid = fork();
    if (p->pid < 0)
        return -1;
    if (p->pid == 0)
        peer_exec(argv, in[0], out[1]);
    close(in[0]);
    close(out[1]);
    p->in_fd = in[1];
    p->out = fdopen(out[0], "r");
    return p->out ? 0 : -1;
}

/* Waits for the program's "ready" line. */
static int peer_ready(struct peer_proc *p)
{
    char line[64];

    if (fgets(line, sizeof(line), p->out) && !strcmp(line, "ready\n"))
        return 0;
    log_error("%s: the program stopped before it was ready", p->what);
    return -1;
}

/* Reads the result line and up to the room in sh->samples of the send
 * durations after it; *cpu_ns is the program's CPU from the start. */
static int peer_result(struct peer_proc *p, struct bench_share *sh,
                       uint64_t *cpu_ns)
{
    uint64_t room = (uint64_t)sh->count / BENCH_SAMPLE_EVERY + 1, n, v;
    struct bench_report *r = &sh->rep;

    if (fscanf(p->out,
               "result sent=%" SCNu64 " failed=%" SCNu64 " bytes=%" SCNu64
               " cpu_ns=%" SCNu64 " samples=%" SCNu64,
               &r->sent, &r->failed, &r->bytes, cpu_ns, &n) != 5) {
        log_error("%s: the program ended without its result", p->what);
        return -1;
    }
    r->end_ns = bench_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        if (fscanf(p->out, "%" SCNu64, &v) != 1) {
            log_error("%s: the program's send durations end early", p->what);
            return -1;
        }
        if (r->nsamples < room)
            sh->samples[r->nsamples++] = v;
    }
    return 0;
}

/* Reaps the program; adds the CPU it used outside the measured span to the
 * set-up.  -1 unless it exited 0. */
static int peer_reap(struct peer_proc *p, struct bench_share *sh,
                     uint64_t cpu_ns)
{
    struct rusage ru;
    int status;

    while (wait4(p->pid, &status, 0, &ru) < 0)
        if (errno != EINTR)
            return -1;
    if (bench_cpu_ns(&ru) > cpu_ns)
        sh->rep.setup_cpu_ns += bench_cpu_ns(&ru) - cpu_ns;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status))
        log_error("%s: the program exited with %d", p->what,
                  WEXITSTATUS(status));
    else
        log_error("%s: the program died of signal %d", p->what,
                  WTERMSIG(status));
    return -1;
}

/* The program's share of the protocol, from start to reaping. */
static int peer_drive(struct peer_proc *p, struct bench_share *sh)
{
    uint64_t cpu_ns = 0;
    int rc = peer_ready(p);

    if (rc == 0 && bench_wait_go(sh) < 0)
        rc = -1;
    if (rc == 0 && write(p->in_fd, "go\n", 3) != 3)
        rc = -1;
    close(p->in_fd);
    if (rc == 0)
        rc = peer_result(p, sh, &cpu_ns);
    fclose(p->out);
    if (rc < 0)
        kill(p->pid, SIGTERM);
    return peer_reap(p, sh, cpu_ns) < 0 ? -1 : rc;
}

/* Runs the program whose command line starts with argv[0..n-1], with the
 * workload's flags after them. */
static int peer_body(struct bench_share *sh, const char *what, char **argv,
                     int n)
{
    char records[24], size[24], keys[24], warmup[24];
    struct peer_proc p = {.what = what};
    char *tail[] = {"-b", (char *)sh->o->bootstrap, "-t",
                    (char *)sh->o->topic, "-N", records, "-S", size,
                    "-k", keys, "-w", warmup, "-z", (char *)sh->o->codec,
                    NULL};

    snprintf(records, sizeof(records), "%ld", sh->count);
    snprintf(size, sizeof(size), "%ld", sh->o->size);
    snprintf(keys, sizeof(keys), "%ld", sh->o->keys);
    snprintf(warmup, sizeof(warmup), "%ld", sh->o->warmup);
    if (n + sizeof(tail) / sizeof(tail[0]) > PEER_ARGS) {
        log_error("%s: too many arguments", what);
        return -1;
    }
    memcpy(argv + n, tail, sizeof(tail));
    if (peer_start(&p, argv) < 0) {
        log_error("%s: cannot start the program: %s", what, strerror(errno));
        return -1;
    }
    return peer_drive(&p, sh);
}

int peer_java_body(struct bench_share *sh)
{
    char *argv[PEER_ARGS] = {"java", "-jar", (char *)sh->o->java_jar};

    return peer_body(sh, "java", argv, 3);
}

int peer_python_body(struct bench_share *sh)
{
    char *argv[PEER_ARGS] = {PEER_PYTHON, (char *)sh->o->python_bench};

    return peer_body(sh, "kafka-python", argv, 2);
}

/* PATH relative to the folder chute-bench runs from (BUILD/bin), in buf. */
static const char *peer_beside_exe(const char *rel, char *buf, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    if (n < 0)
        return rel;
    exe[n] = '\0';
    snprintf(buf, len, "%s/%s", dirname(exe), rel);
    return buf;
}

int peer_locate(struct bench_opts *o)
{
    static char jar[PATH_MAX + 64], script[PATH_MAX + 64];

    if (!o->java_jar)
        o->java_jar = peer_beside_exe("../java-bench/chute-java-bench.jar",
                                      jar, sizeof(jar));
    if (!o->python_bench)
        o->python_bench = peer_beside_exe("../../tools/bench_kafka_python.py",
                                          script, sizeof(script));
    if ((o->only & 1u << BENCH_JAVA) && access(o->java_jar, R_OK) < 0) {
        log_error("no Java producer program at %s: build it with "
                  "`make java-bench` (or give --java-jar)", o->java_jar);
        return -1;
    }
    if ((o->only & 1u << BENCH_KAFKA_PYTHON) &&
        access(o->python_bench, R_OK) < 0) {
        log_error("no kafka-python program at %s (give --kafka-python "
                  "FILE: tools/bench_kafka_python.py)", o->python_bench);
        return -1;
    }
    return 0;
}
