/*
 * ja3.c - JA3 and JA3S strings and MD5 hashes from a parsed hello.
 *
 * Follows the Salesforce JA3 README: decimal values joined by '-' inside a
 * field and ',' between fields.
 *   JA3  = legacy_version,ciphers,extensions,groups,point_formats
 *   JA3S = legacy_version,cipher,extensions
 * The version is always the hello's legacy_version field, never the
 * supported_versions extension.  GREASE values (RFC 8701) are dropped from
 * ciphers, extensions and groups; point formats are one byte and kept as is.
 * Lists come from the struct as stored, so a capped hello gives a string
 * over the stored prefix only (tls_hello.capped tells the caller).
 *
 * Pure: no I/O, no allocation apart from fp_util.c's per-thread digest
 * state.  The MD5 implementation is fetched once per process.
 */
#include "fp/fp.h"
#include "fp/fp_util.h"

/* Longest JA3 string: a version, then 1024 ciphers, 256 extensions and 256
 * groups of at most "-65535" each and 32 point formats of at most "-255",
 * with three ','.  It always fits, so the string is never cut. */
#define JA3_STR_LONGEST (5 + 1 + TLS_HELLO_MAX_CIPHERS * 6 + 1 + TLS_HELLO_MAX_EXTS * 6 + \
                         1 + TLS_HELLO_MAX_GROUPS * 6 + 1 + TLS_HELLO_MAX_POINTFMTS * 4)
_Static_assert(JA3_STR_LONGEST < FP_STR_MAX, "a JA3 string always fits in FP_STR_MAX");

/* Decimal list joined by '-' at p, without GREASE values; returns the end. */
static char *ja3_put_u16_list(char *p, const uint16_t *v, size_t n, size_t cap)
{
    bool first = true;

    if (n > cap)
        n = cap;
    for (size_t i = 0; i < n; i++) {
        if (tls_is_grease(v[i]))
            continue;
        if (!first)
            *p++ = '-';
        p = dec_put(p, v[i]);
        first = false;
    }
    return p;
}

/* Lower-case hex MD5 of the string into out[33]; "" if no MD5 is available
 * (for instance a FIPS-only provider). */
static void ja3_md5_hex(const char *s, size_t len, char out[33])
{
    out[0] = '\0';
    fp_digest_hex(FP_MD5, s, len, out, 32);
}

/* ---- fingerprints ------------------------------------------------------- */

/*
 * Contract in fp.h: fills out->str and out->hash, never fails.  Lists
 * longer than their TLS_HELLO_MAX_* are read only up to the cap.
 */
void fp_ja3(const struct tls_hello *ch, struct fp_ja3 *out)
{
    char *p = out->str;
    size_t npf = ch->n_point_formats;

    p = dec_put(p, ch->legacy_version);
    *p++ = ',';
    p = ja3_put_u16_list(p, ch->ciphers, ch->n_ciphers, TLS_HELLO_MAX_CIPHERS);
    *p++ = ',';
    p = ja3_put_u16_list(p, ch->exts, ch->n_exts, TLS_HELLO_MAX_EXTS);
    *p++ = ',';
    p = ja3_put_u16_list(p, ch->groups, ch->n_groups, TLS_HELLO_MAX_GROUPS);
    *p++ = ',';
    if (npf > TLS_HELLO_MAX_POINTFMTS)
        npf = TLS_HELLO_MAX_POINTFMTS;
    for (size_t i = 0; i < npf; i++) {
        if (i)
            *p++ = '-';
        p = dec_put(p, ch->point_formats[i]);
    }
    *p = '\0';
    ja3_md5_hex(out->str, (size_t)(p - out->str), out->hash);
}

/*
 * Contract in fp.h: fills out->str and out->hash, never fails.
 * Note: the selected cipher is printed as is (a server never selects a
 * GREASE value); a struct with no cipher gives an empty field.
 */
void fp_ja3s(const struct tls_hello *sh, struct fp_ja3 *out)
{
    char *p = out->str;

    p = dec_put(p, sh->legacy_version);
    *p++ = ',';
    if (sh->n_ciphers > 0)
        p = dec_put(p, sh->ciphers[0]);
    *p++ = ',';
    p = ja3_put_u16_list(p, sh->exts, sh->n_exts, TLS_HELLO_MAX_EXTS);
    *p = '\0';
    ja3_md5_hex(out->str, (size_t)(p - out->str), out->hash);
}
