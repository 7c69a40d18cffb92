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
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include <openssl/evp.h>

#include "fp/fp.h"

/* ---- bounded string building ------------------------------------------ */

/* Appends into a caller-owned buffer; output is cut at cap - 1 characters
 * and always NUL-terminated. */
struct ja3_buf {
    char *p;
    size_t cap;  /* > 0 */
    size_t len;  /* invariant: len < cap, p[len] == '\0' */
};

static void ja3_buf_init(struct ja3_buf *b, char *p, size_t cap)
{
    b->p = p;
    b->cap = cap;
    b->len = 0;
    p[0] = '\0';
}

__attribute__((format(printf, 2, 3)))
static void ja3_buf_printf(struct ja3_buf *b, const char *fmt, ...)
{
    size_t room = b->cap - b->len;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(b->p + b->len, room, fmt, ap);
    va_end(ap);
    if (n < 0)
        b->p[b->len] = '\0';
    else if ((size_t)n >= room)
        b->len = b->cap - 1;
    else
        b->len += (size_t)n;
}

/* Decimal list joined by '-', skipping GREASE when asked. */
static void ja3_put_u16_list(struct ja3_buf *b, const uint16_t *v, size_t n,
                             size_t cap, bool drop_grease)
{
    bool first = true;

    if (n > cap)
        n = cap;
    for (size_t i = 0; i < n; i++) {
        if (drop_grease && tls_is_grease(v[i]))
            continue;
        ja3_buf_printf(b, first ? "%u" : "-%u", (unsigned)v[i]);
        first = false;
    }
}

/* ---- MD5 ---------------------------------------------------------------- */

static pthread_once_t ja3_md5_once = PTHREAD_ONCE_INIT;
static const EVP_MD *ja3_md5;

static void ja3_md5_fetch(void)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    ja3_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
#endif
    if (!ja3_md5)
        ja3_md5 = EVP_md5();
}

/* Lower-case hex MD5 of the string into out[33]; "" if no MD5 is available
 * (for instance a FIPS-only provider). */
static void ja3_md5_hex(const char *s, size_t len, char out[33])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    out[0] = '\0';
    pthread_once(&ja3_md5_once, ja3_md5_fetch);
    if (!ja3_md5 || !EVP_Digest(s, len, md, &mdlen, ja3_md5, NULL) || mdlen != 16)
        return;
    for (size_t i = 0; i < 16; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0x0f];
    }
    out[32] = '\0';
}

/* ---- fingerprints ------------------------------------------------------- */

/*
 * Contract in fp.h: fills out->str and out->hash, never fails.  Lists
 * longer than their TLS_HELLO_MAX_* are read only up to the cap.
 */
void fp_ja3(const struct tls_hello *ch, struct fp_ja3 *out)
{
    struct ja3_buf b;
    size_t npf = ch->n_point_formats;

    ja3_buf_init(&b, out->str, sizeof out->str);
    ja3_buf_printf(&b, "%u,", (unsigned)ch->legacy_version);
    ja3_put_u16_list(&b, ch->ciphers, ch->n_ciphers, TLS_HELLO_MAX_CIPHERS, true);
    ja3_buf_printf(&b, ",");
    ja3_put_u16_list(&b, ch->exts, ch->n_exts, TLS_HELLO_MAX_EXTS, true);
    ja3_buf_printf(&b, ",");
    ja3_put_u16_list(&b, ch->groups, ch->n_groups, TLS_HELLO_MAX_GROUPS, true);
    ja3_buf_printf(&b, ",");
    if (npf > TLS_HELLO_MAX_POINTFMTS)
        npf = TLS_HELLO_MAX_POINTFMTS;
    for (size_t i = 0; i < npf; i++)
        ja3_buf_printf(&b, i ? "-%u" : "%u", (unsigned)ch->point_formats[i]);
    ja3_md5_hex(out->str, b.len, out->hash);
}

/*
 * Contract in fp.h: fills out->str and out->hash, never fails.
 * Note: the selected cipher is printed as is (a server never selects a
 * GREASE value); a struct with no cipher gives an empty field.
 */
void fp_ja3s(const struct tls_hello *sh, struct fp_ja3 *out)
{
    struct ja3_buf b;

    ja3_buf_init(&b, out->str, sizeof out->str);
    ja3_buf_printf(&b, "%u,", (unsigned)sh->legacy_version);
    if (sh->n_ciphers > 0)
        ja3_buf_printf(&b, "%u", (unsigned)sh->ciphers[0]);
    ja3_buf_printf(&b, ",");
    ja3_put_u16_list(&b, sh->exts, sh->n_exts, TLS_HELLO_MAX_EXTS, true);
    ja3_md5_hex(out->str, b.len, out->hash);
}
