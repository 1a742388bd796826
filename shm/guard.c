/*
 * guard.c: the SIGBUS guard over user objects (guard.h).
 *
 * The table is written before any object it names can be touched by a
 * worker and read only by the handler; a range's `len` is stored last
 * (release) and read first (acquire), so the handler never sees half an
 * entry.
 */
#include "shm/guard.h"

#include "common/err.h"

#include <signal.h>
#include <string.h>
#include <sys/mman.h>

static struct {
    uintptr_t base;
    _Atomic size_t len;
    _Atomic uint64_t *hits;
} guarded[GUARD_MAX];

static void on_sigbus(int sig, siginfo_t *info, void *uctx)
{
    uintptr_t addr = (uintptr_t)info->si_addr;

    (void)uctx;
    for (int i = 0; i < GUARD_MAX; i++) {
        size_t len = atomic_load_explicit(&guarded[i].len,
                                          memory_order_acquire);
        uintptr_t base = guarded[i].base;
        if (len == 0 || addr < base || addr - base >= len)
            continue;
        /* Zero pages over the whole object, in this process only: the
         * faulting access is retried on them. */
        if (mmap((void *)base, len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
            MAP_FAILED)
            break;
        if (guarded[i].hits)
            atomic_fetch_add_explicit(guarded[i].hits, 1,
                                      memory_order_relaxed);
        return;
    }
    /* Not ours: die of it as we would have. */
    signal(sig, SIG_DFL);
}

int guard_install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, NULL) < 0)
        return err_sys("cannot install the SIGBUS guard");
    return 0;
}

int guard_add(void *base, size_t len, _Atomic uint64_t *hits)
{
    for (int i = 0; i < GUARD_MAX; i++) {
        if (atomic_load(&guarded[i].len) != 0)
            continue;
        guarded[i].base = (uintptr_t)base;
        guarded[i].hits = hits;
        atomic_store_explicit(&guarded[i].len, len, memory_order_release);
        return 0;
    }
    return err_set(CHUTE_ERR_TOO_MANY, "the SIGBUS guard holds %d objects",
                   GUARD_MAX);
}

void guard_clear(void)
{
    for (int i = 0; i < GUARD_MAX; i++)
        atomic_store(&guarded[i].len, 0);
}
