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

int64_t procmem_pss(pid_t pid)
{
    char path[64], line[256];
    int64_t kb = -1;
    FILE *f;

    procmem_path(path, sizeof(path), pid, "smaps_rollup");
    if (!(f = fopen(path, "r")))
        return -1;
    while (kb < 0 && fgets(line, sizeof(line), f))
        if (sscanf(line, "Pss: %" SCNd64 " kB", &kb) != 1)
            kb = -1;
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}
