/*
 * cert.c - decode one DER certificate with OpenSSL and copy out a plain
 * struct x509_cert (see cert.h for the fields and their conventions).
 *
 * OpenSSL does all X.509/ASN.1 decoding: d2i_X509 for the certificate,
 * X509V3_EXT_d2i for subjectAltName, the X509_get0_* accessors for the
 * rest.  The only bytes read here by hand are the TLS-encoded SCT list
 * inside the CT extension (RFC 6962 3.3), through util/rd.h.  Text coming
 * out of OpenSSL is treated as untrusted and forced into valid, NUL-free,
 * bounded UTF-8 before it is stored.
 *
 * What it does not do: verify a chain, consult a trust store, look at the
 * clock, keep any OpenSSL object or pointer into the input after returning,
 * write anything anywhere.  The one signature it checks is the
 * certificate's own (for self_signed).
 *
 * Work is linear in the input apart from that one signature check, whose
 * cost OpenSSL bounds (RSA moduli up to 16384 bits with a small exponent
 * above 3072, DSA up to 10000 bits).  OpenSSL's error queue is restored
 * before returning, so failures here never leak into unrelated callers.
 */
#include "x509/cert.h"

#include <arpa/inet.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "fp/ja4x.h"
#include "util/algs.h"
#include "util/civil.h"
#include "util/rd.h"
#include "x509/keys.h"

/* ---- digests ------------------------------------------------------------ */

static pthread_once_t cert_init_once = PTHREAD_ONCE_INIT;

static void cert_init(void)
{
    x509_keys_init();
}

static const char cert_hexdig[] = "0123456789abcdef";

/* Lower-case hex of p[0..n) into out[2n + 1]. */
static void cert_hex_into(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = cert_hexdig[p[i] >> 4];
        out[2 * i + 1] = cert_hexdig[p[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

/* The SHA-1 and SHA-256 fingerprints of the DER as sent. */
static void cert_fingerprints(struct x509_cert *c, const uint8_t *der, size_t len)
{
    unsigned char sha1[20];

    algs_sha1_once(der, len, sha1);
    cert_hex_into(sha1, sizeof sha1, c->sha1);
    algs_sha256_once(der, len, c->sha256_raw);
    cert_hex_into(c->sha256_raw, sizeof c->sha256_raw, c->sha256);
}

/* ---- text --------------------------------------------------------------- */

static const uint8_t cert_replacement[3] = { 0xef, 0xbf, 0xbd };   /* U+FFFD */

/*
 * Length of the well-formed UTF-8 character at p[0..n) (RFC 3629: shortest
 * form, no surrogates, at most U+10FFFF), or 0 if there is none.  NUL is
 * reported as invalid so that it gets replaced too.
 */
static size_t cert_utf8_char(const uint8_t *p, size_t n)
{
    uint8_t b = p[0];
    uint32_t cp;
    size_t len;

    if (b == 0)
        return 0;
    if (b < 0x80)
        return 1;
    if (b >= 0xc2 && b <= 0xdf) {
        len = 2;
        cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
        len = 3;
        cp = b & 0x0f;
    } else if (b >= 0xf0 && b <= 0xf4) {
        len = 4;
        cp = b & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
        return 0;
    if (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
        return 0;
    return len;
}

/*
 * A heap copy of p[0..n) as valid UTF-8 without NUL: every byte that does
 * not start a well-formed character becomes U+FFFD (text_repaired), and the
 * result stops before the character that would take it past
 * X509_CERT_MAX_TEXT bytes (text_cut).  Returns NULL only when out of
 * memory.
 */
static char *cert_text(struct x509_cert *c, const void *src, size_t n)
{
    const uint8_t *p = src;
    size_t room = n > X509_CERT_MAX_TEXT / 3 ? X509_CERT_MAX_TEXT : 3 * n;
    char *s = malloc(room + 1);
    size_t o = 0, i = 0;

    if (!s)
        return NULL;
    while (i < n) {
        size_t k = cert_utf8_char(p + i, n - i);
        const uint8_t *piece = p + i;
        size_t plen = k;

        if (k == 0) {
            piece = cert_replacement;
            plen = sizeof cert_replacement;
            k = 1;
            c->text_repaired = true;
        }
        if (plen > room - o) {
            c->text_cut = true;
            break;
        }
        memcpy(s + o, piece, plen);
        o += plen;
        i += k;
    }
    s[o] = '\0';
    return s;
}

/* Heap lower-case hex of p[0..n), '-' first when neg, "00" when n == 0
 * (the form `openssl x509 -serial` prints, in lower case).  NULL when out
 * of memory. */
static char *cert_hex_dup(const uint8_t *p, size_t n, bool neg)
{
    char *s;

    if (n > (SIZE_MAX - 4) / 2)
        return NULL;
    s = malloc(2 * n + 4);
    if (!s)
        return NULL;
    if (n == 0) {
        strcpy(s, neg ? "-00" : "00");
        return s;
    }
    s[0] = '-';
    cert_hex_into(p, n, s + (neg ? 1 : 0));
    return s;
}

/* ---- names -------------------------------------------------------------- */

/* One attribute of a name, read once: its type and value as OpenSSL holds
 * them, and whether the value is `plain` (see cert_plain_value). */
struct cert_attr {
    const ASN1_OBJECT *obj;
    const ASN1_STRING *v;
    int nid, set;
    bool plain;
};

/*
 * A value both printers below would write as its own bytes: a string type
 * of one byte per character (or UTF8String), every byte printable ASCII
 * (0x20..0x7e).  OpenSSL's RFC 2253 printer and ASN1_STRING_to_UTF8()
 * copy such bytes unchanged, so they need not be asked (test_x509 holds
 * the two to the same output for every character, alone, first, inside
 * and last, in each type a name may hold).  Escaping is decided
 * separately.  (Visible-, Graphic- and GeneralString are one byte per
 * character too, but OpenSSL refuses them in a name: d2i_X509 fails.)
 */
static bool cert_plain_value(const ASN1_STRING *v)
{
    if (!v)
        return false;
    switch (ASN1_STRING_type(v)) {
    case V_ASN1_UTF8STRING:
    case V_ASN1_PRINTABLESTRING:
    case V_ASN1_IA5STRING:
    case V_ASN1_T61STRING:
    case V_ASN1_NUMERICSTRING:
        break;
    default:
        return false;
    }
    const uint8_t *p = ASN1_STRING_get0_data(v);
    int n = ASN1_STRING_length(v);
    for (int i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] > 0x7e)
            return false;
    return true;
}

/* A plain value that RFC 4514 (as XN_FLAG_RFC2253 applies it) escapes
 * somewhere: one of ,+"\<>; anywhere, '#' or ' ' first, ' ' last. */
static bool cert_rfc2253_escapes(const ASN1_STRING *v)
{
    const uint8_t *p = ASN1_STRING_get0_data(v);
    int n = ASN1_STRING_length(v);
    if (n > 0 && (p[0] == '#' || p[0] == ' ' || p[n - 1] == ' '))
        return true;
    for (int i = 0; i < n; i++)
        switch (p[i]) {
        case ',': case '+': case '"': case '\\': case '<': case '>': case ';':
            return true;
        default:
            break;
        }
    return false;
}

/* A growing string for the printers below; `bad` once out of memory. */
struct cert_buf {
    char *s;
    size_t len, cap;
    bool bad;
};

static void cert_buf_put(struct cert_buf *b, const void *p, size_t n)
{
    if (b->bad || n == 0)
        return;
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 256;
        while (n > cap - b->len)
            cap *= 2;
        char *ns = realloc(b->s, cap);
        if (!ns) {
            b->bad = true;
            return;
        }
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
}

/*
 * RFC 4514 string of a name.  XN_FLAG_RFC2253 (the `-nameopt RFC2253` of
 * the openssl tool: most specific RDN first, short attribute names, RFC
 * escaping, unknown attribute types as #hex) without ASN1_STRFLGS_ESC_MSB,
 * so that non-ASCII characters come out as UTF-8 instead of \XX escapes.
 * If OpenSSL cannot print a value (a BMPString of odd length, say), the
 * name is printed again with every value as #hex of its DER (RFC 4514
 * 2.4), and text_repaired is set.
 */
static int cert_name_dn_openssl(struct x509_cert *c, const X509_NAME *name, char **out)
{
    const unsigned long base = XN_FLAG_RFC2253 & ~(unsigned long)ASN1_STRFLGS_ESC_MSB;
    const unsigned long flags[2] = { base, base | ASN1_STRFLGS_DUMP_ALL };

    for (int i = 0; i < 2; i++) {
        BIO *b = BIO_new(BIO_s_mem());
        char *data = NULL;
        long n;

        if (!b)
            return X509_CERT_ENOMEM;
        if (X509_NAME_print_ex(b, name, 0, flags[i]) < 0) {
            BIO_free(b);
            continue;
        }
        n = BIO_get_mem_data(b, &data);
        *out = cert_text(c, data, (n > 0 && data) ? (size_t)n : 0);
        BIO_free(b);
        if (i > 0)
            c->text_repaired = true;
        return *out ? X509_CERT_OK : X509_CERT_ENOMEM;
    }
    c->text_repaired = true;
    *out = cert_text(c, "", 0);
    return *out ? X509_CERT_OK : X509_CERT_ENOMEM;
}

/*
 * The same string written here when every attribute has a known type and
 * a plain value that needs no escape (nearly every real name): the RDNs
 * from last to first, "," between RDNs and "+" between the values of one,
 * "SN=value" -- what X509_NAME_print_ex() writes for such a name, without
 * its per-character printing through a memory BIO.  Any other name goes
 * to OpenSSL.
 */
static int cert_name_dn(struct x509_cert *c, const X509_NAME *name, const struct cert_attr *a,
                        int n, char **out)
{
    for (int i = 0; i < n; i++)
        if (a[i].nid == NID_undef || !a[i].plain || cert_rfc2253_escapes(a[i].v))
            return cert_name_dn_openssl(c, name, out);
    struct cert_buf b = { NULL, 0, 0, false };
    for (int i = n - 1; i >= 0; i--) {
        if (i != n - 1)
            cert_buf_put(&b, a[i].set == a[i + 1].set ? "+" : ",", 1);
        const char *sn = OBJ_nid2sn(a[i].nid);
        if (!sn) {
            free(b.s);
            return cert_name_dn_openssl(c, name, out);
        }
        cert_buf_put(&b, sn, strlen(sn));
        cert_buf_put(&b, "=", 1);
        cert_buf_put(&b, ASN1_STRING_get0_data(a[i].v), (size_t)ASN1_STRING_length(a[i].v));
    }
    *out = b.bad ? NULL : cert_text(c, b.s ? b.s : "", b.len);
    free(b.s);
    return *out ? X509_CERT_OK : X509_CERT_ENOMEM;
}

/*
 * The name as Suricata's EVE writes tls.subject / tls.issuerdn (the
 * rusticata x509-parser's Display of a name): RDNs in encoded order, most
 * general first, joined by ", "; the values of a multi-valued RDN joined
 * by " + "; each attribute "SN=value" with OpenSSL's short name (C, ST, L,
 * O, OU, CN, emailAddress, ...) or the dotted OID; values as text, no
 * escaping.  A value that is not a string type is written as upper-case
 * hex of its content bytes, as x509-parser does.
 */
static int cert_name_eve(struct x509_cert *c, const struct cert_attr *a, int n, char **out)
{
    struct cert_buf b = { NULL, 0, 0, false };

    for (int i = 0; i < n; i++) {
        const ASN1_STRING *v = a[i].v;
        char oid[80];
        const char *key = NULL;

        if (a[i].nid != NID_undef)
            key = OBJ_nid2sn(a[i].nid);
        if (!key) {
            OBJ_obj2txt(oid, sizeof(oid), a[i].obj, 1);
            key = oid;
        }
        unsigned char *utf8 = NULL;
        const unsigned char *val;
        size_t vlen;
        char *hex = NULL;
        int t = v ? ASN1_STRING_type(v) : -1;
        bool is_text = t == V_ASN1_UTF8STRING || t == V_ASN1_PRINTABLESTRING ||
                       t == V_ASN1_IA5STRING || t == V_ASN1_T61STRING ||
                       t == V_ASN1_NUMERICSTRING || t == V_ASN1_VISIBLESTRING ||
                       t == V_ASN1_BMPSTRING || t == V_ASN1_UNIVERSALSTRING ||
                       t == V_ASN1_GENERALSTRING || t == V_ASN1_GRAPHICSTRING ||
                       t == V_ASN1_VIDEOTEXSTRING;
        int un = a[i].plain ? ASN1_STRING_length(v)   /* UTF-8 already */
                 : is_text  ? ASN1_STRING_to_UTF8(&utf8, v)
                            : -1;
        if (a[i].plain) {
            val = ASN1_STRING_get0_data(v);
            vlen = (size_t)un;
        } else if (un >= 0) {
            val = utf8;
            vlen = (size_t)un;
        } else if (v) {
            size_t rn = (size_t)ASN1_STRING_length(v);
            hex = malloc(2 * rn + 1);
            if (!hex) {
                free(b.s);
                return X509_CERT_ENOMEM;
            }
            cert_hex_into(ASN1_STRING_get0_data(v), rn, hex);
            for (char *h = hex; *h; h++)
                if (*h >= 'a' && *h <= 'f')
                    *h = (char)(*h - 32);
            val = (const unsigned char *)hex;
            vlen = 2 * rn;
        } else {
            val = (const unsigned char *)"";
            vlen = 0;
        }
        const char *sep = i == 0 ? "" : a[i].set == a[i - 1].set ? " + " : ", ";
        size_t seplen = strlen(sep), keylen = strlen(key);
        size_t need = seplen + keylen + 1 + vlen + 1;
        if (b.len + need > X509_CERT_MAX_TEXT + 64) {   /* cert_text cuts below */
            OPENSSL_free(utf8);
            free(hex);
            break;
        }
        cert_buf_put(&b, sep, seplen);
        cert_buf_put(&b, key, keylen);
        cert_buf_put(&b, "=", 1);
        cert_buf_put(&b, val, vlen);
        OPENSSL_free(utf8);
        free(hex);
    }
    *out = b.bad ? NULL : cert_text(c, b.s ? b.s : "", b.len);
    free(b.s);
    return *out ? X509_CERT_OK : X509_CERT_ENOMEM;
}

/*
 * Value of one attribute (the last of its type, the most specific, as for
 * hostname matching), converted to UTF-8 by OpenSSL unless plain.  A value
 * OpenSSL cannot convert is stored from its raw bytes (repaired).
 */
static int cert_name_attr(struct x509_cert *c, const struct cert_attr *a, char **out)
{
    unsigned char *utf8 = NULL;
    int n;

    *out = NULL;
    if (!a->v)
        return X509_CERT_OK;
    if (a->plain) {
        *out = cert_text(c, ASN1_STRING_get0_data(a->v), (size_t)ASN1_STRING_length(a->v));
        return *out ? X509_CERT_OK : X509_CERT_ENOMEM;
    }
    n = ASN1_STRING_to_UTF8(&utf8, a->v);
    if (n >= 0) {
        *out = cert_text(c, utf8, (size_t)n);
        OPENSSL_free(utf8);
    } else {
        c->text_repaired = true;
        *out = cert_text(c, ASN1_STRING_get0_data(a->v), (size_t)ASN1_STRING_length(a->v));
    }
    return *out ? X509_CERT_OK : X509_CERT_ENOMEM;
}

static int cert_name(struct x509_cert *c, const X509_NAME *name, struct x509_cert_name *out)
{
    struct cert_attr stack[CFG_X509_NAME_ATTRS_STACK], *a = stack;
    int rc;

    if (!name) {
        out->dn = cert_text(c, "", 0);
        out->dn_eve = cert_text(c, "", 0);
        return out->dn && out->dn_eve ? X509_CERT_OK : X509_CERT_ENOMEM;
    }
    int n = X509_NAME_entry_count(name);
    out->n_attrs = (size_t)n;
    if (n > CFG_X509_NAME_ATTRS_STACK && !(a = malloc((size_t)n * sizeof(*a))))
        return X509_CERT_ENOMEM;
    for (int i = 0; i < n; i++) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
        a[i].obj = X509_NAME_ENTRY_get_object(e);
        a[i].v = X509_NAME_ENTRY_get_data(e);
        a[i].nid = OBJ_obj2nid(a[i].obj);
        a[i].set = X509_NAME_ENTRY_set(e);
        a[i].plain = cert_plain_value(a[i].v);
    }
    if ((rc = cert_name_dn(c, name, a, n, &out->dn)) != X509_CERT_OK ||
        (rc = cert_name_eve(c, a, n, &out->dn_eve)) != X509_CERT_OK)
        goto out;
    /* The last attribute of each kept type. */
    static const int nids[6] = { NID_commonName, NID_organizationName,
                                 NID_organizationalUnitName, NID_countryName,
                                 NID_localityName, NID_stateOrProvinceName };
    char **dst[6] = { &out->cn, &out->o, &out->ou, &out->c, &out->l, &out->st };
    int last[6] = { -1, -1, -1, -1, -1, -1 };
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 6; k++)
            if (a[i].nid == nids[k])
                last[k] = i;
    for (int k = 0; k < 6; k++)
        if (last[k] >= 0 && (rc = cert_name_attr(c, &a[last[k]], dst[k])) != X509_CERT_OK)
            goto out;
    rc = X509_CERT_OK;
out:
    if (a != stack)
        free(a);
    return rc;
}

/* ---- validity ----------------------------------------------------------- */

/* UTCTime or GeneralizedTime (with any offset OpenSSL applies) to UTC. */
static void cert_time(const ASN1_TIME *t, struct x509_time *out)
{
    struct tm tm;
    int64_t y;

    memset(out, 0, sizeof *out);
    /* ASN1_TIME_to_tm() reads the clock when given NULL: never do that. */
    if (!t || !ASN1_TIME_to_tm(t, &tm))
        return;
    y = (int64_t)tm.tm_year + 1900;
    if (y < 0 || y > 9999 || tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
        tm.tm_mday > 31 || tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 ||
        tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
        return;
    out->epoch = civil_to_days(y, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday) * 86400 +
                 tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
    /* "YYYY-MM-DDTHH:MM:SSZ", every field range-checked above. */
    const unsigned f[6] = { (unsigned)y, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday,
                            (unsigned)tm.tm_hour, (unsigned)tm.tm_min, (unsigned)tm.tm_sec };
    char *o = out->iso;
    *o++ = (char)('0' + f[0] / 1000);
    *o++ = (char)('0' + f[0] / 100 % 10);
    for (int i = 0; i < 6; i++) {
        if (i > 0)
            *o++ = "--T::"[i - 1];
        *o++ = (char)('0' + f[i] / 10 % 10);
        *o++ = (char)('0' + f[i] % 10);
    }
    *o++ = 'Z';
    *o = '\0';
    out->valid = true;
}

/* ---- subjectAltName ----------------------------------------------------- */

static struct x509_cert_list *cert_san_list(struct x509_cert *c, int type)
{
    switch (type) {
    case GEN_DNS:
        return &c->san_dns;
    case GEN_IPADD:
        return &c->san_ip;
    case GEN_EMAIL:
        return &c->san_email;
    case GEN_URI:
        return &c->san_uri;
    default:
        return NULL;
    }
}

/* iPAddress octets as text: 4 -> dotted quad, 16 -> RFC 5952, else hex
 * ("" when empty).  NULL when out of memory. */
static char *cert_ip_text(const ASN1_OCTET_STRING *ip)
{
    const uint8_t *p = ASN1_STRING_get0_data(ip);
    int n = ASN1_STRING_length(ip);
    char buf[INET6_ADDRSTRLEN];

    if ((n == 4 && inet_ntop(AF_INET, p, buf, sizeof buf)) ||
        (n == 16 && inet_ntop(AF_INET6, p, buf, sizeof buf)))
        return strdup(buf);
    if (n <= 0)
        return strdup("");
    return cert_hex_dup(p, (size_t)n, false);
}

/*
 * The first subjectAltName extension, decoded by OpenSSL.  Entries go to
 * the list of their type in certificate order, up to X509_CERT_MAX_SAN per
 * list; other name forms are only counted.  An undecodable SAN sets
 * ext_invalid and leaves the lists empty.
 */
static int cert_san(struct x509_cert *c, X509 *x)
{
    int idx = X509_get_ext_by_NID(x, NID_subject_alt_name, -1);
    GENERAL_NAMES *gens;
    int count;

    if (idx < 0)
        return X509_CERT_OK;
    c->has_san = true;
    gens = X509V3_EXT_d2i(X509_get_ext(x, idx));
    if (!gens) {
        c->ext_invalid = true;
        return X509_CERT_OK;
    }
    count = sk_GENERAL_NAME_num(gens);

    /* Pass 1: true counts, so each list is allocated once at its size. */
    for (int i = 0; i < count; i++) {
        int type;
        GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, i), &type);
        struct x509_cert_list *l = cert_san_list(c, type);
        if (l)
            l->total++;
        else
            c->san_other++;
    }
    struct x509_cert_list *lists[4] = { &c->san_dns, &c->san_ip, &c->san_email, &c->san_uri };
    for (int k = 0; k < 4; k++) {
        size_t want = lists[k]->total < X509_CERT_MAX_SAN ? lists[k]->total : X509_CERT_MAX_SAN;
        if (want && !(lists[k]->v = calloc(want, sizeof *lists[k]->v))) {
            GENERAL_NAMES_free(gens);
            return X509_CERT_ENOMEM;
        }
    }

    /* Pass 2: the stored prefix of each list. */
    for (int i = 0; i < count; i++) {
        int type;
        const ASN1_STRING *v = GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(gens, i), &type);
        struct x509_cert_list *l = cert_san_list(c, type);
        char *s;

        if (!l || l->n >= X509_CERT_MAX_SAN)
            continue;
        if (type == GEN_IPADD)
            s = cert_ip_text(v);
        else
            s = cert_text(c, ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v));
        if (!s) {
            GENERAL_NAMES_free(gens);
            return X509_CERT_ENOMEM;
        }
        l->v[l->n++] = s;
    }
    GENERAL_NAMES_free(gens);
    return X509_CERT_OK;
}

/* ---- public key and signature ------------------------------------------- */

/* Name of an OID for display: OpenSSL's short name (long name when
 * want_long), or the dotted form for an OID OpenSSL does not know.  Cut to
 * the buffer. */
static void cert_oid_name(const ASN1_OBJECT *obj, bool want_long, char *out, size_t size)
{
    int nid = OBJ_obj2nid(obj);
    const char *name = NULL;

    out[0] = '\0';
    if (nid != NID_undef)
        name = want_long ? OBJ_nid2ln(nid) : OBJ_nid2sn(nid);
    if (name)
        snprintf(out, size, "%s", name);
    else if (obj)
        OBJ_obj2txt(out, (int)size, obj, 1);
}

/* DER length octets (definite form, at most 4 length bytes). */
static size_t cert_der_len(struct rd *r)
{
    uint8_t first = rd_u8(r);
    size_t n = 0;

    if (first < 0x80)
        return first;
    if (first == 0x80 || first > 0x84) {
        rd_fail(r);
        return 0;
    }
    for (uint8_t i = 0; i < (first & 0x7f); i++)
        n = n << 8 | rd_u8(r);
    return n;
}

/* One DER element of type `tag` into *body. */
static bool cert_der_elem(struct rd *r, uint8_t tag, struct rd *body)
{
    if (rd_u8(r) != tag)
        return false;
    size_t n = cert_der_len(r);
    return !r->bad && rd_sub(r, n, body);
}

/*
 * publicExponent of an RSAPublicKey (RFC 8017 A.1.1):
 *   SEQUENCE { modulus INTEGER, publicExponent INTEGER }
 * as a magnitude, when it is below 2^63; 0 otherwise.
 */
static uint64_t cert_rsa_exponent(const uint8_t *p, size_t len)
{
    struct rd r, seq, n, e;
    uint64_t v = 0;

    rd_init(&r, p, len);
    if (!cert_der_elem(&r, 0x30, &seq) || !cert_der_elem(&seq, 0x02, &n) ||
        !cert_der_elem(&seq, 0x02, &e))
        return 0;
    while (rd_left(&e) > 0 && rd_peek(&e, 0) == 0)
        rd_skip(&e, 1);
    if (rd_left(&e) > 8)
        return 0;
    while (rd_left(&e) > 0)
        v = v << 8 | rd_u8(&e);
    return v >> 63 ? 0 : v;
}

static void cert_key(struct x509_cert *c, X509 *x)
{
    static const struct {
        int nid;
        const char *name;
    } algs[] = {
        { NID_rsaEncryption, "RSA" },       { NID_rsassaPss, "RSA-PSS" },
        { NID_X9_62_id_ecPublicKey, "EC" }, { NID_ED25519, "Ed25519" },
        { NID_ED448, "Ed448" },             { NID_X25519, "X25519" },
        { NID_X448, "X448" },               { NID_dsa, "DSA" },
        { NID_dhKeyAgreement, "DH" },       { NID_dhpublicnumber, "DH" },
        { NID_sm2, "SM2" },
    };
    X509_PUBKEY *xpk = X509_get_X509_PUBKEY(x);
    ASN1_OBJECT *alg = NULL;
    X509_ALGOR *palg = NULL;
    EVP_PKEY *pkey;
    int nid, bits;

    if (!xpk || !X509_PUBKEY_get0_param(&alg, NULL, NULL, &palg, xpk) || !alg)
        return;
    nid = OBJ_obj2nid(alg);
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++)
        if (algs[i].nid == nid)
            snprintf(c->key_alg, sizeof c->key_alg, "%s", algs[i].name);
    if (!c->key_alg[0])
        cert_oid_name(alg, false, c->key_alg, sizeof c->key_alg);

    if (nid == NID_X9_62_id_ecPublicKey && palg) {
        int ptype;
        const void *pval;
        X509_ALGOR_get0(NULL, &ptype, &pval, palg);
        if (ptype == V_ASN1_OBJECT && pval) {
            int cnid = OBJ_obj2nid(pval);
            const char *nist = cnid != NID_undef ? EC_curve_nid2nist(cnid) : NULL;
            cert_oid_name(pval, false, c->curve, sizeof c->curve);
            if (nist)
                snprintf(c->curve_nist, sizeof c->curve_nist, "%s", nist);
        } else if (ptype == V_ASN1_SEQUENCE) {
            snprintf(c->curve, sizeof c->curve, "explicit");
        }
    }

    pkey = X509_get0_pubkey(x);
    if (pkey && (bits = EVP_PKEY_get_bits(pkey)) > 0)
        c->key_bits = bits;
    /* The exponent from the key's own encoding, which OpenSSL has just
     * accepted: EVP_PKEY_get_bn_param() would export the key to a provider
     * first (half as dear as the whole decode). */
    const unsigned char *pk = NULL;
    int pklen = 0;
    if (pkey && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA &&
        X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL, xpk) && pk && pklen > 0)
        c->rsa_exponent = cert_rsa_exponent(pk, (size_t)pklen);
    ERR_clear_error();
}

/* SHA-256 over the SubjectPublicKeyInfo as encoded in the certificate
 * (RFC 7469 2.4).  Left zero/"" if OpenSSL cannot encode it again. */
static void cert_spki(struct x509_cert *c, X509 *x)
{
    unsigned char *der = NULL;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);

    if (n > 0) {
        algs_sha256_once(der, (size_t)n, c->spki_sha256_raw);
        EVP_EncodeBlock((unsigned char *)c->spki_sha256, c->spki_sha256_raw,
                        (int)sizeof c->spki_sha256_raw);
    } else {
        memset(c->spki_sha256_raw, 0, sizeof c->spki_sha256_raw);
    }
    OPENSSL_free(der);
}

static void cert_sig(struct x509_cert *c, const X509 *x)
{
    const X509_ALGOR *outer = NULL;
    const ASN1_OBJECT *obj = NULL;

    X509_get0_signature(NULL, &outer, x);
    if (!outer)
        return;
    X509_ALGOR_get0(&obj, NULL, NULL, outer);
    cert_oid_name(obj, true, c->sig_alg, sizeof c->sig_alg);
    c->sig_alg_mismatch = X509_ALGOR_cmp(outer, X509_get0_tbs_sigalg(x)) != 0;
}

/*
 * self_issued: issuer and subject compare equal under X509_NAME_cmp (the
 * canonical encodings: case and internal whitespace folded).  self_signed:
 * self_issued and X509_verify() accepts the signature with the
 * certificate's own key.  Deliberately not X509_check_issued(): that also
 * demands a matching authorityKeyIdentifier and keyCertSign in keyUsage,
 * which are issuer policy, not "signed by itself".
 */
static void cert_self(struct x509_cert *c, X509 *x)
{
    EVP_PKEY *pkey;

    c->self_issued = X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(x)) == 0;
    if (!c->self_issued)
        return;
    pkey = X509_get0_pubkey(x);
    c->self_signed = pkey && X509_verify(x, pkey) == 1;
}

/* ---- CT precertificate SCTs (RFC 6962 3.3) ------------------------------ */

/*
 * extnValue of 1.3.6.1.4.1.11129.2.4.2 holds a DER OCTET STRING whose
 * content is a TLS-encoded list:
 *
 *   04 len(DER)  ......................................  OCTET STRING
 *     +--------+------------------------------------+
 *     | u16 L  | SerializedSCT sct_list<1..2^16-1>  |
 *     +--------+------------------------------------+
 *                | u16 l1 | SCT 1 (l1 bytes) | u16 l2 | SCT 2 | ...
 *
 *   opaque SerializedSCT<1..2^16-1>;
 *   struct { SerializedSCT sct_list<1..2^16-1>; } SignedCertificateTimestampList;
 *
 * Only the framing is checked; the SCTs themselves are not decoded.
 */

/*
 * Count the SCTs in the list `ext` carries.  Returns the number of
 * well-framed SCTs before the first error; *malformed is set when the
 * encoding is not exactly one OCTET STRING holding one non-empty list of
 * non-empty SCTs.
 */
static size_t cert_sct_count(const uint8_t *p, size_t len, bool *malformed)
{
    struct rd outer, octets, list;
    size_t count = 0, n;

    *malformed = true;
    rd_init(&outer, p, len);
    if (rd_u8(&outer) != 0x04)
        return 0;
    n = cert_der_len(&outer);
    if (outer.bad || !rd_sub(&outer, n, &octets) || rd_left(&outer) != 0)
        return 0;
    if (!rd_vec16(&octets, &list) || rd_left(&octets) != 0)
        return 0;
    while (rd_left(&list) > 0) {
        struct rd sct;
        if (!rd_vec16(&list, &sct) || rd_left(&sct) == 0)
            return count;
        count++;
    }
    *malformed = count == 0;
    return count;
}

static void cert_scts(struct x509_cert *c, X509 *x)
{
    int idx = X509_get_ext_by_NID(x, NID_ct_precert_scts, -1);
    const ASN1_OCTET_STRING *v;

    if (idx < 0)
        return;
    c->has_sct_list = true;
    v = X509_EXTENSION_get_data(X509_get_ext(x, idx));
    if (!v) {
        c->sct_list_malformed = true;
        return;
    }
    c->sct_count = cert_sct_count(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v),
                                  &c->sct_list_malformed);
}

/* ---- extensions, key identifiers ---------------------------------------- */

static int cert_exts(struct x509_cert *c, X509 *x)
{
    uint32_t flags = X509_get_extension_flags(x);   /* makes OpenSSL cache them */
    const ASN1_OCTET_STRING *id;

    c->n_exts = (size_t)X509_get_ext_count(x);
    c->has_basic_constraints = (flags & EXFLAG_BCONS) != 0;
    c->is_ca = (flags & EXFLAG_CA) != 0;
    c->path_len = c->has_basic_constraints ? X509_get_pathlen(x) : -1;
    if (flags & EXFLAG_INVALID)
        c->ext_invalid = true;

    if ((id = X509_get0_subject_key_id(x)) != NULL &&
        !(c->skid = cert_hex_dup(ASN1_STRING_get0_data(id), (size_t)ASN1_STRING_length(id), false)))
        return X509_CERT_ENOMEM;
    if ((id = X509_get0_authority_key_id(x)) != NULL &&
        !(c->akid = cert_hex_dup(ASN1_STRING_get0_data(id), (size_t)ASN1_STRING_length(id), false)))
        return X509_CERT_ENOMEM;
    return X509_CERT_OK;
}

/* ---- JA4X ---------------------------------------------------------------- */

static void cert_oid_ref(const ASN1_OBJECT *obj, struct ja4x_oid *out)
{
    const unsigned char *p = obj ? OBJ_get0_data(obj) : NULL;

    out->p = p;
    out->len = p ? OBJ_length(obj) : 0;
}

/* The attribute types of a name, in encoding order, into a new array. */
static int cert_name_oids(const X509_NAME *name, struct ja4x_oid **out, size_t *n)
{
    int count = name ? X509_NAME_entry_count(name) : 0;

    *out = NULL;
    *n = 0;
    if (count <= 0)
        return X509_CERT_OK;
    if (!(*out = calloc((size_t)count, sizeof **out)))
        return X509_CERT_ENOMEM;
    for (int i = 0; i < count; i++)
        cert_oid_ref(X509_NAME_ENTRY_get_object(X509_NAME_get_entry(name, i)), &(*out)[i]);
    *n = (size_t)count;
    return X509_CERT_OK;
}

/*
 * ja4x over the full lists; ja4x_r keeps its first X509_CERT_MAX_JA4X_R
 * bytes (text_cut set beyond: a certificate with thousands of extensions
 * would otherwise make an event line of hundreds of kilobytes).
 */
static int cert_ja4x(struct x509_cert *c, X509 *x)
{
    struct ja4x_oid *lists[JA4X_PARTS] = { NULL, NULL, NULL };
    struct ja4x_input in;
    int count = X509_get_ext_count(x);
    int rc = X509_CERT_ENOMEM;
    size_t need;

    memset(&in, 0, sizeof in);
    if (cert_name_oids(X509_get_issuer_name(x), &lists[JA4X_ISSUER], &in.n[JA4X_ISSUER]) ||
        cert_name_oids(X509_get_subject_name(x), &lists[JA4X_SUBJECT], &in.n[JA4X_SUBJECT]))
        goto out;
    if (count > 0) {
        if (!(lists[JA4X_EXTS] = calloc((size_t)count, sizeof *lists[JA4X_EXTS])))
            goto out;
        for (int i = 0; i < count; i++)
            cert_oid_ref(X509_EXTENSION_get_object(X509_get_ext(x, i)), &lists[JA4X_EXTS][i]);
        in.n[JA4X_EXTS] = (size_t)count;
    }
    for (int part = 0; part < JA4X_PARTS; part++)
        in.oids[part] = lists[part];

    need = ja4x_raw_len(&in) + 1;
    if (!(c->ja4x_r = malloc(need)))
        goto out;
    if (!ja4x_build(&in, c->ja4x_r, need, c->ja4x))
        c->ja4x[0] = c->ja4x_r[0] = '\0';   /* SHA-256 unavailable: leave empty */
    if (need > X509_CERT_MAX_JA4X_R + 1) {
        c->ja4x_r[X509_CERT_MAX_JA4X_R] = '\0';
        c->text_cut = true;
        char *shrunk = realloc(c->ja4x_r, X509_CERT_MAX_JA4X_R + 1);
        if (shrunk)
            c->ja4x_r = shrunk;
    }
    rc = X509_CERT_OK;
out:
    for (int part = 0; part < JA4X_PARTS; part++)
        free(lists[part]);
    return rc;
}

/* ---- entry points -------------------------------------------------------- */

static int cert_fill(struct x509_cert *c, X509 *x, const uint8_t *der, size_t len)
{
    const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
    long version;
    int rc;

    version = X509_get_version(x);   /* any INTEGER: OpenSSL does not check it */
    c->version = (version >= 0 && version <= 2) ? version + 1 : 0;
    if ((rc = cert_name(c, X509_get_subject_name(x), &c->subject)) != X509_CERT_OK ||
        (rc = cert_name(c, X509_get_issuer_name(x), &c->issuer)) != X509_CERT_OK)
        return rc;
    if (serial)
        c->serial = cert_hex_dup(ASN1_STRING_get0_data(serial),
                                 (size_t)ASN1_STRING_length(serial),
                                 ASN1_STRING_type(serial) == V_ASN1_NEG_INTEGER);
    else
        c->serial = cert_hex_dup(NULL, 0, false);
    if (!c->serial)
        return X509_CERT_ENOMEM;
    cert_time(X509_get0_notBefore(x), &c->not_before);
    cert_time(X509_get0_notAfter(x), &c->not_after);

    cert_fingerprints(c, der, len);
    cert_spki(c, x);
    cert_key(c, x);
    cert_sig(c, x);

    if ((rc = cert_exts(c, x)) != X509_CERT_OK || (rc = cert_san(c, x)) != X509_CERT_OK)
        return rc;
    cert_scts(c, x);
    cert_self(c, x);
    return cert_ja4x(c, x);
}

int x509_cert_parse_keep(const uint8_t *der, size_t len, struct x509_cert *out,
                         void **x509_out)
{
    const unsigned char *p = der;
    X509 *x;
    int rc;

    if (x509_out)
        *x509_out = NULL;
    if (!out)
        return X509_CERT_EARG;
    memset(out, 0, sizeof *out);
    if (!der || len == 0 || len > LONG_MAX)
        return X509_CERT_EARG;
    pthread_once(&cert_init_once, cert_init);

    ERR_set_mark();
    x = d2i_X509(NULL, &p, (long)len);
    if (!x) {
        rc = X509_CERT_EDECODE;
    } else if ((size_t)(p - der) != len) {
        rc = X509_CERT_ETRAILING;
    } else {
        rc = cert_fill(out, x, der, len);
    }
    if (rc == X509_CERT_OK && x509_out)
        *x509_out = x;
    else
        X509_free(x);
    ERR_pop_to_mark();

    if (rc != X509_CERT_OK)
        x509_cert_release(out);
    return rc;
}

int x509_cert_parse(const uint8_t *der, size_t len, struct x509_cert *out)
{
    return x509_cert_parse_keep(der, len, out, NULL);
}

static void cert_list_free(struct x509_cert_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

static size_t str_bytes(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

static size_t name_bytes(const struct x509_cert_name *n)
{
    return str_bytes(n->dn) + str_bytes(n->dn_eve) + str_bytes(n->ou) + str_bytes(n->c) +
           str_bytes(n->l) + str_bytes(n->st) + str_bytes(n->cn) + str_bytes(n->o);
}

static size_t list_bytes(const struct x509_cert_list *l)
{
    size_t n = l->n * sizeof(*l->v);
    for (size_t i = 0; i < l->n; i++)
        n += str_bytes(l->v[i]);
    return n;
}

size_t x509_cert_heap_bytes(const struct x509_cert *c)
{
    return name_bytes(&c->subject) + name_bytes(&c->issuer) + str_bytes(c->serial) +
           list_bytes(&c->san_dns) + list_bytes(&c->san_ip) + list_bytes(&c->san_email) +
           list_bytes(&c->san_uri) + str_bytes(c->skid) + str_bytes(c->akid) +
           str_bytes(c->ja4x_r);
}

void x509_cert_release(struct x509_cert *c)
{
    if (!c)
        return;
    free(c->subject.dn);
    free(c->subject.dn_eve);
    free(c->subject.ou);
    free(c->subject.c);
    free(c->subject.l);
    free(c->subject.st);
    free(c->subject.cn);
    free(c->subject.o);
    free(c->issuer.dn);
    free(c->issuer.dn_eve);
    free(c->issuer.ou);
    free(c->issuer.c);
    free(c->issuer.l);
    free(c->issuer.st);
    free(c->issuer.cn);
    free(c->issuer.o);
    free(c->serial);
    cert_list_free(&c->san_dns);
    cert_list_free(&c->san_ip);
    cert_list_free(&c->san_email);
    cert_list_free(&c->san_uri);
    free(c->skid);
    free(c->akid);
    free(c->ja4x_r);
    memset(c, 0, sizeof *c);
}
