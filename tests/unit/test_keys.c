/*
 * test_keys.c - unit tests for x509/keys.c: EC public keys decoded through
 * its ENGINE give what OpenSSL's provider decoders give.
 *
 * Test vectors are built at run time through the OpenSSL API, before
 * x509_keys_init(): SubjectPublicKeyInfos for P-256, P-384, P-521 (the
 * curves whose groups keys.c keeps), secp256k1 and brainpoolP256r1 (built
 * per key), each with an uncompressed, a compressed and a hybrid point and
 * with explicit parameters; then a point not on the curve, an x beyond
 * the field, an unknown curve OID, NULL and absent parameters, an empty
 * BIT STRING, garbage, a truncated point; and ECDSA certificates for each
 * curve signed by a P-384 root, self-signed ones, one with explicit
 * parameters.
 *
 * The process then forks.  The child sets PINSCOPE_OPENSSL_DECODERS, so
 * x509_keys_init() leaves OpenSSL's provider route in place, and writes
 * one line per vector: whether d2i_PUBKEY() and d2i_X509() decode it, key
 * bits, EVP_PKEY_get_size(), security bits, group name, i2d_PUBKEY(),
 * EVP_PKEY_eq() against a decoded copy and against another key,
 * EVP_PKEY_print_public(), X509_verify() with the issuer's key and the
 * struct x509_cert fields pinscope reports.  The parent registers the
 * ENGINE, checks that EC keys now take its method, writes the same lines
 * and compares them one by one; a few expectations (which vectors must
 * fail, the bits of each curve) are checked on both.
 *
 * The tests never run external programs.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "testhelp.h"
#include "x509/cert.h"
#include "x509/keys.h"

#define KEYS_VEC_MAX 96
#define KEYS_LINE_MAX 16384

enum keys_expect { EXPECT_ANY, EXPECT_OK, EXPECT_FAIL };

struct keys_vec {
    char name[64];
    bool cert;                  /* der is a certificate, else an SPKI */
    int issuer;                 /* index of the issuing certificate, -1 */
    enum keys_expect expect;
    int bits;                   /* expected key bits when it decodes, 0 */
    unsigned char *der;
    size_t len;
};

static struct keys_vec vecs[KEYS_VEC_MAX];
static size_t nvecs;

static struct keys_vec *vec_add(const char *name, bool cert, enum keys_expect expect, int bits,
                                unsigned char *der, size_t len)
{
    struct keys_vec *v;

    if (nvecs == KEYS_VEC_MAX || !der) {
        test_cond(name, false);
        free(der);
        return NULL;
    }
    v = &vecs[nvecs++];
    snprintf(v->name, sizeof v->name, "%s", name);
    v->cert = cert;
    v->issuer = -1;
    v->expect = expect;
    v->bits = bits;
    v->der = der;
    v->len = len;
    return v;
}

/* ---- DER ----------------------------------------------------------------- */

/* tag, definite length, content: a new buffer of *outlen bytes. */
static unsigned char *der_tlv(unsigned tag, const unsigned char *c, size_t clen, size_t *outlen)
{
    unsigned char hdr[6];
    size_t h = 0;
    unsigned char *out;

    hdr[h++] = (unsigned char)tag;
    if (clen < 0x80) {
        hdr[h++] = (unsigned char)clen;
    } else if (clen < 0x100) {
        hdr[h++] = 0x81;
        hdr[h++] = (unsigned char)clen;
    } else {
        hdr[h++] = 0x82;
        hdr[h++] = (unsigned char)(clen >> 8);
        hdr[h++] = (unsigned char)clen;
    }
    if (!(out = malloc(h + clen + 1)))
        abort();
    memcpy(out, hdr, h);
    if (clen)
        memcpy(out + h, c, clen);
    *outlen = h + clen;
    return out;
}

static const unsigned char oid_ec_public_key[] = { 0x06, 0x07, 0x2a, 0x86, 0x48,
                                                   0xce, 0x3d, 0x02, 0x01 };

/* SubjectPublicKeyInfo: id-ecPublicKey, `params` (absent if NULL), and a
 * BIT STRING of `unused` then `point`. */
static unsigned char *spki_build(const unsigned char *params, size_t plen,
                                 const unsigned char *point, size_t ptlen, size_t *outlen)
{
    unsigned char buf[1024], bits[512];
    unsigned char *alg, *bs, *spki;
    size_t alen, blen, n = 0;

    memcpy(buf, oid_ec_public_key, sizeof oid_ec_public_key);
    n = sizeof oid_ec_public_key;
    if (params) {
        memcpy(buf + n, params, plen);
        n += plen;
    }
    alg = der_tlv(0x30, buf, n, &alen);
    bits[0] = 0;
    memcpy(bits + 1, point, ptlen);
    bs = der_tlv(0x03, bits, ptlen + 1, &blen);
    memcpy(buf, alg, alen);
    memcpy(buf + alen, bs, blen);
    spki = der_tlv(0x30, buf, alen + blen, outlen);
    free(alg);
    free(bs);
    return spki;
}

/* The curve's OID in DER. */
static size_t curve_oid(int nid, unsigned char *out, size_t cap)
{
    const ASN1_OBJECT *o = OBJ_nid2obj(nid);
    int n = o ? i2d_ASN1_OBJECT(o, NULL) : 0;
    unsigned char *p = out;

    if (n <= 0 || (size_t)n > cap)
        return 0;
    return (size_t)i2d_ASN1_OBJECT(o, &p);
}

/* The curve's explicit ECParameters in DER. */
static size_t curve_explicit(int nid, unsigned char *out, size_t cap)
{
    EC_GROUP *g = EC_GROUP_new_by_curve_name(nid);
    unsigned char *der = NULL;
    int n;

    if (!g)
        return 0;
    EC_GROUP_set_asn1_flag(g, OPENSSL_EC_EXPLICIT_CURVE);
    n = i2d_ECPKParameters(g, &der);
    EC_GROUP_free(g);
    if (n <= 0 || (size_t)n > cap) {
        OPENSSL_free(der);
        return 0;
    }
    memcpy(out, der, (size_t)n);
    OPENSSL_free(der);
    return (size_t)n;
}

/* ---- vectors ------------------------------------------------------------- */

static unsigned char *cert_der(X509 *x, size_t *len)
{
    unsigned char *der = NULL, *out;
    int n = i2d_X509(x, &der);

    if (n <= 0)
        return NULL;
    if (!(out = malloc((size_t)n)))
        abort();
    memcpy(out, der, (size_t)n);
    OPENSSL_free(der);
    *len = (size_t)n;
    return out;
}

/* A certificate for `key` signed by `signer` (self-signed if issuer is
 * NULL); NULL on failure. */
static X509 *cert_make(const char *cn, EVP_PKEY *key, EVP_PKEY *signer, X509 *issuer, long serial)
{
    X509 *x = X509_new();
    X509_NAME *n = X509_NAME_new();

    if (!x || !n)
        goto fail;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, n);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 30);
    if (X509_set_pubkey(x, key) != 1 || X509_sign(x, signer, EVP_sha384()) <= 0)
        goto fail;
    X509_NAME_free(n);
    return x;
fail:
    X509_NAME_free(n);
    X509_free(x);
    return NULL;
}

static const struct {
    int nid;
    const char *name;
    int bits;
} curves[] = {
    { NID_X9_62_prime256v1, "P-256", 256 }, { NID_secp384r1, "P-384", 384 },
    { NID_secp521r1, "P-521", 521 },        { NID_secp256k1, "secp256k1", 256 },
    { NID_brainpoolP256r1, "brainpoolP256r1", 256 },
};
#define NCURVES (sizeof curves / sizeof curves[0])

static void vectors_build(void)
{
    EVP_PKEY *root_key = EVP_EC_gen("P-384");
    X509 *root = root_key ? cert_make("EC Root", root_key, root_key, NULL, 1) : NULL;
    unsigned char params[512], pt[200], bad[200];
    size_t plen, elen, ptlen, len;
    char name[64];
    int root_ix = -1;

    test_cond("root key and certificate", root_key && root);
    if (root) {
        unsigned char *d = cert_der(root, &len);
        if (vec_add("cert root P-384 self-signed", true, EXPECT_OK, 384, d, len))
            root_ix = (int)nvecs - 1;
    }

    for (size_t c = 0; c < NCURVES; c++) {
        EVP_PKEY *k = EVP_EC_gen(curves[c].name);
        unsigned char expl[512];

        test_cond("generate a key on each curve", k != NULL);
        if (!k)
            continue;
        plen = curve_oid(curves[c].nid, params, sizeof params);
        elen = curve_explicit(curves[c].nid, expl, sizeof expl);
        test_cond("curve OID and explicit parameters", plen > 0 && elen > 0);
        if (!EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt, &ptlen) ||
            pt[0] != 4 || ptlen % 2 != 1) {
            test_cond("uncompressed public point", false);
            EVP_PKEY_free(k);
            continue;
        }
        size_t flen = ptlen / 2;
        bool y_odd = pt[ptlen - 1] & 1;
        unsigned char *d;

        /* named curve: uncompressed, compressed, hybrid */
        snprintf(name, sizeof name, "spki %s uncompressed", curves[c].name);
        d = spki_build(params, plen, pt, ptlen, &len);
        vec_add(name, false, EXPECT_OK, curves[c].bits, d, len);

        memcpy(bad, pt, ptlen);
        bad[0] = y_odd ? 3 : 2;
        snprintf(name, sizeof name, "spki %s compressed", curves[c].name);
        d = spki_build(params, plen, bad, flen + 1, &len);
        vec_add(name, false, EXPECT_OK, curves[c].bits, d, len);

        bad[0] = y_odd ? 7 : 6;
        snprintf(name, sizeof name, "spki %s hybrid", curves[c].name);
        d = spki_build(params, plen, bad, ptlen, &len);
        vec_add(name, false, EXPECT_ANY, 0, d, len);

        bad[0] = y_odd ? 6 : 7;   /* hybrid with the wrong parity */
        snprintf(name, sizeof name, "spki %s hybrid wrong y bit", curves[c].name);
        d = spki_build(params, plen, bad, ptlen, &len);
        vec_add(name, false, EXPECT_FAIL, 0, d, len);

        /* explicit parameters */
        snprintf(name, sizeof name, "spki %s explicit", curves[c].name);
        d = spki_build(expl, elen, pt, ptlen, &len);
        vec_add(name, false, EXPECT_OK, curves[c].bits, d, len);

        bad[0] = y_odd ? 3 : 2;
        snprintf(name, sizeof name, "spki %s explicit compressed", curves[c].name);
        d = spki_build(expl, elen, bad, flen + 1, &len);
        vec_add(name, false, EXPECT_OK, curves[c].bits, d, len);

        /* a point not on the curve: y off by one bit */
        memcpy(bad, pt, ptlen);
        bad[ptlen - 1] ^= 1;
        snprintf(name, sizeof name, "spki %s not on curve", curves[c].name);
        d = spki_build(params, plen, bad, ptlen, &len);
        vec_add(name, false, EXPECT_FAIL, 0, d, len);
        snprintf(name, sizeof name, "spki %s explicit not on curve", curves[c].name);
        d = spki_build(expl, elen, bad, ptlen, &len);
        vec_add(name, false, EXPECT_FAIL, 0, d, len);

        /* x beyond the field */
        memset(bad + 1, 0xff, flen);
        bad[0] = 2;
        snprintf(name, sizeof name, "spki %s compressed x >= p", curves[c].name);
        d = spki_build(params, plen, bad, flen + 1, &len);
        vec_add(name, false, EXPECT_FAIL, 0, d, len);

        /* truncated, point at infinity, empty, garbage */
        snprintf(name, sizeof name, "spki %s truncated", curves[c].name);
        d = spki_build(params, plen, pt, ptlen - 1, &len);
        vec_add(name, false, EXPECT_FAIL, 0, d, len);
        bad[0] = 0;
        snprintf(name, sizeof name, "spki %s infinity", curves[c].name);
        d = spki_build(params, plen, bad, 1, &len);
        vec_add(name, false, EXPECT_ANY, 0, d, len);
        snprintf(name, sizeof name, "spki %s empty bit string", curves[c].name);
        d = spki_build(params, plen, bad, 0, &len);
        vec_add(name, false, EXPECT_FAIL, 0, d, len);
        memset(bad, 0x5a, sizeof bad);
        snprintf(name, sizeof name, "spki %s garbage", curves[c].name);
        d = spki_build(params, plen, bad, 40, &len);
        vec_add(name, false, EXPECT_FAIL, 0, d, len);

        /* certificates: signed by the root, and self-signed */
        X509 *leaf = root ? cert_make("EC leaf", k, root_key, root, 100 + (long)c) : NULL;
        X509 *self = cert_make("EC self-signed", k, k, NULL, 200 + (long)c);
        test_cond("leaf and self-signed certificates", leaf && self);
        struct keys_vec *v;
        snprintf(name, sizeof name, "cert %s leaf", curves[c].name);
        d = leaf ? cert_der(leaf, &len) : NULL;
        if (d && (v = vec_add(name, true, EXPECT_OK, curves[c].bits, d, len)))
            v->issuer = root_ix;
        snprintf(name, sizeof name, "cert %s self-signed", curves[c].name);
        d = self ? cert_der(self, &len) : NULL;
        if (d && (v = vec_add(name, true, EXPECT_OK, curves[c].bits, d, len)))
            v->issuer = (int)nvecs - 1;
        X509_free(leaf);
        X509_free(self);

        /* a certificate whose key has explicit parameters */
        const unsigned char *p;
        EVP_PKEY *ek;
        d = spki_build(expl, elen, pt, ptlen, &len);
        p = d;
        ek = d2i_PUBKEY(NULL, &p, (long)len);
        free(d);
        X509 *ex = ek && root ? cert_make("EC explicit", ek, root_key, root, 300 + (long)c) : NULL;
        snprintf(name, sizeof name, "cert %s explicit", curves[c].name);
        test_cond(name, ex != NULL);
        d = ex ? cert_der(ex, &len) : NULL;
        if (d && (v = vec_add(name, true, EXPECT_OK, curves[c].bits, d, len)))
            v->issuer = root_ix;
        X509_free(ex);
        EVP_PKEY_free(ek);
        EVP_PKEY_free(k);
    }

    /* parameters OpenSSL refuses */
    EVP_PKEY *k = EVP_EC_gen("P-256");
    if (k && EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt, &ptlen)) {
        static const unsigned char unknown_oid[] = { 0x06, 0x03, 0x2a, 0x03, 0x04 };
        static const unsigned char null_params[] = { 0x05, 0x00 };
        static const unsigned char bad_explicit[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
        static const unsigned char int_params[] = { 0x02, 0x01, 0x01 };
        unsigned char *d;

        d = spki_build(unknown_oid, sizeof unknown_oid, pt, ptlen, &len);
        vec_add("spki unknown curve OID", false, EXPECT_FAIL, 0, d, len);
        plen = curve_oid(NID_secp384r1, params, sizeof params);
        d = spki_build(params, plen, pt, ptlen, &len);
        vec_add("spki P-256 point under the P-384 OID", false, EXPECT_FAIL, 0, d, len);
        d = spki_build(null_params, sizeof null_params, pt, ptlen, &len);
        vec_add("spki NULL parameters", false, EXPECT_FAIL, 0, d, len);
        d = spki_build(NULL, 0, pt, ptlen, &len);
        vec_add("spki absent parameters", false, EXPECT_FAIL, 0, d, len);
        d = spki_build(bad_explicit, sizeof bad_explicit, pt, ptlen, &len);
        vec_add("spki malformed explicit parameters", false, EXPECT_FAIL, 0, d, len);
        d = spki_build(int_params, sizeof int_params, pt, ptlen, &len);
        vec_add("spki INTEGER parameters", false, EXPECT_FAIL, 0, d, len);
    } else {
        test_cond("P-256 key for the parameter vectors", false);
    }
    EVP_PKEY_free(k);
    X509_free(root);
    EVP_PKEY_free(root_key);
}

/* ---- what each route makes of them --------------------------------------- */

struct keys_buf {
    char s[KEYS_LINE_MAX];
    size_t n;
};

static void out_add(struct keys_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_add(struct keys_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(b->s + b->n, sizeof b->s - b->n, fmt, ap);
    va_end(ap);
    if (n > 0)
        b->n = (size_t)n < sizeof b->s - b->n ? b->n + (size_t)n : sizeof b->s - 1;
}

static void out_hex(struct keys_buf *b, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out_add(b, "%02x", p[i]);
}

/* Everything about `pk` that either route could change. */
static void describe_key(struct keys_buf *b, EVP_PKEY *pk, EVP_PKEY *other)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(pk, &der);
    char group[80] = "";
    size_t glen = 0;
    BIO *mem = BIO_new(BIO_s_mem());
    char *txt = NULL;
    long tlen;

    out_add(b, " id=%d bits=%d size=%d sec=%d", EVP_PKEY_get_base_id(pk), EVP_PKEY_get_bits(pk),
            EVP_PKEY_get_size(pk), EVP_PKEY_get_security_bits(pk));
    if (!EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen))
        snprintf(group, sizeof group, "(none)");
    out_add(b, " group=%s spki=", group);
    if (n > 0)
        out_hex(b, der, (size_t)n);
    if (n > 0) {
        const unsigned char *p = der;
        EVP_PKEY *copy = d2i_PUBKEY(NULL, &p, n);
        out_add(b, " eq_copy=%d", copy ? EVP_PKEY_eq(pk, copy) : -9);
        EVP_PKEY_free(copy);
    }
    out_add(b, " eq_other=%d", other ? EVP_PKEY_eq(pk, other) : -9);
    if (mem && EVP_PKEY_print_public(mem, pk, 2, NULL) == 1 && (tlen = BIO_get_mem_data(mem, &txt)) > 0) {
        out_add(b, " print=");
        for (long i = 0; i < tlen; i++)   /* one line per vector */
            out_add(b, "%c", txt[i] == '\n' ? '|' : txt[i]);
    } else
        out_add(b, " print=(fails)");
    BIO_free(mem);
    OPENSSL_free(der);
    ERR_clear_error();
}

/* One line for vector i: `ok` set to whether it decoded. */
static void describe(struct keys_buf *b, size_t i, EVP_PKEY *other, bool *ok, int *bits)
{
    const struct keys_vec *v = &vecs[i];
    const unsigned char *p = v->der;
    EVP_PKEY *pk = NULL;
    X509 *x = NULL;

    b->n = 0;
    out_add(b, "%s:", v->name);
    if (v->cert) {
        x = d2i_X509(NULL, &p, (long)v->len);
        pk = x ? X509_get0_pubkey(x) : NULL;
        if (pk)
            EVP_PKEY_up_ref(pk);
    } else {
        pk = d2i_PUBKEY(NULL, &p, (long)v->len);
    }
    *ok = pk != NULL;
    *bits = pk ? EVP_PKEY_get_bits(pk) : 0;
    out_add(b, " decodes=%d", pk != NULL);
    if (pk)
        describe_key(b, pk, other);
    if (x && v->issuer >= 0) {
        const unsigned char *q = vecs[v->issuer].der;
        X509 *is = d2i_X509(NULL, &q, (long)vecs[v->issuer].len);
        EVP_PKEY *ik = is ? X509_get0_pubkey(is) : NULL;
        out_add(b, " verify=%d", ik ? X509_verify(x, ik) : -9);
        out_add(b, " verify_other=%d", other ? X509_verify(x, other) : -9);
        X509_free(is);
    }
    if (v->cert) {
        struct x509_cert c;
        int rc = x509_cert_parse(v->der, v->len, &c);
        out_add(b, " parse=%d", rc);
        if (rc == 0)
            out_add(b, " key_alg=%s key_bits=%d curve=%s nist=%s self_signed=%d spki_sha256=%s",
                    c.key_alg, c.key_bits, c.curve, c.curve_nist, c.self_signed, c.spki_sha256);
        x509_cert_release(&c);
    }
    out_add(b, "\n");
    EVP_PKEY_free(pk);
    X509_free(x);
    ERR_clear_error();
}

/* All lines, into `fd` (the child) or compared with `ref` (the parent). */
static void describe_all(int fd, FILE *ref, const unsigned char *other_der, int other_len)
{
    static struct keys_buf b;
    const unsigned char *p = other_der;
    EVP_PKEY *other = d2i_PUBKEY(NULL, &p, other_len);   /* by the same route */

    test_cond("decode the other key", other != NULL);

    for (size_t i = 0; i < nvecs; i++) {
        bool ok;
        int bits;

        describe(&b, i, other, &ok, &bits);
        if (vecs[i].expect != EXPECT_ANY)
            test_cond(vecs[i].name, ok == (vecs[i].expect == EXPECT_OK));
        if (ok && vecs[i].bits)
            test_cond(vecs[i].name, bits == vecs[i].bits);
        if (fd >= 0) {
            if (write(fd, b.s, b.n) != (ssize_t)b.n)
                exit(2);
            continue;
        }
        static char want[KEYS_LINE_MAX];
        if (!fgets(want, sizeof want, ref)) {
            test_cond("a provider-route line for every vector", false);
            break;
        }
        test_streq(vecs[i].name, b.s, want);
    }
    EVP_PKEY_free(other);
}

/* The EC method keys now decode with: the ENGINE's, not OpenSSL's. */
static void check_route(bool direct)
{
    const unsigned char *p = NULL;
    EVP_PKEY *pk = NULL;

    for (size_t i = 0; i < nvecs && !pk; i++)
        if (!vecs[i].cert && vecs[i].expect == EXPECT_OK) {
            p = vecs[i].der;
            pk = d2i_PUBKEY(NULL, &p, (long)vecs[i].len);
        }
    test_cond("an EC key to look at", pk != NULL);
    if (!pk)
        return;
    if (direct) {
        const EVP_PKEY_ASN1_METHOD *m = EVP_PKEY_get0_asn1(pk);
        test_cond("EC keys decoded by the ENGINE's method",
                  m && m != EVP_PKEY_asn1_find(NULL, EVP_PKEY_EC) && !EVP_PKEY_get0_provider(pk));
    } else {
        test_cond("EC keys decoded by a provider", EVP_PKEY_get0_provider(pk) != NULL);
    }
    EVP_PKEY_free(pk);
}

int main(void)
{
    int fds[2];
    pid_t pid;
    int status = 0;
    FILE *ref;

    vectors_build();
    test_cond("vectors built", nvecs > 60);
    /* Made now: with the ENGINE, EVP_EC_gen() takes OpenSSL's legacy
     * EC_PKEY_METHOD, which cannot take a group by name.  Each route
     * decodes it itself: EVP_PKEY_eq() of a legacy key with a provided one
     * exports the legacy key first, which refuses a point at infinity. */
    EVP_PKEY *other = EVP_EC_gen("P-256");
    unsigned char *other_der = NULL;
    int other_len = other ? i2d_PUBKEY(other, &other_der) : 0;
    test_cond("another P-256 key", other_len > 0);
    EVP_PKEY_free(other);
    fflush(NULL);
    if (pipe(fds) != 0 || (pid = fork()) < 0) {
        test_cond("fork", false);
        return test_report();
    }
    if (pid == 0) {
        close(fds[0]);
        setenv("PINSCOPE_OPENSSL_DECODERS", "1", 1);
        test_cond("provider route kept", !x509_keys_init());
        check_route(false);
        describe_all(fds[1], NULL, other_der, other_len);
        close(fds[1]);
        _exit(test_failed ? 1 : 0);
    }
    close(fds[1]);
    if (getenv("PINSCOPE_OPENSSL_DECODERS"))
        unsetenv("PINSCOPE_OPENSSL_DECODERS");
    bool direct = x509_keys_init();
    printf("test_keys: %zu vectors, ENGINE route %s\n", nvecs, direct ? "on" : "off");
    check_route(direct);
    ref = fdopen(fds[0], "r");
    test_cond("read the provider route's lines", ref != NULL);
    if (ref) {
        describe_all(-1, ref, other_der, other_len);
        fclose(ref);
    }
    waitpid(pid, &status, 0);
    test_cond("provider route's own checks", WIFEXITED(status) && WEXITSTATUS(status) == 0);
    OPENSSL_free(other_der);
    for (size_t i = 0; i < nvecs; i++)
        free(vecs[i].der);
    return test_report();
}
