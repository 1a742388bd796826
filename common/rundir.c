/*
 * rundir.c: where chute's sockets live, and the checks chuted makes
 * before it puts them there (rundir.h).
 */
#include "common/rundir.h"

#include "common/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

const char *rundir_dir(void)
{
    static char xdg_dir[256];
    const char *dir = getenv("CHUTE_RUN_DIR");
    const char *xdg = getenv("XDG_RUNTIME_DIR");

    if (dir && *dir)
        return dir;
    if (geteuid() == 0 || access(RUNDIR_SYSTEM, X_OK) == 0 || !xdg || !*xdg)
        return RUNDIR_SYSTEM;
    if (snprintf(xdg_dir, sizeof(xdg_dir), "%s/chute", xdg) >=
        (int)sizeof(xdg_dir))
        return RUNDIR_SYSTEM;
    return xdg_dir;
}

int rundir_path(char *buf, size_t size, const char *name, const char *suffix)
{
    const char *dir = rundir_dir();
    struct sockaddr_un sa;
    int n = snprintf(buf, size, "%s/chute-%s%s", dir, name, suffix);

    if (n < 0 || (size_t)n >= size || (size_t)n >= sizeof(sa.sun_path))
        return err_set(CHUTE_ERR_INVALID, "socket path \"%s/chute-%s%s\" is "
                       "too long", dir, name, suffix);
    return 0;
}

int rundir_prepare(const char *dir)
{
    struct stat st;
    uid_t me = geteuid();

    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return err_sys("cannot create the runtime directory \"%s\"", dir);
    if (lstat(dir, &st) < 0)
        return err_sys("cannot look at the runtime directory \"%s\"", dir);
    if (!S_ISDIR(st.st_mode))
        return err_set(CHUTE_ERR_DENIED, "the runtime directory \"%s\" is not "
                       "a directory (a symbolic link?): refusing to use it",
                       dir);
    if (st.st_uid != me && st.st_uid != 0)
        return err_set(CHUTE_ERR_DENIED, "the runtime directory \"%s\" belongs "
                       "to uid %u, not to chuted's user (uid %u) or root: "
                       "refusing to use it (set runtime.dir)",
                       dir, (unsigned)st.st_uid, (unsigned)me);
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return err_set(CHUTE_ERR_DENIED, "the runtime directory \"%s\" is "
                       "writable by others (mode %04o): refusing to use it "
                       "(set runtime.dir to a directory only chuted's user "
                       "can write)",
                       dir, (unsigned)(st.st_mode & 07777));
    return 0;
}
