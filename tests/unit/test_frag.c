/*
 * test_frag.c - unit tests for reasm/frag.c: in order and out of order,
 * IPv4 and IPv6, first-copy-wins overlaps, the attacks it refuses, its
 * caps (pieces, datagrams, size, memcap, the fragments' share of the
 * memcap), the timeout and the end of an input.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "reasm/frag.h"
#include "testhelp.h"

static struct stats st;
static uint8_t payload[70000];

static struct pkt frag(int ver, uint32_t id, uint32_t off, size_t len, bool more, uint8_t proto)
{
    struct pkt p;
    memset(&p, 0, sizeof(p));
    p.ip_ver = (uint8_t)ver;
    p.src[0] = 198; p.src[1] = 18; p.src[3] = 1;
    p.dst[0] = 198; p.dst[1] = 18; p.dst[3] = 2;
    p.frag.id = id;
    p.frag.offset = off;
    p.frag.more = more;
    p.frag.proto = proto;
    p.frag.data = payload + off;
    p.frag.len = len;
    return p;
}

static void test_order(void)
{
    struct memcap mc;
    memcap_init(&mc, 1 << 20);
    struct frag_table *t = frag_new(&mc, &st);
    size_t len = 0;
    struct pkt a = frag(4, 1, 0, 64, true, IPPROTO_UDP), b = frag(4, 1, 64, 64, true, IPPROTO_UDP),
               c = frag(4, 1, 128, 30, false, IPPROTO_UDP);
    test_cond("last first: kept", frag_add(t, &c, 1, &len) == NULL);
    test_cond("first: kept", frag_add(t, &a, 2, &len) == NULL);
    const uint8_t *d = frag_add(t, &b, 3, &len);
    test_cond("middle completes it", d && len == 20 + 158);
    test_cond("rebuilt IPv4 header", d && d[0] == 0x45 && (d[2] << 8 | d[3]) == 178 && d[9] == IPPROTO_UDP &&
                                         d[6] == 0 && d[7] == 0 && d[12] == 198 && d[19] == 2);
    test_cond("payload whole", d && memcmp(d + 20, payload, 158) == 0);
    test_cond("counted", st.frag_reassembled == 1);

    struct pkt x = frag(6, 9, 0, 1280, true, IPPROTO_TCP), y = frag(6, 9, 1280, 100, false, IPPROTO_TCP);
    frag_add(t, &x, 4, &len);
    d = frag_add(t, &y, 5, &len);
    test_cond("IPv6: rebuilt header and payload", d && len == 40 + 1380 && d[0] == 0x60 &&
                                                      (d[4] << 8 | d[5]) == 1380 && d[6] == IPPROTO_TCP &&
                                                      memcmp(d + 40, payload, 1380) == 0);
    frag_free(t);
    test_cond("memcap given back", mc.used == 0);
}

static void test_overlap_and_attacks(void)
{
    struct memcap mc;
    memcap_init(&mc, 1 << 20);
    struct frag_table *t = frag_new(&mc, &st);
    size_t len = 0;
    uint8_t other[64];
    memset(other, 0xee, sizeof(other));
    struct pkt a = frag(4, 2, 0, 64, true, IPPROTO_UDP), b = frag(4, 2, 64, 64, false, IPPROTO_UDP);
    struct pkt b2 = b;
    b2.frag.data = other;
    unsigned long conflicts = st.anomalies[STATS_FRAG_OVERLAP_CONFLICT];
    frag_add(t, &b, 1, &len);
    frag_add(t, &b2, 2, &len);
    const uint8_t *d = frag_add(t, &a, 3, &len);
    test_cond("overlap: first copy wins, conflict counted",
              d && memcmp(d + 20 + 64, payload + 64, 64) == 0 &&
                  st.anomalies[STATS_FRAG_OVERLAP_CONFLICT] == conflicts + 1);

    unsigned long attacks = st.anomalies[STATS_FRAG_ATTACK];
    struct pkt o8 = frag(4, 3, 8, 64, false, IPPROTO_TCP);
    test_cond("TCP fragment at offset 8 refused", frag_add(t, &o8, 4, &len) == NULL &&
                                                       st.anomalies[STATS_FRAG_ATTACK] == attacks + 1);
    struct pkt tiny = frag(4, 4, 0, 16, true, IPPROTO_TCP);
    test_cond("first fragment without the TCP header refused",
              frag_add(t, &tiny, 5, &len) == NULL && st.anomalies[STATS_FRAG_ATTACK] == attacks + 2);
    struct pkt odd = frag(4, 5, 0, 30, true, IPPROTO_UDP);
    test_cond("a non-last fragment not a multiple of 8 refused", frag_add(t, &odd, 6, &len) == NULL &&
                                                                      st.anomalies[STATS_FRAG_ATTACK] == attacks + 3);
    struct pkt big = frag(4, 6, 65512, 16, false, IPPROTO_UDP);
    test_cond("beyond 65,535 bytes refused", frag_add(t, &big, 7, &len) == NULL &&
                                                  st.anomalies[STATS_FRAG_TOO_LARGE] == 1);
    /* Two different last fragments. */
    struct pkt l1 = frag(4, 7, 64, 8, false, IPPROTO_UDP), l2 = frag(4, 7, 128, 8, false, IPPROTO_UDP);
    frag_add(t, &l1, 8, &len);
    test_cond("a second, different end refused", frag_add(t, &l2, 9, &len) == NULL &&
                                                      st.anomalies[STATS_FRAG_ATTACK] == attacks + 4);
    frag_free(t);
    test_cond("memcap given back", mc.used == 0);
}

static void test_caps(void)
{
    struct memcap mc;
    memcap_init(&mc, 64 << 20);
    struct frag_table *t = frag_new(&mc, &st);
    size_t len = 0;
    /* Pieces: every other 8-byte block of one datagram. */
    unsigned long pieces = st.caps[STATS_FRAG_PIECES];
    const uint8_t *d = NULL;
    for (unsigned i = 0; i <= CFG_FRAG_MAX_PIECES; i++) {
        struct pkt f = frag(4, 10, i * 16, 8, true, IPPROTO_UDP);
        d = frag_add(t, &f, 1, &len);
    }
    test_cond("more than CFG_FRAG_MAX_PIECES ranges: dropped, counted",
              d == NULL && st.caps[STATS_FRAG_PIECES] == pieces + 1);
    /* Datagrams: one more than the table holds evicts the oldest. */
    for (unsigned i = 0; i <= CFG_FRAG_MAX_DATAGRAMS; i++) {
        struct pkt f = frag(4, 1000 + i, 0, 8, true, IPPROTO_UDP);
        frag_add(t, &f, 2, &len);
    }
    test_cond("full table: the oldest evicted", st.caps[STATS_FRAG_EVICTED] == 1);
    /* Timeout. */
    unsigned long to = st.anomalies[STATS_FRAG_TIMEOUT];
    frag_expire(t, 2 + (uint64_t)CFG_FRAG_TIMEOUT * 1000000ULL - 1);
    test_cond("not yet timed out", st.anomalies[STATS_FRAG_TIMEOUT] == to);
    frag_expire(t, 2 + (uint64_t)CFG_FRAG_TIMEOUT * 1000000ULL);
    test_cond("timed out, counted", st.anomalies[STATS_FRAG_TIMEOUT] == to + CFG_FRAG_MAX_DATAGRAMS);
    test_cond("memcap given back after expiry", mc.used == 0);
    frag_free(t);

    memcap_init(&mc, 2048);
    t = frag_new(&mc, &st);
    unsigned long hits = st.caps[STATS_MEMCAP];
    struct pkt f = frag(4, 20, 0, 1200, true, IPPROTO_UDP);
    test_cond("memcap: dropped, counted", frag_add(t, &f, 1, &len) == NULL &&
                                               st.caps[STATS_MEMCAP] == hits + 1 && mc.used == 0);
    frag_free(t);
}

/* Fragments that never complete hold at most CFG_FRAG_MEMCAP_PERCENT of
 * the memcap: the oldest are evicted, the rest stays for the flows, and a
 * datagram that comes whole after the flood is still reassembled. */
static void test_flood(void)
{
    struct memcap mc;
    memcap_init(&mc, 4u << 20);
    struct frag_table *t = frag_new(&mc, &st);
    size_t len = 0, share = mc.cap / 100 * CFG_FRAG_MEMCAP_PERCENT, most = 0;
    unsigned long ev = st.caps[STATS_FRAG_EVICTED], hits = st.caps[STATS_MEMCAP];
    for (unsigned i = 0; i < 200; i++) {
        struct pkt f = frag(4, 5000 + i, 65000, 8, true, IPPROTO_TCP);
        frag_add(t, &f, 1, &len);
        if (mc.used > most)
            most = mc.used;
    }
    test_cond("flood: within the fragments' share", most <= share && most > share / 2);
    test_cond("flood: the oldest evicted, counted", st.caps[STATS_FRAG_EVICTED] > ev &&
                                                        st.caps[STATS_MEMCAP] == hits);
    struct pkt a = frag(4, 9000, 0, 1000, true, IPPROTO_UDP);
    struct pkt b = frag(4, 9000, 1000, 500, false, IPPROTO_UDP);
    test_cond("flood: a later datagram still completes",
              frag_add(t, &a, 2, &len) == NULL && frag_add(t, &b, 2, &len) != NULL &&
                  len == 20 + 1500);
    frag_free(t);
    test_cond("flood: memcap given back", mc.used == 0);
}

/* The end of an input: what is incomplete goes, uncounted, and a datagram
 * of the next input (its clock older) starts afresh. */
static void test_flush(void)
{
    struct memcap mc;
    memcap_init(&mc, 4u << 20);
    struct frag_table *t = frag_new(&mc, &st);
    size_t len = 0;
    struct pkt a = frag(4, 77, 0, 1000, true, IPPROTO_UDP);
    struct pkt b = frag(4, 77, 1000, 500, false, IPPROTO_UDP);
    frag_add(t, &a, 5000000, &len);
    unsigned long to = st.anomalies[STATS_FRAG_TIMEOUT];
    frag_flush(t);
    test_cond("flush: memcap given back, nothing counted",
              mc.used == 0 && st.anomalies[STATS_FRAG_TIMEOUT] == to);
    test_cond("flush: the second half alone does not complete it",
              frag_add(t, &b, 1, &len) == NULL);
    test_cond("flush: the next input's datagram completes",
              frag_add(t, &a, 2, &len) != NULL && len == 20 + 1500);
    frag_free(t);
    test_cond("flush: memcap given back at the end", mc.used == 0);
}

int main(void)
{
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 7 + 3);
    test_order();
    test_overlap_and_attacks();
    test_caps();
    test_flood();
    test_flush();
    return test_report();
}
