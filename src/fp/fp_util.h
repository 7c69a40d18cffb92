/*
 * fp_util.h - helpers shared by the fingerprint builders (private to fp/).
 *
 * Straight-line writers of hex numbers (decimal ones are util/dec.h's) into
 * buffers the caller has sized for the longest possible result (each
 * builder states that bound with a static assertion), and hex digests through OpenSSL EVP with the
 * implementations fetched once per process, one reused digest context per
 * thread and a small per-thread memo of recent results.
 */
#ifndef PINSCOPE_FP_UTIL_H
#define PINSCOPE_FP_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/dec.h"

/* "00".."ff": two characters per table lookup. */
static const char fp_hex2[512] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/* v as exactly four lower-case hex digits at p; returns the end. */
static inline char *fp_put_hex4(char *p, unsigned v)
{
    const char *hi = fp_hex2 + 2 * ((v >> 8) & 0xff), *lo = fp_hex2 + 2 * (v & 0xff);

    p[0] = hi[0];
    p[1] = hi[1];
    p[2] = lo[0];
    p[3] = lo[1];
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
