/*
 * proc.h: small process helpers shared by clients, workers and the
 * supervisor.
 */
#ifndef CHUTE_COMMON_PROC_H
#define CHUTE_COMMON_PROC_H

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* True while process `pid` exists (EPERM: it exists, owned by another
 * user). */
static inline bool pid_alive(int32_t pid)
{
    return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

static inline int64_t clock_ns(clockid_t clock)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t mono_ms(void)
{
    return clock_ns(CLOCK_MONOTONIC) / 1000000;
}

#endif
