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
 * Pure: no I/O, no allocation apart from what OpenSSL does inside the
 * digest call.  The MD5 implementation is fetched once per process.
 */
#include "fp/fp.h"
#include "fp/fp_util.h"

/* Decimal list joined by '-', skipping GREASE when asked. */
static void ja3_put_u16_list(struct fp_buf *b, const uint16_t *v, size_t n,
                             size_t cap, bool drop_grease)
{
    bool first = true;

    if (n > cap)
        n = cap;
    for (size_t i = 0; i < n; i++) {
        if (drop_grease && tls_is_grease(v[i]))
            continue;
        fp_buf_u16(b, first ? '\0' : '-', v[i], false);
        first = false;
    }
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
    struct fp_buf b;
    size_t npf = ch->n_point_formats;

    fp_buf_init(&b, out->str, sizeof out->str);
    fp_buf_printf(&b, "%u,", (unsigned)ch->legacy_version);
    ja3_put_u16_list(&b, ch->ciphers, ch->n_ciphers, TLS_HELLO_MAX_CIPHERS, true);
    fp_buf_printf(&b, ",");
    ja3_put_u16_list(&b, ch->exts, ch->n_exts, TLS_HELLO_MAX_EXTS, true);
    fp_buf_printf(&b, ",");
    ja3_put_u16_list(&b, ch->groups, ch->n_groups, TLS_HELLO_MAX_GROUPS, true);
    fp_buf_printf(&b, ",");
    if (npf > TLS_HELLO_MAX_POINTFMTS)
        npf = TLS_HELLO_MAX_POINTFMTS;
    for (size_t i = 0; i < npf; i++)
        fp_buf_printf(&b, i ? "-%u" : "%u", (unsigned)ch->point_formats[i]);
    ja3_md5_hex(out->str, b.len, out->hash);
}

/*
 * Contract in fp.h: fills out->str and out->hash, never fails.
 * Note: the selected cipher is printed as is (a server never selects a
 * GREASE value); a struct with no cipher gives an empty field.
 */
void fp_ja3s(const struct tls_hello *sh, struct fp_ja3 *out)
{
    struct fp_buf b;

    fp_buf_init(&b, out->str, sizeof out->str);
    fp_buf_printf(&b, "%u,", (unsigned)sh->legacy_version);
    if (sh->n_ciphers > 0)
        fp_buf_printf(&b, "%u", (unsigned)sh->ciphers[0]);
    fp_buf_printf(&b, ",");
    ja3_put_u16_list(&b, sh->exts, sh->n_exts, TLS_HELLO_MAX_EXTS, true);
    ja3_md5_hex(out->str, b.len, out->hash);
}
