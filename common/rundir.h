/*
 * rundir.h: the runtime directory of chute instances.
 *
 * A chute instance's control socket (chute-NAME.sock) and its workers'
 * doorbells (chute-NAME.wN) are files in one directory that only chuted's
 * user (or root) may write, so no other local user can squat their names
 * (no abstract sockets, which anyone can bind first).  chuted and
 * libchute find it the same way:
 *
 *   $CHUTE_RUN_DIR if set (chuted's `runtime.dir` property sets it);
 *   else /run/chute when running as root or when /run/chute exists (the
 *        systemd unit's RuntimeDirectory);
 *   else $XDG_RUNTIME_DIR/chute (a chuted of one user, for that user);
 *   else /run/chute.
 */
#ifndef CHUTE_COMMON_RUNDIR_H
#define CHUTE_COMMON_RUNDIR_H

#include <stddef.h>

#define RUNDIR_SYSTEM "/run/chute"

/* The directory, as above (a static buffer for the XDG case). */
const char *rundir_dir(void);
/* Writes "DIR/chute-NAMESUFFIX" into buf.  Returns 0, or CHUTE_ERR_INVALID
 * when it does not fit buf or a Unix socket address. */
int rundir_path(char *buf, size_t size, const char *name, const char *suffix);
/* chuted: creates the directory if missing (mode 0755) and checks that it
 * is safe to put sockets in: a real directory (not a symbolic link), owned
 * by chuted's user or root, writable by nobody else.  0, or
 * CHUTE_ERR_DENIED saying what is wrong. */
int rundir_prepare(const char *dir);

#endif
