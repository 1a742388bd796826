/*
 * fill.h: test inputs for the compression tests: zeros, a repeated text
 * (very compressible), words drawn at random from a small list (somewhat
 * compressible, so levels make a difference) and random bytes
 * (incompressible).  Header-only; include it after cmocka.h.
 */
#ifndef CHUTE_TESTS_FILL_H
#define CHUTE_TESTS_FILL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { FILL_ZERO, FILL_TEXT, FILL_WORDS, FILL_RANDOM };

static inline uint8_t fill_byte(size_t i, int fill)
{
    static const char text[] = "key=order-17 value={\"sku\":42,\"qty\":3} ";

    switch (fill) {
    case FILL_ZERO:
        return 0;
    case FILL_TEXT:
        return (uint8_t)text[i % (sizeof(text) - 1)];
    default:
        return (uint8_t)rand();
    }
}

/* n bytes of random words separated by spaces. */
static inline void fill_words(uint8_t *p, size_t n)
{
    static const char *const words[] = {
        "order",     "sku",       "qty",     "price",
        "customer",  "warehouse", "shipped", "pending",
        "cancelled", "region",    "eu-west", "us-east",
        "null",      "true",      "false",   "2026-12-01T10:00:00Z",
        "{",         "}",         ":",       ","};
    size_t i = 0;

    while (i < n) {
        const char *w =
            words[(size_t)rand() % (sizeof(words) / sizeof(*words))];
        size_t k = strlen(w) < n - i ? strlen(w) : n - i;

        memcpy(p + i, w, k);
        i += k;
        if (i < n)
            p[i++] = ' ';
    }
}

/* A malloc'd buffer of n bytes (at least 1 allocated) filled as asked. */
static inline uint8_t *make_input(size_t n, int fill)
{
    uint8_t *p = malloc(n ? n : 1);
    size_t i;

    assert_non_null(p);
    if (fill == FILL_WORDS)
        fill_words(p, n);
    else
        for (i = 0; i < n; i++)
            p[i] = fill_byte(i, fill);
    return p;
}

#endif
