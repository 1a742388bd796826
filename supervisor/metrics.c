/*
 * metrics.c: the Prometheus endpoint (metrics.listen=HOST:PORT), served
 * from the supervisor's libev loop.  Being written: for now it only says
 * when metrics.listen is set.
 */
#include "supervisor/sup.h"

#include "common/log.h"

int metrics_start(struct sup *s)
{
    if (s->cfg.metrics_listen && *s->cfg.metrics_listen)
        log_warn("metrics.listen is not served yet");
    return 0;
}

void metrics_stop(struct sup *s)
{
    (void)s;
}
