/*
 * procmem.c: a process's resident and proportional set sizes from /proc.
 */
#include "common/procmem.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void procmem_path(char *buf, size_t size, pid_t pid, const char *file)
{
    if (pid)
        snprintf(buf, size, "/proc/%ld/%s", (long)pid, file);
    else
        snprintf(buf, size, "/proc/self/%s", file);
}

int64_t procmem_rss(pid_t pid)
{
    char path[64];
    unsigned long long size, resident;
    FILE *f;
    int n;

    procmem_path(path, sizeof(path), pid, "statm");
    if (!(f = fopen(path, "r")))
        return -1;
    n = fscanf(f, "%llu %llu", &size, &resident);
    fclose(f);
    if (n != 2)
        return -1;
    return (int64_t)resident * sysconf(_SC_PAGESIZE);
}

/* The "KEY N kB" line of a /proc file (key with its colon), in bytes,
 * or -1. */
static int64_t procmem_kb_line(pid_t pid, const char *file, const char *key)
{
    char path[64], line[256];
    size_t klen = strlen(key);
    int64_t kb = -1;
    FILE *f;

    procmem_path(path, sizeof(path), pid, file);
    if (!(f = fopen(path, "r")))
        return -1;
    while (kb < 0 && fgets(line, sizeof(line), f))
        if (strncmp(line, key, klen) ||
            sscanf(line + klen, " %" SCNd64 " kB", &kb) != 1)
            kb = -1;
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

int64_t procmem_pss(pid_t pid)
{
    return procmem_kb_line(pid, "smaps_rollup", "Pss:");
}

int64_t procmem_anon(pid_t pid)
{
    return procmem_kb_line(pid, "status", "RssAnon:");
}
