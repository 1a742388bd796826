/*
 * shard.c: which worker owns which slot, and moving slots while running.
 * Being written.
 */
#include "supervisor/sup.h"

#include "common/err.h"

int sup_scale(struct sup *s, uint32_t workers)
{
    (void)s;
    return err_set(CHUTE_ERR_INVALID, "scaling to %u workers is not "
                   "supported yet", workers);
}

bool sup_scale_done(const struct sup *s)
{
    (void)s;
    return true;
}
