/*
 * wake.c: the doorbell sockets behind a worker's sleep.
 */
#include "shm/wake.h"

#include "common/err.h"
#include "common/rundir.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int wake_addr(struct sockaddr_un *sa, const char *name, uint32_t worker)
{
    char suffix[16];

    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    snprintf(suffix, sizeof(suffix), ".w%u", worker);
    return rundir_path(sa->sun_path, sizeof(sa->sun_path), name, suffix);
}

int wake_bind(const char *name, uint32_t worker, int gid)
{
    struct sockaddr_un sa;
    int fd, rc = wake_addr(&sa, name, worker);

    if (rc < 0)
        return rc;
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_sys("cannot create doorbell socket");
    /* A predecessor's (a worker that died): the directory is chuted's
     * own, so nobody else can have put a file here. */
    unlink(sa.sun_path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        chmod(sa.sun_path, 0660) < 0 ||
        (gid >= 0 && chown(sa.sun_path, (uid_t)-1, (gid_t)gid) < 0)) {
        err_sys("cannot bind doorbell \"%s\"", sa.sun_path);
        close(fd);
        return CHUTE_ERR_SYSTEM;
    }
    return fd;
}

void wake_unlink(const char *name, uint32_t worker)
{
    struct sockaddr_un sa;

    if (wake_addr(&sa, name, worker) == 0)
        unlink(sa.sun_path);
}

int wake_socket(void)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return err_sys("cannot create doorbell socket");
    return fd;
}

void wake_ring(int fd, const char *name, uint32_t worker)
{
    struct sockaddr_un sa;
    char b = 1;

    if (wake_addr(&sa, name, worker) < 0)
        return;
    (void)!sendto(fd, &b, 1, MSG_DONTWAIT | MSG_NOSIGNAL,
                  (struct sockaddr *)&sa, sizeof(sa));
}

void wake_drain(int fd)
{
    char buf[64];

    while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
        ;
}
