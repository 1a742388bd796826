/*
 * notify.c: tells a service manager how chuted is doing, with the
 * sd_notify datagram protocol (READY=1, RELOADING=1, STOPPING=1 to the
 * socket named by $NOTIFY_SOCKET), so a systemd unit can be Type=notify.
 * Without $NOTIFY_SOCKET it does nothing.
 */
#include "supervisor/sup.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

void sup_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n;
    int fd;

    if (!path || (path[0] != '/' && path[0] != '@') ||
        (n = strlen(path)) >= sizeof(sa.sun_path))
        return;
    memcpy(sa.sun_path, path, n);
    if (sa.sun_path[0] == '@')
        sa.sun_path[0] = '\0'; /* abstract namespace */
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    (void)!sendto(fd, state, strlen(state), MSG_NOSIGNAL,
                  (struct sockaddr *)&sa,
                  (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
    close(fd);
}
