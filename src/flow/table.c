/*
 * table.c - hash table + LRU list of flows (see table.h).
 *
 * Chained buckets, never resized: the bucket array is sized for the maximum
 * at creation, so insertion cost does not spike mid-capture.
 */
#include "flow/table.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"

struct flow_table *flow_table_new(size_t max, const struct hash_key *key)
{
    struct flow_table *ft = calloc(1, sizeof(*ft));
    if (!ft)
        return NULL;
    size_t n = 1024;
    while (n < max && n < ((size_t)1 << 30))
        n <<= 1;
    ft->buckets = calloc(n, sizeof(*ft->buckets));
    if (!ft->buckets) {
        free(ft);
        return NULL;
    }
    ft->n_buckets = n;
    ft->max = max ? max : 1;
    ft->key = *key;
    return ft;
}

void flow_table_free(struct flow_table *ft)
{
    if (!ft)
        return;
    struct flow *f = ft->lru_head;
    while (f) {
        struct flow *next = f->lru_next;
        free(f->tun);
        free(f);
        f = next;
    }
    while (ft->spare) {
        struct flow *next = ft->spare->hnext;
        free(ft->spare);
        ft->spare = next;
    }
    free(ft->buckets);
    free(ft);
}

static int addr_port_cmp(const uint8_t *a1, uint16_t p1, const uint8_t *a2, uint16_t p2)
{
    int c = memcmp(a1, a2, 16);
    if (c)
        return c;
    return (int)p1 - (int)p2;
}

void flow_key_from_pkt(const struct pkt *p, struct flow_key *key, int *side)
{
    memset(key, 0, sizeof(*key));
    key->ip_ver = p->ip_ver;
    key->proto = p->proto;
    key->zone = p->zone;
    if (addr_port_cmp(p->src, p->sport, p->dst, p->dport) <= 0) {
        memcpy(key->addr[0], p->src, 16);
        memcpy(key->addr[1], p->dst, 16);
        key->port[0] = p->sport;
        key->port[1] = p->dport;
        *side = 0;
    } else {
        memcpy(key->addr[0], p->dst, 16);
        memcpy(key->addr[1], p->src, 16);
        key->port[0] = p->dport;
        key->port[1] = p->sport;
        *side = 1;
    }
}

size_t flow_pick(const struct pkt *p, size_t n)
{
    /* Symmetric: the flow table's normalised key (lower endpoint first),
     * the same whatever the direction.  FNV-1a with a fixed basis: every
     * worker that reads the file itself must make the same choice, and the
     * choice only spreads load, it decides no table layout. */
    struct flow_key k;
    int side;
    flow_key_from_pkt(p, &k, &side);
    size_t al = k.ip_ver == 4 ? 4 : 16;
    uint64_t h = 1469598103934665603ULL;
#define MIX(byte) (h = (h ^ (uint8_t)(byte)) * 1099511628211ULL)
    for (int e = 0; e < 2; e++)
        for (size_t i = 0; i < al; i++)
            MIX(k.addr[e][i]);
    for (int e = 0; e < 2; e++) {
        MIX(k.port[e] >> 8);
        MIX(k.port[e]);
    }
    MIX(k.proto);
#undef MIX
    return (size_t)(h % n);
}

/* Hash only the bytes that matter: 18 for IPv4, 42 for IPv6. */
static uint64_t key_hash(const struct flow_table *ft, const struct flow_key *key)
{
    uint8_t b[44];
    size_t alen = key->ip_ver == 4 ? 4 : 16, n = 0;
    memcpy(b, key->addr[0], alen);
    memcpy(b + alen, key->addr[1], alen);
    n = 2 * alen;
    memcpy(b + n, key->port, sizeof(key->port));
    n += sizeof(key->port);
    b[n++] = key->proto;
    b[n++] = key->ip_ver;
    memcpy(b + n, &key->zone, sizeof(key->zone));
    n += sizeof(key->zone);
    return hash_siphash13(&ft->key, b, n);   /* internal: never written out */
}

struct flow *flow_table_lookup(struct flow_table *ft, const struct flow_key *key)
{
    uint64_t h = key_hash(ft, key);
    for (struct flow *f = ft->buckets[h & (ft->n_buckets - 1)]; f; f = f->hnext)
        if (f->hash == h && memcmp(&f->key, key, sizeof(*key)) == 0)
            return f;
    return NULL;
}

static void lru_unlink(struct flow_table *ft, struct flow *f)
{
    if (f->lru_prev)
        f->lru_prev->lru_next = f->lru_next;
    else
        ft->lru_head = f->lru_next;
    if (f->lru_next)
        f->lru_next->lru_prev = f->lru_prev;
    else
        ft->lru_tail = f->lru_prev;
    f->lru_prev = f->lru_next = NULL;
}

static void lru_push_head(struct flow_table *ft, struct flow *f)
{
    f->lru_prev = NULL;
    f->lru_next = ft->lru_head;
    if (ft->lru_head)
        ft->lru_head->lru_prev = f;
    ft->lru_head = f;
    if (!ft->lru_tail)
        ft->lru_tail = f;
}

struct flow *flow_table_insert(struct flow_table *ft, const struct flow_key *key,
                               uint64_t ts_us)
{
    if (ft->count >= ft->max)
        return NULL;
    struct flow *f = ft->spare;
    if (f) {
        ft->spare = f->hnext;
        ft->n_spare--;
        memset(f, 0, sizeof(*f));
    } else if (!(f = calloc(1, sizeof(*f)))) {
        return NULL;
    }
    f->key = *key;
    f->hash = key_hash(ft, key);
    f->seq = ++ft->next_seq;
    f->first_ts_us = f->last_ts_us = ts_us;
    size_t b = f->hash & (ft->n_buckets - 1);
    f->hnext = ft->buckets[b];
    ft->buckets[b] = f;
    lru_push_head(ft, f);
    ft->count++;
    return f;
}

void flow_table_touch(struct flow_table *ft, struct flow *f, uint64_t ts_us)
{
    if (ts_us > f->last_ts_us)
        f->last_ts_us = ts_us;
    if (ft->lru_head != f) {
        lru_unlink(ft, f);
        lru_push_head(ft, f);
    }
}

void flow_table_remove(struct flow_table *ft, struct flow *f)
{
    struct flow **pp = &ft->buckets[f->hash & (ft->n_buckets - 1)];
    while (*pp && *pp != f)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = f->hnext;
    lru_unlink(ft, f);
    ft->count--;
    free(f->tun);
    if (ft->n_spare < CFG_FLOW_SPARE) {
        f->hnext = ft->spare;   /* the next insert takes it: no malloc per flow */
        ft->spare = f;
        ft->n_spare++;
    } else {
        free(f);
    }
}
