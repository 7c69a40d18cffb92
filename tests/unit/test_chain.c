/*
 * test_chain.c - unit tests for x509/chain.c: the certificate cache and
 * the chain cache.
 *
 * Chains of certificates made here with the OpenSSL API (a CA, a leaf it
 * issued with SAN names, a leaf that reuses the CA's key, a leaf from
 * another CA) are built again and again with varying SNI, capture time,
 * purpose and order, through a context with a large and one with a single
 * chain slot.  Every result must equal what OpenSSL computes directly for
 * that chain (X509_NAME_cmp linkage, EVP_PKEY_eq, ASN1_TIME_diff,
 * X509_check_host, X509_verify_cert at that time), and a chain seen before
 * must not decode any certificate again.
 *
 * With a fixed cache key, certificates whose DER is chosen to land in one
 * bucket show the bucket bound: at most CFG_X509_BUCKET_MAX are cached,
 * the rest are served uncached and counted (caps.x509_cache_bucket), and
 * unused ones in a full bucket make room for new ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "testhelp.h"
#include "util/memcap.h"
#include "testkey.h"
#include "x509/chain.h"

struct der {
    uint8_t *p;
    size_t n;
    X509 *x;
};

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (e)
        X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
}

/* A certificate CN=cn issued by issuer_cn (self-issued when equal) with
 * `key`, signed by `signer`. */
static struct der make(const char *cn, const char *issuer_cn, EVP_PKEY *key, EVP_PKEY *signer,
                       const char *nb, const char *na, const char *san, bool ca, long serial)
{
    struct der d = { NULL, 0, X509_new() };
    X509_NAME *s = X509_NAME_new(), *i = X509_NAME_new();
    X509_set_version(d.x, X509_VERSION_3);
    ASN1_INTEGER_set(X509_get_serialNumber(d.x), serial);
    ASN1_TIME_set_string_X509(X509_getm_notBefore(d.x), nb);
    ASN1_TIME_set_string_X509(X509_getm_notAfter(d.x), na);
    X509_NAME_add_entry_by_txt(s, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_NAME_add_entry_by_txt(i, "CN", MBSTRING_ASC, (const unsigned char *)issuer_cn, -1, -1, 0);
    X509_set_subject_name(d.x, s);
    X509_set_issuer_name(d.x, i);
    X509_set_pubkey(d.x, key);
    if (ca) {
        add_ext(d.x, d.x, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(d.x, d.x, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(d.x, NULL, NID_ext_key_usage, "serverAuth");
    }
    if (san)
        add_ext(d.x, NULL, NID_subject_alt_name, san);
    X509_sign(d.x, signer, EVP_sha256());
    unsigned char *der = NULL;
    int n = i2d_X509(d.x, &der);
    if (n > 0) {
        d.p = malloc((size_t)n);
        memcpy(d.p, der, (size_t)n);
        d.n = (size_t)n;
    }
    OPENSSL_free(der);
    X509_NAME_free(s);
    X509_NAME_free(i);
    return d;
}

/* ---- the oracle: OpenSSL on the chain directly -------------------------- */

struct facts {
    bool linked, shares, sni_match;
    int64_t validity_days, age;
    int verify_error, verify_depth;
};

static struct facts oracle(X509_STORE *store, X509 **xs, size_t n, enum x509_purpose purpose,
                           const char *sni, size_t sni_len, time_t t)
{
    struct facts f = { .linked = true };
    for (size_t i = 0; i + 1 < n; i++)
        if (X509_NAME_cmp(X509_get_issuer_name(xs[i]), X509_get_subject_name(xs[i + 1])) != 0)
            f.linked = false;
    if (n > 1)
        f.shares = EVP_PKEY_eq(X509_get0_pubkey(xs[0]), X509_get0_pubkey(xs[1])) == 1;
    int days = 0, secs = 0;
    ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(xs[0]), X509_get0_notAfter(xs[0]));
    f.validity_days = days;
    ASN1_TIME *now = ASN1_TIME_set(NULL, t);
    ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(xs[0]), now);
    f.age = (int64_t)days * 86400 + secs;
    ASN1_TIME_free(now);
    f.sni_match = X509_check_host(xs[0], sni, sni_len, 0, NULL) == 1;
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    for (size_t i = 1; i < n; i++)
        sk_X509_push(untrusted, xs[i]);
    X509_STORE_CTX *v = X509_STORE_CTX_new();
    X509_STORE_CTX_init(v, store, xs[0], untrusted);
    X509_STORE_CTX_set_purpose(v, purpose == X509_PURPOSE_SERVER_CHAIN ? X509_PURPOSE_SSL_SERVER
                                                                        : X509_PURPOSE_SSL_CLIENT);
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(v), t);
    if (X509_verify_cert(v) == 1) {
        f.verify_error = X509_V_OK;
        f.verify_depth = 0;
    } else {
        f.verify_error = X509_STORE_CTX_get_error(v);
        f.verify_depth = X509_STORE_CTX_get_error_depth(v);
    }
    X509_STORE_CTX_free(v);
    sk_X509_free(untrusted);
    return f;
}

/* ---- chains through the caches ------------------------------------------ */

static unsigned mismatches, reparsed, builds;

static void check(struct x509_ctx *ctx, X509_STORE *store, const struct der **ds, size_t n,
                  enum x509_purpose purpose, const char *sni, time_t t, bool seen, struct stats *st)
{
    struct tls_cert_list list;
    X509 *xs[TLS_CERTMSG_MAX_CERTS];
    memset(&list, 0, sizeof list);
    for (size_t i = 0; i < n; i++) {
        list.certs[i].der = ds[i]->p;
        list.certs[i].len = ds[i]->n;
        xs[i] = ds[i]->x;
    }
    list.n_certs = list.total_certs = n;
    struct x509_chain c;
    uint64_t parsed = st->certs_parsed;
    x509_chain_build(ctx, &list, purpose, true, (const uint8_t *)sni, strlen(sni),
                     (uint64_t)t * 1000000 + 999999, &c, st);
    struct facts f = oracle(store, xs, n, purpose, sni, strlen(sni), t);
    builds++;
    if (seen && st->certs_parsed != parsed)
        reparsed++;
    if (c.n != n || c.linked != f.linked || c.leaf_shares_issuer_key != f.shares ||
        c.validity_days != f.validity_days || c.not_before_age_s != f.age ||
        c.sni_match != f.sni_match || !c.has_sni || c.verify_error != f.verify_error ||
        c.verify_depth != f.verify_depth) {
        mismatches++;
        fprintf(stderr, "mismatch: n=%zu sni=%.40s t=%lld linked %d/%d shares %d/%d days %lld/%lld "
                "age %lld/%lld sni %d/%d verify %d/%d depth %d/%d\n", n, sni, (long long)t,
                c.linked, f.linked, c.leaf_shares_issuer_key, f.shares,
                (long long)c.validity_days, (long long)f.validity_days,
                (long long)c.not_before_age_s, (long long)f.age, c.sni_match, f.sni_match,
                c.verify_error, f.verify_error, c.verify_depth, f.verify_depth);
    }
    x509_chain_release(ctx, &c);
}

static void test_chain_cache(void)
{
    EVP_PKEY *kca = p256_key(), *kleaf = p256_key(), *kother = p256_key();
    test_cond("keys", kca && kleaf && kother);
    if (!kca || !kleaf || !kother)
        return;
    struct der ca = make("Chain Test CA", "Chain Test CA", kca, kca, "20240101000000Z",
                         "20340101000000Z", NULL, true, 1);
    struct der leaf = make("www.pinscope.test", "Chain Test CA", kleaf, kca, "20250101000000Z",
                           "20270101120000Z", "DNS:www.pinscope.test,DNS:*.wild.pinscope.test",
                           false, 2);
    struct der same = make("same.pinscope.test", "Chain Test CA", kca, kca, "20250301000000Z",
                           "20260301000000Z", "DNS:same.pinscope.test", false, 3);
    struct der other = make("other.pinscope.test", "Other CA", kother, kother,
                            "20250101000000Z", "20251231235959Z", "DNS:other.pinscope.test",
                            false, 4);
    test_cond("certificates made", ca.p && leaf.p && same.p && other.p);
    X509_STORE *store = X509_STORE_new();
    X509_STORE_add_cert(store, ca.x);

    char long_sni[200];
    memset(long_sni, 'a', sizeof long_sni - 1);
    memcpy(long_sni + sizeof long_sni - 20, ".wild.pinscope.test", 20);
    const char *snis[] = { "www.pinscope.test", "www.pinscope.test", "WWW.PINSCOPE.TEST",
                           "x.wild.pinscope.test", "nope.pinscope.test", "same.pinscope.test",
                           long_sni, "www.pinscope.test" };
    const time_t times[] = {
        1704067200 - 86400,   /* before the CA: not yet valid */
        1735689600 - 1,       /* one second before the leaf */
        1735689600,           /* the leaf's notBefore */
        1760000000,           /* 2025-10: all valid */
        1767225599,           /* other's last second */
        1767225600,           /* other expired */
        1772323200,           /* same's notAfter */
        1772323201,           /* same expired */
        1798804800,           /* leaf's notAfter */
        1798804801,           /* leaf expired */
        1760000000,           /* back: valid again */
    };
    const struct der *chains[][3] = {
        { &leaf, &ca, NULL }, { &same, &ca, NULL }, { &leaf, NULL, NULL }, { &ca, &leaf, NULL },
        { &other, &ca, NULL }, { &other, NULL, NULL }, { &leaf, &ca, &same }, { &ca, NULL, NULL },
    };
    const size_t n_chains = sizeof chains / sizeof chains[0];

    for (int pass = 0; pass < 2; pass++) {
        struct stats st;
        memset(&st, 0, sizeof st);
        struct x509_ctx_config xc = { .store = store, .cert_cache_max = 64,
                                      .verify_cache_size = pass ? 1 : 4096 };
        char err[256];
        struct x509_ctx *ctx = x509_ctx_new(&xc, err, sizeof err);
        test_cond("context", ctx != NULL);
        if (!ctx)
            break;
        mismatches = reparsed = builds = 0;
        bool seen[sizeof chains / sizeof chains[0]] = { false };
        for (int round = 0; round < 3; round++)
            for (size_t ti = 0; ti < sizeof times / sizeof times[0]; ti++)
                for (size_t ci = 0; ci < n_chains; ci++)
                    for (size_t si = 0; si < sizeof snis / sizeof snis[0]; si++) {
                        size_t n = chains[ci][2] ? 3 : chains[ci][1] ? 2 : 1;
                        enum x509_purpose p = (si + ci + ti) % 3 == 0 ? X509_PURPOSE_CLIENT_CHAIN
                                                                    : X509_PURPOSE_SERVER_CHAIN;
                        check(ctx, store, chains[ci], n, p, snis[si], times[ti], seen[ci], &st);
                        seen[ci] = true;
                    }
        char what[128];
        snprintf(what, sizeof what, "%u chain builds (%s) equal OpenSSL's own answers", builds,
                 pass ? "one chain slot" : "4096 chain slots");
        test_cond(what, mismatches == 0);
        test_cond("a chain seen before decodes nothing again", reparsed == 0);
        test_cond("each certificate decoded once", st.certs_parsed == 4);
        x509_ctx_free(ctx);
    }
    X509_STORE_free(store);
    struct der *all[] = { &ca, &leaf, &same, &other };
    for (size_t i = 0; i < 4; i++) {
        free(all[i]->p);
        X509_free(all[i]->x);
    }
    EVP_PKEY_free(kca);
    EVP_PKEY_free(kleaf);
    EVP_PKEY_free(kother);
}

/* ---- the bucket bound ----------------------------------------------------- */

#define N_COLLIDING (CFG_X509_BUCKET_MAX + 8)

static void test_bucket_bound(void)
{
    EVP_PKEY *k = p256_key();
    struct der base = make("bucket.pinscope.test", "bucket.pinscope.test", k, k,
                           "20250101000000Z", "20260101000000Z", NULL, false,
                           0x11223344556677L);
    test_cond("bucket certificate made", base.p != NULL);
    if (!base.p)
        return;
    /* The serial's last three bytes: 02 07 11 22 33 44 55 66 77. */
    static const uint8_t serial[] = { 0x02, 0x07, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 };
    uint8_t *at = memmem(base.p, base.n, serial, sizeof serial);
    test_cond("serial found", at != NULL);
    if (!at)
        return;
    size_t off = (size_t)(at - base.p) + sizeof serial - 3;
    struct hash_key key = { 0x0123456789abcdefULL, 0x0fedcba987654321ULL };
    uint64_t want = hash_fast(&key, base.p, base.n) & (X509_CACHE_BUCKETS - 1);

    /* DER variants that land in the same bucket (about one in 4096). */
    static uint8_t ders[N_COLLIDING + 1][1024];
    size_t found = 0;
    test_cond("certificate small enough", base.n <= sizeof ders[0]);
    for (uint32_t v = 0; v < (1u << 24) && found < N_COLLIDING + 1 && base.n <= sizeof ders[0]; v++) {
        base.p[off] = (uint8_t)(v >> 16);
        base.p[off + 1] = (uint8_t)(v >> 8);
        base.p[off + 2] = (uint8_t)v;
        if ((hash_fast(&key, base.p, base.n) & (X509_CACHE_BUCKETS - 1)) == want)
            memcpy(ders[found++], base.p, base.n);
    }
    test_cond("colliding certificates found", found == N_COLLIDING + 1);
    if (found != N_COLLIDING + 1)
        return;

    struct stats st;
    memset(&st, 0, sizeof st);
    char err[256];
    X509_STORE *store = X509_STORE_new();
    struct x509_ctx_config xc = { .store = store, .cert_cache_max = 1024,
                                  .verify_cache_size = 16, .cache_key = &key };
    struct x509_ctx *ctx = x509_ctx_new(&xc, err, sizeof err);
    test_cond("context", ctx != NULL);
    if (!ctx)
        return;
    static struct x509_chain held[N_COLLIDING];
    bool all_one = true;
    for (size_t i = 0; i < N_COLLIDING; i++) {
        struct tls_cert_list list;
        memset(&list, 0, sizeof list);
        list.n_certs = list.total_certs = 1;
        list.certs[0].der = ders[i];
        list.certs[0].len = base.n;
        x509_chain_build(ctx, &list, X509_PURPOSE_SERVER_CHAIN, false, NULL, 0,
                         1760000000000000ULL, &held[i], &st);
        all_one = all_one && held[i].n == 1 &&
                  memcmp(held[i].e[0]->der, ders[i], base.n) == 0;
    }
    test_cond("every colliding certificate serves its chain", all_one);
    test_cond("certificates beyond the bucket bound are counted",
              st.caps[STATS_X509_CACHE_BUCKET] == N_COLLIDING - CFG_X509_BUCKET_MAX);
    test_cond("each decoded once", st.certs_parsed == N_COLLIDING);

    /* Held ones are found again without decoding; uncached ones are not. */
    uint64_t parsed = st.certs_parsed;
    struct x509_chain again;
    struct tls_cert_list list;
    memset(&list, 0, sizeof list);
    list.n_certs = list.total_certs = 1;
    list.certs[0].der = ders[0];
    list.certs[0].len = base.n;
    x509_chain_build(ctx, &list, X509_PURPOSE_SERVER_CHAIN, false, NULL, 0, 1760000000000000ULL,
                     &again, &st);
    test_cond("a cached colliding certificate is found", again.n == 1 &&
                                                             again.e[0] == held[0].e[0] &&
                                                             st.certs_parsed == parsed);
    x509_chain_release(ctx, &again);

    for (size_t i = 0; i < N_COLLIDING; i++)
        x509_chain_release(ctx, &held[i]);
    /* A full bucket of unused certificates makes room for a new one. */
    uint64_t caps = st.caps[STATS_X509_CACHE_BUCKET];
    list.certs[0].der = ders[N_COLLIDING];
    x509_chain_build(ctx, &list, X509_PURPOSE_SERVER_CHAIN, false, NULL, 0, 1760000000000000ULL,
                     &again, &st);
    test_cond("an unused certificate gives way", again.n == 1 &&
                                                     st.caps[STATS_X509_CACHE_BUCKET] == caps);
    x509_chain_release(ctx, &again);
    parsed = st.certs_parsed;
    x509_chain_build(ctx, &list, X509_PURPOSE_SERVER_CHAIN, false, NULL, 0, 1760000000000000ULL,
                     &again, &st);
    test_cond("and is cached", again.n == 1 && st.certs_parsed == parsed);
    x509_chain_release(ctx, &again);

    x509_ctx_free(ctx);
    X509_STORE_free(store);
    free(base.p);
    X509_free(base.x);
    EVP_PKEY_free(k);
}

/* ---- objects let go ------------------------------------------------------ */

/* n leaves hostI.<label>.test (SAN the same), keys `kleaf`, issued by
 * `issuer` with `kca`, serials 2.. ; false if one was not made. */
static bool make_leaves(struct der *out, size_t n, const char *label, const char *issuer,
                        EVP_PKEY *kleaf, EVP_PKEY *kca)
{
    bool made = true;
    for (size_t i = 0; i < n; i++) {
        char cn[64], san[80];
        snprintf(cn, sizeof cn, "host%zu.%s.test", i, label);
        snprintf(san, sizeof san, "DNS:%s", cn);
        out[i] = make(cn, issuer, kleaf, kca, "20250101000000Z", "20270101000000Z", san, false,
                      (long)i + 2);
        made = made && out[i].p;
    }
    return made;
}

/* Free what make_leaves() and make() gave, the store and the two keys. */
static void free_made(X509_STORE *store, struct der *leaves, size_t n, struct der *ca,
                      EVP_PKEY *kca, EVP_PKEY *kleaf)
{
    X509_STORE_free(store);
    for (size_t i = 0; leaves && i < n; i++) {
        free(leaves[i].p);
        X509_free(leaves[i].x);
    }
    free(ca->p);
    X509_free(ca->x);
    EVP_PKEY_free(kca);
    EVP_PKEY_free(kleaf);
}

/*
 * More unused certificates than CFG_X509_OBJECTS_KEPT: the oldest give up
 * OpenSSL's object and a later chain of them, whose facts the chain cache
 * no longer holds (one slot), decodes it again: the answers still equal
 * OpenSSL's, and no certificate counts as parsed a second time.
 */
#define N_RELEASED (2 * (CFG_X509_OBJECTS_KEPT + CFG_X509_OBJECTS_SLACK) + 200)

static void test_objects_released(void)
{
    EVP_PKEY *kca = p256_key(), *kleaf = p256_key();
    if (!kca || !kleaf) {
        test_cond("keys", false);
        return;
    }
    struct der ca = make("Release CA", "Release CA", kca, kca, "20240101000000Z",
                         "20340101000000Z", NULL, true, 1);
    struct der *leaves = calloc(N_RELEASED, sizeof *leaves);
    bool made = ca.p && leaves && make_leaves(leaves, N_RELEASED, "release", "Release CA", kleaf, kca);
    test_cond("certificates made", made);
    X509_STORE *store = X509_STORE_new();
    X509_STORE_add_cert(store, ca.x);
    struct stats st;
    memset(&st, 0, sizeof st);
    struct x509_ctx_config xc = { .store = store, .cert_cache_max = N_RELEASED + 16,
                                  .verify_cache_size = 1 };
    char err[256];
    struct x509_ctx *ctx = made ? x509_ctx_new(&xc, err, sizeof err) : NULL;
    test_cond("context", ctx != NULL);
    struct memcap mc;
    memcap_init(&mc, 1u << 30);
    if (ctx)
        x509_ctx_set_memcap(ctx, &mc);
    mismatches = reparsed = builds = 0;
    for (int round = 0; ctx && round < 2; round++) {
        for (size_t i = 0; i < N_RELEASED; i++) {
            const struct der *chain[2] = { &leaves[i], &ca };
            char sni[64];
            snprintf(sni, sizeof sni, round ? "host%zu.release.test" : "other%zu.test", i);
            check(ctx, store, chain, 2, X509_PURPOSE_SERVER_CHAIN, sni,
                  round ? 1760000000 : 1800000000, round > 0, &st);
        }
        /* Every certificate still counted with an object would cost more
         * than N_RELEASED objects' base alone; those let go are not. */
        if (round == 0)
            test_cond("objects let go give their charge back",
                      mc.used > 0 && mc.used < (size_t)N_RELEASED * CFG_X509_OBJECT_BASE);
    }
    char what[128];
    snprintf(what, sizeof what, "%u chains of %d certificates, most let go, equal OpenSSL's", builds,
             N_RELEASED);
    test_cond(what, ctx && mismatches == 0);
    test_cond("a certificate let go is not parsed again", reparsed == 0 &&
                                                          st.certs_parsed == N_RELEASED + 1);
    x509_ctx_free(ctx);
    /* Round 1 decoded objects again (one chain slot: each chain validated
     * anew); all charges, those too, are given back with the context. */
    test_cond("memcap back to zero", mc.used == 0);
    memcap_destroy(&mc);
    free_made(store, leaves, N_RELEASED, &ca, kca, kleaf);
    free(leaves);
}

/*
 * A cache of 4 unused certificates for 120 leaves: nearly every chain
 * evicts one, and the new certificate takes a freed entry (chain.c keeps
 * them for reuse outside sanitizer builds).  Every answer still equals
 * OpenSSL's: nothing of the entry's last certificate survives in it.
 * Leaves with names of three lengths fill different capacity classes.
 */
#define N_CHURN 120

static void test_entries_reused(void)
{
    EVP_PKEY *kca = p256_key(), *kleaf = p256_key();
    if (!kca || !kleaf) {
        test_cond("keys", false);
        return;
    }
    struct der ca = make("Churn CA", "Churn CA", kca, kca, "20240101000000Z", "20340101000000Z",
                         NULL, true, 1);
    /* about 450, 750 and 1,300 bytes of DER: three capacity classes */
    struct der *leaves = calloc(N_CHURN, sizeof *leaves);
    bool made = ca.p && leaves;
    for (size_t i = 0; made && i < N_CHURN; i++) {
        char cn[64], san[1200];
        snprintf(cn, sizeof cn, "churn%zu.test", i);
        int o = snprintf(san, sizeof san, "DNS:%s", cn);
        for (size_t j = 0; j < (i % 3) * 6; j++)
            o += snprintf(san + o, sizeof san - (size_t)o,
                          ",DNS:name%zu.a-label-that-takes-room-in-the-certificate.%s", j, cn);
        leaves[i] = make(cn, "Churn CA", kleaf, kca, "20250101000000Z", "20270101000000Z", san,
                         false, (long)i + 2);
        made = leaves[i].p != NULL;
    }
    made = made && leaves[0].n < 512 && leaves[1].n > 512 && leaves[1].n < 1024 &&
           leaves[2].n > 1024;
    test_cond("certificates made", made);
    X509_STORE *store = X509_STORE_new();
    X509_STORE_add_cert(store, ca.x);
    struct stats st;
    memset(&st, 0, sizeof st);
    struct x509_ctx_config xc = { .store = store, .cert_cache_max = 4, .verify_cache_size = 8 };
    char err[256];
    struct x509_ctx *ctx = made ? x509_ctx_new(&xc, err, sizeof err) : NULL;
    test_cond("context", ctx != NULL);
    mismatches = reparsed = builds = 0;
    for (int round = 0; ctx && round < 3; round++)
        for (size_t i = 0; i < N_CHURN; i++) {
            size_t k = round == 1 ? N_CHURN - 1 - i : i;   /* also backwards */
            const struct der *chain[2] = { &leaves[k], &ca };
            char sni[64];
            snprintf(sni, sizeof sni, "churn%zu.test", round == 2 ? k + 1 : k);
            check(ctx, store, chain, 2, X509_PURPOSE_SERVER_CHAIN, sni, 1760000000, false, &st);
        }
    char what[128];
    snprintf(what, sizeof what, "%u chains through a 4-certificate cache equal OpenSSL's", builds);
    test_cond(what, ctx && builds == 3 * N_CHURN && mismatches == 0);
    test_cond("evicted certificates are parsed again", st.certs_parsed > 2 * N_CHURN);
    x509_ctx_free(ctx);
    free_made(store, leaves, N_CHURN, &ca, kca, kleaf);
    free(leaves);
}

/* Chains of one set share its CFG_X509_VERIFY_WAYS slots, least recently
 * used out first; a partial last set stays inside the slots. */
static void test_chain_sets(void)
{
    enum { N = CFG_X509_VERIFY_WAYS + 1 };
    EVP_PKEY *kca = p256_key(), *kleaf = p256_key();
    if (!kca || !kleaf) {
        test_cond("keys", false);
        return;
    }
    struct der ca = make("Sets CA", "Sets CA", kca, kca, "20240101000000Z", "20340101000000Z",
                         NULL, true, 1);
    struct der leaves[N];
    memset(leaves, 0, sizeof leaves);
    bool made = ca.p && make_leaves(leaves, N, "sets", "Sets CA", kleaf, kca);
    test_cond("certificates made", made);
    X509_STORE *store = X509_STORE_new();
    X509_STORE_add_cert(store, ca.x);
    char err[256];
    for (int partial = 0; made && partial < 2; partial++) {
        struct stats st;
        memset(&st, 0, sizeof st);
        /* One whole set, or one set and a partial one of a single slot. */
        struct x509_ctx_config xc = { .store = store, .cert_cache_max = 64,
                                      .verify_cache_size = CFG_X509_VERIFY_WAYS + partial };
        struct x509_ctx *ctx = x509_ctx_new(&xc, err, sizeof err);
        test_cond("context", ctx != NULL);
        if (!ctx)
            break;
        mismatches = reparsed = builds = 0;
        const char *sni = "host0.sets.test";
        uint64_t v[6];
        for (size_t i = 0; i < N - 1; i++) {   /* fill: one validation each */
            const struct der *chain[2] = { &leaves[i], &ca };
            check(ctx, store, chain, 2, X509_PURPOSE_SERVER_CHAIN, sni, 1760000000, false, &st);
        }
        v[0] = st.chains_validated;
        for (size_t i = 0; i < N - 1; i++) {   /* all found again */
            const struct der *chain[2] = { &leaves[i], &ca };
            check(ctx, store, chain, 2, X509_PURPOSE_SERVER_CHAIN, sni, 1760000000, true, &st);
        }
        v[1] = st.chains_validated;
        for (size_t i = 1; i < N; i++) {       /* 1.. found; the last new: 0 goes */
            const struct der *chain[2] = { &leaves[i], &ca };
            check(ctx, store, chain, 2, X509_PURPOSE_SERVER_CHAIN, sni, 1760000000, i < N - 1,
                  &st);
        }
        v[2] = st.chains_validated;
        {
            const struct der *chain[2] = { &leaves[0], &ca };
            check(ctx, store, chain, 2, X509_PURPOSE_SERVER_CHAIN, sni, 1760000000, true, &st);
        }
        v[3] = st.chains_validated;
        if (!partial) {
            test_cond("a set holds CFG_X509_VERIFY_WAYS chains", v[0] == N - 1 && v[1] == v[0]);
            test_cond("the least recently used chain of a set goes first",
                      v[2] == v[1] + 1 && v[3] == v[2] + 1);
        } else {
            test_cond("a partial set: every answer still OpenSSL's", mismatches == 0);
        }
        test_cond("set chains equal OpenSSL's answers", mismatches == 0);
        x509_ctx_free(ctx);
    }
    free_made(store, leaves, N, &ca, kca, kleaf);
}

int main(void)
{
    test_chain_cache();
    test_bucket_bound();
    test_objects_released();
    test_entries_reused();
    test_chain_sets();
    return test_report();
}
