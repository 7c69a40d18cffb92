/*
 * test_detect.c - unit tests for policy/detect.c on hand-built connection
 * facts: the detections that need a public server name, a given trust
 * store or a listed fingerprint (the others are exercised end to end on
 * captures by tests/scripts/check_detect.py).  Each has a positive and a
 * negative case.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "detect/answers.h"
#include "policy/detect.h"
#include "policy/sigdb.h"
#include "testhelp.h"

static struct stats st;

static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

/* A one-certificate chain from a DER test file, checked at `ts_us`. */
static bool chain_from(struct x509_ctx *x, const char *path, const char *sni, uint64_t ts_us,
                       struct x509_chain *out)
{
    static uint8_t der[16384];
    size_t n = read_file(path, der, sizeof(der));
    if (n == 0)
        return false;
    struct tls_cert_list list = { .n_certs = 1, .total_certs = 1 };
    list.certs[0].der = der;
    list.certs[0].len = n;
    x509_chain_build(x, &list, X509_PURPOSE_SERVER_CHAIN, true, (const uint8_t *)sni, strlen(sni),
                     ts_us, out, &st);
    return out->n == 1;
}

static bool has(const struct detect_alert *a, size_t n, uint32_t sid)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].sid == sid)
            return true;
    return false;
}

static size_t run(struct detect *d, const char *sni, const struct x509_chain *chain,
                  const struct tls_session *t, const char *ja3, const char *ja4,
                  struct detect_alert *out)
{
    static uint8_t cip[4] = { 198, 18, 0, 1 }, sip[4] = { 198, 18, 0, 2 };
    static uint64_t flow = 1;
    struct detect_conn c = {
        .flow_id = flow++, .ts_us = 1790000000000000ULL, .ip_ver = 4,
        .client_ip = cip, .server_ip = sip, .client_port = 40000, .server_port = 443,
        .sni = sni, .ja3 = ja3, .ja4 = ja4, .tls = t, .chain = chain,
    };
    return detect_run(d, &c, out, DETECT_MAX_ALERTS);
}

int main(void)
{
    char err[512];
    test_cond("public-looking names", detect_public_looking("www.github.com") &&
                                          detect_public_looking("a.b.co.uk"));
    test_cond("private and special names", !detect_public_looking("www.pinscope.test") &&
                                               !detect_public_looking("localhost") &&
                                               !detect_public_looking("intranet") &&
                                               !detect_public_looking("198.18.0.1") &&
                                               !detect_public_looking("www.example.com") &&
                                               !detect_public_looking("host.corp") &&
                                               !detect_public_looking(NULL));

    struct sigdb *sigs = sigdb_load("signatures", err, sizeof(err));
    test_cond("signatures load", sigs != NULL);
    char empty_dir[] = "/tmp/pinscope-empty-ca.XXXXXX";   /* a trust store with nothing */
    test_cond("empty CA directory", mkdtemp(empty_dir) != NULL);
    struct x509_ctx_config xc = { .ca_path = empty_dir,
                                  .cert_cache_max = 16, .verify_cache_size = 16 };
    struct x509_ctx *x = x509_ctx_new(&xc, err, sizeof(err));
    test_cond("empty trust store", x != NULL);
    rmdir(empty_dir);
    struct detect *d = detect_new(NULL, sigs);
    if (!sigs || !x || !d)
        return test_report();

    struct tls_session t;
    tls_session_init(&t);
    t.version = 0x0303;
    struct detect_alert a[DETECT_MAX_ALERTS];
    struct x509_chain self, ms;
    const uint64_t now = 1790000000000000ULL;   /* 2026-09 */

    /* A self-signed leaf for a public name, without SCTs: it neither
     * validates nor carries SCTs. */
    test_cond("self-signed leaf parsed",
              chain_from(x, "tests/unit/data/x509/nosct_selfsigned_leaf.der", "www.github.com", now,
                         &self));
    size_t n = run(d, "www.github.com", &self, &t, NULL, NULL, a);
    test_cond("untrusted chain for a public name fires", has(a, n, DETECT_SID_UNTRUSTED_PUBLIC_NAME));
    test_cond("missing SCTs fire", has(a, n, DETECT_SID_NO_SCTS));
    n = run(d, "shop.pinscope.test", &self, &t, NULL, NULL, a);
    test_cond("private name: no untrusted-chain alert", !has(a, n, DETECT_SID_UNTRUSTED_PUBLIC_NAME));
    test_cond("private name: no SCT alert", !has(a, n, DETECT_SID_NO_SCTS));

    /* A public leaf with embedded SCTs (from the corpus' browser capture). */
    test_cond("public leaf parsed",
              chain_from(x, "tests/unit/data/x509/browsers_ms_oids.der", "edge.microsoft.com",
                         1690000000000000ULL, &ms));
    n = run(d, "edge.microsoft.com", &ms, &t, NULL, NULL, a);
    test_cond("leaf with SCTs: no SCT alert", !has(a, n, DETECT_SID_NO_SCTS));

    /* Known fingerprints. */
    n = run(d, "a.pinscope.test", NULL, &t, "c3ca411515180e79c765dc2c3c8cea88", NULL, a);
    test_cond("known interceptor JA3 fires", has(a, n, DETECT_SID_KNOWN_INTERCEPTOR_FP));
    n = run(d, "a.pinscope.test", NULL, &t, NULL, "t13d1516h2_8daaf6152771_02713d6af862", a);
    test_cond("browser JA4 stays quiet", !has(a, n, DETECT_SID_KNOWN_INTERCEPTOR_FP));
    struct detect_conn probe = { .ja4 = "t13d1516h2_8daaf6152771_02713d6af862", .tls = &t };
    const char *app = detect_client_app(d, &probe);
    test_cond("client_app names the browser", app && strstr(app, "Chrom") != NULL);

    /* More JA4s and JA3s than the memo holds, in turn: each answer is the
     * database's (listed JA4s, unlisted ones falling back to a listed or
     * an unlisted JA3). */
    {
        const char *ja4s[12], *ja3s[3] = { "c3ca411515180e79c765dc2c3c8cea88",
                                           "00000000000000000000000000000000", NULL };
        static char unlisted[4][40];
        size_t nj = 0;
        static const char *const listed[8] = {
            "t13i181000_85036bcba153_d41ae481755e",
            "t13d1517h2_8daaf6152771_b0da82dd1658",
            "t13i1516h2_8daaf6152771_b1ff8ab2d16f",
            "t13d190900_9dc949149365_97f8aa674fd9",
            "t12i190700_d83cc789557e_16bbda4055b2",
            "t13d1412h2_e33ad33b3d25_6b314db333b6",
            "t12d350600_9d4c96c0953b_0a9c83bf8b96",
            "t12d1208h2_0cf722e5493e_34e421c2ef05",
        };
        for (; nj < 8; nj++)
            ja4s[nj] = listed[nj];
        for (int i = 0; i < 4; i++) {
            snprintf(unlisted[i], sizeof unlisted[i], "t13d99%02dh2_000000000000_00000000000%d", i, i);
            ja4s[nj++] = unlisted[i];
        }
        size_t bad = 0;
        for (int round = 0; round < 5; round++)
            for (size_t i = 0; i < nj; i++)
                for (int k = 0; k < 3; k++) {
                    struct detect_conn pc = { .ja4 = ja4s[(i * 5 + (size_t)round) % nj],
                                              .ja3 = ja3s[k], .tls = &t };
                    const struct sig_fp *want[8];
                    size_t wn = sigdb_find_fingerprint(sigs, SIG_FP_JA4, pc.ja4, want, 8);
                    if (wn == 0 && pc.ja3)
                        wn = sigdb_find_fingerprint(sigs, SIG_FP_JA3, pc.ja3, want, 8);
                    const char *wapp = NULL;
                    for (size_t w = 0; w < wn && w < 8 && !wapp; w++)
                        if (want[w]->kind == SIG_KIND_KNOWN_GOOD)
                            wapp = want[w]->application;
                    if (!wapp && wn)
                        wapp = want[0]->application;
                    const char *got = detect_client_app(d, &pc);
                    if (got != wapp)
                        bad++;
                }
        test_cond("client_app from the fingerprint memo: as the database answers", bad == 0 && nj == 12);
    }

    /* TLS 1.3 without keys: an alert-sized record instead of the Finished. */
    struct tls_session t13;
    tls_session_init(&t13);
    t13.version = 0x0304;
    t13.client_aborted_tls13 = true;
    n = run(d, "a.pinscope.test", NULL, &t13, NULL, NULL, a);
    test_cond("TLS 1.3 abort fires", has(a, n, DETECT_SID_CLIENT_ABORTED_TLS13));
    t13.client_aborted_tls13 = false;
    n = run(d, "a.pinscope.test", NULL, &t13, NULL, NULL, a);
    test_cond("TLS 1.3 completed stays quiet", !has(a, n, DETECT_SID_CLIENT_ABORTED_TLS13));

    /* ECH offered, then the client's ech_required (decrypted with keys). */
    struct tls_session te;
    tls_session_init(&te);
    te.version = 0x0304;
    te.n_alerts = 1;
    te.alerts[0] = (struct tls_alert){ .from_client = 1, .decrypted = 1, .level = 2,
                                       .description = 121 };
    static uint8_t cip[4] = { 198, 18, 0, 1 }, sip[4] = { 198, 18, 0, 2 };
    struct detect_conn ce = { .flow_id = 99, .ts_us = now, .ip_ver = 4, .client_ip = cip,
                              .server_ip = sip, .sni = "a.pinscope.test", .tls = &te,
                              .ech_offered = true };
    n = detect_run(d, &ce, a, DETECT_MAX_ALERTS);
    test_cond("ech_required after offering ECH fires", has(a, n, DETECT_SID_ECH_REQUIRED));
    ce.ech_offered = false;
    n = detect_run(d, &ce, a, DETECT_MAX_ALERTS);
    test_cond("ech_required without ECH offered stays quiet", !has(a, n, DETECT_SID_ECH_REQUIRED));
    ce.ech_offered = true;
    te.alerts[0].description = 40;
    n = detect_run(d, &ce, a, DETECT_MAX_ALERTS);
    test_cond("another alert after ECH stays quiet", !has(a, n, DETECT_SID_ECH_REQUIRED));

    /* One name, two answers to one kind of client (no policy). */
    test_cond("flights apart: 2243 vs 3305", answers_flights_apart(2243, 3305));
    test_cond("flights near: 2243 vs 2499 (gap 256)", !answers_flights_apart(2243, 2499));
    test_cond("flights near: 2243 vs 2500 (gap 257, under a fifth)", !answers_flights_apart(2243, 2500));
    test_cond("flights apart: 1000 vs 1300", answers_flights_apart(1300, 1000));
    struct detect *d2 = detect_new(NULL, NULL);
    struct tls_session tk;
    tls_session_init(&tk);
    tk.version = 0x0304;
    static uint8_t c1[4] = { 198, 18, 0, 1 }, c2[4] = { 198, 18, 0, 9 }, s1[4] = { 198, 18, 0, 6 };
    struct detect_conn k1 = { .flow_id = 1, .ts_us = now, .ip_ver = 4, .client_ip = c1,
                              .server_ip = s1, .sni = "www.pinscope.test", .tls = &tk,
                              .ja4 = "t13d0412h2_16476d049b0b_85302d7e289e",
                              .has_flight_bytes = true, .flight_bytes = 2243,
                              .hello_retry = "none" };
    struct detect_conn k2 = k1;
    k2.flow_id = 2;
    n = detect_run(d2, &k1, a, DETECT_MAX_ALERTS);
    test_cond("first answer: nothing to compare", !has(a, n, DETECT_SID_TWO_ANSWERS));
    n = detect_run(d2, &k2, a, DETECT_MAX_ALERTS);
    test_cond("same client again, same answer: quiet", !has(a, n, DETECT_SID_TWO_ANSWERS));
    k2.flow_id = 3;
    k2.client_ip = c2;
    k2.flight_bytes = 2260;
    n = detect_run(d2, &k2, a, DETECT_MAX_ALERTS);
    test_cond("another client, a flight a few bytes off: quiet", !has(a, n, DETECT_SID_TWO_ANSWERS));
    k2.flow_id = 4;
    k2.flight_bytes = 3305;
    k2.ja4 = "t13d1516h2_8daaf6152771_02713d6af862";
    n = detect_run(d2, &k2, a, DETECT_MAX_ALERTS);
    test_cond("another kind of client, another flight: quiet", !has(a, n, DETECT_SID_TWO_ANSWERS));
    {
        /* The ring by bucket: the lowest slot answers, overwritten answers
         * leave their bucket. */
        static uint8_t c3[4] = { 198, 18, 0, 10 };
        struct answers *ans = answers_new();
        struct answer_match am;
        struct detect_conn r = k1;
        r.ja4 = k1.ja4;
        r.client_ip = c1;
        test_cond("ring: first answer", !answers_match_and_remember(ans, &r, &am));
        r.flow_id = 2;
        r.client_ip = c3;
        test_cond("ring: same flight from another client", !answers_match_and_remember(ans, &r, &am));
        r.flow_id = 3;
        r.client_ip = c2;
        r.flight_bytes = 3305;
        test_cond("ring: a third client answered apart matches the oldest",
                  answers_match_and_remember(ans, &r, &am) && am.other.flow_id == 1 &&
                      am.flight_apart && !am.hrr_differs);
        char names[DETECT_ANSWERS_MAX][32];
        struct detect_conn f = r;
        for (int i = 0; i < DETECT_ANSWERS_MAX - 1; i++) {
            snprintf(names[i], sizeof names[i], "n%d.pinscope.test", i);
            f.sni = names[i];
            f.flow_id = 100 + (uint64_t)i;
            answers_match_and_remember(ans, &f, &am);
        }
        r.flow_id = 5;
        r.client_ip = c1;
        r.flight_bytes = 2243;
        test_cond("ring: overwritten answers are gone, the one left matches",
                  answers_match_and_remember(ans, &r, &am) && am.other.flow_id == 3);
        for (int i = 0; i < DETECT_ANSWERS_MAX; i++) {
            f.sni = names[i % (DETECT_ANSWERS_MAX - 1)];
            answers_match_and_remember(ans, &f, &am);
        }
        r.flow_id = 6;
        r.client_ip = c2;
        r.flight_bytes = 3305;
        test_cond("ring: a full turn later nothing is left",
                  !answers_match_and_remember(ans, &r, &am));
        answers_free(ans);
    }
    struct detect *d3 = detect_new(NULL, NULL);
    k2.flow_id = 5;
    k2.ja4 = k1.ja4;
    k2.client_ip = c1;
    detect_run(d3, &k1, a, DETECT_MAX_ALERTS);
    n = detect_run(d3, &k2, a, DETECT_MAX_ALERTS);
    test_cond("the same client answered two ways: quiet (one host, e.g. a local proxy "
              "turned on)", !has(a, n, DETECT_SID_TWO_ANSWERS));
    detect_free(d3);
    k2.flow_id = 6;
    k2.client_ip = c2;
    n = detect_run(d2, &k2, a, DETECT_MAX_ALERTS);
    test_cond("another client, the same offer, a flight far apart: fires",
              has(a, n, DETECT_SID_TWO_ANSWERS));
    k2.flow_id = 7;
    k2.has_flight_bytes = false;
    k2.hello_retry = "secp256r1";
    n = detect_run(d2, &k2, a, DETECT_MAX_ALERTS);
    test_cond("a HelloRetryRequest only one client got: fires", has(a, n, DETECT_SID_TWO_ANSWERS));
    k2.flow_id = 8;
    k2.ts_us = now + (uint64_t)(DETECT_ANSWERS_WINDOW_S + 1) * 1000000 * 2;
    k2.client_ip = c1;
    n = detect_run(d2, &k2, a, DETECT_MAX_ALERTS);
    test_cond("outside the window: quiet", !has(a, n, DETECT_SID_TWO_ANSWERS));
    detect_free(d2);

    x509_chain_release(x, &self);
    x509_chain_release(x, &ms);
    detect_free(d);
    x509_ctx_free(x);
    sigdb_free(sigs);
    return test_report();
}
