/*
 * fuzz_policy.c - libFuzzer target for policy/policy.c.
 *
 * The input is a policy file.  It is loaded with policy_load_buffer();
 * when it loads, it is written back, the output is loaded again and
 * written again, and the two outputs must be identical (the writer's
 * round-trip promise).  The reloaded copy then receives a merge of the
 * original, and a fresh policy receives a merge too, with a few learning
 * calls on top, and lookups run against names and addresses derived from
 * the input.  Failure to load is fine; the error line must be one
 * NUL-terminated line.
 *
 * It checks memory safety (ASan/UBSan, leaks with LSan) and the round
 * trip; it does not check which inputs are accepted (test_policy.c does).
 *
 *   clang -std=c11 -g -O1 -D_GNU_SOURCE -Isrc -fsanitize=fuzzer,address,undefined \
 *     tests/fuzz/fuzz_policy.c src/policy/policy.c -lcjson -o fuzz_policy
 *   ./fuzz_policy -max_total_time=60 corpus/
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool cond)
{
    if (!cond)
        abort();
}

/* Write p into a heap string; NULL only on allocation failure. */
static char *dump(const struct policy *p, size_t *len)
{
    char *buf = NULL;
    char err[256];
    FILE *f = open_memstream(&buf, len);
    check(f != NULL);
    int rc = policy_write(p, f, err, sizeof(err));
    fclose(f);
    check(rc == 0);
    return buf;
}

static void lookups(const struct policy *p, const uint8_t *data, size_t size)
{
    static const char *const names[] = {"example.com", "www.example.com", "a.b.c.d.e",
                                        "api.example.com.", "test"};
    uint8_t ip[16] = {0}, spki[POLICY_SPKI_LEN] = {0};
    char raw[301];
    size_t rawlen = size < 300 ? size : 300;
    memcpy(ip, data, size < 16 ? size : 16);
    memcpy(spki, data, size < sizeof(spki) ? size : sizeof(spki));
    memcpy(raw, data, rawlen);
    raw[rawlen] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) + 1; i++) {
        const char *n = i < 5 ? names[i] : raw;
        size_t len = i < 5 ? strlen(n) : rawlen;
        const struct policy_pin_set *ps = policy_find_pinset(p, n, len);
        if (ps) {
            struct policy_pin_result r;
            uint8_t chain[2][POLICY_SPKI_LEN] = {{0}};
            memcpy(chain[0], ip, 16);
            memcpy(chain[1], ps->pins.v[0], POLICY_SPKI_LEN);
            check(policy_pinset_check(ps, chain, 2, 1800000000, &r) == 1 && r.matched);
        }
        const struct policy_issuer_set *is = policy_find_issuers(p, n, len);
        if (is) {
            struct policy_issuer_result r;
            policy_issuer_check(is, "CN=R3,O=Let's Encrypt,C=US", "R3", spki, &r);
            if (is->issuers.n)
                check(policy_issuer_check(is, is->issuers.v[0], is->issuers.v[0], NULL, &r) ==
                      POLICY_ISSUER_MATCH);
        }
        const struct policy_client_baseline *cb[4];
        size_t nc = policy_find_client_baselines(p, ip, (data[0] & 1) ? 6 : 4, n, len, ip, cb, 4);
        for (size_t k = 0; k < nc && k < 4; k++) {
            struct policy_dev d;
            check(policy_client_check(cb[k], "t13d1516h2_8daaf6152771_02713d6af862", n,
                                      "TLS 1.2", "h2", &d) >= 0);
        }
        const struct policy_server_baseline *sb[4];
        size_t ns = policy_find_server_baselines(p, ip, 4, n, len, ip, sb, 4);
        for (size_t k = 0; k < ns && k < 4; k++) {
            struct policy_dev d;
            check(policy_server_check(sb[k], n, NULL, "TLSv1", n, &d) >= 0);
            check(policy_server_keyless_check(sb[k], (int64_t)len * 97, n, (int64_t)len * 1000,
                                              &d) >= 0 &&
                  d.n <= POLICY_DEV_MAX);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    struct policy *p = policy_load_buffer("fuzz.json", (const char *)data, size, err, sizeof(err));
    if (!p) {
        check(strlen(err) < sizeof(err) && strchr(err, '\n') == NULL);
        return 0;
    }
    size_t la = 0, lb = 0;
    char *a = dump(p, &la);
    struct policy *q = policy_load_buffer("rt.json", a, la, err, sizeof(err));
    check(q != NULL);
    char *b = dump(q, &lb);
    check(la == lb && memcmp(a, b, la) == 0);

    struct policy_merge_stats st;
    check(policy_merge(q, p, &st) == 0);
    struct policy *fresh = policy_new();
    check(fresh != NULL);
    check(policy_merge(fresh, p, &st) == 0);
    uint8_t spki[POLICY_SPKI_LEN] = {0};
    memcpy(spki, data, size < sizeof(spki) ? size : sizeof(spki));
    policy_learn_pin(fresh, "example.com", spki, 1800000000);
    policy_learn_issuer(fresh, "www.example.com", "CN=X", spki, 1800000000);
    policy_learn_client(fresh, spki, 6, "t13d1516h2_8daaf6152771_02713d6af862", NULL, "TLS 1.3",
                        "h2", 1800000000);
    policy_learn_server(fresh, "api.example.com", spki, 4, NULL, NULL, "TLS 1.2", "h2",
                        1800000000);
    policy_learn_server_keyless(fresh, "api.example.com", spki, 4, (int64_t)size, "none",
                                (int64_t)size * 1000, 1800000000);
    size_t lc = 0, ld = 0;
    char *c = dump(q, &lc);
    char *d = dump(fresh, &ld);
    struct policy *r = policy_load_buffer("merged.json", c, lc, err, sizeof(err));
    check(r != NULL);
    struct policy *r2 = policy_load_buffer("learned.json", d, ld, err, sizeof(err));
    check(r2 != NULL);

    lookups(p, data, size);
    lookups(q, data, size);

    policy_free(r2);
    policy_free(r);
    free(d);
    free(c);
    policy_free(fresh);
    free(b);
    free(a);
    policy_free(q);
    policy_free(p);
    return 0;
}
