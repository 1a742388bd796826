/*
 * wake.c: the doorbell sockets behind a worker's sleep.
 */
#include "shm/wake.h"

#include "common/err.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static socklen_t wake_addr(struct sockaddr_un *sa, const char *name,
                           uint32_t worker)
{
    int n;

    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    /* sun_path[0] stays 0: the abstract namespace, nothing to clean up. */
    n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "chute.%s.w%u",
                 name, worker);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

int wake_bind(const char *name, uint32_t worker)
{
    struct sockaddr_un sa;
    socklen_t len = wake_addr(&sa, name, worker);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return err_sys("cannot create doorbell socket");
    if (bind(fd, (struct sockaddr *)&sa, len) < 0) {
        err_sys("cannot bind doorbell of worker %u", worker);
        close(fd);
        return CHUTE_ERR_SYSTEM;
    }
    return fd;
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
    socklen_t len = wake_addr(&sa, name, worker);
    char b = 1;

    (void)!sendto(fd, &b, 1, MSG_DONTWAIT | MSG_NOSIGNAL,
                  (struct sockaddr *)&sa, len);
}

void wake_drain(int fd)
{
    char buf[64];

    while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
        ;
}
