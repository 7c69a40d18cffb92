/*
 * fp_util.h - helpers shared by the fingerprint builders (private to fp/).
 *
 * A bounded string builder over a caller-owned buffer, and hex digests
 * through OpenSSL EVP with the implementations fetched once per process.
 */
#ifndef PINSCOPE_FP_UTIL_H
#define PINSCOPE_FP_UTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Appends into a caller-owned buffer; output is cut at cap - 1 characters
 * and always NUL-terminated. */
struct fp_buf {
    char *p;
    size_t cap;  /* > 0 */
    size_t len;  /* invariant: len < cap, p[len] == '\0' */
};

void fp_buf_init(struct fp_buf *b, char *p, size_t cap);
void fp_buf_printf(struct fp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append `sep` (unless it is '\0') and then v, in decimal or as exactly
 * four lower-case hex digits.  The hot path of every list in a
 * fingerprint string; same truncation rule as fp_buf_printf(). */
void fp_buf_u16(struct fp_buf *b, char sep, unsigned v, bool hex4);

enum fp_digest { FP_MD5, FP_SHA256 };

/*
 * Lower-case hex of the first `hex_chars / 2` bytes of the digest of
 * s[0..len) into out[hex_chars + 1].  Returns false (out unchanged) if the
 * digest is unavailable, e.g. MD5 under a FIPS-only provider.
 */
bool fp_digest_hex(enum fp_digest d, const char *s, size_t len, char *out, size_t hex_chars);

#endif
