/*
 * name.h: the name of a chute instance (property `name`).
 *
 * The name becomes part of file names (the control socket) and of POSIX
 * shared-memory object names, so it is limited to 1 to 64 characters of
 * A-Z a-z 0-9 '_' '.' '-'.  The service and libchute check it the same way.
 */
#ifndef CHUTE_COMMON_NAME_H
#define CHUTE_COMMON_NAME_H

#define CHUTE_NAME_MAX     64
#define CHUTE_NAME_DEFAULT "default"

/* Returns 0 if name is a valid instance name, else CHUTE_ERR_INVALID with
 * the message "\"NAME\" is not a valid instance name (...)". */
int name_check(const char *name);

#endif
