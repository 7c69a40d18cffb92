/*
 * ja4x.h - JA4X, the X.509 certificate fingerprint (FoxIO License 1.1).
 *
 * A pure function of three lists of object identifiers taken from one
 * certificate, in the order they appear in its DER encoding:
 *   issuer   - the attribute type of every issuer RDN attribute
 *   subject  - the attribute type of every subject RDN attribute
 *   exts     - the extnID of every extension
 * Each OID is written as the lower-case hex of its DER content octets (the
 * bytes after tag and length: 2.5.4.3 is 550403), the OIDs of one list are
 * joined with ',', and the three lists are joined with '_':
 *   ja4x_r = issuer_subject_exts                 (raw)
 *   ja4x   = h(issuer)_h(subject)_h(exts)
 * where h() is the first 12 lower-case hex characters of the SHA-256 of the
 * list's comma-joined string, or "000000000000" for an empty list.  An empty
 * list is an empty raw field, so a certificate without extensions gives a
 * raw string ending in '_'.  Multi-valued RDNs contribute each attribute in
 * encoding order; nothing is sorted or de-duplicated.
 *
 * Implemented from FoxIO's published description of JA4X, not from its code.
 * No I/O, no allocation (apart from what OpenSSL does inside the digest),
 * no knowledge of X.509: the caller extracts the OIDs (x509/cert.c).
 */
#ifndef PINSCOPE_FP_JA4X_H
#define PINSCOPE_FP_JA4X_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JA4X_LEN 38  /* strlen("xxxxxxxxxxxx_xxxxxxxxxxxx_xxxxxxxxxxxx") */

/* The DER content octets of one OID (not owned). */
struct ja4x_oid {
    const uint8_t *p;
    size_t len;
};

enum ja4x_part { JA4X_ISSUER, JA4X_SUBJECT, JA4X_EXTS, JA4X_PARTS };

/* The three lists, in certificate order.  oids[i] may be NULL when n[i] is 0. */
struct ja4x_input {
    const struct ja4x_oid *oids[JA4X_PARTS];
    size_t n[JA4X_PARTS];
};

/*
 * strlen() of the raw string ja4x_build() would write for `in`: two hex
 * characters per OID octet, one ',' between OIDs, two '_'.  Saturates at
 * SIZE_MAX - 1 instead of wrapping, so `ja4x_raw_len(in) + 1` never
 * overflows.
 */
size_t ja4x_raw_len(const struct ja4x_input *in);

/*
 * Build ja4x_r into raw[raw_cap] and ja4x into out[JA4X_LEN + 1].
 * raw_cap must be at least ja4x_raw_len(in) + 1; the raw string is never
 * cut.  Returns true on success; false (raw and out set to "") when raw_cap
 * is too small or the SHA-256 implementation is unavailable.  Both buffers
 * are owned by the caller.
 */
bool ja4x_build(const struct ja4x_input *in, char *raw, size_t raw_cap,
                char out[JA4X_LEN + 1]);

#endif
