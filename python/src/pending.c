/*
 * pending.c: the table of futures waiting for their delivery report (see
 * pending.h).  Opaque = generation << 32 | index, with generation >= 1, so
 * 0 is never a valid opaque.
 */
#include "pending.h"

#include <stdlib.h>
#include <string.h>

#define PENDING_FIRST_CAP 1024

static int pending_grow(struct pending *p)
{
    uint32_t cap = p->cap ? p->cap * 2 : PENDING_FIRST_CAP;
    void **items;
    uint32_t *gens, *fr;

    if (cap <= p->cap)
        return -1;
    items = realloc(p->items, cap * sizeof(*items));
    if (!items)
        return -1;
    p->items = items;
    gens = realloc(p->gens, cap * sizeof(*gens));
    if (!gens)
        return -1;
    p->gens = gens;
    fr = realloc(p->free, cap * sizeof(*fr));
    if (!fr)
        return -1;
    p->free = fr;
    memset(items + p->cap, 0, (cap - p->cap) * sizeof(*items));
    memset(gens + p->cap, 0, (cap - p->cap) * sizeof(*gens));
    /* Lowest index on top: entries are reused from the front. */
    for (uint32_t i = cap; i > p->cap; i--)
        fr[p->nfree++] = i - 1;
    p->cap = cap;
    return 0;
}

uint64_t pending_add(struct pending *p, void *item)
{
    uint32_t i;

    if (p->nfree == 0 && pending_grow(p) < 0)
        return 0;
    i = p->free[--p->nfree];
    if (++p->gens[i] == 0)
        p->gens[i] = 1;
    p->items[i] = item;
    p->count++;
    return (uint64_t)p->gens[i] << 32 | i;
}

void *pending_take(struct pending *p, uint64_t opaque)
{
    uint32_t i = (uint32_t)opaque, gen = (uint32_t)(opaque >> 32);
    void *item;

    if (i >= p->cap || !p->items[i] || p->gens[i] != gen)
        return NULL;
    item = p->items[i];
    p->items[i] = NULL;
    p->free[p->nfree++] = i;
    p->count--;
    return item;
}

void pending_free(struct pending *p)
{
    free(p->items);
    free(p->gens);
    free(p->free);
    memset(p, 0, sizeof(*p));
}
