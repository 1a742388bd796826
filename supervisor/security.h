/*
 * security.h: the supervisor's side of TLS and SASL to the brokers.
 *
 * From the configuration (security.protocol, ssl.*, sasl.*) it builds the
 * struct conn_security every broker connection of the service uses: the
 * supervisor's topic look-ups (mdfetch) and, copied by the fork, each
 * worker's.  At start it checks that the TLS files load (a broken one
 * stops chuted with the reason) and warns about a file holding a secret
 * (the key, the token, a configuration file with a password) that users
 * other than chuted's may read.  On reload it reads the files again.
 */
#ifndef CHUTE_SUPERVISOR_SECURITY_H
#define CHUTE_SUPERVISOR_SECURITY_H

#include "broker/conn.h"
#include "shm/instance.h"
#include "supervisor/config.h"

struct sup_security {
    struct conn_security conn; /* what connections point at */
    struct tls tls;
    struct sasl_config sasl;
    struct conn_faults faults; /* the supervisor's own connections' */
    _Atomic uint64_t tls_failures, sasl_failures, reauths;
};

/* 0, or CHUTE_ERR_INVALID naming the file or setting that failed.  cfg's
 * strings must outlive sec (they are the configuration's own). */
int security_init(struct sup_security *sec, const struct config *cfg,
                  const char *config_path);
/* SIGHUP: the certificates and keys again, for new connections. */
void security_reload(struct sup_security *sec);
void security_release(struct sup_security *sec);
/* TLS failures, SASL failures and re-authentications of the supervisor
 * and of every worker (their counters in `in`'s state object). */
struct security_counts {
    uint64_t tls_failures, sasl_failures, reauths;
};
void security_count(const struct sup_security *sec, struct instance *in,
                    struct security_counts *out);
/* "sasl_ssl": security.protocol as configured. */
const char *security_protocol_name(int protocol);

/* The files named by cfg (and config_path when it holds a password)
 * that others may read, one warning each; how many. */
int security_warn_files(const struct config *cfg, const char *config_path);

#endif
