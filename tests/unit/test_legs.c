/*
 * test_legs.c - the memory of recent legs (detect/legs.c): the explicit and
 * transparent shapes, what never pairs, the lowest ring slot answering
 * when several legs match, and the ring overwriting its oldest legs (their
 * name buckets unlinked) after DETECT_LEGS_MAX more; an explicit proxy
 * whose upstream leaves from another address linked by the CONNECT target,
 * and what that link never pairs.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "detect/legs.h"
#include "detect/strhash.h"
#include "tls/session.h"
#include "testhelp.h"

static struct detect_conn conn(uint64_t id, uint64_t ts_s, const uint8_t *cli, const uint8_t *srv,
                               const char *sni, const char *ja4)
{
    struct detect_conn c;
    memset(&c, 0, sizeof c);
    c.flow_id = id;
    c.ts_us = ts_s * 1000000;
    c.ip_ver = 4;
    c.client_ip = cli;
    c.server_ip = srv;
    c.sni = sni;
    c.ja4 = ja4;
    return c;
}

static const uint8_t client[4] = { 198, 18, 0, 10 }, proxy[4] = { 198, 18, 0, 1 },
                     origin[4] = { 198, 18, 1, 1 }, other[4] = { 198, 18, 0, 11 };

/* A client leg that came through HTTP CONNECT to `host`:`port`. */
static struct tls_session via(const char *host, uint16_t port)
{
    struct tls_session t;
    tls_session_init(&t);
    t.tunnel = TLS_TUNNEL_HTTP_CONNECT;
    snprintf(t.connect_host, sizeof t.connect_host, "%s", host);
    t.connect_port = port;
    return t;
}

static const uint8_t upstream[4] = { 198, 18, 0, 2 };

static void test_connect_link(void)
{
    struct leg_match m;
    struct tls_session tv = via("WWW.Bank.test", 443);
    /* client -> proxy:3128 through CONNECT; proxy's second address -> origin:443 */
    struct detect_conn a = conn(1, 100, client, proxy, "www.bank.test", "j1");
    a.tls = &tv;
    a.server_port = 3128;
    a.ts_us += 200000;
    struct detect_conn b = conn(2, 100, upstream, origin, "www.bank.test", "j2");
    b.server_port = 443;
    b.ts_us += 900000;

    struct legs *l = legs_new();
    legs_match_and_remember(l, &a, "minted", "Proxy CA", &m);
    test_cond("CONNECT leg then upstream leg: linked by the target",
              legs_match_and_remember(l, &b, "real", "Real CA", &m) && m.by_connect &&
                  !m.explicit_shape && m.other.flow_id == 1 && m.other.via_connect &&
                  m.other.connect_port == 443 && m.other_leaf);
    legs_free(l);

    l = legs_new();
    legs_match_and_remember(l, &b, "real", "Real CA", &m);
    test_cond("upstream leg then CONNECT leg: linked too",
              legs_match_and_remember(l, &a, "minted", "Proxy CA", &m) && m.by_connect &&
                  m.other.flow_id == 2 && !m.other.via_connect);
    legs_free(l);

    /* Same leaf: a tunnel (no bump) shows the origin's certificate. */
    l = legs_new();
    legs_match_and_remember(l, &a, "real", "Real CA", &m);
    test_cond("same leaf through the tunnel: no pair",
              !legs_match_and_remember(l, &b, "real", "Real CA", &m));
    legs_free(l);

    /* Out of the tight window (but within DETECT_LEG_WINDOW_S). */
    l = legs_new();
    struct detect_conn late = b;
    late.ts_us = a.ts_us + DETECT_LEG_CONNECT_WINDOW_US + 1;
    legs_match_and_remember(l, &a, "minted", "Proxy CA", &m);
    test_cond("upstream leg beyond the CONNECT window: no pair",
              !legs_match_and_remember(l, &late, "real", "Real CA", &m));
    legs_free(l);

    /* Another port than the CONNECT port. */
    l = legs_new();
    struct detect_conn port = b;
    port.server_port = 8443;
    legs_match_and_remember(l, &a, "minted", "Proxy CA", &m);
    test_cond("upstream leg to another port: no pair",
              !legs_match_and_remember(l, &port, "real", "Real CA", &m));
    legs_free(l);

    /* CONNECT to another name than the SNI. */
    l = legs_new();
    struct tls_session tw = via("other.test", 443);
    struct detect_conn w = a;
    w.tls = &tw;
    legs_match_and_remember(l, &w, "minted", "Proxy CA", &m);
    test_cond("CONNECT target not the SNI: no pair",
              !legs_match_and_remember(l, &b, "real", "Real CA", &m));
    legs_free(l);

    /* Both legs through CONNECT (two clients of two proxy addresses: one
     * proxy address would be the transparent shape). */
    l = legs_new();
    struct detect_conn a2 = a;
    a2.client_ip = other;
    a2.server_ip = upstream;
    a2.flow_id = 3;
    legs_match_and_remember(l, &a, "minted", "Proxy CA", &m);
    test_cond("two CONNECT legs: no pair",
              !legs_match_and_remember(l, &a2, "real", "Real CA", &m));
    legs_free(l);

    /* The same client address on both legs. */
    l = legs_new();
    struct detect_conn same = b;
    same.client_ip = client;
    legs_match_and_remember(l, &a, "minted", "Proxy CA", &m);
    test_cond("same client on both legs: no pair",
              !legs_match_and_remember(l, &same, "real", "Real CA", &m));
    legs_free(l);

    /* A host talking to itself never pairs, CONNECT or not. */
    l = legs_new();
    struct detect_conn self = b;
    self.client_ip = origin;
    legs_match_and_remember(l, &a, "minted", "Proxy CA", &m);
    test_cond("upstream leg from its own server address: no pair",
              !legs_match_and_remember(l, &self, "real", "Real CA", &m));
    legs_free(l);

    /* Several candidates: the lowest slot answers. */
    l = legs_new();
    struct detect_conn b2 = b;
    b2.flow_id = 4;
    b2.client_ip = other;
    legs_match_and_remember(l, &b, "real", "Real CA", &m);
    legs_match_and_remember(l, &b2, "real", "Real CA", &m);
    test_cond("two upstream candidates: the lower slot answers",
              legs_match_and_remember(l, &a, "minted", "Proxy CA", &m) && m.other.flow_id == 2);
    legs_free(l);
}

/* IPv6 legs: the shapes hold on whole addresses, not on parts that agree
 * (these addresses fold alike, 32 bits at a time, yet differ). */
static void test_ipv6(void)
{
    static const uint8_t c6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10 },
                         p6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 },
                         o6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x01 },
                         /* p6 with two 32-bit words swapped: the same fold */
                         q6[16] = { 0, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0x01 };
    struct leg_match m;
    struct legs *l = legs_new();
    struct detect_conn a = conn(1, 100, c6, p6, "v6.bank.test", "j1");
    a.ip_ver = 6;
    struct detect_conn b = conn(2, 101, p6, o6, "v6.bank.test", "j2");
    b.ip_ver = 6;
    legs_match_and_remember(l, &a, "minted", "Proxy CA", &m);
    test_cond("IPv6 explicit shape pairs",
              legs_match_and_remember(l, &b, "real", "Real CA", &m) && m.explicit_shape &&
                  m.other.flow_id == 1);
    legs_free(l);

    l = legs_new();
    struct detect_conn d = conn(3, 101, q6, o6, "v6.bank.test", "j2");
    d.ip_ver = 6;
    legs_match_and_remember(l, &a, "minted", "Proxy CA", &m);
    test_cond("IPv6 addresses that fold alike but differ: no shape",
              !legs_match_and_remember(l, &d, "real", "Real CA", &m));
    legs_free(l);
}

/* strhash(): a string's hash is the same whichever memo it goes
 * through, however many others passed since, and in another thread;
 * strings that differ (one byte, or past the memo's length) differ. */
#define SH_N 40
static char sh_str[SH_N][CFG_DETECT_HASH_LEN + 8];
static uint64_t sh_first[SH_N];

static void *sh_thread(void *arg)
{
    size_t *bad = arg;
    for (int round = 0; round < 3; round++)
        for (int i = SH_N - 1; i >= 0; i--)
            if (strhash(i % 2 ? STRHASH_NAME : STRHASH_FP, sh_str[i]) != sh_first[i])
                (*bad)++;
    return NULL;
}

static void test_strhash(void)
{
    for (int i = 0; i < SH_N; i++) {
        if (i < SH_N / 2)
            snprintf(sh_str[i], sizeof sh_str[i], "t13d15%02dh2_8daaf6152771_02713d6af862", i);
        else   /* past the memo: hashed each time */
            snprintf(sh_str[i], sizeof sh_str[i], "%0*d", CFG_DETECT_HASH_LEN + (i % 3) - 1, i);
        sh_first[i] = strhash(STRHASH_FP, sh_str[i]);
    }
    size_t bad = 0;
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < SH_N; i++) {
            if (strhash(STRHASH_NAME, sh_str[i]) != sh_first[i] ||
                strhash(STRHASH_FP, sh_str[i]) != sh_first[i])
                bad++;
            for (int j = 0; j < i; j++)
                if (sh_first[j] == sh_first[i])
                    bad++;
        }
    pthread_t th;
    size_t tbad = 0;
    bool started = pthread_create(&th, NULL, sh_thread, &tbad) == 0;
    if (started)
        pthread_join(th, NULL);
    test_cond("strhash: one value per string across memos, churn and threads",
              bad == 0 && started && tbad == 0);
    test_cond("strhash: the empty string hashes", strhash(STRHASH_FP, "") == strhash(STRHASH_NAME, ""));
}

/*
 * Leaves as SHA-256 hex digits (hashed apart from other strings) and more
 * distinct client fingerprints than the per-thread fingerprint memo
 * holds, across two tables whose hash keys differ: each pair is told
 * apart by what differs, and only by that.
 */
static void test_hash_memo(void)
{
    static const char leaf_a[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    static const char leaf_b[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdee";
    struct legs *t[2] = { legs_new(), legs_new() };
    test_cond("two tables", t[0] && t[1]);
    if (!t[0] || !t[1])
        return;
    size_t bad = 0;
    char j[20][16];
    for (int i = 0; i < 20; i++)
        snprintf(j[i], sizeof j[i], "t13d%02d_x", i);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 20; i++) {
            for (int w = 0; w < 2; w++) {
                struct leg_match m;
                uint64_t ts = 1000 + (uint64_t)(round * 20 + i) * 100;   /* apart from before */
                /* client -> proxy, then proxy -> origin: the explicit shape */
                struct detect_conn a = conn(1, ts, client, proxy, "memo.bank.test", j[i]);
                struct detect_conn same = conn(2, ts, proxy, origin, "memo.bank.test", j[i]);
                struct detect_conn fp = conn(3, ts, proxy, origin, "memo.bank.test",
                                             j[(i + 1) % 20]);
                struct detect_conn leaf = conn(4, ts, proxy, origin, "memo.bank.test", j[i]);
                if (legs_match_and_remember(t[w], &a, leaf_a, "CA", &m))
                    bad++;
                if (legs_match_and_remember(t[w], &same, leaf_a, "CA", &m))
                    bad++;   /* the same leaf and fingerprint */
                if (!legs_match_and_remember(t[w], &fp, leaf_a, "CA", &m) || m.other_leaf ||
                    !m.other_fp)
                    bad++;   /* another fingerprint */
                if (!legs_match_and_remember(t[w], &leaf, leaf_b, "CA", &m) || !m.other_leaf)
                    bad++;   /* a leaf differing in its last digit */
            }
        }
    }
    test_cond("fingerprints and digest leaves told apart in two tables, memo churned", bad == 0);
    legs_free(t[0]);
    legs_free(t[1]);
}

int main(void)
{
    test_strhash();
    test_hash_memo();
    struct legs *l = legs_new();
    struct leg_match m;
    test_cond("legs_new", l != NULL);
    test_ipv6();
    if (!l)
        return test_report();

    /* Explicit proxy: client -> proxy, then proxy -> origin, other leaf. */
    struct detect_conn a = conn(1, 100, client, proxy, "bank.example", "t13d1516h2_aaa_bbb");
    struct detect_conn b = conn(2, 101, proxy, origin, "bank.example", "t13d1516h2_aaa_bbb");
    test_cond("first leg: nothing to pair with",
              !legs_match_and_remember(l, &a, "aa", "Proxy CA", &m));
    test_cond("second leg pairs (explicit shape)",
              legs_match_and_remember(l, &b, "bb", "Real CA", &m) && m.explicit_shape &&
                  m.other.flow_id == 1 && m.other_leaf && !m.other_fp);

    /* Same name, same leaf, same fingerprint: nothing differs. */
    struct legs *l3 = legs_new();
    struct detect_conn c = conn(3, 102, proxy, origin, "bank.example", "t13d1516h2_aaa_bbb");
    legs_match_and_remember(l3, &a, "aa", "Proxy CA", &m);
    test_cond("same leaf and fingerprint: no pair",
              !legs_match_and_remember(l3, &c, "aa", "Proxy CA", &m));
    legs_free(l3);

    /* Out of the window. */
    struct detect_conn d =
        conn(4, 100 + DETECT_LEG_WINDOW_S + 5, proxy, origin, "bank.example", "t13d_x_y");
    test_cond("outside the window: no pair", !legs_match_and_remember(l, &d, "cc", "X", &m));

    /* Client and server the same address never pair. */
    struct detect_conn e = conn(5, 102, client, client, "bank.example", "t13d_x_y");
    test_cond("a host talking to itself: no pair", !legs_match_and_remember(l, &e, "dd", "X", &m));

    /* Several matching legs: the lowest ring slot answers. */
    struct legs *l2 = legs_new();
    struct detect_conn p1 = conn(10, 200, client, proxy, "shop.example", "j1");
    struct detect_conn p2 = conn(11, 200, other, proxy, "shop.example", "j2");
    struct detect_conn q = conn(12, 201, proxy, origin, "shop.example", "j3");
    legs_match_and_remember(l2, &p1, "l1", "A", &m);
    legs_match_and_remember(l2, &p2, "l2", "A", &m);
    test_cond("two candidates: the older (lower slot) answers",
              legs_match_and_remember(l2, &q, "l3", "B", &m) && m.other.flow_id == 10);

    /* Fill the ring with other names: the first legs are overwritten and
     * their buckets must no longer lead to them. */
    char name[32];
    for (uint64_t i = 0; i < DETECT_LEGS_MAX; i++) {
        snprintf(name, sizeof name, "n%llu.example", (unsigned long long)i);
        struct detect_conn f = conn(1000 + i, 202, client, proxy, name, "j");
        legs_match_and_remember(l2, &f, "lf", "A", &m);
    }
    struct detect_conn r = conn(13, 203, proxy, origin, "shop.example", "j3");
    test_cond("overwritten legs are forgotten", !legs_match_and_remember(l2, &r, "l9", "B", &m));
    struct detect_conn s = conn(14, 203, proxy, origin, "n1023.example", "j9");
    test_cond("the newest legs are still found",
              legs_match_and_remember(l2, &s, "lz", "B", &m) &&
                  m.other.flow_id == 1000 + DETECT_LEGS_MAX - 1);
    snprintf(name, sizeof name, "n%d.example", 0);
    struct detect_conn t = conn(15, 203, proxy, origin, name, "j9");
    test_cond("a slot reused twice still unlinks cleanly",
              !legs_match_and_remember(l2, &t, "lz", "B", &m));

    legs_free(l);
    legs_free(l2);
    test_connect_link();
    return test_report();
}
