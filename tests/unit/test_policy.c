/*
 * test_policy.c - unit tests for src/policy/policy.c.
 *
 * Loads a complete example policy from a temporary file and exercises every
 * lookup and check (domain rules, expiry, the "sha256/" prefix, IPv4 and
 * IPv6 CIDR matching, DN/CN/pin issuer matching, baseline deviations),
 * the write -> load round trip, learning, merging into a hand-written
 * policy, and a table of broken files, each of which must fail with the
 * exact file/entry/reason line.  Pins are base64 of SHA-256("k1".."k6"),
 * computed outside this code, so the decoder is checked against an
 * independent encoder.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/policy.h"
#include "testhelp.h"

#define PIN1 "arnx6499M4j0+dWG9m6Z/VQIDfLERvDlhmiwnAihbdA="
#define PIN2 "AV9+a8Wur0g3JAieklLME7UJUaa2lBJSJ2XP9NeAMG4="
#define PIN3 "L1BSyf0VsZoYxYTQE2NWgZhhPww06EQJ73k4cJoVnsI="
#define PIN4 "lAkd1koh/+lCFLxtF97rQ4c6XPLwpxtLXKqaXIG2ln0="
#define PIN5 "iNv2EpcsWUosL23eST7xxM0nrbqMNubr0AuJ/xQ6umE="
#define HEX1 "6ab9f1eb8f7d3388f4f9d586f66e99fd54080df2c446f0e58668b09c08a16dd0"
#define HEX2 "015f7e6bc5aeaf483724089e9252cc13b50951a6b69412522765cff4d780306e"
#define HEX3 "2f5052c9fd15b19a18c584d01363568198613f0c34e84409ef7938709a159ec2"
#define HEX4 "94091dd64a21ffe94214bc6d17deeb43873a5cf2f0a71b4b5caa9a5c81b6967d"
#define HEX5 "88dbf612972c594a2c2f6dde493ef1c4cd27adba8c36e6ebd00b89ff143aba61"
#define HEX6 "1d92ad4b6987fa0347cc5d2fb6cf9e47c83f4f6caeb3b5ef6f629730528921c3"

#define JA4A "t13d1516h2_8daaf6152771_02713d6af862"
#define JA4B "t13d1517h2_8daaf6152771_b0da82dd1658"
#define JA4SA "t130200_1301_234ea6891581"
#define JA3A "e7d705a3286e19ea42f587b344ee6865"
#define JA3B "cd08e31494f9531f560d64c695473da9"

static const char *const example =
    "{\n"
    "  \"version\": 1,\n"
    "  \"comment\": \"test policy\",\n"
    "  \"pin_sets\": [\n"
    "    { \"domain\": \"Example.COM.\", \"include_subdomains\": true,\n"
    "      \"pins\": [\"sha256/" PIN1 "\", \"" PIN2 "\"],\n"
    "      \"backup_pins\": [\"" PIN3 "\"],\n"
    "      \"expires\": \"2027-06-30\", \"comment\": \"corporate\" },\n"
    "    { \"domain\": \"api.example.com\", \"pins\": [\"" PIN4 "\"] },\n"
    "    { \"domain\": \"plain.test\", \"include_subdomains\": false, \"pins\": [\"" PIN5 "\"] }\n"
    "  ],\n"
    "  \"expected_issuers\": [\n"
    "    { \"domain\": \"example.com\", \"include_subdomains\": true,\n"
    "      \"issuers\": [\"CN=R3,O=Let's Encrypt,C=US\", \"E1\"],\n"
    "      \"issuer_pins\": [\"" PIN5 "\"] },\n"
    "    { \"domain\": \"pinonly.test\", \"issuer_pins\": [\"" PIN5 "\"] }\n"
    "  ],\n"
    "  \"client_baselines\": [\n"
    "    { \"name\": \"finance-laptops\",\n"
    "      \"match\": { \"client_subnets\": [\"198.18.0.0/24\", \"2001:db8::/32\"],\n"
    "                 \"sni\": [\"*.example.com\", \"api.example.org\"],\n"
    "                 \"server_addresses\": [\"198.18.1.10\", \"2001:db8:1::10\"] },\n"
    "      \"ja4\": [\"" JA4A "\"], \"ja3\": [\"" JA3A "\"],\n"
    "      \"tls_versions\": [\"TLS 1.3\", \"TLS 1.0\"], \"alpn\": [\"h2\", \"http/1.1\"],\n"
    "      \"comment\": \"laptops\" },\n"
    "    { \"name\": \"everyone\", \"tls_versions\": [\"TLS 1.2\", \"TLS 1.3\"] }\n"
    "  ],\n"
    "  \"server_baselines\": [\n"
    "    { \"name\": \"api\", \"match\": { \"sni\": [\"api.example.com\"], \"server_addresses\": "
    "[\"198.18.1.10\"] },\n"
    "      \"ja4s\": [\"" JA4SA "\"], \"ja3s\": [\"" JA3B "\"],\n"
    "      \"min_tls_version\": \"TLS 1.2\", \"alpn\": [\"h2\"], \"comment\": \"api\" }\n"
    "  ]\n"
    "}\n";

static void hex_to(const char *hex, uint8_t out[32])
{
    for (int i = 0; i < 32; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

static char tmpdir[64];

static char *write_tmp(const char *name, const char *text)
{
    static char path[128];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    fputs(text, f);
    fclose(f);
    return path;
}

/* Serialise p into a heap string (caller frees). */
static char *write_str(const struct policy *p)
{
    char *buf = NULL, err[256];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    int rc = policy_write(p, f, err, sizeof(err));
    fclose(f);
    if (rc < 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static struct policy *load_str(const char *text, char *err, size_t errlen)
{
    return policy_load_buffer("mem.json", text, strlen(text), err, errlen);
}

static const uint8_t v4_client[4] = {198, 18, 0, 77};
static const uint8_t v4_other[4] = {198, 18, 9, 77};
static const uint8_t v4_server[4] = {198, 18, 1, 10};
static const uint8_t v6_client[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t v6_out[16] = {0x20, 0x01, 0x0d, 0xb9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t v6_server[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};

static void test_domains(const struct policy *p)
{
    const struct policy_pin_set *root = policy_find_pinset(p, "example.com", 11);
    test_cond("exact domain found", root && strcmp(root->domain, "example.com") == 0);
    test_cond("domain normalised (case, trailing dot)", root && root->include_subdomains);
    test_cond("lookup ignores case", policy_find_pinset(p, "EXAMPLE.com", 11) == root);
    test_cond("lookup ignores one trailing dot", policy_find_pinset(p, "example.com.", 12) == root);
    test_cond("subdomain via include_subdomains",
              policy_find_pinset(p, "www.example.com", 15) == root);
    test_cond("deep subdomain", policy_find_pinset(p, "a.b.c.example.com", 17) == root);
    const struct policy_pin_set *api = policy_find_pinset(p, "api.example.com", 15);
    test_cond("exact beats parent", api && api != root && strcmp(api->domain, "api.example.com") == 0);
    test_cond("below a set without include_subdomains -> parent",
              policy_find_pinset(p, "v1.api.example.com", 18) == root);
    test_cond("not a suffix at a label boundary",
              policy_find_pinset(p, "badexample.com", 14) == NULL);
    test_cond("include_subdomains false: only exact",
              policy_find_pinset(p, "plain.test", 10) && !policy_find_pinset(p, "x.plain.test", 12));
    test_cond("unrelated name", policy_find_pinset(p, "example.org", 11) == NULL);
    test_cond("empty sni", policy_find_pinset(p, "", 0) == NULL);
    test_cond("invalid sni bytes", policy_find_pinset(p, "exa\0mple.com", 12) == NULL);
    test_cond("IP literal sni", policy_find_pinset(p, "198.18.1.10", 11) == NULL);
    test_cond("len limits the name (no NUL needed)",
              policy_find_pinset(p, "example.comXYZ", 11) == root);
    test_cond("two trailing dots do not match", policy_find_pinset(p, "example.com..", 13) == NULL);
}

static void test_pins(const struct policy *p)
{
    const struct policy_pin_set *root = policy_find_pinset(p, "example.com", 11);
    uint8_t h[6][32];
    hex_to(HEX1, h[0]);
    hex_to(HEX2, h[1]);
    hex_to(HEX3, h[2]);
    hex_to(HEX4, h[3]);
    hex_to(HEX5, h[4]);
    hex_to(HEX6, h[5]);
    test_cond("sha256/ prefixed pin decoded", root && root->pins.n == 2 &&
                                                  memcmp(root->pins.v[0], h[0], 32) == 0);
    test_cond("plain pin decoded", root && memcmp(root->pins.v[1], h[1], 32) == 0);
    test_cond("backup pin decoded",
              root && root->backup_pins.n == 1 && memcmp(root->backup_pins.v[0], h[2], 32) == 0);

    struct policy_pin_result r;
    const int64_t before = 1700000000; /* 2023-11-14 */
    const int64_t last_day = 1814313600 + 86399; /* 2027-06-30 23:59:59 */
    const int64_t after = 1814313600 + 86400;    /* 2027-07-01 00:00:00 */
    uint8_t chain1[3][32];
    memcpy(chain1[0], h[5], 32); /* leaf not pinned */
    memcpy(chain1[1], h[1], 32); /* intermediate pinned */
    memcpy(chain1[2], h[0], 32);
    test_cond("pin matches any chain position", policy_pinset_check(root, chain1, 3, before, &r) == 1 &&
                                                    r.matched && !r.backup && r.cert_index == 1 &&
                                                    r.pin_index == 1 && !r.expired);
    uint8_t chain2[2][32];
    memcpy(chain2[0], h[5], 32);
    memcpy(chain2[1], h[2], 32);
    test_cond("backup pin match", policy_pinset_check(root, chain2, 2, before, &r) == 1 &&
                                      r.backup && r.cert_index == 1 && r.pin_index == 0);
    test_cond("mismatch", policy_pinset_check(root, chain2, 1, before, &r) == 0 && !r.matched &&
                              !r.expired);
    test_cond("last day still in force",
              policy_pinset_check(root, chain2, 1, last_day, &r) == 0 && !r.expired);
    test_cond("expired after the expires day",
              policy_pinset_check(root, chain2, 1, after, &r) == 0 && r.expired);
    test_cond("empty chain: mismatch", policy_pinset_check(root, NULL, 0, before, &r) == 0);
    test_cond("NULL chain with n > 0 is EINVAL",
              policy_pinset_check(root, NULL, 1, before, &r) == POLICY_EINVAL);
    const struct policy_pin_set *plain = policy_find_pinset(p, "plain.test", 10);
    test_cond("no expires never expires",
              plain && !plain->has_expires &&
                  policy_pinset_check(plain, chain2, 1, INT64_MAX / 2, &r) == 0 && !r.expired);
}

static void test_issuers(const struct policy *p)
{
    struct policy_issuer_result r;
    uint8_t pin5[32], other[32];
    hex_to(HEX5, pin5);
    hex_to(HEX6, other);
    const struct policy_issuer_set *s = policy_find_issuers(p, "www.example.com", 15);
    test_cond("issuer set by parent", s && strcmp(s->domain, "example.com") == 0);
    test_cond("DN match",
              policy_issuer_check(s, "CN=R3,O=Let's Encrypt,C=US", "R3", NULL, &r) ==
                      POLICY_ISSUER_MATCH &&
                  r.by == POLICY_ISSUER_BY_DN && r.index == 0);
    test_cond("DN match ignores case and spaces after separators",
              policy_issuer_check(s, "cn=r3, o=let's encrypt, c=us", NULL, NULL, &r) ==
                  POLICY_ISSUER_MATCH);
    test_cond("CN match", policy_issuer_check(s, "CN=E1,O=Let's Encrypt,C=US", "e1", NULL, &r) ==
                                  POLICY_ISSUER_MATCH &&
                              r.by == POLICY_ISSUER_BY_CN && r.index == 1);
    test_cond("CN entry does not match a DN substring",
              policy_issuer_check(s, "CN=Evil,O=E1", "Evil", other, &r) == POLICY_ISSUER_MISMATCH);
    test_cond("pin match", policy_issuer_check(s, "CN=Other CA", "Other CA", pin5, &r) ==
                                   POLICY_ISSUER_MATCH &&
                               r.by == POLICY_ISSUER_BY_PIN && r.index == 0);
    test_cond("no issuer cert sent: unknown",
              policy_issuer_check(s, "CN=Other CA", "Other CA", NULL, &r) == POLICY_ISSUER_UNKNOWN);
    test_cond("different DN with a longer suffix does not match",
              policy_issuer_check(s, "CN=R3,O=Let's Encrypt,C=USA", NULL, other, &r) ==
                  POLICY_ISSUER_MISMATCH);
    const struct policy_issuer_set *po = policy_find_issuers(p, "pinonly.test", 12);
    test_cond("pin-only set: unknown without issuer", po && policy_issuer_check(po, "CN=X", "X", NULL, &r) ==
                                                           POLICY_ISSUER_UNKNOWN);
    test_cond("pin-only set: mismatch with wrong issuer",
              policy_issuer_check(po, "CN=X", "X", other, &r) == POLICY_ISSUER_MISMATCH);
    test_cond("no issuer set for unrelated", policy_find_issuers(p, "example.net", 11) == NULL);
}

static void test_baselines(const struct policy *p)
{
    const struct policy_client_baseline *cb[4];
    size_t n;
    const char *sni = "www.example.com";
    n = policy_find_client_baselines(p, v4_client, 4, sni, strlen(sni), v4_server, cb, 4);
    test_cond("v4: both baselines match", n == 2 && strcmp(cb[0]->name, "finance-laptops") == 0 &&
                                              strcmp(cb[1]->name, "everyone") == 0);
    n = policy_find_client_baselines(p, v4_other, 4, sni, strlen(sni), v4_server, cb, 4);
    test_cond("v4 outside subnet: only the catch-all", n == 1 && strcmp(cb[0]->name, "everyone") == 0);
    n = policy_find_client_baselines(p, v6_client, 6, sni, strlen(sni), v6_server, cb, 4);
    test_cond("v6 /32 subnet and v6 server match", n == 2);
    n = policy_find_client_baselines(p, v6_out, 6, sni, strlen(sni), v6_server, cb, 4);
    test_cond("v6 outside /32", n == 1);
    n = policy_find_client_baselines(p, v4_client, 4, "example.com", 11, v4_server, cb, 4);
    test_cond("*.example.com does not match example.com", n == 1);
    n = policy_find_client_baselines(p, v4_client, 4, "a.b.EXAMPLE.com.", 16, v4_server, cb, 4);
    test_cond("*.example.com matches deeper names, any case", n == 2);
    n = policy_find_client_baselines(p, v4_client, 4, "api.example.org", 15, v4_server, cb, 4);
    test_cond("exact sni entry", n == 2);
    n = policy_find_client_baselines(p, v4_client, 4, "x.api.example.org", 17, v4_server, cb, 4);
    test_cond("exact sni entry: no subdomains", n == 1);
    n = policy_find_client_baselines(p, v4_client, 4, NULL, 0, v4_server, cb, 4);
    test_cond("sni criterion without sni: no match", n == 1);
    n = policy_find_client_baselines(p, v4_client, 4, sni, strlen(sni), v4_client, cb, 4);
    test_cond("server address criterion", n == 1);
    n = policy_find_client_baselines(p, v4_client, 4, sni, strlen(sni), v4_server, cb, 1);
    test_cond("count beyond max_out", n == 2 && strcmp(cb[0]->name, "finance-laptops") == 0);
    n = policy_find_client_baselines(p, v4_client, 4, sni, strlen(sni), v4_server, NULL, 0);
    test_cond("count only", n == 2);

    n = policy_find_client_baselines(p, v4_client, 4, sni, strlen(sni), v4_server, cb, 4);
    const struct policy_client_baseline *fl = cb[0];
    struct policy_dev d;
    test_cond("conforming client", n == 2 && policy_client_check(fl, JA4A, JA3A, "TLS 1.3", "h2", &d) == 0);
    test_cond("TLS 1.0 synonym in policy vs TLSv1 seen",
              policy_client_check(fl, JA4A, JA3A, "TLSv1", "http/1.1", &d) == 0);
    test_cond("stored canonical", strcmp(fl->tls_versions.v[1], "TLSv1") == 0);
    int k = policy_client_check(fl, JA4B, JA3B, "TLS 1.2", "h3", &d);
    test_cond("four deviations", k == 4 && d.n == 4);
    test_cond("ja4 deviation", d.item[0].attr == POLICY_ATTR_JA4 && strcmp(d.item[0].key, "ja4") == 0 &&
                                   strcmp(d.item[0].seen, JA4B) == 0 && d.item[0].n_expected == 1 &&
                                   strcmp(d.item[0].expected[0], JA4A) == 0);
    test_cond("ja3 deviation", d.item[1].attr == POLICY_ATTR_JA3);
    test_cond("version deviation", d.item[2].attr == POLICY_ATTR_TLS_VERSION &&
                                       d.item[2].n_expected == 2 &&
                                       strcmp(d.item[2].expected[0], "TLS 1.3") == 0);
    test_cond("alpn deviation", d.item[3].attr == POLICY_ATTR_ALPN &&
                                    strcmp(d.item[3].seen, "h3") == 0 && d.item[3].n_expected == 2);
    test_cond("missing values are not checked", policy_client_check(fl, NULL, "", NULL, NULL, &d) == 0);
    test_cond("unnamed version deviates",
              policy_client_check(fl, NULL, NULL, "TLS 1.3 draft 28", NULL, &d) == 1 &&
                  d.item[0].attr == POLICY_ATTR_TLS_VERSION);
    test_cond("catch-all checks versions only",
              policy_client_check(cb[1], JA4B, JA3B, "SSLv3", "x", &d) == 1);

    const struct policy_server_baseline *sb[2];
    n = policy_find_server_baselines(p, v4_client, 4, "api.example.com", 15, v4_server, sb, 2);
    test_cond("server baseline found", n == 1 && strcmp(sb[0]->name, "api") == 0);
    test_cond("server baseline needs the address",
              policy_find_server_baselines(p, v4_client, 4, "api.example.com", 15, v4_other, sb, 2) == 0);
    test_cond("conforming server", policy_server_check(sb[0], JA4SA, JA3B, "TLS 1.3", "h2", &d) == 0);
    test_cond("equal to minimum", policy_server_check(sb[0], JA4SA, JA3B, "TLS 1.2", "h2", &d) == 0);
    k = policy_server_check(sb[0], "t120200_c02f_234ea6891581", JA3A, "TLS 1.1", "http/1.1", &d);
    test_cond("server deviations", k == 4 && d.item[0].attr == POLICY_ATTR_JA4S &&
                                       d.item[1].attr == POLICY_ATTR_JA3S &&
                                       d.item[2].attr == POLICY_ATTR_MIN_TLS_VERSION &&
                                       strcmp(d.item[2].expected[0], "TLS 1.2") == 0 &&
                                       d.item[3].attr == POLICY_ATTR_ALPN);
    test_cond("below minimum TLSv1",
              policy_server_check(sb[0], NULL, NULL, "TLS 1.0", NULL, &d) == 1 &&
                  d.item[0].attr == POLICY_ATTR_MIN_TLS_VERSION);
    test_cond("unnamed version is not compared with the minimum",
              policy_server_check(sb[0], NULL, NULL, "0x7f1c", NULL, &d) == 0);
}

static void test_round_trip(const struct policy *p)
{
    char err[512];
    char *a = write_str(p);
    test_cond("write", a != NULL);
    if (!a)
        return;
    struct policy *q = load_str(a, err, sizeof(err));
    test_cond("written policy loads", q != NULL);
    if (!q) {
        fprintf(stderr, "  %s\n", err);
        free(a);
        return;
    }
    char *b = write_str(q);
    test_cond("round trip writes identical bytes", b && strcmp(a, b) == 0);
    test_cond("pins written without prefix", strstr(a, "\"" PIN1 "\"") && !strstr(a, "sha256/"));
    test_cond("canonical version written", strstr(a, "\"TLSv1\"") && !strstr(a, "TLS 1.0"));
    test_cond("expires written", strstr(a, "\"2027-06-30\"") != NULL);
    test_cond("v6 network written", strstr(a, "\"2001:db8::/32\"") != NULL);
    test_cond("plain address written without prefix", strstr(a, "\"198.18.1.10\"") != NULL);
    const struct policy_pin_set *s = policy_find_pinset(q, "www.example.com", 15);
    test_cond("reloaded lookups work", s && s->pins.n == 2 && s->has_expires &&
                                           strcmp(s->comment, "corporate") == 0);
    struct policy_summary sum;
    policy_summary(q, &sum);
    test_cond("summary", sum.pin_sets == 3 && sum.issuer_sets == 2 && sum.client_baselines == 2 &&
                             sum.server_baselines == 1);
    free(b);
    free(a);
    policy_free(q);

    struct policy *e = policy_new();
    char *ea = write_str(e);
    struct policy *e2 = ea ? load_str(ea, err, sizeof(err)) : NULL;
    test_cond("empty policy round trip", e2 != NULL);
    free(ea);
    policy_free(e);
    policy_free(e2);
}

static void test_learn_merge(const struct policy *hand_src)
{
    char err[512];
    uint8_t h1[32], h2[32], h4[32], h5[32], h6[32];
    hex_to(HEX1, h1);
    hex_to(HEX2, h2);
    hex_to(HEX4, h4);
    hex_to(HEX5, h5);
    hex_to(HEX6, h6);
    const int64_t t1 = 1795564800 + 3600; /* 2026-11-25 01:00 */
    const int64_t t0 = 1795564800 - 86400 * 3;

    struct policy *l = policy_new();
    test_cond("learn pin", policy_learn_pin(l, "New.Example.net.", h1, t0) == 0);
    test_cond("learn same pin again", policy_learn_pin(l, "new.example.net", h1, t1) == 0);
    test_cond("learn second pin", policy_learn_pin(l, "new.example.net", h2, t0) == 0);
    test_cond("learn pin under a hand-written parent", policy_learn_pin(l, "www.example.com", h6, t1) == 0);
    test_cond("learn pin for hand-written exact", policy_learn_pin(l, "api.example.com", h6, t1) == 0);
    test_cond("learn pin: invalid domain", policy_learn_pin(l, "bad domain", h1, t1) == POLICY_EINVAL);
    test_cond("learn pin: IP is not a domain", policy_learn_pin(l, "10.0.0.1", h1, t1) == POLICY_EINVAL);
    test_cond("learn issuer", policy_learn_issuer(l, "new.example.net", "CN=R3,O=Let's Encrypt,C=US",
                                                  h5, t1) == 0);
    test_cond("learn issuer without cert", policy_learn_issuer(l, "new.example.net", "CN=E1,O=X", NULL,
                                                               t1) == 0);
    test_cond("learn issuer: nothing given",
              policy_learn_issuer(l, "new.example.net", NULL, NULL, t1) == POLICY_EINVAL);
    const uint8_t c1[4] = {10, 1, 2, 3}, c2[4] = {10, 1, 2, 200};
    test_cond("learn client", policy_learn_client(l, c1, 4, JA4A, JA3A, "TLS 1.3", "h2", t0) == 0);
    test_cond("learn client same /24",
              policy_learn_client(l, c2, 4, JA4B, NULL, "TLS 1.0", "http/1.1", t1) == 0);
    test_cond("learn client v6", policy_learn_client(l, v6_client, 6, JA4A, NULL, NULL, NULL, t1) == 0);
    test_cond("learn client: draft version skipped but ja4 kept",
              policy_learn_client(l, c1, 4, JA4A, NULL, "TLS 1.3 draft 28", NULL, t1) == 0);
    test_cond("learn client: nothing recordable",
              policy_learn_client(l, c1, 4, NULL, NULL, "TLS 1.3 draft 28", "", t1) == POLICY_EINVAL);
    test_cond("learn client: bad ja4",
              policy_learn_client(l, c1, 4, "t13_bad", NULL, NULL, NULL, t1) == POLICY_EINVAL);
    test_cond("learn server by sni",
              policy_learn_server(l, "api2.example.net", v4_server, 4, JA4SA, JA3B, "TLS 1.3", "h2", t0) == 0);
    test_cond("learn server lower version",
              policy_learn_server(l, "API2.example.net", v4_server, 4, JA4SA, NULL, "TLS 1.2", NULL, t1) == 0);
    test_cond("learn server by address",
              policy_learn_server(l, NULL, v4_server, 4, JA4SA, NULL, NULL, NULL, t1) == 0);
    test_cond("learn server: IP as sni and no address",
              policy_learn_server(l, "10.9.9.9", NULL, 4, JA4SA, NULL, NULL, NULL, t1) == POLICY_EINVAL);

    struct policy_summary sum;
    policy_summary(l, &sum);
    test_cond("learned counts", sum.pin_sets == 3 && sum.issuer_sets == 1 &&
                                    sum.client_baselines == 2 && sum.server_baselines == 2);
    const struct policy_pin_set *np = policy_find_pinset(l, "new.example.net", 15);
    test_cond("learned set", np && np->origin.learned && np->origin.connections == 3 &&
                                 np->pins.n == 2 && !np->include_subdomains);
    test_streq("learned comment", np ? np->comment : NULL,
               "learned from 3 connections, last seen 2026-11-25");
    const struct policy_client_baseline *lc = policy_client_baseline_at(l, 0);
    test_cond("client grouped by /24", lc && strcmp(lc->name, "learned-client-10.1.2.0/24") == 0 &&
                                           lc->ja4.n == 2 && lc->ja3.n == 1 &&
                                           lc->tls_versions.n == 2 && lc->alpn.n == 2 &&
                                           lc->origin.connections == 3);
    const struct policy_client_baseline *lc6 = policy_client_baseline_at(l, 1);
    test_streq("v6 client grouped by /64", lc6 ? lc6->name : NULL, "learned-client-2001:db8:ffff::/64");
    const struct policy_server_baseline *ls = policy_server_baseline_at(l, 0);
    test_cond("server min version is the lowest seen",
              ls && strcmp(ls->name, "learned-server-api2.example.net") == 0 &&
                  strcmp(ls->min_tls_version, "TLS 1.2") == 0 && ls->match.sni.n == 1);
    test_streq("server by address", policy_server_baseline_at(l, 1)->name,
               "learned-server-198.18.1.10");

    /* The learned policy round-trips too, learned markers included. */
    char *la = write_str(l);
    struct policy *l2 = la ? load_str(la, err, sizeof(err)) : NULL;
    char *lb = l2 ? write_str(l2) : NULL;
    test_cond("learned policy round trip", la && lb && strcmp(la, lb) == 0);
    test_cond("learned marker written", la && strstr(la, "\"last_seen\"") && strstr(la, "\"connections\""));
    test_cond("learned marker read back", l2 && policy_find_pinset(l2, "new.example.net", 15)->origin.learned);

    /* Merge into the hand-written policy. */
    char *hand_text = write_str(hand_src);
    struct policy *dst = hand_text ? load_str(hand_text, err, sizeof(err)) : NULL;
    test_cond("hand-written copy", dst != NULL);
    if (!dst)
        goto out;
    struct policy_merge_stats st;
    test_cond("merge", policy_merge(dst, l2, &st) == 0);
    test_cond("merge stats", st.added == 6 && st.kept == 1 && st.shadowed == 1 && st.extended == 0 &&
                                 st.skipped == 0);
    char *merged = write_str(dst);
    /* Every hand-written entry is written exactly as before: the hand-written
     * document minus its closing brackets is a prefix of each section. */
    const struct policy_pin_set *api = policy_find_pinset(dst, "api.example.com", 15);
    test_cond("hand-written exact set untouched", api && !api->origin.learned && api->pins.n == 1 &&
                                                      memcmp(api->pins.v[0], h4, 32) == 0 &&
                                                      api->comment == NULL);
    const struct policy_pin_set *root = policy_find_pinset(dst, "www.example.com", 15);
    test_cond("no learned set under a hand-written parent",
              root && strcmp(root->domain, "example.com") == 0 && root->pins.n == 2);
    test_cond("new learned set added", policy_find_pinset(dst, "new.example.net", 15) != NULL);
    struct policy_summary ms;
    policy_summary(dst, &ms);
    test_cond("merged counts", ms.pin_sets == 4 && ms.issuer_sets == 3 && ms.client_baselines == 4 &&
                                   ms.server_baselines == 3);
    for (size_t i = 0; i < 3; i++) {
        const struct policy_pin_set *a = policy_pin_set_at(dst, i), *b = policy_pin_set_at(hand_src, i);
        test_cond("hand-written pin sets keep order and values",
                  a && b && strcmp(a->domain, b->domain) == 0 && a->pins.n == b->pins.n &&
                      a->backup_pins.n == b->backup_pins.n && !a->origin.learned);
    }
    const struct policy_client_baseline *fl = policy_client_baseline_at(dst, 0);
    test_cond("hand-written baseline untouched",
              fl && strcmp(fl->name, "finance-laptops") == 0 && fl->ja4.n == 1 &&
                  strcmp(fl->comment, "laptops") == 0);

    /* A second learning run extends learned entries only. */
    struct policy *l3 = policy_new();
    policy_learn_pin(l3, "new.example.net", h4, t1 + 86400);
    policy_learn_pin(l3, "api.example.com", h1, t1);
    policy_learn_client(l3, c1, 4, JA4A, NULL, "TLS 1.2", NULL, t1);
    test_cond("second merge", policy_merge(dst, l3, &st) == 0 && st.extended == 2 && st.kept == 1 &&
                                  st.added == 0);
    np = policy_find_pinset(dst, "new.example.net", 15);
    test_cond("learned set extended", np && np->pins.n == 3 && np->origin.connections == 4);
    test_streq("comment regenerated", np ? np->comment : NULL,
               "learned from 4 connections, last seen 2026-11-26");
    test_cond("hand-written set still untouched", api->pins.n == 1);
    test_cond("hand-written src entries are not merged",
              policy_merge(l3, hand_src, &st) == 0 && st.skipped == 8 && st.added == 0);

    /* merge into itself-like copies is idempotent for values */
    char *m2 = write_str(dst);
    struct policy *dst2 = m2 ? load_str(m2, err, sizeof(err)) : NULL;
    char *m3 = dst2 ? write_str(dst2) : NULL;
    test_cond("merged policy round trip", m2 && m3 && strcmp(m2, m3) == 0);
    free(m2);
    free(m3);
    policy_free(dst2);
    policy_free(l3);
    free(merged);
    policy_free(dst);
out:
    free(hand_text);
    free(la);
    free(lb);
    policy_free(l2);
    policy_free(l);
}

struct bad_case {
    const char *json;
    const char *want; /* after "bad.json: " */
};

#define V1 "{\"version\":1,"
#define PS(x) V1 "\"pin_sets\":[" x "]}"
#define CB(x) V1 "\"client_baselines\":[" x "]}"
#define SB(x) V1 "\"server_baselines\":[" x "]}"
#define EI(x) V1 "\"expected_issuers\":[" x "]}"
#define OKPS "{\"domain\":\"a.test\",\"pins\":[\"" PIN1 "\"]}"
#define OKPS_B "{\"domain\":\"b.test\",\"pins\":[\"" PIN1 "\"]}"
#define OKPS_C "{\"domain\":\"c.test\",\"pins\":[\"" PIN1 "\"]}"

static const struct bad_case bad[] = {
    {"{\"version\":1,", "not valid JSON (line 1, column 14)"},
    {"{\"version\":1}\n{}", "not valid JSON (line 2, column 1)"},
    {"[]", "not a JSON object"},
    {"{}", "missing \"version\""},
    {"{\"version\":2}", "version: unsupported (this pinscope reads version 1)"},
    {V1 "\"pins\":[]}", "unknown key \"pins\""},
    {V1 "\"comment\":\"a\",\"comment\":\"b\"}", "duplicate key \"comment\""},
    {V1 "\"pin_sets\":{}}", "pin_sets: not a list"},
    {PS("7"), "pin_sets[0]: not an object"},
    {PS(OKPS ",{\"pins\":[\"" PIN1 "\"]}"), "pin_sets[1]: missing \"domain\""},
    {PS("{\"domain\":\"a..test\",\"pins\":[\"" PIN1 "\"]}"), "pin_sets[0]: domain: not a domain name"},
    {PS("{\"domain\":\"*.a.test\",\"pins\":[\"" PIN1 "\"]}"),
     "pin_sets[0]: domain: wildcards are not allowed here (use include_subdomains)"},
    {PS("{\"domain\":\"-a.test\",\"pins\":[\"" PIN1 "\"]}"), "pin_sets[0]: domain: not a domain name"},
    {PS(OKPS "," OKPS_B "," OKPS_C ",{\"domain\":\"example.com\",\"pins\":[\"" PIN1 "\",\"" PIN2 "x\"]}"),
     "pin_sets[3] (example.com): pins[1]: not a base64 SHA-256 pin"},
    {PS("{\"domain\":\"a.test\",\"pins\":[\"sha256/" PIN1 "\",\"" PIN1 "\"]}"),
     "pin_sets[0] (a.test): pins[1]: duplicate of pins[0]"},
    {PS("{\"domain\":\"a.test\",\"pins\":[\"YWJj\"]}"),
     "pin_sets[0] (a.test): pins[0]: not a base64 SHA-256 pin"},
    {PS("{\"domain\":\"a.test\",\"pins\":[\"arnx6499M4j0+dWG9m6Z/VQIDfLERvDlhmiwnAihbdB=\"]}"),
     "pin_sets[0] (a.test): pins[0]: not a base64 SHA-256 pin"},
    {PS("{\"domain\":\"a.test\",\"pins\":[\"sha1/" PIN1 "\"]}"),
     "pin_sets[0] (a.test): pins[0]: not a base64 SHA-256 pin"},
    {PS("{\"domain\":\"a.test\",\"pins\":[]}"), "pin_sets[0] (a.test): pins: empty list"},
    {PS("{\"domain\":\"a.test\"}"), "pin_sets[0] (a.test): missing \"pins\""},
    {PS("{\"domain\":\"a.test\",\"pins\":[\"" PIN1 "\"],\"backup_pins\":[\"" PIN1 "\"]}"),
     "pin_sets[0] (a.test): backup_pins[0]: also in pins[0]"},
    {PS("{\"domain\":\"a.test\",\"pins\":[\"" PIN1 "\"],\"expires\":\"2027-02-29\"}"),
     "pin_sets[0] (a.test): expires: not a date (YYYY-MM-DD)"},
    {PS("{\"domain\":\"a.test\",\"pins\":[\"" PIN1 "\"],\"include_subdomains\":1}"),
     "pin_sets[0] (a.test): include_subdomains: not true or false"},
    {PS("{\"domain\":\"a.test\",\"pins\":[\"" PIN1 "\"],\"Pins\":[]}"),
     "pin_sets[0] (a.test): unknown key \"Pins\""},
    {PS(OKPS ",{\"domain\":\"A.test.\",\"pins\":[\"" PIN2 "\"]}"),
     "pin_sets[1] (a.test): domain: duplicate of pin_sets[0]"},
    {PS("{\"domain\":\"a.test\",\"pins\":[\"" PIN1 "\"],\"comment\":5}"),
     "pin_sets[0] (a.test): comment: not a string"},
    {PS("{\"domain\":\"a.test\",\"pins\":[\"" PIN1 "\"],\"learned\":{\"connections\":0,\"last_seen\":\"2026-01-01\"}}"),
     "pin_sets[0] (a.test): learned: connections: not a whole number from 1 to 2^53"},
    {EI("{\"domain\":\"a.test\"}"), "expected_issuers[0] (a.test): needs \"issuers\" or \"issuer_pins\""},
    {EI("{\"domain\":\"a.test\",\"issuers\":[\"=R3\"]}"),
     "expected_issuers[0] (a.test): issuers[0]: not an issuer DN or CN (1..1024 bytes, no control characters)"},
    {CB("{\"name\":\"x\",\"ja4\":[\"t13d1516h2_8daaf6152771\"]}"),
     "client_baselines[0] (x): ja4[0]: not a JA4 fingerprint"},
    {CB("{\"name\":\"x\",\"ja3\":[\"e7d705a3286e19ea42f587b344ee686\"]}"),
     "client_baselines[0] (x): ja3[0]: not a JA3 hash (32 hex digits)"},
    {CB("{\"name\":\"x\",\"match\":{\"client_subnets\":[\"198.18.0.1/24\"]},\"ja4\":[\"" JA4A "\"]}"),
     "client_baselines[0] (x): match: client_subnets[0]: CIDR has host bits set beyond /24"},
    {CB("{\"name\":\"x\",\"match\":{\"client_subnets\":[\"2001:db8::/129\"]},\"ja4\":[\"" JA4A "\"]}"),
     "client_baselines[0] (x): match: client_subnets[0]: not an IP address or CIDR"},
    {CB("{\"name\":\"x\",\"match\":{\"server_addresses\":[\"198.18.1.256\"]},\"ja4\":[\"" JA4A "\"]}"),
     "client_baselines[0] (x): match: server_addresses[0]: not an IP address or CIDR"},
    {CB("{\"name\":\"x\",\"match\":{\"sni\":[\"a.*.test\"]},\"ja4\":[\"" JA4A "\"]}"),
     "client_baselines[0] (x): match: sni[0]: not a domain name or *.domain"},
    {CB("{\"name\":\"x\",\"match\":{\"host\":[\"a.test\"]},\"ja4\":[\"" JA4A "\"]}"),
     "client_baselines[0] (x): match: unknown key \"host\""},
    {CB("{\"name\":\"x\",\"match\":{\"sni\":[]},\"ja4\":[\"" JA4A "\"]}"),
     "client_baselines[0] (x): match: sni: empty list"},
    {CB("{\"name\":\"x\",\"tls_versions\":[\"TLS 1.4\"]}"),
     "client_baselines[0] (x): tls_versions[0]: not a TLS version (SSLv3, TLSv1, TLS 1.1, TLS 1.2, TLS 1.3)"},
    {CB("{\"name\":\"x\",\"tls_versions\":[\"TLSv1\",\"TLS 1.0\"]}"),
     "client_baselines[0] (x): tls_versions[1]: duplicate of tls_versions[0]"},
    {CB("{\"name\":\"x\"}"),
     "client_baselines[0] (x): constrains nothing (needs ja4, ja3, tls_versions or alpn)"},
    {CB("{\"name\":\"x\",\"alpn\":[\"h2\"]},{\"name\":\"x\",\"alpn\":[\"h2\"]}"),
     "client_baselines[1] (x): name: duplicate of client_baselines[0]"},
    {CB("{\"ja4\":[\"" JA4A "\"]}"), "client_baselines[0]: missing \"name\""},
    {CB("{\"name\":\"x\",\"alpn\":[\"\"]}"),
     "client_baselines[0] (x): alpn[0]: not an ALPN protocol id (1..255 bytes)"},
    {SB("{\"name\":\"s\",\"min_tls_version\":\"TLS1.2\"}"),
     "server_baselines[0] (s): min_tls_version: not a TLS version (SSLv3, TLSv1, TLS 1.1, TLS 1.2, TLS 1.3)"},
    {SB("{\"name\":\"s\",\"ja4s\":[\"t130200_13010_234ea6891581\"]}"),
     "server_baselines[0] (s): ja4s[0]: not a JA4S fingerprint"},
    {SB("{\"name\":\"s\",\"ja4s\":\"" JA4SA "\"}"), "server_baselines[0] (s): ja4s: not a list"},
    {SB("{\"name\":\"s\",\"ja4\":[\"" JA4A "\"]}"), "server_baselines[0] (s): unknown key \"ja4\""},
    {SB("{\"name\":\"s\",\"ja4ts\":[\"65160_2-4_1460\"]}"),
     "server_baselines[0] (s): ja4ts[0]: not a JA4TS fingerprint (window_options_mss_wscale)"},
    {SB("{\"name\":\"s\",\"ja4ts\":[\"65160_2-4_1460_7-1\"]}"),
     "server_baselines[0] (s): ja4ts[0]: not a JA4TS fingerprint (window_options_mss_wscale)"},
    {SB("{\"name\":\"s\",\"server_ttl\":[\"256\"]}"),
     "server_baselines[0] (s): server_ttl[0]: not a TTL (0..255)"},
    {SB("{\"name\":\"s\",\"server_ttl\":[\"6x\"]}"),
     "server_baselines[0] (s): server_ttl[0]: not a TTL (0..255)"},
    {SB("{\"name\":\"s\",\"server_flight_bytes\":{\"min\":10,\"max\":9}}"),
     "server_baselines[0] (s): server_flight_bytes: min (10) above max (9)"},
    {SB("{\"name\":\"s\",\"server_flight_bytes\":{\"min\":10}}"),
     "server_baselines[0] (s): server_flight_bytes: missing \"max\""},
    {SB("{\"name\":\"s\",\"server_flight_bytes\":{\"min\":1,\"max\":16777216}}"),
     "server_baselines[0] (s): server_flight_bytes: max: not a whole number from 0 to 16777215"},
    {SB("{\"name\":\"s\",\"server_flight_bytes\":{\"min\":1.5,\"max\":2}}"),
     "server_baselines[0] (s): server_flight_bytes: min: not a whole number from 0 to 16777215"},
    {SB("{\"name\":\"s\",\"server_flight_bytes\":[1,2]}"),
     "server_baselines[0] (s): server_flight_bytes: not an object (min, max, tolerance)"},
    {SB("{\"name\":\"s\",\"server_flight_bytes\":{\"min\":1,\"max\":2,\"slack\":3}}"),
     "server_baselines[0] (s): server_flight_bytes: unknown key \"slack\""},
    {SB("{\"name\":\"s\",\"server_hello_delay_us\":{\"min\":0,\"max\":60000001}}"),
     "server_baselines[0] (s): server_hello_delay_us: max: not a whole number from 0 to 60000000"},
    {SB("{\"name\":\"s\",\"server_hello_delay_us\":{\"min\":0,\"max\":1,\"tolerance\":-1}}"),
     "server_baselines[0] (s): server_hello_delay_us: tolerance: not a whole number from 0 to 60000000"},
    {SB("{\"name\":\"s\",\"hello_retry\":[\"x 25519\"]}"),
     "server_baselines[0] (s): hello_retry[0]: not \"none\" or a group name (letters, digits, '_', '-'; 1..32 bytes)"},
    {SB("{\"name\":\"s\",\"hello_retry\":[\"none\",\"none\"]}"),
     "server_baselines[0] (s): hello_retry[1]: duplicate of hello_retry[0]"},
    {SB("{\"name\":\"s\"}"),
     "server_baselines[0] (s): constrains nothing (needs ja4s, ja3s, ja4ts, server_ttl, server_flight_bytes, hello_retry, server_hello_delay_us, min_tls_version or alpn)"},
};

static void test_broken(void)
{
    char err[512], want[600];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *path = write_tmp("bad.json", bad[i].json);
        struct policy *p = policy_load(path, err, sizeof(err));
        snprintf(want, sizeof(want), "%s: %s", path, bad[i].want);
        test_cond("broken file fails", p == NULL);
        test_streq("broken file message", err, want);
        test_cond("message is one line", strchr(err, '\n') == NULL);
        policy_free(p);
    }
    /* NUL byte, missing file, truncated errlen */
    test_cond("NUL byte", policy_load_buffer("n.json", "{\"version\":1}\0", 14, err, sizeof(err)) == NULL);
    test_streq("NUL byte message", err, "n.json: contains a NUL byte");
    char missing[128];
    snprintf(missing, sizeof(missing), "%s/none.json", tmpdir);
    test_cond("missing file", policy_load(missing, err, sizeof(err)) == NULL &&
                                  strstr(err, "none.json: cannot open: ") != NULL);
    char small[16];
    test_cond("short err buffer", policy_load_buffer("n.json", "[]", 2, small, sizeof(small)) == NULL &&
                                      strlen(small) == 15);
    test_cond("NULL err buffer", policy_load_buffer("n.json", "[]", 2, NULL, 0) == NULL);
    /* Oversized list */
    size_t cap = 64 + (POLICY_MAX_PINS + 1) * 50;
    char *big = malloc(cap);
    size_t o = (size_t)snprintf(big, cap, PS("{\"domain\":\"a.test\",\"pins\":["));
    o -= 2; /* drop the closing "]}" */
    for (int i = 0; i <= POLICY_MAX_PINS; i++)
        o += (size_t)snprintf(big + o, cap - o, "%s\"" PIN1 "\"", i ? "," : "");
    snprintf(big + o, cap - o, "]}]}");
    test_cond("too many pins", policy_load_buffer("b.json", big, strlen(big), err, sizeof(err)) == NULL);
    test_streq("too many pins message", err, "b.json: pin_sets[0] (a.test): pins: more than 32 entries");
    free(big);
}

static void test_valid_variants(void)
{
    char err[512];
    /* Minimal files, every optional key absent. */
    struct policy *p = load_str("{\"version\":1}", err, sizeof(err));
    test_cond("minimal policy", p != NULL);
    policy_free(p);
    p = load_str(V1 "\"pin_sets\":[],\"expected_issuers\":[],\"client_baselines\":[],"
                    "\"server_baselines\":[]}",
                 err, sizeof(err));
    test_cond("empty sections", p != NULL);
    policy_free(p);
    /* Upper-case hex in fingerprints is accepted and normalised. */
    p = load_str(CB("{\"name\":\"x\",\"match\":{},\"ja4\":[\"t13d1516h2_8DAAF6152771_02713D6AF862\"],"
                    "\"ja3\":[\"E7D705A3286E19EA42F587B344EE6865\"]}"),
                 err, sizeof(err));
    const struct policy_client_baseline *b = p ? policy_client_baseline_at(p, 0) : NULL;
    test_cond("upper-case hex normalised", b && strcmp(b->ja4.v[0], JA4A) == 0 &&
                                               strcmp(b->ja3.v[0], JA3A) == 0);
    struct policy_dev d;
    test_cond("empty match object matches all",
              p && policy_find_client_baselines(p, NULL, 0, NULL, 0, NULL, NULL, 0) == 1 &&
                  policy_client_check(b, JA4A, JA3A, NULL, NULL, &d) == 0);
    policy_free(p);
    /* /0 networks and v4 vs v6 separation */
    p = load_str(CB("{\"name\":\"all4\",\"match\":{\"client_subnets\":[\"0.0.0.0/0\"]},\"alpn\":[\"h2\"]}"),
                 err, sizeof(err));
    test_cond("/0 matches any v4", p && policy_find_client_baselines(p, v4_other, 4, NULL, 0, NULL, NULL, 0) == 1);
    test_cond("/0 v4 does not match v6",
              p && policy_find_client_baselines(p, v6_client, 6, NULL, 0, NULL, NULL, 0) == 0);
    test_cond("no client address: no match",
              p && policy_find_client_baselines(p, NULL, 4, NULL, 0, NULL, NULL, 0) == 0);
    policy_free(p);
    p = load_str(CB("{\"name\":\"n\",\"match\":{\"client_subnets\":[\"198.18.0.128/25\", \"2001:db8:0:2::/63\"]},\"alpn\":[\"h2\"]}"),
                 err, sizeof(err));
    const uint8_t lo[4] = {198, 18, 0, 127}, hi[4] = {198, 18, 0, 128};
    const uint8_t in6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 3, 0xff};
    const uint8_t out6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1};
    test_cond("/25 lower half excluded", p && policy_find_client_baselines(p, lo, 4, NULL, 0, NULL, NULL, 0) == 0);
    test_cond("/25 upper half included", p && policy_find_client_baselines(p, hi, 4, NULL, 0, NULL, NULL, 0) == 1);
    test_cond("/63 includes :0:3::", p && policy_find_client_baselines(p, in6, 6, NULL, 0, NULL, NULL, 0) == 1);
    test_cond("/63 excludes :0:1::", p && policy_find_client_baselines(p, out6, 6, NULL, 0, NULL, NULL, 0) == 0);
    policy_free(p);
    /* Leap day, comments everywhere */
    p = load_str(PS("{\"domain\":\"a.test\",\"pins\":[\"" PIN1 "\"],\"expires\":\"2028-02-29\",\"comment\":\"x\"}"),
                 err, sizeof(err));
    test_cond("leap day", p && policy_pin_set_at(p, 0)->has_expires);
    policy_free(p);
}

/* The server's TCP stack in a baseline: loaded, checked, learned, written. */
static void test_server_stack(void)
{
    char err[512];
    struct policy *p = load_str("{\"version\":1,\"server_baselines\":[{\"name\":\"s\","
                                "\"match\":{\"sni\":[\"www.bank.test\"]},"
                                "\"ja4ts\":[\"65160_2-4-8-1-3_1460_10\"],\"server_ttl\":[\"63\"]}]}",
                                err, sizeof(err));
    test_cond("stack baseline loads", p != NULL);
    if (!p) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    const struct policy_server_baseline *sb = policy_server_baseline_at(p, 0);
    struct policy_dev d;
    memset(&d, 0, sizeof(d));
    test_cond("same stack conforms", policy_server_stack_check(sb, "65160_2-4-8-1-3_1460_10", "63", &d) == 0);
    memset(&d, 0, sizeof(d));
    test_cond("one hop nearer deviates",
              policy_server_stack_check(sb, "65160_2-4-8-1-3_1460_10", "64", &d) == 1 &&
                  d.item[0].attr == POLICY_ATTR_SERVER_TTL);
    memset(&d, 0, sizeof(d));
    test_cond("another stack deviates twice",
              policy_server_stack_check(sb, "29200_2-4-8-1-3_1460_7", "64", &d) == 2);
    memset(&d, 0, sizeof(d));
    test_cond("no SYN-ACK seen: nothing to check", policy_server_stack_check(sb, NULL, NULL, &d) == 0);
    test_cond("learn the stack",
              policy_learn_server_stack(p, "api.test", NULL, 4, "64240_2-4-8-1-3_1460_7", "61", 1) == 0);
    test_cond("learn a bad JA4TS refused",
              policy_learn_server_stack(p, "api.test", NULL, 4, "x", NULL, 1) == POLICY_EINVAL);
    test_cond("learn nothing refused",
              policy_learn_server_stack(p, "api.test", NULL, 4, NULL, NULL, 1) == POLICY_EINVAL);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    test_cond("written", f && policy_write(p, f, err, sizeof(err)) == 0);
    if (f)
        fclose(f);
    test_cond("written with both keys", buf && strstr(buf, "\"server_ttl\"") && strstr(buf, "\"ja4ts\"") &&
                                            strstr(buf, "64240_2-4-8-1-3_1460_7"));
    struct policy *q = buf ? policy_load_buffer("w.json", buf, len, err, sizeof(err)) : NULL;
    test_cond("and read back", q != NULL);
    policy_free(q);
    free(buf);
    policy_free(p);
}

/* The keyless facts in a baseline: loaded, checked, learned with the
 * tolerance rule, merged, written and read back. */
static void test_server_keyless(void)
{
    char err[512];
    struct policy *p = load_str("{\"version\":1,\"server_baselines\":[{\"name\":\"s\","
                                "\"match\":{\"sni\":[\"www.bank.test\"]},"
                                "\"server_flight_bytes\":{\"min\":2243,\"max\":2245},"
                                "\"hello_retry\":[\"none\"],"
                                "\"server_hello_delay_us\":{\"min\":800,\"max\":1600,"
                                "\"tolerance\":400}}]}",
                                err, sizeof(err));
    test_cond("keyless baseline loads", p != NULL);
    if (!p) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    const struct policy_server_baseline *sb = policy_server_baseline_at(p, 0);
    test_cond("absent tolerance follows the rule", sb->flight_bytes.tolerance == 64);
    test_cond("stated tolerance kept", sb->hello_delay_us.tolerance == 400);
    struct policy_dev d;
    memset(&d, 0, sizeof(d));
    test_cond("the origin's flight conforms",
              policy_server_keyless_check(sb, 2243, "none", 1000, &d) == 0);
    memset(&d, 0, sizeof(d));
    test_cond("edges of the tolerance conform",
              policy_server_keyless_check(sb, 2179, "none", 2000, &d) == 0 &&
                  policy_server_keyless_check(sb, 2309, NULL, -1, &d) == 0);
    memset(&d, 0, sizeof(d));
    test_cond("one byte past deviates",
              policy_server_keyless_check(sb, 2310, "none", 2000, &d) == 1 &&
                  d.item[0].attr == POLICY_ATTR_FLIGHT_BYTES &&
                  strcmp(d.item[0].seen_num, "2310") == 0 &&
                  strcmp(d.item[0].expected_num, "2179..2309") == 0);
    memset(&d, 0, sizeof(d));
    test_cond("a proxy's flight, HRR and delay deviate three times",
              policy_server_keyless_check(sb, 3305, "secp256r1", 2001, &d) == 3 &&
                  d.item[1].attr == POLICY_ATTR_HELLO_RETRY &&
                  d.item[2].attr == POLICY_ATTR_HELLO_DELAY &&
                  strcmp(d.item[2].expected_num, "<= 2000") == 0);
    memset(&d, 0, sizeof(d));
    test_cond("nothing seen: nothing compared", policy_server_keyless_check(sb, -1, NULL, -1, &d) == 0);
    test_cond("rule: flight floor", policy_range_rule(POLICY_RANGE_FLIGHT, 100, 110) == 64);
    test_cond("rule: flight spread", policy_range_rule(POLICY_RANGE_FLIGHT, 100, 200) == 200);
    test_cond("rule: delay floor", policy_range_rule(POLICY_RANGE_DELAY, 700, 1500) == 10000);
    test_cond("rule: delay doubles max", policy_range_rule(POLICY_RANGE_DELAY, 19000, 20000) == 20000);
    test_cond("rule: delay spread", policy_range_rule(POLICY_RANGE_DELAY, 1000, 20000) == 38000);
    test_cond("rule: capped", policy_range_rule(POLICY_RANGE_DELAY, 0, POLICY_MAX_DELAY_US) ==
                                  POLICY_MAX_DELAY_US);

    struct policy *l = policy_new();
    test_cond("learn a first connection",
              l && policy_learn_server(l, "api.test", NULL, 4, NULL, NULL, "TLS 1.3", NULL, 1) == 0 &&
                  policy_learn_server_keyless(l, "api.test", NULL, 4, 2243, "none", 900, 1) == 0);
    test_cond("learn a second",
              policy_learn_server(l, "api.test", NULL, 4, NULL, NULL, "TLS 1.3", NULL, 1) == 0 &&
                  policy_learn_server_keyless(l, "api.test", NULL, 4, 2443, "secp256r1", 30000, 1) == 0);
    test_cond("learn nothing refused",
              policy_learn_server_keyless(l, "api.test", NULL, 4, -1, NULL, -1, 1) == POLICY_EINVAL);
    test_cond("learn a bad group refused",
              policy_learn_server_keyless(l, "api.test", NULL, 4, -1, "x y", -1, 1) == POLICY_EINVAL);
    const struct policy_server_baseline *lb = l ? policy_server_baseline_at(l, 0) : NULL;
    test_cond("learned range covers both, tolerance from the spread",
              lb && lb->flight_bytes.min == 2243 && lb->flight_bytes.max == 2443 &&
                  lb->flight_bytes.tolerance == 400 && lb->hello_delay_us.min == 900 &&
                  lb->hello_delay_us.max == 30000 && lb->hello_delay_us.tolerance == 58200 &&
                  lb->hello_retry.n == 2 && lb->origin.connections == 2);
    struct policy_merge_stats ms;
    test_cond("merged into a hand-written policy", l && policy_merge(p, l, &ms) == 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    test_cond("written", f && policy_write(p, f, err, sizeof(err)) == 0);
    if (f)
        fclose(f);
    test_cond("written with the three keys",
              buf && strstr(buf, "\"server_flight_bytes\"") && strstr(buf, "\"hello_retry\"") &&
                  strstr(buf, "\"server_hello_delay_us\"") && strstr(buf, "58200"));
    struct policy *q = buf ? policy_load_buffer("w.json", buf, len, err, sizeof(err)) : NULL;
    test_cond("and read back", q != NULL);
    const struct policy_server_baseline *qb = q ? policy_server_baseline_at(q, 0) : NULL;
    test_cond("the hand-written tolerance survives",
              qb && qb->hello_delay_us.tolerance == 400 && qb->flight_bytes.max == 2245);
    policy_free(q);
    free(buf);
    policy_free(l);
    policy_free(p);
}

int main(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_policy.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    char err[512];
    const char *path = write_tmp("policy.json", example);
    struct policy *p = path ? policy_load(path, err, sizeof(err)) : NULL;
    test_cond("example loads", p != NULL);
    if (!p) {
        fprintf(stderr, "  %s\n", err);
    } else {
        test_domains(p);
        test_pins(p);
        test_issuers(p);
        test_baselines(p);
        test_round_trip(p);
        test_learn_merge(p);
    }
    test_broken();
    test_valid_variants();
    test_server_stack();
    test_server_keyless();
    policy_free(p);
    char f1[128], f2[128];
    snprintf(f1, sizeof(f1), "%s/policy.json", tmpdir);
    snprintf(f2, sizeof(f2), "%s/bad.json", tmpdir);
    unlink(f1);
    unlink(f2);
    rmdir(tmpdir);
    return test_report();
}
