/*
 * security.c: struct conn_security from the configuration, secret-file
 * warnings, and certificate reloads.
 */
#include "supervisor/security.h"

#include "common/err.h"
#include "common/log.h"

#include <string.h>
#include <sys/stat.h>

static bool uses_tls(const struct config *cfg)
{
    return cfg->security_protocol == CONFIG_SEC_SSL ||
           cfg->security_protocol == CONFIG_SEC_SASL_SSL;
}

static bool uses_sasl(const struct config *cfg)
{
    return cfg->security_protocol == CONFIG_SEC_SASL_PLAINTEXT ||
           cfg->security_protocol == CONFIG_SEC_SASL_SSL;
}

/* One warning if `path` (holding `what`) may be read by others. */
static int warn_file(const char *path, const char *what)
{
    struct stat st;

    if (!path || !*path || stat(path, &st) < 0 ||
        !(st.st_mode & (S_IROTH | S_IRGRP)))
        return 0;
    log_warn("\"%s\" holds %s and may be read by %s (mode %03o): chmod "
             "600 it",
             path, what, st.st_mode & S_IROTH ? "every user" : "its group",
             (unsigned)(st.st_mode & 0777));
    return 1;
}

int security_warn_files(const struct config *cfg, const char *config_path)
{
    int n = 0;

    if (uses_tls(cfg))
        n += warn_file(cfg->ssl_key_location, "a private key");
    if (uses_sasl(cfg) && cfg->sasl_mechanism == SASL_OAUTHBEARER)
        n +=
            warn_file(cfg->sasl_oauthbearer_token_file, "an OAUTHBEARER token");
    if (*cfg->sasl_password || *cfg->ssl_key_password)
        n += warn_file(config_path, "a password");
    return n;
}

int security_init(struct sup_security *sec, const struct config *cfg,
                  const char *config_path)
{
    struct tls_config tc = {
        .ca_location = cfg->ssl_ca_location,
        .certificate_location = cfg->ssl_certificate_location,
        .key_location = cfg->ssl_key_location,
        .key_password = cfg->ssl_key_password,
        .cipher_suites = cfg->ssl_cipher_suites,
        .verify_hostname = cfg->ssl_verify_hostname != 0,
    };

    memset(sec, 0, sizeof(*sec));
    sec->faults.tls_failures = &sec->tls_failures;
    sec->faults.sasl_failures = &sec->sasl_failures;
    sec->faults.reauths = &sec->reauths;
    sec->conn.faults = &sec->faults;
    security_warn_files(cfg, config_path);
    if (uses_tls(cfg)) {
        if (tls_init(&sec->tls, &tc) < 0)
            return CHUTE_ERR_INVALID;
        sec->conn.tls = &sec->tls;
    }
    if (uses_sasl(cfg)) {
        sec->sasl = (struct sasl_config){
            .mechanism = cfg->sasl_mechanism,
            .username = cfg->sasl_username,
            .password = cfg->sasl_password,
            .token_file = cfg->sasl_oauthbearer_token_file,
        };
        sec->conn.sasl = &sec->sasl;
    }
    return 0;
}

void security_reload(struct sup_security *sec)
{
    if (!sec->conn.tls)
        return;
    if (tls_reload(&sec->tls) < 0)
        log_error("reload: %s", chute_errmsg());
    else
        log_info("reload: TLS certificates and keys read again (context "
                 "%u) for new broker connections",
                 sec->tls.generation);
}

void security_count(const struct sup_security *sec, struct instance *in,
                    struct security_counts *out)
{
    out->tls_failures = atomic_load(&sec->tls_failures);
    out->sasl_failures = atomic_load(&sec->sasl_failures);
    out->reauths = atomic_load(&sec->reauths);
    for (uint32_t i = 0; i < WORKER_MAX; i++) {
        struct state_worker *w = instance_worker(in, i);
        out->tls_failures += atomic_load(&w->tls_failures);
        out->sasl_failures += atomic_load(&w->sasl_failures);
        out->reauths += atomic_load(&w->reauths);
    }
}

const char *security_protocol_name(int protocol)
{
    static const char *const names[] = {
        [CONFIG_SEC_PLAINTEXT] = "plaintext",
        [CONFIG_SEC_SSL] = "ssl",
        [CONFIG_SEC_SASL_PLAINTEXT] = "sasl_plaintext",
        [CONFIG_SEC_SASL_SSL] = "sasl_ssl",
    };

    return protocol >= 0 && protocol <= CONFIG_SEC_SASL_SSL ? names[protocol]
                                                            : "?";
}

void security_release(struct sup_security *sec)
{
    tls_release(&sec->tls);
    sec->conn.tls = NULL;
}
