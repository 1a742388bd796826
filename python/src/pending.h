/*
 * pending.h: the table of a producer's futures whose delivery report has
 * not come yet.  Each send takes an entry; the entry's index and a
 * generation form the record's opaque, so a report finds its future in
 * O(1), and a report whose opaque names no live entry (a stale or
 * tampered one) is refused instead of being followed as a pointer.
 */
#ifndef CHUTE_PY_PENDING_H
#define CHUTE_PY_PENDING_H

#include <stddef.h>
#include <stdint.h>

struct pending {
    void **items;   /* by index: the future, or NULL when free */
    uint32_t *gens; /* by index: generation of the entry's last use */
    uint32_t *free; /* stack of free indexes */
    uint32_t nfree;
    uint32_t cap;
    uint32_t count; /* entries in use */
};

/* Takes an entry for item; returns its opaque, or 0 if out of memory. */
uint64_t pending_add(struct pending *p, void *item);
/* Removes and returns the item of opaque, or NULL if no entry has it. */
void *pending_take(struct pending *p, uint64_t opaque);
/* The item at index i (NULL if free), for scans. */
static inline void *pending_at(const struct pending *p, uint32_t i)
{
    return i < p->cap ? p->items[i] : NULL;
}
/* Frees the table's memory; the items are the caller's. */
void pending_free(struct pending *p);

#endif
