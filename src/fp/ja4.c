/*
 * ja4.c - JA4 (client) and JA4S (server) fingerprints from a parsed hello.
 *
 * Implements FoxIO's written specification (technical_details/JA4.md and
 * JA4S.md) where it differs from FoxIO's own tools; see fp.h for the field
 * layout.  The details that matter:
 *   - GREASE (RFC 8701) is ignored everywhere: counts, cipher, extension and
 *     signature-algorithm lists.
 *   - Counts are two decimal digits, capped at 99; for a capped hello they
 *     use the true list length (entries beyond the stored ones are assumed
 *     not to be GREASE).
 *   - The sorted variants (ja4, ja4_r) drop SNI (0x0000) and ALPN (0x0010)
 *     from the extension list; the original-order variants (ja4_o, ja4_ro)
 *     keep them.  Signature algorithms stay in wire order in all four.
 *   - An empty cipher or extension list hashes to "000000000000" and is an
 *     empty raw field; without signature algorithms the c field is the
 *     extension list alone, with no trailing '_'.
 *   - ALPN: first and last byte of the first name when both are ASCII
 *     alphanumeric, else the high hex digit of the first byte and the low
 *     hex digit of the last; "00" without ALPN or with an empty first name.
 *     The first name is used even if it is a GREASE ALPN identifier.
 *
 * Pure: no I/O, no allocation apart from what OpenSSL does inside the
 * digest call.  The SHA-256 implementation is fetched once per process.
 * Lists come from the struct as stored, so a capped hello hashes the stored
 * prefix only (tls_hello.capped tells the caller).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fp/fp.h"
#include "fp/fp_util.h"

#define JA4_HASH_LEN 12          /* hex characters kept of each SHA-256 */
#define JA4_EMPTY_HASH "000000000000"
#define JA4_COUNT_MAX 99

/* Raw list sizes: 4 hex digits and a separator per entry, plus NUL. */
#define JA4_CIPHERS_RAW_MAX (TLS_HELLO_MAX_CIPHERS * 5 + 1)
#define JA4_EXTS_RAW_MAX ((TLS_HELLO_MAX_EXTS + TLS_HELLO_MAX_SIGALGS) * 5 + 2)

/* First 12 lower-case hex characters of SHA-256(s) into out[13]; twelve
 * zeros when `empty` (the list behind s had no entries).  If the digest
 * fails the result is also twelve zeros. */
static void ja4_hash12(const char *s, bool empty, char out[JA4_HASH_LEN + 1])
{
    memcpy(out, JA4_EMPTY_HASH, JA4_HASH_LEN + 1);
    if (!empty)
        fp_digest_hex(FP_SHA256, s, strlen(s), out, JA4_HASH_LEN);
}

/* ---- parts -------------------------------------------------------------- */

static size_t ja4_clamp(size_t n, size_t cap)
{
    return n < cap ? n : cap;
}

/* Non-GREASE entries of a capped list, plus those beyond the stored ones,
 * capped at 99. */
static unsigned ja4_count(const uint16_t *v, size_t n, size_t total, size_t cap)
{
    size_t stored = ja4_clamp(n, cap);
    size_t count = 0;

    for (size_t i = 0; i < stored; i++)
        if (!tls_is_grease(v[i]))
            count++;
    if (total > stored)
        count += total - stored;
    return count > JA4_COUNT_MAX ? JA4_COUNT_MAX : (unsigned)count;
}

static char ja4_transport_char(enum fp_transport t)
{
    switch (t) {
    case FP_TRANSPORT_QUIC:
        return 'q';
    case FP_TRANSPORT_DTLS:
        return 'd';
    case FP_TRANSPORT_TCP:
    default:
        return 't';
    }
}

/* Contract in fp.h; any value outside the table, including GREASE and
 * draft versions, gives "00". */
void fp_ja4_version(unsigned version, char out[3])
{
    const char *s;

    switch (version) {
    case 0x0304: s = "13"; break;
    case 0x0303: s = "12"; break;
    case 0x0302: s = "11"; break;
    case 0x0301: s = "10"; break;
    case 0x0300: s = "s3"; break;
    case 0x0002: s = "s2"; break;
    case 0xfeff: s = "d1"; break;
    case 0xfefd: s = "d2"; break;
    case 0xfefc: s = "d3"; break;
    default: s = "00"; break;
    }
    out[0] = s[0];
    out[1] = s[1];
    out[2] = '\0';
}

static bool ja4_is_alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The two ALPN characters from the first protocol name. */
static void ja4_alpn_chars(const struct tls_hello *h, char out[3])
{
    static const char hex[] = "0123456789abcdef";
    const struct tls_alpn *a;
    uint8_t first, last;

    out[0] = '0';
    out[1] = '0';
    out[2] = '\0';
    if (h->n_alpn == 0 || h->alpn[0].len == 0)
        return;
    a = &h->alpn[0];
    first = a->name[0];
    last = a->name[a->len - 1];
    if (ja4_is_alnum(first) && ja4_is_alnum(last)) {
        out[0] = (char)first;
        out[1] = (char)last;
    } else {
        out[0] = hex[first >> 4];
        out[1] = hex[last & 0x0f];
    }
}

static int ja4_cmp_u16(const void *a, const void *b)
{
    uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;

    return (x > y) - (x < y);
}

/*
 * Append the non-GREASE entries of v as 4-hex values joined by ',', sorted
 * when asked, leaving out SNI and ALPN when asked.  Returns the number of
 * entries written.
 */
static size_t ja4_put_hex_list(struct fp_buf *b, const uint16_t *v, size_t n,
                               size_t cap, bool sorted, bool drop_sni_alpn)
{
    uint16_t tmp[TLS_HELLO_MAX_CIPHERS > TLS_HELLO_MAX_EXTS ? TLS_HELLO_MAX_CIPHERS
                                                            : TLS_HELLO_MAX_EXTS];
    size_t m = 0;

    n = ja4_clamp(ja4_clamp(n, cap), sizeof tmp / sizeof tmp[0]);
    for (size_t i = 0; i < n; i++) {
        if (tls_is_grease(v[i]))
            continue;
        if (drop_sni_alpn && (v[i] == TLS_EXT_SERVER_NAME || v[i] == TLS_EXT_ALPN))
            continue;
        tmp[m++] = v[i];
    }
    if (sorted && m > 1)
        qsort(tmp, m, sizeof tmp[0], ja4_cmp_u16);
    for (size_t i = 0; i < m; i++)
        fp_buf_u16(b, i ? ',' : '\0', tmp[i], true);
    return m;
}

/*
 * One JA4 variant: `sorted` selects ja4/ja4_r, else ja4_o/ja4_ro.  Writes
 * "a_bhash_chash" to hashed and "a_braw_craw" to raw.
 */
static void ja4_variant(const struct tls_hello *ch, const char *a, bool sorted,
                        char *hashed, size_t hashed_cap, char *raw, size_t raw_cap)
{
    char braw[JA4_CIPHERS_RAW_MAX], craw[JA4_EXTS_RAW_MAX];
    char bhash[JA4_HASH_LEN + 1], chash[JA4_HASH_LEN + 1];
    struct fp_buf b, c;
    size_t nb, nc, ns;

    fp_buf_init(&b, braw, sizeof braw);
    nb = ja4_put_hex_list(&b, ch->ciphers, ch->n_ciphers, TLS_HELLO_MAX_CIPHERS,
                          sorted, false);

    fp_buf_init(&c, craw, sizeof craw);
    nc = ja4_put_hex_list(&c, ch->exts, ch->n_exts, TLS_HELLO_MAX_EXTS, sorted, sorted);
    ns = 0;
    for (size_t i = 0; i < ja4_clamp(ch->n_sig_algs, TLS_HELLO_MAX_SIGALGS); i++) {
        uint16_t s = ch->sig_algs[i];

        if (tls_is_grease(s))
            continue;
        fp_buf_u16(&c, ns ? ',' : '_', s, true);
        ns++;
    }

    ja4_hash12(braw, nb == 0, bhash);
    ja4_hash12(craw, nc == 0, chash);
    snprintf(hashed, hashed_cap, "%s_%s_%s", a, bhash, chash);
    snprintf(raw, raw_cap, "%s_%s_%s", a, braw, craw);
}

/*
 * Contract in fp.h: fills all four strings, never fails.
 * Note: the SNI letter follows has_sni (the extension was present, even
 * empty), not sni_len; a transport value outside enum fp_transport is
 * printed as 't'.
 */
void fp_ja4(const struct tls_hello *ch, enum fp_transport t, struct fp_ja4 *out)
{
    char ver[3], alpn[3], a[32];

    fp_ja4_version(tls_hello_version(ch), ver);
    ja4_alpn_chars(ch, alpn);
    snprintf(a, sizeof a, "%c%s%c%02u%02u%s", ja4_transport_char(t), ver,
             ch->has_sni ? 'd' : 'i',
             ja4_count(ch->ciphers, ch->n_ciphers, ch->total_ciphers,
                       TLS_HELLO_MAX_CIPHERS),
             ja4_count(ch->exts, ch->n_exts, ch->total_exts, TLS_HELLO_MAX_EXTS),
             alpn);
    ja4_variant(ch, a, true, out->ja4, sizeof out->ja4, out->ja4_r, sizeof out->ja4_r);
    ja4_variant(ch, a, false, out->ja4_o, sizeof out->ja4_o, out->ja4_ro,
                sizeof out->ja4_ro);
}

/*
 * Contract in fp.h: fills both strings, never fails.
 * Note: the version is the selected_version of supported_versions when the
 * server sent it, else legacy_version; the ALPN characters come from the
 * server's selected name.  GREASE is dropped from the extension list and
 * count.  A struct with no cipher prints "0000" as the cipher.
 */
void fp_ja4s(const struct tls_hello *sh, enum fp_transport t, struct fp_ja4s *out)
{
    char ver[3], alpn[3], a[32], craw[JA4_EXTS_RAW_MAX], chash[JA4_HASH_LEN + 1];
    struct fp_buf c;
    size_t nc;

    fp_ja4_version(tls_hello_version(sh), ver);
    ja4_alpn_chars(sh, alpn);
    snprintf(a, sizeof a, "%c%s%02u%s", ja4_transport_char(t), ver,
             ja4_count(sh->exts, sh->n_exts, sh->total_exts, TLS_HELLO_MAX_EXTS), alpn);

    fp_buf_init(&c, craw, sizeof craw);
    nc = ja4_put_hex_list(&c, sh->exts, sh->n_exts, TLS_HELLO_MAX_EXTS, false, false);
    ja4_hash12(craw, nc == 0, chash);

    snprintf(out->ja4s, sizeof out->ja4s, "%s_%04x_%s", a,
             sh->n_ciphers > 0 ? (unsigned)sh->ciphers[0] : 0u, chash);
    snprintf(out->ja4s_r, sizeof out->ja4s_r, "%s_%04x_%s", a,
             sh->n_ciphers > 0 ? (unsigned)sh->ciphers[0] : 0u, craw);
}
