/*
 * fp_util.h - helpers shared by the fingerprint builders (private to fp/).
 *
 * Straight-line writers of decimal and hex numbers into buffers the caller
 * has sized for the longest possible result (each builder states that bound
 * with a static assertion), and hex digests through OpenSSL EVP with the
 * implementations fetched once per process, one reused digest context per
 * thread and a small per-thread memo of recent results.
 */
#ifndef PINSCOPE_FP_UTIL_H
#define PINSCOPE_FP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest decimal text of a uint64_t. */
#define FP_DEC_MAX 20

/* v in decimal at p, at least `width` digits (zero-padded, width <= 20);
 * returns the end (no NUL written). */
static inline char *fp_put_dec_w(char *p, uint64_t v, unsigned width)
{
    char tmp[FP_DEC_MAX];
    unsigned n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width && n < FP_DEC_MAX)
        tmp[n++] = '0';
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* v in decimal at p; returns the end (no NUL written). */
static inline char *fp_put_dec(char *p, uint64_t v)
{
    return fp_put_dec_w(p, v, 1);
}

/* v as exactly four lower-case hex digits at p; returns the end. */
static inline char *fp_put_hex4(char *p, unsigned v)
{
    static const char hex[] = "0123456789abcdef";

    p[0] = hex[(v >> 12) & 0xf];
    p[1] = hex[(v >> 8) & 0xf];
    p[2] = hex[(v >> 4) & 0xf];
    p[3] = hex[v & 0xf];
    return p + 4;
}

/* The entries of v as 4-hex values joined by ',' at p; returns the end
 * (at most 5 * n - 1 characters, no NUL written). */
static inline char *fp_put_hex4_list(char *p, const uint16_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            *p++ = ',';
        p = fp_put_hex4(p, v[i]);
    }
    return p;
}

enum fp_digest { FP_MD5, FP_SHA256 };

/*
 * Lower-case hex of the first `hex_chars / 2` bytes of the digest of
 * s[0..len) into out[hex_chars + 1].  Returns false (out unchanged) if the
 * digest is unavailable, e.g. MD5 under a FIPS-only provider.
 *
 * Thread-safe: each thread has its own digest context and memo (freed when
 * the thread exits); the memo holds at most CFG_FP_MEMO_SETS *
 * CFG_FP_MEMO_WAYS results of inputs up to CFG_FP_MEMO_KEY_MAX bytes and is
 * checked by exact comparison of the input.  Without memory for them the
 * digest is computed with a context of its own, as before.
 */
bool fp_digest_hex(enum fp_digest d, const char *s, size_t len, char *out, size_t hex_chars);

#endif
