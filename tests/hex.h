/*
 * hex.h: turns the hex strings of test vectors ("0000 003a ff", spaces and
 * '|' ignored) into bytes.  Header-only, for the proto/ unit tests.
 */
#ifndef CHUTE_TESTS_HEX_H
#define CHUTE_TESTS_HEX_H

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>

static inline int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes hex into out (cap bytes); returns the byte count, or -1 on a bad
 * digit, an odd digit count or overflow. */
static inline long hex_decode(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;

    for (; *hex; hex++) {
        int v = hex_nibble(*hex);

        if (*hex == ' ' || *hex == '|' || *hex == '\n')
            continue;
        if (v < 0 || n >= cap)
            return -1;
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return hi < 0 ? (long)n : -1;
}

#endif
