/*
 * procmem.h: how much memory a process holds, from /proc: its resident
 * set (what `ps` shows as RSS, shared-memory pages it touched included)
 * and its proportional set (each shared page divided among the processes
 * that map it) and its private anonymous part, for chutectl status and
 * chute-bench's soak.
 */
#ifndef CHUTE_COMMON_PROCMEM_H
#define CHUTE_COMMON_PROCMEM_H

#include <stdint.h>
#include <sys/types.h>

/* Resident bytes of process pid (0: this one), or -1 if it is gone. */
int64_t procmem_rss(pid_t pid);

/* Proportional set size in bytes (/proc/PID/smaps_rollup), or -1 if the
 * process is gone or the kernel does not say. */
int64_t procmem_pss(pid_t pid);

/* Private anonymous resident bytes (RssAnon in /proc/PID/status: the
 * heap and stacks, no shared memory), or -1. */
int64_t procmem_anon(pid_t pid);

#endif
