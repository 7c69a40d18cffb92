/*
 * test_flow.c - unit tests for flow/table.c: both directions map to one
 * flow, the cap, LRU order, removal, and per-run hash keys.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "flow/table.h"
#include "config.h"
#include "testhelp.h"

static void mkpkt(struct pkt *p, uint8_t a, uint16_t sp, uint8_t b, uint16_t dp)
{
    memset(p, 0, sizeof(*p));
    p->ip_ver = 4;
    p->proto = IPPROTO_TCP;
    p->src[0] = 198; p->src[1] = 18; p->src[3] = a;
    p->dst[0] = 198; p->dst[1] = 18; p->dst[3] = b;
    p->sport = sp;
    p->dport = dp;
}

int main(void)
{
    struct hash_key k;
    hash_random_key(&k);
    struct flow_table *ft = flow_table_new(100, &k);
    struct pkt p, q;
    struct flow_key k1, k2;
    int s1, s2;

    mkpkt(&p, 1, 40000, 2, 443);
    mkpkt(&q, 2, 443, 1, 40000);
    flow_key_from_pkt(&p, &k1, &s1);
    flow_key_from_pkt(&q, &k2, &s2);
    test_cond("both directions give one key", memcmp(&k1, &k2, sizeof(k1)) == 0);
    test_cond("opposite sides", s1 != s2);

    struct flow *f = flow_table_insert(ft, &k1, 10);
    test_cond("insert", f && ft->count == 1 && f->seq == 1);
    test_cond("lookup from the other direction", flow_table_lookup(ft, &k2) == f);

    /* Fill to the cap. */
    for (int i = 0; i < 99; i++) {
        struct flow_key kk;
        int s;
        mkpkt(&p, 3, (uint16_t)(1000 + i), 4, 443);
        flow_key_from_pkt(&p, &kk, &s);
        flow_table_insert(ft, &kk, 20 + (uint64_t)i);
    }
    test_cond("full at max", ft->count == 100);
    struct flow_key extra;
    int s;
    mkpkt(&p, 5, 1, 6, 2);
    flow_key_from_pkt(&p, &extra, &s);
    test_cond("insert refused when full", flow_table_insert(ft, &extra, 500) == NULL);

    test_cond("oldest is the first flow", flow_table_oldest(ft) == f);
    flow_table_touch(ft, f, 1000);
    test_cond("touch moves it to the head", ft->lru_head == f && flow_table_oldest(ft) != f &&
                                                f->last_ts_us == 1000);
    flow_table_touch(ft, f, 5);
    test_cond("time never goes back", f->last_ts_us == 1000);

    struct flow *old = flow_table_oldest(ft);
    flow_table_remove(ft, old);
    test_cond("remove", ft->count == 99 && flow_table_lookup(ft, &extra) == NULL);
    old->app = (void *)old;   /* state a reused flow must not keep */
    old->last_ts_us = 12345;
    struct flow *again = flow_table_insert(ft, &extra, 600);
    test_cond("insert after remove", again != NULL);
    test_cond("a removed flow is reused, cleared", again == old && again->app == NULL &&
                                                     again->last_ts_us == 600 &&
                                                     again->first_ts_us == 600 &&
                                                     memcmp(&again->key, &extra, sizeof extra) == 0 &&
                                                     ft->n_spare == 0);

    /* Spares are bounded: removing every flow keeps at most CFG_FLOW_SPARE. */
    {
        struct flow_table *t2 = flow_table_new(CFG_FLOW_SPARE + 50, &k);
        for (int i = 0; i < CFG_FLOW_SPARE + 50; i++) {
            struct flow_key kk;
            int sd;
            mkpkt(&p, 7, (uint16_t)(2000 + i), 8, 443);
            flow_key_from_pkt(&p, &kk, &sd);
            flow_table_insert(t2, &kk, (uint64_t)i);
        }
        while (flow_table_oldest(t2))
            flow_table_remove(t2, flow_table_oldest(t2));
        test_cond("spares capped", t2->count == 0 && t2->n_spare == CFG_FLOW_SPARE);
        flow_table_free(t2);
    }

    /* Every flow is still reachable through its bucket. */
    int lost = 0;
    for (struct flow *x = ft->lru_head; x; x = x->lru_next)
        if (flow_table_lookup(ft, &x->key) != x)
            lost++;
    test_cond("all flows reachable", lost == 0);

    /* Different per-run keys give different hashes for the same key. */
    struct hash_key a = { 1, 2 }, b = { 3, 4 };
    test_cond("keyed hash", hash_siphash(&a, &k1, sizeof(k1)) != hash_siphash(&b, &k1, sizeof(k1)));
    /* SipHash-2-4 reference vector: key 00..0f, empty message. */
    struct hash_key ref = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };
    test_cond("siphash reference vector", hash_siphash(&ref, "", 0) == 0x726fdb47dd0e0e31ULL);
    uint8_t msg[15];
    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    test_cond("siphash reference vector (15 bytes)", hash_siphash(&ref, msg, 15) == 0xa129ca6149be45e5ULL);

    flow_table_free(ft);
    return test_report();
}
