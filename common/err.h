/*
 * err.h: the one error convention of chute.
 *
 * A function that can fail returns 0 (or a non-negative result) on success
 * and a negative chute_err code on failure.  Before it returns the code it
 * calls err_set(), which formats a sentence into a per-thread slot that
 * chute_errmsg() reads.  Callers that add context wrap it with err_prefix().
 * Messages are lower-case, name the subject in quotes, and carry no
 * trailing full stop.
 */
#ifndef CHUTE_COMMON_ERR_H
#define CHUTE_COMMON_ERR_H

#include "chute/chute.h"

/* Records the message for this thread and returns err. */
int err_set(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like err_set() with ": strerror(errno)" appended; returns CHUTE_ERR_SYSTEM. */
int err_sys(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prepends "context: " to the current message; returns err. */
int err_prefix(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
