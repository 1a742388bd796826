/*
 * err.c: per-thread error messages behind chute's negative error codes.
 */
#include "common/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ERR_MSG_MAX 512

static __thread char err_msg[ERR_MSG_MAX];

int err_set(int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err_msg, sizeof(err_msg), fmt, ap);
    va_end(ap);
    return err;
}

int err_sys(const char *fmt, ...)
{
    int saved = errno;
    size_t n;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err_msg, sizeof(err_msg), fmt, ap);
    va_end(ap);
    n = strlen(err_msg);
    snprintf(err_msg + n, sizeof(err_msg) - n, ": %s", strerror(saved));
    errno = saved;
    return CHUTE_ERR_SYSTEM;
}

int err_prefix(int err, const char *fmt, ...)
{
    char old[ERR_MSG_MAX];
    size_t n;
    va_list ap;

    memcpy(old, err_msg, sizeof(old));
    va_start(ap, fmt);
    vsnprintf(err_msg, sizeof(err_msg), fmt, ap);
    va_end(ap);
    n = strlen(err_msg);
    snprintf(err_msg + n, sizeof(err_msg) - n, ": %s", old);
    return err;
}

const char *chute_errmsg(void)
{
    return err_msg;
}

const char *chute_err_name(int err)
{
    switch ((chute_err)err) {
    case CHUTE_OK: return "CHUTE_OK";
    case CHUTE_ERR_INVALID: return "CHUTE_ERR_INVALID";
    case CHUTE_ERR_NO_SERVICE: return "CHUTE_ERR_NO_SERVICE";
    case CHUTE_ERR_LAYOUT: return "CHUTE_ERR_LAYOUT";
    case CHUTE_ERR_TOO_LARGE: return "CHUTE_ERR_TOO_LARGE";
    case CHUTE_ERR_QUEUE_FULL: return "CHUTE_ERR_QUEUE_FULL";
    case CHUTE_ERR_UNKNOWN_TOPIC: return "CHUTE_ERR_UNKNOWN_TOPIC";
    case CHUTE_ERR_PARTITION: return "CHUTE_ERR_PARTITION";
    case CHUTE_ERR_TIMED_OUT: return "CHUTE_ERR_TIMED_OUT";
    case CHUTE_ERR_SYSTEM: return "CHUTE_ERR_SYSTEM";
    case CHUTE_ERR_CLOSED: return "CHUTE_ERR_CLOSED";
    case CHUTE_ERR_PROTOCOL: return "CHUTE_ERR_PROTOCOL";
    case CHUTE_ERR_TOO_MANY: return "CHUTE_ERR_TOO_MANY";
    case CHUTE_ERR_DENIED: return "CHUTE_ERR_DENIED";
    }
    return "CHUTE_ERR_UNKNOWN";
}
