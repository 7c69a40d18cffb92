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
 * Pure: no I/O, no allocation apart from fp_util.c's per-thread digest
 * state.  The SHA-256 implementation is fetched once per process.  The four
 * JA4 variants share one pass over each list: GREASE is dropped once, the
 * sorted lists are copies of the filtered ones, the signature algorithms
 * are written once, and each raw string is written straight into the
 * output with its b and c parts hashed where they lie.
 * Lists come from the struct as stored, so a capped hello hashes the stored
 * prefix only (tls_hello.capped tells the caller).
 */
#include <stdlib.h>
#include <string.h>

#include "fp/fp.h"
#include "fp/fp_util.h"

#define JA4_HASH_LEN 12          /* hex characters kept of each SHA-256 */
#define JA4_EMPTY_HASH "000000000000"
#define JA4_COUNT_MAX 99
#define JA4_A_LEN 10             /* t13d1516h2 */
#define JA4S_A_LEN 7             /* t130200 */

/* The longest raw strings: a, then every cipher, extension and signature
 * algorithm as 4 hex and a separator.  They always fit, so nothing is cut
 * and the hashes cover the whole lists. */
_Static_assert(JA4_A_LEN + 1 + TLS_HELLO_MAX_CIPHERS * 5 + 1 +
               (TLS_HELLO_MAX_EXTS + TLS_HELLO_MAX_SIGALGS) * 5 < FP_STR_MAX,
               "a raw JA4 string always fits in FP_STR_MAX");
_Static_assert(JA4S_A_LEN + 1 + 4 + 1 + TLS_HELLO_MAX_EXTS * 5 < FP_STR_MAX,
               "a raw JA4S string always fits in FP_STR_MAX");
_Static_assert(JA4_A_LEN + 2 * (1 + JA4_HASH_LEN) < sizeof(((struct fp_ja4 *)0)->ja4),
               "a JA4 fits");
_Static_assert(JA4S_A_LEN + 1 + 4 + 1 + JA4_HASH_LEN < sizeof(((struct fp_ja4s *)0)->ja4s),
               "a JA4S fits");

/* First 12 lower-case hex characters of SHA-256(s[0..len)) into out[13];
 * twelve zeros when `empty` (the list behind s had no entries).  If the
 * digest fails the result is also twelve zeros. */
static void ja4_hash12(const char *s, size_t len, bool empty, char out[JA4_HASH_LEN + 1])
{
    memcpy(out, JA4_EMPTY_HASH, JA4_HASH_LEN + 1);
    if (!empty)
        fp_digest_hex(FP_SHA256, s, len, out, JA4_HASH_LEN);
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

/* Sort v[0..n) ascending: insertion sort for the usual short lists, qsort
 * beyond (a hello may carry up to TLS_HELLO_MAX_CIPHERS). */
static void ja4_sort(uint16_t *v, size_t n)
{
    if (n > 32) {
        qsort(v, n, sizeof v[0], ja4_cmp_u16);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        uint16_t x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1] > x) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

/* The non-GREASE entries of v[0..min(n, cap)) into out; their number. */
static size_t ja4_filter(const uint16_t *v, size_t n, size_t cap, uint16_t *out)
{
    size_t m = 0;

    n = ja4_clamp(n, cap);
    for (size_t i = 0; i < n; i++)
        if (!tls_is_grease(v[i]))
            out[m++] = v[i];
    return m;
}

/* The a part of JA4 ("t13d1516h2") at p; returns the end. */
static char *ja4_put_a(char *p, const struct tls_hello *ch, enum fp_transport t)
{
    char ver[3], alpn[3];

    fp_ja4_version(tls_hello_version(ch), ver);
    ja4_alpn_chars(ch, alpn);
    *p++ = ja4_transport_char(t);
    *p++ = ver[0];
    *p++ = ver[1];
    *p++ = ch->has_sni ? 'd' : 'i';
    p = dec_put_w(p, ja4_count(ch->ciphers, ch->n_ciphers, ch->total_ciphers,
                                  TLS_HELLO_MAX_CIPHERS), 2);
    p = dec_put_w(p, ja4_count(ch->exts, ch->n_exts, ch->total_exts, TLS_HELLO_MAX_EXTS),
                     2);
    *p++ = alpn[0];
    *p++ = alpn[1];
    return p;
}

/* "a_bhash_chash" at hashed[64]. */
static void ja4_put_hashed(char *hashed, const char *a, size_t alen, const char *bhash,
                           const char *chash)
{
    char *p = hashed;

    memcpy(p, a, alen);
    p += alen;
    *p++ = '_';
    memcpy(p, bhash, JA4_HASH_LEN);
    p += JA4_HASH_LEN;
    *p++ = '_';
    memcpy(p, chash, JA4_HASH_LEN);
    p += JA4_HASH_LEN;
    *p = '\0';
}

/*
 * One pair of variants: writes "a_b_c" raw into raw (b: the cipher list,
 * c: the extension list, then sig when there are signature algorithms) and
 * "a_bhash_chash" into hashed.  bhash_in, when not NULL, is the known hash
 * of this very cipher list.  The hash of b goes to bhash_out.
 */
static void ja4_variant(const char *a, size_t alen, const uint16_t *cs, size_t nb,
                        const char *bhash_in, const uint16_t *es, size_t nc,
                        const char *sig, size_t siglen, char *hashed, char *raw,
                        char bhash_out[JA4_HASH_LEN + 1])
{
    char chash[JA4_HASH_LEN + 1];
    char *p = raw, *b, *c;

    memcpy(p, a, alen);
    p += alen;
    *p++ = '_';
    b = p;
    p = fp_put_hex4_list(p, cs, nb);
    if (bhash_in)
        memcpy(bhash_out, bhash_in, JA4_HASH_LEN + 1);
    else
        ja4_hash12(b, (size_t)(p - b), nb == 0, bhash_out);
    *p++ = '_';
    c = p;
    p = fp_put_hex4_list(p, es, nc);
    memcpy(p, sig, siglen);
    p += siglen;
    *p = '\0';
    ja4_hash12(c, (size_t)(p - c), nc == 0, chash);
    ja4_put_hashed(hashed, a, alen, bhash_out, chash);
}

/*
 * Contract in fp.h: fills all four strings, never fails.
 * Note: the SNI letter follows has_sni (the extension was present, even
 * empty), not sni_len; a transport value outside enum fp_transport is
 * printed as 't'.
 */
void fp_ja4(const struct tls_hello *ch, enum fp_transport t, struct fp_ja4 *out)
{
    uint16_t cs[TLS_HELLO_MAX_CIPHERS], cs_sorted[TLS_HELLO_MAX_CIPHERS];
    uint16_t es[TLS_HELLO_MAX_EXTS], es_sorted[TLS_HELLO_MAX_EXTS];
    uint16_t sa[TLS_HELLO_MAX_SIGALGS];
    char sig[1 + TLS_HELLO_MAX_SIGALGS * 5];
    char a[JA4_A_LEN + 1], bhash_sorted[JA4_HASH_LEN + 1], bhash_o[JA4_HASH_LEN + 1];
    size_t alen, nb, nc, nc_sorted = 0, ns, siglen = 0;

    alen = (size_t)(ja4_put_a(a, ch, t) - a);

    nb = ja4_filter(ch->ciphers, ch->n_ciphers, TLS_HELLO_MAX_CIPHERS, cs);
    memcpy(cs_sorted, cs, nb * sizeof cs[0]);
    ja4_sort(cs_sorted, nb);

    nc = ja4_filter(ch->exts, ch->n_exts, TLS_HELLO_MAX_EXTS, es);
    for (size_t i = 0; i < nc; i++)
        if (es[i] != TLS_EXT_SERVER_NAME && es[i] != TLS_EXT_ALPN)
            es_sorted[nc_sorted++] = es[i];
    ja4_sort(es_sorted, nc_sorted);

    ns = ja4_filter(ch->sig_algs, ch->n_sig_algs, TLS_HELLO_MAX_SIGALGS, sa);
    if (ns > 0) {
        sig[0] = '_';
        siglen = (size_t)(fp_put_hex4_list(sig + 1, sa, ns) - sig);
    }

    ja4_variant(a, alen, cs_sorted, nb, NULL, es_sorted, nc_sorted, sig, siglen, out->ja4,
                out->ja4_r, bhash_sorted);
    /* A cipher list already in order has the same b part in both pairs. */
    bool same_b = memcmp(cs, cs_sorted, nb * sizeof cs[0]) == 0;
    ja4_variant(a, alen, cs, nb, same_b ? bhash_sorted : NULL, es, nc, sig, siglen,
                out->ja4_o, out->ja4_ro, bhash_o);
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
    uint16_t es[TLS_HELLO_MAX_EXTS];
    char ver[3], alpn[3], chash[JA4_HASH_LEN + 1];
    char *p = out->ja4s_r, *c;
    size_t nc, head;

    fp_ja4_version(tls_hello_version(sh), ver);
    ja4_alpn_chars(sh, alpn);
    *p++ = ja4_transport_char(t);
    *p++ = ver[0];
    *p++ = ver[1];
    p = dec_put_w(p, ja4_count(sh->exts, sh->n_exts, sh->total_exts, TLS_HELLO_MAX_EXTS),
                     2);
    *p++ = alpn[0];
    *p++ = alpn[1];
    *p++ = '_';
    p = fp_put_hex4(p, sh->n_ciphers > 0 ? (unsigned)sh->ciphers[0] : 0u);
    *p++ = '_';
    head = (size_t)(p - out->ja4s_r);       /* "a_cipher_", shared by both strings */

    c = p;
    nc = ja4_filter(sh->exts, sh->n_exts, TLS_HELLO_MAX_EXTS, es);
    p = fp_put_hex4_list(p, es, nc);
    *p = '\0';
    ja4_hash12(c, (size_t)(p - c), nc == 0, chash);

    memcpy(out->ja4s, out->ja4s_r, head);
    memcpy(out->ja4s + head, chash, JA4_HASH_LEN + 1);
}
