/*
 * bench_proc.c: chute-bench's view of an instance's processes: which they
 * are (the supervisor's status reply) and the CPU they used (/proc).
 */
#include "tools/bench.h"
#include "proto/ctlmsg.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int64_t bench_proc_cpu_ns(pid_t pid)
{
    char path[64], buf[1024], *p;
    unsigned long long ut, st;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')'); /* comm may hold spaces; fields 14, 15 follow */
    if (!p || sscanf(p + 1,
                     " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                     "%llu %llu",
                     &ut, &st) != 2)
        return -1;
    return (int64_t)((ut + st) * (1000000000ull /
                                  (unsigned long long)sysconf(_SC_CLK_TCK)));
}

int bench_instance_pids(const char *name, pid_t *sup, pid_t *pids)
{
    Chute__Ctl__Request q = CHUTE__CTL__REQUEST__INIT;
    Chute__Ctl__StatusRequest sq = CHUTE__CTL__STATUS_REQUEST__INIT;
    Chute__Ctl__Reply *r = NULL;
    int fd = ctlmsg_connect(name, 5000), n = 0;

    if (fd < 0)
        return 0;
    q.body_case = CHUTE__CTL__REQUEST__BODY_STATUS;
    q.status = &sq;
    if (ctlmsg_send_request(fd, &q) == 0 &&
        ctlmsg_recv_reply(fd, &r, 5000) == 0 &&
        r->body_case == CHUTE__CTL__REPLY__BODY_STATUS) {
        if (sup)
            *sup = (pid_t)r->status->supervisor_pid;
        for (size_t i = 0; i < r->status->n_workers && n < BENCH_MAX_WORKERS;
             i++)
            if (r->status->workers[i]->pid)
                pids[n++] = (pid_t)r->status->workers[i]->pid;
    }
    ctlmsg_reply_free(r);
    close(fd);
    return n;
}

int bench_status_workers(const char *name, pid_t *pids)
{
    return bench_instance_pids(name, NULL, pids);
}

/* One thread's time on a CPU from its schedstat, or -1. */
static int64_t bench_task_run_ns(pid_t pid, const char *task)
{
    char path[300];
    unsigned long long ns;
    FILE *f;
    int n;

    snprintf(path, sizeof(path), "/proc/%ld/task/%s/schedstat", (long)pid,
             task);
    if (!(f = fopen(path, "r")))
        return -1;
    n = fscanf(f, "%llu", &ns);
    fclose(f);
    return n == 1 ? (int64_t)ns : -1;
}

int64_t bench_proc_run_ns(pid_t pid)
{
    char path[64];
    struct dirent *d;
    int64_t sum = 0;
    DIR *dir;

    snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
    if (!(dir = opendir(path)))
        return -1;
    while (sum >= 0 && (d = readdir(dir))) {
        int64_t one;

        if (d->d_name[0] == '.')
            continue;
        one = bench_task_run_ns(pid, d->d_name);
        sum = one < 0 ? -1 : sum + one;
    }
    closedir(dir);
    /* Without schedstat (a kernel without CONFIG_SCHED_INFO): ticks. */
    return sum >= 0 ? sum : bench_proc_cpu_ns(pid);
}

int64_t bench_instance_cpu_ns(pid_t sup, const pid_t *pids, int n)
{
    int64_t sum = bench_proc_run_ns(sup);

    for (int i = 0; i < n && sum >= 0; i++) {
        int64_t one = bench_proc_run_ns(pids[i]);

        sum = one < 0 ? -1 : sum + one;
    }
    return sum;
}
