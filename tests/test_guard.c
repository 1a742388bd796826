/*
 * test_guard.c: the SIGBUS guard (shm/guard.c).  A shared mapping whose
 * file a "client" truncates is read again as zeros, counted, and writable
 * (privately); another guarded mapping is untouched; a fault outside any
 * guarded range still kills the process.
 */
/* cmocka needs these before it, in this order */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include "shm/guard.h"

#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define LEN (4 * 4096)

static volatile uint8_t *shared(int *fd)
{
    void *p;

    *fd = memfd_create("test_guard", 0);
    assert_true(*fd >= 0);
    assert_int_equal(ftruncate(*fd, LEN), 0);
    p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
    assert_true(p != MAP_FAILED);
    memset(p, 0x5a, LEN);
    return p;
}

static void test_cut_object_reads_zero(void **state)
{
    _Atomic uint64_t hits_a = 0, hits_b = 0;
    int fa, fb;
    volatile uint8_t *a = shared(&fa), *b = shared(&fb);

    (void)state;
    guard_clear();
    assert_int_equal(guard_install(), 0);
    assert_int_equal(guard_add((void *)a, LEN, &hits_a), 0);
    assert_int_equal(guard_add((void *)b, LEN, &hits_b), 0);
    assert_int_equal(ftruncate(fa, 4096), 0); /* the client cuts it */
    assert_int_equal(a[0], 0x5a);             /* still there */
    assert_int_equal(a[3 * 4096 + 7], 0);     /* gone: zeros, no SIGBUS */
    assert_int_equal(atomic_load(&hits_a), 1);
    assert_int_equal(a[0], 0);                /* the whole object now */
    a[100] = 1;                               /* and writable */
    assert_int_equal(a[100], 1);
    assert_int_equal(b[LEN - 1], 0x5a);       /* the other one untouched */
    assert_int_equal(atomic_load(&hits_b), 0);
    guard_clear();
    munmap((void *)a, LEN);
    munmap((void *)b, LEN);
    close(fa);
    close(fb);
}

static void test_unguarded_fault_still_kills(void **state)
{
    int fd, status;
    volatile uint8_t *p = shared(&fd);
    pid_t pid;

    (void)state;
    guard_clear();
    assert_int_equal(guard_install(), 0);
    assert_int_equal(ftruncate(fd, 0), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        (void)p[0]; /* not guarded: SIGBUS, as without the guard */
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGBUS);
    munmap((void *)p, LEN);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cut_object_reads_zero),
        cmocka_unit_test(test_unguarded_fault_still_kills),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
