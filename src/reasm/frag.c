/*
 * frag.c - IPv4 and IPv6 fragment reassembly (see frag.h).
 *
 * A datagram in reassembly keeps its payload in one buffer that grows to
 * the highest byte seen, with CFG_FRAG_HEADROOM bytes in front where the
 * rebuilt IP header goes once it is complete, and the byte ranges it holds
 * (sorted, merged).  Datagrams are found by a SipHash of their key and
 * listed oldest first for eviction and expiry.
 */
#include "reasm/frag.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util/hash.h"

#define FRAG_HEADROOM 40        /* an IPv6 header; IPv4's 20 fits */
#define FRAG_MAX_PAYLOAD 65535u
#define FRAG_BUCKETS 4096       /* power of two */

struct range {
    uint32_t lo, hi;            /* [lo, hi) of the payload */
};

struct dgram {
    struct dgram *hnext;
    struct dgram *older, *newer;
    uint8_t ip_ver, proto;
    uint8_t src[16], dst[16];
    uint32_t id, zone;
    uint64_t h;                 /* key_hash() of its key: its bucket */
    uint64_t first_us;
    uint8_t *buf;               /* FRAG_HEADROOM + cap bytes, charged */
    size_t cap;
    uint32_t total;             /* payload length, once the last fragment came */
    bool have_last;
    unsigned n;
    struct range r[CFG_FRAG_MAX_PIECES];
};

struct frag_table {
    struct memcap *mc;
    struct stats *st;
    size_t used;                /* bytes charged for datagrams, kept and done */
    struct hash_key key;
    struct dgram *buckets[FRAG_BUCKETS];
    struct dgram *oldest, *newest;
    size_t count;
    struct dgram *done;         /* returned by the last frag_add(), freed at the next */
};

struct frag_table *frag_new(struct memcap *mc, struct stats *st)
{
    struct frag_table *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->mc = mc;
    t->st = st;
    hash_random_key(&t->key);
    return t;
}

static void dgram_free(struct frag_table *t, struct dgram *d)
{
    if (d->buf) {
        memcap_free(t->mc, d->buf, FRAG_HEADROOM + d->cap);
        t->used -= FRAG_HEADROOM + d->cap;
    }
    memcap_free(t->mc, d, sizeof(*d));
    t->used -= sizeof(*d);
}

static uint64_t key_hash(const struct frag_table *t, const struct pkt *p)
{
    uint8_t b[16 + 16 + 4 + 4 + 2];
    size_t al = p->ip_ver == 4 ? 4 : 16, n = 0;
    memcpy(b, p->src, al);
    memcpy(b + al, p->dst, al);
    n = 2 * al;
    memcpy(b + n, &p->frag.id, 4);
    memcpy(b + n + 4, &p->zone, 4);
    b[n + 8] = p->ip_ver;
    b[n + 9] = p->frag.proto;
    return hash_siphash(&t->key, b, n + 10);
}

/* Unlink d from its bucket and the age list (not freed). */
static void unlink_dgram(struct frag_table *t, struct dgram *d)
{
    struct dgram **pp = &t->buckets[d->h & (FRAG_BUCKETS - 1)];
    while (*pp && *pp != d)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = d->hnext;
    if (d->older)
        d->older->newer = d->newer;
    else
        t->oldest = d->newer;
    if (d->newer)
        d->newer->older = d->older;
    else
        t->newest = d->older;
    t->count--;
}

static void drop(struct frag_table *t, struct dgram *d)
{
    unlink_dgram(t, d);
    dgram_free(t, d);
}

void frag_free(struct frag_table *t)
{
    if (!t)
        return;
    frag_flush(t);
    if (t->done)
        dgram_free(t, t->done);
    free(t);
}

void frag_expire(struct frag_table *t, uint64_t now_us)
{
    const uint64_t life = (uint64_t)CFG_FRAG_TIMEOUT * 1000000ULL;
    while (t->oldest && now_us >= t->oldest->first_us + life) {
        stats_anomaly(t->st, STATS_FRAG_TIMEOUT);
        drop(t, t->oldest);
    }
}

void frag_flush(struct frag_table *t)
{
    while (t->oldest)
        drop(t, t->oldest);
}

/* Room for `need` more bytes within the fragments' share of the memcap
 * (CFG_FRAG_MEMCAP_PERCENT), made by evicting the oldest datagrams other
 * than `keep`; false when even that is not enough. */
static bool make_room(struct frag_table *t, const struct dgram *keep, size_t need)
{
    size_t budget = t->mc->cap / 100 * CFG_FRAG_MEMCAP_PERCENT;
    while (t->used + need > budget) {
        struct dgram *o = t->oldest;
        if (o && o == keep)
            o = o->newer;
        if (!o)
            return false;
        stats_cap(t->st, STATS_FRAG_EVICTED);
        drop(t, o);
    }
    return true;
}

/* Copy [lo, hi) of `data` into d where no byte is held yet; count a
 * conflict where a held byte differs.  Then record the range.  False when
 * the ranges would be more than CFG_FRAG_MAX_PIECES. */
static bool merge(struct frag_table *t, struct dgram *d, uint32_t lo, uint32_t hi,
                  const uint8_t *data)
{
    uint8_t *pl = d->buf + FRAG_HEADROOM;
    uint32_t at = lo;
    bool conflict = false;
    for (unsigned i = 0; i < d->n && at < hi; i++) {
        const struct range *r = &d->r[i];
        if (r->hi <= at)
            continue;
        if (r->lo >= hi)
            break;
        if (r->lo > at) {
            memcpy(pl + at, data + (at - lo), r->lo - at);
            at = r->lo;
        }
        uint32_t end = r->hi < hi ? r->hi : hi;
        if (memcmp(pl + at, data + (at - lo), end - at) != 0)
            conflict = true;   /* the first copy stays */
        at = end;
    }
    if (at < hi)
        memcpy(pl + at, data + (at - lo), hi - at);
    if (conflict)
        stats_anomaly(t->st, STATS_FRAG_OVERLAP_CONFLICT);

    /* Insert [lo, hi) and merge what now touches. */
    unsigned i = 0;
    while (i < d->n && d->r[i].hi < lo)
        i++;
    unsigned j = i;
    uint32_t nlo = lo, nhi = hi;
    while (j < d->n && d->r[j].lo <= hi) {
        if (d->r[j].lo < nlo)
            nlo = d->r[j].lo;
        if (d->r[j].hi > nhi)
            nhi = d->r[j].hi;
        j++;
    }
    if (j == i && d->n == CFG_FRAG_MAX_PIECES)
        return false;
    memmove(&d->r[i + 1], &d->r[j], (d->n - j) * sizeof(d->r[0]));
    d->n = d->n - (j - i) + 1;
    d->r[i].lo = nlo;
    d->r[i].hi = nhi;
    return true;
}

/* Reject what RFC 1858/3128/7112 call attacks; true when acceptable. */
static bool sane(const struct pkt *p)
{
    if (p->frag.proto == IPPROTO_TCP && p->frag.offset == 8)
        return false;   /* would rewrite the TCP flags */
    if (p->frag.offset == 0 && p->frag.more) {
        size_t need = p->frag.proto == IPPROTO_TCP ? 20 : p->frag.proto == IPPROTO_UDP ? 8 : 0;
        if (p->frag.len < need)
            return false;   /* the transport header split over fragments */
    }
    return true;
}

const uint8_t *frag_add(struct frag_table *t, const struct pkt *p, uint64_t now_us,
                        size_t *len)
{
    if (t->done) {
        dgram_free(t, t->done);
        t->done = NULL;
    }
    uint64_t h = key_hash(t, p);
    size_t al = p->ip_ver == 4 ? 4 : 16;
    struct dgram *d = t->buckets[h & (FRAG_BUCKETS - 1)];
    for (; d; d = d->hnext)
        if (d->id == p->frag.id && d->ip_ver == p->ip_ver && d->proto == p->frag.proto &&
            d->zone == p->zone && memcmp(d->src, p->src, al) == 0 &&
            memcmp(d->dst, p->dst, al) == 0)
            break;
    if (!d) {
        if (t->count >= CFG_FRAG_MAX_DATAGRAMS) {
            stats_cap(t->st, STATS_FRAG_EVICTED);
            drop(t, t->oldest);
        }
        d = make_room(t, NULL, sizeof(*d)) ? memcap_calloc(t->mc, sizeof(*d)) : NULL;
        if (!d) {
            stats_cap(t->st, STATS_MEMCAP);
            return NULL;
        }
        t->used += sizeof(*d);
        d->ip_ver = p->ip_ver;
        d->proto = p->frag.proto;
        memcpy(d->src, p->src, 16);
        memcpy(d->dst, p->dst, 16);
        d->id = p->frag.id;
        d->zone = p->zone;
        d->h = h;
        d->first_us = now_us;
        d->hnext = t->buckets[h & (FRAG_BUCKETS - 1)];
        t->buckets[h & (FRAG_BUCKETS - 1)] = d;
        d->older = t->newest;
        if (t->newest)
            t->newest->newer = d;
        else
            t->oldest = d;
        t->newest = d;
        t->count++;
    }

    uint64_t lo = p->frag.offset, hi = lo + p->frag.len;
    if (!sane(p)) {
        stats_anomaly(t->st, STATS_FRAG_ATTACK);
        drop(t, d);
        return NULL;
    }
    uint64_t max = p->ip_ver == 4 ? FRAG_MAX_PAYLOAD - 20 : FRAG_MAX_PAYLOAD;
    if (hi > max || (p->frag.more && (p->frag.len % 8) != 0) ||
        (d->have_last && (hi > d->total || (!p->frag.more && hi != d->total))) ||
        (!p->frag.more && d->n > 0 && d->r[d->n - 1].hi > hi)) {
        stats_anomaly(t->st, hi > max ? STATS_FRAG_TOO_LARGE : STATS_FRAG_ATTACK);
        drop(t, d);
        return NULL;
    }
    if (!p->frag.more) {
        d->have_last = true;
        d->total = (uint32_t)hi;
    }
    if (hi > d->cap) {
        size_t ncap = d->cap ? d->cap : 1024;
        while (ncap < hi)
            ncap *= 2;
        if (ncap > FRAG_MAX_PAYLOAD)
            ncap = FRAG_MAX_PAYLOAD;
        size_t more = d->buf ? ncap - d->cap : FRAG_HEADROOM + ncap;
        uint8_t *nb = !make_room(t, d, more) ? NULL
                      : d->buf ? memcap_realloc(t->mc, d->buf, FRAG_HEADROOM + d->cap,
                                                FRAG_HEADROOM + ncap)
                               : memcap_calloc(t->mc, FRAG_HEADROOM + ncap);
        if (!nb) {
            stats_cap(t->st, STATS_MEMCAP);
            drop(t, d);
            return NULL;
        }
        t->used += more;
        d->buf = nb;
        d->cap = ncap;
    }
    if (p->frag.len > 0 && !merge(t, d, (uint32_t)lo, (uint32_t)hi, p->frag.data)) {
        stats_cap(t->st, STATS_FRAG_PIECES);
        drop(t, d);
        return NULL;
    }
    if (!d->have_last || d->n != 1 || d->r[0].lo != 0 || d->r[0].hi != d->total)
        return NULL;

    /* Complete: the rebuilt header in the headroom, then the payload. */
    unlink_dgram(t, d);
    t->done = d;
    t->st->frag_reassembled++;
    uint8_t *ip;
    if (d->ip_ver == 4) {
        ip = d->buf + FRAG_HEADROOM - 20;
        memset(ip, 0, 20);
        ip[0] = 0x45;
        uint32_t tot = 20 + d->total;
        ip[2] = (uint8_t)(tot >> 8);
        ip[3] = (uint8_t)tot;
        ip[4] = (uint8_t)(d->id >> 8);
        ip[5] = (uint8_t)d->id;
        ip[8] = 64;
        ip[9] = d->proto;
        memcpy(ip + 12, d->src, 4);
        memcpy(ip + 16, d->dst, 4);
        *len = tot;
    } else {
        ip = d->buf;
        memset(ip, 0, 40);
        ip[0] = 0x60;
        ip[4] = (uint8_t)(d->total >> 8);
        ip[5] = (uint8_t)d->total;
        ip[6] = d->proto;
        ip[7] = 64;
        memcpy(ip + 8, d->src, 16);
        memcpy(ip + 24, d->dst, 16);
        *len = 40 + (size_t)d->total;
    }
    return ip;
}
