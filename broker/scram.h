/*
 * scram.h: the client side of SCRAM (RFC 5802) with SHA-256 and SHA-512
 * (RFC 7677), as Kafka's SCRAM-SHA-256 and SCRAM-SHA-512 use it: no
 * channel binding ("n,,"), no authorization identity.
 *
 * scram_first() gives the client-first message; scram_final() takes the
 * server-first message and gives the client-final one (the proof);
 * scram_check() takes the server-final message and checks the server's
 * signature, so a broker that does not know the password is not
 * believed.  The password is used in scram_final() only and not kept.
 */
#ifndef CHUTE_BROKER_SCRAM_H
#define CHUTE_BROKER_SCRAM_H

#include <stddef.h>
#include <stdint.h>

/* Largest iteration count taken from a server: each costs two HMACs, and
 * the loop that derives the key waits for them (Kafka's own limit is
 * 16384). */
#define SCRAM_ITERATIONS_MAX 65536
#define SCRAM_SIG_MAX        64

struct scram {
    int bits;         /* 256 or 512 */
    char *first_bare; /* "n=USER,r=CNONCE" */
    char cnonce[48];
    uint8_t server_sig[SCRAM_SIG_MAX];
    size_t sig_len;
};

/* bits: 256 or 512; cnonce NULL for a random one (tests give theirs).
 * *out is a heap string.  0, or CHUTE_ERR_INVALID / CHUTE_ERR_SYSTEM. */
int scram_first(struct scram *s, int bits, const char *user, const char *cnonce,
                char **out);
/* 0 with *out the client-final message, or CHUTE_ERR_PROTOCOL saying what is
 * wrong with the server-first message (an "e=" error, a nonce that does
 * not extend ours, a bad salt or iteration count). */
int scram_final(struct scram *s, const char *password, const char *msg,
                size_t len, char **out);
/* 0 if the server-final message carries the expected signature, else
 * CHUTE_ERR_PROTOCOL. */
int scram_check(struct scram *s, const char *msg, size_t len);
void scram_release(struct scram *s);

#endif
